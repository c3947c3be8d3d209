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

# RELEVANCE_FLOOR: the calibrated probability (rag.answer.stating) a sentence stating an asked
# figure or time must reach: even odds, the lowest floor at which no tuning set loses refusal
# accuracy (eval/REPORT.md: fresh refuses two fewer near misses at 0.4); at 0.6 false refusals
# rise on every set.
# TOPIC_FLOOR: the IDF-weighted share of a question's topic words that the best clause of any
# question must cover, chosen on eval/dev.jsonl and the gated sets (`rag eval --sweep-topic`) as far
# down as refusal accuracy holds on all of them (0.20 / 0.25 / 0.30 / 0.45: own_words refusal
# accuracy 0.783 / 0.826 / 0.826 / 0.826, answer accuracy 0.769 / 0.776 / 0.762 / 0.741), one
# step above the lowest that holds, since a near-miss the sets lack may need the margin.
RELEVANCE_FLOOR = 0.5
TOPIC_FLOOR = 0.3
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
    relevance_floor: float = RELEVANCE_FLOOR  # a sentence stating the figure or time asked
    topic_floor: float = TOPIC_FLOOR  # the best clause, for any question

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
