"""Two regions or two plans side by side: one retrieval per side, a table row with a cited cell each.

Sides are regions (平江 vs 沅江) or, within one region, plans: documents (六仗总体方案 vs
翻身仗方案) or annexes that are plans of their own (经济增长主动仗方案 vs 持久仗方案).
"""
from __future__ import annotations

import re

from rag.answer.base import Asked, Composed
from rag.answer.quote import citation, fragment, has_figure, quote
from rag.answer.types import Citation
from rag.clean import CJK_RUN, longest_common_substring, to_simplified
from rag.query import CJK, TITLE_MARKS, Plan
from rag.retrieve import Hit

DOCUMENT_NAME = re.compile(r"[\w“”\"]*?(?:方案|专报|分解表)的?")
ASPECT_NOISE = re.compile(r"的|各是|各为|分别|分別|是多少|多少|有何不同|有什么不同|有何区别|有什么区别|区别|區別|对比|對比|比较|比較|"
                          r"都|由谁|谁|誰|担任|擔任|设在|設在|哪个部门|哪個部門|哪里|哪裡|[？?。，,、\s]")


def compose_compare(asked: Asked, sides: list[str], plans: list[Plan] | None = None) -> Composed:
    """A table with a row for the aspect and a citation in every cell; a side that says nothing
    on the topic gets 未规定."""
    query, store, k = asked.query, asked.store, asked.k
    tokens = list(query.tokens)
    topic = store.gazetteer.without_places(query.simplified)
    chinese = query.chinese_tokens
    citations: list[Citation] = []
    cells, per_side = [], []
    if plans:
        titles = {(d, a): t for d, a, t, _ in store.plans}
        sides = [f"《{titles[p]}》" for p in plans]
        filters = [{"doc_id": d} for d, _ in plans]
        # What is compared, without the plans' names ("六仗总体方案的", "翻身仗方案的"); a table
        # (责任分解表) keeps them, as its rows are named by the other plans (重点民生保障仗).
        whole = (topic, chinese)
        topic = DOCUMENT_NAME.sub("", topic)
        named = TITLE_MARKS.sub("", to_simplified("".join(titles[p] for p in plans)))
        chinese = [t for t in chinese if t not in named]
        per_plan = [whole if titles[p].endswith("表") else (topic, chinese) for p in plans]
    else:
        # Compare like with like: 平江's 实施方案 with 沅江's 实施方案 when both regions have one.
        kinds_by_side = [{d["kind"] for d in store.documents.values() if d["region"] == side} for side in sides]
        common = sorted(set.intersection(*kinds_by_side)) if kinds_by_side else []
        filters = [{"region": side, "kind": common or None} for side in sides]
    chosen: list[tuple[Hit | None, float]] = []
    for number, (side, where) in enumerate(zip(sides, filters)):
        if plans:
            topic, chinese = per_plan[number]
        hits = asked.search(topic, k=k * 6 if plans else k, **where)
        if plans:
            hits = [h for h in hits if in_plan(asked, h.clause, plans[number], plans)][:k]
        per_side.append(hits)
        cover = {id(h): asked.clause_coverage(chinese, h.clause) if chinese else 1.0 for h in hits}
        # A side may word the topic differently (平江 攻坚战, 沅江 保卫战): its best clause still
        # stands if it shares a good part of the question, rather than a false "未规定".
        relevant = [h for h in hits if cover[id(h)] >= 0.5] or [h for h in hits[:1] if cover[id(h)] >= 0.3]
        in_part = [h for h in relevant if any(w in to_simplified(" ".join(h.clause["heading_path"] + [h.clause["title"]]))
                                              for w in query.parts_asked)]
        best = next(iter(in_part or relevant), None)
        chosen.append((best, cover[id(best)] if best else 0.0))
    if not plans:
        chosen = aligned(asked, chosen, filters, chinese)
    chosen = [(substance(asked, best, chinese), cover) for best, cover in chosen]
    for best, _ in chosen:
        if best is None:
            cells.append("未规定")
            continue
        said = fragment(quote(best.clause["text"], tokens, asked.lexicon.idf, need=has_figure if query.compare_figure else None),
                        tokens)
        c = citation(len(citations) + 1, best, said)
        citations.append(c)
        cells.append(f"《{c.title}》{c.path}：{said}{c.units_note()} [{c.n}]")
    # An English question quoting a Chinese term ("the '利剑' action") is labelled by its terms:
    # stripping its spaces gave "Whatdoesthecontinuing'利剑".
    aspect = (ASPECT_NOISE.sub("", topic).lstrip("和与及")[:24] if CJK.search(topic) and query.language == "zh"
              else "、".join([*dict.fromkeys(CJK_RUN.findall(topic) + asked.lexicon.chinese_terms(query.text))][:4])
              ) or "相关规定"
    table = ["| 方面 | " + " | ".join(sides) + " |", "|---" * (len(sides) + 1) + "|",
             f"| {aspect} | " + " | ".join(cell.replace("|", "｜").replace("\n", " ") for cell in cells) + " |"]
    sources = [f"[{c.n}] {c.label()}" for c in citations]
    ranked = [h for group in zip(*per_side) for h in group] + [h for group in per_side for h in group[min(map(len, per_side)):]]
    return Composed("\n".join(table) + "\n\n" + "\n".join(sources), citations, "compare", ranked)


def in_plan(asked: Asked, clause: dict, plan: Plan, compared: list[Plan]) -> bool:
    """Whether a clause speaks for `plan` when set beside the other `compared` plans: an annex plan
    is its annex; a document is its own text, not a copy of another compared plan (003 附件6 =
    002) nor an annex compared on its own."""
    doc_id, annex = plan
    if clause["doc_id"] != doc_id:
        return False
    if annex:
        return clause["annex"] is not None and (clause["path"] == annex or clause["path"].startswith(annex + " "))
    if clause["annex"] is None:
        return True
    if any(d == doc_id and a and clause["path"].startswith(a + " ") for d, a in compared):
        return False
    others = {d for d, _ in compared} - {doc_id}
    return not any(asked.store.clauses[j]["doc_id"] in others for j in asked.store.twins[clause["text_key"]])


def substance(asked: Asked, hit: Hit | None, chinese: list[str]) -> Hit | None:
    """A bare heading ("防范化解重大社会风险。") says nothing a cell can show: its item that
    covers the question best stands in for it."""
    section = asked.store.sections.get((hit.clause["doc_id"], hit.clause["path"])) if hit else None
    if section is None or len(hit.clause["text"]) > 40:
        return hit
    items = asked.store.items(section)
    return Hit(max(items, key=lambda c: asked.clause_coverage(chinese, c)), hit.score, also=hit.also)


def aligned(asked: Asked, chosen: list[tuple[Hit | None, float]], filters: list[dict],
            chinese: list[str]) -> list[tuple[Hit | None, float]]:
    """Parallel plans (平江 000 and 沅江 001 share their numbering) compare clause with clause:
    a side whose choice covers the question less takes the clause at the best side's path,
    when that clause is about the question too (蓝天保卫战 二、(四)1 on both sides)."""
    anchor, anchor_cover = max(chosen, key=lambda x: x[1])
    if anchor is None:
        return chosen
    result = []
    for (best, cover), where in zip(chosen, filters):
        twin = next((c for c in asked.store.clauses if c["path"] == anchor.clause["path"] and c["region"] == where["region"]
                     and (not where["kind"] or c["kind"] in where["kind"])), None)
        twin_cover = asked.clause_coverage(chinese, twin) if twin and chinese else 0.0
        same_heading = twin is not None and longest_common_substring(to_simplified(twin["title"]),
                                                                     to_simplified(anchor.clause["title"])) >= 3
        if best is not anchor and same_heading and cover < anchor_cover and twin_cover >= 0.2 and twin_cover >= cover - 0.1:
            best, cover = Hit(twin, 0.0), twin_cover
        result.append((best, cover))
    return result
