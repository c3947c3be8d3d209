"""A unit's tasks: every clause of a plan (or of a table) that names the unit in a role.

"统计局被列为哪几仗的责任单位", "公安局牵头哪些任务" are read from every clause's parsed units,
not from the few clauses a search returns, so the list is complete; a question that names no
plan gets every plan of its region, grouped by plan.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

from rag.answer.base import Asked, Composed, Refusal
from rag.answer.quote import citation, is_table_row, item_name, section_name
from rag.clean import to_simplified
from rag.retrieve import Hit
from rag.units import find_responsibilities, normalize_unit

MAX_LISTED = 20
ROLE_FIELDS = {"牵头": ("lead_units",), "配合": ("cooperating_units",), "责任": ("responsible_units", "cooperating_units"),
               "负责": ("responsible_units", "cooperating_units")}
ALL_ROLES = ("lead_units", "cooperating_units", "responsible_units")


def asks_unit_tasks(asked: Asked) -> bool:
    """A listing question that names a unit of the corpus and does not ask which units, nor when
    ("市安委会第一次全会是在哪天" names a unit, and its 哪 asks a day)."""
    query = asked.query
    return bool(asked.hits and not query.asks_for_units and not query.asks_time
                and (query.listing or "哪" in query.simplified or query.asks_tasks) and query.named_units)


def scope_clauses(asked: Asked) -> tuple[list[dict], dict | None]:
    """Where to look for the unit: the table the best hit is a row of, else the named plan (or
    annex), else every plan of the named regions (of the best hit's region when none is named)."""
    query, top = asked.query, asked.hits[0].clause
    in_plan = None
    if query.plan:
        doc_id, annex = query.plan
        in_plan = [c for c in asked.store.clauses if c["doc_id"] == doc_id and (not annex or c["path"].startswith(annex + " "))]
    # A table answers when it is where the question points: a row of another annex (附件1's row
    # for 优化发展环境持久仗) is a summary of the plan the question names (附件4).
    if is_table_row(top) and (in_plan is None or any(c is top for c in in_plan)):
        section = asked.store.parent_section(top)
        return asked.store.items(section), section
    if in_plan is not None:
        return in_plan, None
    regions = set(query.regions) or {top["region"]}
    return [c for c in asked.store.clauses if c["region"] in regions], None


@dataclass
class Task:
    """One task a unit has in a clause: the words it is assigned, quoted with the assignment."""

    clause: dict
    quote: str  # the task's words and the parenthetical that assigns them: a substring of the clause
    what: str  # the task as listed, shortened, without the parenthetical
    role: str  # 牵头, 与X共同牵头, 配合, 负责


def shorten(words: str, limit: int = 160) -> str:
    """A task as listed: whole up to 160 characters. An official asks what the unit must do, and a
    task's second half is often its measurable part ("执行不能"企业转入破产程序, 五职矿长); at 80
    characters the list named the tasks but cut what they require."""
    words = " ".join(words.split())
    return words if len(words) <= limit else words[:limit].rstrip("，,；;、") + "…"


def names(unit: str, units: Mapping[str, list[str]], fields: tuple[str, ...]) -> bool:
    """Whether a clause or a parenthetical (its fields as a mapping) names the unit in those roles."""
    return any(unit == normalize_unit(u) for f in fields for u in units[f])


def role_in(unit: str, units: Mapping[str, list[str]]) -> str:
    """"牵头" for a sole lead, "与住建局共同牵头" for a joint one, plus 配合 / 负责."""
    roles = []
    for label, key in (("牵头", "lead_units"), ("配合", "cooperating_units"), ("负责", "responsible_units")):
        if names(unit, units, (key,)):
            others = [u for u in units[key] if normalize_unit(u) != unit] if key == "lead_units" else []
            roles.append(f"与{'、'.join(others)}共同牵头" if others else label)
    return "、".join(roles)


def tasks_in(clause: dict, unit: str, fields: tuple[str, ...]) -> list[Task]:
    """The unit's tasks in one clause. A clause may assign each sentence its own units ("…研讨会，
    筹建金融服务团。（工商联牵头）"): every parenthetical that names the unit in the asked role
    assigns the words since the previous parenthetical, with that parenthetical's role. A clause
    whose units are not written in its text (a table row, units of the heading) is one task."""
    text, title = clause["text"], clause["title"]
    tasks, previous = [], 0
    for named in find_responsibilities(text):
        if names(unit, vars(named), fields):
            start = len(title) if previous == 0 and text.startswith(title) else previous
            words = text[start:named.start].lstrip("。；;：:，, \n")
            if words.strip():
                tasks.append(Task(clause, text[named.start - len(words):named.end], shorten(words), role_in(unit, vars(named))))
        previous = named.end
    if tasks or not names(unit, clause, fields):
        return tasks
    if is_table_row(clause):
        return [Task(clause, clause["text"], "", role_in(unit, clause))]
    body = text[len(title):] if text.startswith(title) else text
    quote = clause["responsibility"] if clause["responsibility"] and clause["responsibility"] in text else text[:60]
    return [Task(clause, quote, shorten(body.lstrip("。；;：:，, \n"), 60), role_in(unit, clause))]


def written_name(unit: str, found: list[Task]) -> str:
    """The unit as its plans write it (市公安局, 益阳市生态环境局沅江分局), where the question may
    have named it short (公安局): the form its clauses use most."""
    forms = Counter(to_simplified(u) for t in found for f in ALL_ROLES for u in t.clause[f] if normalize_unit(u) == unit)
    return forms.most_common(1)[0][0] if forms else unit


def compose_unit_tasks(asked: Asked) -> Composed | Refusal:
    """The unit's tasks in the asked role (any role when none is named), grouped by plan and by
    the heading they stand under, each with its role (a joint lead says with whom) and what it
    is. A refusal when there is none."""
    query, top = asked.query, asked.hits[0].clause
    unit = query.named_units[0]
    # "负责些什么" asks for everything the unit answers for; "列为负责单位" for that one role;
    # "牵头哪项，又要配合哪些" for both roles it names.
    roles = () if query.unit_roles == ("负责",) and "负责单位" not in query.simplified else query.unit_roles
    role_name = "、".join(roles) or "牵头、配合或负责"
    fields = tuple(dict.fromkeys(f for r in roles for f in ROLE_FIELDS[r])) or ALL_ROLES
    scope, section = scope_clauses(asked)
    found, seen = [], set()
    for clause in scope:
        if clause["text_key"] not in seen:
            seen.add(clause["text_key"])
            found += tasks_in(clause, unit, fields)
    if not found:
        titles = "》《".join(dict.fromkeys(c["doc_title"] for c in scope)) if scope else top["doc_title"]
        return Refusal(f"《{titles}》中没有把{unit}列为{role_name}单位的条款。")
    where = f"{section['path']}「{to_simplified(section['title'])}」" if section else (query.plan[1] if query.plan else "")
    plans = list(dict.fromkeys(t.clause["doc_title"] for t in found))
    lines = [f"《{'》《'.join(plans)}》{where}中，列{written_name(unit, found)}为{role_name}单位的共 {len(found)} 项："]
    citations, heading = [], None
    for n, task in enumerate(found[:MAX_LISTED], 1):
        clause = task.clause
        if len(plans) > 1 and (n == 1 or clause["doc_title"] != found[n - 2].clause["doc_title"]):
            lines.append(f"《{clause['doc_title']}》：")
        above = None if section else asked.store.parent_section(clause)
        if above and above is not heading and above["title"]:
            lines.append(f"{section_name(above)}：")
        heading = above
        citations.append(citation(n, Hit(clause, 0.0), task.quote))
        lines.append(f"{n}. {item_name(clause)}（{task.role}）{'：' + task.what if task.what else ''}[{n}]")
    if len(found) > MAX_LISTED:
        lines.append(f"（另有 {len(found) - MAX_LISTED} 项未列出，可缩小到某一方案再问。）")
    return Composed("\n".join(lines), citations, "across")
