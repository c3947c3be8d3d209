"""Grounded answers: built from parsed clauses only, every statement cited.

Officials act on these answers, so a wrong unit or an invented number is worse than no answer.
The answer layer therefore never writes a fact of its own: it picks clauses, quotes exact
spans of them, and names the units the parser read from them. When the corpus does not cover
the question (a place or year it never mentions, a result the plans only set targets for, a
person it never names, an instruction rather than a question) it says so plainly.

The question is parsed once (`rag.query`), the router (`route.py`) picks one answerer and
records why, and `Assistant.ask` turns the outcome into an `Answer`.
"""
from __future__ import annotations

import time
from dataclasses import replace

from rag.answer.base import RELEVANCE_FLOOR, TOPIC_FLOOR, Asked, Composed, Refusal
from rag.answer.compare import compose_compare
from rag.answer.refuse import refusal_text
from rag.answer.scope import out_of_scope
from rag.answer.route import Router
from rag.answer.types import Answer, Citation, Route
from rag.query import Query, parse_query
from rag.retrieve import Hit, Retriever
from rag.store import Store
from rag.textin import MAX_QUESTION, normalize_question

__all__ = ["MAX_QUESTION", "Answer", "Assistant", "Citation", "Route"]


class Assistant:
    """Question in, cited answer out; holds the retriever (and its models) for its lifetime."""

    def __init__(self, retriever: Retriever | None = None, relevance_floor: float = RELEVANCE_FLOOR,
                 topic_floor: float = TOPIC_FLOOR) -> None:
        """The floors: the IDF-weighted share of the question's topic words that the sentence
        stating an asked figure or time, and the best clause of any question, must contain
        (the operating points chosen on the development set, rag.answer.base)."""
        self.retriever = retriever or Retriever()
        self.store: Store = self.retriever.store
        self.router = Router(self.retriever.search, self.retriever.lexicon, self.store, relevance_floor, topic_floor)

    def parse(self, question: str) -> Query:
        """The question as every stage reads it, against this corpus. An English question names
        a plan in words no title has, so the encoder reads which plan its clauses should come from."""
        query = parse_query(question, self.store.plans, self.store.unit_names, self.store.gazetteer,
                            self.retriever.lexicon.content_tokens)
        if query.language == "en":
            query = replace(query, searched_plan=self.retriever.plan_in_english(question, query.regions))
        return query

    def warm_up(self) -> None:
        """Pay the one-time costs a first question would otherwise wait for: a first answer, and
        jieba's part-of-speech tagger (≈ 0.6 s of loading, for a question naming a person)."""
        import jieba.posseg

        self.ask(self.store.example_questions()[0])
        jieba.posseg.lcut("县长")

    def cited_text(self, doc_id: str, path: str) -> str | None:
        return self.store.cited_text(doc_id, path)

    def ask(self, question: str, region: str | None = None, doc_id: str | None = None, k: int = 5) -> Answer:
        """Answer one question from the corpus, or refuse and say why."""
        started = time.perf_counter()
        question, _ = normalize_question(question, limit=len(question or ""))  # the length is judged below
        if not question:
            return Answer(question, f"请输入问题，例如：{self.store.example_questions()[0]}", True, notice="问题为空",
                          route=_route(Route("empty", "问题为空")))
        if len(question) > MAX_QUESTION:
            return Answer(question[:MAX_QUESTION], f"问题过长（{len(question)} 字）。请精简到 {MAX_QUESTION} 字以内再问。",
                          True, notice="问题过长", route=_route(Route("too_long", f"问题超过 {MAX_QUESTION} 字")))
        query = self.parse(question)
        route, outcome, hits = self.router.answer(query, region=region, doc_id=doc_id, k=k)
        return self.finish(query, route, outcome, hits, started)

    def compare(self, sides: list[str], topic: str, k: int = 5) -> Answer:
        """Two or more regions side by side on one topic, in the order given (the comparison tab)."""
        started = time.perf_counter()
        query = self.parse((topic or "").strip())
        reason = out_of_scope(query, self.store)
        if reason:
            return self.finish(query, Route("out_of_scope", "主题本身超出语料范围"), Refusal(reason), [], started)
        asked = Asked(query, [], self.store, self.retriever.lexicon, self.retriever.search, k, list(sides))
        composed = compose_compare(asked, list(sides))
        return self.finish(query, Route("compare", f"对比所选的{'、'.join(sides)}"), composed, [], started)

    def finish(self, query: Query, route: Route, outcome: Composed | Refusal, hits: list[Hit], started: float) -> Answer:
        """The Answer for an outcome: a refusal with the nearest clauses, or the composed text with
        the twins of each cited clause and the clauses it was built from."""
        timings = {"total": (time.perf_counter() - started) * 1000}
        if isinstance(outcome, Refusal):
            return Answer(query.text, refusal_text(outcome.reason, hits, query), True,
                          retrieved=[h.to_dict() for h in hits], timings_ms=timings, route=_route(route))
        body = outcome.body
        twins = [f"[{c.n}] 同见 " + "；".join(f"{a['source']} {a['path']}" for a in c.also) for c in outcome.citations if c.also]
        if twins:
            body += "\n\n" + "\n".join(twins)
        ranked = outcome.ranked if outcome.ranked is not None else hits
        return Answer(query.text, body, False, citations=outcome.citations, retrieved=self.ranked(outcome.citations, ranked),
                      timings_ms=timings, kind=outcome.kind, route=_route(route))

    def ranked(self, citations: list[Citation], hits: list[Hit]) -> list[dict]:
        """The clauses the answer was built from, best first: the cited ones, then the rest."""
        cited = [Hit(self.store.record(c.doc_id, c.path, c.scope), 0.0, also=c.also) for c in citations]
        keys = {(c.doc_id, c.path) for c in citations}
        scores = {(h.clause["doc_id"], h.clause["path"]): h.score for h in hits}
        for hit in cited:
            hit.score = scores.get((hit.clause["doc_id"], hit.clause["path"]), 0.0)
        return [h.to_dict() for h in cited + [h for h in hits if (h.clause["doc_id"], h.clause["path"]) not in keys]]


def _route(route: Route) -> dict[str, str]:
    return {"name": route.name, "reason": route.reason}
