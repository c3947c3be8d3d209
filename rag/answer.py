"""Grounded answers: built from parsed clauses only, every statement cited.

Officials act on these answers, so a wrong unit or an invented number is worse than no answer.
The composer therefore never writes a fact of its own: it picks clauses, quotes exact spans
of them, and names the units the parser read from them. When the corpus does not cover the
question (a place or year it never mentions, a result the plans only set targets for, a
person it never names, an instruction rather than a question) it says so plainly.
"""
from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import replace
from typing import TYPE_CHECKING
from dataclasses import asdict, dataclass, field

from rag.clean import to_simplified
from rag.glossary import PLACES, chinese_terms
from rag.parse import chinese_number
from rag.retrieve import PLACE_NAMES, REGION_NAMES, Hit, Retriever, regions_in, without_places
from rag.units import ALIASES as UNIT_ALIASES
from rag.units import Responsibility, find_responsibilities, normalize_unit

if TYPE_CHECKING:
    from rag.llm import LLMBackend

MAX_QUESTION = 500
NOT_FOUND = "语料中未找到"
INJECTION = re.compile(
    r"忽略|無視|无视|系统提示|系統提示|提示词|提示詞|system prompt|ignore (?:all |the |any )?(?:previous|prior|above)|"
    r"扮演|角色扮演|role.?play|pretend|假装|假裝|编一个|編一個|编造|編造|捏造|瞎编|make up|invent|fabricate|"
    r"写一首|寫一首|作诗|写诗|七言|五言|poem|joke|笑话|笑話|段子|"
    r"假设你是|假設你是|假如你是|suppose you are|you are now|不受[^，,。]{0,6}限制|"
    r"override|developer mode|dump|api.?keys?|密钥|起草一份|起草一篇|擬一份|拟一份|以[^，,。]{1,12}的?名义|以[^，,。]{1,12}的?名義",
    re.IGNORECASE)
ACTUAL_RESULT = re.compile(r"实际|實際|actual|发生了|發生了|达到了多少|達到了多少|完成了多少|完成了几|happened|occurred|目前.*价",
                           re.IGNORECASE)
PERSONAL = re.compile(r"手机|手機|(?<!电视)电话|(?<!電視)電話|号码|號碼|住址|邮箱|phone|mobile|e-?mail|address", re.IGNORECASE)
PERSON_QUESTION = re.compile(r"叫什么|叫什麼|姓名|名字|是谁|是誰|who is|name of|whose name", re.IGNORECASE)
OFFICIAL_TITLE = re.compile(r"副?(?:县长|縣長|市长|市長|区长|區長|书记|書記|局长|局長|主任|秘书长|秘書長)|mayor|secretary|director",
                            re.IGNORECASE)
INTENTS = (
    ("metadata", re.compile(r"文号|文號|印发|印發|发布|發布|编发|編發|期号|期號|哪天出|document number|issued|issue date",
                            re.IGNORECASE)),
    ("structure", re.compile(r"组成|組成|哪几个部分|哪幾個部分|几个方面|幾個方面|哪几个方面|哪幾個方面|哪几方面|哪幾方面|几大块|幾大塊|哪几块|章节|章節|栏目|欄目|"
                             r"哪几条|哪幾條|几条|幾條|多少条|多少條|下面有哪些|下面列|"
                             r"多少项|多少項|几项|幾項|哪几项|哪幾項|有哪些附件|哪些附件|sections|structure|what parts|how many items",
                             re.IGNORECASE)),
    ("lead", re.compile(r"牵头|牽頭|谁|誰|哪个部门|哪個部門|哪些部门|哪些部門|哪个单位|哪個單位|哪些单位|哪些單位|哪家|召集|"
                        r"\blead|responsib|in charge|which (?:department|unit|agency|bureau)|\bwho\b", re.IGNORECASE)),
    ("number", re.compile(r"多少|几|幾|目标|目標|比例|率|数量|數量|标准|標準|how many|how much|rate|target|percent|number",
                          re.IGNORECASE)),
    ("lead", re.compile(r"负责|負責|配合|责任单位|責任單位", re.IGNORECASE)),
)
# "哪六仗", "哪3个方面": a count of a section's items, and what the items are called.
COUNTED = re.compile(r"[哪这這](?:(?P<digits>\d{1,2})|(?P<chinese>[一二三四五六七八九十]{1,2}))(?:个|個|项|項|大|条|條|类|類)?"
                     r"(?P<noun>[\u4e00-\u9fff])?")
# A condition on a number ("8个人", "3项") and a superlative ("最少", "最多") over a section's items.
NUMBER_CONDITION = re.compile(r"(?<![\d.])(?P<number>\d+(?:\.\d+)?)\s*(?:个|名)?(?P<unit>人|项|家|条|个)")
ENGLISH_HEADCOUNT = re.compile(r"(?P<number>\d+)\s*(?P<unit>)(?:people|persons|staff|members|officials)", re.IGNORECASE)
SUPERLATIVE = re.compile(r"最(?P<word>多|少|高|低|大|小)")
LIST_QUESTION = re.compile(r"哪些|哪幾|哪几|which", re.IGNORECASE)
UNIT_WORDS = ("人", "项", "家", "条")
# "专班还没组建好", "which had not yet set up their task force": a step each item reports on.
NOT_YET = re.compile(r"还没|还未|尚未|没有|未|not yet|yet to|haven't|hasn't|have not|has not", re.IGNORECASE)
STATUS_VERBS = (("组建", re.compile(r"组建|組建|成立|set(?:ting)? up|establish|form", re.IGNORECASE)),
                ("印发", re.compile(r"印发|印發|issued|publish", re.IGNORECASE)),
                ("制定", re.compile(r"制定|起草|draw(?:n)? up|draft|formulat", re.IGNORECASE)))
STATEMENT_WORDS = ("要求", "强调", "指出", "部署", "目标")
MAX_LISTED = 20
# "哪些单位配合", "由谁牵头": the units are what is asked, not the tasks a unit has.
ASKS_FOR_UNITS = re.compile(r"哪些单位|哪些單位|哪个单位|哪個單位|哪些部门|哪些部門|哪个部门|哪個部門|哪家|谁|誰|"
                            r"which (?:unit|department|bureau|agenc)|\bwho\b", re.IGNORECASE)
# "一共列了多少个责任单位": a count of the units a clause names.
UNIT_COUNT = re.compile(r"(?:多少|几)个?(?P<role>责任|牵头|配合|负责)?(?:单位|部门)|how many (?:units|departments|bureaus)", re.IGNORECASE)
# Questions about a plan's own parts, as opposed to a count inside one of its clauses.
DOCUMENT_PARTS = re.compile(r"组成|組成|部分|几大块|幾大塊|哪几块|哪幾塊|章节|章節|栏目|欄目|几个方面|幾個方面|哪些方面|"
                            r"sections|structure|what parts", re.IGNORECASE)
TITLE_FILLER = re.compile(r"打好|发展|工作|实施|总体|方案|行动|专报|（[^）]*）")
DOCUMENT_NAME = re.compile(r"[\w“”\"]*?(?:方案|专报|分解表)的?")
PLAN_PARTS = ("目标",)  # tasks and mechanisms mention topics everywhere; 工作目标 is one part
TITLE_MARKS = re.compile(r"[“”\"「」『』‘’《》]")
# "宁远县安全守底行动实施方案定了哪些目标": a county's own plan, which the corpus only reports on.
COUNTY_PLAN = re.compile(r"(?P<place>(?:冷水滩|零陵|祁阳|东安|双牌|道|江华|江永|宁远|新田|蓝山)(?:县|区|市)|(?:金洞|回龙圩)管理区|永州经开区)"
                         r"[^，,。？?]{0,12}方案")
PLAN_CONTENT = re.compile(r"目标|任务|措施|要求|规定|内容|牵头|负责|指标")
PLAN_STATUS = re.compile(r"进展|进度|制定|印发|审定|签发|提交|到哪|状态|情况|专班")
# "多少人", "几个": the unit the asked-for number is counted in.
MEASURE_ASKED = re.compile(r"(?:多少|几)(?:万|亿)?(?P<unit>人|家|座|户|所|次|名|元|资金|钱|经费)")
COUNTED_IN = {"人": "[人名]", "名": "[人名]", "资金": "元", "钱": "元", "经费": "元"}
# "What targets does Qiyang's own plan set?": the English form of a county-plan question.
ENGLISH_COUNTY_PLAN = re.compile(
    rf"\b(?P<place>{'|'.join(p for p, c in PLACES.items() if c in REGION_NAMES['永州市'] and c != '永州')})\b[^.?!]{{0,60}}\bplan\b",
    re.IGNORECASE)
PLAN_CONTENT_EN = re.compile(r"target|task|goal|measure|requirement|content|lead|responsib|indicator", re.IGNORECASE)
PLAN_STATUS_EN = re.compile(r"progress|status|issued|draft|submitted|approv|stage|task force|set up", re.IGNORECASE)
# "益阳市的安全守底行动工作专班": a place's own plan; the corpus has plans of 平江, 沅江 and 永州 only.
OWNED_PLAN = r"(?:省|市|县)?的?[^，,。？?]{0,12}(?:方案|专班|专报)"
YEAR = re.compile(r"(?<!\d)(19\d\d|20\d\d)(?!\d)")
DATE = re.compile(r"\d{1,2}月\d{1,2}日|\d{1,2}月(?:份|底|初|中旬|上旬|下旬)?|\d{1,2}日")
CHINESE_FIGURE = re.compile(r"[一二三四五六七八九十两兩百千万萬]+(?:届|屆|位|个|個|项|項|名|家|条|條|类|類|次|批|支|座|所|户|戶|成|倍)")
# "多少", "第几届", "how many": a question that wants a figure, which a clause must state.
QUANTITY_ASKED = re.compile(r"多少|(?<!哪)几[个個项項条條位届屆次年名人家倍成批支座所户]|(?<!哪)幾[個項條位屆次年名人家倍成批支座所戶]|"
                            r"百分之几|第几|第幾|how many|how much|what percentage", re.IGNORECASE)
LATIN_TERM = re.compile(r"(?<![A-Za-z])[A-Za-z]{2,5}\d+(?:\.\d+)?(?![\d.])")  # PM2.5, PM10, COD5
ISSUE = re.compile(r"第\s*\d+\s*期")
PINYIN_WORD = re.compile(
    r"\b([A-Z](?:(?:zh|ch|sh|[bpmfdtnlgkhjqxrzcsyw])?(?:iang|iong|uang|ang|eng|ing|ong|uan|ian|iao|uai|ai|ei|ao|ou|an|en|in|un|ua|uo|ia|ie|iu|ui|ue|er|a|o|e|i|u)){2,3})\b")
PLACE_IN_ENGLISH = re.compile(r"(?:\b(?:in|of|from|for|at|to|about)\s+(?:the\s+)?(?P<before>[A-Z][a-z]+)\b)|"
                              r"(?:\b(?P<word>[A-Z][a-z]+)(?='s\b|’s\b|\s+(?:County|City|District|Province|Town|Village|Prefecture)\b))")
# A surname and a given name in pinyin ("Chen Xiong", "Li Shishi") name a person, not a place.
PERSON_NAME = re.compile(r"\b(?:Chen|Li|Wang|Zhang|Liu|Yang|Huang|Zhao|Wu|Zhou|Xu|Sun|Ma|Zhu|Hu|Guo|He|Gao|Lin|Luo|Zheng|Liang|"
                         r"Xie|Song|Tang|Deng|Han|Feng|Cao|Peng|Zeng|Xiao|Tian|Dong|Pan|Yuan|Cai|Jiang|Yu|Du|Ye|Cheng|Wei|Su|Lu|"
                         r"Ding|Ren|Shen|Yao|Cui|Zhong|Tan|Long|Liao|Qiu|Xiang|Yi|Zou|Xiong|Qiu|Jin|Fan|Shi|Bai|Kong|Mao|Qin)"
                         r" [A-Z][a-z]+(?:[ -]?[a-z]+)?\b(?! (?:County|City|District|Town|Province|Village))")
SENTENCE_END = re.compile(r"[。；;！？!?]|\n")
CJK = re.compile(r"[\u4e00-\u9fff]")
ASPECT_NOISE = re.compile(r"的|各是|各为|分别|分別|是多少|多少|有何不同|有什么不同|有何区别|有什么区别|区别|區別|对比|對比|比较|比較|"
                          r"都|由谁|谁|誰|担任|擔任|设在|設在|哪个部门|哪個部門|哪里|哪裡|[？?。，,、\s]")


def intent(question: str) -> str:
    """What kind of answer is wanted: metadata, structure, lead, number or general."""
    return next((name for name, pattern in INTENTS if pattern.search(question)), "general")


@dataclass
class Citation:
    n: int
    doc_id: str
    source: str
    title: str
    path: str
    clause_title: str
    lead_units: list[str]
    cooperating_units: list[str]
    responsible_units: list[str]
    quote: str
    text: str
    region: str = ""
    also: list[dict] = field(default_factory=list)
    scope: str = "clause"  # "section": the clause with everything numbered under it (rag.sections)


@dataclass
class Answer:
    question: str
    answer: str
    refused: bool
    mode: str = "grounded"
    citations: list[Citation] = field(default_factory=list)
    retrieved: list[dict] = field(default_factory=list)
    timings_ms: dict[str, float] = field(default_factory=dict)
    notice: str = ""
    kind: str = ""  # how it was composed: lead, number, general, compare, structure, across, metadata

    def to_dict(self) -> dict:
        return asdict(self)


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


def is_table_row(clause: dict) -> bool:
    """A 责任分解表 row: its responsibility is the row's own 牵头单位/责任单位 cells."""
    return clause["responsibility"].startswith("牵头单位：")


def has_figure(text: str) -> bool:
    """Whether `text` states a number other than a year or a date ("2023年重点民生实事项目" and
    "2月22日" state none;
    "第三届", "后三位" do)."""
    return bool(re.search(r"\d", DATE.sub("", YEAR.sub("", text))) or CHINESE_FIGURE.search(text))


def longest_common_substring(a: str, b: str) -> int:
    """Length of the longest run of characters shared by `a` and `b` (short strings only)."""
    best = 0
    for i in range(len(a)):
        for j in range(i + best + 1, len(a) + 1):
            if a[i:j] in b:
                best = j - i
            else:
                break
    return best


def simplified_units(units: list[str]) -> str:
    return "、".join(to_simplified(u) for u in units)


class Assistant:
    """Question in, cited answer out; holds the retriever (and its models) for its lifetime."""

    def __init__(self, retriever: Retriever | None = None, llm: LLMBackend | None = None) -> None:
        self.retriever = retriever or Retriever()
        self.llm = llm
        clauses = self.retriever.clauses
        # Titles count: 蓝山县 is named only as the title of its row in the newsletter.
        self.corpus_text = "\n".join(c["text_simplified"] + "\n" + to_simplified(c["title"]) for c in clauses) + "\n" + "\n".join(
            sorted({to_simplified(c["doc_title"]) for c in clauses}))
        self.by_path = {(c["doc_id"], c["path"]): c for c in clauses}
        # Every unit the plans name, in matching form (公安局, 统计局, 润恒自来水公司), longest first.
        self.unit_names = sorted({n for c in clauses for u in c["lead_units"] + c["cooperating_units"] + c["responsible_units"]
                                  if len(n := normalize_unit(u)) >= 3}, key=len, reverse=True)

    def record(self, doc_id: str, path: str, scope: str = "clause") -> dict | None:
        """The clause a citation names, or with scope "section" the clause and everything under it."""
        if scope == "section":
            return self.retriever.sections.get((doc_id, path))
        return self.by_path.get((doc_id, path))

    def cited_text(self, doc_id: str, path: str) -> str | None:
        """What a citation of `path` covers: a heading covers its numbered items (二、(二) covers 1.–15.)."""
        found = self.record(doc_id, path, "section") or self.record(doc_id, path)
        return found["text"] if found else None

    # -- answerability ---------------------------------------------------------------------
    def unknown_places(self, question: str) -> list[str]:
        """Places named in the question that the corpus never mentions."""
        import jieba.posseg

        places = [w for w, flag in jieba.posseg.cut(to_simplified(question)) if flag == "ns" and len(w) >= 2]
        unknown = [p for p in places if p not in self.corpus_text]
        names = {w for m in PERSON_NAME.finditer(question) for w in m.group(0).split()}  # Chen Xiong is 陈雄
        # A pinyin-shaped word is a place where English puts places ("Changsha's plan", "in Changsha",
        # "Shenzhen City"), not any capitalised word ("Management Area", "Tianyue Investment Group").
        placed = {m["before"] or m["word"] for m in PLACE_IN_ENGLISH.finditer(question)}
        for word in (w for w in PINYIN_WORD.findall(question) if w not in names and w in placed):
            known = PLACES.get(word.lower())
            if known is None or known not in self.corpus_text:
                unknown.append(word)
        return unknown

    def refusal_reason(self, question: str) -> str | None:
        """Why the corpus cannot answer, judged from the question alone, or None."""
        simplified = to_simplified(question)
        if INJECTION.search(question):
            return "这是一条指令而不是关于方案内容的问题。本助手只依据方案原文作答，不执行问题中的指令，也不编造内容。"
        if PERSONAL.search(question):
            return "方案文本不包含任何人员的联系方式等个人信息。"
        places = self.unknown_places(question)
        if places:
            return f"语料只包含平江县、沅江市和永州市的方案，没有涉及“{'、'.join(places)}”的内容。"
        years = [y for y in YEAR.findall(simplified) if y not in self.corpus_text]
        if years:
            return f"语料中的方案没有涉及{'、'.join(years)}年的内容。"
        issues = [i for i in ISSUE.findall(simplified) if re.sub(r"\s", "", i) not in self.corpus_text]
        if issues:
            return f"语料中没有“{issues[0]}”。"
        if ACTUAL_RESULT.search(question):
            return "方案只规定目标和任务，没有记载实际完成情况、统计结果或现状数据。"
        county = self.county_plan_asked(question)
        if county:
            return f"语料没有收录{county}的方案文本，只有永州专报对其进展的报道（例如问：{county}的方案进展到哪一步了？）。"
        owner = self.other_places_plan(simplified)
        if owner and not regions_in(question):
            return f"语料只有平江县、沅江市和永州市的方案，没有{owner}的方案或专班。"
        return None

    @staticmethod
    def other_places_plan(simplified: str) -> str | None:
        """A place named as the owner of a plan or task force ("益阳市的安全守底行动工作专班")."""
        import jieba.posseg

        for word, flag in jieba.posseg.cut(simplified):
            if flag == "ns" and len(word) >= 2 and re.search(re.escape(word) + OWNED_PLAN, simplified):
                return word
        return None

    def county_plan_asked(self, question: str) -> str | None:
        """The 永州 county whose own plan's content a question asks for, in Chinese or English."""
        simplified = to_simplified(question)
        found = COUNTY_PLAN.search(simplified)
        if found and PLAN_CONTENT.search(simplified) and not PLAN_STATUS.search(simplified):
            return found["place"]
        english = ENGLISH_COUNTY_PLAN.search(question)
        if english and PLAN_CONTENT_EN.search(question) and not PLAN_STATUS_EN.search(question):
            name = PLACES[english["place"].lower()]
            return next((t for t in self.retriever.place_rows if t.startswith(name)), name)  # 蓝山 → 蓝山县
        return None

    def unanswered(self, question: str, tokens: list[str], hits: list[Hit]) -> str | None:
        """Why the retrieved clauses do not answer, or None when they do."""
        chinese = [t for t in tokens if CJK.search(t)]
        # A year or a measured term the question asks about (2022年, PM2.5) must be in what answers it.
        where = [to_simplified(" ".join([h.clause["doc_title"], *h.clause["heading_path"], h.clause["text"]])) for h in hits[:3]]
        for asked in YEAR.findall(question) + LATIN_TERM.findall(question):
            if not any(asked.lower() in w.lower() for w in where):
                return f"检索到的条款没有涉及“{asked}”。"
        if QUANTITY_ASKED.search(question) and not UNIT_COUNT.search(to_simplified(question)) and not any(
                has_figure(sentence) and self.retriever.coverage(chinese, to_simplified(sentence) + h.clause["title"]) >= 0.5
                for h in hits[:3] for sentence in (h.clause["text"][a:b] for a, b in spans(h.clause["text"]))):
            return "检索到的条款没有写出所问的数字。"
        measure = MEASURE_ASKED.search(to_simplified(question))
        unit = measure and COUNTED_IN.get(measure["unit"], measure["unit"])
        if measure and not any(re.search(rf"\d\s*(?:万|亿)?{unit}", to_simplified(h.clause["text"]))
                               and self.retriever.clause_coverage(chinese, h.clause) >= 0.5 for h in hits[:3]):
            return f"检索到的条款没有写出以“{unit.strip('[]')[0]}”计的数字。"
        named_place = any(name in to_simplified(question) and name in hits[0].clause["title"] for name in PLACE_NAMES)
        if not chinese and not named_place:  # "道县的方案到什么程度了" is about 道县's own report
            return "问题里没有能在方案中查找的内容。请用中文（或常见的英文术语）说明要查的事项。"
        if max((self.retriever.clause_coverage(chinese, h.clause) for h in hits[:3]), default=0.0) < 0.5:
            return "检索到的条款都不包含问题所问的内容。"
        titles = {to_simplified(m) for m in OFFICIAL_TITLE.findall(question)}
        # 冷水滩区专班办公室的主任: only 冷水滩区's own report can name its 主任.
        asked_rows = [h for h in hits[:3] if h.clause["title"] in to_simplified(question) and h.clause["path"].endswith(h.clause["title"])]
        if PERSON_QUESTION.search(question) and titles and not any(
                t in h.clause["text_simplified"] for h in asked_rows or hits[:3] for t in titles):
            return "方案没有写出该职务人员的姓名。"
        return None

    def plans(self) -> list[tuple[str, str, str, str]]:
        """(doc_id, annex path or "", title, region) of every plan: each document and each annex
        that is a plan of its own (003 附件2–7, e.g. 平江县打好防范化解风险阻击仗工作方案)."""
        documents = sorted({(c["doc_id"], "", c["doc_title"], c["region"]) for c in self.retriever.clauses})
        annexes = sorted((s["doc_id"], s["path"], s["title"], s["region"]) for s in self.retriever.sections.values()
                         if re.fullmatch(r"附件\d+", s["path"]) and s["title"].endswith(("方案", "表")))
        return documents + annexes

    def named_plan(self, question: str) -> tuple[str, str] | None:
        """The plan a question names by (part of) its title: 翻身仗方案 → (002, ""), 防范化解风险阻击仗
        工作方案 → (003, 附件5). A document wins a tie with its copy in another's annex."""
        simplified = to_simplified(question).replace(" ", "")
        if not re.search(r"方案|专报|表", simplified):
            return None
        quoted = re.findall(r"《([^》]+)》", simplified)
        bare = TITLE_MARKS.sub("", simplified)
        # The words right before 方案 are the plan's name: "六仗总体方案的安全生产目标" names 003, not 002.
        names = [bare[max(0, m.start() - 14):m.start()] for m in re.finditer("方案|表", bare)]
        regions = regions_in(question)
        scored = []
        for order, (doc_id, annex, title, region) in enumerate(self.plans()):
            if regions and region not in regions:
                continue  # 沅江的安全守底方案 is 001, though 000 has the same title words
            key = TITLE_MARKS.sub("", re.sub(r"^(平江县|沅江市|永州市)", "", to_simplified(title)))
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

    def named_document(self, question: str) -> str | None:
        """The corpus document a question names, e.g. 翻身仗方案 → 002 (an annex plan → its document)."""
        plan = self.named_plan(question)
        return plan[0] if plan else None

    def in_plan(self, clause: dict, plan: tuple[str, str], compared: list[tuple[str, str]]) -> bool:
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
        return not any(self.retriever.clauses[j]["doc_id"] in others for j in self.retriever.twins[clause["text_key"]])

    def compared_plans(self, question: str) -> list[tuple[str, str]]:
        """Two or more plans a question sets side by side ("六仗总体方案的目标和翻身仗方案的目标")."""
        parts = re.split(r"和|与|與|跟|同|以及|及|还是|還是|\bvs\.?|versus", to_simplified(question))
        named = [self.named_plan(part) for part in parts if re.search(r"方案|专报|表", part)]
        return list(dict.fromkeys(p for p in named if p))

    # -- quoting ---------------------------------------------------------------------------
    def citation(self, n: int, hit: Hit, quote: str) -> Citation:
        c = hit.clause
        return Citation(n, c["doc_id"], c["source"], c["doc_title"], c["path"], c["title"], c["lead_units"],
                        c["cooperating_units"], c["responsible_units"], quote, c["text"], c["region"], hit.also,
                        "section" if "children" in c else "clause")

    def quote(self, text: str, tokens: list[str], need_digit: bool = False, limit: int = 400) -> str:
        """The exact span of `text` that covers the question: short texts whole; otherwise the
        run of sentences from the first to the last one that adds covered words."""
        if len(text) <= 220 and not need_digit:
            return text
        sentences = spans(text)
        useful = [(s, e) for s, e in sentences if not need_digit or has_figure(text[s:e])] or sentences
        covered: set[str] = set()
        chosen: list[tuple[int, int]] = []
        while True:
            gains = [(sum(self.retriever.idf(t) for t in tokens if t not in covered and t in to_simplified(text[s:e])), -i)
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

    @staticmethod
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

    @staticmethod
    def item_name(clause: dict) -> str:
        """An item as listed: its path, and its title unless the path already says it (【县市区动态】道县)."""
        title = to_simplified(clause["title"])
        return clause["path"] if clause["path"].startswith("【") or clause["path"].endswith(title) else f"{clause['path']} {title}"

    @staticmethod
    def label(c: Citation) -> str:
        return f"《{c.title}》{c.path}「{to_simplified(c.clause_title)}」"

    @staticmethod
    def units_sentence(c: Citation) -> str:
        parts = []
        if c.lead_units:
            parts.append(f"牵头单位：{simplified_units(c.lead_units)}")
        if c.cooperating_units:
            parts.append(f"配合单位：{simplified_units(c.cooperating_units)}")
        if c.responsible_units:
            parts.append(f"负责单位：{simplified_units(c.responsible_units)}")
        return "；".join(parts)

    @classmethod
    def units_note(cls, c: Citation) -> str:
        """The units in brackets after a label, or nothing for a clause that names none."""
        units = cls.units_sentence(c)
        return f"（{units}）" if units else ""

    # -- composing -------------------------------------------------------------------------
    def compose_lead(self, hits: list[Hit], tokens: list[str], counted_role: str | None = None) -> tuple[str, list[Citation]]:
        """Units of the best clause; another plan's clause on the same topic is shown beside it.

        `counted_role` ("责任", "牵头", "配合", "负责" or "" for all) asks how many units the clause names.
        """
        with_units = [h for h in hits if h.clause["lead_units"] or h.clause["cooperating_units"] or h.clause["responsible_units"]]
        coverage = lambda hit: self.retriever.clause_coverage(tokens, hit.clause)  # noqa: E731
        if not with_units or coverage(with_units[0]) < coverage(hits[0]) - 0.2:
            # The clause that answers names a person's post (常务副县长总牵头), not a unit.
            return self.compose_general(hits, tokens)
        chosen = [with_units[0]]
        if is_table_row(with_units[0].clause):
            # A table question (李适时 召集 哪几仗) may be answered by several rows.
            chosen += [h for h in with_units[1:] if is_table_row(h.clause)
                       and self.retriever.coverage(tokens, h.clause["text_simplified"]) >= 0.99]
        else:
            chosen += self.other_plans(with_units[0], tokens)
        lines, citations = [], []
        for n, hit in enumerate(chosen, 1):
            table_row = is_table_row(hit.clause)
            quote, units = (hit.clause["text"], None) if table_row else self.responsibility_quote(hit.clause, tokens)
            c = self.citation(n, hit, quote)
            if units:
                c.lead_units, c.cooperating_units, c.responsible_units = units.lead_units, units.cooperating_units, units.responsible_units
            scope = f"{to_simplified(units.topic)}方面，" if units and units.topic else ""
            count = self.unit_count(c, counted_role) if counted_role is not None and n == 1 else ""
            lines.append(f"{'根据' if n == 1 else '另据'}{self.label(c)}：{scope}{self.units_sentence(c) or '未写明牵头或负责单位'}。"
                         f"{count}[{n}]\n\n> {quote}")
            citations.append(c)
        return "\n\n".join(lines), citations

    @staticmethod
    def unit_count(c: Citation, role: str) -> str:
        """"共 26 个责任单位。": the units of the asked role the clause names, counted as written."""
        by_role = {"牵头": c.lead_units, "配合": c.cooperating_units, "责任": c.responsible_units or c.cooperating_units,
                   "负责": c.responsible_units or c.cooperating_units}
        units = by_role.get(role) or list(dict.fromkeys(c.lead_units + c.cooperating_units + c.responsible_units))
        return f"共 {len(units)} 个{role}单位。"

    def other_plans(self, best: Hit, tokens: list[str]) -> list[Hit]:
        """The same topic assigned in the region's other plans (平江 000 vs 002 on 燃气): shown
        beside the best clause, each labelled by its plan, never merged."""
        shared = [t for t in tokens if t in best.clause["text_simplified"]]
        if not shared:
            return []
        seen = {best.clause["doc_id"]} | {a["doc_id"] for a in best.also}
        others = sorted({c["doc_id"] for c in self.retriever.clauses if c["region"] == best.clause["region"]} - seen)
        found = []
        for doc_id in others:
            for hit in self.retriever.search(" ".join(shared), k=3, doc_id=doc_id):
                c = hit.clause
                if (c["lead_units"] or c["responsible_units"]) and self.retriever.coverage(shared, c["text_simplified"]) >= 0.99:
                    found.append(hit)
                    break
        return found[:2]

    def responsibility_quote(self, clause: dict, tokens: list[str]) -> tuple[str, Responsibility | None]:
        """The span a responsibility governs and its units, when the question targets one sentence.

        A clause can hold several parentheticals, each governing the text since the previous one
        (附件3 二、(一): …技术攻关（科工信局牵头）。开展油茶…试验（林业局牵头）). A question about the
        clause as a whole (its title) gets the whole clause and all its units.
        """
        text = clause["text"]
        found = find_responsibilities(text)
        whole = text if len(text) <= 300 else self.quote(text, tokens)
        if len(found) < 2:
            return whole, None
        title_end = spans(text)[0][1]
        segments, start = [], 0
        for item in found:
            segment_start = max(start, text.rfind("\n", 0, item.start) + 1)
            segments.append((segment_start, item))
            start = item.end
        body_scores = [self.retriever.coverage(tokens, to_simplified(text[max(s, title_end):r.end])) for s, r in segments]
        best = max(range(len(segments)), key=lambda i: (body_scores[i], -i))
        if body_scores[best] <= self.retriever.coverage(tokens, to_simplified(clause["title"])):
            return whole, None
        s, item = segments[best]
        sentences = [(a, b) for a, b in spans(text) if a >= s and b <= item.end + 1]
        if sentences and item.end - s > 300:
            s = sentences[-2][0] if len(sentences) > 1 else sentences[-1][0]
        return text[s:item.end].lstrip("。；，,;： ").strip(), item

    def compose_number(self, hits: list[Hit], tokens: list[str]) -> tuple[str, list[Citation]]:
        lines, citations = [], []
        for hit in hits[:3]:
            quote = self.quote(hit.clause["text"], tokens, need_digit=True)
            relevance = self.retriever.coverage(tokens, to_simplified(quote))
            if not has_figure(quote) or (citations and relevance < 0.5):
                continue
            c = self.citation(len(citations) + 1, hit, quote)
            units = self.units_note(c)
            lines.append(f"{'根据' if not citations else '另据'}{self.label(c)}{units}：[{c.n}]\n\n> {quote}")
            citations.append(c)
            if len(citations) == 2:
                break
        if not citations:
            return self.compose_general(hits, tokens)
        return "\n\n".join(lines), citations

    def compose_general(self, hits: list[Hit], tokens: list[str], question: str = "") -> tuple[str, list[Citation]]:
        """The best clauses quoted, most relevant first; others only if they cover the question.

        Words that say what kind of statement is wanted (要求, 强调) do not find clauses, but
        within a clause they pick the sentence: "陈爱林提了什么要求" quotes "陈爱林要求，…"."""
        lines, citations = [], []
        for hit in hits:
            relevance = self.retriever.clause_coverage(tokens, hit.clause)
            if citations and (relevance < 0.99 or len(citations) >= 5) and (relevance < 0.5 or len(citations) >= 3):
                continue
            table_row = is_table_row(hit.clause)
            stressed = tokens + [w for w in STATEMENT_WORDS if w in to_simplified(question)]
            quote = hit.clause["text"] if table_row else self.quote(hit.clause["text"], stressed)
            c = self.citation(len(citations) + 1, hit, quote)
            units = self.units_note(c)
            lines.append(f"{self.label(c)}{units}：[{c.n}]\n\n> {quote}")
            citations.append(c)
        return "\n\n".join(lines), citations

    def compose_unit_tasks(self, question: str, hits: list[Hit]) -> tuple[str, list[Citation]] | str | None:
        """"统计局被列为哪几仗的责任单位", "公安局牵头哪些任务": the clauses that name a unit, read
        from every clause's parsed units rather than from the few the search returns. A reason
        (str) when the plan names the unit in no such clause; None when the question is not one."""
        simplified = to_simplified(question)
        if not hits or ASKS_FOR_UNITS.search(question) or not (LIST_QUESTION.search(question) or "哪" in simplified):
            return None
        named = simplified + " " + " ".join(short for written, short in UNIT_ALIASES.items() if written in simplified)
        unit = next((u for u in self.unit_names if u in named), None)
        if unit is None:
            return None
        role = next((r for r in ("牵头", "配合", "责任", "负责") if r in simplified), "")
        role_name = role or "牵头、配合或负责"
        fields = {"牵头": ("lead_units",), "配合": ("cooperating_units",), "责任": ("responsible_units", "cooperating_units"),
                  "负责": ("responsible_units", "cooperating_units")}.get(role, ("lead_units", "cooperating_units", "responsible_units"))
        top = hits[0].clause
        section = self.retriever.parent_section(top) if is_table_row(top) else None
        doc_id, annex = self.named_plan(question) or (top["doc_id"], "")
        scope = ([self.by_path[(top["doc_id"], p)] for p in section["children"]] if section else
                 [c for c in self.retriever.clauses if c["doc_id"] == doc_id and (not annex or c["path"].startswith(annex + " "))])
        found, seen = [], set()
        for clause in scope:
            if clause["text_key"] in seen:
                continue
            if any(unit == normalize_unit(u) for f in fields for u in clause[f]):
                seen.add(clause["text_key"])
                found.append(clause)
        if not found:
            title = top["doc_title"] if section else next(c["doc_title"] for c in scope)
            return f"《{title}》中没有把{unit}列为{role_name}单位的条款。"
        where = f"{section['path']}「{to_simplified(section['title'])}」" if section else (annex or "")
        lines = [f"《{top['doc_title'] if section else found[0]['doc_title']}》{where}中，列{unit}为{role_name}单位的共 {len(found)} 项："]
        citations = []
        for n, clause in enumerate(found[:MAX_LISTED], 1):
            quote = clause["text"] if is_table_row(clause) else next(
                (r.raw for r in find_responsibilities(clause["text"]) if any(unit == normalize_unit(u) for u in
                 r.lead_units + r.cooperating_units + r.responsible_units)), clause["responsibility"] or clause["text"][:60])
            c = self.citation(n, Hit(clause, 0.0), quote if quote in clause["text"] else clause["text"][:60])
            citations.append(c)
            roles = "、".join(label for label, f in (("牵头", "lead_units"), ("配合", "cooperating_units"), ("负责", "responsible_units"))
                             if any(unit == normalize_unit(u) for u in clause[f]))
            lines.append(f"{n}. {self.item_name(clause)}（{roles}）[{n}]")
        if len(found) > MAX_LISTED:
            lines.append(f"（另有 {len(found) - MAX_LISTED} 项未列出，可缩小到某一方案再问。）")
        return "\n".join(lines), citations

    def compose_across(self, question: str, hits: list[Hit], tokens: list[str]) -> tuple[str, list[Citation]] | None:
        """Questions about all items of one section at once, answered by reading every item.

        "哪些县市区的专班办公室是8个人", "专班人数最少的是哪个县" and "哪些县市区专班还没组建好"
        cannot be answered from the nearest clause: the answer is a filter over, or an extreme
        of, what each of the section's items states. Every item that qualifies is cited with the
        sentence that states it; items that do not state it are named as silent.
        """
        simplified = to_simplified(question)
        tokens = [t for t in tokens if CJK.search(t)]  # an English question's Chinese terms
        listing = bool(LIST_QUESTION.search(question))
        wanted = (NUMBER_CONDITION.search(simplified) or ENGLISH_HEADCOUNT.search(question)) if listing else None
        extreme = SUPERLATIVE.search(simplified)
        verb = next((v for v, pattern in STATUS_VERBS if pattern.search(question)), None) if listing else None
        unit = (wanted["unit"] or "人") if wanted else next((u for u in UNIT_WORDS if u in simplified), None) if extreme else None
        section = self.retriever.parent_section(hits[0].clause)
        if section is None or len(section["children"]) < 3:
            return None
        rows = [self.by_path[(section["doc_id"], p)] for p in section["children"]]
        if any(to_simplified(row["title"]) in simplified for row in rows):
            return None  # 宁远县制定了哪些文件: about one item, not across them
        # "哪几个县的方案已提交县发改部门走发文程序": the items whose report says what the question says.
        reported = listing and all(to_simplified(row["title"]) in self.retriever.place_rows for row in rows)
        if not (wanted or unit or verb or reported):
            return None
        if not (unit or verb):
            condition = [t for t in tokens if t not in to_simplified(section["title"] + rows[0]["doc_title"])]
            stated = [(True, row, sentence) for row in rows
                      if (sentence := max((row["text"][a:b] for a, b in spans(row["text"])),
                                          key=lambda x: self.retriever.coverage(condition, to_simplified(x))))
                      and condition and self.retriever.coverage(condition, to_simplified(sentence)) >= 0.8]
            if not stated or len(stated) == len(rows):
                return None
            name = section["path"] if section["path"].startswith("【") else section["title"]
            lines = [f"根据《{section['doc_title']}》{name}，符合的共 {len(stated)} 项："]
            citations = [self.citation(n, Hit(row, 0.0), sentence.strip()) for n, (_, row, sentence) in enumerate(stated, 1)]
            lines += [f"{c.n}. {self.item_name(row)}：{c.quote} [{c.n}]" for c, (_, row, _) in zip(citations, stated)]
            return "\n".join(lines), citations
        if unit:
            said = rf"(?<![\d.])(\d+(?:\.\d+)?)\s*(?:个|名)?{re.escape(unit)}"
            value = lambda found: float(found[1])  # noqa: E731
        else:
            said = rf"(?:已经?|正在|尚未|还未|未|待)?[^，,。；]{{0,6}}{verb}(?:完成|好)?"
            value = lambda found: not re.search(rf"已经?[^，,。；]{{0,6}}{verb}|{verb}(?:完成|好)", found[0])  # noqa: E731 - pending
        stated = self.items_stating(section, said, value, tokens)
        if len(stated) < (3 if unit else 1):
            return None
        name = section["path"] if section["path"].startswith("【") else f"{section['path']}「{to_simplified(section['title'])}」"
        if verb:
            pending = bool(NOT_YET.search(question))
            chosen = [x for x in stated if x[0] == pending]
            head = f"写到“{verb}”的 {len(stated)} 项中，{'尚未完成' if pending else '已完成'}的有 {len(chosen)} 项："
        elif wanted:
            chosen = [x for x in stated if x[0] == float(wanted["number"])]
            head = f"共 {len(chosen)} 个符合（{wanted['number']}{unit}）："
        else:
            best = (max if extreme["word"] in ("多", "高", "大") else min)(x[0] for x in stated)
            chosen = [x for x in stated if x[0] == best]
            head = f"在写明数字的 {len(stated)} 项中，最{extreme['word']}的是："
        lines = [f"根据《{section['doc_title']}》{name}，{head}"]
        if not chosen:
            lines = [f"《{section['doc_title']}》{name}中没有符合的项。写明情况的各项是："]
        citations = []
        for n, (_, row, sentence) in enumerate(chosen or stated, 1):
            citations.append(self.citation(n, Hit(row, 0.0), sentence))
            lines.append(f"{n}. {self.item_name(row)}：{sentence} [{n}]")
        silent = [to_simplified(self.by_path[(section["doc_id"], p)]["title"]) for p in section["children"]
                  if p not in {row["path"] for _, row, _ in stated}]
        if silent:
            lines.append(f"（{'、'.join(silent)}没有写明这一点。）")
        return "\n".join(lines), citations

    def items_stating(self, section: dict, said: str, value, tokens: list[str]) -> list[tuple[object, dict, str]]:
        """(value, item, sentence) for each item of `section` with a sentence about the question that matches `said`."""
        stated = []
        for path in section["children"]:
            row = self.by_path[(section["doc_id"], path)]
            for start, end in spans(row["text"]):
                sentence = row["text"][start:end]
                found = re.search(said, to_simplified(sentence))
                where = to_simplified(" ".join([sentence, row["title"], section["title"], row["doc_title"]]))
                if found and self.retriever.coverage(tokens, where) >= 0.5:
                    stated.append((value(found), row, sentence.strip()))
                    break
        return stated

    def asked_section(self, question: str, doc_id: str, hits: list[Hit], annex: str = "") -> dict | None:
        """The section a structure question is about: one it names (深化专项整治, 【县市区动态】),
        one with as many items as it counts (哪六仗 → the six rows whose names say 仗), or one
        whose items' names say what the question asks for (哪几个方面打造一流环境 → 以改革创一流环境…)."""
        sections = [s for s in self.retriever.sections.values() if s["doc_id"] == doc_id
                    and (not annex or s["path"] == annex or s["path"].startswith(annex + " "))]
        simplified = to_simplified(question)
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
        if top and top["doc_id"] == doc_id and (top["doc_id"], top["path"]) in self.retriever.sections \
                and longest_common_substring(simplified, to_simplified(top["title"])) >= 4:
            return self.retriever.sections[(top["doc_id"], top["path"])]  # "污染防治攻坚战部分": the heading found first
        counted = COUNTED.search(simplified)
        if counted is None:
            scope_title = to_simplified(self.retriever.sections[(doc_id, annex)]["title"] if annex else
                                        next(c["doc_title"] for c in self.retriever.clauses if c["doc_id"] == doc_id))
            tokens = [t for t in self.retriever.content_tokens(question) if CJK.search(t) and t not in scope_title]
            named_by = [(sum(self.retriever.coverage(tokens, to_simplified(self.by_path[(doc_id, p)]["title"]))
                             for p in section["children"]) / len(section["children"]), -nearness(section), section["path"])
                        for section in sections if tokens and len(section["children"]) >= 2]
            best = max(named_by, default=None)
            return self.retriever.sections[(doc_id, best[2])] if best and best[0] >= 0.4 else None
        number = int(counted["digits"]) if counted["digits"] else chinese_number(counted["chinese"])
        noun = counted["noun"] or ""
        fits = []
        for section in sections:
            if len(section["children"]) != number:
                continue
            titles = [to_simplified(self.by_path[(doc_id, p)]["title"]) for p in section["children"]]
            share = sum(noun in t for t in titles) / number if noun else 1.0
            if share >= 0.5:
                fits.append((-share, nearness(section), section["path"], section))
        return min(fits, key=lambda f: f[:3])[3] if fits else None

    def compose_structure(self, question: str, hits: list[Hit]) -> tuple[str, list[Citation]] | None:
        """The parts of a document (or of the section the question names), each cited.

        A section is cited first as a whole, so the count and the list can be checked against
        one passage; then each part is cited as its own clause.
        """
        doc_id, annex = self.named_plan(question) or (hits[0].clause["doc_id"], "")
        clauses = [c for c in self.retriever.clauses if c["doc_id"] == doc_id]
        simplified = to_simplified(question)
        annex_list = next((c for c in clauses if c["path"] == "附件"), None)
        if "附件" in simplified and annex_list and not annex:
            c = self.citation(1, Hit(annex_list, 0.0), annex_list["text"])
            return f"《{c.title}》的附件：[1]\n\n> " + c.quote.replace("\n", "\n> "), [c]
        section = self.asked_section(question, doc_id, hits, annex) or (self.retriever.sections[(doc_id, annex)] if annex else None)
        columns = list(dict.fromkeys(m.group(0) for c in clauses if (m := re.match(r"【[^】]+】", c["path"]))))
        citations: list[Citation] = []
        if section is not None:
            parts = [self.by_path[(doc_id, p)] for p in section["children"]]
            whole = self.citation(1, Hit(section, 0.0), section["text"].split("\n", 1)[0])
            citations.append(whole)
            name = section["path"] if section["path"].startswith("【") else f"{section['path']}「{to_simplified(section['title'])}」"
            head = f"《{whole.title}》{name}共 {len(parts)} 项：[1]"
        elif columns and DOCUMENT_PARTS.search(question):
            parts = [self.retriever.sections.get((doc_id, x)) or self.by_path[(doc_id, x)] for x in columns]
            head = f"《{clauses[0]['doc_title']}》的栏目共 {len(parts)} 项："
        elif DOCUMENT_PARTS.search(question):
            parts = [c for c in clauses if c["annex"] is None and re.fullmatch(r"[一二三四五六七八九十]+、", c["path"])]
            head = f"《{clauses[0]['doc_title']}》共 {len(parts)} 项："
        else:
            return None  # "多少项年度工作要点" counts something a clause states, not a part of the plan
        lines = [head]
        for number, part in enumerate(parts, 1):
            n = len(citations) + 1
            quote = part["title"] if part["title"] in part["text"] else part["text"][:40]
            citations.append(self.citation(n, Hit(part, 0.0), quote))
            lines.append(f"{number}. {self.item_name(part)} [{n}]")
        return "\n".join(lines), citations

    def compose_metadata(self, question: str, hits: list[Hit]) -> tuple[str, list[Citation]] | None:
        """Document number and date, from the document's own cover (通知 / 报头) when it has one."""
        doc_id = self.named_document(question) or hits[0].clause["doc_id"]
        cover = next((c for c in self.retriever.clauses if c["doc_id"] == doc_id and c["path"] in ("通知", "报头")), None)
        if cover is None:
            return None
        lines = [line for line in cover["text"].split("\n") if re.search(r"\d", line) or "专班" in line]
        quote = "\n".join(lines) if "\n".join(lines) in cover["text"] else cover["text"]
        c = self.citation(1, Hit(cover, 0.0), quote)
        return f"根据《{c.title}》{c.path}：[1]\n\n> " + quote.replace("\n", "\n> "), [c]

    def compose_compare(self, question: str, sides: list[str], tokens: list[str], k: int,
                        plans: list[tuple[str, str]] | None = None) -> tuple[str, list[Citation], list[Hit]]:
        """One retrieval per side; a table with a row for the aspect and a citation in every cell.

        Sides are regions (平江 vs 沅江) or, within one region, plans: documents (六仗总体方案 vs
        翻身仗方案) or annexes that are plans of their own (经济增长主动仗方案 vs 持久仗方案).
        """
        topic = without_places(to_simplified(question))
        wants_number = bool(re.search(r"多少|几|幾|比例|率|how many|how much|rate|percent", question, re.IGNORECASE))
        chinese = [t for t in tokens if CJK.search(t)]
        # A question about 目标 is answered from each plan's 工作目标, not from a task that mentions the topic.
        parts_asked = [w for w in PLAN_PARTS if w in to_simplified(question)]
        citations: list[Citation] = []
        cells, per_side = [], []
        if plans:
            titles = {(d, a): t for d, a, t, _ in self.plans()}
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
            kinds_by_side = [{c["kind"] for c in self.retriever.clauses if c["region"] == side} for side in sides]
            common = sorted(set.intersection(*kinds_by_side)) if kinds_by_side else []
            filters = [{"region": side, "kind": common or None} for side in sides]
        chosen: list[tuple[Hit | None, float]] = []
        for number, (side, where) in enumerate(zip(sides, filters)):
            if plans:
                topic, chinese = per_plan[number]
            hits = self.retriever.search(topic, k=k * 6 if plans else k, **where)
            if plans:
                hits = [h for h in hits if self.in_plan(h.clause, plans[number], plans)][:k]
            per_side.append(hits)
            cover = {id(h): self.retriever.clause_coverage(chinese, h.clause) if chinese else 1.0 for h in hits}
            # A side may word the topic differently (平江 攻坚战, 沅江 保卫战): its best clause still
            # stands if it shares a good part of the question, rather than a false "未规定".
            relevant = [h for h in hits if cover[id(h)] >= 0.5] or [h for h in hits[:1] if cover[id(h)] >= 0.3]
            in_part = [h for h in relevant if any(w in to_simplified(" ".join(h.clause["heading_path"] + [h.clause["title"]]))
                                                  for w in parts_asked)]
            best = next(iter(in_part or relevant), None)
            chosen.append((best, cover[id(best)] if best else 0.0))
        if not plans:
            chosen = self.aligned(chosen, filters, chinese)
        chosen = [(self.substance(best, chinese), cover) for best, cover in chosen]
        for best, _ in chosen:
            if best is None:
                cells.append("未规定")
                continue
            quote = self.fragment(self.quote(best.clause["text"], tokens, need_digit=wants_number), tokens)
            c = self.citation(len(citations) + 1, best, quote)
            citations.append(c)
            cells.append(f"《{c.title}》{c.path}：{quote}{self.units_note(c)} [{c.n}]")
        aspect = (ASPECT_NOISE.sub("", topic).lstrip("和与及")[:24] if CJK.search(topic)
                  else "、".join(chinese_terms(question)[:4])) or "相关规定"
        table = ["| 方面 | " + " | ".join(sides) + " |", "|---" * (len(sides) + 1) + "|",
                 f"| {aspect} | " + " | ".join(cell.replace("|", "｜").replace("\n", " ") for cell in cells) + " |"]
        sources = [f"[{c.n}] {self.label(c)}" for c in citations]
        ranked = [h for group in zip(*per_side) for h in group] + [h for group in per_side for h in group[min(map(len, per_side)):]]
        return "\n".join(table) + "\n\n" + "\n".join(sources), citations, ranked

    def substance(self, hit: Hit | None, chinese: list[str]) -> Hit | None:
        """A bare heading ("防范化解重大社会风险。") says nothing a cell can show: its item that
        covers the question best stands in for it."""
        section = self.retriever.sections.get((hit.clause["doc_id"], hit.clause["path"])) if hit else None
        if section is None or len(hit.clause["text"]) > 40:
            return hit
        items = [self.by_path[(section["doc_id"], p)] for p in section["children"]]
        return Hit(max(items, key=lambda c: self.retriever.clause_coverage(chinese, c)), hit.score, also=hit.also)

    def aligned(self, chosen: list[tuple[Hit | None, float]], filters: list[dict], chinese: list[str]) -> list[tuple[Hit | None, float]]:
        """Parallel plans (平江 000 and 沅江 001 share their numbering) compare clause with clause:
        a side whose choice covers the question less takes the clause at the best side's path,
        when that clause is about the question too (蓝天保卫战 二、(四)1 on both sides)."""
        anchor, anchor_cover = max(chosen, key=lambda x: x[1])
        if anchor is None:
            return chosen
        result = []
        for (best, cover), where in zip(chosen, filters):
            twin = next((c for c in self.retriever.clauses if c["path"] == anchor.clause["path"] and c["region"] == where["region"]
                         and (not where["kind"] or c["kind"] in where["kind"])), None)
            twin_cover = self.retriever.clause_coverage(chinese, twin) if twin and chinese else 0.0
            same_heading = twin is not None and longest_common_substring(to_simplified(twin["title"]),
                                                                         to_simplified(anchor.clause["title"])) >= 3
            if best is not anchor and same_heading and cover < anchor_cover and twin_cover >= 0.2 and twin_cover >= cover - 0.1:
                best, cover = Hit(twin, 0.0), twin_cover
            result.append((best, cover))
        return result

    # -- entry point -----------------------------------------------------------------------
    def ask(self, question: str, region: str | None = None, doc_id: str | None = None, k: int = 5) -> Answer:
        """Answer one question from the corpus, or refuse and say why."""
        started = time.perf_counter()
        question = (question or "").strip()
        if not question:
            return Answer(question, "请输入问题，例如：平江县燃气整治由谁牵头？", True, notice="问题为空")
        if len(question) > MAX_QUESTION:
            return Answer(question[:MAX_QUESTION], f"问题过长（{len(question)} 字）。请精简到 {MAX_QUESTION} 字以内再问。",
                          True, notice="问题过长")
        tokens = self.retriever.content_tokens(question)
        reason = self.refusal_reason(question)
        sides = [region] if region else regions_in(question)
        kind = intent(question)
        plans = self.compared_plans(question) if len(sides) < 2 and not doc_id else []
        compare = (len(sides) >= 2 or len(plans) >= 2) and not doc_id and kind not in ("structure", "metadata")
        hits = [] if compare else self.retriever.search(question, k=k, region=region, doc_id=doc_id)
        timings = {"retrieve": (time.perf_counter() - started) * 1000}
        composed = None
        counted = COUNTED.search(to_simplified(question))
        if kind == "general" and hits and counted and counted["noun"]:
            doc, annex = self.named_plan(question) or (hits[0].clause["doc_id"], "")
            if self.asked_section(question, doc, hits, annex):
                kind = "structure"  # 哪六仗: the items of the section that has six of them
        if kind == "metadata" and LIST_QUESTION.search(question):
            kind = "general"  # 哪些县的方案还没印发: a question across the newsletter's items, not a cover
        if kind == "metadata" and not self.named_document(question):
            kind = intent(INTENTS[0][1].sub("", question))  # about a document the corpus only mentions
        if reason is None and not compare and kind == "metadata" and hits:
            composed = self.compose_metadata(question, hits)
            if composed is None:
                doc_id = self.named_document(question)
                title = next(c["doc_title"] for c in self.retriever.clauses if c["doc_id"] == doc_id)
                reason = f"《{title}》的文本没有载明文号或印发日期。"
        # Questions across many clauses (which counties, which tasks a unit has) read every item.
        listing = reason is None and not compare and not composed and kind != "structure" and hits
        across = self.compose_across(question, hits, tokens) if listing else None
        tasks = self.compose_unit_tasks(question, hits) if listing and not across else None
        if isinstance(tasks, str):
            reason = tasks
        if reason is None and not compare and kind not in ("structure", "metadata") and not across and not tasks:
            reason = self.unanswered(question, tokens, hits) if hits else "检索不到相关条款。"
        if reason:
            nearest = "".join(f"\n- 《{h.clause['doc_title']}》{h.clause['path']}「{to_simplified(h.clause['title'])}」（相关，但不能回答该问题）"
                              for h in hits[:3]) if hits and not INJECTION.search(question) else ""
            text = f"{NOT_FOUND}能回答该问题的内容。{reason}" + (f"\n\n最接近的条款：{nearest}" if nearest else "")
            return Answer(question, text, True, retrieved=[h.to_dict() for h in hits],
                          timings_ms={**timings, "total": (time.perf_counter() - started) * 1000})
        unit_count = UNIT_COUNT.search(to_simplified(question))
        if compare:
            kind = "compare"
            body, citations, hits = self.compose_compare(question, sides, tokens, k, plans if len(plans) >= 2 else None)
        elif composed:
            body, citations = composed
        elif kind == "structure" and (listed := self.compose_structure(question, hits)):
            body, citations = listed
        elif across:
            kind = "across"
            body, citations = across
        elif tasks:
            kind = "across"
            body, citations = tasks
        elif kind == "lead" or unit_count:
            kind = "lead"
            body, citations = self.compose_lead(hits, tokens, unit_count["role"] or "" if unit_count else None)
        elif kind == "number":
            body, citations = self.compose_number(hits, tokens)
        else:
            body, citations = self.compose_general(hits, tokens, question)
        twins = [f"[{c.n}] 同见 " + "；".join(f"{a['source']} {a['path']}" for a in c.also) for c in citations if c.also]
        if twins:
            body += "\n\n" + "\n".join(twins)
        timings["total"] = (time.perf_counter() - started) * 1000
        return Answer(question, body, False, citations=citations, retrieved=self.ranked(citations, hits), timings_ms=timings,
                      kind=kind)

    def ranked(self, citations: list[Citation], hits: list[Hit]) -> list[dict]:
        """The clauses the answer was built from, best first: the cited ones, then the rest."""
        cited = [Hit(self.record(c.doc_id, c.path, c.scope), 0.0, also=c.also) for c in citations]
        keys = {(c.doc_id, c.path) for c in citations}
        scores = {(h.clause["doc_id"], h.clause["path"]): h.score for h in hits}
        for hit in cited:
            hit.score = scores.get((hit.clause["doc_id"], hit.clause["path"]), 0.0)
        return [h.to_dict() for h in cited + [h for h in hits if (h.clause["doc_id"], h.clause["path"]) not in keys]]

    def stream(self, question: str, region: str | None = None, doc_id: str | None = None, k: int = 5) -> Iterator[Answer]:
        """The answer as it grows, for a UI that shows text while it arrives; the last item is final.

        With an LLM configured, its tokens stream over the same citations and the final item is
        the verified LLM answer or the grounded one marked "fallback". Without, the grounded
        answer is ready at once and is released paragraph by paragraph.
        """
        answer = self.ask(question, region=region, doc_id=doc_id, k=k)
        if self.llm is not None and not answer.refused:
            from rag.llm import llm_stream

            yield from llm_stream(answer, self.llm)
            return
        paragraphs = answer.answer.split("\n\n")
        for end in range(1, len(paragraphs)):
            yield replace(answer, answer="\n\n".join(paragraphs[:end]))
        yield answer
