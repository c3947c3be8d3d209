"""A conversation: each turn's resolved question and what its answer named, and follow-ups
rewritten into standalone questions from them.

Officials ask "平江的X目标是多少？" and then "那沅江呢？", "配合单位呢？", "两地比一下",
"第三项呢？", "这个单位还牵头什么？". The answer layer answers one standalone question at a
time, so a follow-up is rewritten here, by rule and from the parsed Query only (no LLM, no
phrase of any one question): the region swapped with the Gazetteer's names, the previous topic
given the new attribute, the last two single-region turns compared, the Nth item of the last
list answer, or the unit the last answer named. The rewrite is shown to the reader
(`Answer.resolved_question`), never hidden. A question with its own topic and scope is
answered as typed and starts the context afresh.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from rag.clean import CJK_RUN, to_simplified
from rag.gazetteer import Gazetteer
from rag.parse import chinese_number
from rag.query import Query

# Words a follow-up is made of that say nothing of its topic.
FILLER_TOKEN = re.compile(r"^(?:第.*|.*[项条个]|完成|一年|时间|about|what|and|how|两地|两个|一下|比较|对比|比一比|"
                          r"[a-z]+jiang|[a-z]+zhou)$", re.IGNORECASE)
THEN = re.compile(r"^\s*(?:那么?|那个|还有|再问|另外|然后|and|what about|how about)", re.IGNORECASE)
ENDS_NE = re.compile(r"呢\s*[？?。]?\s*$")
WHAT_ABOUT = re.compile(r"^\s*(?:and\s+)?(?:what|how)\s+about\b", re.IGNORECASE)
COMPARE = re.compile(r"比一下|比一比|比较一下|对比一下|对比|比较|compare", re.IGNORECASE)
ORDINAL = re.compile(r"第\s*(?P<n>\d{1,2}|[一二三四五六七八九十]{1,3})\s*(?:项|条|个|点|部分|仗|方面)")
UNIT_PRONOUN = re.compile(r"(?:这个|这家|这些|该|上述|此|那个|那家)(?:单位|部门|局|机构)|(?:它|他们|其)(?=还|也|另外|又|牵头|负责|配合)")
ANSWER_PRONOUN = re.compile(r"^\s*(?:这|这个|该|上述|此|它|其)")
ALSO = re.compile(r"还|也|另外|其他|别的|又")
ROLE = re.compile(r"牵头|配合|负责")
# Where a question's topic ends and what it asks of the topic begins.
ATTRIBUTE_START = re.compile(
    r"(?:的)?(?:牵头单位|配合单位|责任单位|负责单位|归哪|由谁|是谁|谁|由哪|哪个部门|哪些部门|哪个单位|哪些单位|哪家|"
    r"牵头|配合|负责|目标是|目标值|的目标|目标|要达到|达到|多少|几[个项条年]|什么时候|何时|哪一年|哪年|截至|完成时限|期限|"
    r"是什么|有哪些|有什么|包括|要怎样|怎样|怎么|如何|具体要求|要求)")
PUNCTUATION = re.compile(r"[？?。！!，,、\s]+$")
LEADING = re.compile(r"^\s*(?:那么?|那个|还有|另外|然后|这是|这个|这|该|上述|此|它的|它|其)")


@dataclass
class Resolution:
    """How a message is to be answered: a standalone question, or a comparison of regions on a topic."""

    question: str  # the standalone question (what is shown as 按上文理解为)
    followup: bool  # rewritten from the conversation
    rule: str = ""  # region / topic / attribute / compare / item / unit, or "" for a standalone question
    sides: tuple[str, ...] = ()  # for a comparison: the regions, in the order asked
    topic: str = ""  # for a comparison: the topic compared


@dataclass
class Turn:
    """One answered message and what the next may refer back to."""

    message: str
    resolved: str
    query: Query
    citations: list = field(default_factory=list)  # the Citations of its answer
    units: list[str] = field(default_factory=list)  # the units its answer names, leads first
    items: list[str] = field(default_factory=list)  # the items of a list answer, in order
    sides: tuple[str, ...] = ()  # a comparison's regions
    topic: str = ""  # a comparison's topic


def answer_units(citations: list) -> list[str]:
    """The units the answer named: the first clause's leads (or responsible units), then the rest."""
    units: list[str] = []
    for c in citations:
        units += [*(c.lead_units or c.responsible_units), *c.cooperating_units]
    return list(dict.fromkeys(to_simplified(u) for u in units))


ITEM_LINE = re.compile(r"^\s*(?:[-*•]\s*)?(?:\d{1,2}[.、．]|[（(][一二三四五六七八九十\d]{1,3}[)）]|[一二三四五六七八九十]{1,3}[、.．])\s*(?P<item>.+)$")
ITEM_PATH = re.compile(r"^(?:附件\d+\s*)?(?:[一二三四五六七八九十]+、)?(?:\([一二三四五六七八九十\d]+\))?\d*\s+")  # the clause's path before its title
ITEM_END = re.compile(r"[：:（(\[「。；;，,]")


def list_items(text: str, citations: list) -> list[str]:
    """The items of a list answer, in order: its numbered lines, else its cited clauses' titles."""
    items = []
    for line in text.splitlines():
        match = ITEM_LINE.match(line)
        if match:
            item = re.sub(r"\*\*|《[^》]*》", "", match["item"])
            item = ITEM_END.split(ITEM_PATH.sub("", item.strip()), maxsplit=1)[0].strip()
            if len(item) >= 2:
                items.append(item)
    if len(items) >= 2:
        return items
    titles = [to_simplified(c.clause_title) for c in citations if c.clause_title]
    return titles if len(titles) >= 2 else []


NO_JOINER = ("由", "是", "有", "到", "在", "要", "什么", "何", "哪", "归", "谁", "配合", "牵头", "负责", "的")


def joined(phrase: str) -> str:
    """An attribute put after a topic: 的 before a noun (的目标是多少), none before a verb (由谁牵头)."""
    return phrase if not phrase or phrase.startswith(NO_JOINER) else "的" + phrase


class Conversation:
    """One session's turns and the rules that resolve a follow-up against them."""

    def __init__(self, parse: Callable[[str], Query], gazetteer: Gazetteer, corpus_text: str = "") -> None:
        self.parse = parse
        self.gazetteer = gazetteer
        self.corpus_text = corpus_text  # simplified: which of a topic's words a new word can stand in for
        self.turns: list[Turn] = []

    def reset(self) -> None:
        self.turns.clear()

    @property
    def last(self) -> Turn | None:
        return self.turns[-1] if self.turns else None

    # --- reading a question -------------------------------------------------------------

    def own_tokens(self, query: Query) -> list[str]:
        """The topic words of a question, without the words follow-ups are made of."""
        names = {n for found in self.gazetteer.names.values() for n in found}
        return [t for t in query.tokens if not FILLER_TOKEN.match(t) and t not in names and not ROLE.fullmatch(t)
                and not any(t in self.gazetteer.pinyin for _ in (0,))]

    def topic_of(self, question: str) -> tuple[str, str]:
        """(topic, attribute): where a question's topic ends and what it asks of it begins."""
        text = PUNCTUATION.sub("", to_simplified(question))
        for match in ATTRIBUTE_START.finditer(text):
            prefix = text[:match.start()]
            if match.start() > 0 and self.own_tokens(self.parse(prefix)):
                return prefix.rstrip("，, 的"), text[match.start():].removeprefix("的")
        return text, ""

    def region_names(self, region: str) -> list[str]:
        return sorted({region, *self.gazetteer.names.get(region, ())}, key=len, reverse=True)

    def swap_regions(self, text: str, old: tuple[str, ...], new: list[str]) -> str:
        """`text` with the regions it names replaced by `new` (or `new` put first when it names none)."""
        target = "、".join(new)
        if not old:
            return target + text
        for i, region in enumerate(old):
            for name in self.region_names(region):
                text = text.replace(name, "\0" if i == 0 else "")
        return text.replace("\0", target)

    def without_regions(self, text: str, regions: tuple[str, ...]) -> str:
        for region in regions:
            for name in self.region_names(region):
                text = text.replace(name, "")
        return text.lstrip("的，, ")

    def attribute_phrase(self, message: str) -> str:
        """What a follow-up asks, its leading pronoun and 呢 taken off: 配合单位呢 → 配合单位有哪些."""
        text = ENDS_NE.sub("", to_simplified(message))
        text = PUNCTUATION.sub("", LEADING.sub("", text))
        text = ORDINAL.sub("", text).strip("的，, ")
        if not text:
            return ""
        if re.search(r"单位|部门$", text) and not re.search(r"哪|谁|什么|多少|几", text):
            text += "有哪些"
        return text

    # --- resolving -----------------------------------------------------------------------

    def resolve(self, message: str) -> Resolution:
        """The standalone question (or comparison) a message asks, given the turns before it."""
        query = self.parse(message)
        last = self.last
        own = self.own_tokens(query)
        simplified = to_simplified(message)
        elliptical = (not own or bool(THEN.match(simplified) and ENDS_NE.search(simplified)) or bool(WHAT_ABOUT.match(message))
                      or bool(ORDINAL.search(simplified)) or bool(UNIT_PRONOUN.search(simplified))
                      or bool(ANSWER_PRONOUN.match(simplified) and not query.regions) or (bool(ENDS_NE.search(simplified)) and len(own) <= 1))
        if last is None or not elliptical:
            return Resolution(message, False)
        regions = list(query.regions)
        if COMPARE.search(simplified) and not [t for t in own if not COMPARE.search(t)]:
            return self.compare(regions)
        ordinal = ORDINAL.search(simplified)
        if ordinal and self.last_items():
            return self.item(ordinal, message)
        if UNIT_PRONOUN.search(simplified) and self.last_units():
            return self.unit(message)
        base = last.resolved
        if last.sides and not own and not regions and (phrase := self.attribute_phrase(message)):
            topic = f"{self.topic_of(last.topic)[0]}{joined(phrase)}"  # 配合单位呢 after a comparison: compare that
            return Resolution(f"对比{'和'.join(last.sides)}：{topic}", True, "compare", last.sides, topic)
        if not own and regions and set(regions) != set(last.query.regions):
            return Resolution(self.swap_regions(PUNCTUATION.sub("", base), last.query.regions, regions) + "？", True, "region")
        topic, attribute = self.topic_of(base)
        if len(own) == 1 and (swapped := self.stand_in(last, own[0])):  # 城市低保标准… 农村的呢
            return Resolution(swapped + "？", True, "topic")
        if own:  # 那燃气整治呢: a new topic, with the previous scope and attribute
            new_topic = PUNCTUATION.sub("", ENDS_NE.sub("", LEADING.sub("", simplified)))
            if not query.regions and last.query.regions:
                new_topic = self.swap_regions(new_topic, (), list(last.query.regions))
            return Resolution(f"{new_topic}{joined(attribute)}？", True, "topic")
        phrase = self.attribute_phrase(message)
        if not phrase:
            return Resolution(PUNCTUATION.sub("", base) + "？", True, "attribute")
        if regions:
            topic = self.swap_regions(topic, last.query.regions, regions)
        return Resolution(f"{topic}{joined(phrase)}？", True, "attribute")

    def stand_in(self, last: Turn, word: str) -> str | None:
        """The last question with one of its words replaced by `word`, where the plans write
        `word` before what followed that word ("城市低保标准要提高到多少" + "农村的呢": the plans
        write 农村低保), or None. Asked of "农村的" alone, the topic was lost ("农村的的多少")."""
        text = PUNCTUATION.sub("", to_simplified(last.resolved))
        for token in self.own_tokens(last.query):
            at = text.find(token)
            after = text[at + len(token):at + len(token) + 2]
            if token != word and word not in text and len(after) == 2 and CJK_RUN.fullmatch(after) \
                    and word + after in self.corpus_text and token + after in self.corpus_text:
                return text[:at] + word + text[at + len(token):]
        return None

    def compare(self, named: list[str]) -> Resolution:
        """两地比一下: the regions named, else those of the last two single-region turns, on the last topic."""
        sides = list(named)
        for turn in reversed(self.turns):
            if len(sides) >= 2:
                break
            scope = turn.sides or turn.query.regions
            if len(scope) == 1 and scope[0] not in sides:
                sides.insert(0, scope[0])
        sides = sides[-2:] if len(sides) > 2 else sides
        last = self.last
        topic = last.topic or self.without_regions(PUNCTUATION.sub("", last.resolved), last.query.regions)
        if len(sides) < 2:
            return Resolution(last.resolved, True, "compare-missing")
        return Resolution(f"对比{'和'.join(sides)}：{topic}", True, "compare", tuple(sides), topic)

    def last_units(self) -> list[str]:
        return next((t.units for t in reversed(self.turns) if t.units), [])

    def last_items(self) -> list[str]:
        return next((t.items for t in reversed(self.turns) if t.items), [])

    def item(self, ordinal: re.Match, message: str) -> Resolution:
        """第三项呢: the Nth item of the last list answer, asked in the scope of that answer."""
        n = int(ordinal["n"]) if ordinal["n"].isdigit() else chinese_number(ordinal["n"])
        items = self.last_items()
        listed = next(t for t in reversed(self.turns) if t.items)
        if not 1 <= n <= len(items):
            return Resolution(message, True, "item-missing")
        prefix = "" if any(name in items[n - 1] for r in listed.query.regions for name in self.region_names(r)) \
            else "、".join(listed.query.regions)
        phrase = self.attribute_phrase(message) or "有哪些具体任务"
        return Resolution(f"{prefix}{items[n - 1]}{joined(phrase)}？", True, "item")

    def unit(self, message: str) -> Resolution:
        """这个单位还牵头什么: the unit the last answer named first, in the role asked."""
        unit = self.last_units()[0]
        simplified = to_simplified(message)
        role = ROLE.search(simplified)
        if role and (ALSO.search(simplified) or re.search(r"什么|哪些", simplified)):
            return Resolution(f"{unit}{role[0]}哪些任务？", True, "unit")
        return Resolution(PUNCTUATION.sub("", UNIT_PRONOUN.sub(unit, simplified)) + "？", True, "unit")

    # --- recording -----------------------------------------------------------------------

    def record(self, message: str, resolution: Resolution, answer) -> Turn:
        """Keep what the answer named, for the next message to refer to; a standalone question starts afresh."""
        if not resolution.followup:
            self.turns.clear()
        turn = Turn(message, resolution.question, self.parse(resolution.question if not resolution.sides else resolution.topic),
                    list(answer.citations), answer_units(answer.citations) if not answer.refused else [],
                    list_items(answer.answer, answer.citations) if not answer.refused else [], resolution.sides,
                    resolution.topic)
        self.turns.append(turn)
        del self.turns[:-20]  # a long session keeps its recent context only
        return turn
