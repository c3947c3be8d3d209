"""Undo what PDF-to-text conversion did to the plans, so that clauses read as written.

The seeds carry four kinds of damage: paragraphs cut by page breaks ("基本消" / blank line /
"除重污染天气"), `**bold**` markers (sometimes unbalanced), spaces inside words ("朱 远",
"2024 年"), and a mix of full- and half-width brackets. Structure is read from the damaged
lines first (bold and tabs carry meaning there), then the text is cleaned for display.
"""
from __future__ import annotations

import re
from functools import lru_cache

import opencc

# Heading markers at the start of a paragraph; used here only to avoid gluing a heading onto
# the previous paragraph. `rag.parse` decides which of them really are headings.
HEADING_START = re.compile(
    r"^\s*(?:\*\*)?\s*(?:"
    r"[一二三四五六七八九十]+、"
    r"|[（(][一二三四五六七八九十]+[）)]"
    r"|\d{1,2}(?:[.．、](?!\d)|\s+(?=[^\d\s]))"
    r"|[（(]\d{1,2}[）)]"
    r"|第[一二三四五六七八九十百零〇\d]+(?:[章节条節條]|部分)"
    r"|[①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳]"
    r"|附件"
    r"|【[^】]{1,10}】"
    r")"
)

OPEN_BRACKETS = "（(<〈"
CLOSE_BRACKETS = "）)>〉"
TERMINAL = set("。；！？：:;!?…”」』")
ROLE_WORDS = re.compile(r"[牵牽][头頭]|[负負][责責]|配合|参与|參與|[责責]任[单單]位")
CJK_OR_DIGIT = r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef0-9%％.．\-—“”‘’《》、，。；：？！（）()]"
INNER_SPACE = re.compile(rf"(?<={CJK_OR_DIGIT})[ \u3000\u00a0]+(?={CJK_OR_DIGIT})")


def strip_bold(text: str) -> str:
    """Remove `**` bold markers, balanced or not."""
    return text.replace("**", "")


def bracket_depth(text: str) -> int:
    """Open minus closed brackets; > 0 means a parenthetical runs past the end of `text`."""
    return sum(c in OPEN_BRACKETS for c in text) - sum(c in CLOSE_BRACKETS for c in text)


def _last_parenthetical(text: str) -> str:
    """The content of the bracket group that closes `text`, or '' if it does not end with one."""
    if not text or text[-1] not in CLOSE_BRACKETS:
        return ""
    depth = 0
    for i in range(len(text) - 1, -1, -1):
        if text[i] in CLOSE_BRACKETS:
            depth += 1
        elif text[i] in OPEN_BRACKETS:
            depth -= 1
            if depth == 0:
                return text[i + 1 : -1]
    return ""


def is_table_line(line: str) -> bool:
    """A table row: tab-separated cells, or a Markdown row `| 序号 | 任务 | 牵头单位 |`."""
    return "\t" in line or (line.lstrip().startswith("|") and line.count("|") >= 3)


def table_cells(line: str) -> list[str]:
    """The cells of a table row; a Markdown separator row (|---|---|) has none."""
    if "\t" in line:
        return line.split("\t")
    cells = [c.strip() for c in line.strip().strip("|").split("|")]
    return [] if all(re.fullmatch(r":?-{3,}:?", c) for c in cells) else cells


def is_standalone(line: str) -> bool:
    """Titles, dates and bare headings: short lines without sentence punctuation."""
    bare = re.sub(r"^[一二三四五六七八九十]+、", "", strip_bold(line).strip())
    return len(bare) <= 40 and not re.search(r"[。，；、,;：]", bare)


def ends_paragraph(line: str) -> bool:
    """Does this line end where its paragraph ends (rather than at a page break)?"""
    if is_table_line(line) or is_standalone(line):
        return True
    bare = strip_bold(line).rstrip()
    if bracket_depth(bare) > 0:
        return False
    if bare[-1] in TERMINAL:
        return True
    # "…第三届中国（平江）" continues on the next page; "…（城管局牵头，发改局等配合）" ends.
    return bool(ROLE_WORDS.search(_last_parenthetical(bare)))


def starts_with_responsibility(line: str) -> bool:
    """A paragraph that opens with a responsibility parenthetical belongs to the sentence above."""
    bare = strip_bold(line).lstrip()
    if not bare or bare[0] not in OPEN_BRACKETS:
        return False
    depth = 0
    for i, c in enumerate(bare):
        depth += (c in OPEN_BRACKETS) - (c in CLOSE_BRACKETS)
        if depth == 0:
            return bool(ROLE_WORDS.search(bare[1:i]))
    return False


def paragraphs(raw: str) -> list[str]:
    """Split raw text into paragraphs, re-joining paragraphs that a page break cut in two.

    Every non-blank line is a paragraph candidate; a candidate is glued to the previous one
    when the previous one stops mid-sentence and this one does not start a heading, or when
    this one is only the responsibility parenthetical of the previous sentence.
    """
    result: list[str] = []
    for line in raw.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff").split("\n"):
        line = line.strip()
        if not line:
            continue
        if result and not is_table_line(line) and not HEADING_START.match(line):
            if not ends_paragraph(result[-1]) or starts_with_responsibility(line):
                result[-1] += line
                continue
        result.append(line)
    return result


def clean_text(text: str) -> str:
    """Display form: no bold markers, no spaces inside Chinese words, full-width brackets."""
    text = strip_bold(text)
    text = INNER_SPACE.sub("", text)
    text = text.replace("(", "（").replace(")", "）").replace("<", "（").replace(">", "）")
    return text.strip()


@lru_cache(maxsize=1)
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    """Simplified-script copy for search: 牽頭 and 牵头 must meet in one index."""
    return _t2s().convert(text)


CJK_RUN = re.compile(r"[\u4e00-\u9fff]+")


def is_subsequence(short: str, text: str) -> bool:
    """Whether the characters of `short` stand in `text` in order (应急局 in 应急管理局)."""
    rest = iter(text)
    return all(ch in rest for ch in short)


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
