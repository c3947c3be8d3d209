"""The best clauses quoted as they are: the answer when no more specific answerer applies."""
from __future__ import annotations

from rag.answer.base import Asked, Composed
from rag.answer.quote import citation, is_table_row, quote


def compose_general(asked: Asked, kind: str = "general", stress_statements: bool = False) -> Composed:
    """The best clauses quoted, most relevant first; others only if they cover the question.

    Words that say what kind of statement is wanted (要求, 强调) do not find clauses, but
    within a clause they pick the sentence: "陈爱林提了什么要求" quotes "陈爱林要求，…". A
    more specific answerer that falls back here (no unit, no figure) quotes by topic alone.
    """
    tokens = list(asked.query.tokens)
    stressed = tokens + (list(asked.query.statement_words) if stress_statements else [])
    lines, citations = [], []
    for hit in asked.hits:
        relevance = asked.clause_coverage(tokens, hit.clause)
        if citations and (relevance < 0.99 or len(citations) >= 5) and (relevance < 0.5 or len(citations) >= 3):
            continue
        said = hit.clause["text"] if is_table_row(hit.clause) else quote(hit.clause["text"], stressed, asked.lexicon.idf)
        c = citation(len(citations) + 1, hit, said)
        if asked.query.language == "en":
            lines.append(f"{c.label()}" + (f" ({c.units_english()})" if c.units_english() else "") + f": [{c.n}]\n\n> {said}")
        else:
            lines.append(f"{c.label()}{c.units_note()}：[{c.n}]\n\n> {said}")
        citations.append(c)
    return Composed("\n\n".join(lines), citations, kind)
