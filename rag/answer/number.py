"""Figures and dates: the sentences of the best clauses that state what is asked.

"目标是多少" wants a sentence with a figure (not a year or a date); "什么时候完成", "哪一年要达到"
want one that says when (a year, a date, 年底前, 上半年, a stage). Either way the answer quotes
those sentences, never the clause's other text.
"""
from __future__ import annotations

import re
from collections.abc import Callable

from rag.answer.base import Asked, Composed
from rag.answer.general import compose_general
from rag.answer.quote import citation, quote, states_asked
from rag.answer.refuse import about_places, figure_candidates, standing
from rag.answer.stating import probabilities
from rag.answer.types import Citation
from rag.clean import to_simplified
from rag.retrieve import Hit
from rag.units import Responsibility, find_responsibilities


def compose_stated(asked: Asked, states: Callable[[str], bool], kind: str) -> Composed:
    """Up to two clauses, each quoted at the sentences that state it; the second only when it is
    about the question too. No clause states it: the best clauses quoted by topic."""
    tokens = list(asked.query.tokens)
    lines, citations = [], []
    for hit in by_stating(asked):
        said = quote(hit.clause["text"], tokens, asked.lexicon.idf, need=states)
        relevance = asked.coverage(tokens, to_simplified(said))
        if not states(said) or (citations and relevance < 0.5):
            continue
        c = citation(len(citations) + 1, hit, said)
        governed = governing(hit.clause["text"], said)
        if governed:
            c.lead_units, c.cooperating_units, c.responsible_units = (
                governed.lead_units, governed.cooperating_units, governed.responsible_units)
        lines.append(f"{source_line(c, first=not citations, english=asked.query.language == 'en')}[{c.n}]\n\n> {said}")
        citations.append(c)
        dated = same_day_as(hit.clause["text"], said) if kind == "time" else None
        if dated:  # "同日，市政府办印发…": the day is the one the clause last named
            c = citation(len(citations) + 1, hit, dated[1])
            note = (f"(“{dated[0]}”, the same day: {dated[2]}, the date the clause gives before it)"
                    if asked.query.language == "en" else f"（“{dated[0]}”即前文所记的{dated[2]}）")
            lines.append(f"{note}[{c.n}]\n\n> {dated[1]}")
            citations.append(c)
        if len(citations) == 2:
            break
    if not citations:
        return compose_general(asked, kind=kind)
    return Composed("\n\n".join(lines), citations, kind)


def governing(text: str, said: str) -> Responsibility | None:
    """The parenthetical whose units the quoted sentences stand under, in a clause that gives its
    parts to different units ("…提质改造213公里；…41公里（交通运输局牵头）。推进农村电网…（供电公司
    牵头）"): each governs the text since the one before. None when the clause has one, or the
    quote spans two, or stands after the last."""
    found = [r for r in find_responsibilities(text) if r.lead_units or r.cooperating_units or r.responsible_units]
    at = text.find(said)
    if len(found) < 2 or at < 0:
        return None
    segment = lambda p: next((i for i, r in enumerate(found) if r.end > p), None)  # noqa: E731
    first, last = segment(at), segment(at + len(said) - 1)
    return found[first] if first is not None and first == last else None


SAME_DAY = re.compile(r"^(?:同日|当日|当天|同一天|同一日)")
DATE = re.compile(r"(?:\d{4}年)?\d{1,2}月\d{1,2}日")


def same_day_as(text: str, said: str) -> tuple[str, str, str] | None:
    """For a quote dated "同日" (a newsletter's "同日，市政府办印发…"), the word, the sentence of
    the clause that last names a date before it, and that date; None for any other quote."""
    word = SAME_DAY.match(to_simplified(said))
    at = text.find(said)
    if not word or at < 0:
        return None
    dates = list(DATE.finditer(text, 0, at))
    if not dates:
        return None
    start = max(text.rfind(mark, 0, dates[-1].start()) for mark in "。；;\n") + 1
    end = min((e for mark in "。；;\n" if (e := text.find(mark, dates[-1].end(), at)) >= 0), default=at - 1) + 1
    return word.group(), text[start:end].strip(), dates[-1].group()


def by_stating(asked: Asked) -> list[Hit]:
    """The top three clauses, the one whose sentence most probably states the answer first (the
    sentence the answerability judgement accepted: rag.answer.stating), the rest in rank order."""
    hits = asked.hits[:3]
    where = standing(hits)
    found = figure_candidates(asked, where, about_places(asked.query, hits, where)) if hits else None
    if not found:
        return hits
    best: dict[int, float] = {}
    for candidate, p in zip(found, probabilities(found)):
        best[candidate.hit] = max(best.get(candidate.hit, 0.0), p)
    order = sorted(range(len(hits)), key=lambda i: (-best.get(i, -1.0), i))
    return [hits[i] for i in order]


def source_line(c: Citation, first: bool, english: bool) -> str:
    """"根据《…》二、(一)「…」（牵头单位：…）：" or its English frame."""
    if english:
        units = c.units_english()
        return f"{'According to' if first else 'Also, per'} {c.label()}" + (f" ({units})" if units else "") + ": "
    return f"{'根据' if first else '另据'}{c.label()}{c.units_note()}："


def compose_number(asked: Asked) -> Composed:
    """The sentences stating the figure, in the measure the question asks for when it names one."""
    return compose_stated(asked, states_asked(asked.query), "number")


def compose_time(asked: Asked) -> Composed:
    """The sentences saying when: a year where a year is asked."""
    return compose_stated(asked, states_asked(asked.query), "time")
