"""The router: which answerer answers a question, tried in a fixed order, with the reason recorded.

Like LlamaIndex's RouterQueryEngine (a choice plus the selector's reason) and Haystack's
ConditionalRouter (ordered conditions, first match wins), each route states the condition it
took; an answerer may decline (None) and the next route is tried. The order is the policy:
refuse what the corpus cannot cover, then comparisons, covers, questions across a section's
items or a unit's tasks, then refuse what the retrieved clauses do not answer, and only then
the structure, lead, number and general answers.
"""
from __future__ import annotations

from rag.answer.across import compose_across
from rag.answer.base import RELEVANCE_FLOOR, TOPIC_FLOOR, Asked, Outcome, Refusal, Search
from rag.answer.compare import compose_compare
from rag.answer.general import compose_general
from rag.answer.lead import compose_lead
from rag.answer.metadata import compose_metadata
from rag.answer.number import compose_number, compose_time
from rag.answer.refuse import unanswered
from rag.answer.scope import out_of_scope
from rag.answer.structure import compose_structure, counts_a_section, names_a_sections_items
from rag.answer.tasks import asks_unit_tasks, compose_unit_tasks
from rag.answer.types import Route
from rag.lexicon import Lexicon
from rag.query import Query
from rag.retrieve import Hit
from rag.store import Store

LISTED_KINDS = ("structure", "metadata")  # kinds that are never sent across a section or refused by coverage


class Router:
    """Routes one parsed question to one answerer, over a search and the corpus it searches."""

    def __init__(self, search: Search, lexicon: Lexicon, store: Store, relevance_floor: float = RELEVANCE_FLOOR,
                 topic_floor: float = TOPIC_FLOOR) -> None:
        self.search = search
        self.lexicon = lexicon
        self.store = store
        self.relevance_floor, self.topic_floor = relevance_floor, topic_floor

    def answer(self, query: Query, region: str | None = None, doc_id: str | None = None,
               k: int = 5) -> tuple[Route, Outcome, list[Hit]]:
        """The route taken, its outcome, and the clauses retrieved for the question."""
        scope_reason = out_of_scope(query, self.store)
        sides = [region] if region else list(query.regions)
        kind = query.asked
        plans = list(query.compared_plans) if len(sides) < 2 and not doc_id else []
        compare = (len(sides) >= 2 or len(plans) >= 2) and not doc_id and kind not in LISTED_KINDS
        hits = [] if compare else self.search(query.text, k=k, region=region, doc_id=doc_id, plan=query.searched_plan)
        asked = Asked(query, hits, self.store, self.lexicon, self.search, k, sides, self.relevance_floor, self.topic_floor)
        if scope_reason:
            return Route("out_of_scope", "问题本身超出语料范围"), Refusal(scope_reason), hits
        if compare:
            if len(plans) >= 2:
                why = f"问题并列了 {len(plans)} 个方案"
                return Route("compare", why), compose_compare(asked, sides, plans), hits
            return Route("compare", f"问题同时点名了{'、'.join(sides)}"), compose_compare(asked, sides), hits
        why = f"问题问的是 {kind}"
        asked_kind = kind
        if kind == "general" and not query.asks_time and counts_a_section(asked):  # 哪一年 asks a time, not a count
            kind, why = "structure", f"问题数的是某一部分的 {query.counted[0]} 项"
        elif kind in ("general", "number") and not query.asks_time and names_a_sections_items(asked):
            kind, why = "structure", "问题列举或清点某一部分各项共有的名称"
        if kind == "metadata" and query.listing:
            kind, why = "general", "问“哪些”文件印发：是跨条目的问题，不是问文号"
        if kind == "metadata" and (not query.plan or query.places):  # 零陵区的方案: only its row reports on it
            kind = query.asked_besides_metadata
            why = f"问的文件不是语料中的方案，按 {kind} 作答"
        if kind == "metadata" and hits:
            return Route("metadata", "问文号或印发日期，且点名了语料中的方案"), compose_metadata(asked), hits
        if kind == "structure":
            listed = compose_structure(asked)
            if listed is not None:
                return Route("structure", why), listed, hits
            # "县安委办牵头的是哪几项": what a clause (or a unit's clauses) say, not the plan's parts.
            kind, why = ("general" if asked_kind == "structure" else asked_kind), "问题数的是条款里写的内容，不是方案的组成部分"
        if kind not in LISTED_KINDS and hits:
            across = compose_across(asked)
            if across is not None:
                return Route("across", "问题是对同一部分各项的筛选、比较或状态"), across, hits
            if asks_unit_tasks(asked):
                return (Route("unit_tasks", f"问题列举{query.named_units[0]}的任务"), compose_unit_tasks(asked), hits)
        if kind not in LISTED_KINDS:
            reason = unanswered(asked)
            if reason:
                return Route("unanswered", "检索到的条款不能回答"), Refusal(reason), hits
        if kind == "lead" or query.unit_count_role is not None:
            counted = "，并数单位" if query.unit_count_role is not None else ""
            return Route("lead", f"问题问牵头、配合或负责单位{counted}"), compose_lead(asked), hits
        if (query.asks_time or query.asks_frequency) and kind in ("number", "general"):
            return Route("time", "问题问时间：期限、年份、阶段或频次"), compose_time(asked), hits
        if kind == "number":
            return Route("number", "问题问数字或目标"), compose_number(asked), hits
        return Route("general", why), compose_general(asked, kind=kind, stress_statements=True), hits

