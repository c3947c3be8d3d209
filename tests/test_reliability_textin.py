"""Text typed by users (issue 15, items 5 and 6): lone surrogates and control characters, overlong
questions, and Markdown in the chat bubble."""
import html
import json
import os
import subprocess
import sys

import pytest
from markdown_it import MarkdownIt

from rag.textin import MAX_QUESTION, markdown_literal, normalize_question

# What a terminal in another encoding, or a broken paste, hands over: U+D800 written as UTF-8
# bytes is not valid UTF-8, so Python's argv decoding turns it into lone surrogates.
SURROGATE_ARG = "平江".encode() + b"\xed\xa0\x80" + "县燃气整治由谁牵头".encode()


def test_surrogates_become_replacement_characters():
    text, notice = normalize_question("平江\ud800县燃气", 100)
    assert text == "平江\ufffd县燃气" and text.encode("utf-8")
    assert "无法识别的字符" in notice


def test_control_characters_are_dropped_but_newline_and_tab_kept():
    text, notice = normalize_question("\x00平江县\x1b燃气\r\n整治\t由谁\x7f牵头\u0085？  ", 100)
    assert text == "平江县燃气\n整治\t由谁牵头？"
    assert notice == ""


def test_overlong_question_is_cut_with_a_visible_notice():
    text, notice = normalize_question("燃" * (MAX_QUESTION + 50), MAX_QUESTION)
    assert text == "燃" * MAX_QUESTION
    assert f"前 {MAX_QUESTION} 个字" in notice
    assert normalize_question("平江县燃气整治由谁牵头？", MAX_QUESTION) == ("平江县燃气整治由谁牵头？", "")
    assert normalize_question(None, 10) == ("", "")


def run_ask(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable.encode(), b"-m", b"rag.cli", b"ask", *args], capture_output=True,
                          env={**os.environ, **(env or {})}, timeout=180)


@pytest.mark.parametrize("stdio", [None, "utf-8:strict"], ids=["default-locale", "utf8-strict-terminal"])
@pytest.mark.parametrize("mode", [[b"--json"], [b"--retrieve-only", b"--json"]], ids=["answer", "retrieve-only"])
def test_cli_ask_json_with_a_lone_surrogate_returns_valid_json(index_home, stdio, mode):
    result = run_ask(*mode, SURROGATE_ARG, env={"PYTHONIOENCODING": stdio} if stdio else {})
    stderr = result.stderr.decode("utf-8", "replace")
    assert result.returncode == 0, stderr
    assert "Traceback" not in stderr and "无法识别的字符" in stderr
    reply = json.loads(result.stdout.decode("utf-8"))  # strict: the output is valid UTF-8
    assert "\ufffd" in reply["question"]
    assert reply["retrieved"], reply


def render(text: str) -> str:
    return MarkdownIt("commonmark").enable(["table", "strikethrough"]).render(text)


@pytest.mark.parametrize("typed", [
    "![x](http://attacker.example/pixel.png)",
    "[点这里](http://attacker.example/) <http://attacker.example/>",
    '<img src="http://attacker.example/a.png" onerror="alert(1)"> <script>alert(1)</script>',
    "**粗体** _斜体_ `代码` ~~删除~~ # 标题",
    "# 一级标题\n1. 列表\n- 项目\n> 引用\n| a | b |\n|---|---|\n| 1 | 2 |",
    "反斜杠 \\* 和 \\\\ 以及 &amp; &lt; 都原样显示",
    "平江县燃气整治由谁牵头？",
])
def test_markdown_literal_renders_as_the_typed_text(typed):
    rendered = render(markdown_literal(typed))
    assert "<img" not in rendered and "<a " not in rendered and "<script" not in rendered
    for tag in ("<strong>", "<em>", "<code>", "<h1>", "<ol>", "<ul>", "<blockquote>", "<table>", "<s>"):
        assert tag not in rendered
    # Exactly the typed text (as HTML text: escaped, so the only tags are the line breaks).
    body = rendered.removeprefix("<p>").removesuffix("</p>\n").replace("<br />\n", "\n")
    assert "<" not in body and html.unescape(body) == typed
