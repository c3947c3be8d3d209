"""Responsible units: who leads (牵头), who cooperates (配合), who is responsible (负责).

Plans state responsibility in a parenthetical after the sentence or clause it governs:
（住建局牵头，交通运输局、水利局等配合）, （县发改局、…分别牵头，其他有关单位配合）,
（X等按职责分工负责）, in either script (牽頭 / 負責). A paragraph can hold several; each
governs the sentence before it. Unit names are kept as written; `normalize_unit` gives the
form used for matching (县住建局 ≈ 住建局, 市場監督管理局 ≈ 市场监管局).
"""
from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from rag.clean import CJK_RUN, CLOSE_BRACKETS, OPEN_BRACKETS, is_subsequence, to_simplified
from rag.gazetteer import strip_division

LEAD = r"(?:分别|分別|依[职職][责責])?[牵牽][头頭]"
DUTY = r"(?:按照?[职職](?:[责責]|能)分工|依[职職][责責]|分工)?[负負][责責]"
ASSIST = r"配合|参与|參與|协助|協助"
ROLE = re.compile(rf"(?P<lead>{LEAD})|(?P<duty>{DUTY})|(?P<assist>{ASSIST})")
# "等", "等单位", "等相关部门" close a list without naming a unit.
LIST_TAIL = re.compile(r"等(?:单位|單位|相关部门|相關部門|相关单位|相關單位|部门|部門)?$")
SEPARATORS = "、，,；;"
# "应急管理局及安委会成员单位和各乡镇街道" names three units; "各事项涉及单位" names one.
JOINERS = re.compile(r"(?<=[局办辦会會委院队隊心部站行司所厅廳组組室联聯社])及|会同|會同|和(?=各)")


# "城市黑臭水體住建部門牽頭": a topic written in front of the department that leads it.
DEPARTMENT_STEMS = ("住建", "住房城乡建设", "生态环境", "水利", "农业农村", "自然资源", "公安", "应急", "财政", "发改", "教育",
                    "卫健", "交通运输", "交通", "城管", "市场监管", "林业", "民政", "商务", "文旅", "人社", "工信", "科工信")
TOPIC_LED = re.compile(rf"^(?P<topic>.{{2,}}?)(?P<unit>(?:{'|'.join(DEPARTMENT_STEMS)})部门)$")


def split_topic(name: str) -> tuple[str, str]:
    """城市黑臭水体住建部门 → (城市黑臭水体, 住建部门); 县级住建部门 and 市住建部门 have no topic."""
    match = TOPIC_LED.match(to_simplified(name))
    if match is None or match["topic"][-1] in "省市县区级各":
        return "", name
    cut = match.start("unit")  # the simplified form has the same length, so cut the original there
    return name[:cut], name[cut:]


@dataclass
class Responsibility:
    """One parenthetical and the units it names, with its span in the clause text."""

    raw: str
    start: int
    end: int
    lead_units: list[str] = field(default_factory=list)
    cooperating_units: list[str] = field(default_factory=list)
    responsible_units: list[str] = field(default_factory=list)
    topic: str = ""  # what the units are in charge of, when the parenthetical says (城市黑臭水体)
    deadline: str = ""  # 6月底完成, 持续推进, 2024年底前: when, never who


def split_units(segment: str) -> list[str]:
    """Split a unit list on separators outside nested brackets (各鎮(街道、中心) is one unit)."""
    segment = LIST_TAIL.sub("", segment.strip(SEPARATORS + " "))
    units, depth, current = [], 0, ""
    for char in segment:
        depth += (char in OPEN_BRACKETS) - (char in CLOSE_BRACKETS)
        if depth == 0 and char in SEPARATORS:
            units.append(current)
            current = ""
        else:
            current += char
    units.append(current)
    names = [name for part in units for name in JOINERS.split(part)]
    return [LIST_TAIL.sub("", n.strip(" *")) for n in names if n.strip(" *")]


def _add(target: list[str], names: list[str]) -> None:
    target.extend(n for n in names if n not in target)


# What an organisation's name ends in (simplified script): 局, 委, 办公室, 中心, 大队, 公司, 支行…
UNIT_SUFFIXES = ("局", "委", "办", "室", "部", "门", "中心", "队", "公司", "政府", "院", "行", "集团", "会", "联", "协",
                 "所", "站", "单位", "组", "处", "科", "厅", "社", "街道", "镇", "乡", "区", "县", "旗", "市", "州", "盟",
                 "省", "村", "馆", "校", "厂", "台", "场", "园", "团", "军", "署", "司", "苏木", "嘎查", "专班", "机构", "企业")
# When a task is due, not who does it: 6月底完成, 2024年底前, 持续推进, 长期坚持, 按进度推进.
DEADLINE = re.compile(
    r"\d{1,4}\s*(?:年|月|日|季度)|[一二三四五六七八九十]{1,3}(?:月|季度)|[年月]底|[年月]末|年内|年前|月前|季度|[上下]半年|全年"
    r"|每[年月季周]|长期|持续|常态|按进度|按期|按时|逐步|即时|立即|及时|限期"
    r"|(?:完成|推进|坚持|落实|到位|成效|实施|开展|优化)$"
)
# Never a name: a phrase (（包括牵头单位自身）, （其中…）), a deadline verb, a bare 全市 / 单位 / 部门.
NOT_A_NAME = re.compile(r"包括|包含|其中|完成|推进|持续|^[全本城]?[省市县区州旗]$|^(?:单位|部门)?(?:自身)?$")
# "牵头单位：X；配合单位：Y", "牵头考核单位：X", "责任单位：X", "完成时限：6月底": the label names the role.
LABEL = re.compile(
    r"(?P<role>(?:[牵牽][头頭](?:考核|[责責]任)?|主[办辦]|主[责責]|[责責]任|配合|[协協][办辦]|[参參][与與]|[协協]助|[负負][责責])"
    r"(?:[单單]位|部[门門]|处室|處室))\s*[：:]"
    r"|(?P<time>(?:完成)?(?:[时時]限|[时時][间間]|期限)(?:要求)?)\s*[：:]"
)
DEADLINE_CUT = re.compile(r"[，,；;。]")


@lru_cache(maxsize=65536)
def _core(name: str) -> str:
    """A name's simplified form without bold or bracketed asides; cached, as a long document
    asks it of the same few hundred names tens of thousands of times."""
    name = to_simplified(name).replace("**", "").strip()
    return re.sub(r"[（(<〈][^）)>〉]*[）)>〉]", "", name).strip()


def is_deadline(text: str) -> bool:
    """6月底完成, 2024年底前, 持续推进, 长期坚持: a time or a way of going on, not an organisation."""
    return bool(DEADLINE.search(_core(text)))


def is_unit(name: str, known: frozenset[str] | set[str] = frozenset()) -> bool:
    """A unit is an organisation's name: it ends in a unit suffix, or the document names it as a unit
    elsewhere (`known`, normalised); a date, a deadline or a phrase like 包括 never is one."""
    core = _core(name)
    if not core or is_deadline(core) or NOT_A_NAME.search(core):
        return False
    return core.endswith(UNIT_SUFFIXES) or normalize_unit(name) in known


def _deadlines(text: str) -> list[str]:
    pieces = (p.strip(SEPARATORS + " 。*") for p in DEADLINE_CUT.split(text.replace("**", "")))
    return [p for p in pieces if p and is_deadline(p)]


def _labelled(content: str, bare: str, labels: list[re.Match]) -> Responsibility | None:
    """（6月底完成，牵头考核单位：X、Y）, （牵头单位：X；配合单位：Y）, （责任单位：X）."""
    result = Responsibility(raw=content, start=0, end=0)
    deadlines = _deadlines(bare[: labels[0].start()])
    for label, following in zip(labels, labels[1:] + [None]):
        segment = bare[label.end() : following.start() if following else len(bare)]
        if label.group("time"):
            deadlines += [p for p in (q.strip(SEPARATORS + " 。") for q in DEADLINE_CUT.split(segment)) if p][:1]
            continue
        role = to_simplified(label.group("role"))
        target = (result.lead_units if "牵头" in role
                  else result.cooperating_units if re.search("配合|协办|参与|协助", role) else result.responsible_units)
        names = []
        for piece in DEADLINE_CUT.split(segment):
            if is_deadline(piece):
                deadlines.append(piece.strip(SEPARATORS + " "))
            else:
                names += [n.removeprefix("由") for n in split_units(piece)]
        _add(target, [n for n in names if n and not is_deadline(n) and not NOT_A_NAME.search(_core(n))])
    result.deadline = "，".join(dict.fromkeys(deadlines))
    if not (result.lead_units or result.cooperating_units or result.responsible_units):
        return None
    return result


TIME_ONLY = re.compile(r"[（(]\s*(?:完成)?(?:[时時]限|[时時][间間]|期限)(?:要求)?\s*[：:]\s*([^（）()]+?)\s*[）)]")


def labelled_deadline(text: str) -> str:
    """（完成时限：2024年底）written apart from the units' parenthetical; "" when there is none."""
    return "；".join(dict.fromkeys(m.group(1).rstrip("。；;") for m in TIME_ONLY.finditer(text)))


# Columns of a 责任分解表 and the role each names.
LEAD_COLUMNS = ("牵头单位", "牵头部门", "牵头考核单位")
DUTY_COLUMNS = ("责任单位", "责任部门", "主责单位")
ASSIST_COLUMNS = ("配合单位", "配合部门", "协办单位")
DEADLINE_COLUMNS = ("完成时限", "完成时间", "时限", "时间要求", "完成期限")


def _column(fields: dict[str, str], names: tuple[str, ...]) -> str:
    return next((fields[k] for k in names if fields.get(k)), "")


def table_responsibility(fields: dict[str, str]) -> Responsibility:
    """A 责任分解表 row's units and deadline from its 牵头单位 / 责任单位 / 配合单位 / 完成时限 cells;
    `raw` reads 牵头单位：X；责任单位：Y (；配合单位：Z)."""
    lead, duty = _column(fields, LEAD_COLUMNS), _column(fields, DUTY_COLUMNS)
    assist, due = _column(fields, ASSIST_COLUMNS), _column(fields, DEADLINE_COLUMNS)
    raw = "；".join(f"{label}：{value}" for label, value in (("牵头单位", lead), ("责任单位", duty), ("配合单位", assist))
                   if value)
    return Responsibility(raw, 0, 0, split_units(lead), split_units(assist), split_units(duty), deadline=due)


def labelled_units(text: str, fields: dict[str, str] | None = None) -> set[str]:
    """Names a document gives as units by a label (牵头单位：X) or a table column, normalised: they
    count as units wherever else the document writes them."""
    found = [table_responsibility(fields)] if fields is not None else [
        item for item in find_responsibilities(text, tails=True, only=LABEL) if LABEL.search(item.raw)]
    names = [u for item in found for u in item.lead_units + item.cooperating_units + item.responsible_units]
    return {normalize_unit(u) for u in names if not is_deadline(u)}


def parse_parenthetical(content: str, known: frozenset[str] | set[str] = frozenset()) -> Responsibility | None:
    """Read the units out of one parenthetical's content; None if it assigns no one.

    A deadline written in it (6月底完成, 持续推进) goes to `deadline`, never to a unit; a name that
    is not an organisation's (包括, a date) is dropped unless `known` lists it.
    """
    bare = content.replace("**", "")
    labels = [m for m in LABEL.finditer(bare)]
    if labels:
        return _labelled(content, bare, labels)
    matches = list(ROLE.finditer(bare))
    if not matches:
        return None
    result = Responsibility(raw=content, start=0, end=0)
    has_lead = any(m.group("lead") for m in matches)
    previous_end = 0
    deadlines: list[str] = []
    for match in matches:
        chunk = bare[previous_end : match.start()]
        previous_end = match.end()
        names = []
        for name in split_units(chunk):
            if name.startswith("由") and is_unit(name[1:], known):  # （由X牵头）
                name = name[1:]
            topic, name = split_topic(name)
            if is_deadline(name):
                deadlines.append(name)
            elif is_unit(name, known):
                names.append(name)
                result.topic = result.topic or topic
        if not names:
            continue
        if match.group("lead"):
            _add(result.lead_units, names)
        elif match.group("assist") or has_lead:
            _add(result.cooperating_units, names)
        else:
            _add(result.responsible_units, names)
    deadlines += _deadlines(bare[previous_end:])
    result.deadline = "，".join(dict.fromkeys(deadlines))
    if not (result.lead_units or result.cooperating_units or result.responsible_units):
        return None
    return result


def find_responsibilities(text: str, known: frozenset[str] | set[str] = frozenset(),
                          tails: bool = False, only: re.Pattern | None = None) -> list[Responsibility]:
    """Every responsibility parenthetical in `text`, in order, with its character span.

    With `tails`, also a line's closing labels written without brackets:
    "…设施改造。牵头单位：市住建局；责任单位：各区人民政府；完成时限：2024年底。"
    With `only`, parentheticals it does not find are not parsed (a caller that keeps only those
    saves the parsing). The scan visits brackets alone, so a document's cost is its length once.
    """
    found: list[Responsibility] = []
    spans: list[tuple[int, int]] = []
    depth, start = 0, -1
    for bracket in BRACKET.finditer(text):
        i = bracket.start()
        if bracket[0] in OPEN_BRACKETS:
            if depth == 0:
                start = i
            depth += 1
        elif depth > 0:
            depth -= 1
            if depth == 0:
                spans.append((start, i + 1))
                if only and not only.search(text, start, i + 1):
                    continue
                parsed = parse_parenthetical(text[start + 1 : i], known)
                if parsed:
                    parsed.raw, parsed.start, parsed.end = text[start : i + 1], start, i + 1
                    found.append(parsed)
    if tails:
        found += _label_tails(text, spans)
    return sorted(found, key=lambda r: r.start)


BRACKET = re.compile(f"[{re.escape(OPEN_BRACKETS + CLOSE_BRACKETS)}]")
TAIL_START = re.compile(r"(?:^|(?<=[。；;！\s]))(?=(?:[牵牽][头頭]|[责責]任|配合|主[办辦责責])[^：:\n]{0,4}[：:])", re.MULTILINE)


def _label_tails(text: str, bracketed: list[tuple[int, int]]) -> list[Responsibility]:
    """Labels that close a line outside brackets (`bracketed`: the spans of the outermost
    parentheticals, in order): from the first role label to the line's end."""
    found = []
    starts = [span[0] for span in bracketed]
    for start_match in TAIL_START.finditer(text):
        start = start_match.start()
        k = bisect.bisect_right(starts, start) - 1
        if (k >= 0 and start < bracketed[k][1]) or (found and start < found[-1].end):
            continue
        end = text.find("\n", start)
        end = len(text) if end < 0 else end
        content = text[start:end].rstrip("。 ")
        labels = list(LABEL.finditer(content.replace("**", "")))
        if not labels or labels[0].start() != 0:
            continue
        parsed = _labelled(content, content.replace("**", ""), labels)
        if parsed:
            parsed.start, parsed.end = start, start + len(content)
            found.append(parsed)
    return found


# A branch named by its place, written with or without its suffix (…平江县支行 ~ …平江支行, …局平江局 ~ …局平江分局).
BRANCH = re.compile(r"(?P<place>[\u4e00-\u9fff]{2})(?:县|市)?(?P<kind>支行|分行|分局)$")
SHORT_BRANCH = re.compile(r"(?<=局)(?P<place>[\u4e00-\u9fff]{2})局$")
ALIASES = {
    "市场监督管理局": "市场监管局",
    "发展和改革局": "发改局",
    "人力资源和社会保障局": "人社局",
    "住房和城乡建设局": "住建局",
    "市监局": "市场监管局",
    "文化旅游广电体育局": "文旅广体局",
    "文体广旅局": "文旅广体局",
    "科技和工业信息化局": "科工信局",
    "科工局": "科工信局",
    "工信局": "科工信局",
    "消防救援大队": "消防大队",
    "卫生健康局": "卫健局",
    "交通局": "交通运输局",
    "法院": "人民法院",
    "检察院": "人民检察院",
    "城管执法局": "城管局",
    "机关事务服务中心": "机关事务中心",
    "退役军人局": "退役军人事务局",
}


# An office's name (应急管理局, 县委网信办, 融媒体中心, 消防大队), not a collective (相关职能部门).
OFFICE_ENDINGS = ("局", "办", "委", "中心", "大队", "中队", "支队", "站", "院")


def shortened_names(text: str, names: Sequence[str]) -> list[str]:
    """The unit names a (simplified) text writes shortened by leaving characters out, in order,
    first and last kept (应急局 → 应急管理局, 退役军人局 → 退役军人事务局), or by its field and
    部门 (公安部门 → 公安局): the way officials shorten a name, which no alias list can hold for
    the next county's units. A short form two names share stands for neither."""
    meant: dict[str, set[str]] = {}
    for name in (n for n in names if len(n) >= 3 and n.endswith(OFFICE_ENDINGS)):
        for i in (m.start() for m in re.finditer(re.escape(name[0]), text)):
            for j in range(i + 3, min(len(text), i + len(name) + 1) + 1):
                word = text[i:j]
                if not CJK_RUN.fullmatch(word):
                    break
                shortened = word[-1] == name[-1] and len(word) < len(name) and is_subsequence(word, name)
                field_of = word.endswith("部门") and len(word) >= 4 and is_subsequence(word[:-2], name[:-1])
                if shortened or field_of:
                    meant.setdefault(word, set()).add(name)
    known = set(names)
    return list(dict.fromkeys(next(iter(found)) for word, found in meant.items() if len(found) == 1 and word not in known))


def normalize_unit(name: str) -> str:
    """Matching form of a unit name: simplified script, no county/city prefix, common aliases."""
    name = to_simplified(name).replace(" ", "").replace("**", "")
    name = re.sub(r"[（(<〈][^）)>〉]*[）)>〉]", "", name)
    name = strip_division(name)
    name = SHORT_BRANCH.sub(r"\g<place>分局", BRANCH.sub(r"\g<place>\g<kind>", name))
    if len(name) > 3 and name[0] in "县市" and name[1] not in "委场":
        name = name[1:]
    return ALIASES.get(name, name)
