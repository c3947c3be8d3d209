"""Hybrid retrieval: dense (Chroma) and lexical (BM25) rankings fused by reciprocal rank.

The dense ranking asks the index's Chroma collection (embedded, or the RAG_CHROMA_URL server)
for many more candidates than it keeps, with the filters as a `where` clause, and re-scores them
exactly, so that the order is deterministic and, on a corpus smaller than the candidate count,
the same as exact search over every clause.

The question is folded to simplified script; places named in it (平江, 沅江, 永州 and its
counties) become region filters unless the caller set one. A "who leads" question prefers
clauses that name units. Clauses that exist twice (003 附件6 = 002) come back once, with both
sources listed.
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from rag import config
from rag.clean import to_simplified
from rag.errors import IndexUnavailable
from rag.index import index_intact, index_path, load_user_words, read_info, tokenize
from rag.lock import hold_serving
from rag.lexicon import Lexicon
from rag.query import CJK
from rag.store import Store
from rag.textin import normalize_question

MAX_SEARCHED = 2000  # characters of a query searched: four times the longest question the answer layer takes
RRF_K = 60
CANDIDATES = 60
RERANK_CANDIDATES = 20
# Chroma candidates for the dense ranking: all clauses on a small corpus, else HNSW's top N.
MIN_DENSE_CANDIDATES = 200
# "Pingjiang's safety bottom-line plan", "the plan for optimizing the development environment":
# the words an English question names a plan with, which the encoder matches to the plans' titles.
# A plan is a noun here: "does Pingjiang plan to renovate" names none.
PLAN_PHRASE = re.compile(r"(?:[\w'’-]+\s+){0,6}?(?:plan|newsletter|bulletin|table)\b(?!\s+to\b)"
                         r"(?:\s+(?:for|on|to)\s+(?:the\s+)?['‘\w-]+(?:\s+[\w'’-]+){0,5})?", re.IGNORECASE)
ROLE_HOLDER = re.compile(r"召集人|组长|组長|主任|秘书长|秘書長|指挥长|總指揮|总指挥")
WHO_LEADS = re.compile(r"牵头|负责|谁|哪个部门|哪些部门|哪个单位|哪些单位|哪家|配合|责任单位|lead|responsib|in charge|"
                       r"which (?:department|unit|agency|bureau)|who", re.IGNORECASE)


# The query vectors of the question being answered (text → vector), while `one_question` is open.
_QUESTION_VECTORS: ContextVar[dict[str, np.ndarray] | None] = ContextVar("question_vectors", default=None)


@contextmanager
def one_question() -> Iterator[None]:
    """Within, each distinct text is encoded once: an answer searches again with the same text
    under other filters (a comparison's sides, a unit's other plans), and encoding is most of a
    search's cost. Scoped to one question on purpose: a memo across questions would let a
    repeated question skip the work that a load test means to measure."""
    token = _QUESTION_VECTORS.set({})
    try:
        yield
    finally:
        _QUESTION_VECTORS.reset(token)


@dataclass
class Hit:
    """One ranked clause, with the other places the same text appears."""

    clause: dict
    score: float
    dense_rank: int | None = None
    lexical_rank: int | None = None
    also: list[dict] = field(default_factory=list)

    def to_dict(self, with_text: bool = True) -> dict:
        c = self.clause
        result = {"doc_id": c["doc_id"], "source": c["source"], "path": c["path"], "title": c["title"],
                  "doc_title": c["doc_title"], "region": c["region"], "lead_units": c["lead_units"],
                  "cooperating_units": c["cooperating_units"], "responsible_units": c["responsible_units"],
                  "score": round(self.score, 5), "also": self.also}
        if with_text:
            result["text"] = c["text"]
        return result


def serving_folder(home: Path | None) -> tuple[Path, dict, object]:
    """The current index folder (the link resolved once), its info, and a lease on it.

    Everything is read from the resolved folder, never through the link, so an ingest that
    switches the link meanwhile cannot mix two builds; the lease keeps that ingest from removing
    the folder while this process serves from it.
    """
    for _ in range(5):
        folder = index_path(home).resolve()
        info = read_info(folder.parent, folder.name)
        if info is None:
            raise IndexUnavailable(f"没有可用的索引（{index_path(home)}）。请先运行：rag ingest")
        lease = hold_serving(folder)
        if index_path(home).resolve() == folder and folder.is_dir():
            return folder, info, lease
        if lease:
            lease.close()  # an ingest switched the link between the two looks: take the new build
    raise IndexUnavailable(f"索引正在频繁重建（{index_path(home)}），请稍后再试 (the index keeps changing)")


class Retriever:
    """Loads the current index once; `search` is then pure computation."""

    def __init__(self, home: Path | None = None, encoder=None) -> None:
        import bm25s

        folder, info, self._lease = serving_folder(home)
        self.folder = folder
        try:
            self.clauses: list[dict] = json.loads((folder / "clauses.json").read_text(encoding="utf-8"))
            load_user_words((folder / "user_words.txt").read_text(encoding="utf-8").split("\n"))
            self.bm25 = bm25s.BM25.load(str(folder / "bm25"))
            frequency = json.loads((folder / "df.json").read_text(encoding="utf-8"))
            english = folder / "english.json"  # absent from an index built before 2026-12-02
            senses = json.loads(english.read_text(encoding="utf-8")) if english.exists() else {}
        except Exception as exc:  # any damage to the files means the same thing to the user
            raise IndexUnavailable(f"索引已损坏（{folder}: {exc}）。请运行：rag ingest --force") from None
        self.collection = self._open_collection(folder, info)
        # Vectors fetched from the collection, by clause number (zero pages cost no memory until filled).
        # Allocated here, never replaced, so concurrent searches (the app's worker threads) share them.
        self._stored = np.zeros((len(self.clauses), int(info.get("dim", 384))), dtype=np.float32)
        self._have = np.zeros(len(self.clauses), dtype=bool)
        if encoder is None:
            from rag.models import load_encoder

            encoder = load_encoder()
        if encoder.name != info["model"]:
            raise IndexUnavailable(f"索引由模型 {info['model']} 建立，当前模型是 {encoder.name}。请运行：rag ingest")
        self.encoder = encoder
        self.info = info
        self.reranker = None
        self._plan_vectors: dict | None = None
        self._plan_masks: dict[tuple[str, str], np.ndarray] = {}
        if config.reranker():
            from sentence_transformers import CrossEncoder

            self.reranker = CrossEncoder(config.reranker())
        self.region_of = np.array([c["region"] for c in self.clauses])
        self.doc_of = np.array([c["doc_id"] for c in self.clauses])
        self.kind_of = np.array([c["kind"] for c in self.clauses])
        self.has_units = np.array([bool(c["lead_units"] or c["cooperating_units"] or c["responsible_units"])
                                   for c in self.clauses])
        self.store = Store(self.clauses)
        self.lexicon = Lexicon(frequency, len(self.clauses), self.store.gazetteer, senses)

    def close(self) -> None:
        """Stop serving from this build: the next ingest may remove its folder."""
        if self._lease:
            self._lease.close()
            self._lease = None

    def rerank(self, question: str, scores: dict[int, float]) -> None:
        """Order the fused candidates by a cross-encoder's scores (when RAG_RERANKER names one).

        None ships offline (flashrank, bge and mxbai rerankers all download at run time), so
        this runs only with a model folder the operator provides; the fused order is the default.
        """
        top = sorted(scores, key=lambda i: -scores[i])[:RERANK_CANDIDATES]
        pairs = [(question, self.clauses[i]["title"] + "\n" + self.clauses[i]["text_simplified"]) for i in top]
        for rank, j in enumerate(np.argsort(-np.asarray(self.reranker.predict(pairs), dtype=float))):
            scores[top[j]] = 10.0 - rank  # above every fused score, in the reranker's order

    def plan_in_english(self, question: str, regions: Sequence[str]) -> tuple[str, str] | None:
        """The plan (doc_id, annex) an English question names in its own words, by the encoder:
        its plan phrase against every plan title of the regions it names. No phrase, no plan."""
        phrase = PLAN_PHRASE.search(question)
        plans = [p for p in self.store.plans if not regions or p[3] in regions] if phrase else []
        if not plans:
            return None
        if self._plan_vectors is None:
            # One title at a time: a batch would grow the encoder's memory arena past what queries need.
            titles = [p[2] for p in self.store.plans]
            self._plan_vectors = dict(zip(self.store.plans, self.encoder.encode_passages(titles, batch_size=1)))
        vector = self.query_vector(phrase.group(0))
        best = max(plans, key=lambda p: float(self._plan_vectors[p] @ vector))
        return best[0], best[1]

    def plan_mask(self, plan: tuple[str, str]) -> np.ndarray:
        """The clauses of a plan (a document, or one annex of it), and their twins elsewhere;
        computed once per plan, not on every search that names it."""
        if plan not in self._plan_masks:
            doc_id, annex = plan
            inside = {c["text_key"] for c in self.clauses if c["doc_id"] == doc_id
                      and (not annex or c["path"] == annex or c["path"].startswith(annex + " "))}
            self._plan_masks[plan] = np.array([c["text_key"] in inside for c in self.clauses])
        return self._plan_masks[plan]

    def allowed(self, regions: list[str], doc_ids: list[str], kinds: list[str]) -> np.ndarray:
        mask = np.ones(len(self.clauses), dtype=bool)
        if regions:
            mask &= np.isin(self.region_of, regions)
        if doc_ids:
            mask &= np.isin(self.doc_of, doc_ids)
        if kinds:
            mask &= np.isin(self.kind_of, kinds)
        return mask

    def _open_collection(self, folder: Path, info: dict):
        """The index's Chroma collection: on RAG_CHROMA_URL (or the server the index names), else embedded."""
        from rag.chroma_store import StoreUnavailable, chroma_url, client, down_message

        if not info.get("collection"):
            raise IndexUnavailable(f"索引格式过旧（{folder}）。请运行：rag ingest")
        if not index_intact(folder, info):
            raise IndexUnavailable(f"索引已损坏（{folder}：文件与建立时记录的不符）。请运行：rag ingest")
        url = chroma_url() or info.get("chroma_url")
        try:
            collection = client(folder, url).get_collection(info["collection"])
            self.collection_size = collection.count()
        except StoreUnavailable:
            raise
        except Exception as exc:
            if url and not _is_missing(exc):
                raise StoreUnavailable(down_message(url, exc)) from None
            where = url or str(folder / "chroma")
            raise IndexUnavailable(f"Chroma 中没有索引的集合 {info['collection']}（{where}）。请运行：rag ingest "
                                   f"(the collection this index names is not in Chroma)") from None
        return collection

    @staticmethod
    def where(regions: list[str], doc_ids: list[str], kinds: list[str]) -> dict | None:
        """The filters as a Chroma `where` clause (metadata written at ingest)."""
        terms = [{key: {"$in": values}} for key, values in (("region", regions), ("doc_id", doc_ids), ("kind", kinds))
                 if values]
        return None if not terms else terms[0] if len(terms) == 1 else {"$and": terms}

    def dense_candidates(self, vector: np.ndarray, where: dict | None,
                         allowed: np.ndarray | None = None) -> tuple[list[int], np.ndarray]:
        """Chroma's candidates for `vector` (clause numbers, ascending) and their stored vectors.

        `allowed`: the clause numbers `where` lets through. When they are no more than the
        candidates asked for, they are the candidates, and only their vectors are read: Chroma's
        filtered query (a `where` or an `ids` allow-list) costs about 0.5 s at 387,000 clauses
        however few pass it, to return the same rows (eval/BENCHMARKS.md, 1,000×).

        The query's own `embeddings` are HNSW's re-normalised copies (off by up to 1.5e-8), so
        the stored vectors are fetched by id: exact re-scoring then sees the very floats ingest
        wrote, and ties and near-ties order as in an exact search over all clauses. A build's
        collection never changes, so fetched vectors are kept (`_stored`): after the first
        queries a search costs at most one Chroma query (≈ 5 ms) instead of also moving every
        candidate's 384 floats again (≈ 15 ms for 387 clauses).
        """
        from rag.chroma_store import StoreUnavailable, chroma_url, down_message

        n = min(self.collection_size, max(MIN_DENSE_CANDIDATES, 10 * CANDIDATES))
        try:
            if allowed is not None and len(allowed) <= n:
                rows = [int(r) for r in allowed]
            else:
                found = self.collection.query(query_embeddings=[vector], n_results=n, where=where, include=[])
                rows = sorted(int(i) for i in found["ids"][0])
            if not rows:
                return [], np.zeros((0, vector.shape[0]), dtype=np.float32)
            missing = [r for r in rows if not self._have[r]]
            if missing:
                got = self.collection.get(ids=[str(r) for r in missing], include=["embeddings"])
                for key, stored in zip(got["ids"], got["embeddings"]):
                    self._stored[int(key)] = stored
                    self._have[int(key)] = True  # after the vector: a reader that sees True sees it
        except Exception as exc:
            url = chroma_url() or self.info.get("chroma_url")
            if url and not _is_missing(exc):
                raise StoreUnavailable(down_message(url, exc)) from None
            raise IndexUnavailable(f"索引的 Chroma 集合已不可用（{exc}）。请运行：rag ingest，并重启服务 "
                                   f"(the index's Chroma collection is gone)") from None
        return rows, self._stored[rows]

    def dense_ranking(self, question: str, mask: np.ndarray, where: dict | None = None) -> list[int]:
        """Clauses by cosine to the question: Chroma's candidates re-scored exactly.

        Chroma's HNSW search is approximate and its order can differ between runs over one
        index, so its candidates (all clauses, when fewer than the candidate count) are scored
        again by a dot product with the query vector; the stable sort over ascending clause
        numbers breaks ties by clause number. `mask` is the same filter as `where`.
        """
        vector = self.query_vector(question)
        rows, vectors = self.dense_candidates(vector, where, np.flatnonzero(mask) if where else None)
        keep = [j for j, r in enumerate(rows) if mask[r]]
        if len(keep) < len(rows):
            rows, vectors = [rows[j] for j in keep], vectors[keep]
        similarity = np.asarray(vectors @ vector)
        order = np.argsort(-similarity, kind="stable")[:CANDIDATES]
        return [int(rows[j]) for j in order]

    def query_vector(self, text: str) -> np.ndarray:
        """The text's query vector, encoded once per question inside `one_question`."""
        vectors = _QUESTION_VECTORS.get()
        if vectors is None:
            return self.encoder.encode_queries([text])[0]
        if text not in vectors:
            vectors[text] = self.encoder.encode_queries([text])[0]
        return vectors[text]

    def lexical_ranking(self, question: str, mask: np.ndarray) -> list[int]:
        tokens = tokenize(question)
        if not tokens:
            return []
        scores = self.bm25.get_scores(tokens)
        scores = np.where(mask, scores, -1.0)
        order = np.argsort(-scores)[:CANDIDATES]
        return [int(i) for i in order if scores[i] > 0]

    def search(self, question: str, k: int = 5, region: str | list[str] | None = None,
               doc_id: str | list[str] | None = None, kind: str | list[str] | None = None,
               plan: tuple[str, str] | None = None) -> list[Hit]:
        """The k best clauses for a question, best first. The text is cleaned and bounded first
        (a lone surrogate cannot be folded; 40,000 characters cost seconds), as every caller's is.
        The clauses of a `plan` the question names rank as a named county's row does: ahead."""
        question, _ = normalize_question(question, MAX_SEARCHED)
        simplified = to_simplified(question)
        regions = [region] if isinstance(region, str) else list(region or []) or self.store.gazetteer.regions_in(question)
        doc_ids = [doc_id] if isinstance(doc_id, str) else list(doc_id or [])
        kinds = [kind] if isinstance(kind, str) else list(kind or [])
        mask = self.allowed(regions, doc_ids, kinds)
        if not mask.any():
            return []
        # English gains its Chinese terms and place names: Daoxian County → 道县
        rendered = [*self.lexicon.chinese_terms(question), *self.store.gazetteer.places_in_english(question)]
        expanded = " ".join([simplified, *rendered])
        where = self.where(regions, doc_ids, kinds)
        # The region selects the clauses (the mask); as a word it matched unit names (市生态环境局
        # 平江分局) and county rows (永州经开区), not the topic. The encoder keeps it: without it,
        # the tuning sets lost three answers and gained two.
        searched = self.store.gazetteer.without_regions(simplified) if regions else simplified
        dense = self.dense_ranking(simplified, mask, where)
        lexical = self.lexical_ranking(" ".join([searched, *rendered]), mask)
        rankings = [dense, lexical]
        if rendered and not CJK.search(simplified):
            # The encoder ranks Chinese against Chinese far better than English against Chinese:
            # of 197 English tuning questions, their Chinese terms alone put the right clause
            # first for 97, the English for 34 (eval/REPORT.md). Both are searched.
            rankings.append(self.dense_ranking(" ".join(rendered), mask, where))
        scores: dict[int, float] = {}
        for ranking in rankings:
            for rank, i in enumerate(ranking):
                scores[i] = scores.get(i, 0.0) + 1.0 / (RRF_K + rank + 1)
        # "谁牵头": clauses that name units rank up; "谁是副召集人": a role's holder is asked, not units.
        leads = bool(WHO_LEADS.search(simplified)) and not ROLE_HOLDER.search(expanded)
        tokens = self.lexicon.content_tokens(question)
        for i in sorted(scores, key=lambda i: -scores[i])[:CANDIDATES // 3]:
            # How much of what the question asks about the clause actually contains.
            scores[i] += self.lexicon.clause_coverage(tokens, self.clauses[i]) / (RRF_K + 1)
            if leads and self.has_units[i]:
                scores[i] += 0.5 / (RRF_K + 1)
        for title, rows in self.store.place_rows.items():
            stem = re.sub(r"(?:管理区|县|区|市)$", "", title)
            if title in expanded or (len(stem) >= 2 and stem in expanded):
                for i in rows:
                    if mask[i]:
                        scores[i] = scores.get(i, 0.0) + 1.0 / (RRF_K + 1)
        if plan is not None:
            inside = self.plan_mask(plan)
            for i in scores:
                if inside[i]:
                    scores[i] += 1.0 / (RRF_K + 1)
        if self.reranker is not None:
            self.rerank(simplified, scores)
        dense_rank = {i: r for r, i in enumerate(dense)}
        lexical_rank = {i: r for r, i in enumerate(lexical)}
        hits: list[Hit] = []
        shown: set[str] = set()
        for i in sorted(scores, key=lambda i: -scores[i]):
            clause = self.clauses[i]
            if clause["text_key"] in shown:
                continue
            shown.add(clause["text_key"])
            twins = [self.clauses[j] for j in self.store.twins[clause["text_key"]] if j != i and mask[j]]
            also = [{"doc_id": t["doc_id"], "source": t["source"], "path": t["path"]} for t in twins]
            hits.append(Hit(clause, scores[i], dense_rank.get(i), lexical_rank.get(i), also))
            if len(hits) == k:
                break
        return hits


def _is_missing(exc: BaseException) -> bool:
    """Chroma's way of saying a collection does not exist (a server that is up, or an embedded store)."""
    return type(exc).__name__ in ("NotFoundError", "InvalidCollectionException") or "does not exist" in str(exc)
