"""The running app survives what browsers and strangers do to it (issue 15, items 1, 7, 8).

Every test talks to a real `python app.py` over real sockets.
"""
import contextlib
import http.client
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from rag import config

from apphelpers import app_env, app_process, free_port

ASSET = re.compile(r"""(?:src|href)=["']([^"']+?\.js)["']""")


@pytest.fixture(scope="module")
def app(index_home):
    with app_process("reliability-app.log") as (process, url):
        yield process, url


def get(url: str, path: str, timeout: float = 30) -> tuple[int, bytes]:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def largest_script(url: str) -> str:
    """The biggest JavaScript asset the app serves (the page's entry script loads it on demand):
    the one still being written when a client goes away."""
    import gradio

    status, page = get(url, "/")
    assert status == 200 and ASSET.search(page.decode()), page[:2000]
    assets = Path(gradio.__file__).parent / "templates" / "frontend" / "assets"
    biggest = max(assets.glob("*.js"), key=lambda p: p.stat().st_size)
    status, body = get(url, f"/assets/{biggest.name}")
    assert status == 200 and len(body) > 1_000_000
    return f"/assets/{biggest.name}"


def test_clients_closing_mid_download_do_not_kill_the_server(app):
    """A browser that navigates away closes its sockets mid-download. With SIGPIPE at its default
    a write to such a socket killed the whole server (signal 13, exit 141 in a shell)."""
    process, url = app
    path = largest_script(url)
    parts = urlsplit(url)
    with contextlib.suppress(OSError):  # a dying server resets the connections; the checks below say so
        for _ in range(20):
            with socket.socket() as raw:
                raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # a slow reader: the server blocks writing
                raw.settimeout(10)
                raw.connect((parts.hostname, parts.port))
                raw.sendall(f"GET {path} HTTP/1.1\r\nHost: {parts.netloc}\r\n\r\n".encode())
                assert raw.recv(16).startswith(b"HTTP/1.1")
                time.sleep(0.1)
            # closed with the rest of the response unread: the kernel answers the server with a reset
    time.sleep(2.0)
    assert process.poll() is None, f"the app died with exit {process.returncode}"
    status, page = get(url, "/")
    assert status == 200 and "方案助手" in page.decode()
    status, body = get(url, "/gradio_api/info")
    assert status == 200 and b"ask" in body
    with open(f"/proc/{process.pid}/status", encoding="ascii") as proc:
        ignored = int(next(line for line in proc if line.startswith("SigIgn:")).split()[1], 16)
    assert ignored & (1 << (signal.SIGPIPE - 1)), "SIGPIPE must stay ignored in the server"


def upload(url: str, size: int) -> int:
    parts = urlsplit(url)
    boundary = "----reliability-test"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"big.txt\"\r\n"
            f"Content-Type: text/plain\r\n\r\n").encode() + b"x" * size + f"\r\n--{boundary}--\r\n".encode()
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    try:
        connection.request("POST", "/gradio_api/upload", body=body,
                           headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
        response = connection.getresponse()
        response.read()
        return response.status
    except (ConnectionResetError, BrokenPipeError):
        return 413  # the server refused and closed before the whole body was sent
    finally:
        connection.close()


def test_anonymous_large_upload_is_refused(app):
    process, url = app
    assert upload(url, 2 * 1024 * 1024) >= 400
    assert process.poll() is None
    assert upload(url, 10_000) == 200  # small files (the API's own uploads) still work


def test_served_config_hides_errors_and_limits_uploads(app):
    import json

    _, url = app
    status, body = get(url, "/config")
    config_ = json.loads(body)
    assert status == 200 and config_["show_error"] is False and config_["max_file_size"] == 1024 * 1024


def test_busy_port_gives_a_clear_message(index_home):
    port = free_port()
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", port))
        holder.listen()
        result = subprocess.run([sys.executable, "app.py", "--port", str(port)], cwd=config.PROJECT_ROOT,
                                env=app_env(), capture_output=True, text=True, timeout=300)
    output = result.stdout + result.stderr
    assert result.returncode == 2, output
    assert f"端口 {port} 已被占用" in output and "Traceback" not in output


def test_api_question_with_a_lone_surrogate_is_answered(app):
    """JSON may carry "\\ud800" (gradio_client cannot even send it, so this is raw HTTP); the
    answer used to fail to encode (issue 15, item 5)."""
    import json

    _, url = app
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    body = json.dumps({"data": ["平江\ud800县燃气整治由谁牵头？"]})  # ASCII, the surrogate as an escape
    connection.request("POST", "/gradio_api/call/ask", body=body, headers={"Content-Type": "application/json"})
    response = connection.getresponse()
    assert response.status == 200
    event = json.loads(response.read())["event_id"]
    connection.request("GET", f"/gradio_api/call/ask/{event}")
    stream = connection.getresponse().read().decode("utf-8")
    connection.close()
    assert "event: complete" in stream, stream
    reply = json.loads(stream.split("event: complete\ndata: ", 1)[1].splitlines()[0])[0]
    assert "无法识别的字符" in reply and "城管局" in reply


def test_unexpected_errors_reach_web_users_as_one_chinese_sentence(tmp_path):
    """A real Gradio server with show_error off, as serve() runs it: the internal message stays in
    the log, the client gets USER_ERROR (issue 15, item 8)."""
    import gradio as gr
    from gradio_client import Client

    from rag.webguard import USER_ERROR, user_safe

    @user_safe
    def boom(question: str) -> str:
        raise RuntimeError(f"/srv/secret/index/vectors.npy is corrupt: {question}")

    @user_safe
    def stream(question: str):
        yield "部分"
        raise KeyError("internal-key")

    @user_safe
    def refusal(question: str) -> str:
        raise gr.Error("问题为空")  # a message written for users passes unchanged

    with gr.Blocks() as demo:
        gr.api(boom, api_name="boom")
        gr.api(stream, api_name="stream")
        gr.api(refusal, api_name="refusal")
    demo.queue()
    _, url, _ = demo.launch(server_name="127.0.0.1", server_port=free_port(), prevent_thread_lock=True, quiet=True,
                            show_error=False)
    try:
        client = Client(url, verbose=False)
        for api in ("/boom", "/stream"):
            with pytest.raises(Exception) as caught:
                client.predict("燃气", api_name=api)
            assert USER_ERROR in str(caught.value)
            assert "secret" not in str(caught.value) and "internal-key" not in str(caught.value)
        with pytest.raises(Exception, match="问题为空"):
            client.predict("", api_name="/refusal")
    finally:
        demo.close()


def test_api_overlong_question_is_cut_with_a_notice(app):
    from gradio_client import Client

    _, url = app
    reply = Client(url, verbose=False).predict("平江县燃气整治由谁牵头？" + "请详细说明。" * 200, api_name="/ask")
    assert reply.startswith("（问题过长，只按前 500 个字作答）") and "燃气安全专项整治" in reply


CHROMIUM = Path("/usr/bin/chromium")


@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium (apt-get install chromium)")
def test_markdown_typed_in_the_chat_is_shown_literally(app):
    """An image in a question made the browser fetch its URL; a link went live (issue 15, item 6)."""
    from playwright.sync_api import expect, sync_playwright

    _, url = app
    typed = "![x](http://attacker.example/pixel.png) [点我](http://attacker.example/) **粗** 燃气"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--headless", "--no-sandbox",
                                             "--disable-gpu", "--disable-background-networking", "--no-first-run"])
        page = browser.new_page()
        fetched = []
        page.on("request", lambda r: fetched.append(r.url) if "attacker.example" in r.url else None)
        page.goto(url)
        question = page.locator("#question textarea")
        question.fill(typed)
        question.press("Enter")
        chat = page.locator("#chat")
        expect(chat).to_contain_text(typed, timeout=30_000)
        expect(chat).not_to_contain_text("正在查找…", timeout=30_000)
        assert chat.locator("img[src*='attacker.example']").count() == 0
        assert chat.locator("a[href*='attacker.example']").count() == 0
        assert chat.locator("strong", has_text="粗").count() == 0
        browser.close()
    assert not fetched, fetched
