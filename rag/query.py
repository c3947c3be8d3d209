"""The question, parsed once into what it asks, where, about what and under which constraints.

Every later stage (routing, refusing, composing) reads these fields instead of re-matching
the raw string, so a question means one thing throughout: the kind of answer wanted, the
scope it names (regions, plans, a counted section), the topic words, the figures, years and
titles it asks about, and its language.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rag.clean import longest_common_substring, to_simplified
from rag.gazetteer import Gazetteer, places_named, short_form
from rag.parse import chinese_number
from rag.units import ALIASES as UNIT_ALIASES
from rag.units import shortened_names

# A document's parts asked for in English: "sections" must be what the question asks for ("what
# sections does … contain"), for a plan's "assessment sections" (断面) are places on a river.
ENGLISH_PARTS = r"\b(?:what|which|how many)\s+(?:\w+\s+)?(?:sections|parts)\b|\bstructure\b"
INTENTS = (
    ("metadata", re.compile(r"文号|文號|印发|印發|发布|發布|编发|編發|期号|期號|哪天出|document number|issued|issue date",
                            re.IGNORECASE)),
    ("structure", re.compile(r"组成|組成|哪几个部分|哪幾個部分|几个部分|幾個部分|多少个部分|多少個部分|哪些部分|几个方面|幾個方面|哪几个方面|哪幾個方面|哪几方面|哪幾方面|几大块|幾大塊|哪几块|章节|章節|栏目|欄目|"
                             r"哪几条|哪幾條|几条|幾條|多少条|多少條|下面有哪些|下面列|"
                             r"多少项|多少項|几项|幾項|哪几项|哪幾項|有哪些附件|哪些附件|" + ENGLISH_PARTS + "|how many items",
                             re.IGNORECASE)),
    ("lead", re.compile(r"牵头|牽頭|谁|誰|哪[几幾]家|哪[几幾][个個](?:单位|部门|單位|部門)|哪个部门|哪個部門|哪些部门|哪些部門|哪个单位|哪個單位|哪些单位|哪些單位|哪家|召集|"
                        r"\blead|responsib|in charge|which (?:department|unit|agency|bureau)|\bwho\b", re.IGNORECASE)),
    ("number", re.compile(r"多少|(?<![举列舉])几|(?<![举列舉])幾|目标|目標|比例|率|数量|數量|标准|標準|how many|how much|rate|target|percent|number",
                          re.IGNORECASE)),
    ("lead", re.compile(r"负责|負責|配合|责任单位|責任單位", re.IGNORECASE)),
)
METADATA = INTENTS[0][1]
# "哪六仗", "哪3个方面": a count of a section's items, and what the items are called.
COUNTED = re.compile(r"[哪这這](?:(?P<digits>\d{1,2})|(?P<chinese>[一二三四五六七八九十]{1,2}))(?:个|個|项|項|大|条|條|类|類)?"
                     r"(?P<noun>[\u4e00-\u9fff])?")
# "一共列了多少个责任单位": a count of the units a clause names.
UNIT_COUNT = re.compile(r"(?:多少|几)个?(?P<role>责任|牵头|配合|负责)?(?:单位|部门)|how many (?:units|departments|bureaus)", re.IGNORECASE)
LIST_QUESTION = re.compile(r"哪些|哪幾|哪几|which", re.IGNORECASE)
# "交警大队负责些什么", "民政局牵头做什么", "what does X lead": a unit's tasks are asked.
TASKS_ASKED = re.compile(r"(?:牵头|负责|配合|承担|参与)(?:了|的)?(?:些|哪些)?(?:做|干|抓)?(?:什么|啥|哪些)|"
                         r"(?:任务|工作|事情|事|职责)(?:有|是)(?:哪些|什么)|"
                         r"\bwhat (?:does|do|is|are)\b.{0,80}\b(?:lead|responsible|in charge|cooperat|assist)|"
                         r"\b(?:tasks|duties|responsibilities)\b", re.IGNORECASE)
# "哪些单位配合", "由谁牵头": the units are what is asked, not the tasks a unit has.
# "还有哪支队伍负责", "另外还有哪两个事务中心参与", "哪个局领头": which organisations, named by
# what organisations' names end in.
ASKS_FOR_UNITS = re.compile(r"哪[几幾]家|哪[几幾][个個](?:单位|部门|單位|部門)|哪些单位|哪些單位|哪个单位|哪個單位|哪些部门|哪些部門|哪个部门|哪個部門|哪家|谁|誰|"
                            r"哪(?:[一二两兩三四五六七八九十几幾]?[个個家支])?[\u4e00-\u9fff]{0,4}?"
                            r"(?:委员会|办公室|分局|支行|公司|集团|协会|大队|支队|中队|中心|银行|队伍|机构|局|委|办)(?![\u4e00-\u9fff]{0,1}(?:工作|任务|事))|"
                            r"which (?:unit|department|bureau|agenc)|\bwho\b", re.IGNORECASE)
# A condition on a number ("8个人", "3项") and a superlative ("最少", "最多") over a section's items.
NUMBER_CONDITION = re.compile(r"(?<![\d.])(?P<number>\d+(?:\.\d+)?)\s*(?:个|名)?(?P<unit>人|项|家|条|个)")
ENGLISH_HEADCOUNT = re.compile(r"(?P<number>\d+)\s*(?P<unit>)(?:people|persons|staff|members|officials)", re.IGNORECASE)
SUPERLATIVE = re.compile(r"最(?P<word>多|少|高|低|大|小)")
UNIT_WORDS = ("人", "项", "家", "条")
# "专班还没组建好", "which had not yet set up their task force": a step each item reports on.
NOT_YET = re.compile(r"还没|还未|尚未|没有|未|not yet|yet to|haven't|hasn't|have not|has not", re.IGNORECASE)
STATUS_VERBS = (("组建", re.compile(r"组建|組建|成立|set(?:ting)? up|establish|form", re.IGNORECASE)),
                ("印发", re.compile(r"印发|印發|issued|publish", re.IGNORECASE)),
                ("制定", re.compile(r"制定|起草|draw(?:n)? up|draft|formulat", re.IGNORECASE)))
STATEMENT_WORDS = ("要求", "强调", "指出", "部署", "目标")
PLAN_PARTS = ("目标",)  # tasks and mechanisms mention topics everywhere; 工作目标 is one part
# Questions about a plan's own parts, as opposed to a count inside one of its clauses.
DOCUMENT_PARTS = re.compile(r"组成|組成|部分|几大块|幾大塊|哪几块|哪幾塊|章节|章節|栏目|欄目|几个方面|幾個方面|哪些方面|"
                            + ENGLISH_PARTS, re.IGNORECASE)
YEAR = re.compile(r"(?<!\d)(19\d\d|20\d\d)(?!\d)")
ISSUE = re.compile(r"第\s*\d+\s*期")
LATIN_TERM = re.compile(r"(?<![A-Za-z])[A-Za-z]{2,5}\d+(?:\.\d+)?(?![\d.])")  # PM2.5, PM10, COD5
# "城区几家液化气公司要搞四站合一，是哪个局挑头": beside another question word, 几 means "several".
OTHER_QUESTION_WORD = re.compile(r"谁|誰|哪|什么|什麼|\bwho\b|\bwhich\b|\bwhat\b", re.IGNORECASE)


def asks_quantity(part: str) -> bool:
    """Whether a sub-question asks for a figure: 多少, 第几, how many, or a 几 that is the question."""
    return any(not found.group().startswith(("几", "幾")) or not OTHER_QUESTION_WORD.search(part)
               for found in QUANTITY_ASKED.finditer(part))


# "多少人", "几个": the unit the asked-for number is counted in.
MEASURE_ASKED = re.compile(r"(?:多少|(?<!哪)几)(?:万|亿)?(?P<unit>人(?!次)|家|座|户|所|次|名|元|资金|钱|经费)")
COUNTED_IN = {"人": "[人名]", "名": "[人名]", "资金": "元", "钱": "元", "经费": "元", "工作日": "个?工作日", "天": "个?(?:天|工作日|日)"}
# "多少美元", "多少套": a figure asked in a unit or counted with a classifier, which the sentence
# stating it must use (800万美元; 60张), so that the word naming the unit is no topic word; nor is
# a share's (治理比例 is answered by 治理率达到80%, 死亡人数的比率 by 死亡率控制在0.5以内).
# Classifiers: a plan may count the same things with another classifier (整治多少处 → 41个,
# 关闭几处 → 3座), so a classifier asks a count of things (COUNTED_THINGS).
CLASSIFIERS = "张|套|座|户|所|家|辆|台|支|项|件|条|处|场|次|起|名|批|期|间|栋|艘|架|只|棵|株"
UNIT_ASKED = re.compile(rf"(?:多少|(?<!哪)几)(?:万|亿|千|百)?(?:个)?(?P<unit>人次|美元|亿元|万元|元|平方公里|平方米|公里|千米|亩|公顷|吨|工作日|天|{CLASSIFIERS})")
# "how many kilometres": the same units asked in English, as the plans write them.
ENGLISH_UNITS = {"square kilometres": "平方公里", "square kilometers": "平方公里", "square metres": "平方米",
                 "square meters": "平方米", "kilometres": "公里|千米", "kilometers": "公里|千米", "km": "公里|千米",
                 "hectares": "公顷", "mu": "亩", "tons": "吨", "tonnes": "吨", "us dollars": "美元", "dollars": "美元"}
ENGLISH_UNIT_ASKED = re.compile(r"\bhow (?:many|much)\s+(?:more\s+|new\s+)?(?P<unit>" + "|".join(ENGLISH_UNITS) + r")\b",
                                re.IGNORECASE)
# "多少", "第几届", "几张", "how many": a question that wants a figure, which a clause must state
# (read in simplified script). 几 before a measure word or classifier asks a count; after 举 or 列
# ("举几个") it asks for examples.
QUANTITY_ASKED = re.compile(rf"多少|多[大高]的?(?:比例|比重|比率|占比)|(?<![哪举列])几(?:十|百|千|万|亿)?(?:{CLASSIFIERS}|[个位届年人倍成]|工作日|天)|"
                            r"百分之几|第几|how many|how much|what percentage|what (?:budget|amount|sum)\b", re.IGNORECASE)
# "奖励金额是多少", "补助标准多少钱": a sum of money is asked, which is stated in 元.
# "安排了多少预算资金", "罚款标准是多少", "总投资是多少": so is one asked after 多少 with its own noun.
MONEY_ASKED = re.compile(r"(?:金额|资金|经费|费用|奖金|奖励|补助|补贴|预算|投资|投入|罚款|罚金|工资|薪酬|薪资|租金|价格)(?:额|标准)?(?:是|为|有|达到|定为|最高|最多|一共|共)?(?:多少|几)|"
                         r"(?:多少|几)(?:万|亿)?[\u4e00-\u9fff]{0,4}?(?:资金|经费|预算|补助|补贴|奖金|罚款|钱)|"
                         r"(?:how much|what)\b[^?]{0,20}\b(?:money|budget|funding|funds|investment|subsidy|fin(?:e|es|ed|ing)|penalty)\b",
                         re.IGNORECASE)
# A figure a question writes ("发案率同比下降50%", "新增就业6100人"), not a year or a date.
STATED_FIGURE = re.compile(r"(?<![\d.])(\d+(?:\.\d+)?)(?![\d.]|\s*(?:年|月|日|号|期))")
RANK_ASKED = re.compile(r"第[几幾]|名次|排名|位次|排第|排在")
# "多少个充电桩": things are counted, which a share (戴帽率达到90%) or a sum does not do; a plan
# may count them with any classifier, or as people (多少个岗位 → 就业6100人).
COUNT_ASKED = re.compile(r"(?:多少|(?<!哪)几)个(?![人月年季星]|百分点)")
COUNTED_THINGS = "[个人" + "".join(c for c in CLASSIFIERS.split("|") if len(c) == 1) + "]"
RATIO_ASKED = re.compile(r"比例|比率|比重|占比|几成|百分之几|百分点|\bpercent|\bpercentage|\bshare of\b", re.IGNORECASE)
RATIO_WORDS = ("比例", "比率", "比重", "占比", "几成", "百分点")
def asked_unit(part: str) -> tuple[str | None, set[str]]:
    """For the one (simplified) sub-question asking a figure: the pattern its figure is counted
    in (美元, [套个], 元) and the words that only name that unit or a share (美元, 比例)."""
    unit = UNIT_ASKED.search(part)
    english = ENGLISH_UNIT_ASKED.search(part)
    if english:
        return f"(?:{ENGLISH_UNITS[english['unit'].lower()]})", set()
    if unit:
        name = unit["unit"]
        # The classifier asked first, for the refusal to name it (rag.answer.refuse.unit_name).
        counted = "[" + name + COUNTED_THINGS[1:].replace(name, "")
        return COUNTED_IN.get(name) or (counted if name in CLASSIFIERS.split("|") else name), {name}
    if COUNT_ASKED.search(part):
        return COUNTED_THINGS, set()
    return "元" if MONEY_ASKED.search(part) else None, set(RATIO_WORDS) if RATIO_ASKED.search(part) else set()


# "什么时候完成", "哪一年要达到", "分几个阶段", "by when": the asked attribute is a time.
TIME_ASKED = re.compile(r"什么时候|什麼時候|什么时间|什麼時間|哪个月|哪個月|几月份|幾月份|何时|何時|哪一?天|哪一?日|什么日子|什麼日子|哪一年|哪年|几年|幾年|多少年|哪几年|哪幾年|截至|截止|期限|时限|時限|时间表|時間表|"
                        r"完成时间|完成時間|多长时间|多長時間|多久|几个阶段|幾個階段|哪几个阶段|哪些阶段|分几步|"
                        r"by when|deadline|what year|which year|what date|which day|\bwhen\b|how long|timeline|time ?frame|which phases?|how many (?:phases|stages)",
                        re.IGNORECASE)
# "从哪年到哪年", "哪一年要达到", "in what year": the time asked is a year, which a duration (三年行动)
# or a deadline phrase without one (年底前) does not give.
YEAR_ASKED = re.compile(r"哪一?年|哪几年|哪幾年|哪個年|哪个年份|哪一个年份|what year|which year", re.IGNORECASE)
# "2月份", "二月": a month the question names, which the answering sentence must name too.
MONTH = re.compile(r"(?<![\d月])(1[0-2]|[1-9]|十[一二]?|[一二三四五六七八九])月(?!\d*日)")
CHINESE_MONTH = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10, "十一": 11, "十二": 12}
COMPARE_FIGURE = re.compile(r"多少|几|幾|比例|率|how many|how much|rate|percent", re.IGNORECASE)
PERSON_QUESTION = re.compile(r"叫什么|叫什麼|姓名|名字|是谁|是誰|who is|name of|whose name", re.IGNORECASE)
# "叫什么名字", "what is the name of": a person's name itself is asked, not only who (是谁: a post answers).
NAME_QUESTION = re.compile(r"叫什么|叫什麼|姓名|名字|name of|whose name|(?:his|her|their) names?", re.IGNORECASE)
# "哪家施工单位承建", "由哪家客运公司运营", "which company": an organisation of a kind the plans'
# units are seldom of, which the answering clause must name.
KIND_ASKED = re.compile(r"哪(?:一|几)?[家个些所](?:[\u4e00-\u9fff]{0,6}?)(?P<kind>公司|企业|集团|施工单位|施工方|承建单位|银行|医院|学校)|"
                        r"\bwhich (?:\w+ )?(?P<english>company|firm|contractor|enterprise|bank|hospital|school)\b", re.IGNORECASE)
KIND_IN_CHINESE = {"company": "公司", "firm": "公司", "contractor": "施工", "enterprise": "企业", "bank": "银行",
                   "hospital": "医院", "school": "学校", "施工单位": "施工", "施工方": "施工", "承建单位": "施工"}
# "哪个月底前完成", "几月份": a month is asked, which a year or 年底 does not give.
MONTH_ASKED = re.compile(r"哪一?个月|哪一?個月|几月份|幾月份|which month|what month", re.IGNORECASE)
# "哪天召开", "几月几日": a day is asked, which a month or a year alone does not give.
# "多久开一次", "检查频次", "how often": how often something recurs, which 每个季度 or 一月一考核
# states and a deadline does not.
FREQUENCY_ASKED = re.compile(r"(?:多久|多長時間|多长时间|多少天|几天|幾天|几个月|幾個月)[^，,。？?]{0,6}?[一1][次回]|频次|頻次|频率|頻率|"
                             r"how often|how frequently", re.IGNORECASE)
DATE_ASKED = re.compile(r"哪一?天|哪一?日|几月几[日号]|幾月幾[日號]|什么日子|哪个日子|on what date|what date|which day|what day", re.IGNORECASE)
OFFICIAL_TITLE = re.compile(r"副?(?:县长|縣長|市长|市長|区长|區長|书记|書記|局长|局長|主任|秘书长|秘書長)|mayor|secretary|director",
                            re.IGNORECASE)
# "召集人叫什么名字", "副召集人是谁": a person holding a role is asked (a role ends in 人/员/长/任).
ROLE_ASKED = re.compile(r"(?P<role>(?:(?![和与及的])[\u4e00-\u9fff]){1,5}?(?:人|员|长|任))的?(?:分别|各自|都)?(?:叫什么|姓名|名字|是谁)")
UNIT_ROLES = ("牵头", "配合", "责任", "负责")
CJK = re.compile(r"[\u4e00-\u9fff]")
TITLE_FILLER = re.compile(r"打好|发展|工作|实施|总体|方案|行动|专报|（[^）]*）")
TITLE_MARKS = re.compile(r"[“”\"「」『』‘’《》]")
# The nouns plan documents are titled with (…实施方案, …专报, …责任分解表, …考评办法, …规划, …工作要点).
PLAN_GENRES = "方案|专报|表|办法|规划|要点|细则"
PLAN_WORD = re.compile(PLAN_GENRES)
COMPARED_SPLIT = re.compile(r"和|与|與|跟|同|以及|及|还是|還是|\bvs\.?|versus")

Plan = tuple[str, str]  # (doc_id, annex path or "")


def language_of(text: str) -> str:
    """"zh", or "en" for a question written in English, also one that quotes a Chinese term
    ("How many 'little giant' firms (专精特新“小巨人”) …"): the script most of its letters are in."""
    return "en" if len(re.findall(r"[A-Za-z]", text)) > 2 * len(CJK.findall(text)) else "zh"


def months_named(simplified: str) -> tuple[str, ...]:
    """"2月份", "二月" → ("2月",): the months a question names, written as the plans write them."""
    return tuple(dict.fromkeys(f"{m if m.isdigit() else CHINESE_MONTH[m]}月" for m in MONTH.findall(simplified)))


def reported_places(simplified: str, text: str, unit_names: Sequence[str], gazetteer: Gazetteer) -> tuple[str, ...]:
    """The reported places (a newsletter's county rows: 双牌县) a question names, in Chinese or
    pinyin; a place inside a unit's name (岳阳市生态环境局平江分局) is the unit's, not the question's,
    and a region's own name (永州市) is no row's, though a row's short form may equal it (永州经开区)."""
    for unit in sorted(unit_names, key=len, reverse=True):
        simplified = simplified.replace(unit, " ")
    regions = {short_form(region) for region in gazetteer.regions}
    # The rows' own titles too: 金洞管理区, or 江华县 for 江华瑶族自治县, are no division's name as written.
    rows = re.findall(gazetteer.reported_pattern, simplified) if gazetteer.reported else []
    named = [n for n in places_named(simplified) + gazetteer.places_in_english(text) if short_form(n) not in regions]
    named += [n for n in rows if n in gazetteer.reported]  # a row's whole title: 永州经开区, not 永州
    return tuple(dict.fromkeys(place for name in named if (place := gazetteer.reported_place(name))))


def after_given(simplified: str) -> str:
    """What a question asks after the figure it gives ("…戴帽率90%以上，那汽车驾乘人员安全带佩戴率
    要求多少" → "那汽车驾乘人员安全带佩戴率要求多少"), or "" when it gives none or asks before it."""
    given = list(STATED_FIGURE.finditer(simplified))
    if not given:
        return ""
    rest = simplified[given[-1].end():]
    cut = re.search(r"[，,；;]", rest)
    return rest[cut.end():] if cut and QUANTITY_ASKED.search(rest[cut.end():]) else ""


def intent(question: str) -> str:
    """What kind of answer is wanted: metadata, structure, lead, number or general."""
    return next((name for name, pattern in INTENTS if pattern.search(question)), "general")


def named_plan(text: str, plans: Sequence[tuple[str, str, str, str]], gazetteer: Gazetteer) -> Plan | None:
    """The plan `text` names by (part of) its title: 翻身仗方案 → (002, ""), 防范化解风险阻击仗
    工作方案 → (003, 附件5). A document wins a tie with its copy in another's annex."""
    simplified = to_simplified(text).replace(" ", "")
    if not PLAN_WORD.search(simplified):
        return None
    quoted = re.findall(r"《([^》]+)》", simplified)
    bare = TITLE_MARKS.sub("", simplified)
    # The words right before 方案 are the plan's name: "六仗总体方案的安全生产目标" names 003, not 002.
    names = [bare[max(0, m.start() - 14):m.start()] for m in re.finditer(PLAN_GENRES.replace("专报|", ""), bare)]
    regions = gazetteer.regions_in(text)
    scored = []
    for order, (doc_id, annex, title, region) in enumerate(plans):
        if regions and region not in regions:
            continue  # 沅江的安全守底方案 is 001, though 000 has the same title words
        key = TITLE_MARKS.sub("", to_simplified(title).removeprefix(region))
        if quoted and not any(longest_common_substring(TITLE_MARKS.sub("", q), key) >= len(key) - 2 for q in quoted):
            continue  # 《…》 names some other document, one the corpus only mentions
        named = max((n for name in names for n in range(len(name), 1, -1) if name[-n:] in key), default=0)
        length = longest_common_substring(bare, key)
        if length <= 3:  # a short name: 六仗 or 翻身仗 are words only one title has
            core = TITLE_FILLER.sub("", key)
            shared = longest_common_substring(bare, core)
            length = shared + 2 if shared >= min(3, len(core)) else length
        scored.append((named, length, -order, (doc_id, annex)))
    best = max(scored, default=None)
    return best[3] if best and (best[0] >= 2 or best[1] > 3) else None


def compared_plans(text: str, plans: Sequence[tuple[str, str, str, str]], gazetteer: Gazetteer) -> list[Plan]:
    """Two or more plans a question sets side by side ("六仗总体方案的目标和翻身仗方案的目标")."""
    parts = COMPARED_SPLIT.split(to_simplified(text))
    named = [named_plan(part, plans, gazetteer) for part in parts if PLAN_WORD.search(part)]
    return list(dict.fromkeys(p for p in named if p))


@dataclass(frozen=True)
class Query:
    """One question as every stage reads it."""

    text: str
    simplified: str
    language: str  # "zh", or "en" for a question with no Chinese in it
    asked: str  # metadata / structure / lead / number / general, from the question's wording
    asked_besides_metadata: str  # the same, with metadata words set aside (a document the corpus only mentions)
    regions: tuple[str, ...]
    tokens: tuple[str, ...]  # the topic words (not places, not what kind of answer)
    attribute_tokens: tuple[str, ...]  # the topic words of the sub-question that asks the figure or time
    plan: Plan | None  # the plan the question names
    plan_words: tuple[str, ...]  # the topic words that are words of that plan's title ("守底", "优化发展环境")
    compared_plans: tuple[Plan, ...]
    counted: tuple[int, str] | None  # "哪六仗": six items, called 仗
    items_asked: int  # "分别是哪八个": how many items the question asks to have listed (0: no such count)
    unit_count_role: str | None  # "多少个责任单位": the role counted ("" for all); None when no count of units
    listing: bool  # 哪些 / which
    asks_tasks: bool  # what a unit leads or is responsible for (负责些什么, 牵头做什么)
    asks_for_units: bool
    unit_roles: tuple[str, ...]  # the roles named (牵头, 配合, 责任, 负责): "牵头哪项，又配合哪些" names two
    named_units: tuple[str, ...]  # units of the corpus the question names, longest first
    number_condition: tuple[float, str] | None  # "8个人": (8, 人) on a listing question
    condition_number: str  # the condition's number as written ("8")
    superlative: str  # 多 / 少 / 高 / 低 / 大 / 小, or ""
    status_verb: str | None  # 组建 / 印发 / 制定 on a listing question
    not_yet: bool
    asks_figure: bool  # 多少, 第几, how many
    asks_ordinal: bool  # 第几, 名次: a rank, which 第三届 gives and 多少 does not ask
    stated_figures: tuple[str, ...]  # figures the question itself gives ("下降50%，那破案率…"): no answer to it
    asks_time: bool  # 什么时候, 哪一年, 几个阶段, by when
    measure: str | None  # the pattern a figure must be counted in (人 → [人名], 资金 → 元)
    figure_unit: str | None  # the pattern the one figure asked is counted in (美元, [套个], 元), or None
    asks_ratio: bool  # the one figure asked is a share (治理比例, 几成, what percentage)
    unit_words: tuple[str, ...]  # the topic words that only name that unit (比例, 美元)
    compare_figure: bool
    years: tuple[str, ...]
    months: tuple[str, ...]  # months named ("2月"), as the plans write them
    places: tuple[str, ...]  # the places the corpus reports on that the question names (双牌县), as their rows are titled
    asks_year: bool  # the time asked is a year (从哪年到哪年), not a duration or a deadline
    issues: tuple[str, ...]
    latin_terms: tuple[str, ...]
    asks_person: bool
    asks_name: bool  # a person's name itself (叫什么名字), not a post
    asks_date: bool  # a day (哪天), not a year or a deadline
    asks_month: bool  # a month (哪个月底前), not a year or 年底
    asks_frequency: bool  # how often (多久开一次, 频次), not when
    kind_asked: str  # the kind of organisation asked for (哪家公司 → 公司, which contractor → 施工), or ""
    titles: tuple[str, ...]  # official titles named (县长, 主任), simplified
    role: str  # the words before "叫什么/是谁" that end in a role (…专班召集人), simplified
    asks_parts: bool  # the plan's own parts (组成, 栏目)
    names_annexes: bool
    parts_asked: tuple[str, ...]
    statement_words: tuple[str, ...]
    # The plan an English question names in its own words, whose clauses retrieval ranks first
    # (set by the encoder, Assistant.parse). A Chinese question names a plan by its title's
    # words, which the lexical ranking already matches; a title it half-remembers (化解存量债务
    # 依据的那个实施方案) may name a plan the corpus only mentions, so no plan is imposed there.
    searched_plan: Plan | None = None

    @property
    def chinese_tokens(self) -> list[str]:
        """The topic words in Chinese (an English question's come from the glossary)."""
        return [t for t in self.tokens if CJK.search(t)]

    @property
    def unit_role(self) -> str:
        """The first role named, or "" for none."""
        return self.unit_roles[0] if self.unit_roles else ""

    @property
    def names_plan(self) -> bool:
        return self.plan is not None


def parse_query(text: str, plans: Sequence[tuple[str, str, str, str]], unit_names: Sequence[str], gazetteer: Gazetteer,
                content_tokens: Callable[[str], list[str]]) -> Query:
    """Parse `text` against the corpus: its plans (Store.plans), unit names, places and vocabulary."""
    simplified = to_simplified(text)
    counted = COUNTED.search(simplified)
    unit_count = UNIT_COUNT.search(simplified)
    listing = bool(LIST_QUESTION.search(text))
    wanted = (NUMBER_CONDITION.search(simplified) or ENGLISH_HEADCOUNT.search(text)) if listing else None
    extreme = SUPERLATIVE.search(simplified)
    plan = named_plan(text, plans, gazetteer)
    title = next((to_simplified(t) for d, a, t, _ in plans if (d, a) == plan), "")
    tokens = tuple(content_tokens(text))
    # "专班办公室有几个人？调度会是谁召开的？": the figure is about the first part; a sentence that
    # states it may cover that part rather than the whole question.
    parts = [part for part in re.split(r"[？?；;]", simplified) if part.strip()]
    quantity = [asks_quantity(part) for part in parts]
    asking = [part for part, q in zip(parts, quantity) if q or TIME_ASKED.search(part)]
    measure = next((m for part, q in zip(parts, quantity) if q and (m := MEASURE_ASKED.search(part))), None)
    # "新添多少张床位，给多少户改造": two figures in two units; the unit is asked only of a lone figure.
    lone = len(asking) == 1 and len(QUANTITY_ASKED.findall(asking[0])) <= 1
    figure_unit, unit_words = asked_unit(asking[0]) if lone else (None, set())
    if lone and figure_unit is None and measure:  # "一共培训了多少人": the one figure asked counts people
        figure_unit = COUNTED_IN.get(measure["unit"], measure["unit"])
    aliased = " ".join([simplified, *(short for written, short in UNIT_ALIASES.items() if written in simplified),
                        *shortened_names(simplified, unit_names)])
    return Query(
        text=text, simplified=simplified, language=language_of(text),
        asked=intent(text), asked_besides_metadata=intent(METADATA.sub("", text)),
        regions=tuple(gazetteer.regions_in(text)), tokens=tokens,
        attribute_tokens=tuple(content_tokens(" ".join(asking))) if len(parts) > 1 and asking else
        tuple(content_tokens(after)) if (after := after_given(simplified)) else tokens,
        plan_words=tuple(t for t in tokens if t in title),
        plan=plan, compared_plans=tuple(compared_plans(text, plans, gazetteer)),
        counted=(int(counted["digits"]) if counted["digits"] else chinese_number(counted["chinese"]), counted["noun"] or "")
        if counted else None,
        items_asked=(int(counted["digits"]) if counted["digits"] else chinese_number(counted["chinese"]))
        if counted and counted.group(0).startswith("哪") else 0,
        unit_count_role=(unit_count["role"] or "") if unit_count else None,
        listing=listing, asks_tasks=bool(TASKS_ASKED.search(simplified)), asks_for_units=bool(ASKS_FOR_UNITS.search(text)),
        unit_roles=tuple(r for r in UNIT_ROLES if r in simplified),
        named_units=tuple(u for u in unit_names if u in aliased),
        number_condition=(float(wanted["number"]), wanted["unit"] or "人") if wanted else None,
        condition_number=wanted["number"] if wanted else "",
        superlative=extreme["word"] if extreme else "",
        status_verb=next((v for v, pattern in STATUS_VERBS if pattern.search(text)), None) if listing else None,
        not_yet=bool(NOT_YET.search(text)),
        asks_figure=any(quantity), asks_ordinal=bool(RANK_ASKED.search(text)),
        stated_figures=tuple(dict.fromkeys(STATED_FIGURE.findall(simplified))), asks_time=bool(TIME_ASKED.search(text)),
        measure=COUNTED_IN.get(measure["unit"], measure["unit"]) if measure else None,
        figure_unit=figure_unit, unit_words=tuple(w for w in tokens if w in unit_words),
        asks_ratio=lone and figure_unit is None and bool(RATIO_ASKED.search(asking[0])),
        compare_figure=bool(COMPARE_FIGURE.search(text)),
        years=tuple(YEAR.findall(text)), months=months_named(simplified), places=reported_places(simplified, text, unit_names, gazetteer),
        asks_year=bool(YEAR_ASKED.search(text)), issues=tuple(ISSUE.findall(simplified)),
        latin_terms=tuple(LATIN_TERM.findall(text)),
        asks_person=bool(PERSON_QUESTION.search(text)), asks_name=bool(NAME_QUESTION.search(text)),
        asks_date=bool(DATE_ASKED.search(text)), asks_month=bool(MONTH_ASKED.search(text)),
        asks_frequency=bool(FREQUENCY_ASKED.search(text)),
        kind_asked=KIND_IN_CHINESE.get(kind := (found["kind"] or found["english"].lower()), kind)
        if (found := KIND_ASKED.search(simplified)) else "",
        titles=tuple(dict.fromkeys(to_simplified(m) for m in OFFICIAL_TITLE.findall(text))),
        role=role["role"] if (role := ROLE_ASKED.search(simplified)) else "",
        asks_parts=bool(DOCUMENT_PARTS.search(text)), names_annexes="附件" in simplified,
        parts_asked=tuple(w for w in PLAN_PARTS if w in simplified),
        statement_words=tuple(w for w in STATEMENT_WORDS if w in simplified),
    )
