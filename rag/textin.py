"""Text typed by users, made safe at the boundaries: the CLI argument and the web inputs.

`normalize_question` makes any string encodable and bounded (a lone surrogate such as
"平江\\ud800县" used to raise UnicodeEncodeError when the answer was printed or logged);
`markdown_literal` makes a question display as typed in a Markdown chat bubble, so an image or
a link in it is text, never fetched or clickable.
"""
from __future__ import annotations

import html
import re
import unicodedata

MAX_QUESTION = 500  # characters; the longest eval question is < 100
SURROGATE = re.compile("[\ud800-\udfff]")
# Every ASCII punctuation character may be backslash-escaped in CommonMark; & < > are written as
# HTML entities instead, and ; is left alone so that those entities stay intact.
MARKDOWN_PUNCTUATION = re.compile(r"""([!"#$%'()*+,\-./:=?@\[\\\]^_`{|}~])""")


def normalize_question(text: str, limit: int = MAX_QUESTION) -> tuple[str, str]:
    """(clean text, notice): surrogates → U+FFFD, control characters other than newline and tab
    dropped, at most `limit` characters; the notice is "" unless something was changed that the
    user should know about."""
    text = "" if text is None else str(text)
    notices = []
    if SURROGATE.search(text):
        text = SURROGATE.sub("\ufffd", text)
        notices.append("问题中有无法识别的字符，已替换为 �")
    text = "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch) != "Cc").strip()
    if len(text) > limit:
        text = text[:limit].rstrip()
        notices.append(f"问题过长，只按前 {limit} 个字作答")
    return text, "；".join(notices)


def markdown_literal(text: str) -> str:
    """`text` for a Markdown + HTML renderer so that it shows exactly as typed: HTML escaped,
    every Markdown punctuation character backslash-escaped, line breaks kept."""
    escaped = html.escape(MARKDOWN_PUNCTUATION.sub(r"\\\1", text), quote=False)
    return escaped.replace("\n", "  \n")
