"""A unit's tasks: every clause of a plan (or of a table) that names the unit in a role.

"统计局被列为哪几仗的责任单位", "公安局牵头哪些任务" are read from every clause's parsed units,
not from the few clauses a search returns, so the list is complete.
"""
from __future__ import annotations

from rag.answer.base import Asked, Composed, Refusal
from rag.answer.quote import citation, is_table_row, item_name
from rag.clean import to_simplified
from rag.retrieve import Hit
from rag.units import find_responsibilities, normalize_unit

MAX_LISTED = 20
ROLE_FIELDS = {"牵头": ("lead_units",), "配合": ("cooperating_units",), "责任": ("responsible_units", "cooperating_units"),
               "负责": ("responsible_units", "cooperating_units")}
ALL_ROLES = ("lead_units", "cooperating_units", "responsible_units")


def asks_unit_tasks(asked: Asked) -> bool:
    """A listing question that names a unit of the corpus and does not ask which units."""
    query = asked.query
    return bool(asked.hits and not query.asks_for_units and (query.listing or "哪" in query.simplified) and query.named_units)


def compose_unit_tasks(asked: Asked) -> Composed | Refusal:
    """The clauses that name the unit in the asked role (any role when none is named), in the
    named plan, or in the table the best hit is a row of. A refusal when there is none."""
    query, top = asked.query, asked.hits[0].clause
    unit = query.named_units[0]
    role_name = query.unit_role or "牵头、配合或负责"
    fields = ROLE_FIELDS.get(query.unit_role, ALL_ROLES)
    section = asked.store.parent_section(top) if is_table_row(top) else None
    doc_id, annex = query.plan or (top["doc_id"], "")
    scope = (asked.store.items(section) if section else
             [c for c in asked.store.clauses if c["doc_id"] == doc_id and (not annex or c["path"].startswith(annex + " "))])
    found, seen = [], set()
    for clause in scope:
        if clause["text_key"] in seen:
            continue
        if any(unit == normalize_unit(u) for f in fields for u in clause[f]):
            seen.add(clause["text_key"])
            found.append(clause)
    if not found:
        title = top["doc_title"] if section else scope[0]["doc_title"]
        return Refusal(f"《{title}》中没有把{unit}列为{role_name}单位的条款。")
    where = f"{section['path']}「{to_simplified(section['title'])}」" if section else (annex or "")
    lines = [f"《{top['doc_title'] if section else found[0]['doc_title']}》{where}中，列{unit}为{role_name}单位的共 {len(found)} 项："]
    citations = []
    for n, clause in enumerate(found[:MAX_LISTED], 1):
        said = clause["text"] if is_table_row(clause) else next(
            (r.raw for r in find_responsibilities(clause["text"]) if any(unit == normalize_unit(u) for u in
             r.lead_units + r.cooperating_units + r.responsible_units)), clause["responsibility"] or clause["text"][:60])
        citations.append(citation(n, Hit(clause, 0.0), said if said in clause["text"] else clause["text"][:60]))
        roles = "、".join(label for label, f in (("牵头", "lead_units"), ("配合", "cooperating_units"), ("负责", "responsible_units"))
                         if any(unit == normalize_unit(u) for u in clause[f]))
        lines.append(f"{n}. {item_name(clause)}（{roles}）[{n}]")
    if len(found) > MAX_LISTED:
        lines.append(f"（另有 {len(found) - MAX_LISTED} 项未列出，可缩小到某一方案再问。）")
    return Composed("\n".join(lines), citations, "across")
