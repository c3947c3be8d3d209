"""Questions about all items of one section at once, answered by reading every item.

"哪些县市区的专班办公室是8个人", "专班人数最少的是哪个县" and "哪些县市区专班还没组建好"
cannot be answered from the nearest clause: the answer is a filter over, or an extreme of, what
each of the section's items states. Every item that qualifies is cited with the sentence that
states it; items that do not state it are named as silent.
"""
from __future__ import annotations

import re
from collections.abc import Callable

from rag.answer.base import Asked, Composed
from rag.answer.quote import citation, item_name, section_name, spans
from rag.clean import to_simplified
from rag.query import UNIT_WORDS
from rag.retrieve import Hit


def compose_across(asked: Asked) -> Composed | None:
    """The section's items that meet the question's condition, or None when the question is
    not one across the items of the best hit's section."""
    query = asked.query
    tokens = query.chinese_tokens  # an English question's Chinese terms
    wanted = query.number_condition
    unit = wanted[1] if wanted else next((u for u in UNIT_WORDS if u in query.simplified), None) if query.superlative else None
    verb = query.status_verb
    section = asked.store.parent_section(asked.hits[0].clause)
    if section is None or len(section["children"]) < 3:
        return None
    rows = asked.store.items(section)
    if any(to_simplified(row["title"]) in query.simplified for row in rows):
        return None  # 宁远县制定了哪些文件: about one item, not across them
    # "哪几个县的方案已提交县发改部门走发文程序": the items whose report says what the question says.
    reported = query.listing and all(to_simplified(row["title"]) in asked.store.place_rows for row in rows)
    if not (wanted or unit or verb or reported):
        return None
    if not (unit or verb):
        return items_saying(asked, section, rows, tokens)
    if unit:
        said = rf"(?<![\d.])(\d+(?:\.\d+)?)\s*(?:个|名)?{re.escape(unit)}"
        value = lambda found: float(found[1])  # noqa: E731
    else:
        said = rf"(?:已经?|正在|尚未|还未|未|待)?[^，,。；]{{0,6}}{verb}(?:完成|好)?"
        value = lambda found: not re.search(rf"已经?[^，,。；]{{0,6}}{verb}|{verb}(?:完成|好)", found[0])  # noqa: E731 - pending
    stated = items_stating(asked, section, said, value, tokens)
    if len(stated) < (3 if unit else 1):
        return None
    name = section_name(section)
    if verb:
        pending = query.not_yet
        chosen = [x for x in stated if x[0] == pending]
        head = f"写到“{verb}”的 {len(stated)} 项中，{'尚未完成' if pending else '已完成'}的有 {len(chosen)} 项："
    elif wanted:
        chosen = [x for x in stated if x[0] == wanted[0]]
        head = f"共 {len(chosen)} 个符合（{query.condition_number}{unit}）："
    else:
        best = (max if query.superlative in ("多", "高", "大") else min)(x[0] for x in stated)
        chosen = [x for x in stated if x[0] == best]
        head = f"在写明数字的 {len(stated)} 项中，最{query.superlative}的是："
    lines = [f"根据《{section['doc_title']}》{name}，{head}"]
    if not chosen:
        lines = [f"《{section['doc_title']}》{name}中没有符合的项。写明情况的各项是："]
    citations = []
    for n, (_, row, sentence) in enumerate(chosen or stated, 1):
        citations.append(citation(n, Hit(row, 0.0), sentence))
        lines.append(f"{n}. {item_name(row)}：{sentence} [{n}]")
    stated_paths = {row["path"] for _, row, _ in stated}
    silent = [to_simplified(row["title"]) for row in rows if row["path"] not in stated_paths]
    if silent:
        lines.append(f"（{'、'.join(silent)}没有写明这一点。）")
    return Composed("\n".join(lines), citations, "across")


def items_saying(asked: Asked, section: dict, rows: list[dict], tokens: list[str]) -> Composed | None:
    """The items whose own sentence says what the question says (apart from the section's words)."""
    condition = [t for t in tokens if t not in to_simplified(section["title"] + rows[0]["doc_title"])]
    stated = [(row, sentence) for row in rows
              if (sentence := max((row["text"][a:b] for a, b in spans(row["text"])),
                                  key=lambda x: asked.coverage(condition, to_simplified(x))))
              and condition and asked.coverage(condition, to_simplified(sentence)) >= 0.8]
    if not stated or len(stated) == len(rows):
        return None
    name = section["path"] if section["path"].startswith("【") else section["title"]
    lines = [f"根据《{section['doc_title']}》{name}，符合的共 {len(stated)} 项："]
    citations = [citation(n, Hit(row, 0.0), sentence.strip()) for n, (row, sentence) in enumerate(stated, 1)]
    lines += [f"{c.n}. {item_name(row)}：{c.quote} [{c.n}]" for c, (row, _) in zip(citations, stated)]
    return Composed("\n".join(lines), citations, "across")


def items_stating(asked: Asked, section: dict, said: str, value: Callable[[re.Match], object],
                  tokens: list[str]) -> list[tuple[object, dict, str]]:
    """(value, item, sentence) for each item of `section` with a sentence about the question that matches `said`."""
    stated = []
    for row in asked.store.items(section):
        for start, end in spans(row["text"]):
            sentence = row["text"][start:end]
            found = re.search(said, to_simplified(sentence))
            where = to_simplified(" ".join([sentence, row["title"], section["title"], row["doc_title"]]))
            if found and asked.coverage(tokens, where) >= 0.5:
                stated.append((value(found), row, sentence.strip()))
                break
    return stated
