"""Answerability: whether the retrieved clauses answer a question, and if not, why.

Two checks decide it: rag.answer.scope's `out_of_scope` judges the question alone; `unanswered`
here judges the retrieved clauses (they lack the year, the figure, the topic or the person asked
for). Each returns the reason shown to the user, or None.
"""
from __future__ import annotations

import re
from collections.abc import Callable

from rag.answer.base import Asked
from rag.answer.person import lead_unnamed, who_unnamed
from rag.answer.scope import is_instruction
from rag.answer.quote import sentences_where, spans, states_asked, states_measure, without_figures
from rag.answer.stating import Candidate, candidates, states_answer
from rag.clean import to_simplified
from rag.gazetteer import short_form
from rag.query import CJK, Query
from rag.retrieve import Hit
from rag.store import Store

NOT_FOUND = "语料中未找到"
READ = 3  # the clauses the refusal reads, and the ranks at which the two rankings agree
def unanswered(asked: Asked) -> str | None:
    """Why the retrieved clauses do not answer, or None when they do."""
    query, hits = asked.query, asked.hits
    if not hits:
        return "检索不到相关条款。"
    chinese = query.chinese_tokens
    # A year or a measured term the question asks about (2022年, PM2.5) must be in what answers it.
    where = standing(hits)
    for term in query.years + query.latin_terms:
        if not any(term.lower() in f"{w} {h.clause['text_simplified']}".lower() for w, h in zip(where, hits)):
            return f"检索到的条款没有涉及“{term}”。"
    # A reported place (双牌县) the question names must be where the answer stands, and a month
    # (2月份) in the sentence stating it: another county's row of the same newsletter, or
    # January's ranking, says nothing of them.
    anchored = about_places(query, hits, where)
    if query.places and not any(anchored):
        return f"检索到的条款没有涉及“{'、'.join(query.places)}”。"
    for month in query.months:
        if not any(names_month(f"{w} {h.clause['text_simplified']}", month) for w, h in zip(where, hits)):
            return f"检索到的条款没有涉及“{month}”。"
    # "分别是哪八个行动": a list of that many items, which some clause (or section) must enumerate.
    if query.items_asked >= 2 and not any(enumerates(h.clause, query.items_asked, asked.store) for h in hits[:READ]):
        return f"检索到的条款没有逐项列出所问的{query.items_asked}项。"
    # "要关闭非煤矿山3座以上，具体是哪几座": the clause that gives the count must also list the items.
    counted = given_count(query, hits[0].clause)
    if counted and len([p for p in re.split(r"[、；;]", counted[1]) if p.strip()]) < min(counted[0], 3) \
            and not section_lists(hits[0].clause, counted[0], asked.store):
        return f"方案只写明“{counted[1].strip()[:60]}”，没有逐项列出。"
    unit = None if query.asks_time or query.asks_frequency else query.figure_unit or query.measure
    found = figure_candidates(asked, where, anchored)
    # "冲破多少人次，旅游收入突破多少": some stating sentence gives the first figure's measure (人).
    measured = found is None or query.measure is None or any(
        states_measure(without_figures(c.sentence, given_figures(query)), query.measure) for c in found)
    if found is not None and not (measured and states_answer(found, asked.relevance_floor)):
        if query.asks_frequency:
            return "检索到的条款没有写出所问的频次。"
        if query.asks_year:
            return "检索到的条款没有写出所问的年份。"
        if query.asks_time:
            return "检索到的条款没有写出所问的时间。"
        if query.asks_ratio:
            return "检索到的条款没有写出所问的比例。"
        return f"检索到的条款没有写出以“{unit_name(unit)}”计的数字。" if unit else "检索到的条款没有写出所问的数字。"
    chinese = [t for t in chinese if t not in query.unit_words]
    named_place = any(name in query.simplified and name in hits[0].clause["title"] for name in asked.store.gazetteer.place_names)
    if not chinese and not named_place:  # "道县的方案到什么程度了" is about 道县's own report
        return "问题里没有能在方案中查找的内容。请用中文（或常见的英文术语）说明要查的事项。"
    # A figure or time question's stating sentence was judged with where it stands (the model is
    # fit on that decision alone); any other question's best clause must cover its topic, unless
    # the encoder and the lexical ranking each put it among the three clauses read here: a
    # paraphrase's words ("谁挑头", "遏住新冒出来的隐性负债") are not the clause's, but its meaning
    # and its rarest words are.
    if (found is None and not rankings_agree(hits[0])
            and max((asked.clause_coverage(chinese, h.clause) for h in hits[:READ]), default=0.0) < asked.topic_floor):
        return "检索到的条款都不包含问题所问的内容。"
    return who_unnamed(query, hits, asked.store.corpus_text) or lead_unnamed(asked)


def rankings_agree(hit: Hit) -> bool:
    """Whether the dense and the lexical ranking each rank this clause (the fused first) among the
    clauses read. Of the 15 tuning questions the topic floor refused (ten sets), the 4 ranked so
    by both were all answerable and are now answered; neither unanswerable one was (eval/REPORT.md)."""
    return hit.dense_rank is not None and hit.lexical_rank is not None and max(hit.dense_rank, hit.lexical_rank) < READ


def names_month(text: str, month: str) -> bool:
    """Whether `text` names the month ("2月", not the 2 of "12月")."""
    return bool(re.search(rf"(?<!\d){month}", text))


def standing(hits: list[Hit]) -> list[str]:
    """Where each of the top clauses stands (its document, headings and title): a sentence is read
    in its place."""
    return [to_simplified(" ".join([h.clause["doc_title"], *h.clause["heading_path"], h.clause["title"]])) for h in hits[:READ]]


def about_places(query: Query, hits: list[Hit], where: list[str]) -> list[bool]:
    """For each top clause, whether it is about every reported place the question names (双牌县, by
    its short form 双牌; 永州经开区 by its whole name, whose short form is its region's)."""
    regions = {short_form(r) for r in query.regions}
    marks = [p if short_form(p) in regions else short_form(p) for p in query.places]
    return [all(m in f"{w} {h.clause['text_simplified']}" for m in marks) for w, h in zip(where, hits)]


def figure_candidates(asked: Asked, where: list[str], anchored: list[bool]) -> list[Candidate] | None:
    """The sentences of the top clauses that state what a figure or time question asks, or None
    for a question that asks neither.

    The asked attribute must be stated in a sentence about the question: a year (哪一年), a time
    ("几个阶段": years and dates count) or else a figure (years and dates do not), in the unit asked
    (多少美元, 多少资金), in a clause about the reported place named and naming the month named. Any
    figure of a clause about the topic is not enough (沅江's 蓝天 clause gives 20% for machinery,
    not the 优良天数 asked): rag.answer.stating weighs each candidate. The words naming the unit
    (比例, 美元) or the plan (守底: every sentence of it stands under them) are no topic words.
    """
    query = asked.query
    asks = query.asks_time or query.asks_figure or query.figure_unit or query.asks_frequency
    if not asks or query.unit_count_role is not None:
        return None
    asked_in = states_asked(query)
    chinese = [t for t in query.chinese_tokens if t not in query.unit_words]
    unsaid = set(query.unit_words) | set(query.plan_words)
    said = [t for t in chinese if t not in unsaid]
    attribute = [t for t in query.attribute_tokens if CJK.search(t) and t not in unsaid]

    given = given_figures(query)

    def states_in(hit: Hit) -> Callable[[str], bool]:
        """The month asked is named in the sentence, and so is a year asked (2022年) unless it is
        the year the hit's document is about."""
        other = [y for y in query.years if y != asked.store.document_year.get(hit.clause["doc_id"])]
        return lambda sentence: (asked_in(without_figures(sentence, given)) and all(y in sentence for y in other)
                                 and all(names_month(to_simplified(sentence), m) for m in query.months))

    stating = [sentences_where(h.clause["text"], states_in(h)) if here else [] for h, here in zip(asked.hits[:READ], anchored)]
    # A question that gives a figure asks what follows it (…90%以上，那安全带佩戴率要求多少): the
    # given part's words are the sentence's it gives the figure of.
    word_lists = (attribute,) if given and attribute and list(query.attribute_tokens) != list(query.tokens) else (said, attribute)
    return candidates(stating, where, word_lists, asked.coverage)


def given_figures(query: Query) -> tuple[str, ...]:
    """The figures a figure question gives ("发案率同比下降50%，那破案率要达到多少"), which are not
    what it asks; a time question's (2024年底, 6月) are what it asks about."""
    return () if query.asks_time else query.stated_figures


def unit_name(pattern: str) -> str:
    """A unit pattern of the Query as a refusal names it: [人名] → 人, [台个] → 台, 个?(?:天|工作日) → 天."""
    return pattern[1] if pattern.startswith("[") else re.search(r"[\u4e00-\u9fff]+", pattern.replace("个?", ""))[0]


def given_count(query: Query, clause: dict) -> tuple[int, str] | None:
    """A count the question gives and asks the items of ("3座以上，具体是哪几座", "20家重点企业分别
    是哪些"), with the clause's sentence that states it, or None."""
    if not (query.listing or "分别" in query.simplified) or query.asks_time or query.unit_role:
        return None  # 牵头单位是哪几个: units are listed, not the items counted
    for figure in query.stated_figures:
        if figure.isdigit() and int(figure) >= 2:
            said = sentences_where(clause["text_simplified"], lambda s: re.search(rf"(?<![\d.]){figure}(?![\d.])", s))
            if said:
                return int(figure), said[0]
    return None


def section_lists(clause: dict, count: int, store: Store) -> bool:
    """Whether a clause has at least `count` numbered parts under it."""
    section = store.sections.get((clause["doc_id"], clause["path"]))
    return bool(section) and len(section["children"]) >= count


def enumerates(clause: dict, count: int, store: Store) -> bool:
    """Whether a clause lists at least `count` items: as numbered parts under it, or in one
    sentence as a series (、 or ；) or as numbered items (1. 2. …, （一）（二）…)."""
    if section_lists(clause, count, store):
        return True
    text = clause["text_simplified"]
    numbered = len(re.findall(r"(?:^|\n|[。；;])\s*(?:\d{1,2}[.、．]|[（(][一二三四五六七八九十\d]{1,2}[）)])", text))
    return numbered >= count or any(len(re.split(r"[、；;]", text[a:b])) >= count for a, b in spans(text))



def refusal_text(reason: str, hits: list[Hit], query: Query) -> str:
    """The refusal as shown: what is missing and why, then the nearest clauses (not for instructions)."""
    nearest = "".join(f"\n- 《{h.clause['doc_title']}》{h.clause['path']}「{to_simplified(h.clause['title'])}」（相关，但不能回答该问题）"
                      for h in hits[:READ]) if hits and not is_instruction(query) else ""
    english = "The plans in the corpus do not answer this question. " if query.language == "en" else ""
    return f"{NOT_FOUND}能回答该问题的内容。{english}{reason}" + (f"\n\n最接近的条款：{nearest}" if nearest else "")
