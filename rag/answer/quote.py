"""Exact spans of clauses: sentences, the run that covers a question, a table cell's fragment.

An answer never writes a fact of its own; it quotes. These functions decide which characters
of a clause are quoted, so every quote is a substring of the clause it cites.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from functools import partial

from rag.answer.types import Citation
from rag.clean import to_simplified
from rag.query import Query
from rag.retrieve import Hit

SENTENCE_END = re.compile(r"[。；;！？!?]|\n")
YEAR = re.compile(r"(?<!\d)(19\d\d|20\d\d)(?!\d)")
DATE = re.compile(r"\d{1,2}月\d{1,2}日|\d{1,2}月(?:份|底|初|中旬|上旬|下旬)?|\d{1,2}日")
TIME_PHRASE = re.compile(r"年底|年内|年前|月底|月前|季度|上半年|下半年|前完成|之前|以前|期间|期內|期内|阶段|階段|长期坚持|持续推进|常态化")
# A count in Chinese numerals (三个, 十一家); a lone 一 before a classifier is the article "a"
# (一批科普基地, 一条例), not a count.
CHINESE_NUMBER = r"(?:[一二三四五六七八九十两兩百千万萬]{2,}|[二三四五六七八九十两兩百千万萬])"
CHINESE_FIGURE = re.compile(CHINESE_NUMBER + r"(?:届|屆|位|个|個|项|項|名|家|条|條|类|類|次|批|支|座|所|户|戶|成|倍)")


def spans(text: str) -> list[tuple[int, int]]:
    """Sentence spans of a clause text; a responsibility parenthetical stays with its sentence."""
    result, start = [], 0
    for match in SENTENCE_END.finditer(text):
        end = match.end()
        if text[start:end].strip():
            result.append((start, end))
        start = end
    if text[start:].strip():
        result.append((start, len(text)))
    merged: list[tuple[int, int]] = []
    for s, e in result:
        if merged and text[s:e].lstrip().startswith(("（", "(")) and ("牵头" in to_simplified(text[s:e]) or "负责" in to_simplified(text[s:e])):
            merged[-1] = (merged[-1][0], e)
        else:
            merged.append((s, e))
    return [(s + len(text[s:e]) - len(text[s:e].lstrip()), e) for s, e in merged]


def sentences_where(text: str, keep: Callable[[str], bool]) -> list[str]:
    """The sentences of `text` (rag.answer.quote.spans) for which `keep` holds."""
    return [text[a:b] for a, b in spans(text) if keep(text[a:b])]


def is_table_row(clause: dict) -> bool:
    """A 责任分解表 row: its responsibility is the row's own 牵头单位/责任单位 cells."""
    return clause["responsibility"].startswith("牵头单位：")


# An ordinal ("第一次", "第6期", "十二届五次全会") ranks something; it answers 第几, never 多少.
ORDINAL = re.compile(r"第[\d一二三四五六七八九十百两]+[\u4e00-\u9fff]?|[\d一二三四五六七八九十]+[届屆](?:[\d一二三四五六七八九十]+次)?")


def has_figure(text: str, ordinals: bool = False) -> bool:
    """Whether `text` states a number other than a year or a date ("2023年重点民生实事项目" and
    "2月22日" state none; "后三位" does), and other than an ordinal unless `ordinals`."""
    if ordinals and ORDINAL.search(text):
        return True  # 第一次全体会议, 第六位
    text = ORDINAL.sub("", text)
    return bool(re.search(r"\d", DATE.sub("", YEAR.sub("", text))) or CHINESE_FIGURE.search(text))


# Measures a plan also writes as the noun before its figure ("总人次突破1000万").
NAMED_BEFORE = ("人次",)


def states_measure(text: str, measure: str) -> bool:
    """Whether `text` states a number counted in `measure` (Query.measure: 元, [人名], %)."""
    text = to_simplified(text)
    number = rf"(?:\d|{CHINESE_NUMBER})"
    return bool(re.search(rf"{number}\s*(?:万|亿|千|百)?{measure}", text)
                or (measure in NAMED_BEFORE and re.search(rf"{measure}[^，,。；;\d]{{0,6}}{number}", text)))


# A share: a percentage, 成 or 百分点, or a rate stated as a bare number (死亡率控制在0.5以内).
RATIO = re.compile(r"\d\s*(?:%|％|‰)|\d\s*个?百分点|[一二三四五六七八九\d]成|百分之|(?:率|比例|比重|占比)[^，,。；;\d]{0,10}\d")


def has_ratio(text: str) -> bool:
    """Whether `text` states a share: what 比例, 几成 and "what percentage" ask for (41个 is none)."""
    return bool(RATIO.search(to_simplified(text)))


# A duration ("三年行动", "12个月", "两个季度"): what 几年期, 多长时间 and 多久 ask for.
DURATION = re.compile(r"[一二三四五六七八九十两兩\d]+个?(?:年|月|季度|周|星期)(?![底初])")


def has_time(text: str) -> bool:
    """Whether `text` says when or how long: a year, a date, a deadline phrase (年底前, 6月底,
    上半年), a period or a duration (三年行动)."""
    return bool(YEAR.search(text) or DATE.search(text) or TIME_PHRASE.search(text) or DURATION.search(text))


DAY = re.compile(r"\d{1,2}\s*[日号]|[一二三四五六七八九十]{1,3}日|月底|月末")


def has_day(text: str) -> bool:
    """Whether `text` names a day (2月26日, 月底): what 哪天 asks for."""
    return bool(DAY.search(text))


FREQUENCY = re.compile(r"每[个個一两兩半]?(?:年|季度|季|月|周|週|星期|旬|天|日)|[一二两兩三四五六\d]+个?(?:年|季度|月|周|天|日)[^，,。；;]{0,6}?[一1]次|"
                       r"一[年季月周旬]一|[旬月季年][度]?(?:简报|簡報|通报|通報|总结|總結|调度|調度)")


def has_frequency(text: str) -> bool:
    """Whether `text` says how often (每个季度, 一月一考核, 旬简报): what 多久一次 asks for."""
    return bool(FREQUENCY.search(text))


def has_month(text: str) -> bool:
    """Whether `text` names a month (6月底, 十月): what 哪个月 asks for."""
    return bool(re.search(r"(?:\d{1,2}|[一二三四五六七八九十]{1,2})\s*月", text))


def has_year(text: str) -> bool:
    """Whether `text` names a year: what 哪一年 and 从哪年到哪年 ask for."""
    return bool(YEAR.search(text))


def states_asked(query: Query) -> Callable[[str], bool]:
    """What a sentence must state to answer the question: how often (多久一次), a year (哪一年), a
    time (什么时候, 几个阶段), a figure in the asked unit (多少套, 多少资金), a share (比例), a rank (第几届, 名次) or else any figure,
    not a rank, where a quantity is asked (多少)."""
    if query.asks_frequency:
        return has_frequency
    if query.asks_year:
        return has_year
    if query.asks_date:
        return has_day
    if query.asks_month:
        return has_month
    if query.asks_time:
        return has_time
    if query.figure_unit and query.asks_ordinal:  # 第几次: 第一次 answers, in the unit asked
        return lambda text: bool(ORDINAL.search(text)) or states_measure(text, query.figure_unit)
    if query.figure_unit:
        return partial(states_measure, measure=query.figure_unit)
    if query.asks_ratio:
        return has_ratio
    return partial(has_figure, ordinals=query.asks_ordinal or not query.asks_figure)


def without_figures(text: str, figures: tuple[str, ...]) -> str:
    """`text` with the figures a question already gives blanked out: what else it states."""
    for figure in figures:
        text = re.sub(rf"(?<![\d.]){re.escape(figure)}(?![\d.])", " ", text)
    return text


def citation(n: int, hit: Hit, quote: str) -> Citation:
    c = hit.clause
    return Citation(n, c["doc_id"], c["source"], c["doc_title"], c["path"], c["title"], c["lead_units"],
                    c["cooperating_units"], c["responsible_units"], quote, c["text"], c["region"], hit.also,
                    "section" if "children" in c else "clause")


def quote(text: str, tokens: list[str], idf: Callable[[str], float], need: Callable[[str], bool] | None = None,
          limit: int = 400) -> str:
    """The exact span of `text` that covers the question: short texts whole; otherwise the
    run of sentences from the first to the last one that adds covered words. With `need`
    (has_figure, has_time) only sentences that state what is asked are candidates."""
    if len(text) <= 220 and need is None:
        return text
    found = spans(text)
    useful = [(s, e) for s, e in found if need is None or need(text[s:e])] or found
    covered: set[str] = set()
    chosen: list[tuple[int, int]] = []
    while True:
        gains = [(sum(idf(t) for t in tokens if t not in covered and t in to_simplified(text[s:e])), -i)
                 for i, (s, e) in enumerate(useful)]
        best = max(range(len(useful)), key=lambda i: gains[i]) if useful else None
        if best is None or (chosen and gains[best][0] <= 0):
            break
        s, e = useful[best]
        chosen.append((s, e))
        covered |= {t for t in tokens if t in to_simplified(text[s:e])}
        if gains[best][0] <= 0:
            break
    start, end = min(s for s, _ in chosen), max(e for _, e in chosen)
    if end - start > limit:
        start, end = chosen[0]
    return text[start:end].strip()


def fragment(sentence: str, tokens: list[str]) -> str:
    """The comma-separated run of a long sentence that holds the question's words (a table cell)."""
    if len(sentence) <= 80:
        return sentence
    pieces = [m.span() for m in re.finditer(r"[^，,；;]+[，,；;]?", sentence)]
    hits = [i for i, (s, e) in enumerate(pieces) if any(t in to_simplified(sentence[s:e]) for t in tokens)]
    if not hits:
        return sentence
    start, end = pieces[hits[0]][0], pieces[hits[-1]][1]
    # A parenthetical's commas are not the sentence's: a cut inside one runs on to its close.
    while end < len(sentence) and sentence[start:end].count("（") + sentence[start:end].count("(") > \
            sentence[start:end].count("）") + sentence[start:end].count(")"):
        end += 1
    return sentence[start:end].rstrip("，,；;").strip()


def item_name(clause: dict) -> str:
    """An item as listed: its path, and its title unless the path already says it (【县市区动态】道县)."""
    title = to_simplified(clause["title"])
    return clause["path"] if clause["path"].startswith("【") or clause["path"].endswith(title) else f"{clause['path']} {title}"


def section_name(section: dict) -> str:
    """A section as an answer names it: a column by its path (【县市区动态】), else path「title」."""
    return section["path"] if section["path"].startswith("【") else f"{section['path']}「{to_simplified(section['title'])}」"
