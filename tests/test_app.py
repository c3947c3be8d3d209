"""The web app end to end: `python app.py` as a real process, a real browser, and the /ask API.

The server runs against the session's test index (`index_home`), so these tests see exactly
what `make run` serves. The browser test uses Debian's Chromium (the Makefile installs it);
Playwright's own browser download is never used, because there is no internet.
"""
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import pytest

from rag.answer import Answer, Citation

from apphelpers import ARTIFACTS, running_app

CHROMIUM = Path("/usr/bin/chromium")
BROWSER_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--no-first-run"]
GAS = "平江县燃气整治由谁牵头？"
TARGET = "平江的受污染耕地安全利用率目标是多少？"


@pytest.fixture(scope="module")
def server(index_home) -> Iterator[str]:
    with running_app("app.log") as url:
        yield url


def test_api_ask_returns_cited_markdown(server):
    from gradio_client import Client

    reply = Client(server, verbose=False).predict(GAS, api_name="/ask")
    assert "牵头单位：城管局；配合单位：发改局" in reply
    assert "[1] 《平江县打好安全生产翻身仗工作方案》二、(二)3「燃气安全专项整治」（平江县）" in reply


def test_api_chat_follows_the_conversation_of_its_client(server):
    """/chat keeps one conversation per client session; /ask stays single-turn."""
    from gradio_client import Client

    client = Client(server, verbose=False)
    assert "91%" in client.predict(TARGET, api_name="/chat")
    reply = client.predict("那沅江呢？", api_name="/chat")
    assert reply.startswith("按上文理解为：沅江市的受污染耕地安全利用率目标是多少？") and "92%" in reply
    assert "《沅江市安全守底行动实施方案》二、(四)3" in reply
    assert "按上文理解为" not in Client(server, verbose=False).predict("那沅江呢？", api_name="/chat")
    assert "按上文理解为" not in client.predict("那沅江呢？", api_name="/ask")


def test_many_users_at_once_all_answered(server):
    """More simultaneous users than the concurrency limit: they queue, none gets an error."""
    from gradio_client import Client

    client = Client(server, verbose=False)
    questions = [GAS, "永州市安全守底行动专班的召集人是谁？", "平江和沅江的受污染耕地安全利用率目标各是多少？"] * 3
    with ThreadPoolExecutor(len(questions)) as pool:
        replies = list(pool.map(lambda q: client.predict(q, api_name="/ask"), questions))
    assert all("城管局" in r for r in replies[::3])
    assert all("91%" in r and "92%" in r for r in replies[2::3])


@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium (apt-get install chromium)")
def test_browser_chat_citation_browser_compare_and_escaping(server):
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=BROWSER_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 860})
        outside, dialogs = [], []
        page.on("request", lambda r: None if r.url.startswith((server, "data:", "blob:")) else outside.append(r.url))
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        # What the page saw go wrong (a refused request, a script error): shown if a step times out.
        troubles: list[str] = []
        page.on("response", lambda r: troubles.append(f"HTTP {r.status} {r.url}") if r.status >= 400 else None)
        page.on("console", lambda m: troubles.append(f"console {m.type}: {m.text}") if m.type in ("error", "warning") else None)
        page.on("pageerror", lambda e: troubles.append(f"page error: {e}"))
        with explained_failure(page, troubles):
            drive_the_app(page, server, expect)
        browser.close()
    assert not dialogs, "a question's markup ran as script"
    assert not outside, f"the page tried to reach the internet: {outside}"


@contextmanager
def explained_failure(page, troubles: list[str]) -> Iterator[None]:
    """A step that times out says what the page and the server saw meanwhile (CI has twice seen
    one UI event come to nothing under load, and the assertion alone does not say why)."""
    try:
        yield
    except AssertionError as exc:
        page.screenshot(path=ARTIFACTS / "app-failure.png")
        log = (ARTIFACTS / "app.log").read_text(encoding="utf-8", errors="replace")[-3000:]
        raise AssertionError(f"{exc}\n--- the page saw:\n" + "\n".join(troubles[-30:]) + f"\n--- app.log ends:\n{log}") from None


def drive_the_app(page, server: str, expect) -> None:
    page.goto(server)

    question = page.locator("#question textarea")
    question.fill(GAS)
    question.press("Enter")
    expect(page.locator("#chat")).to_contain_text("牵头单位：城管局", timeout=30_000)
    citations = page.locator("#citations")
    expect(citations).to_contain_text("二、(二)3", timeout=30_000)
    expect(citations).to_contain_text("《平江县打好安全生产翻身仗工作方案》")
    expect(citations.locator("mark").first).to_contain_text("城管局牵头")
    expect(page.locator("#status")).to_contain_text("grounded")
    page.screenshot(path=ARTIFACTS / "app.png")

    page.get_by_role("button", name="在文档中查看 [1] 二、(二)3").click()
    selected = page.locator("#clause-tree .selected")
    expect(selected).to_contain_text("燃气安全专项整治", timeout=10_000)
    expect(selected).to_contain_text("牵头 · 城管局")
    expect(selected.locator("mark")).to_contain_text("城管局牵头")
    expect(page.locator("#clause-tree")).to_contain_text("《平江县打好安全生产翻身仗工作方案》")
    search = page.locator("#clause-search textarea")
    search.fill("召集人")
    search.dispatch_event("input")  # let Gradio take the value before Enter submits it
    search.press("Enter")
    try:
        expect(page.locator("#clause-tree")).to_contain_text("条条款包含“召集人”", timeout=15_000)
    except AssertionError:  # under load Gradio may take the Enter before the typed value: type and press it again
        search.fill("召集人")
        search.dispatch_event("input")
        search.press("Enter")
        expect(page.locator("#clause-tree")).to_contain_text("条条款包含“召集人”", timeout=30_000)

    page.get_by_role("tab", name="对比").click()
    page.locator("#topic textarea").fill("受污染耕地安全利用率")
    page.locator("#compare-btn").click()
    table = page.locator("#compare-answer table")
    expect(table).to_contain_text("91%", timeout=30_000)
    expect(table).to_contain_text("92%")
    expect(table.locator("th")).to_contain_text(["方面", "平江县", "沅江市"])

    page.get_by_role("tab", name="问答").click()
    question.fill("永州专报【县市区动态】栏目报道了哪些县市区？")
    question.press("Enter")
    expect(page.locator("#chat")).to_contain_text("【县市区动态】共 14 项", timeout=30_000)
    expect(citations).to_contain_text("【县市区动态】「县市区动态」（含其下各项）", timeout=30_000)
    # The column has no heading clause of its own: its citation opens the browser at its first item.
    page.get_by_role("button", name="在文档中查看 [1] 【县市区动态】").click()
    expect(page.locator("#clause-tree .selected")).to_contain_text("冷水滩区", timeout=10_000)

    page.get_by_role("tab", name="问答").click()
    question.fill("<script>alert(1)</script>")
    page.locator("#ask").click()
    expect(page.locator("#chat")).to_contain_text("<script>alert(1)</script>", timeout=30_000)

    # A two-turn conversation: 新对话 clears the chat, and the follow-up is answered as the
    # standalone question it resolves to, shown above the answer, with its own citation.
    page.locator("#new-chat").click()
    try:
        expect(page.locator("#chat")).not_to_contain_text("<script>", timeout=10_000)
    except AssertionError:  # CI once saw the old chat stay: under load the click can land before Gradio listens
        page.locator("#new-chat").click()
        expect(page.locator("#chat")).not_to_contain_text("<script>", timeout=30_000)
    question.fill(TARGET)
    question.press("Enter")
    expect(page.locator("#chat")).to_contain_text("91%", timeout=30_000)
    question.fill("那沅江呢？")
    question.press("Enter")
    expect(page.locator("#chat")).to_contain_text("按上文理解为：沅江市的受污染耕地安全利用率目标是多少？", timeout=30_000)
    expect(page.locator("#chat")).to_contain_text("92%", timeout=30_000)
    expect(citations).to_contain_text("《沅江市安全守底行动实施方案》", timeout=30_000)
    expect(citations).to_contain_text("二、(四)3")
    page.wait_for_timeout(500)
    page.screenshot(path=ARTIFACTS / "app-end.png")


def test_rag_auth_requires_login(index_home):
    from gradio_client import Client

    with running_app("app-auth.log", RAG_AUTH="alice:s3cret") as url:
        with pytest.raises(ValueError):
            Client(url, auth=("alice", "wrong"), verbose=False)
        reply = Client(url, auth=("alice", "s3cret"), verbose=False).predict(GAS, api_name="/ask")
    assert "城管局" in reply


def citation(n: int, doc_id: str) -> Citation:
    return Citation(n, doc_id, "x.txt", "方案", "一、", "标题", ["城管局"], [], [], "原文", "原文全文", "平江县")


def test_several_filters_answer_per_scope_with_unique_citation_numbers():
    from rag.ui import Scope, combine, scopes

    titles = {"a": "甲方案", "b": "乙方案"}
    assert scopes(["平江县"], ["a", "b"], titles) == [Scope("《甲方案》", doc_id="a"), Scope("《乙方案》", doc_id="b")]
    assert scopes(["平江县", "沅江市"], [], titles) == [Scope("平江县", region="平江县"), Scope("沅江市", region="沅江市")]
    assert scopes([], [], titles) == [Scope("")]
    parts = [(Scope("《甲方案》", doc_id="a"), Answer("q", "甲 [1]，[2]", False, citations=[citation(1, "a"), citation(2, "a")])),
             (Scope("《乙方案》", doc_id="b"), Answer("q", "乙 [1]", False, citations=[citation(1, "b")]))]
    combined = combine(parts)
    assert combined.answer == "#### 《甲方案》\n\n甲 [1]，[2]\n\n#### 《乙方案》\n\n乙 [3]"
    assert [(c.n, c.doc_id) for c in combined.citations] == [(1, "a"), (2, "a"), (3, "b")]


def test_user_and_corpus_text_is_escaped_and_keys_masked():
    from rag.ui import mask_key, parse_auth
    from rag.ui_html import citation_card, highlight

    assert highlight("a<b>牵头c", "牵头") == "a&lt;b&gt;<mark>牵头</mark>c"
    card = citation_card({**citation(1, "a").__dict__, "text": "<script>x</script>（城管局牵头）", "quote": "（城管局牵头）"})
    assert "<script>" not in card and "<mark>（城管局牵头）</mark>" in card and "牵头 · 城管局" in card
    assert mask_key("sk-1234567890abcd") == "sk-…abcd"
    assert mask_key("short") == "…" and mask_key("") == ""
    assert parse_auth("admin:p:w") == ("admin", "p:w") and parse_auth(None) is None
    with pytest.raises(ValueError):
        parse_auth("admin")


def test_status_shows_mode_and_fallback_reason():
    from rag.ui import Scope, status_markdown

    fallback = Answer("q", "…", False, mode="fallback", notice="连不上 LLM 服务 http://x（ConnectError），已改用基于条款的回答",
                      timings_ms={"total": 12.0})
    text = status_markdown(fallback, [Scope("平江县", region="平江县")])
    assert "回退到依据原文（fallback）" in text and "连不上 LLM 服务" in text and "范围：平江县" in text
    assert "大模型生成（LLM）" in status_markdown(replace(fallback, mode="llm", notice=""), [Scope("")])


@pytest.mark.parametrize(("name", "value", "message"), [("RAG_AUTH", "no-colon", "user:password"),
                                                       ("RAG_LLM", "bogus", "RAG_LLM='bogus'")])
def test_serve_refuses_bad_settings_before_loading(monkeypatch, capsys, name, value, message):
    from rag.cli import build_parser

    args = build_parser().parse_args(["serve"])
    assert (args.host, args.port) == ("127.0.0.1", 7860)
    monkeypatch.delenv("RAG_AUTH", raising=False)
    monkeypatch.setenv(name, value)
    assert args.func(args) == 2
    assert message in capsys.readouterr().err
