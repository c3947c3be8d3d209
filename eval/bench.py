"""End-to-end performance benchmark of ingest and retrieval (a benchmark, not a test: no asserts).

Measures, each in its own process so that peak RSS belongs to one thing only:

1. ingest — cold (empty RAG_HOME, empty embedding cache; the converted model is shared via
   RAG_MODEL_CACHE so it is not rebuilt) and unchanged (second run);
2. cold start — a fresh interpreter that builds `Retriever()` and answers one question;
3. retrieval latency — `Retriever.search(q, k=5)` over every question of eval/cases.jsonl after
   a warm-up, 3 passes (best-of-3 per question filters out other processes' interference), with
   the time split into stages (query encoding, Chroma query + exact re-score, jieba tokenising,
   BM25 scoring, the rest), and recall@20 of Chroma's HNSW query and of the dense ranking vs exact;
4. growth — perturbed corpora of 1x, 10x, 100x and 1,000x the clauses (units swapped, places
   renamed, numbers changed, sentences shuffled; real embeddings of perturbed texts, see
   `perturbed_corpus` and `corpus_vectors`), built with `rag.index.write_index`, then queried with
   the same questions embedded and through a `chroma run` server on 127.0.0.1;
5. grounded-answer latency (`Assistant.ask`);
6. app start to ready — `python -m rag.cli serve` until its port answers, 3 times.

Prints the numbers and rewrites its own sections of eval/BENCHMARKS.md (the others stay). The
machine may be shared, so every measurement also records how many cores other processes used.

    .venv/bin/python eval/bench.py --embed-variants 100 --minutes 30   # first: embed perturbed texts (resumable)
    .venv/bin/python eval/bench.py --json /tmp/bench.json              # everything (1,000x: about an hour)
    .venv/bin/python eval/bench.py --quick                             # growth at 1x and 10x only
    .venv/bin/python eval/bench.py --growth-only --scales 1000 --work DIR --json /tmp/bench.json
        # one more scale, merged into the earlier results; --build-only builds into DIR to query later
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CASES = ROOT / "eval" / "cases.jsonl"
REPORT = ROOT / "eval" / "BENCHMARKS.md"
MODEL_CACHE = Path(os.environ.get("RAG_MODEL_CACHE") or ROOT / ".rag" / "models")
WARMUP = 5
COLD_START_RUNS = 3
COLD_START_QUESTION = "平江县燃气整治由谁牵头？"

TARGETS = {
    "p50_ms": 50.0,
    "p95_ms": 150.0,
    "cold_start_s": 10.0,
    "rss_mb": 1536.0,
    "unchanged_ingest_s": 3.0,
    "p50_1x_ms": 25.0,
    "p50_server_ms": 40.0,
    "p50_1000x_ms": 60.0,
    "recall_1x": 0.99,
    "recall_100x": 0.98,
    "serving_rss_mb": 700.0,
    "ingest_per_s": 10.0,
}

sys.path.insert(0, str(ROOT))


# --------------------------------------------------------------------------- helpers


def questions() -> list[str]:
    """The eval's questions (the first BENCH_QUESTIONS of them when set: for trying the bench out)."""
    with CASES.open(encoding="utf-8") as f:
        qs = [q for q in (json.loads(line).get("question") for line in f if line.strip()) if q]
    return qs[: int(os.environ.get("BENCH_QUESTIONS") or len(qs))]


def percentile(values: list[float], p: float) -> float:
    """Linear-interpolated percentile (same as numpy's default), without importing numpy here."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    pos = (len(ordered) - 1) * p / 100
    lo = int(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def self_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def bench_env(home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(RAG_HOME=str(home), RAG_MODEL_CACHE=str(MODEL_CACHE), PYTHONUNBUFFERED="1")
    env.pop("RAG_EMBED_MODEL", None)  # the bundled model is what ships
    return env


CLK_TCK = os.sysconf("SC_CLK_TCK")


def busy_cpu_seconds() -> float:
    """CPU seconds the whole machine has spent busy since boot (all processes, all cores)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return (sum(fields[:8]) - idle) / CLK_TCK


def children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime + children_cpu_seconds()


def wait_for_quiet(max_wait: float, threshold: float = 0.25) -> float:
    """Wait (up to `max_wait` s) for a 1-s window in which other processes use < `threshold` cores.

    The machine is shared (other sessions run test suites on the same 2 cores); returns the
    other processes' load, in cores, of the last window seen.
    """
    deadline = time.monotonic() + max_wait
    while True:
        busy, own, start = busy_cpu_seconds(), own_cpu_seconds(), time.monotonic()
        time.sleep(1.0)
        other = max(0.0, (busy_cpu_seconds() - busy) - (own_cpu_seconds() - own)) / (time.monotonic() - start)
        if other < threshold or time.monotonic() > deadline:
            return other


QUIET_WAIT = 60.0  # set from --max-wait


def run_measured(cmd: list[str], env: dict[str, str]) -> dict:
    """Run `cmd`; wall time from the parent, peak RSS from /usr/bin/time -v when available.

    Also records how much CPU *other* processes used meanwhile (`other_cores`: busy CPU time of
    the machine minus this process tree's, divided by the wall time), since the box is shared.
    """
    quiet_before = wait_for_quiet(QUIET_WAIT)
    busy0, own0 = busy_cpu_seconds(), own_cpu_seconds()
    time_bin = shutil.which("time", path="/usr/bin:/bin")
    with tempfile.NamedTemporaryFile("r", suffix=".time", delete=False) as tf:
        time_file = tf.name
    full = [time_bin, "-v", "-o", time_file, *cmd] if time_bin else cmd
    start = time.perf_counter()
    proc = subprocess.run(full, env=env, capture_output=True, text=True, cwd=ROOT)
    wall = time.perf_counter() - start
    other_cores = max(0.0, (busy_cpu_seconds() - busy0) - (own_cpu_seconds() - own0)) / wall
    rss_mb = None
    if time_bin:
        match = re.search(r"Maximum resident set size \(kbytes\): (\d+)", Path(time_file).read_text())
        rss_mb = int(match.group(1)) / 1024 if match else None
    else:  # max over all children waited for so far: an upper bound
        rss_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    os.unlink(time_file)
    return {"wall_s": wall, "rss_mb": rss_mb, "rc": proc.returncode, "stdout": proc.stdout, "stderr": proc.stderr,
            "other_cores": other_cores, "other_cores_before": quiet_before}


def run_worker(mode: str, home: Path, *extra: str, env: dict | None = None) -> dict:
    """Run this file as a worker in a fresh process; the worker prints one JSON line last."""
    result = run_measured([sys.executable, str(Path(__file__).resolve()), "--worker", mode, "--home", str(home),
                           *extra], {**bench_env(home), **(env or {})})
    if result["rc"] != 0:
        raise RuntimeError(f"worker {mode} failed (rc {result['rc']}):\n{result['stderr'][-3000:]}")
    data = json.loads(result["stdout"].strip().splitlines()[-1])
    data["process_wall_s"] = result["wall_s"]
    data["process_rss_mb"] = result["rss_mb"]
    data["other_cores"] = result["other_cores"]
    return data


# --------------------------------------------------------------------------- synthetic corpus

# Places the real corpus names; every copy gets its own invented name for each of them.
PLACES = ["平江", "沅江", "永州", "冷水滩", "零陵", "祁阳", "东安", "双牌", "道县", "江华", "江永", "宁远", "新田",
          "蓝山", "金洞", "回龙圩", "岳阳", "益阳"]
TRADITIONAL = {"冷水滩": "冷水灘", "祁阳": "祁陽", "东安": "東安", "双牌": "雙牌", "道县": "道縣", "江华": "江華",
               "宁远": "寧遠", "蓝山": "藍山", "回龙圩": "回龍圩", "岳阳": "岳陽", "益阳": "益陽"}
NAME_CHARS = "青溪白云石松柳桃梅兰竹银玉龙凤鹤鹿泉湖岭川河源和丰泰明清康乐福景瑞嘉祥兴隆昌盛林峰湘潭桂荷枫翠霞"
REAL_NAMES = ["平江", "沅江", "永州"] + PLACES[3:]


def invented_names(count: int, rng: random.Random) -> list[str]:
    pool = [a + b for a in NAME_CHARS for b in NAME_CHARS if a != b]
    pool = [n for n in pool if not any(r in n or n in r for r in REAL_NAMES)]
    rng.shuffle(pool)
    return [pool[i % len(pool)] for i in range(count)]


def perturb_number(match: re.Match, copy: int) -> str:
    """Deterministic per (number, copy), so the record text and the lexical text stay consistent."""
    digits = match.group(0)
    value, n = int(digits), len(digits)
    if n == 4 and 1900 <= value <= 2099:  # years stay years
        return str(2000 + (value * 7 + copy * 3) % 40)
    if n == 1:
        return str((value * 7 + copy) % 9 + 1)
    low = 10 ** (n - 1)
    return str(low + (value * 7919 + copy * 104729) % (9 * low))


def rewriter(copy: int, names: list[str]):
    """A function rewriting one string for copy `copy`: places renamed, every number perturbed."""
    mapping = {}
    for place, name in zip(PLACES, names):
        mapping[place] = name
        if place in TRADITIONAL:
            mapping[TRADITIONAL[place]] = name
    places = re.compile("|".join(sorted(map(re.escape, mapping), key=len, reverse=True)))
    number = re.compile(r"\d+")

    def rewrite(text: str) -> str:
        text = places.sub(lambda m: mapping[m.group(0)], text)
        return number.sub(lambda m: perturb_number(m, copy), text)

    return rewrite


SENTENCE_END = re.compile(r"(?<=[。；;！？!?])")
VARIANT_TOKENS = 128  # perturbed texts are embedded truncated to their first 128 tokens (see embed_variants)
VARIANT_CACHE = Path(tempfile.gettempdir()) / "rag-bench-variants"


def unit_names(records: list[dict]) -> list[str]:
    """Every unit the plans name (simplified, ≥ 3 characters), longest first."""
    from rag.clean import to_simplified

    units = {to_simplified(u) for r in records for u in r["lead_units"] + r["cooperating_units"] + r["responsible_units"]}
    return sorted((u for u in units if len(u) >= 3), key=lambda u: (-len(u), u))


def perturber(copy: int, names: list[str], units: list[str]):
    """Rewrites one string for copy `copy`: each unit swapped for another unit of the corpus (one
    permutation per copy), then places renamed and numbers perturbed (`rewriter`)."""
    rng = random.Random(copy * 7919)
    swapped = list(units)
    rng.shuffle(swapped)
    mapping = dict(zip(units, swapped))
    pattern = re.compile("|".join(map(re.escape, units)))
    rewrite = rewriter(copy, names)
    return lambda text: rewrite(pattern.sub(lambda m: mapping[m.group(0)], text))


def shuffle_sentences(text: str, rng: random.Random) -> str:
    parts = [p for p in SENTENCE_END.split(text) if p]
    rng.shuffle(parts)
    return "".join(parts)


def copy_perturbers(records: list[dict], copies: int, seed: int = 7) -> list:
    """`perturber` of each copy (None for the real clauses, copy 0)."""
    names = invented_names(len(PLACES) * copies, random.Random(seed))
    units = unit_names(records)
    return [None] + [perturber(c, names[c * len(PLACES) : (c + 1) * len(PLACES)], units) for c in range(1, copies)]


DERIVED_TOKENS_FROM = 1000  # copies from which BM25 tokens of the copies are derived, not jieba's (worker_build)


def derived_tokenizer(records: list[dict], lexical: list[str], copies: int, seed: int = 7):
    """A stand-in for `rag.index.tokenize` while the index of a perturbed corpus is built: the
    tokens of copy c of a clause are the real clause's jieba tokens rewritten by copy c's
    perturber, instead of jieba over 387k texts (≈ 45 CPU-minutes on this machine). The index has
    the real corpus's token statistics, the copies' own names, units and numbers, and its size."""
    from rag.index import tokenize

    perturbers = copy_perturbers(records, copies, seed)
    n = len(records)
    row_of = {text: row for row, text in enumerate(lexical)}
    real_tokens: dict[int, list[str]] = {}

    def tokens(text: str) -> list[str]:
        row = row_of.get(text)
        if row is None or row < n:
            return tokenize(text)
        if row % n not in real_tokens:
            real_tokens[row % n] = tokenize(lexical[row % n])
        return [perturbers[row // n](t) for t in real_tokens[row % n]]

    return tokens


def perturbed_corpus(records: list[dict], dense: list[str], lexical: list[str], copies: int, seed: int = 7):
    """The real clauses plus `copies - 1` perturbed copies: records, dense (embedding) texts, lexical texts.

    Copy *c* of a clause: every unit name swapped for another unit of the corpus, every place
    renamed (平江 → an invented name), every number perturbed (years stay years), the sentences
    of its text shuffled; its own doc_id, source and region. Deterministic per (seed, copy).
    """
    import hashlib

    from rag.clean import to_simplified

    out_records, out_dense, out_lexical = list(records), list(dense), list(lexical)
    for copy, perturb in enumerate(copy_perturbers(records, copies, seed)[1:], 1):
        for i, (record, text, lex) in enumerate(zip(records, dense, lexical)):
            heading, _, body = text.partition("\n")
            body = shuffle_sentences(perturb(body), random.Random(copy * 1_000_003 + i))
            r = dict(record)
            for key in ("title", "responsibility", "doc_title", "region"):
                r[key] = perturb(record[key])
            r["text"] = r["text_simplified"] = body
            r["heading_path"] = [perturb(h) for h in record["heading_path"]]
            for key in ("lead_units", "cooperating_units", "responsible_units"):
                r[key] = [perturb(to_simplified(u)) for u in record[key]]
            r["doc_id"] = f"{record['doc_id']}-c{copy:03d}"
            r["source"] = f"c{copy:03d}_{record['source']}"
            r["id"] = f"{r['doc_id']}#{record['path']}"
            r["text_key"] = hashlib.sha1(body.encode()).hexdigest()[:16] if len(body) >= 30 else r["id"]
            out_records.append(r)
            out_dense.append(perturb(heading) + "\n" + body)
            out_lexical.append(perturb(lex))
    return out_records, out_dense, out_lexical


def variant_cache(name: str):
    """Embeddings of perturbed texts (first VARIANT_TOKENS tokens), by text hash: rag.index's cache."""
    from rag.index import EmbeddingCache

    return EmbeddingCache(VARIANT_CACHE, f"{name}/first-{VARIANT_TOKENS}-tokens")


def corpus_vectors(real, dense: list[str], cache, seed: int = 7):
    """Vectors for a perturbed corpus: the real clauses' own vectors, each perturbed text's real
    embedding where `embed_variants` made one, else an interpolation of two real embeddings of the
    same clause (two embedded variants, or the original and its one variant), renormalised.

    Returns (vectors, how many perturbed texts have their own embedding).
    """
    import numpy as np

    n = len(real)
    out = np.empty((len(dense), real.shape[1]), dtype=np.float32)
    out[:n] = real
    pools: list[list[int]] = [[] for _ in range(n)]
    missing = []
    for row in range(n, len(dense)):
        vector = cache.vectors.get(cache.key(dense[row]))
        if vector is None:
            missing.append(row)
        else:
            out[row] = vector
            pools[row % n].append(row)
    rng = np.random.default_rng(seed)
    for row in missing:
        pool = pools[row % n] if len(pools[row % n]) >= 2 else [row % n, *pools[row % n]]
        if len(pool) < 2:
            raise SystemExit(f"clause {row % n} has no embedded variant: run `eval/bench.py --embed-variants` first")
        a, b = rng.choice(len(pool), 2, replace=False)
        w = rng.uniform(0.25, 0.75)
        mixed = w * out[pool[a]] + (1 - w) * out[pool[b]]
        out[row] = mixed / np.linalg.norm(mixed)
    return out, len(dense) - n - len(missing)


def embed_variants(copies: int, until: float) -> None:
    """Embed the perturbed texts of copies 1, 2, … (copy by copy) with the bundled encoder,
    truncated to VARIANT_TOKENS tokens, into VARIANT_CACHE, until `copies` or the clock `until`."""
    from rag import config
    from rag.index import clause_records
    from rag.load import load_corpus
    from rag.models import encoder_name, load_encoder

    records, dense, lexical = clause_records(load_corpus(config.corpus_dir())[0])
    _, texts, _ = perturbed_corpus(records, dense, lexical, copies)
    cache = variant_cache(encoder_name())
    encoder = load_encoder()

    def encode(batch: list[str]):  # the bench's own choice of VARIANT_TOKENS: ~4× cheaper than 512
        return encoder._encode([encoder._passage_prefix + t for t in batch], 16, max_tokens=VARIANT_TOKENS)

    n, start, done = len(records), time.perf_counter(), 0
    for chunk in range(n, len(texts), 64):
        if time.time() > until:
            break
        _, computed = cache.encode(texts[chunk : chunk + 64], encode, batch=16)
        done += computed
        print(f"{chunk + 64 - n} of {len(texts) - n} perturbed texts ({done} embedded now, "
              f"{done / (time.perf_counter() - start):.1f}/s)", flush=True)


# --------------------------------------------------------------------------- workers


class Timed:
    """Proxy that times calls of some methods of the wrapped object into `sink[label]`."""

    def __init__(self, inner, sink: dict, methods: dict):
        self._inner, self._sink, self._methods = inner, sink, methods

    def __getattr__(self, name):
        attr = getattr(self._inner, name)
        if name not in self._methods:
            return attr
        label = self._methods[name]

        def timed(*args, **kwargs):
            start = time.perf_counter()
            try:
                return attr(*args, **kwargs)
            finally:
                key = label(args, kwargs) if callable(label) else label
                self._sink[key] = self._sink.get(key, 0.0) + (time.perf_counter() - start) * 1000

        return timed


def worker_query(home: Path, passes: int) -> dict:
    """In-process latency of Retriever.search(q, k=5) over all questions, split by stage."""
    started = time.perf_counter()
    import rag.retrieve as retrieve_module
    from rag.chroma_store import HNSW
    from rag.retrieve import CANDIDATES, MIN_DENSE_CANDIDATES, Retriever

    imported = time.perf_counter()
    retriever = Retriever(home)
    init_s = time.perf_counter() - imported

    sink: dict[str, float] = {}
    retriever.encoder = Timed(retriever.encoder, sink, {"encode_queries": "encode"})
    real_dense = retriever.dense_ranking

    real_candidates = retriever.dense_candidates
    asked: dict[str, tuple] = {}  # question → (query vector, mask, where, dense ranking): for the recall check

    def dense_candidates(vector, where, allowed=None):
        asked["vector"] = vector
        return real_candidates(vector, where, allowed)

    def dense_ranking(question, mask, where=None):
        """Times the Chroma query + exact re-scoring: the dense ranking minus its (separately timed) encoding."""
        encoded, start = sink.get("encode", 0.0), time.perf_counter()
        ranking = None
        try:
            ranking = real_dense(question, mask, where)
            return ranking
        finally:
            spent = (time.perf_counter() - start) * 1000 - (sink.get("encode", 0.0) - encoded)
            sink["dense (Chroma + exact re-score)"] = sink.get("dense (Chroma + exact re-score)", 0.0) + spent
            if ranking is not None and question not in asked:
                asked[question] = (asked["vector"], mask, where, ranking)

    retriever.dense_candidates = dense_candidates
    retriever.dense_ranking = dense_ranking
    retriever.bm25 = Timed(retriever.bm25, sink, {"get_scores": "bm25 get_scores"})
    real_tokenize = retrieve_module.tokenize

    def tokenize(text):
        start = time.perf_counter()
        try:
            return real_tokenize(text)
        finally:
            sink["jieba tokenize"] = sink.get("jieba tokenize", 0.0) + (time.perf_counter() - start) * 1000

    retrieve_module.tokenize = tokenize

    qs = questions()
    for q in qs[:WARMUP]:
        retriever.search(q, k=5)
    # samples[i] = [(total ms, {stage: ms}), ...] for question i, one per pass
    samples: list[list[tuple[float, dict]]] = [[] for _ in qs]
    busy0, own0, t0 = busy_cpu_seconds(), own_cpu_seconds(), time.perf_counter()
    for _ in range(passes):
        for i, q in enumerate(qs):
            sink.clear()
            start = time.perf_counter()
            retriever.search(q, k=5)
            ms = (time.perf_counter() - start) * 1000
            sink["rest of search()"] = ms - sum(sink.values())
            samples[i].append((ms, dict(sink)))
    loop_s = time.perf_counter() - t0
    other = max(0.0, (busy_cpu_seconds() - busy0) - (own_cpu_seconds() - own0)) / loop_s
    filtered = [bool(retriever.store.gazetteer.regions_in(q)) for q in qs]
    best = [min(runs, key=lambda r: r[0]) for runs in samples]
    every = [run for runs in samples for run in runs]
    every_filtered = [f for f, runs in zip(filtered, samples) for _ in runs]
    rss = self_rss_mb()  # before the recall check below, which holds every vector in memory
    return {
        "clauses": len(retriever.clauses), "questions": len(qs), "passes": passes, "samples": len(every),
        "import_s": imported - started, "init_s": init_s, "other_cores_loop": other,
        "all": latency_stats(every, every_filtered), "best": latency_stats(best, filtered),
        "rss_mb": rss, "dense_agreement": dense_agreement(retriever, asked), "hnsw": HNSW,
        "dense_candidates": min(retriever.collection_size, max(MIN_DENSE_CANDIDATES, 10 * CANDIDATES)),
    }


def dense_agreement(retriever, asked: dict[str, tuple], top: int = 20) -> dict:
    """Recall@20 against exact search: share of the true top-20 (exact cosine over the allowed
    rows) found (a) by Chroma's HNSW query of the live collection alone (`n_results=20`, with a
    `where` region filter for region-filtered questions) and (b) by the Retriever's dense ranking
    (HNSW candidates, N = min(count, max(200, 10 × 60)), re-scored exactly), as `search()` made it
    in the timed loop (`asked`: each question's query vector, mask, where and ranking). Judged by
    score: a returned clause counts when it scores at least the exact 20th best. 1.0 = nothing lost.
    """
    import numpy as np

    try:
        collection = retriever.collection
        saved = retriever.folder.parent / "bench-vectors.npy"  # written by worker_build
        if saved.exists():
            vectors = np.load(saved, mmap_mode="r")
        else:
            got = collection.get(include=["embeddings"])
            by_id = dict(zip(got["ids"], got["embeddings"]))
            vectors = np.asarray([by_id[str(i)] for i in range(len(retriever.clauses))], dtype=np.float32)
            del got, by_id
        scores: dict[str, list[float]] = {"filtered": [], "unfiltered": [], "retriever filtered": [],
                                          "retriever unfiltered": []}
        for question, seen in asked.items():
            if question == "vector":  # the last query vector, not a question
                continue
            query, mask, where, ranking = seen
            found = collection.query(query_embeddings=[query], n_results=top, where=where, include=[])
            approximate = [int(i) for i in found["ids"][0]]
            exact = np.asarray(vectors @ query)
            similarity = np.sort(exact[mask])[::-1]
            if len(similarity) == 0 or not approximate:
                continue
            # by score, not identity: near-duplicate copies make identities among ties arbitrary
            wanted = min(top, len(similarity))
            cutoff = similarity[wanted - 1] - 1e-6
            scope = "unfiltered" if mask.all() else "filtered"
            scores[scope].append(sum(exact[i] >= cutoff for i in approximate) / wanted)
            scores["retriever " + scope].append(sum(exact[i] >= cutoff for i in ranking[:top]) / wanted)
        return {k: (statistics.fmean(v) if v else None) for k, v in scores.items()}
    except Exception as exc:  # the index layout changed: report, do not fail
        return {"error": f"{type(exc).__name__}: {exc}"[:200]}


def latency_stats(runs: list[tuple[float, dict]], filtered: list[bool]) -> dict:
    totals = [ms for ms, _ in runs]
    f = [ms for (ms, _), flag in zip(runs, filtered) if flag]
    u = [ms for (ms, _), flag in zip(runs, filtered) if not flag]
    n = len(runs)
    stages = {}
    for key in {k for _, st in runs for k in st}:
        values = [st.get(key, 0.0) for _, st in runs]
        stages[key] = {"mean_ms": sum(values) / n, "p50_ms": percentile(values, 50), "p95_ms": percentile(values, 95),
                       "calls": sum(1 for _, st in runs if key in st)}
    return {"p50_ms": percentile(totals, 50), "p95_ms": percentile(totals, 95), "max_ms": max(totals),
            "mean_ms": statistics.fmean(totals),
            "filtered": {"n": len(f), "p50_ms": percentile(f, 50), "p95_ms": percentile(f, 95)},
            "unfiltered": {"n": len(u), "p50_ms": percentile(u, 50), "p95_ms": percentile(u, 95)},
            "stages": stages}


def worker_build(home: Path, copies: int, cache_home: Path, server: str | None) -> dict:
    """Build a perturbed index of `copies` x the real clauses with rag.index.write_index (embedded
    Chroma), then, given a server, write the same collection there under the same name, so the
    one index folder serves both ways (`RAG_CHROMA_URL` set or not). The vectors also go to
    `<home>/bench-vectors.npy`, a bench artefact for the exact search that recall is judged by."""
    import numpy as np

    import rag.index as index_module
    from rag import config
    from rag.chroma_store import client
    from rag.index import EmbeddingCache, clause_records, read_info, write_index
    from rag.load import load_corpus
    from rag.models import encoder_name, load_encoder

    documents, _ = load_corpus(config.corpus_dir())
    records, dense, lexical = clause_records(documents)
    name = encoder_name()
    cache = EmbeddingCache(cache_home / "cache", name)

    def encode(texts):  # only called if the cache misses; loads the model lazily
        return load_encoder().encode_passages(texts, batch_size=index_module.PASSAGE_BATCH)

    real, embedded = cache.encode(dense, encode)
    start = time.perf_counter()
    records, dense, lexical = perturbed_corpus(records, dense, lexical, copies)
    vectors, own = corpus_vectors(np.asarray(real, dtype=np.float32), dense, variant_cache(name))
    del dense
    synth_s = time.perf_counter() - start
    home.mkdir(parents=True, exist_ok=True)
    np.save(home / "bench-vectors.npy", vectors)

    write_chroma = index_module._write_chroma
    stage: dict[str, float] = {}
    for attr, label in (("_write_chroma", "chroma"), ("_write_bm25", "bm25 (jieba + index)")):
        real_fn = getattr(index_module, attr)

        def timed(*args, _real=real_fn, _label=label):
            t = time.perf_counter()
            try:
                return _real(*args)
            finally:
                stage[_label] = time.perf_counter() - t

        setattr(index_module, attr, timed)
    if copies >= DERIVED_TOKENS_FROM:
        index_module.tokenize = derived_tokenizer(records[: len(real)], lexical, copies)
        stage["(BM25 tokens derived, not jieba)"] = 0.0
    start = time.perf_counter()
    built = write_index(home, records, vectors, lexical, {"model": name, "documents": {}})
    build_s = time.perf_counter() - start
    stage["clauses.json + switch"] = build_s - sum(stage.values())
    size = sum(p.stat().st_size for p in built.rglob("*") if p.is_file())
    server_s = None
    if server:
        start = time.perf_counter()
        write_chroma(client(None, server), read_info(home)["collection"], records, vectors)
        server_s = time.perf_counter() - start
    return {"clauses": len(records), "embedded": embedded, "own_embeddings": own, "perturbed": len(records) - len(real),
            "synth_s": synth_s, "build_s": build_s, "build_stages_s": stage, "server_add_s": server_s,
            "index_mb": size / 2**20, "rss_mb": self_rss_mb()}


def current_rss_mb() -> float:
    return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def worker_memprobe(batch: int) -> dict:
    """Where ingest's peak RSS comes from: loading the encoder, then one batch of the longest clauses."""
    from rag import config
    from rag.index import clause_records
    from rag.load import load_corpus
    from rag.models import load_encoder

    documents, _ = load_corpus(config.corpus_dir())
    _, dense, _ = clause_records(documents)
    base = self_rss_mb()
    encoder = load_encoder()
    loaded_peak, loaded_now = self_rss_mb(), current_rss_mb()
    longest = sorted(dense, key=len, reverse=True)[:32]
    start = time.perf_counter()
    encoder.encode_passages(longest, batch_size=batch)
    from rag.index import PASSAGE_BATCH as ingest_batch
    return {"batch": batch, "before_mb": base, "load_peak_mb": loaded_peak, "loaded_mb": loaded_now,
            "encode_peak_mb": self_rss_mb(), "encode_s": time.perf_counter() - start, "ingest_batch": ingest_batch}


def worker_answer(home: Path, budget_s: float) -> dict:
    """Grounded-answer latency through rag.answer, if it exists; an API we cannot call is a skip.

    Uses `Assistant(retriever).ask(q)` when the module has an Assistant class, else a module-level
    `answer(q)` / `ask(q)` function (given `retriever=` when it takes one).
    """
    import importlib
    import inspect

    try:
        module = importlib.import_module("rag.answer")
    except ImportError as exc:
        return {"skipped": f"rag.answer not importable ({exc})"}
    from rag.retrieve import Retriever

    retriever = Retriever(home)
    if hasattr(module, "Assistant"):
        fn, label = module.Assistant(retriever).ask, "Assistant(retriever).ask(q)"
    else:
        fn = getattr(module, "answer", None) or getattr(module, "ask", None)
        if not callable(fn):
            return {"skipped": "rag.answer has neither Assistant nor answer()/ask()"}
        label = f"rag.answer.{fn.__name__}(q)"
        if "retriever" in inspect.signature(fn).parameters:
            fn = (lambda f: lambda q: f(q, retriever=retriever))(fn)
    qs = questions()
    times, started = [], time.perf_counter()
    try:
        for q in qs[:WARMUP]:
            fn(q)
        for q in qs:
            t = time.perf_counter()
            fn(q)
            times.append((time.perf_counter() - t) * 1000)
            if time.perf_counter() - started > budget_s:
                break
    except Exception as exc:  # report, do not fail the benchmark
        return {"skipped": f"{label} raised {type(exc).__name__}: {exc}"[:300]}
    return {"call": label, "samples": len(times), "p50_ms": percentile(times, 50),
            "p95_ms": percentile(times, 95), "max_ms": max(times), "rss_mb": self_rss_mb()}


COLD_START_CODE = """
import json, sys, time
t0 = time.perf_counter()
from rag.retrieve import Retriever
t1 = time.perf_counter()
r = Retriever()
t2 = time.perf_counter()
hits = r.search(sys.argv[1], k=5)
t3 = time.perf_counter()
print(json.dumps({"import_s": t1 - t0, "init_s": t2 - t1, "first_search_s": t3 - t2, "hits": len(hits)}))
"""

# Where Retriever() spends its time: the same work, step by step, in a fresh process.
COLD_START_PARTS_CODE = """
import json, logging, time
T = time.perf_counter
parts = {}
t = T(); import bm25s; parts["import bm25s"] = T() - t
t = T(); import jieba; jieba.setLogLevel(logging.WARNING); jieba.initialize(); parts["jieba dictionary"] = T() - t
t = T(); from rag.retrieve import Retriever; parts["import rag.retrieve"] = T() - t
t = T(); from rag.models import build_e5_folder; build_e5_folder(); parts["model folder check (sha256)"] = T() - t
t = T(); from rag.models import load_encoder; encoder = load_encoder(); parts["load_encoder (ONNX session)"] = T() - t
t = T(); Retriever(encoder=encoder); parts["Retriever(encoder=...) rest: clauses, vectors, BM25, sections"] = T() - t
print(json.dumps(parts))
"""


# --------------------------------------------------------------------------- machine and report


def vector_extensions(flags: set[str]) -> str:
    """The widest matrix-multiply instructions the CPU offers. "AMD EPYC" names machines of two
    speeds here: ONNX Runtime picks AVX-512 kernels where the CPU has them, and the encoder (most of
    an ingest and of a query) ran about twice as fast on such a machine as on an AVX2-only one."""
    if "avx512f" in flags:
        return "AVX-512" + (" (with VNNI)" if "avx512_vnni" in flags else "")
    return "AVX2" if "avx2" in flags else "neither AVX2 nor AVX-512"


def machine() -> dict:
    cpu, flags = "unknown", set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name") and cpu == "unknown":
                cpu = line.split(":", 1)[1].strip()
            elif line.startswith("flags") and not flags:
                flags = set(line.split(":", 1)[1].split())
    except OSError:
        pass
    ram = "unknown"
    try:
        kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
        ram = f"{kb / 2**20:.1f} GiB"
    except (OSError, AttributeError):
        pass
    nproc = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip() or str(os.cpu_count())
    git = lambda *a: subprocess.run(["git", *a], capture_output=True, text=True, cwd=ROOT).stdout.strip()  # noqa: E731
    dirty = [line[3:] for line in git("status", "--porcelain", "--", "rag").splitlines()]
    return {"nproc": nproc, "cpu": cpu, "vector": vector_extensions(flags), "ram": ram, "python": platform.python_version(),
            "platform": platform.platform(), "date": dt.datetime.now().strftime("%Y-%m-%d %H:%M"),
            "commit": git("rev-parse", "--short", "HEAD"), "rag_uncommitted": dirty}


def agreement(q: dict) -> str:
    a = q.get("dense_agreement") or {}
    if "error" in a:
        return f"n/a ({a['error']})"
    keys = ("filtered", "unfiltered", "retriever filtered", "retriever unfiltered")
    cells = ["–" if a.get(k) is None else f"{a[k]:.2f}" for k in keys]
    return f"HNSW {cells[0]} / {cells[1]}; Retriever {cells[2]} / {cells[3]}"


def both(q: dict, key: str) -> str:
    """'best-of-N (all calls)' for a latency key of a query result."""
    return f"{q['best'][key]:.1f} ms ({q['all'][key]:.1f})"


def verdict(value: float | None, target: float) -> str:
    if value is None:
        return "n/a"
    return "✅ met" if value <= target else "❌ missed"


def fmt(value: float | None, digits: int = 1) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def render(results: dict) -> str:
    m, ing, cold, q = results["machine"], results["ingest"], results["cold_start"], results["query"]
    growth, answer = results["growth"], results["answer"]
    rss = {"cold ingest": ing["cold"]["rss_mb"], "unchanged ingest": ing["unchanged"]["rss_mb"],
           "cold start": cold["rss_mb"], "query process": q["rss_mb"]}
    worst = max((k for k in rss if rss[k] is not None), key=lambda k: rss[k])
    dirty = ", ".join(m["rag_uncommitted"]) or "none"
    lines = [
        "# Benchmarks",
        "",
        "Written by `eval/bench.py` (`.venv/bin/python eval/bench.py`; its docstring says how to run one scale alone).",
        "Re-running it rewrites its sections (this one, Machine, Targets, 1–6); the others come from the scripts",
        "they name. A benchmark, not a test: it asserts nothing.",
        "",
        "## Machine",
        "",
        f"- date: {m['date']}",
        f"- nproc: {m['nproc']}",
        f"- CPU: {m['cpu']}, {m.get('vector', 'vector extensions not recorded')}",
        f"- RAM: {m['ram']}",
        f"- Python: {m['python']} ({m['platform']})",
        f"- code: commit {m['commit']}; uncommitted changes under rag/: {dirty}",
        "- embedding model: bundled multilingual-e5-small, ONNX Runtime on 2 threads",
        f"- bench runtime: {results['runtime_s']:.0f} s",
        "",
        "The machine is shared: other sessions run test suites on the same two cores. Before each",
        "measurement the bench waits (up to `--max-wait` s) for a quiet second, and every row below",
        "says how many cores *other* processes kept busy meanwhile (\"other load\"; 0 = clean, 1.0 = one",
        "of the two cores taken away). Numbers with other load ≳ 0.3 are pessimistic.",
        "",
        "## Targets",
        "",
        "| measure | target | measured | | other load |",
        "| --- | --- | --- | --- | --- |",
        f"| retrieval p50 (real corpus, {q['clauses']} clauses) | ≤ 50 ms | {both(q, 'p50_ms')} | "
        f"{verdict(q['best']['p50_ms'], TARGETS['p50_ms'])} | {fmt(q['other_cores_loop'], 2)} |",
        f"| retrieval p95 (real corpus) | ≤ 150 ms | {both(q, 'p95_ms')} | "
        f"{verdict(q['best']['p95_ms'], TARGETS['p95_ms'])} | {fmt(q['other_cores_loop'], 2)} |",
        f"| cold start: new process → `Retriever()` → one search (median / best of {COLD_START_RUNS}) | ≤ 10 s | "
        f"{fmt(cold['wall_s_median'], 2)} / {fmt(min(r['wall_s'] for r in cold['runs']), 2)} s | "
        f"{verdict(cold['wall_s_median'], TARGETS['cold_start_s'])} | "
        f"{fmt(statistics.median(r['other_cores'] for r in cold['runs']), 2)} |",
        f"| peak RSS, worst of ingest / cold start / query process ({worst}) | ≤ 1.5 GB | {fmt(rss[worst], 0)} MB | "
        f"{verdict(rss[worst], TARGETS['rss_mb'])} | |",
        f"| peak RSS of the serving process (cold start / query) | ≤ 1.5 GB | "
        f"{fmt(max(cold['rss_mb'], q['rss_mb']), 0)} MB | {verdict(max(cold['rss_mb'], q['rss_mb']), TARGETS['rss_mb'])} | |",
        f"| re-ingest of an unchanged corpus | ≤ 3 s | {fmt(ing['unchanged']['wall_s'], 2)} s | "
        f"{verdict(ing['unchanged']['wall_s'], TARGETS['unchanged_ingest_s'])} | {fmt(ing['unchanged']['other_cores'], 2)} |",
    ]
    lines += target_rows(results)
    lines += [
        "",
        "## 1. Ingest (`python -m rag.cli ingest`, subprocess)",
        "",
        "`RAG_HOME` is a fresh temporary folder; `RAG_MODEL_CACHE` points at the project's `.rag/models`, so the",
        "converted model is reused but every clause is embedded (empty embedding cache). Wall time is measured by",
        "the parent process, peak RSS by `/usr/bin/time -v`.",
        "",
        "| run | wall | peak RSS | other load | output |",
        "| --- | --- | --- | --- | --- |",
    ]
    runs = [("cold", ing["cold"])]
    if "unchanged_first_try" in ing:
        runs.append(("2nd run (rebuilt — rag/ changed meanwhile?)", ing["unchanged_first_try"]))
    runs.append(("unchanged" + (" (3rd run)" if "unchanged_first_try" in ing else " (2nd run)"), ing["unchanged"]))
    for label, run in runs:
        out = run["stdout"].strip().replace("|", "\\|")
        lines.append(f"| {label} | {fmt(run['wall_s'], 2)} s | {fmt(run['rss_mb'], 0)} MB | "
                     f"{fmt(run['other_cores'], 2)} | {out} |")
    lines += ["", f"The unchanged run reports unchanged: **{'yes' if ing['unchanged']['says_unchanged'] else 'NO'}**."]
    if results.get("memprobe"):
        lines += ["", "Where ingest's memory goes: a fresh process loads the encoder, then embeds the 32 longest clause",
                  "texts (up to 512 tokens) with the given batch size (`encode_passages(texts, batch_size=…)`;",
                  f"`rag ingest` uses {results['memprobe'][0].get('ingest_batch', '?')}, "
                  "`rag.index.PASSAGE_BATCH`):", "",
                  "| batch size | RSS before | peak while loading encoder | RSS after loading | peak after encoding | "
                  "encode time | other load |", "| --- | --- | --- | --- | --- | --- | --- |"]
        for probe in results["memprobe"]:
            lines.append(f"| {probe['batch']} | {probe['before_mb']:.0f} MB | {probe['load_peak_mb']:.0f} MB | "
                         f"{probe['loaded_mb']:.0f} MB | {probe['encode_peak_mb']:.0f} MB | {probe['encode_s']:.1f} s | "
                         f"{probe['other_cores']:.2f} |")
    lines += [
        "",
        "## 2. Cold start",
        "",
        "A new `python -c` process: `from rag.retrieve import Retriever; Retriever().search(q, k=5)`; wall",
        "time from process start to exit, measured by the parent. The OS page cache is warm (the files were",
        "just written), so this is a warm-disk cold start.",
        "",
        "| run | wall | import rag.retrieve | Retriever() | first search | peak RSS | other load |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for n, run in enumerate(cold["runs"], 1):
        lines.append(f"| {n} | {fmt(run['wall_s'], 2)} s | {fmt(run['import_s'], 2)} s | {fmt(run['init_s'], 2)} s | "
                     f"{fmt(run['first_search_s'], 2)} s | {fmt(run['rss_mb'], 0)} MB | {fmt(run['other_cores'], 2)} |")
    if cold.get("parts"):
        lines += ["", "What `Retriever()` spends its time on (the same steps one by one, in another new process):", "",
                  "| step | seconds |", "| --- | --- |"]
        lines += [f"| {part} | {seconds:.2f} |" for part, seconds in cold["parts"].items()]
    lines += [
        "",
        "## 3. Retrieval latency (real corpus)",
        "",
        f"`Retriever.search(q, k=5)` in one process over all {q['questions']} questions of `eval/cases.jsonl`, "
        f"{q['passes']} passes ({q['samples']} timed calls after {WARMUP} warm-up calls). Peak RSS of that process: "
        f"{fmt(q['rss_mb'], 0)} MB (`ru_maxrss`). Other load during the timed loop: "
        f"{fmt(q['other_cores_loop'], 2)} cores.",
        "",
        "*all* = every call; *best-of-N* = each question's fastest of its N passes, which filters out",
        "stalls caused by other processes (the verdicts above use it).",
        "",
        *query_table([("real, all calls", q["all"]), (f"real, best-of-{q['passes']}", q["best"])]),
        "",
        "Where the time goes per search (measured inside the live `Retriever` by wrapping its encoder, its",
        "exact dense scoring, `bm25.get_scores` and `rag.retrieve.tokenize`; \"rest\" is everything else in",
        "`search()`: script folding, region mask, RRF, coverage re-scoring, de-duplication):",
        "",
        *stage_table([(f"real, best-of-{q['passes']}", q["best"])]),
        "",
        "## 4. Growth curve",
        "",
    ]
    if growth:
        g0 = next((g["query"] for g in growth if "query" in g), {})
        lines += [
            "Perturbed corpora of N× the real clauses (`perturbed_corpus`): copy *c* of every clause has each",
            "unit name swapped for another unit the plans name (one permutation of the 170-odd units per copy),",
            "each place name (平江, 沅江, 永州 and its counties, 岳阳, 益阳) replaced by an invented one (青溪,",
            "白鹤, …), every number perturbed (years stay years), the sentences of its text shuffled, and its",
            "own doc_id, source and region; BM25 indexes every perturbed text.",
            f"**Vectors** (`corpus_vectors`): the real clauses keep their real vectors; a perturbed text has its own "
            f"real embedding by the bundled encoder, of its first {VARIANT_TOKENS} tokens (embedding full texts on "
            "2 shared cores runs at ≈ 3 texts/s: 38,313 texts would take 3–4 hours), wherever "
            "`eval/bench.py --embed-variants` embedded it (copy by copy, as far as time allowed); every other "
            "perturbed text gets an interpolation w·a + (1−w)·b, renormalised, of two real embeddings a, b of "
            "the same clause's variants (or of the original and its one embedded variant), w uniform in "
            "[0.25, 0.75]: no two vectors are equal, and all lie inside the cluster the real perturbed "
            "embeddings of that clause span. The column *own embeddings* says how many of the perturbed "
            "texts have one. No Gaussian noise vectors, no exact copies.",
            "Each index is built by `rag.index.write_index` (embedded Chroma, HNSW "
            f"`{json.dumps(g0.get('hnsw') or {}, ensure_ascii=False)}`) in its own process; the same vectors "
            "are then added under the same collection name to a `chroma run` server on 127.0.0.1, so one "
            "index folder is queried both ways, each time in a new process with the questions of 3. "
            "Questions naming 平江/沅江/永州 are region-filtered (the Retriever's mask and a Chroma `where`) "
            "down to the real documents, i.e. 1/N of the index; the others search all of it.",
            "",
            "| scale | clauses | own embeddings | build (stages) | server add | index on disk | build RSS | Chroma | "
            "Retriever() | p50 | p95 | p50 filtered / unfiltered | query RSS | recall@20 vs exact | other load (build / query) |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        ]
        for g in growth:
            b = g["build"]
            stages = ", ".join(f"{k} {v:.0f} s" for k, v in b["build_stages_s"].items())
            own = f"{b.get('own_embeddings', 0):,} of {b.get('perturbed', 0):,}" if b.get("perturbed") else "— (real)"
            build_cells = [own, f"{b['build_s']:.0f} s ({stages})",
                           "" if b.get("server_add_s") is None else f"{b['server_add_s']:.0f} s",
                           f"{b['index_mb']:.0f} MB", f"{b['rss_mb']:.0f} MB"]
            for mode, label in (("query", "embedded"), ("server", "server")):
                if mode not in g:
                    continue
                gq = g[mode]
                other = f"{b['other_cores']:.2f} / {gq['other_cores_loop']:.2f}"
                lines.append(" | ".join([
                    f"| {g['copies']}×", f"{gq['clauses']:,}", *build_cells, label, f"{gq['init_s']:.2f} s",
                    both(gq, "p50_ms"), both(gq, "p95_ms"),
                    f"{gq['best']['filtered']['p50_ms']:.1f} / {gq['best']['unfiltered']['p50_ms']:.1f} ms",
                    f"{gq['rss_mb']:.0f} MB", agreement(gq), other]) + " |")
                build_cells = [""] * len(build_cells)
        missing = [c for c in (1, 10, 100, 1000) if c not in {g["copies"] for g in growth}]
        lines += ["", "p50 / p95 cells: best-of-N (all calls in brackets); filtered / unfiltered: best-of-N.",
                  "recall@20 vs exact: the share of the true top-20 (exact cosine over the allowed clauses, the vectors",
                  "the index was built from) that a ranking returns, judged by score (a returned clause counts when it",
                  "scores at least the exact 20th best), filtered / unfiltered questions. *HNSW*: Chroma's query alone",
                  "(`n_results=20`, the region `where`). *Retriever*: the Retriever's dense ranking, what retrieval",
                  "uses: HNSW's top N = min(count, max(MIN_DENSE_CANDIDATES, 10 × CANDIDATES)) candidates ("
                  + ", ".join(f"{g['copies']}×: {g['query'].get('dense_candidates', '?')}" for g in growth if "query" in g)
                  + "), re-scored exactly.",
                  *([f"Not measured: {', '.join(f'{c}×' for c in missing)}."] if missing else []), "",
                  *[line for note in results.get("growth_notes", []) for line in (note, "")],
                  "Stages per search at each scale (embedded, best-of-N samples):", "",
                  *stage_table([(f"{g['copies']}×", g["query"]["best"]) for g in growth if "query" in g]), ""]
        lines += observations([g for g in growth if "query" in g])
    else:
        lines.append("Not run.")
    app = results.get("app_start")
    lines += ["", "## 6. App start to ready", ""]
    if app:
        lines += ["`python -m rag.cli serve --port P` (what `make run` / `app.py` start) on the real index, until the "
                  "port answers an HTTP request, measured by the parent; then stopped by its PID. RSS of the app at "
                  "ready (VmRSS / VmHWM).", "",
                  "| run | start to ready | RSS at ready | peak RSS | other load |", "| --- | --- | --- | --- | --- |"]
        lines += [f"| {i} | {r['wall_s']:.2f} s | {r['rss_mb']:.0f} MB | {r['hwm_mb']:.0f} MB | {r['other_cores']:.2f} |"
                  for i, r in enumerate(app["runs"], 1)]
        lines += ["", f"Median **{app['median_s']:.2f} s**."]
    else:
        lines.append("Not run.")
    lines += ["", "## 5. Grounded answer", ""]
    if "skipped" in answer:
        lines.append(f"Skipped: {answer['skipped']}.")
    else:
        lines.append(f"`{answer['call']}` on the real corpus, after {WARMUP} warm-up calls: p50 {answer['p50_ms']:.1f} ms, "
                     f"p95 {answer['p95_ms']:.1f} ms, max {answer['max_ms']:.1f} ms over {answer['samples']} questions; "
                     f"peak RSS {answer['rss_mb']:.0f} MB; other load {answer['other_cores']:.2f} cores.")
    return "\n".join(lines) + "\n"


def recall(q: dict | None, key: str) -> float | None:
    return None if not q else (q.get("dense_agreement") or {}).get(key)


def target_rows(results: dict) -> list[str]:
    """Issue 14's targets, from the growth curve (1× is the real corpus) and the app start."""
    growth = {g["copies"]: g for g in results.get("growth", [])}
    rows = []

    def row(label: str, target: str, limit: float, value: float | None, cell: str, other: float | None,
            at_least: bool = False) -> None:
        met = "" if limit == float("inf") else "n/a" if value is None else ("✅ met" if (value >= limit if at_least else value <= limit) else "❌ missed")
        rows.append(f"| {label} | {target} | {cell} | {met} | {fmt(other, 2)} |")

    for copies, mode, limit, label in ((1, "query", TARGETS["p50_1x_ms"], "retrieval p50, 1× (real corpus), embedded Chroma"),
                                       (1, "server", TARGETS["p50_server_ms"], "retrieval p50, 1×, through a local `chroma run` server"),
                                       (1000, "query", TARGETS["p50_1000x_ms"], "retrieval p50, 1,000× (387k clauses), embedded"),
                                       (1000, "server", TARGETS["p50_1000x_ms"], "retrieval p50, 1,000×, server")):
        q = growth.get(copies, {}).get(mode)
        row(label, f"≤ {limit:.0f} ms", limit, q and q["best"]["p50_ms"], both(q, "p50_ms") if q else "not measured",
            q and q["other_cores_loop"])
    for copies, limit, label in ((1, TARGETS["recall_1x"], "recall@20 of the dense ranking vs exact, real corpus"),
                                 (100, TARGETS["recall_100x"], "recall@20 of the dense ranking vs exact, perturbed 100×")):
        for mode in ("query", "server"):
            q = growth.get(copies, {}).get(mode)
            values = [v for v in (recall(q, "retriever filtered"), recall(q, "retriever unfiltered")) if v is not None]
            cell = (f"{recall(q, 'retriever filtered'):.3f} filtered / {recall(q, 'retriever unfiltered'):.3f} unfiltered"
                    if len(values) == 2 else "not measured")
            row(f"{label} ({'embedded' if mode == 'query' else 'server'})", f"≥ {limit}", limit,
                min(values) if values else None, cell, q and q["other_cores_loop"], at_least=True)
    cold = (results.get("ingest") or {}).get("cold")
    clauses = (results.get("query") or {}).get("clauses")
    rate = clauses / cold["wall_s"] if cold and clauses else None
    row("cold ingest throughput (embeds every clause, whole `rag ingest` process)", "≥ 10 clauses/s",
        TARGETS["ingest_per_s"], rate, f"{rate:.1f} clauses/s ({clauses} in {cold['wall_s']:.0f} s)" if rate else
        "not measured", cold and cold["other_cores"], at_least=True)
    q = growth.get(1, {}).get("query")
    app = results.get("app_start")
    row("serving RSS: Retriever process after all its searches (1×, embedded)", "≤ 700 MB", TARGETS["serving_rss_mb"],
        q and q["rss_mb"], f"{q['rss_mb']:.0f} MB" if q else "not measured", None)
    row("serving RSS: the app (`rag serve`) at ready", "≤ 700 MB", TARGETS["serving_rss_mb"], app and app["rss_mb"],
        f"{app['rss_mb']:.0f} MB (peak {app['hwm_mb']:.0f})" if app else "not measured", None)
    row("app start to ready (`rag serve` → port answers), median of 3", "—", float("inf"), app and app["median_s"],
        f"{app['median_s']:.2f} s" if app else "not measured",
        app and statistics.median(r["other_cores"] for r in app["runs"]))
    return rows


def query_table(rows: list[tuple[str, dict]]) -> list[str]:
    out = ["| index | p50 | p95 | max | mean | region-filtered p50 / p95 (n) | unfiltered p50 / p95 (n) |",
           "| --- | --- | --- | --- | --- | --- | --- |"]
    for label, q in rows:
        f, u = q["filtered"], q["unfiltered"]
        out.append(f"| {label} | {q['p50_ms']:.1f} ms | {q['p95_ms']:.1f} ms | {q['max_ms']:.1f} ms | "
                   f"{q['mean_ms']:.1f} ms | {f['p50_ms']:.1f} / {f['p95_ms']:.1f} ms ({f['n']}) | "
                   f"{u['p50_ms']:.1f} / {u['p95_ms']:.1f} ms ({u['n']}) |")
    return out


STAGE_ORDER = ["encode", "dense (Chroma + exact re-score)", "jieba tokenize", "bm25 get_scores",
               "rest of search()"]


def stage_table(rows: list[tuple[str, dict]]) -> list[str]:
    out = ["| index | stage | mean per search | p50 | p95 | calls |", "| --- | --- | --- | --- | --- | --- |"]
    for label, q in rows:
        for stage in STAGE_ORDER:
            s = q["stages"].get(stage)
            if s:
                out.append(f"| {label} | {stage} | {s['mean_ms']:.1f} ms | {s['p50_ms']:.1f} ms | "
                           f"{s['p95_ms']:.1f} ms | {s['calls']} |")
    return out


def observations(growth: list[dict]) -> list[str]:
    """Computed statements about the largest scale, so the report stays true when re-run."""
    g = growth[-1]
    q = g["query"]["best"]
    stages = sorted(q["stages"].items(), key=lambda kv: -kv[1]["mean_ms"])
    top, share = stages[0], stages[0][1]["mean_ms"] / q["mean_ms"] * 100
    lines = [f"At {g['copies']}× the largest stage is **{top[0]}** ({top[1]['mean_ms']:.1f} ms mean per search, "
             f"{share:.0f}% of {q['mean_ms']:.1f} ms).", ""]
    def index_part(query: dict) -> float:
        return sum(v["mean_ms"] for k, v in query["stages"].items() if k != "encode")

    first = growth[0]["query"]["best"]
    lines.append(f"Everything but query encoding (which does not depend on the index size) takes "
                 f"{index_part(first):.1f} ms per search at {growth[0]['copies']}× and {index_part(q):.1f} ms at "
                 f"{g['copies']}× (mean, best-of-N).")
    lines.append("")
    base = first["stages"]
    for stage in STAGE_ORDER:
        if stage in q["stages"] and stage in base and base[stage]["mean_ms"] > 0:
            ratio = q["stages"][stage]["mean_ms"] / base[stage]["mean_ms"]
            lines.append(f"- {stage}: {base[stage]['mean_ms']:.1f} → {q['stages'][stage]['mean_ms']:.1f} ms "
                         f"(×{ratio:.1f} from 1× to {g['copies']}×)")
    return lines


# --------------------------------------------------------------------------- main


class SkipToGrowth(Exception):
    """--growth-only / --build-only: straight to the growth curve."""


def growth_curve(scales: list[int], work: Path, cache_home: Path, passes: int, with_server: bool,
                 build_only: bool, server_url: str | None = None) -> dict[int, dict]:
    """Build (or reuse, from `work`) a perturbed index per scale; query it embedded and through a
    `chroma run` server on 127.0.0.1 (started here, stopped by its PID; or `server_url`'s, one
    already serving `work`'s collections)."""
    sys.path.insert(0, str(ROOT / "tests"))
    from chroma_helpers import free_port
    from test_chroma_server import (  # the server is started as in the test
        start_server,
        stop_server,
    )

    work.mkdir(parents=True, exist_ok=True)
    server, url = None, server_url
    if with_server and not url:
        port = free_port()
        server, url = start_server(work / "chroma-server", port), f"http://127.0.0.1:{port}"
    out = {}
    try:
        for copies in scales:
            scale_home = work / f"x{copies}"
            saved = scale_home / "bench-build.json"
            if saved.exists() and (not with_server or json.loads(saved.read_text())["server_add_s"] is not None):
                build = json.loads(saved.read_text())
                print(f"  {copies}x: reusing the index built in {scale_home}", flush=True)
            else:
                shutil.rmtree(scale_home, ignore_errors=True)
                build = run_worker("build", scale_home, "--copies", str(copies), "--cache-home", str(cache_home),
                                   *(["--server", url] if url else []))
                saved.write_text(json.dumps(build), encoding="utf-8")
            stages = ", ".join(f"{k} {v:.1f} s" for k, v in build["build_stages_s"].items())
            print(f"  {copies:4d}x {build['clauses']:7,d} clauses built in {build['build_s']:.1f} s ({stages}; server add "
                  f"{fmt(build['server_add_s'])} s), build RSS {build['rss_mb']:.0f} MB, "
                  f"other load {build['other_cores']:.2f}", flush=True)
            out[copies] = g = {"copies": copies, "build": build}
            if build_only:
                continue
            g["query"] = run_worker("query", scale_home, "--passes", str(passes), env={"RAG_CHROMA_URL": ""})
            if url:
                g["server"] = run_worker("query", scale_home, "--passes", str(passes), env={"RAG_CHROMA_URL": url})
            for mode in ("query", "server"):
                if mode in g:
                    gq = g[mode]
                    print(f"        {'embedded' if mode == 'query' else 'server  '}: Retriever() {gq['init_s']:.2f} s, "
                          f"p50 {both(gq, 'p50_ms')}, p95 {both(gq, 'p95_ms')}, RSS {gq['rss_mb']:.0f} MB, "
                          f"recall@20 {agreement(gq)}, other load {gq['other_cores_loop']:.2f}", flush=True)
    finally:
        if server:
            stop_server(server)
    return out


def app_start(home: Path, runs: int = 3) -> dict:
    """`python -m rag.cli serve` on a free port until the port answers HTTP, `runs` times; the
    index is built already (serve checks it is current first, as `make run` does)."""
    import urllib.error
    import urllib.request

    sys.path.insert(0, str(ROOT / "tests"))
    from chroma_helpers import free_port

    timings = []
    for _ in range(runs):
        wait_for_quiet(QUIET_WAIT)
        port = free_port()
        busy0, start = busy_cpu_seconds(), time.perf_counter()
        process = subprocess.Popen([sys.executable, "-m", "rag.cli", "serve", "--port", str(port)], env=bench_env(home),
                                   cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            while process.poll() is None and time.perf_counter() - start < 180:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2):
                        break
                except urllib.error.HTTPError:
                    break  # an HTTP answer, whatever its status
                except OSError:
                    time.sleep(0.05)
            wall = time.perf_counter() - start
            busy = busy_cpu_seconds() - busy0
            own = sum(int(x) for x in Path(f"/proc/{process.pid}/stat").read_text().rsplit(")", 1)[1].split()[11:13]) / CLK_TCK
            status = Path(f"/proc/{process.pid}/status").read_text()
            rss = {k: int(re.search(rf"{k}:\s+(\d+)", status).group(1)) / 1024 for k in ("VmRSS", "VmHWM")}
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        timings.append({"wall_s": wall, "rss_mb": rss["VmRSS"], "hwm_mb": rss["VmHWM"],
                        "other_cores": max(0.0, busy - own) / wall})
    return {"runs": timings, "median_s": statistics.median(t["wall_s"] for t in timings),
            "rss_mb": max(t["rss_mb"] for t in timings), "hwm_mb": max(t["hwm_mb"] for t in timings)}


def write_sections(path: Path, rendered: str) -> None:
    """Replace, in `path`, the sections `rendered` has (the part before the first `## ` heading,
    and each `## ` section by its heading); every other section of the file stays as it is."""
    def split(text: str) -> list[tuple[str, str]]:
        parts = re.split(r"(?m)^(?=## )", text)
        return [("", parts[0])] + [(part.splitlines()[0], part) for part in parts[1:]]

    old = split(path.read_text(encoding="utf-8")) if path.exists() else [("", "")]
    new = dict(split(rendered))
    # a numbered section of ours ("## 4. …") replaces the same number whatever its title
    key = lambda heading: re.match(r"## (\d+\.|[^\d].*)", heading).group(1) if heading else ""  # noqa: E731
    new_by_key = {key(h): h for h in new}
    out, used = [], set()
    for heading, text in old:
        mine = new_by_key.get(key(heading))
        if mine is not None:
            out.append(new[mine].rstrip("\n") + "\n\n")
            used.add(mine)
        else:
            out.append(text)
    last_mine = max((i for i, (h, _) in enumerate(old) if key(h) in new_by_key), default=len(old) - 1)
    missing = [new[h].rstrip("\n") + "\n\n" for h in new if h not in used]
    out[last_mine + 1 : last_mine + 1] = missing
    path.write_text("".join(out).rstrip("\n") + "\n", encoding="utf-8")




def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="growth curve at 1x and 10x only")
    parser.add_argument("--scales", default="1,10,100,1000", help="growth-curve scales (copies of the corpus)")
    parser.add_argument("--work", type=Path, help="folder for the growth indexes and the Chroma server's data "
                        "(kept; a later run with the same folder reuses the indexes built there)")
    parser.add_argument("--build-only", action="store_true", help="build the growth indexes, measure nothing")
    parser.add_argument("--growth-only", action="store_true",
                        help="measure only the growth curve; the other sections come from --json's earlier results")
    parser.add_argument("--growth-passes", type=int, default=1, help="passes over the questions per growth measurement")
    parser.add_argument("--render-only", action="store_true", help="rewrite the report from --json's results")
    parser.add_argument("--note", nargs="*", help="with --render-only: paragraphs closing the growth section "
                        "(what a run could not measure, and why)")
    parser.add_argument("--merge", type=Path, nargs="*", default=[],
                        help="with --render-only: merge these results files' growth scales into --json's first")
    parser.add_argument("--chroma-url", help="growth curve: a running Chroma server that holds --work's collections")
    parser.add_argument("--no-server", action="store_true", help="growth curve without the `chroma run` server")
    parser.add_argument("--passes", type=int, default=3, help="passes over the questions per query measurement")
    parser.add_argument("--keep", action="store_true", help="keep the temporary RAG_HOME folders")
    parser.add_argument("--out", type=Path, default=REPORT, help="markdown report to (re)write")
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    parser.add_argument("--max-wait", type=float, default=10.0,
                        help="seconds to wait, before each measurement, for other processes to go quiet")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--home", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--copies", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--cache-home", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--server", help=argparse.SUPPRESS)
    parser.add_argument("--batch", type=int, default=32, help=argparse.SUPPRESS)
    parser.add_argument("--embed-variants", type=int, metavar="COPIES",
                        help="only embed the perturbed texts of copies 1..COPIES-1 (resumable), then stop")
    parser.add_argument("--minutes", type=float, default=60.0, help="with --embed-variants: stop after this long")
    args = parser.parse_args()

    if args.embed_variants:
        embed_variants(args.embed_variants, time.time() + 60 * args.minutes)
        return
    if args.worker:
        result = {"query": lambda: worker_query(args.home, args.passes),
                  "build": lambda: worker_build(args.home, args.copies, args.cache_home, args.server),
                  "answer": lambda: worker_answer(args.home, 60.0),
                  "memprobe": lambda: worker_memprobe(args.batch)}[args.worker]()
        print(json.dumps(result, ensure_ascii=False))
        return

    if args.render_only:
        results = json.loads(args.json.read_text(encoding="utf-8"))
        for extra in args.merge:  # growth scales measured by another run (--growth-only --json FILE)
            growth = {g["copies"]: g for g in results.get("growth", [])}
            growth.update({g["copies"]: g for g in json.loads(extra.read_text(encoding="utf-8"))["growth"]})
            results["growth"] = [growth[c] for c in sorted(growth)]
        if args.note is not None:
            results["growth_notes"] = args.note
        args.json.write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
        write_sections(args.out, render(results))
        return
    global QUIET_WAIT
    QUIET_WAIT = args.max_wait
    started = time.perf_counter()
    scales = [1, 10] if args.quick else [int(x) for x in args.scales.split(",")]
    results: dict = {"machine": machine(), "quick": args.quick}
    if args.growth_only or args.build_only:
        results = {**json.loads(args.json.read_text(encoding="utf-8")), "machine": machine()} if args.json and \
            args.json.exists() else results
    print("machine:", json.dumps(results["machine"], ensure_ascii=False))
    tmp = Path(tempfile.mkdtemp(prefix="rag-bench-"))
    try:
        try:
            home = tmp / "ingest"
            if args.growth_only or args.build_only:
                raise SkipToGrowth
            rag_ingest = [sys.executable, "-m", "rag.cli", "ingest"]  # this checkout's rag, not the installed one

            print("\n[1] ingest (cold, then unchanged) ...", flush=True)
            cold = run_measured(rag_ingest, bench_env(home))
            if cold["rc"] != 0:
                raise SystemExit(f"cold ingest failed:\n{cold['stderr'][-3000:]}")
            unchanged = run_measured(rag_ingest, bench_env(home))
            unchanged["says_unchanged"] = "未变化" in unchanged["stdout"] or "unchanged" in unchanged["stdout"].lower()
            results["ingest"] = {"cold": cold, "unchanged": unchanged}
            if not unchanged["says_unchanged"]:
                # rag/ is being edited while this runs: an INDEX_FORMAT or hash change in between
                # rebuilds legitimately. One more run tells that apart from a real miss.
                print(f"  2nd run rebuilt: {unchanged['stdout'].strip()} — running a 3rd time", flush=True)
                third = run_measured(rag_ingest, bench_env(home))
                third["says_unchanged"] = "未变化" in third["stdout"] or "unchanged" in third["stdout"].lower()
                results["ingest"]["unchanged_first_try"] = unchanged
                results["ingest"]["unchanged"] = unchanged = third
            print(f"  cold      {cold['wall_s']:6.2f} s  RSS {cold['rss_mb']:.0f} MB  other load {cold['other_cores']:.2f}  "
                  f"{cold['stdout'].strip()}")
            print(f"  unchanged {unchanged['wall_s']:6.2f} s  RSS {unchanged['rss_mb']:.0f} MB  "
                  f"{unchanged['stdout'].strip()}  (target ≤ 3 s; says unchanged: {unchanged['says_unchanged']})")

            print("  memory of one embedding batch (the 32 longest clauses, fresh process each):", flush=True)
            results["memprobe"] = []
            for batch in (32, 8):
                probe = run_worker("memprobe", home, "--batch", str(batch))
                results["memprobe"].append(probe)
                print(f"    batch {batch:2d}: encoder loaded {probe['loaded_mb']:.0f} MB (peak while loading "
                      f"{probe['load_peak_mb']:.0f}), peak after encoding {probe['encode_peak_mb']:.0f} MB, "
                      f"{probe['encode_s']:.1f} s, other load {probe['other_cores']:.2f}", flush=True)

            print("\n[2] cold start ...", flush=True)
            runs = []
            for _ in range(COLD_START_RUNS):
                run = run_measured([sys.executable, "-c", COLD_START_CODE, COLD_START_QUESTION], bench_env(home))
                if run["rc"] != 0:
                    raise SystemExit(f"cold start failed:\n{run['stderr'][-3000:]}")
                runs.append({**json.loads(run["stdout"].strip().splitlines()[-1]), "wall_s": run["wall_s"],
                             "rss_mb": run["rss_mb"], "other_cores": run["other_cores"]})
                print(f"  {run['wall_s']:.2f} s (import {runs[-1]['import_s']:.2f}, Retriever() {runs[-1]['init_s']:.2f}, "
                      f"first search {runs[-1]['first_search_s']:.2f}), RSS {run['rss_mb']:.0f} MB, "
                      f"other load {run['other_cores']:.2f}")
            results["cold_start"] = {"runs": runs, "wall_s_median": statistics.median(r["wall_s"] for r in runs),
                                     "rss_mb": max(r["rss_mb"] or 0 for r in runs)}
            print(f"  median {results['cold_start']['wall_s_median']:.2f} s (target ≤ 10 s)")
            run = run_measured([sys.executable, "-c", COLD_START_PARTS_CODE], bench_env(home))
            results["cold_start"]["parts"] = json.loads(run["stdout"].strip().splitlines()[-1]) if run["rc"] == 0 else {}
            for part, seconds in results["cold_start"]["parts"].items():
                print(f"    {part:52s} {seconds:5.2f} s")

            print("\n[3] retrieval latency, real corpus ...", flush=True)
            q = run_worker("query", home, "--passes", str(args.passes))
            results["query"] = q
            print(f"  {q['clauses']} clauses, {q['samples']} searches: p50 {both(q, 'p50_ms')} (target ≤ 50), "
                  f"p95 {both(q, 'p95_ms')} (target ≤ 150), RSS {q['rss_mb']:.0f} MB (target ≤ 1536), "
                  f"other load {q['other_cores_loop']:.2f} cores")
            print(f"  HNSW top-20 vs exact (filtered / unfiltered): {agreement(q)}")
            for stage in STAGE_ORDER:
                if stage in q["best"]["stages"]:
                    print(f"    {stage:36s} mean {q['best']['stages'][stage]['mean_ms']:6.1f} ms (best-of-{q['passes']})")


            print("\n[5] grounded answer ...", flush=True)
            import importlib.util

            if importlib.util.find_spec("rag.answer") is None:
                results["answer"] = {"skipped": "no rag.answer module yet"}
            else:
                try:
                    results["answer"] = run_worker("answer", home)
                except RuntimeError as exc:
                    results["answer"] = {"skipped": f"worker failed: {str(exc)[-300:]}"}
            print("  " + (f"skipped: {results['answer']['skipped']}" if "skipped" in results["answer"] else
                          f"{results['answer']['call']}: p50 {results['answer']['p50_ms']:.1f} ms, "
                          f"p95 {results['answer']['p95_ms']:.1f} ms, RSS {results['answer']['rss_mb']:.0f} MB"))

            print("\n[6] app start to ready ...", flush=True)
            results["app_start"] = app_start(home)
            print(f"  median {results['app_start']['median_s']:.2f} s; RSS at ready {results['app_start']['rss_mb']:.0f} MB")
        except SkipToGrowth:
            from rag import config

            home = config.rag_home()  # its cache/ holds the real clauses' vectors
        print("\n[4] growth curve ...", flush=True)
        growth = {g["copies"]: g for g in results.get("growth", [])}
        growth.update(growth_curve(scales, args.work or tmp / "growth", home, args.growth_passes, not args.no_server,
                                   args.build_only, args.chroma_url))
        results["growth"] = [growth[c] for c in sorted(growth)]
    finally:
        if args.keep:
            print(f"\nkept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)

    results["runtime_s"] = results.get("runtime_s", 0.0) * (args.growth_only or args.build_only) + \
        time.perf_counter() - started
    if args.json:
        args.json.write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
    if args.build_only:
        return
    if "ingest" not in results:
        print(f"no results of sections 1–3 in {args.json}: merge these into a full run's with --render-only --merge")
        return
    write_sections(args.out, render(results))
    print(f"\nwrote {args.out} ({results['runtime_s']:.0f} s)")


if __name__ == "__main__":
    main()
