"""Who leads, who cooperates: the units of the clause that assigns the task, as written.

The best clause that names units answers; the region's other plans are shown beside it when
they assign the same topic (平江 000 and 002 on 燃气), each labelled by its plan, never merged.
"""
from __future__ import annotations

from rag.answer.base import Asked, Composed
from rag.answer.general import compose_general
from rag.answer.quote import citation, is_table_row, quote, spans
from rag.answer.types import Citation
from rag.clean import to_simplified
from rag.retrieve import Hit
from rag.units import Responsibility, find_responsibilities


def compose_lead(asked: Asked) -> Composed:
    """Units of the best clause; another plan's clause on the same topic is shown beside it.

    A question that counts units ("一共列了多少个责任单位", `Query.unit_count_role`) also gets
    the count of the asked role.
    """
    hits, tokens = asked.hits, list(asked.query.tokens)
    counted_role = asked.query.unit_count_role
    best = unit_clause(asked)
    if best is None:  # the clause that answers names a person's post (常务副县长总牵头), not a unit
        return compose_general(asked, kind="lead")
    chosen = [best]
    if is_table_row(best.clause):
        # A table question (李适时 召集 哪几仗) may be answered by several rows.
        chosen += [h for h in naming_units(hits)[1:] if is_table_row(h.clause)
                   and asked.coverage(tokens, h.clause["text_simplified"]) >= 0.99]
    else:
        chosen += other_plans(asked, best, tokens)
    lines, citations = [], []
    for n, hit in enumerate(chosen, 1):
        table_row = is_table_row(hit.clause)
        said, units = (hit.clause["text"], None) if table_row else responsibility_quote(asked, hit.clause, tokens)
        c = citation(n, hit, said)
        if units:
            c.lead_units, c.cooperating_units, c.responsible_units = units.lead_units, units.cooperating_units, units.responsible_units
        scope = f"{to_simplified(units.topic)}方面，" if units and units.topic else ""
        count = unit_count(c, counted_role) if counted_role is not None and n == 1 else ""
        if asked.query.language == "en":  # an English frame; units and the quote as the plan writes them
            lines.append(f"{'According to' if n == 1 else 'Also, per'} {c.label()}: "
                         f"{c.units_english() or 'no lead or responsible unit is named'}. [{n}]\n\n> {said}")
        else:
            unnamed = "未写明牵头单位；" if asked.query.unit_role == "牵头" and not c.lead_units and c.units_sentence() else ""
            lines.append(f"{'根据' if n == 1 else '另据'}{c.label()}：{scope}{unnamed}{c.units_sentence() or '未写明牵头或负责单位'}。"
                         f"{count}[{n}]\n\n> {said}")
        citations.append(c)
    return Composed("\n\n".join(lines), citations, "lead")


def naming_units(hits: list[Hit]) -> list[Hit]:
    """The hits whose clauses name a lead, cooperating or responsible unit, in rank order."""
    return [h for h in hits if h.clause["lead_units"] or h.clause["cooperating_units"] or h.clause["responsible_units"]]


def unit_clause(asked: Asked) -> Hit | None:
    """The clause whose units answer a lead question: the best one naming units, unless it covers
    the question much less than the top hit (whose answer is then a post: 常务副县长总牵头)."""
    named, tokens = naming_units(asked.hits), list(asked.query.tokens)
    if named and asked.clause_coverage(tokens, named[0].clause) >= asked.clause_coverage(tokens, asked.hits[0].clause) - 0.2:
        return named[0]
    return None


def unit_count(c: Citation, role: str) -> str:
    """"共 26 个责任单位。": the units of the asked role the clause names, counted as written."""
    by_role = {"牵头": c.lead_units, "配合": c.cooperating_units, "责任": c.responsible_units or c.cooperating_units,
               "负责": c.responsible_units or c.cooperating_units}
    units = by_role.get(role) or list(dict.fromkeys(c.lead_units + c.cooperating_units + c.responsible_units))
    return f"共 {len(units)} 个{role}单位。"


def other_plans(asked: Asked, best: Hit, tokens: list[str]) -> list[Hit]:
    """The same topic assigned in the region's other plans (平江 000 vs 002 on 燃气)."""
    shared = [t for t in tokens if t in best.clause["text_simplified"]]
    if not shared:
        return []
    seen = {best.clause["doc_id"]} | {a["doc_id"] for a in best.also}
    others = sorted({d for d, doc in asked.store.documents.items() if doc["region"] == best.clause["region"]} - seen)
    found = []
    for doc_id in others:
        for hit in asked.search(" ".join(shared), k=3, doc_id=doc_id):
            c = hit.clause
            if (c["lead_units"] or c["responsible_units"]) and asked.coverage(shared, c["text_simplified"]) >= 0.99:
                found.append(hit)
                break
    return found[:2]


def responsibility_quote(asked: Asked, clause: dict, tokens: list[str]) -> tuple[str, Responsibility | None]:
    """The span a responsibility governs and its units, when the question targets one sentence.

    A clause can hold several parentheticals, each governing the text since the previous one
    (附件3 二、(一): …技术攻关（科工信局牵头）。开展油茶…试验（林业局牵头）). A question about the
    clause as a whole (its title) gets the whole clause and all its units.
    """
    text = clause["text"]
    found = find_responsibilities(text)
    whole = text if len(text) <= 300 else quote(text, tokens, asked.lexicon.idf)
    if len(found) < 2:
        return whole, None
    title_end = spans(text)[0][1]
    segments, start = [], 0
    for item in found:
        segment_start = max(start, text.rfind("\n", 0, item.start) + 1)
        segments.append((segment_start, item))
        start = item.end
    body_scores = [asked.coverage(tokens, to_simplified(text[max(s, title_end):r.end])) for s, r in segments]
    best = max(range(len(segments)), key=lambda i: (body_scores[i], -i))
    if body_scores[best] <= asked.coverage(tokens, to_simplified(clause["title"])):
        return whole, None
    s, item = segments[best]
    within = [(a, b) for a, b in spans(text) if a >= s and b <= item.end + 1]
    if within and item.end - s > 300:
        s = within[-2][0] if len(within) > 1 else within[-1][0]
    return text[s:item.end].lstrip("。；，,;： ").strip(), item
