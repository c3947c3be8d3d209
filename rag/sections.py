"""Sections: a heading together with everything numbered under it, as one citable record.

A clause is the right unit for "who leads 燃气整治", but not for "which counties reported" or
"how many items does 深化专项整治 list": those are answered by a section as a whole, the way
a reader cites 二、(二) for all of 1.–15. Sections are derived from the clause records' heading
paths (the parser's tree), so they need no separate index. Columns and tables that have no
heading clause of their own (【县市区动态】, 附件1's table) still form a section, named by the
path prefix their rows share and titled by their heading.
"""
from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

NUMBERED = re.compile(r"^(?:\((?P<paren>[^)]+)\)|(?P<arabic>\d+)|(?P<chinese>[一二三四五六七八九十]+、))$")


def label(child_path: str, parent_path: str) -> str:
    """The number a child is written with under its parent: 二、 （二） 13. （3）; none for named rows."""
    match = NUMBERED.match(child_path[len(parent_path):].strip())
    if match is None:
        return ""
    if match["paren"]:
        return f"（{match['paren']}）"
    return f"{match['arabic']}." if match["arabic"] else match["chinese"]


def line(clause: dict, parent_path: str, field: str = "text") -> str:
    """One clause as it reads inside its section: its number, or for a named row (宁远县, a table row) its name."""
    number = label(clause["path"], parent_path)
    text = clause[field]
    name = "" if number or text.startswith(clause["title"]) else clause["title"] + "　"
    return number + name + text


def shared_prefix(paths: list[str]) -> str:
    """"【县市区动态】冷水滩区", "【县市区动态】零陵区" → "【县市区动态】"; "附件1 经济增长主动仗" → "附件1"."""
    prefix = paths[0]
    for path in paths[1:]:
        while not path.startswith(prefix):
            prefix = prefix[:-1]
    cut = max(prefix.rfind("】") + 1, prefix.rfind(" "))
    return prefix[:cut].strip() if cut > 0 else prefix.strip()


def build_sections(clauses: Iterable[dict]) -> list[dict]:
    """Every heading with clauses under it, as a record shaped like a clause record.

    The record's `text` is the heading followed by each descendant in reading order, written
    with its number, so a quote from any item under the heading occurs in it; `children`
    lists the direct children's paths in order.
    """
    clauses = list(clauses)
    latest: dict[tuple, int] = {}  # (doc, annex, heading path + title) -> the latest clause with that heading
    parent_of: dict[int, tuple] = {}
    for i, clause in enumerate(clauses):
        where = (clause["doc_id"], clause["annex"])
        if clause["heading_path"]:
            under = (*where, tuple(clause["heading_path"]))
            parent_of[i] = ("clause", latest[under]) if under in latest else ("heading", *under)
        latest[(*where, (*clause["heading_path"], clause["title"]))] = i
    children: dict[tuple, list[int]] = {}
    for i, owner in parent_of.items():
        children.setdefault(owner, []).append(i)
    paths: dict[tuple, str] = {}
    for owner, members in children.items():
        paths[owner] = clauses[owner[1]]["path"] if owner[0] == "clause" else shared_prefix([clauses[m]["path"] for m in members])

    def descendants(owner: tuple) -> list[int]:
        found = []
        for m in children[owner]:
            found += [m, *descendants(("clause", m))] if ("clause", m) in children else [m]
        return found

    sections = []
    for owner, members in children.items():
        path = paths[owner]
        if owner[0] == "clause":
            record = dict(clauses[owner[1]])
            head = [record["text"], record["text_simplified"]]
        else:
            first = clauses[members[0]]
            title = first["heading_path"][-1]
            record = dict(first, id=f"{first['doc_id']}#{path}", path=path, title=title,
                          heading_path=list(first["heading_path"][:-1]), lead_units=[], cooperating_units=[],
                          responsible_units=[], responsibility="")
            head = [path if path.startswith("【") else title] * 2
        items = descendants(owner)
        for n, field in enumerate(("text", "text_simplified")):
            record[field] = "\n".join([head[n], *(line(clauses[d], paths[parent_of[d]], field) for d in items)])
        record["text_key"] = "§" + hashlib.sha1(record["text_simplified"].encode()).hexdigest()[:16]
        record["children"] = [clauses[m]["path"] for m in members]
        sections.append(record)
    return sections
