"""Build the search index: Chroma for dense vectors, bm25s for exact strings, side by side.

Exact strings (unit names, 91%, 召集人) need lexical matching; paraphrases need embeddings.
The vectors live only in Chroma (embedded in the index folder, or on a server: rag/chroma_store.py).
Both indexes and the clause records are written into a fresh folder and switched in with one
atomic rename of the `index` symlink, so a crash or kill -9 mid-ingest leaves the old index
serving. Embeddings are cached by text hash: re-ingesting after editing one document only
embeds that document's changed clauses.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import secrets
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from rag import config
from rag.bilingual import dictionary
from rag.load import Document, Problem, load_corpus
from rag.lock import exclusive_ingest, in_use
from rag.parse import Clause, parse_document
from rag.units import normalize_unit

# Texts per model batch at ingest: 8 padded 512-token texts keep the peak under 1 GB (32 took 1.8 GB)
# and were as fast on two cores (eval/BENCHMARKS.md).
PASSAGE_BATCH = 8
INDEX_FORMAT = 7  # 5: clauses carry `deadline`; 6: Chroma is the dense path (collection named in info.json), no vectors.npy; 7: english.json
STOPWORDS = set("的 了 和 与 及 等 在 是 对 为 由 把 被 有 也 都 其 之 或 并 将 要 各 中 上 下 个 哪 谁 吗 呢 啊 什么 哪些 哪个 多少 如何 怎么 是否 "
                "请问 一下 the a an of to in and is are what which who how".split())
TOKEN = re.compile(r"[\w%％.．]+")


def tokenize(text: str) -> list[str]:
    """jieba search-mode tokens of simplified text, without punctuation and function words."""
    import jieba

    return [t for t in (w.strip().lower() for w in jieba.cut_for_search(text)) if TOKEN.fullmatch(t) and t not in STOPWORDS]


def load_user_words(words: list[str]) -> None:
    """Teach jieba the corpus's own vocabulary (unit names, clause titles) so they stay whole."""
    import jieba

    jieba.setLogLevel(logging.WARNING)
    for word in words:
        jieba.add_word(word, freq=2000)


@dataclass
class IngestReport:
    status: str  # "unchanged" | "built"
    clauses: int
    embedded: int
    seconds: float
    problems: list[Problem]


def document_hash(document: Document) -> str:
    """Changes when the text or anything the index stores about the document changes."""
    meta = json.dumps([document.title, document.region, document.kind, [a.title for a in document.annexes], INDEX_FORMAT],
                      ensure_ascii=False)
    return hashlib.sha256(meta.encode() + document.text.encode("utf-8")).hexdigest()


def embedding_text(clause: Clause, document: Document) -> str:
    """What the dense model sees: where the clause sits, then what it says (simplified)."""
    from rag.clean import to_simplified

    heading = " ".join([document.title, *clause.heading_path, clause.title])
    return to_simplified(heading) + "\n" + clause.text_simplified


def lexical_text(clause: Clause, document: Document) -> str:
    from rag.clean import to_simplified

    units = clause.lead_units + clause.cooperating_units + clause.responsible_units
    parts = [document.region, *clause.heading_path, clause.title, clause.title, clause.text, *map(normalize_unit, units)]
    return to_simplified(" ".join(parts))


def index_path(home: Path | None = None) -> Path:
    return (home or config.rag_home()) / "index"


def read_info(home: Path | None = None, folder: str = "index") -> dict | None:
    """The manifest of the current index (or of the build `folder` in `home`), or None when
    there is no complete index."""
    try:
        return json.loads(((home or config.rag_home()) / folder / "info.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


class EmbeddingCache:
    """Vectors by (model, text) hash, so unchanged clauses are never embedded twice."""

    def __init__(self, folder: Path, model: str) -> None:
        key = hashlib.sha1(model.encode()).hexdigest()[:12]
        self.path = folder / f"embeddings-{key}.npz"
        self.vectors: dict[str, np.ndarray] = {}
        try:
            with np.load(self.path) as data:
                self.vectors = dict(zip(data["keys"].tolist(), data["vectors"]))
        except (OSError, ValueError, KeyError):
            pass

    @staticmethod
    def key(text: str) -> str:
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def encode(self, texts: list[str], encode: Callable[[list[str]], np.ndarray], batch: int = 64,
               progress: bool = False) -> tuple[np.ndarray, int]:
        """Vectors for all `texts`, computing only the missing ones; returns (vectors, computed).

        The missing texts go to `encode` longest first, `batch` at a time, so each call holds texts
        of similar length and the encoder's padded batches waste little: in hash order, chunks of 8
        padded the corpus's 55k tokens to 104k and cold ingest took twice the CPU time.
        """
        missing = sorted({self.key(t): t for t in texts if self.key(t) not in self.vectors}.items(),
                         key=lambda item: (-len(item[1]), item[0]))
        bar = None
        if progress and missing:
            from tqdm import tqdm

            bar = tqdm(total=len(missing), desc="嵌入条款", unit="条")
        for start in range(0, len(missing), batch):
            chunk = missing[start : start + batch]
            for (key, _), vector in zip(chunk, encode([t for _, t in chunk])):
                self.vectors[key] = vector
            if bar:
                bar.update(len(chunk))
        if bar:
            bar.close()
        if missing:
            self.save()
        return np.stack([self.vectors[self.key(t)] for t in texts]).astype(np.float32), len(missing)

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(".tmp.npz")
        np.savez(temporary, keys=np.array(list(self.vectors)), vectors=np.stack(list(self.vectors.values())))
        os.replace(temporary, self.path)


def clause_records(documents: list[Document]) -> tuple[list[dict], list[str], list[str]]:
    """Clause records as stored in the index, plus the texts for the two indexes."""
    records, dense, lexical = [], [], []
    for document in documents:
        for clause in parse_document(document):
            record = clause.to_dict()
            record.update(region=document.region, kind=document.kind, doc_title=document.title)
            records.append(record)
            dense.append(embedding_text(clause, document))
            lexical.append(lexical_text(clause, document))
    # 003 附件6 repeats 002: identical clauses share a key so results can show them once.
    # Short texts ("工作任务") repeat by coincidence, so only substantial texts are matched.
    for record in records:
        text = record["text_simplified"]
        record["text_key"] = hashlib.sha1(text.encode()).hexdigest()[:16] if len(text) >= 30 else record["id"]
    return records, dense, lexical


def _write_chroma(chroma, name: str, records: list[dict], vectors: np.ndarray) -> None:
    """One new collection `name`; ids are clause numbers, filters (region, doc_id, kind) metadata.

    No clause text: the clause store (clauses.json) is what every reader takes text from, and a
    collection with documents also builds Chroma's full-text index, which more than doubled the
    time of an add (6,000 clauses: 19 s with their texts, 8 s without; eval/BENCHMARKS.md)."""
    from rag.chroma_store import create_collection

    collection = create_collection(chroma, name)
    for start in range(0, len(records), 2000):
        chunk = records[start : start + 2000]
        collection.add(
            ids=[str(i) for i in range(start, start + len(chunk))],
            embeddings=vectors[start : start + len(chunk)],
            metadatas=[{
                "doc_id": r["doc_id"], "source": r["source"], "region": r["region"], "kind": r["kind"],
                "path": r["path"], "annex": r["annex"] or 0,
                "units": "、".join(r["lead_units"] + r["cooperating_units"] + r["responsible_units"]),
            } for r in chunk],
        )


def user_words(records: list[dict]) -> list[str]:
    from rag.clean import to_simplified

    words = set()
    for record in records:
        for unit in record["lead_units"] + record["cooperating_units"] + record["responsible_units"]:
            words.update({to_simplified(unit), normalize_unit(unit)})
        if 2 <= len(record["title"]) <= 12:
            words.add(to_simplified(record["title"]))
    return sorted(w for w in words if len(w) >= 2)


def document_frequency(tokenized: list[list[str]]) -> dict[str, int]:
    """How many texts each token occurs in: the answer layer weighs question words by it."""
    frequency: dict[str, int] = {}
    for tokens in tokenized:
        for token in set(tokens):
            frequency[token] = frequency.get(token, 0) + 1
    return frequency


def _write_bm25(folder: Path, records: list[dict], lexical: list[str]) -> None:
    import bm25s

    words = user_words(records)
    load_user_words(words)
    tokens = [tokenize(text) or ["∅"] for text in lexical]
    retriever = bm25s.BM25()
    retriever.index(tokens, show_progress=False)
    retriever.save(str(folder / "bm25"))
    (folder / "user_words.txt").write_text("\n".join(words), encoding="utf-8")
    frequency = document_frequency(tokens)
    (folder / "df.json").write_text(json.dumps(frequency, ensure_ascii=False), encoding="utf-8")
    (folder / "english.json").write_text(json.dumps(dictionary(frequency), ensure_ascii=False), encoding="utf-8")


def _switch(home: Path, built: Path) -> list[Path]:
    """Point `index` at the new folder in one rename, then drop the folders nobody serves from.

    Returns the older folders kept because a running process still serves from them.
    """
    link = index_path(home)
    temporary = home / f".index-link-{os.getpid()}"
    if temporary.is_symlink() or temporary.exists():
        temporary.unlink()
    os.symlink(built.name, temporary)
    if link.exists() and not link.is_symlink():
        shutil.rmtree(link)
    os.replace(temporary, link)
    kept = []
    for old in sorted(home.glob("index-*")):
        if old == built or not old.is_dir():
            continue
        if in_use(old):
            kept.append(old)
        else:
            shutil.rmtree(old, ignore_errors=True)
    return kept


@exclusive_ingest  # one ingest at a time per RAG_HOME (rag/lock.py)
def ingest(force: bool = False, progress: bool = True, home: Path | None = None) -> IngestReport:
    """Build the index when the corpus or the model changed (or when forced)."""
    from rag.models import encoder_name, load_encoder

    started = time.perf_counter()
    home = home or config.rag_home()
    documents, problems = load_corpus(config.corpus_dir())
    if any(p.fatal for p in problems):
        return IngestReport("failed", 0, 0, time.perf_counter() - started, problems)
    from rag.chroma_store import chroma_url, client

    if chroma_url():
        client(None, chroma_url())  # a server that is down stops here, before any embedding
    hashes = {d.id: document_hash(d) for d in documents}
    info = read_info(home)
    if (not force and info and info.get("documents") == hashes and info.get("model") == encoder_name()
            and info.get("format") == INDEX_FORMAT and index_intact(index_path(home), info) and store_is_current(info)):
        return IngestReport("unchanged", info["clauses"], 0, time.perf_counter() - started, problems)

    records, dense, lexical = clause_records(documents)
    name = encoder_name()
    cache = EmbeddingCache(home / "cache", name)
    encoders = []  # the model is loaded only when some clause is not in the cache

    def encode(texts: list[str]) -> np.ndarray:
        if not encoders:
            encoders.append(load_encoder())
        return encoders[0].encode_passages(texts, batch_size=PASSAGE_BATCH)

    vectors, embedded = cache.encode(dense, encode, progress=progress)

    write_index(home, records, vectors, lexical, {"model": name, "documents": hashes})
    return IngestReport("built", len(records), embedded, time.perf_counter() - started, problems)


def fingerprint(folder: Path) -> dict[str, int]:
    """Size of every file an index folder serves from, outside Chroma's own store: a truncated
    or missing file shows as a different size."""
    files = [folder / "clauses.json", folder / "df.json", folder / "user_words.txt", *sorted((folder / "bm25").glob("*"))]
    return {str(f.relative_to(folder)): f.stat().st_size for f in files if f.is_file()}


def index_intact(folder: Path, info: dict) -> bool:
    """The files are the ones `info.json` recorded when the index was built (older indexes record none)."""
    recorded = info.get("files")
    try:
        return recorded is None or fingerprint(folder) == recorded
    except OSError:
        return False


def store_is_current(info: dict) -> bool:
    """The index's vectors are where this process would read them (same server, collection there)."""
    from rag.chroma_store import StoreUnavailable, chroma_url, client

    url = chroma_url()
    if info.get("chroma_url") != url or not info.get("collection"):
        return False
    if url is None:
        return True
    try:
        client(None, url).get_collection(info["collection"])
    except StoreUnavailable:
        raise
    except Exception:  # the server lost the collection (wiped, other data directory)
        return False
    return True


def write_index(home: Path, records: list[dict], vectors: np.ndarray, lexical: list[str], info: dict) -> Path:
    """Write a complete index for `records` into a new folder and make it the current one.

    The vectors go to a new Chroma collection (embedded in the folder, or on the RAG_CHROMA_URL
    server) named after the build. `info.json` is written last and names that collection: a
    folder without it is an interrupted build, never served. On a server, the collections of
    older builds are dropped after the switch, except the one just replaced and any a process
    here still serves from, so that running apps keep answering until they restart
    (docs/deploy.md). Embedded, the same holds for the older folders (`rag/lock.py`).
    """
    from rag.chroma_store import chroma_url, client, collection_name, drop_unused

    home.mkdir(parents=True, exist_ok=True)
    # The build id names the folder and the Chroma collection: unique even for two builds in one second.
    built = home / f"index-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}-{secrets.token_hex(3)}"
    url = chroma_url()
    name = collection_name(built.name)
    previous = read_info(home)
    built.mkdir()
    chroma = client(built, url)
    _write_chroma(chroma, name, records, vectors)
    _write_bm25(built, records, lexical)
    (built / "clauses.json").write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")
    info = {"format": INDEX_FORMAT, **info, "dim": int(vectors.shape[1]), "clauses": len(records), "files": fingerprint(built),
            "collection": name, "chroma_url": url, "built_at": time.strftime("%Y-%m-%dT%H:%M:%S")}
    (built / "info.json").write_text(json.dumps(info, ensure_ascii=False, indent=1), encoding="utf-8")
    kept = _switch(home, built)
    if url:
        keep = {name, *(collection_name(folder.name) for folder in kept)}
        if previous and previous.get("chroma_url") == url and previous.get("collection"):
            keep.add(previous["collection"])
        drop_unused(chroma, keep)
    return built
