"""Turn a plan document into its clause tree.

Levels: document → annex → 第一部分 → 第一章 → 第一节 → 第一条 → 一、 → （一） → 1. → （1） → ①. A number at
the start of a paragraph is a heading only if it continues the numbering in force, opens a
deeper level at 1, or runs on from the last item of its level under a new section (items
1．–90． numbered across （一）, （二）…; 第五条 under 第二章), so "2023年…", "100%…" or a
cross-reference stay body text. A newsletter without numbering
(【编者按】…) becomes one clause per section or per place-led paragraph; a tab-separated
table becomes one clause per row, its column headers kept as field names.
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

from rag.clean import clean_text, is_standalone, is_table_line, paragraphs, strip_bold, table_cells, to_simplified
from rag.load import Document
from rag.units import find_responsibilities, labelled_deadline, labelled_units, table_responsibility

CN_DIGITS = {c: i for i, c in enumerate("一二三四五六七八九", start=1)}
CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"
CN_NUMBER = r"[一二三四五六七八九十百零〇]+|\d{1,3}"
# Levels in the order they nest; 一、 … （1） keep the numbers 1–4 the seed paths were built with.
PART, CHAPTER, SECTION_LEVEL, ARTICLE, CIRCLED_LEVEL = -3, -2, -1, 0, 5
HEADING_PATTERNS = (
    (PART, re.compile(rf"^第({CN_NUMBER})部分\s*")),
    (CHAPTER, re.compile(rf"^第({CN_NUMBER})章\s*")),
    (SECTION_LEVEL, re.compile(rf"^第({CN_NUMBER})[节節]\s*")),
    (ARTICLE, re.compile(rf"^第({CN_NUMBER})[条條]\s*")),
    (1, re.compile(r"^([一二三四五六七八九十]+)、\s*")),
    (2, re.compile(r"^[（(]([一二三四五六七八九十]+)[）)]\s*")),
    (3, re.compile(r"^(\d{1,2})(?:[.．、](?!\d)|\s+(?=[^\d\s]))\s*")),
    (4, re.compile(r"^[（(](\d{1,2})[）)]\s*")),
    (CIRCLED_LEVEL, re.compile(rf"^([{CIRCLED}])\s*")),
)
ANNEX_LIST = re.compile(r"^附件[：:]$")
ANNEX_LIST_ITEM = re.compile(r"^\d{1,2}[.．、]\s*\S")
ANNEX_HEADING = re.compile(r"^附件\s*(\d{1,2}|[一二三四五六七八九十]{1,3})\s*[：:]?\s*(.*)$")
ANNEX_BARE = re.compile(r"^附件$")
FOOTER = re.compile(r"^抄送[：:]")
SECTION = re.compile(r"^【([^】]{1,10})】$")
PLACE_LED = re.compile(r"^([\u4e00-\u9fff]{2,8})[ \u3000]+(?=\S)")
# "…整体好转。**强化投资关键作用。**加快推进…": a bold sentence inside a paragraph heads
# the text after it (003 总体方案 三、). A bold sentence right after a number is that
# item's own title, not a sub-heading.
INLINE_HEADING = re.compile(r"\*\*([^*，,；;。]{2,20}[。．])\*\*")


@dataclass
class Clause:
    """The unit of retrieval and citation: a numbered item, a section, or a table row."""

    id: str
    doc_id: str
    source: str
    annex: int | None
    path: str
    heading_path: list[str]
    title: str
    text: str
    text_simplified: str
    lead_units: list[str] = field(default_factory=list)
    cooperating_units: list[str] = field(default_factory=list)
    responsible_units: list[str] = field(default_factory=list)
    responsibility: str = ""
    deadline: str = ""  # when the clause's responsibility says it is due (6月底完成, 持续推进), "" if never

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class _Node:
    """A clause under construction: raw paragraphs plus its place in the tree."""

    path: str
    title: str
    heading_path: list[str]
    annex: int | None
    lines: list[str]
    level: int = 0
    number: int = 0
    parent: _Node | None = None
    fields: dict[str, str] | None = None


def chinese_number(text: str) -> int:
    """一 → 1, 十 → 10, 十二 → 12, 二十 → 20, 一百零五 → 105, 5 → 5."""
    if text.isdigit():
        return int(text)
    if "百" in text:
        hundreds, _, rest = text.partition("百")
        return CN_DIGITS.get(hundreds, 1) * 100 + (chinese_number(rest.lstrip("零〇")) if rest else 0)
    if "十" not in text:
        return CN_DIGITS.get(text, 0)
    tens, _, ones = text.partition("十")
    return (CN_DIGITS.get(tens, 1) if tens else 1) * 10 + CN_DIGITS.get(ones, 0)


def path_segment(level: int, written: str) -> str:
    """Canonical path piece: 第一部分 / 第二章 / 第二节 / 第五条 / 二、 / (二) / 3 / (3) / ③,
    half-width, numbers as written."""
    return {PART: f"第{written}部分", CHAPTER: f"第{written}章", SECTION_LEVEL: f"第{written}节", ARTICLE: f"第{written}条",
            1: f"{written}、", 2: f"({written})", 3: written, 4: f"({written})", CIRCLED_LEVEL: written}[level]


def match_heading(line: str) -> tuple[int, int, str, str] | None:
    """(level, number, number as written, rest of line) when the line opens with a marker."""
    bare = line.lstrip("* ")
    for level, pattern in HEADING_PATTERNS:
        match = pattern.match(bare)
        if match:
            written = match.group(1)
            number = (CIRCLED.index(written) + 1 if level == CIRCLED_LEVEL
                      else int(written) if level in (3, 4) else chinese_number(written))
            return level, number, written, bare[match.end() :]
    return None


def heading_title(content: str) -> str:
    """A clause's own heading words: its first sentence if short, else its first phrase."""
    text = clean_text(content)
    for parenthetical in find_responsibilities(text):
        if parenthetical.end == len(text):
            text = text[: parenthetical.start]
    sentence = re.split(r"[。．]", text, maxsplit=1)[0].strip()
    if len(sentence) <= 40:
        return sentence
    phrase = re.split(r"[，,；;：:]", sentence, maxsplit=1)[0]
    return phrase[:40] + ("…" if len(phrase) > 40 else "")


def title_key(title: str, region: str = "") -> str:
    """Titles are written loosely in the body (攻坚战 for 攻坚仗, with or without the region's name)."""
    key = re.sub(r"\s", "", strip_bold(title))
    return (key.removeprefix(region) if region else key).replace("县", "").replace("战", "仗")


class _TreeBuilder:
    """Walks the paragraphs once, keeping the stack of open numbered headings."""

    def __init__(self, document: Document) -> None:
        self.document = document
        self.nodes: list[_Node] = []
        self.stack: list[_Node] = []
        self.body: _Node | None = None  # where an unnumbered paragraph goes
        self.annex: int | None = None
        self.annex_title = ""
        self.section = ""
        self.expected_annexes = {title_key(a.title, document.region): a for a in document.annexes}
        self.listed_annexes: list[str] = []  # titles of the 附件： list when the manifest names none
        self.last_number: dict[int, int] = {}  # the last item number of each level, for run-on numbering

    def add(self, path: str, title: str, lines: list[str], headings: list[str] | None = None) -> _Node:
        prefix = f"附件{self.annex} " if self.annex else ""
        base = [self.annex_title] if self.annex else []
        node = _Node(prefix + path, title, base + (headings or []), self.annex, lines)
        self.nodes.append(node)
        return node

    def enter_annex(self, number: int, title: str) -> None:
        self.annex, self.annex_title, self.stack, self.body = number, title, [], None
        self.last_number = {}

    def annex_title_for(self, number: int, lines: list[str], i: int) -> tuple[str, int]:
        """The annex's title (manifest, 附件： list, or the standalone line after the heading) and
        how many lines that took."""
        known = next((a.title for a in self.document.annexes if a.number == number), None)
        following = lines[i + 1] if i + 1 < len(lines) else ""
        takes_next = bool(following) and is_standalone(following) and not match_heading(following) \
            and not ANNEX_HEADING.match(clean_text(following))
        if known:
            region = self.document.region
            return known, 1 + (takes_next and title_key(following, region) == title_key(known, region))
        if len(self.listed_annexes) >= number and not takes_next:
            return self.listed_annexes[number - 1], 1
        return (clean_text(following), 2) if takes_next else ("", 1)

    def build(self) -> list[_Node]:
        lines = self.front_matter(paragraphs(self.document.text))
        newsletter = any(SECTION.match(clean_text(line)) for line in lines)
        i = 0
        while i < len(lines):
            line = lines[i]
            if FOOTER.match(line):
                self.annex, self.annex_title = None, ""
                self.add("版记", "版记", lines[i:])
                break
            if is_table_line(line):
                j = next((k for k in range(i, len(lines)) if not is_table_line(lines[k])), len(lines))
                self.table([cells for cells in map(table_cells, lines[i:j]) if cells])
                i = j
                continue
            if ANNEX_LIST.match(clean_text(line)):
                j = i + 1
                while j < len(lines) and ANNEX_LIST_ITEM.match(lines[j]):
                    j += 1
                if j == i + 1 and j < len(lines) and is_standalone(lines[j]) and not match_heading(lines[j]) \
                        and not ANNEX_HEADING.match(clean_text(lines[j])):
                    j += 1  # "附件：" and one annex named without a number
                if not self.document.annexes:
                    self.listed_annexes = [re.sub(r"^\d{1,2}[.．、]\s*", "", clean_text(x)) for x in lines[i + 1 : j]]
                self.add("附件", "附件", lines[i + 1 : j])
                self.stack, self.body, self.last_number = [], None, {}
                i = j
                continue
            if newsletter:
                self.newsletter_paragraph(line)
                i += 1
                continue
            taken = self.annex_start(lines, i)
            if not taken and not self.heading(line):
                self.body_paragraph(line)
            i += taken or 1
        return self.nodes

    def front_matter(self, lines: list[str]) -> list[str]:
        """Drop the title line; a covering notice printed before it becomes clause 通知."""
        key = title_key(self.document.title, self.document.region)[:12]
        for k, line in enumerate(lines[:15]):
            if is_standalone(line) and not match_heading(line) and title_key(line, self.document.region).startswith(key):
                if k:
                    self.add("通知", "通知", lines[:k])
                return lines[k + 1 :]
        return lines

    def annex_start(self, lines: list[str], i: int) -> int:
        """How many lines open an annex here (附件3, 附件3：标题, 附件 + title line, a title the
        manifest lists, a titled tree restarting at 一、); 0 if none does."""
        line = clean_text(lines[i])
        numbered = ANNEX_HEADING.match(line)
        if numbered or ANNEX_BARE.match(line):
            written = numbered.group(1) if numbered else ""
            number = chinese_number(written) if written else (self.annex or 0) + 1
            title, taken = self.annex_title_for(number, lines, i)
            known = next((a.title for a in self.document.annexes if a.number == number), None)
            self.enter_annex(number, known or (numbered.group(2) if numbered and numbered.group(2) else title))
            return taken
        annex = self.expected_annexes.get(title_key(lines[i], self.document.region)) if is_standalone(lines[i]) else None
        if annex and (self.annex or 0) < annex.number:
            self.enter_annex(annex.number, annex.title)
            return 1
        following = match_heading(lines[i + 1]) if i + 1 < len(lines) else None
        if (not self.expected_annexes and is_standalone(lines[i]) and not match_heading(lines[i])
                and following and following[:2] == (1, 1) and self.last_number.get(1, 0) >= 2
                and any(n.level == 1 for n in self.stack)):
            # A second tree under its own title (…四、 then 标题 / 一、): an annex without a 附件 line.
            self.enter_annex((self.annex or 0) + 1, line)
            return 1
        return 0

    def heading(self, line: str) -> bool:
        found = match_heading(line)
        if not found:
            return False
        level, number, written, rest = found
        same_level = next((n for n in self.stack if n.level == level), None)
        if same_level:
            if number != same_level.number + 1:
                return False
            self.stack = self.stack[: self.stack.index(same_level)]
        elif self.stack and level < self.stack[-1].level:
            return False
        elif number != 1 and not (number > 1 and self.last_number.get(level) == number - 1):
            # 3． under （二） after 1．, 2． under （一）: the count runs on across sections.
            return False
        self.last_number[level] = number
        parent = self.stack[-1] if self.stack else None
        parent_path = parent.path.removeprefix(f"附件{self.annex} ") if parent else ""
        if level == ARTICLE:
            parent_path = ""  # articles are numbered through the whole text: 第五条, not 第二章第五条
        node = self.add(parent_path + path_segment(level, written), heading_title(rest), [rest],
                        [n.title for n in self.stack])
        node.level, node.number, node.parent = level, number, parent
        self.stack.append(node)
        self.body = node
        return True

    def body_paragraph(self, line: str) -> None:
        if self.body is None:
            self.body = self.add("引言", "引言", [])
        self.body.lines.append(line)

    def table(self, rows: list[list[str]]) -> None:
        if not rows:
            return
        header = [clean_text(cell) for cell in rows[0]]
        for cells in rows[1:]:
            values = [clean_text(cell).rstrip("。") for cell in cells]
            fields = dict(zip(header, values))
            # 序号 | 重点任务 | 牵头单位 …: a row is named by its task, not by its serial number.
            serial = header[0] in ("序号", "编号") and values[0].isdigit() and len(values) > 1
            name = re.split(r"[，,；;。]", values[1])[0][:40] if serial else values[0]
            cells = "；".join(f"{k}：{v}" for k, v in fields.items())
            node = self.add(name, name, [cells], [n.title for n in self.stack])
            node.fields = fields
        self.body = None

    def newsletter_paragraph(self, line: str) -> None:
        section = SECTION.match(clean_text(line))
        if section:
            self.section = section.group(1)
            self.body = self.add(f"【{self.section}】", self.section, [])
            return
        led = PLACE_LED.match(strip_bold(line))
        if led and self.section:
            name = led.group(1)
            self.body = self.add(f"【{self.section}】{name}", name, [strip_bold(line)[led.end() :]], [self.section])
        elif self.body is None:
            self.body = self.add("报头", "报头", [line])
        else:
            self.body.lines.append(line)


def _split_inline_headings(nodes: list[_Node]) -> list[_Node]:
    """Give each inline bold sub-heading (…。**强化投资关键作用。**…) a clause of its own."""
    result: list[_Node] = []
    for node in nodes:
        raw = "\n".join(node.lines)
        # Only a `**` that opens a bold run can open a sub-heading: "…牵头)**持续推进…。**(…"
        # is the gap between two bold runs.
        opening = {m.start() for k, m in enumerate(re.finditer(r"\*\*", raw)) if k % 2 == 0}
        text_from = len(raw) - len(raw.lstrip(" *"))  # a sub-heading needs text before it
        starts = [m for m in INLINE_HEADING.finditer(raw) if m.start() in opening and m.start() > text_from]
        if node.fields is not None or not starts:
            result.append(node)
            continue
        node.lines = [raw[: starts[0].start()]]
        result.append(node)
        for match, following in zip(starts, starts[1:] + [None]):
            title = clean_text(match.group(1)).rstrip("。．")
            body = raw[match.start() : following.start() if following else len(raw)]
            child = _Node(f"{node.path}·{title}", title, node.heading_path + [node.title], node.annex,
                          [body], node.level + 1, 0, node)
            result.append(child)
    return result


def _unique_path(path: str, seen: dict[str, int]) -> str:
    """`path`, or with as many ' as make it new (a repeated heading number keeps both clauses); `seen`
    holds the paths given out and the count each base reached, so repeat 100 skips the 99 taken."""
    primes = seen.get(path, 0)
    while path + "'" * primes in seen:
        primes += 1
    seen[path] = primes
    seen.setdefault(path + "'" * primes, 0)
    return path + "'" * primes


def _clause(node: _Node, document: Document, seen: dict[str, int], known: frozenset[str] = frozenset()) -> Clause:
    text = clean_text("\n".join(node.lines))
    path = _unique_path(node.path, seen)
    clause = Clause(
        id=f"{document.id}#{path}", doc_id=document.id, source=document.source, annex=node.annex,
        path=path, heading_path=[clean_text(h) for h in node.heading_path], title=clean_text(node.title),
        text=text, text_simplified=to_simplified(text),
    )
    if node.fields is not None:  # a 责任分解表 row: its 牵头单位 / 责任单位 / 配合单位 / 完成时限 cells
        row = table_responsibility(node.fields)
        clause.lead_units, clause.cooperating_units = row.lead_units, row.cooperating_units
        clause.responsible_units, clause.responsibility, clause.deadline = row.responsible_units, row.raw, row.deadline
        return clause
    found = find_responsibilities(text, known, tails=True)
    # (城市黑臭水体住建部门牵头) is scoped to its topic; the clause's own units are the others'.
    deadlines: list[str] = []
    for item in [f for f in found if not f.topic] or found:
        clause.lead_units += [u for u in item.lead_units if u not in clause.lead_units]
        clause.cooperating_units += [u for u in item.cooperating_units if u not in clause.cooperating_units]
        clause.responsible_units += [u for u in item.responsible_units if u not in clause.responsible_units]
        deadlines += [item.deadline] if item.deadline and item.deadline not in deadlines else []
    clause.responsibility = " ".join(item.raw for item in found)
    clause.deadline = "；".join(deadlines) or (labelled_deadline(text) if found else "")
    return clause


def _known_units(nodes: list[_Node]) -> frozenset[str]:
    """Units the document names as units by a label or a table column (normalised): a name
    without a unit suffix (华润燃气) counts as a unit wherever else the document writes it."""
    return frozenset(name for node in nodes for name in labelled_units(clean_text("\n".join(node.lines)), node.fields))


def parse_document(document: Document) -> list[Clause]:
    """All clauses of one document, in reading order."""
    nodes = _split_inline_headings(_TreeBuilder(document).build())
    nodes = [node for node in nodes if clean_text("".join(node.lines))]
    seen: dict[str, int] = {}
    known = _known_units(nodes)
    clauses = [_clause(node, document, seen, known) for node in nodes]
    by_node = dict(zip(map(id, nodes), clauses))
    for node, clause in zip(nodes, clauses):
        # A section heading's lead (（一）防范化解政府债务风险（财政局牵头）) governs children
        # that name no lead of their own.
        ancestor = node.parent
        while not clause.lead_units and ancestor is not None:
            above = by_node.get(id(ancestor))
            clause.lead_units = list(above.lead_units) if above else []
            if above and clause.lead_units and not clause.deadline:
                clause.deadline = above.deadline  # the section's deadline comes with its lead
            ancestor = ancestor.parent
    return clauses
