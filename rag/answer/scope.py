"""Whether the corpus can answer a question at all, judged from the question alone: an
instruction, personal data, or a place, office, quoted name, year, issue or plan the corpus never
mentions, or a county plan it only reports on. `out_of_scope` returns the reason shown, or None.
"""
from __future__ import annotations

import re

from rag.clean import to_simplified
from rag.gazetteer import places_named
from rag.query import CJK, TITLE_FILLER, TITLE_MARKS, Query
from rag.store import Store

INJECTION = re.compile(
    r"忽略|無視|无视|系统提示|系統提示|提示词|提示詞|system prompt|ignore (?:all |the |any )?(?:previous|prior|above)|"
    r"扮演|角色扮演|role.?play|pretend|假装|假裝|编一个|編一個|编造|編造|捏造|瞎编|make up (?:a|an|some|the|numbers?|data|facts?|figures?)\b|invent|fabricate|"
    r"写一首|寫一首|作诗|写诗|七言|五言|poem|joke|笑话|笑話|段子|"
    r"假设你是|假設你是|假如你是|suppose you are|you are now|不受[^，,。]{0,6}限制|"
    r"override|developer mode|dump|api.?keys?|密钥|起草一份|起草一篇|擬一份|拟一份|以[^，,。]{1,12}的?名义|以[^，,。]{1,12}的?名義",
    re.IGNORECASE)
ACTUAL_RESULT = re.compile(r"实际|實際|actual|发生了|發生了|达到了多少|達到了多少|完成了多少|完成了几|happened|occurred|目前.*价",
                           re.IGNORECASE)
PERSONAL = re.compile(r"手机|手機|(?<!电视)电话|(?<!電視)電話|号码|號碼|住址|邮箱|phone|mobile (?:phone|number)|e-?mail|address",
                      re.IGNORECASE)  # "non-road mobile machinery" is no phone
PLAN_CONTENT = re.compile(r"目标|任务|措施|要求|规定|内容|条目|牵头|负责|指标")
COUNTY_DOCUMENT = r"(?:方案|清单|办法|细则|计划)"  # a county's own document, which only the county has
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


FUNCTION_CHARACTERS = "和与及或在是的对向从把被给跟同"
TOWN = r"(?![各每全])(?:(?![的之和与及在是镇乡村县区])[\u4e00-\u9fff]){2,3}?(?:镇|乡|街道)(?!(?:(?!的)[\u4e00-\u9fff])?[村镇乡])"


def towns_named(text: str, place_names: list[str]) -> list[str]:
    """Towns and streets a question names after their county, in full or short ("沅江市琼湖街道",
    "东安县白牙市镇", "平江童市镇")."""
    names = "|".join(re.escape(n) for n in place_names)
    return re.findall(rf"(?:(?:{names})[县市区]?|[县市区])({TOWN})" if names else rf"[县市区]({TOWN})", text)


def is_instruction(query: Query) -> bool:
    """An instruction, role-play or creative request rather than a question about the plans."""
    return bool(INJECTION.search(query.text))


def unknown_places(query: Query, store: Store) -> list[str]:
    """Places named in the question that the corpus never mentions."""
    # "乡镇和县直部门": a two-character name led by a conjunction or preposition (和县) is jieba's split.
    unknown = [p for p in places_named(query.simplified) if p not in store.corpus_text
               and not (len(p) == 2 and p[0] in FUNCTION_CHARACTERS)]
    # A town or street named after its county, which no plan names.
    unknown += [t for t in towns_named(query.simplified, store.gazetteer.place_names) if t not in store.corpus_text]
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
        if known is None and word.lower() in store.pinyin_words:
            continue  # Puhua is 普华, a word of the corpus and no place of China
        if known is None or known not in store.corpus_text:
            unknown.append(word)
    return unknown


# The endings of an organisation's name (县应急管理局, 金融事务中心, 监察二科, 人民银行沅江支行,
# 邮政管理部门: 部门 alone is any department, 管理部门 one that manages something named).
OFFICE_END = re.compile(r"委员会|办公室|指挥部|领导小组|工作组|管理部门|分局|支行|公司|集团|协会|大队|支队|中队|中心|局|委|办|科|处|厅|署")
# The endings that make a short word an office's name: 处 and 科 are also counters (整改几处).
SHORT_OFFICE_END = re.compile(r"(?:局|办|委|中心|大队|支队|中队)$")
NOT_IN_NAME = re.compile(r"[的在里由是和及、，,。？?把让对给被从向将那这个谁哪要请问]")
QUOTE_OPEN, QUOTE_CLOSE = re.compile(r"[“「『\"'‘]"), re.compile(r"[”」』\"'’]")
LEVELS = "省市县区"  # the characters an office's full name starts from (县应急管理局, 市公安局)
COUNTING = re.compile(r"[几多一二三四五六七八九十两\d]")  # 几家, 三个: a count, never a word of a name
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
        if start > 0 and text[start - 1] in "这那该此每" and text[start] in "条项个件类":
            start += 1  # "这条住建局牵头": the classifier of 这条 is no part of the name
        name = text[start:end.end()]
        # "平江新盖县疾控中心": words before the level that starts a name (县, 市) are not part of it.
        if name in store.corpus_text or any(name[i:] in store.corpus_text for i in range(1, len(name) - 3)
                                            if name[i] in LEVELS):
            continue
        # 安全守底行动指挥部: a kind of body no plan has; a bare 工作组 ("那个工作组") is the asker's
        # word for a body the plans name otherwise.
        if end.group() not in store.corpus_text and name != end.group():
            unknown.append(name)
            continue
        if len(name) < 5:
            # A short name is an abbreviation when a unit's name has its characters in order
            # (应急局: 应急管理局, 市监局: 市场监督管理局); 文物局 abbreviates none.
            bare = name[1:] if name[0] in LEVELS else name
            if (len(bare) >= 3 and SHORT_OFFICE_END.search(bare) and not COUNTING.search(bare)
                    and not any(in_order(bare, unit) for unit in store.unit_names)):
                unknown.append(name)
            continue
        # 应急管理局安全生产监察二科: an office inside a unit the plans name, which they never name.
        if any(len(rest := name.partition(unit)[2]) >= 2 and OFFICE_END.search(rest) for unit in store.unit_names if unit in name):
            unknown.append(name)
            continue
        words = [w for w in tokenize(name) if len(w) >= 2 and w != end.group()]
        # A name that starts at its level (县数据安全与元宇宙管理局) is a full name, every word of it
        # but a count (城区几家) the plans' own if they name it; without a level, the words before a
        # name (除了, 为了) may be the question's, so only a rare word tells.
        levels = [i for i, ch in enumerate(name[:-4]) if ch in LEVELS]
        full = [w for w in tokenize(name[levels[-1]:]) if len(w) >= 2 and w != end.group()
                and not COUNTING.search(w)] if levels else []
        if QUOTE_OPEN.match(text[start - 1:start]) and QUOTE_CLOSE.match(text[end.end():end.end() + 1]):
            unknown.append(name)
        elif (any(w not in store.corpus_text for w in full)
              or any(w not in store.corpus_text and rare_in_chinese(w) for w in words)):
            unknown.append(name)
    return unknown


QUOTED = re.compile(r"[“「『]([^”」』]{4,30})[”」』]")


def unknown_quoted(query: Query, store: Store) -> str | None:
    """A name the question quotes (“安全守底百日攻坚行动”) that no plan writes, not even with its
    characters in order close together (“换人减人” abbreviates “机械化换人、自动化减人”): a quoted
    name is meant as written, and a campaign or programme the plans lack is not theirs."""
    text = store.corpus_text
    for found in QUOTED.finditer(query.simplified):
        name = re.sub(r"[^\u4e00-\u9fff\w]", "", found.group(1))
        if len(CJK.findall(name)) < 4 or name in text:
            continue
        starts = (m.start() for m in re.finditer(re.escape(name[:2]), text))
        if not any(in_order(name, text[at:at + 2 * len(name) + 4]) for at in starts):
            return found.group(1)
    return None


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
    found = re.search(rf"(?P<place>{gazetteer.reported_pattern})[^，,。？?]{{0,12}}{COUNTY_DOCUMENT}", query.simplified)
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
    quoted = unknown_quoted(query, store)
    if quoted:
        return f"语料中的方案没有提到“{quoted}”。"
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
