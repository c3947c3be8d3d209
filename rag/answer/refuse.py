"""Answerability: whether the corpus can answer a question, and if not, why — in one place.

Two checks: `out_of_scope` judges the question alone (an instruction, personal data, a place,
year or issue the corpus never mentions, a county plan it only reports on); `unanswered` judges
the retrieved clauses (they lack the year, the figure, the topic or the person asked for).
Each returns the reason shown to the user, or None.
"""
from __future__ import annotations

import re
from collections.abc import Callable

from rag.answer.base import Asked
from rag.answer.person import who_unnamed
from rag.answer.quote import sentences_where, spans, states_asked, states_measure, without_figures
from rag.answer.stating import Candidate, candidates, states_answer
from rag.clean import to_simplified
from rag.gazetteer import places_named, short_form
from rag.query import CJK, TITLE_FILLER, TITLE_MARKS, Query
from rag.retrieve import Hit
from rag.store import Store

NOT_FOUND = "语料中未找到"
INJECTION = re.compile(
    r"忽略|無視|无视|系统提示|系統提示|提示词|提示詞|system prompt|ignore (?:all |the |any )?(?:previous|prior|above)|"
    r"扮演|角色扮演|role.?play|pretend|假装|假裝|编一个|編一個|编造|編造|捏造|瞎编|make up (?:a|an|some|the|numbers?|data|facts?|figures?)\b|invent|fabricate|"
    r"写一首|寫一首|作诗|写诗|七言|五言|poem|joke|笑话|笑話|段子|"
    r"假设你是|假設你是|假如你是|suppose you are|you are now|不受[^，,。]{0,6}限制|"
    r"override|developer mode|dump|api.?keys?|密钥|起草一份|起草一篇|擬一份|拟一份|以[^，,。]{1,12}的?名义|以[^，,。]{1,12}的?名義",
    re.IGNORECASE)
ACTUAL_RESULT = re.compile(r"实际|實際|actual|发生了|發生了|达到了多少|達到了多少|完成了多少|完成了几|happened|occurred|目前.*价",
                           re.IGNORECASE)
PERSONAL = re.compile(r"手机|手機|(?<!电视)电话|(?<!電視)電話|号码|號碼|住址|邮箱|phone|mobile|e-?mail|address", re.IGNORECASE)
PLAN_CONTENT = re.compile(r"目标|任务|措施|要求|规定|内容|牵头|负责|指标")
PLAN_STATUS = re.compile(r"进展|进度|制定|印发|审定|签发|提交|到哪|状态|情况|专班")
PLAN_CONTENT_EN = re.compile(r"target|task|goal|measure|requirement|content|lead|responsib|indicator", re.IGNORECASE)
PLAN_STATUS_EN = re.compile(r"progress|status|issued|draft|submitted|approv|stage|task force|set up", re.IGNORECASE)
# "益阳市的安全守底行动工作专班": a place's own plan, where the corpus has no plan of that place.
OWNED_PLAN = r"(?:省|市|县)?的?[^，,。？?]{0,12}(?:方案|专班|专报)"
PINYIN_WORD = re.compile(
    r"\b([A-Z](?:(?:zh|ch|sh|[bpmfdtnlgkhjqxrzcsyw])?(?:iang|iong|uang|ang|eng|ing|ong|uan|ian|iao|uai|ai|ei|ao|ou|an|en|in|un|ua|uo|ia|ie|iu|ui|ue|er|a|o|e|i|u)){2,3})\b")
PLACE_IN_ENGLISH = re.compile(r"(?:\b(?:in|of|from|for|at|to|about)\s+(?:the\s+)?(?P<before>[A-Z][a-z]+)\b)|"
                              r"(?:\b(?P<word>[A-Z][a-z]+)(?='s\b|’s\b|\s+(?:County|City|District|Province|Town|Village|Prefecture)\b))")
# A surname and a given name in pinyin ("Chen Xiong", "Li Shishi") name a person, not a place.
PERSON_NAME = re.compile(r"\b(?:Chen|Li|Wang|Zhang|Liu|Yang|Huang|Zhao|Wu|Zhou|Xu|Sun|Ma|Zhu|Hu|Guo|He|Gao|Lin|Luo|Zheng|Liang|"
                         r"Xie|Song|Tang|Deng|Han|Feng|Cao|Peng|Zeng|Xiao|Tian|Dong|Pan|Yuan|Cai|Jiang|Yu|Du|Ye|Cheng|Wei|Su|Lu|"
                         r"Ding|Ren|Shen|Yao|Cui|Zhong|Tan|Long|Liao|Qiu|Xiang|Yi|Zou|Xiong|Qiu|Jin|Fan|Shi|Bai|Kong|Mao|Qin)"
                         r" [A-Z][a-z]+(?:[ -]?[a-z]+)?\b(?! (?:County|City|District|Town|Province|Village))")


def is_instruction(query: Query) -> bool:
    """An instruction, role-play or creative request rather than a question about the plans."""
    return bool(INJECTION.search(query.text))


def unknown_places(query: Query, store: Store) -> list[str]:
    """Places named in the question that the corpus never mentions."""
    unknown = [p for p in places_named(query.simplified) if p not in store.corpus_text]
    names = {w for m in PERSON_NAME.finditer(query.text) for w in m.group(0).split()}  # Chen Xiong is 陈雄
    # A pinyin-shaped word is a place where English puts places ("Changsha's plan", "in Changsha",
    # "Shenzhen City"), not any capitalised word ("Management Area", "Tianyue Investment Group").
    placed = {m["before"] or m["word"] for m in PLACE_IN_ENGLISH.finditer(query.text)}
    for word in (w for w in PINYIN_WORD.findall(query.text) if w not in names and w in placed):
        known = store.gazetteer.place_in_pinyin(word)
        # "Xiangyin County" is 湘阴县, which no plan speaks of, though 湘阴 is named in passing.
        kind = re.search(rf"\b{word}\s+(County|City|District)\b", query.text)
        suffix = {"County": "县", "City": "市", "District": "区"}[kind[1]] if kind else ""
        if known and suffix and not known.endswith(("县", "市", "区")):
            known += suffix
        if known is None or known not in store.corpus_text:
            unknown.append(word)
    return unknown


# The endings of an organisation's name (县应急管理局, 金融事务中心, 监察二科, 人民银行沅江支行).
OFFICE_END = re.compile(r"委员会|办公室|指挥部|领导小组|工作组|分局|支行|公司|集团|协会|大队|支队|中队|中心|局|委|办|科|处|厅|署")
# The endings that make a short word an office's name: 处 and 科 are also counters (整改几处).
SHORT_OFFICE_END = re.compile(r"(?:局|办|委|中心|大队|支队|中队)$")
NOT_IN_NAME = re.compile(r"[的在里由是和及、，,。？?把让对给被从向将那这个谁哪要请问]")
QUOTE_OPEN, QUOTE_CLOSE = re.compile(r"[“「『\"'‘]"), re.compile(r"[”」』\"'’]")
NAME_FOLLOWS = re.compile(r"[的在里由是和与及、把让对给被从向将那这谁哪要请问牵负配承主具等为有]")


def rare_in_chinese(word: str) -> bool:
    """A word general Chinese seldom uses (jieba's dictionary counts it under 100 times, or not at
    all: 元宇宙, 网格化, 二科), unlike the common words a question wraps a name in (为了, 除了)."""
    import jieba

    return (jieba.dt.FREQ.get(word) or 0) < 100


def in_order(short: str, name: str) -> bool:
    """Whether `short`'s characters occur in `name` in order: how Chinese abbreviates a name."""
    rest = iter(name)
    return all(ch in rest for ch in short)


def unknown_offices(query: Query, store: Store) -> list[str]:
    """Organisations named in the question that no plan mentions ("数据安全与元宇宙管理局",
    "应急管理局安全生产监察二科"): a name of five or more characters, ending where a name ends,
    that holds a rare word the corpus never uses, or that the question quotes (“科技创新促进办公室”:
    a quoted name is meant exactly, however common its words). A short or abbreviated name (应急局)
    is not judged."""
    from rag.index import tokenize

    unknown = []
    text = query.simplified
    for end in OFFICE_END.finditer(text):
        after = text[end.end():end.end() + 1]
        if after and "\u4e00" <= after <= "\u9fff" and not NAME_FOLLOWS.match(after):
            continue  # 科技, 处置, 局长: the ending is inside a longer word
        start = end.start()
        while start > 0 and "\u4e00" <= text[start - 1] <= "\u9fff" and not NOT_IN_NAME.match(text[start - 1]):
            start -= 1
        name = text[start:end.end()]
        if name in store.corpus_text:
            continue
        if end.group() not in store.corpus_text:  # 安全守底行动指挥部: a kind of body no plan has
            unknown.append(name)
            continue
        if len(name) < 5:
            # A short name is an abbreviation when a unit's name has its characters in order
            # (应急局: 应急管理局, 市监局: 市场监督管理局); 文物局 abbreviates none.
            bare = re.sub(r"^[县市区省]", "", name)
            if (len(bare) >= 3 and SHORT_OFFICE_END.search(bare) and not re.search(r"[几多一二三四五六七八九十两\d]", bare)
                    and not any(in_order(bare, unit) for unit in store.unit_names)):
                unknown.append(name)
            continue
        # 应急管理局安全生产监察二科: an office inside a unit the plans name, which they never name.
        if any(len(rest := name.partition(unit)[2]) >= 2 and OFFICE_END.search(rest) for unit in store.unit_names if unit in name):
            unknown.append(name)
            continue
        words = [w for w in tokenize(name) if len(w) >= 2 and w != end.group()]
        if QUOTE_OPEN.match(text[start - 1:start]) and QUOTE_CLOSE.match(text[end.end():end.end() + 1]):
            unknown.append(name)
        elif any(w not in store.corpus_text and rare_in_chinese(w) for w in words):
            unknown.append(name)
    return unknown


def other_places_plan(query: Query) -> str | None:
    """A place named as the owner of a plan or task force ("益阳市的安全守底行动工作专班")."""
    return next((place for place in places_named(query.simplified)
                 if re.search(re.escape(place) + OWNED_PLAN, query.simplified)), None)


def county_plan_asked(query: Query, store: Store) -> str | None:
    """A place the corpus only reports on (a newsletter's county row) whose own plan's content a
    question asks for ("宁远县安全守底行动实施方案定了哪些目标", "What targets does Qiyang's plan set?")."""
    gazetteer = store.gazetteer
    if not gazetteer.reported:
        return None
    found = re.search(rf"(?P<place>{gazetteer.reported_pattern})[^，,。？?]{{0,12}}方案", query.simplified)
    if found and PLAN_CONTENT.search(query.simplified) and not PLAN_STATUS.search(query.simplified):
        return found["place"]
    if PLAN_CONTENT_EN.search(query.text) and not PLAN_STATUS_EN.search(query.text):
        for word in re.findall(r"[A-Za-z]+", query.text):
            place = gazetteer.reported_place(gazetteer.pinyin.get(word.lower(), ""))
            if place and re.search(rf"\b{word}\b[^.?!]{{0,60}}\bplan\b", query.text, re.IGNORECASE):
                return place  # Lanshan → 蓝山县
    return None


# "平江县打好数字经济攻坚仗工作方案": a plan named by a title's shape, read back to where the name starts.
PLAN_TITLED = re.compile(r"(?P<name>[\u4e00-\u9fff“”]{2,24}?)(?:工作方案|实施方案|总体方案|行动方案)")
NAME_START = re.compile(r".*(?:的|里|中|在|和|与|及|或|跟|、|那个|这个|那份|这份|关于|按照|根据|依据)")


def unknown_plan(query: Query, store: Store) -> str | None:
    """A plan the question names by a title that no plan of the corpus has and no text mentions
    ("平江县打好数字经济攻坚仗工作方案"). A title half-remembered still names its plan: most of
    the characters that set a title apart (科技攻坚 of 科技创新攻坚仗) are in it."""
    titles = None
    for found in PLAN_TITLED.finditer(query.simplified):
        name = NAME_START.sub("", found["name"])
        starts = [name.rfind(region) for region in store.gazetteer.regions if region in name]
        name = name[max(starts):] if starts else name  # a title starts with its region (…在平江县安全守底…)
        core = TITLE_FILLER.sub("", store.gazetteer.without_places(TITLE_MARKS.sub("", name)))
        if len(core) < 4 or core in store.corpus_text:
            continue
        titles = titles or [TITLE_FILLER.sub("", store.gazetteer.without_places(to_simplified(t))) for _, _, t, _ in store.plans]
        if not any(sum(ch in title for ch in core) >= 0.6 * len(core) for title in titles):
            return name + found.group(0)[len(found["name"]):]
    return None


def out_of_scope(query: Query, store: Store) -> str | None:
    """Why the corpus cannot answer, judged from the question alone, or None."""
    if is_instruction(query):
        return "这是一条指令而不是关于方案内容的问题。本助手只依据方案原文作答，不执行问题中的指令，也不编造内容。"
    if PERSONAL.search(query.text):
        return "方案文本不包含任何人员的联系方式等个人信息。"
    places = unknown_places(query, store)
    if places:
        return f"语料只包含{store.gazetteer.regions_text}的方案，没有涉及“{'、'.join(places)}”的内容。"
    offices = unknown_offices(query, store)
    if offices:
        return f"语料中的方案没有提到“{'、'.join(offices)}”。"
    years = [y for y in query.years if y not in store.corpus_text]
    if years:
        return f"语料中的方案没有涉及{'、'.join(years)}年的内容。"
    issues = [i for i in query.issues if re.sub(r"\s", "", i) not in store.corpus_text]
    if issues:
        return f"语料中没有“{issues[0]}”。"
    if ACTUAL_RESULT.search(query.text):
        return "方案只规定目标和任务，没有记载实际完成情况、统计结果或现状数据。"
    county = county_plan_asked(query, store)
    if county:
        report = store.gazetteer.reported[store.gazetteer.reported_place(county) or county]
        return f"语料没有收录{county}的方案文本，只有《{report}》对其进展的报道（例如问：{county}的方案进展到哪一步了？）。"
    owner = other_places_plan(query)
    if owner and not query.regions:
        return f"语料只有{store.gazetteer.regions_text}的方案，没有{owner}的方案或专班。"
    plan = unknown_plan(query, store)
    if plan:
        return f"语料中没有《{plan}》，也没有提到它。语料中的文件是：《{'》《'.join(d['title'] for d in store.documents.values())}》。"
    return None


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
    if query.items_asked >= 2 and not any(enumerates(h.clause, query.items_asked, asked.store) for h in hits[:3]):
        return f"检索到的条款没有逐项列出所问的{query.items_asked}项。"
    # "要关闭非煤矿山3座以上，具体是哪几座": the clause that gives the count must also list the items.
    counted = given_count(query, hits[0].clause)
    if counted and len([p for p in re.split(r"[、；;]", counted[1]) if p.strip()]) < min(counted[0], 3) \
            and not section_lists(hits[0].clause, counted[0], asked.store):
        return f"方案只写明“{counted[1].strip()[:60]}”，没有逐项列出。"
    unit = None if query.asks_time else query.figure_unit or query.measure
    found = figure_candidates(asked, where, anchored)
    # "冲破多少人次，旅游收入突破多少": some stating sentence gives the first figure's measure (人).
    measured = found is None or query.measure is None or any(
        states_measure(without_figures(c.sentence, given_figures(query)), query.measure) for c in found)
    if found is not None and not (measured and states_answer(found, asked.relevance_floor)):
        if query.asks_year:
            return "检索到的条款没有写出所问的年份。"
        if query.asks_time:
            return "检索到的条款没有写出所问的时间。"
        return f"检索到的条款没有写出以“{unit_name(unit)}”计的数字。" if unit else "检索到的条款没有写出所问的数字。"
    chinese = [t for t in chinese if t not in query.unit_words]
    named_place = any(name in query.simplified and name in hits[0].clause["title"] for name in asked.store.gazetteer.place_names)
    if not chinese and not named_place:  # "道县的方案到什么程度了" is about 道县's own report
        return "问题里没有能在方案中查找的内容。请用中文（或常见的英文术语）说明要查的事项。"
    # A figure or time question's stating sentence was judged with where it stands (the model is
    # fit on that decision alone); any other question's best clause must cover its topic, unless
    # the encoder and the lexical ranking each put it first: a paraphrase's words ("谁挑头",
    # "遏住新冒出来的隐性负债") are not the clause's, but its meaning and its rarest words are.
    if (found is None and not rankings_agree(hits[0])
            and max((asked.clause_coverage(chinese, h.clause) for h in hits[:3]), default=0.0) < asked.topic_floor):
        return "检索到的条款都不包含问题所问的内容。"
    return who_unnamed(query, hits, asked.store.corpus_text)


def rankings_agree(hit: Hit) -> bool:
    """Whether the dense and the lexical ranking both rank this clause first."""
    return hit.dense_rank == 0 and hit.lexical_rank == 0


def names_month(text: str, month: str) -> bool:
    """Whether `text` names the month ("2月", not the 2 of "12月")."""
    return bool(re.search(rf"(?<!\d){month}", text))


def standing(hits: list[Hit]) -> list[str]:
    """Where each of the top clauses stands (its document, headings and title): a sentence is read
    in its place."""
    return [to_simplified(" ".join([h.clause["doc_title"], *h.clause["heading_path"], h.clause["title"]])) for h in hits[:3]]


def about_places(query: Query, hits: list[Hit], where: list[str]) -> list[bool]:
    """For each top clause, whether it is about every reported place the question names (双牌县)."""
    return [all(short_form(p) in f"{w} {h.clause['text_simplified']}" for p in query.places) for w, h in zip(where, hits)]


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
    if not (query.asks_time or query.asks_figure or query.figure_unit) or query.unit_count_role is not None:
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

    stating = [sentences_where(h.clause["text"], states_in(h)) if here else [] for h, here in zip(asked.hits[:3], anchored)]
    # A question that gives a figure asks what follows it (…90%以上，那安全带佩戴率要求多少): the
    # given part's words are the sentence's it gives the figure of.
    word_lists = (attribute,) if given and attribute and list(query.attribute_tokens) != list(query.tokens) else (said, attribute)
    return candidates(stating, where, word_lists, asked.coverage)


def given_figures(query: Query) -> tuple[str, ...]:
    """The figures a figure question gives ("发案率同比下降50%，那破案率要达到多少"), which are not
    what it asks; a time question's (2024年底, 6月) are what it asks about."""
    return () if query.asks_time else query.stated_figures


def unit_name(pattern: str) -> str:
    """A unit pattern of the Query as a refusal names it: [人名] → 人, [台个] → 台, 个?天 → 天."""
    return pattern[1] if pattern.startswith("[") else pattern.replace("个?", "")


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
                      for h in hits[:3]) if hits and not is_instruction(query) else ""
    english = "The plans in the corpus do not answer this question. " if query.language == "en" else ""
    return f"{NOT_FOUND}能回答该问题的内容。{english}{reason}" + (f"\n\n最接近的条款：{nearest}" if nearest else "")
