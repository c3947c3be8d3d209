"""The parts of a plan or of one of its sections, counted and listed, each cited.

A section is cited first as a whole, so the count and the list can be checked against one
passage; then each part is cited as its own clause.
"""
from __future__ import annotations

import re

from rag.answer.base import Asked, Composed
from rag.answer.quote import citation, item_name, section_name
from rag.answer.types import Citation
from rag.clean import longest_common_substring, to_simplified
from rag.query import CJK, COUNT_ASKED
from rag.retrieve import Hit

TOP_LEVEL = re.compile(r"[一二三四五六七八九十]+、")
COLUMN = re.compile(r"【[^】]+】")
ITEMS_NAMED = 2 / 3  # the share of a section's items whose names hold the word the question lists by


def asked_section(asked: Asked, doc_id: str, annex: str = "") -> dict | None:
    """The section a structure question is about: one it names (深化专项整治, 【县市区动态】),
    one with as many items as it counts (哪六仗 → the six rows whose names say 仗), or one
    whose items' names say what the question asks for (哪几个方面打造一流环境 → 以改革创一流环境…)."""
    store, hits, query = asked.store, asked.hits, asked.query
    sections = [s for s in store.sections.values() if s["doc_id"] == doc_id
                and (not annex or s["path"] == annex or s["path"].startswith(annex + " "))]
    simplified = query.simplified
    ranks = {(h.clause["doc_id"], h.clause["path"]): r for r, h in enumerate(hits)}

    def nearness(section: dict) -> int:
        """How early the retriever found something inside the section (lower is nearer)."""
        inside = [r for (d, p), r in ranks.items() if d == doc_id and p.startswith(section["path"])]
        return min(inside, default=len(hits))

    # Named whole, or by most of its title ("安全生产治本攻坚三年行动" for 全面开展安全生产治本攻坚三年行动).
    named = [(shared, s) for s in sections if len(s["title"]) >= 2 and s["path"] != annex  # the plan itself is no part
             and (shared := longest_common_substring(simplified, to_simplified(s["title"]))) >= min(len(s["title"]), max(5, 0.5 * len(s["title"])))]
    if named:
        return min(named, key=lambda x: (-x[0], nearness(x[1])))[1]
    top = hits[0].clause if hits else None
    if top and top["doc_id"] == doc_id and (top["doc_id"], top["path"]) in store.sections \
            and longest_common_substring(simplified, to_simplified(top["title"])) >= 4:
        return store.sections[(top["doc_id"], top["path"])]  # "污染防治攻坚战部分": the heading found first
    if query.counted is None:
        scope_title = to_simplified(store.sections[(doc_id, annex)]["title"] if annex else store.doc_title(doc_id))
        tokens = [t for t in query.tokens if CJK.search(t) and t not in scope_title]
        named_by = [(sum(asked.coverage(tokens, to_simplified(store.by_path[(doc_id, p)]["title"]))
                         for p in section["children"]) / len(section["children"]), -nearness(section), section["path"])
                    for section in sections if tokens and len(section["children"]) >= 2]
        best = max(named_by, default=None)
        return store.sections[(doc_id, best[2])] if best and best[0] >= 0.4 else None
    number, noun = query.counted
    fits = []
    for section in sections:
        if len(section["children"]) != number:
            continue
        titles = [to_simplified(item["title"]) for item in store.items(section)]
        share = sum(noun in t for t in titles) / number if noun else 1.0
        if share >= 0.5:
            fits.append((-share, nearness(section), section["path"], section))
    return min(fits, key=lambda f: f[:3])[3] if fits else None


def names_a_sections_items(asked: Asked) -> bool:
    """"翻身仗有哪些专项整治", "一共有几个专项整治": the question lists, or counts, things by the
    word most items of a section found are named with (专项整治: 14 of the 15 items of 二、(二))."""
    query = asked.query
    if not (query.listing or COUNT_ASKED.search(query.simplified)) or query.named_units or not asked.hits:
        return False
    text = asked.store.gazetteer.without_places(query.simplified, " ")
    words = {run[i:j] for run in re.findall(r"[\u4e00-\u9fff]{3,}", text)
             for i in range(len(run)) for j in range(i + 3, len(run) + 1)}
    for hit in asked.hits[:3]:
        section = asked.store.parent_section(hit.clause)
        titles = [to_simplified(item["title"]) for item in asked.store.items(section)] if section else []
        if len(titles) >= 3 and any(sum(w in t for t in titles) >= ITEMS_NAMED * len(titles) for w in words):
            return True
    return False


def counts_a_section(asked: Asked) -> bool:
    """"哪六仗": a count of named items that one section of the plan has exactly."""
    query = asked.query
    if not (asked.hits and query.counted and query.counted[1]):
        return False
    doc_id, annex = query.plan or (asked.hits[0].clause["doc_id"], "")
    return asked_section(asked, doc_id, annex) is not None


def compose_structure(asked: Asked) -> Composed | None:
    """The parts of a document (or of the section the question names), each cited; None when
    the question counts something a clause states rather than a part of the plan."""
    store, query = asked.store, asked.query
    doc_id, annex = query.plan or (asked.hits[0].clause["doc_id"], "")
    clauses = [c for c in store.clauses if c["doc_id"] == doc_id]
    annex_list = next((c for c in clauses if c["path"] == "附件"), None)
    if query.names_annexes and annex_list and not annex:
        c = citation(1, Hit(annex_list, 0.0), annex_list["text"])
        return Composed(f"《{c.title}》的附件：[1]\n\n> " + c.quote.replace("\n", "\n> "), [c], "structure")
    section = asked_section(asked, doc_id, annex) or (store.sections[(doc_id, annex)] if annex else None)
    columns = list(dict.fromkeys(m.group(0) for c in clauses if (m := COLUMN.match(c["path"]))))
    citations: list[Citation] = []
    if section is not None:
        parts = store.items(section)
        whole = citation(1, Hit(section, 0.0), section["text"].split("\n", 1)[0])
        citations.append(whole)
        head = f"《{whole.title}》{section_name(section)}共 {len(parts)} 项：[1]"
    elif columns and query.asks_parts:
        parts = [store.sections.get((doc_id, x)) or store.by_path[(doc_id, x)] for x in columns]
        head = f"《{clauses[0]['doc_title']}》的栏目共 {len(parts)} 项："
    elif query.asks_parts:
        parts = [c for c in clauses if c["annex"] is None and TOP_LEVEL.fullmatch(c["path"])]
        head = f"《{clauses[0]['doc_title']}》共 {len(parts)} 项："
    else:
        return None  # "多少项年度工作要点" counts something a clause states, not a part of the plan
    lines = [head]
    for number, part in enumerate(parts, 1):
        n = len(citations) + 1
        said = part["title"] if part["title"] in part["text"] else part["text"][:40]
        citations.append(citation(n, Hit(part, 0.0), said))
        lines.append(f"{number}. {item_name(part)} [{n}]")
    return Composed("\n".join(lines), citations, "structure")
