"""Responsible units: who leads (牵头), who cooperates (配合), who is responsible (负责).

Plans state responsibility in a parenthetical after the sentence or clause it governs:
（住建局牵头，交通运输局、水利局等配合）, （县发改局、…分别牵头，其他有关单位配合）,
（X等按职责分工负责）, in either script (牽頭 / 負責). A paragraph can hold several; each
governs the sentence before it. Unit names are kept as written; `normalize_unit` gives the
form used for matching (县住建局 ≈ 住建局, 市場監督管理局 ≈ 市场监管局).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from rag.clean import CLOSE_BRACKETS, OPEN_BRACKETS, to_simplified

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


def parse_parenthetical(content: str) -> Responsibility | None:
    """Read the units out of one parenthetical's content; None if it assigns no one."""
    bare = content.replace("**", "")
    matches = list(ROLE.finditer(bare))
    if not matches:
        return None
    result = Responsibility(raw=content, start=0, end=0)
    has_lead = any(m.group("lead") for m in matches)
    previous_end = 0
    for match in matches:
        names = split_units(bare[previous_end : match.start()])
        previous_end = match.end()
        for i, name in enumerate(names):
            topic, names[i] = split_topic(name)
            result.topic = result.topic or topic
        if not names:
            continue
        if match.group("lead"):
            _add(result.lead_units, names)
        elif match.group("assist") or has_lead:
            _add(result.cooperating_units, names)
        else:
            _add(result.responsible_units, names)
    if not (result.lead_units or result.cooperating_units or result.responsible_units):
        return None
    return result


def find_responsibilities(text: str) -> list[Responsibility]:
    """Every responsibility parenthetical in `text`, in order, with its character span."""
    found: list[Responsibility] = []
    depth, start = 0, -1
    for i, char in enumerate(text):
        if char in OPEN_BRACKETS:
            if depth == 0:
                start = i
            depth += 1
        elif char in CLOSE_BRACKETS and depth > 0:
            depth -= 1
            if depth == 0:
                parsed = parse_parenthetical(text[start + 1 : i])
                if parsed:
                    parsed.raw, parsed.start, parsed.end = text[start : i + 1], start, i + 1
                    found.append(parsed)
    return found


REGION_PREFIX = re.compile(r"^(?:湖南省|岳阳市|益阳市|永州市|平江县|沅江市)")
ALIASES = {
    "市场监督管理局": "市场监管局",
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
    "人民银行平江县支行": "人民银行平江支行",
    "生态环境局平江局": "生态环境局平江分局",
}


def normalize_unit(name: str) -> str:
    """Matching form of a unit name: simplified script, no county/city prefix, common aliases."""
    name = to_simplified(name).replace(" ", "").replace("**", "")
    name = re.sub(r"[（(<〈][^）)>〉]*[）)>〉]", "", name)
    name = REGION_PREFIX.sub("", name)
    if len(name) > 3 and name[0] in "县市" and name[1] not in "委场":
        name = name[1:]
    return ALIASES.get(name, name)
