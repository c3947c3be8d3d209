"""Figures: the sentences of the best clauses that state a number (not a year or a date)."""
from __future__ import annotations

from rag.answer.base import Asked, Composed
from rag.answer.general import compose_general
from rag.answer.quote import citation, has_figure, quote
from rag.clean import to_simplified


def compose_number(asked: Asked) -> Composed:
    """Up to two clauses, each quoted at the sentences that state a figure; the second only when
    it is about the question too. No clause states one: the best clauses quoted by topic."""
    tokens = list(asked.query.tokens)
    lines, citations = [], []
    for hit in asked.hits[:3]:
        said = quote(hit.clause["text"], tokens, asked.lexicon.idf, need_digit=True)
        relevance = asked.coverage(tokens, to_simplified(said))
        if not has_figure(said) or (citations and relevance < 0.5):
            continue
        c = citation(len(citations) + 1, hit, said)
        lines.append(f"{'根据' if not citations else '另据'}{c.label()}{c.units_note()}：[{c.n}]\n\n> {said}")
        citations.append(c)
        if len(citations) == 2:
            break
    if not citations:
        return compose_general(asked, kind="number")
    return Composed("\n\n".join(lines), citations, "number")
