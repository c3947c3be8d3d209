"""The contract between the router and the answerers: what each is given and what it returns.

An answerer either composes (text plus citations), refuses with a reason, or declines (None)
so the router tries the next route; the router records which happened and why.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from rag.answer.types import Citation
from rag.lexicon import Lexicon
from rag.query import Query
from rag.retrieve import Hit
from rag.store import Store

# The IDF-weighted share of a question's topic words a clause (or the sentence stating an asked
# figure or time) must contain to answer it. Chosen on eval/dev.jsonl (`rag eval --sweep`, the
# risk-coverage table in eval/REPORT.md) as the lowest floor at which the gated set's refusal
# accuracy stays ≥ 0.98: floor 0.40 / 0.45 / 0.50 gave dev answer accuracy 0.843 / 0.836 / 0.815,
# dev false refusals 0.092 / 0.108 / 0.133, gated refusal accuracy 0.966 / 0.983 / 0.983.
RELEVANCE_FLOOR = 0.45
Search = Callable[..., list[Hit]]  # Retriever.search: (text, k=, region=, doc_id=, kind=) -> hits


@dataclass
class Asked:
    """One question on its way through the answerers."""

    query: Query
    hits: list[Hit]  # retrieval for the question (empty for a comparison, which retrieves per side)
    store: Store
    lexicon: Lexicon
    search: Search  # for answerers that retrieve again (a comparison's sides, a region's other plans)
    k: int = 5
    sides: list[str] = field(default_factory=list)  # regions compared, or the one region filtered on
    relevance_floor: float = RELEVANCE_FLOOR

    def coverage(self, tokens: list[str], text: str) -> float:
        return self.lexicon.coverage(tokens, text)

    def clause_coverage(self, tokens: list[str], clause: dict) -> float:
        return self.lexicon.clause_coverage(tokens, clause)


@dataclass
class Composed:
    """An answer's text and the clauses it cites; `ranked` replaces retrieval's order when the
    answerer retrieved on its own (a comparison's sides)."""

    body: str
    citations: list[Citation]
    kind: str
    ranked: list[Hit] | None = None


@dataclass
class Refusal:
    """The corpus cannot answer; `reason` says why, in the words shown to the user."""

    reason: str


Outcome = Composed | Refusal
