"""Hybrid retrieval: dense (Chroma) and lexical (BM25) rankings fused by reciprocal rank.

The question is folded to simplified script; places named in it (平江, 沅江, 永州 and its
counties) become region filters unless the caller set one. A "who leads" question prefers
clauses that name units. Clauses that exist twice (003 附件6 = 002) come back once, with both
sources listed.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from rag import config
from rag.clean import to_simplified
from rag.glossary import chinese_terms
from rag.index import IndexUnavailable, index_path, load_user_words, read_info, tokenize
from rag.lexicon import Lexicon
from rag.store import Store

RRF_K = 60
CANDIDATES = 60
RERANK_CANDIDATES = 20
WHO_LEADS = re.compile(r"牵头|负责|谁|哪个部门|哪些部门|哪个单位|哪些单位|哪家|配合|责任单位|lead|responsib|in charge|"
                       r"which (?:department|unit|agency|bureau)|who", re.IGNORECASE)


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


class Retriever:
    """Loads the current index once; `search` is then pure computation."""

    def __init__(self, home: Path | None = None, encoder=None) -> None:
        import bm25s

        folder = index_path(home)
        info = read_info(home)
        if info is None:
            raise IndexUnavailable(f"没有可用的索引（{folder}）。请先运行：rag ingest")
        try:
            self.clauses: list[dict] = json.loads((folder / "clauses.json").read_text(encoding="utf-8"))
            load_user_words((folder / "user_words.txt").read_text(encoding="utf-8").split("\n"))
            self.bm25 = bm25s.BM25.load(str(folder / "bm25"))
            frequency = json.loads((folder / "df.json").read_text(encoding="utf-8"))
            self.vectors = np.load(folder / "vectors.npy", mmap_mode="r")
        except Exception as exc:  # any damage to the files means the same thing to the user
            raise IndexUnavailable(f"索引已损坏（{folder}: {exc}）。请运行：rag ingest --force") from None
        if encoder is None:
            from rag.models import load_encoder

            encoder = load_encoder()
        if encoder.name != info["model"]:
            raise IndexUnavailable(f"索引由模型 {info['model']} 建立，当前模型是 {encoder.name}。请运行：rag ingest")
        self.encoder = encoder
        self.info = info
        self.reranker = None
        if config.reranker():
            from sentence_transformers import CrossEncoder

            self.reranker = CrossEncoder(config.reranker())
        self.region_of = np.array([c["region"] for c in self.clauses])
        self.doc_of = np.array([c["doc_id"] for c in self.clauses])
        self.kind_of = np.array([c["kind"] for c in self.clauses])
        self.has_units = np.array([bool(c["lead_units"] or c["cooperating_units"] or c["responsible_units"])
                                   for c in self.clauses])
        self.store = Store(self.clauses)
        self.lexicon = Lexicon(frequency, len(self.clauses), self.store.gazetteer)

    def rerank(self, question: str, scores: dict[int, float]) -> None:
        """Order the fused candidates by a cross-encoder's scores (when RAG_RERANKER names one).

        None ships offline (flashrank, bge and mxbai rerankers all download at run time), so
        this runs only with a model folder the operator provides; the fused order is the default.
        """
        top = sorted(scores, key=lambda i: -scores[i])[:RERANK_CANDIDATES]
        pairs = [(question, self.clauses[i]["title"] + "\n" + self.clauses[i]["text_simplified"]) for i in top]
        for rank, j in enumerate(np.argsort(-np.asarray(self.reranker.predict(pairs), dtype=float))):
            scores[top[j]] = 10.0 - rank  # above every fused score, in the reranker's order

    def allowed(self, regions: list[str], doc_ids: list[str], kinds: list[str]) -> np.ndarray:
        mask = np.ones(len(self.clauses), dtype=bool)
        if regions:
            mask &= np.isin(self.region_of, regions)
        if doc_ids:
            mask &= np.isin(self.doc_of, doc_ids)
        if kinds:
            mask &= np.isin(self.kind_of, kinds)
        return mask

    def dense_ranking(self, question: str, mask: np.ndarray) -> list[int]:
        """Clauses by cosine to the question, scored exactly over the allowed rows.

        Chroma holds the same vectors, but its HNSW search is approximate: with a filter it found
        0.71 of the true top-20 at 100× (eval/BENCHMARKS.md), and results could differ between
        runs over one index. An exact dot product over the memory-mapped copy takes milliseconds
        even at 38,700 clauses and always gives the same answer.
        """
        vector = self.encoder.encode_queries([question])[0]
        allowed = np.flatnonzero(mask)
        similarity = np.asarray(self.vectors[allowed] @ vector)
        order = np.argsort(-similarity, kind="stable")[:CANDIDATES]
        return [int(allowed[j]) for j in order]

    def lexical_ranking(self, question: str, mask: np.ndarray) -> list[int]:
        tokens = tokenize(question)
        if not tokens:
            return []
        scores = self.bm25.get_scores(tokens)
        scores = np.where(mask, scores, -1.0)
        order = np.argsort(-scores)[:CANDIDATES]
        return [int(i) for i in order if scores[i] > 0]

    def search(self, question: str, k: int = 5, region: str | list[str] | None = None,
               doc_id: str | list[str] | None = None, kind: str | list[str] | None = None) -> list[Hit]:
        """The k best clauses for a question, best first."""
        simplified = to_simplified(question)
        regions = [region] if isinstance(region, str) else list(region or []) or self.store.gazetteer.regions_in(question)
        doc_ids = [doc_id] if isinstance(doc_id, str) else list(doc_id or [])
        kinds = [kind] if isinstance(kind, str) else list(kind or [])
        mask = self.allowed(regions, doc_ids, kinds)
        if not mask.any():
            return []
        # English gains its Chinese terms and place names: Daoxian County → 道县
        expanded = " ".join([simplified, *chinese_terms(question), *self.store.gazetteer.places_in_english(question)])
        dense = self.dense_ranking(simplified, mask)
        lexical = self.lexical_ranking(expanded, mask)
        scores: dict[int, float] = {}
        for ranking in (dense, lexical):
            for rank, i in enumerate(ranking):
                scores[i] = scores.get(i, 0.0) + 1.0 / (RRF_K + rank + 1)
        leads = bool(WHO_LEADS.search(simplified))
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
