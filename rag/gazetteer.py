"""Where questions point: the regions of the corpus, their places, and how a question names them.

Retrieval turns the places a question names into region filters, the answer layer checks
them against the corpus, and the comparison table strips them from its aspect cell; all three
read them here. (Issue 11 derives these names from the manifest and the parsed text.)
"""
from __future__ import annotations

import csv
import importlib.util
import re
from functools import lru_cache
from pathlib import Path

from rag.clean import to_simplified
from rag.glossary import PLACES

REGION_NAMES = {
    "平江县": ("平江",),
    "沅江市": ("沅江",),
    "永州市": ("永州", "冷水滩", "零陵", "祁阳", "东安", "双牌", "道县", "江华", "江永", "宁远", "新田", "蓝山",
            "金洞", "回龙圩"),
}
PLACE_NAMES = sorted((n for names in REGION_NAMES.values() for n in names), key=len, reverse=True)
# Administrative suffixes a short form drops (长沙市 → 长沙, 平江县 → 平江).
SUFFIX = re.compile(r"(?:特别行政区|自治州|自治县|自治旗|地区|新区|林区|省|市|县|盟|旗)$")
# A clause titled by a place (【县市区动态】宁远县) is that place's row.
PLACE_TITLE = re.compile(r"[\u4e00-\u9fff]{1,6}(?:县|区|市)")


def regions_in(question: str) -> list[str]:
    """Regions a question names, in simplified script or pinyin."""
    simplified = to_simplified(question)
    lowered = question.lower()
    found = [region for region, names in REGION_NAMES.items() if any(n in simplified for n in names)]
    named = [chinese for pinyin, chinese in PLACES.items() if re.search(rf"\b{pinyin}\b", lowered)]
    found += [region for region, names in REGION_NAMES.items()
              if region not in found and any(n in c for c in named for n in names)]
    return found


def without_places(text: str, filler: str = "") -> str:
    """`text` with the corpus's place names (平江县, 沅江, 宁远…) replaced by `filler`."""
    for name in PLACE_NAMES:
        text = text.replace(name + "县", filler).replace(name + "市", filler).replace(name, filler)
    return text


@lru_cache(maxsize=1)
def china_places() -> dict[str, str]:
    """Every province, city and county of China by its name and, where it is no common word, its
    short form (长沙市, 长沙; 平江县, 平江): general geography from the `cpca` package's adcodes
    table (read as a file, without importing cpca and its pandas), not knowledge of this corpus.

    Short forms are kept for provinces, prefecture-level cities and counties (县), unless
    jieba's dictionary lists the short form as an ordinary word (和平, 日照, 公安); a district's or
    county-level city's short form is too often one (城区, 合作市), so those are known by their
    full name only.
    """
    common = _common_words()
    spec = importlib.util.find_spec("cpca")
    table = Path(next(iter(spec.submodule_search_locations))) / "resources" / "adcodes.csv"
    names: dict[str, str] = {}
    with table.open(encoding="utf-8") as rows:
        for row in csv.DictReader(rows):
            name, code = row["name"], row["adcode"]
            if len(name) < 2 or "辖" in name or "行政区划" in name:
                continue  # a grouping row (市辖区, 省直辖县级行政区划), not a place
            names[name] = name
            short = SUFFIX.sub("", name)
            prefecture = code[4:] == "0" * (len(code) - 4)
            if len(short) >= 2 and short != name and (prefecture or name.endswith("县")) and short not in common:
                names.setdefault(short, name)
    return names


NAME_TAGS = {"ns", "nr", "nrt", "nz", "nt", "s"}  # jieba's tags for names (of places, people, things) and places


def _common_words() -> set[str]:
    """Words jieba's dictionary tags as ordinary words (nouns, verbs, adverbs…), not names."""
    import jieba

    with (Path(jieba.__file__).parent / "dict.txt").open(encoding="utf-8") as lines:
        return {word for word, _, tag in (line.split() for line in lines) if tag not in NAME_TAGS}


@lru_cache(maxsize=1)
def _place_pattern() -> re.Pattern:
    return re.compile("|".join(map(re.escape, sorted(china_places(), key=len, reverse=True))))


def places_named(text: str) -> list[str]:
    """The places of China a (simplified) text names, as written, in order.

    A name counts only where it stands as words of its own: "推广安全" does not name 广安, nor
    "整治多少" 治多, since jieba cuts them 推广/安全 and 整治/多少."""
    import jieba

    bounds = {0, len(text)}
    for _, start, end in jieba.tokenize(text):
        bounds |= {start, end}
    found = []
    for start in range(len(text)):
        if start not in bounds:
            continue
        match = _place_pattern().match(text, start)
        while match and match.end() not in bounds:  # a shorter name that ends on a word boundary
            match = _shorter(text, start, match.end() - 1)
        if match:
            found.append(match.group(0))
    return list(dict.fromkeys(found))


def _shorter(text: str, start: int, end: int) -> re.Match | None:
    """The longest place name in text[start:end] that starts at `start`."""
    for stop in range(end, start + 1, -1):
        if (match := _place_pattern().fullmatch(text, start, stop)) is not None:
            return match
    return None
