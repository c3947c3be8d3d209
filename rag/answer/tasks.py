"""A unit's tasks: every clause of a plan (or of a table) that names the unit in a role.

"统计局被列为哪几仗的责任单位", "公安局牵头哪些任务" are read from every clause's parsed units,
not from the few clauses a search returns, so the list is complete; a question that names no
plan gets every plan of its region, grouped by plan.
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


def scope_clauses(asked: Asked) -> tuple[list[dict], dict | None]:
    """Where to look for the unit: the table the best hit is a row of, else the named plan (or
    annex), else every plan of the named regions (of the best hit's region when none is named)."""
    query, top = asked.query, asked.hits[0].clause
    if is_table_row(top):
        section = asked.store.parent_section(top)
        return asked.store.items(section), section
    if query.plan:
        doc_id, annex = query.plan
        return [c for c in asked.store.clauses if c["doc_id"] == doc_id and (not annex or c["path"].startswith(annex + " "))], None
    regions = set(query.regions) or {top["region"]}
    return [c for c in asked.store.clauses if c["region"] in regions], None


def roles_of(unit: str, clause: dict) -> str:
    """"牵头" for a sole lead, "与住建局共同牵头" for a joint one, plus 配合 / 负责."""
    roles = []
    for label, key in (("牵头", "lead_units"), ("配合", "cooperating_units"), ("负责", "responsible_units")):
        if not any(unit == normalize_unit(u) for u in clause[key]):
            continue
        others = [u for u in clause[key] if normalize_unit(u) != unit] if key == "lead_units" else []
        roles.append(f"与{'、'.join(others)}共同牵头" if others else label)
    return "、".join(roles)


def gist(clause: dict, limit: int = 60) -> str:
    """What the task is, in the clause's own first words (and script) after its title, without
    the units' parenthetical."""
    text, title = clause["text"], clause["title"]
    body = text[len(title):] if text.startswith(title) else text
    body = body.lstrip("。；;：:，, \n")
    for r in find_responsibilities(body):
        body = body.replace(r.raw, "")
    body = " ".join(body.split())
    return body if len(body) <= limit else body[:limit].rstrip("，,；;、") + "…"


def compose_unit_tasks(asked: Asked) -> Composed | Refusal:
    """The clauses that name the unit in the asked role (any role when none is named), grouped
    by plan, each with its role (a joint lead says with whom) and what the task is. A refusal
    when there is none."""
    query, top = asked.query, asked.hits[0].clause
    unit = query.named_units[0]
    role_name = query.unit_role or "牵头、配合或负责"
    fields = ROLE_FIELDS.get(query.unit_role, ALL_ROLES)
    scope, section = scope_clauses(asked)
    found, seen = [], set()
    for clause in scope:
        if clause["text_key"] in seen:
            continue
        if any(unit == normalize_unit(u) for f in fields for u in clause[f]):
            seen.add(clause["text_key"])
            found.append(clause)
    if not found:
        titles = "》《".join(dict.fromkeys(c["doc_title"] for c in scope)) if scope else top["doc_title"]
        return Refusal(f"《{titles}》中没有把{unit}列为{role_name}单位的条款。")
    where = f"{section['path']}「{to_simplified(section['title'])}」" if section else (query.plan[1] if query.plan else "")
    plans = list(dict.fromkeys(c["doc_title"] for c in found))
    lines = [f"《{'》《'.join(plans)}》{where}中，列{unit}为{role_name}单位的共 {len(found)} 项："]
    citations = []
    for n, clause in enumerate(found[:MAX_LISTED], 1):
        if len(plans) > 1 and (n == 1 or clause["doc_title"] != found[n - 2]["doc_title"]):
            lines.append(f"《{clause['doc_title']}》：")
        said = clause["text"] if is_table_row(clause) else next(
            (r.raw for r in find_responsibilities(clause["text"]) if any(unit == normalize_unit(u) for u in
             r.lead_units + r.cooperating_units + r.responsible_units)), clause["responsibility"] or clause["text"][:60])
        citations.append(citation(n, Hit(clause, 0.0), said if said in clause["text"] else clause["text"][:60]))
        what = "" if is_table_row(clause) else gist(clause)
        lines.append(f"{n}. {item_name(clause)}（{roles_of(unit, clause)}）{'：' + what if what else ''}[{n}]")
    if len(found) > MAX_LISTED:
        lines.append(f"（另有 {len(found) - MAX_LISTED} 项未列出，可缩小到某一方案再问。）")
    return Composed("\n".join(lines), citations, "across")
