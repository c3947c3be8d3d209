"""The Chroma dense path: latency embedded vs. via a `chroma run` server, recall, serving RSS.

A benchmark, not a test. Builds the real index twice into temporary homes (embedded Chroma, and a
Chroma server started here on 127.0.0.1 and stopped by its PID), then in a new process each:

- `Retriever.search(q, k=5)` over every question of eval/cases.jsonl, `--passes` passes after a
  warm-up: p50 / p95 of all calls and of each question's best pass, and the dense stage alone
  (Chroma query + fetch by id + exact re-score, encoding excluded);
- recall@20 vs exact search (cosine over every allowed clause): of Chroma's HNSW query alone
  (`n_results=20`, the region `where` filter) and of the Retriever's dense ranking;
- peak RSS (VmHWM) of a serving process: `Retriever` + `Assistant.ask` over every question.

Prints a Markdown section and replaces the "## Chroma dense path" section of eval/BENCHMARKS.md.

    .venv/bin/python eval/bench_chroma.py [--passes 3]
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REPORT = ROOT / "eval" / "BENCHMARKS.md"
SECTION = "## Chroma dense path"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))


def worker(mode: str, passes: int) -> dict:
    """Runs inside the measured process (RAG_HOME / RAG_CHROMA_URL set by the parent)."""
    import statistics

    import numpy as np

    from rag.clean import to_simplified
    from rag.retrieve import Retriever, regions_in

    questions = [json.loads(line)["question"] for line in (ROOT / "eval" / "cases.jsonl").read_text(encoding="utf-8").splitlines()]
    retriever = Retriever()
    if mode == "serve":
        from rag.answer import Assistant

        assistant = Assistant(retriever)
        for q in questions:
            assistant.ask(q)
        hwm = int(re.search(r"VmHWM:\s+(\d+)", Path("/proc/self/status").read_text()).group(1)) / 1024
        return {"rss_peak_mb": hwm, "questions": len(questions)}
    for q in questions[:5]:
        retriever.search(q, k=5)
    dense_ms: list[float] = []
    real = retriever.dense_candidates

    def timed(vector, where, allowed=None):
        start = time.perf_counter()
        try:
            return real(vector, where, allowed)
        finally:
            dense_ms.append((time.perf_counter() - start) * 1000)

    retriever.dense_candidates = timed
    runs: list[list[float]] = [[] for _ in questions]
    for _ in range(passes):
        for i, q in enumerate(questions):
            start = time.perf_counter()
            retriever.search(q, k=5)
            runs[i].append((time.perf_counter() - start) * 1000)
    every = sorted(ms for r in runs for ms in r)
    best = sorted(min(r) for r in runs)
    pct = lambda values, p: values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]  # noqa: E731
    retriever.dense_candidates = real
    # recall@20 vs exact, judged by score (ties between twins make identities arbitrary)
    got = retriever.collection.get(include=["embeddings"])
    by_id = dict(zip(got["ids"], got["embeddings"]))
    vectors = np.asarray([by_id[str(i)] for i in range(len(retriever.clauses))], dtype=np.float32)
    hnsw, ours = [], []
    for q in questions:
        simplified, regions = to_simplified(q), regions_in(q)
        mask = retriever.allowed(regions, [], [])
        if not mask.any():
            continue
        where = retriever.where(regions, [], [])
        query = retriever.encoder.encode_queries([simplified])[0]
        exact = np.sort(vectors[np.flatnonzero(mask)] @ query)[::-1]
        wanted = min(20, len(exact))
        cutoff = exact[wanted - 1] - 1e-6
        found = [int(i) for i in retriever.collection.query(query_embeddings=[query], n_results=20, where=where,
                                                            include=[])["ids"][0]]
        ranked = retriever.dense_ranking(simplified, mask, where)[:20]
        hnsw.append(sum(float(vectors[i] @ query) >= cutoff for i in found) / wanted)
        ours.append(sum(float(vectors[i] @ query) >= cutoff for i in ranked) / wanted)
    return {"clauses": len(retriever.clauses), "calls": len(every), "p50": pct(every, 50), "p95": pct(every, 95),
            "best_p50": pct(best, 50), "best_p95": pct(best, 95), "dense_p50": pct(sorted(dense_ms), 50),
            "dense_p95": pct(sorted(dense_ms), 95), "recall_hnsw": statistics.fmean(hnsw),
            "recall_retriever": statistics.fmean(ours), "recall_questions": len(hnsw)}


def run_worker(mode: str, env: dict, passes: int) -> dict:
    result = subprocess.run([sys.executable, __file__, "--worker", mode, "--passes", str(passes)],
                            env={**os.environ, **env}, capture_output=True, text=True, timeout=1800)
    if result.returncode != 0:
        raise RuntimeError(result.stderr[-2000:])
    return json.loads(result.stdout.strip().splitlines()[-1])


def ingest(env: dict) -> float:
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "rag.cli", "ingest"], env={**os.environ, **env},
                            capture_output=True, text=True, timeout=1800, cwd=ROOT)
    if result.returncode != 0:
        raise RuntimeError(result.stderr[-2000:])
    return time.perf_counter() - start


def render(results: dict) -> str:
    e, s, serve = results["embedded"], results["server"], results["serve"]
    hnsw = results["hnsw"]
    lines = [
        SECTION, "",
        f"Written by `eval/bench_chroma.py` on {results['date']} (commit {results['commit']}, {os.cpu_count()} cores, "
        "shared with other sessions: absolute times are pessimistic, the embedded/server comparison is fair). "
        "Sections 1–5 above come from `eval/bench.py` and may predate the Chroma dense path (see their commit).",
        f"Real corpus ({e['clauses']} clauses), {e['calls'] // max(1, e['calls'] // 357)} questions × {results['passes']} passes "
        "of `Retriever.search(q, k=5)` in a new process; the dense stage is the Chroma query + fetch of the candidates' "
        "stored vectors + exact re-score (query encoding excluded). HNSW: "
        f"`{json.dumps(hnsw, ensure_ascii=False)}`; candidates N = min(count, max(200, 10 × 60)), i.e. every clause here.", "",
        "| Chroma | ingest (cached vectors) | search p50 / p95 (all calls) | best-of-N p50 / p95 | dense stage p50 / p95 |",
        "| --- | --- | --- | --- | --- |",
    ]
    for label, r, t in (("embedded (`<index>/chroma`)", e, results["ingest_embedded_s"]),
                        ("server (`RAG_CHROMA_URL`, `chroma run` on 127.0.0.1)", s, results["ingest_server_s"])):
        lines.append(f"| {label} | {t:.1f} s | {r['p50']:.1f} / {r['p95']:.1f} ms | {r['best_p50']:.1f} / {r['best_p95']:.1f} ms | "
                     f"{r['dense_p50']:.1f} / {r['dense_p95']:.1f} ms |")
    lines += [
        "",
        f"recall@20 vs exact search ({e['recall_questions']} questions, region filter as `where`): Chroma's HNSW query "
        f"alone {e['recall_hnsw']:.3f} (server {s['recall_hnsw']:.3f}); the Retriever's dense ranking "
        f"{e['recall_retriever']:.3f} (server {s['recall_retriever']:.3f}). The eval's answers are identical to the "
        "exact numpy search this replaced (every clause is a candidate, re-scored exactly, ties by clause number).",
        "",
        f"Serving process (`Retriever` + `Assistant.ask` over all {serve['questions']} questions, embedded Chroma): "
        f"peak RSS (VmHWM) **{serve['rss_peak_mb']:.0f} MB** (target ≤ 700 MB; 1256 MB before the ONNX weights were "
        "memory-mapped external data). The Gradio UI adds about 120 MB of imports on top of this.",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passes", type=int, default=3)
    parser.add_argument("--worker")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.passes)))
        return
    from chroma_helpers import free_port
    from test_chroma_server import start_server, stop_server  # the server is started as in the test

    from rag import config
    from rag.chroma_store import HNSW

    work = Path(tempfile.mkdtemp(prefix="bench-chroma-"))
    cache = config.rag_home() / "cache"
    homes = {}
    for name in ("embedded", "server"):
        homes[name] = work / name
        homes[name].mkdir()
        if cache.is_dir():
            shutil.copytree(cache, homes[name] / "cache")
    port = free_port()
    server = start_server(work / "chroma-data", port)
    url = f"http://127.0.0.1:{port}"
    try:
        base = {"RAG_MODEL_CACHE": str(config.model_cache()), "PYTHONPATH": str(ROOT)}
        embedded = {**base, "RAG_HOME": str(homes["embedded"]), "RAG_CHROMA_URL": ""}
        remote = {**base, "RAG_HOME": str(homes["server"]), "RAG_CHROMA_URL": url}
        results = {"passes": args.passes, "hnsw": HNSW, "date": time.strftime("%Y-%m-%d %H:%M"),
                   "commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                                            cwd=ROOT).stdout.strip(),
                   "ingest_embedded_s": ingest(embedded), "ingest_server_s": ingest(remote)}
        results["embedded"] = run_worker("query", embedded, args.passes)
        results["server"] = run_worker("query", remote, args.passes)
        results["serve"] = run_worker("serve", embedded, 1)
    finally:
        stop_server(server)
        shutil.rmtree(work, ignore_errors=True)
    section = render(results)
    print(section)
    print(json.dumps(results, indent=1), file=sys.stderr)
    if not args.no_write:
        write_section(SECTION, section)


def write_section(title: str, section: str) -> None:
    """Replace the section headed `title` in eval/BENCHMARKS.md by `section` (append it when absent),
    leaving every other section as it is."""
    text = REPORT.read_text(encoding="utf-8")
    if title in text:
        head, _, rest = text.partition(title)
        tail = rest[rest.find("\n## "):] if "\n## " in rest else ""
        text = head + section + tail
    else:
        text = text.rstrip("\n") + "\n\n" + section
    REPORT.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
