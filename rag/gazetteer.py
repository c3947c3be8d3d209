"""Where questions point: the corpus's regions and the places its documents name, read from the index.

Nothing here is written for one corpus. A region is what the manifest gives a document; its
names are the region's own (平江县, short form 平江) and the places its documents report on by
name (a newsletter's 县市区 rows); English questions reach them through their pinyin. Whether a
word names a place at all is general geography (every province, city and county of China, from
the `cpca` package's table), so a question about a place the corpus lacks can be told apart
from one about a place it has.
"""
from __future__ import annotations

import csv
import logging
import importlib.util
import itertools
import re
from collections.abc import Iterable
from functools import cached_property, lru_cache
from pathlib import Path

from rag.clean import to_simplified

# Administrative suffixes a short form drops (长沙市 → 长沙, 平江县 → 平江, 金洞管理区 → 金洞).
SUFFIX = re.compile(r"(?:特别行政区|自治州|自治县|自治旗|管理区|经开区|经济开发区|高新区|开发区|地区|新区|林区|省|市|县|区|盟|旗)$")
# A clause titled by a place (【县市区动态】宁远县) is that place's row.
PLACE_TITLE = re.compile(r"[\u4e00-\u9fff]{1,6}(?:县|区|市)")
NAME_TAGS = {"ns", "nr", "nrt", "nz", "nt", "s"}  # jieba's tags for names (of places, people, things) and places


def short_form(name: str) -> str:
    """平江县 → 平江; a name whose short form would be one character (道县) stays whole."""
    short = SUFFIX.sub("", name)
    return short if len(short) >= 2 else name


def pinyin_forms(name: str, limit: int = 8) -> list[str]:
    """The ways `name` is written in pinyin, one word, lower case (回龙圩: huilongxu, huilongwei…)."""
    from pypinyin import Style, pinyin

    readings = pinyin(name, style=Style.NORMAL, heteronym=True)
    return ["".join(parts) for parts in itertools.islice(itertools.product(*readings), limit)]


def joined(names: Iterable[str]) -> str:
    """平江县、沅江市和永州市."""
    names = list(names)
    return "、".join(names[:-1]) + "和" + names[-1] if len(names) > 1 else "".join(names)


class Gazetteer:
    """The regions of the indexed documents and every name a question may use for them."""

    def __init__(self, clauses: list[dict], place_rows: dict[str, list[int]]) -> None:
        self.regions: list[str] = list(dict.fromkeys(c["region"] for c in clauses))
        names: dict[str, list[str]] = {region: [short_form(region)] for region in self.regions}
        # The places a document reports on by name belong to its region (宁远县 in 永州's newsletter).
        self.reported: dict[str, str] = {}  # place row title → the title of the document reporting on it
        for title, rows in place_rows.items():
            region = clauses[rows[0]]["region"]
            if short_form(title) not in names[region]:
                names[region].append(short_form(title))
            if title != region:
                self.reported[title] = clauses[rows[0]]["doc_title"]
        self.names = {region: tuple(found) for region, found in names.items()}
        self.place_names = sorted({n for found in self.names.values() for n in found}, key=len, reverse=True)
        self.pinyin: dict[str, str] = {form: name for name in self.place_names for form in pinyin_forms(name)}
        self.regions_text = joined(self.regions)

    def regions_in(self, question: str) -> list[str]:
        """Regions a question names, in Chinese (either script) or pinyin, in the corpus's order.

        A region named in full is taken first and its name set aside, so that regions sharing a
        short form (示范市, 示范县) are not all read from one of them."""
        simplified = to_simplified(question)
        full = [region for region in self.regions if region in simplified]
        for region in full:
            simplified = simplified.replace(region, " ")
        words = set(re.findall(r"[a-z]+", question.lower()))
        named = [self.pinyin[w] for w in words if w in self.pinyin]
        return [region for region in self.regions if region in full
                or any(n in simplified for n in self.names[region]) or any(n in self.names[region] for n in named)]

    def without_places(self, text: str, filler: str = "") -> str:
        """`text` with the corpus's place names (平江县, 沅江, 宁远…) replaced by `filler`."""
        for name in self.place_names:
            for written in (name + "县", name + "市", name):
                text = text.replace(written, filler)
        return text

    def without_regions(self, text: str) -> str:
        """`text` without the names of the corpus's regions (永州市, 永州), but for those inside a
        reported place's name (永州经开区): a region selects the clauses searched, and its name
        in a county row's heading (永州经开区) is no sign the row is about the region."""
        names = sorted({n for r in self.regions for n in (r, short_form(r))}, key=len, reverse=True)
        keep = [m.span() for m in re.finditer(self.reported_pattern, text) if m.group() not in names] if self.reported else []
        return re.sub("|".join(map(re.escape, names)),
                      lambda m: m.group() if any(s <= m.start() < e for s, e in keep) else " ", text)

    def place_in_pinyin(self, word: str) -> str | None:
        """The Chinese name of a place written in pinyin (Daoxian → 道县, Changsha → 长沙), if it is one."""
        word = word.lower()
        return self.pinyin.get(word) or (china_pinyin().get(word) if len(word) >= 4 else None)

    def places_in_english(self, question: str) -> list[str]:
        """The Chinese names of the places an English question writes in pinyin: the corpus's in
        any case, another place of China only capitalised, as English writes a name ("bottom-line"
        is no 临邑)."""
        if not re.search(r"[A-Za-z]{3}", question):
            return []
        return list(dict.fromkeys(p for w in re.findall(r"[A-Za-z]+", question)
                                  if (p := self.place_in_pinyin(w) if w[0].isupper() else self.pinyin.get(w.lower()))))

    @cached_property
    def reported_pattern(self) -> str:
        """A regex for the reported places as a question writes them (宁远县, 冷水滩区, 金洞管理区), or ""."""
        forms = []
        for title in self.reported:
            stem = short_form(title)
            forms.append(re.escape(title))
            if stem != title:
                forms.append(re.escape(stem) + "(?:县|区|市|管理区)")
        return "|".join(sorted(forms, key=len, reverse=True))

    def reported_place(self, name: str) -> str | None:
        """The reported place (a county row) a name or its short form stands for (蓝山 → 蓝山县)."""
        return next((t for t in self.reported if t == name or short_form(t) in (name, short_form(name))), None)


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
    names: dict[str, str] = {}
    for name, code in _divisions():
        names[name] = name
        short = SUFFIX.sub("", name)
        prefecture = code[4:] == "0" * (len(code) - 4)
        if len(short) >= 2 and short != name and (prefecture or name.endswith("县")) and short not in common:
            names.setdefault(short, name)
    return names


@lru_cache(maxsize=1)
def _divisions() -> list[tuple[str, str]]:
    """(name, adcode) of every administrative division in cpca's table, grouping rows left out."""
    spec = importlib.util.find_spec("cpca")
    table = Path(next(iter(spec.submodule_search_locations))) / "resources" / "adcodes.csv"
    with table.open(encoding="utf-8") as rows:
        return [(row["name"], row["adcode"]) for row in csv.DictReader(rows)
                if len(row["name"]) >= 2 and "辖" not in row["name"] and "行政区划" not in row["name"]]


@lru_cache(maxsize=1)
def division_names() -> frozenset[str]:
    """The full names of provinces, cities and counties (湖南省, 岳阳市, 平江县): unit names start with them."""
    return frozenset(name for name, _ in _divisions() if name[-1] in "省市县")


def strip_division(name: str) -> str:
    """A unit name without the divisions it starts with (湖南省岳阳市生态环境局 → 生态环境局)."""
    while True:
        cut = next((n for n in range(min(8, len(name) - 2), 1, -1) if name[:n] in division_names()), 0)
        if not cut:
            return name
        name = name[cut:]


@lru_cache(maxsize=1)
def china_pinyin() -> dict[str, str]:
    """Pinyin (one word, lower case) → the Chinese name, for places an English question names."""
    found: dict[str, str] = {}
    for name in sorted(china_places(), key=len):  # a short form wins: changsha → 长沙
        for form in pinyin_forms(short_form(name), limit=2):
            found.setdefault(form, short_form(name))
    return found


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

    jieba.setLogLevel(logging.WARNING)
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
