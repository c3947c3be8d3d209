"""What guards the running app's own routes (issue 15, item 8): login throttling and the queue bound.

Every test talks to a real `python app.py` over real sockets.
"""
import http.client
import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest

from apphelpers import app_process, free_port

GAS = "平江县燃气整治由谁牵头？"


def login(url: str, password: str, source: str = "127.0.0.1") -> tuple[int, str]:
    """POST /login as the login page does, from the local address `source` (127.0.0.x are all this machine)."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30, source_address=(source, 0))
    try:
        connection.request("POST", "/login", body=urlencode({"username": "alice", "password": password}),
                           headers={"Content-Type": "application/x-www-form-urlencoded"})
        response = connection.getresponse()
        return response.status, response.read().decode("utf-8")
    finally:
        connection.close()


def test_repeated_failed_logins_lock_out_that_client_for_a_while(index_home):
    """Unlimited guesses at RAG_AUTH's password were accepted; now three failures lock that address
    (even for the right password) until the lockout has passed, and no other address."""
    with app_process("guard-login.log", RAG_AUTH="alice:s3cret", RAG_LOGIN_ATTEMPTS="3",
                     RAG_LOGIN_LOCKOUT="3") as (process, url):
        assert login(url, "s3cret")[0] == 200  # a success is not a failure
        assert [login(url, f"guess{i}")[0] for i in range(3)] == [400, 400, 400]
        locked_at = time.monotonic()
        status, body = login(url, "s3cret")
        assert status == 429 and "登录失败次数过多" in json.loads(body)["detail"], body
        assert login(url, "s3cret", source="127.0.0.2")[0] == 200  # another client is not locked out
        time.sleep(max(0.0, 3.2 - (time.monotonic() - locked_at)))
        assert login(url, "s3cret")[0] == 200
        assert login(url, "guess")[0] == 400  # the success cleared the count: one failure locks nothing
        assert login(url, "s3cret")[0] == 200
        assert process.poll() is None



def test_guesses_in_flight_count_before_their_answer_and_memory_stays_bounded():
    """Five guesses sent at once must not all get through before the first one fails; a sweep of
    many addresses is forgotten once their lockout has passed."""
    from rag.webguard import LoginThrottle

    now = [0.0]
    throttle = LoginThrottle(attempts=3, lockout=60, clock=lambda: now[0])
    assert [throttle.admit("a") for _ in range(5)][:3] == [0.0, 0.0, 0.0]  # none answered yet
    assert throttle.admit("a") == 60 and throttle.admit("b") == 0.0
    now[0] = 30.0
    assert throttle.admit("a") == 30  # still locked; waiting does not extend the lock
    now[0] = 60.0
    assert throttle.admit("a") == 0.0
    throttle.succeeded("a")
    for k in range(10_001):
        throttle.admit(f"10.0.{k // 256}.{k % 256}")
    now[0] = 200.0
    throttle.admit("c")
    assert set(throttle.failures) == {"c"}


def submit(url: str, question: str, browser: bool) -> tuple[int, dict]:
    """POST /gradio_api/call/ask; `browser` adds the header every browser's fetch sends."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    headers = {"Content-Type": "application/json", **({"Sec-Fetch-Mode": "cors"} if browser else {})}
    try:
        connection.request("POST", "/gradio_api/call/ask", body=json.dumps({"data": [question]}), headers=headers)
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


def result(url: str, event_id: str) -> str:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
    try:
        connection.request("GET", f"/gradio_api/call/ask/{event_id}")
        stream = connection.getresponse().read().decode("utf-8")
    finally:
        connection.close()
    assert "event: complete" in stream, stream
    return json.loads(stream.split("event: complete\ndata: ", 1)[1].splitlines()[0])[0]


def test_a_flooded_queue_refuses_the_overflow_at_once_in_chinese_and_keeps_serving(index_home):
    """With RAG_QUEUE_MAX=3 and two workers, 24 questions at once: the overflow is refused at once
    (not left hanging) with a Chinese sentence, 429 for a browser (whose page shows the detail),
    503 for scripts; every accepted question is answered as if asked alone; the app serves on."""
    from gradio_client import Client
    from rag.webguard import QUEUE_FULL

    with app_process("guard-queue.log", RAG_QUEUE_MAX="3") as (process, url):
        alone = Client(url, verbose=False).predict(GAS, api_name="/ask")
        assert "城管局" in alone
        started = time.monotonic()
        with ThreadPoolExecutor(24) as pool:
            replies = list(pool.map(lambda k: (k % 2 == 0, *submit(url, GAS, browser=k % 2 == 0)), range(24)))
        assert time.monotonic() - started < 10, "refusals must come at once, not after the queue drains"
        accepted = [body["event_id"] for _, status, body in replies if status == 200]
        refused = [(browser, status, body) for browser, status, body in replies if status != 200]
        assert 2 <= len(accepted) <= 12 and refused, replies
        assert all(status == (429 if browser else 503) and body["detail"] == QUEUE_FULL for browser, status, body in refused)
        assert {browser for browser, _, _ in refused} == {True, False}
        with ThreadPoolExecutor(len(accepted)) as pool:
            assert list(pool.map(lambda event: result(url, event), accepted)) == [alone] * len(accepted)
        assert Client(url, verbose=False).predict(GAS, api_name="/ask") == alone
        assert process.poll() is None


CHROMIUM = Path("/usr/bin/chromium")


@pytest.mark.slow
@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium (apt-get install chromium)")
def test_a_browser_refused_by_a_full_queue_shows_the_chinese_sentence():
    """Gradio's page shows a fixed English sentence for a 503 from the queue; the Guard middleware
    answers a browser 429 instead, whose detail the page shows. A real Gradio server with the app's
    launch guards, a queue of one held full by two blocked jobs, and a real browser."""
    import threading

    import gradio as gr
    from playwright.sync_api import expect, sync_playwright

    from rag.webguard import QUEUE_FULL, launch_guards

    release = threading.Event()

    def hold(text: str) -> str:
        release.wait(60)
        return text

    with gr.Blocks() as demo:
        text, reply = gr.Textbox(elem_id="text"), gr.Textbox(elem_id="reply")
        gr.Button("提问", elem_id="go").click(hold, text, reply, api_name="hold")
    demo.queue(default_concurrency_limit=1, max_size=1)
    _, url, _ = demo.launch(server_name="127.0.0.1", server_port=free_port(), prevent_thread_lock=True, quiet=True,
                            show_error=False, **launch_guards(None))
    try:
        parts = urlsplit(url)
        for _ in range(2):  # one running, one waiting: the queue is full
            connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
            connection.request("POST", "/gradio_api/call/hold", body=json.dumps({"data": ["x"]}),
                               headers={"Content-Type": "application/json"})
            assert connection.getresponse().status == 200
            connection.close()
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--headless", "--no-sandbox",
                                                 "--disable-gpu", "--disable-background-networking", "--no-first-run"])
            page = browser.new_page()
            page.goto(url)
            page.locator("#text textarea").fill("燃气")
            page.locator("#go").click()
            expect(page.get_by_text(QUEUE_FULL).first).to_be_visible(timeout=30_000)
            browser.close()
    finally:
        release.set()
        demo.close()
