"""The page and config served from a copy (issue 15, the load target): a visitor's page fetch cost
Gradio ≈ 28 ms of CPU (a deep copy and walk of the 230 KB config), a quarter of an answer, so
clients that fetch the page and hang up took the cores the answers needed.

Every test talks to a real `python app.py`; costs are the app process's own CPU seconds, compared
with its CPU for answering questions, never wall times.
"""
from __future__ import annotations

import http.client
import json
import os
import re
from urllib.parse import urlencode, urlsplit

from apphelpers import app_process

QUESTIONS = ["平江县燃气整治由谁牵头？", "沅江市受污染耕地安全利用率目标是多少？", "专报里哪些县市区的专班办公室是8个人？",
             "统计局在六仗责任分解表里是哪几仗的责任单位？", "平江县安全守底行动由谁负责？"]
GRADIO_CONFIG = re.compile(rb"window\.gradio_config = (\{.*?\});</script>", re.DOTALL)


def app_cpu(pid: int) -> float:
    fields = open(f"/proc/{pid}/stat", encoding="ascii").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def fetch(url: str, path: str = "/", headers: dict | None = None) -> tuple[int, bytes]:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def page_config(body: bytes) -> dict:
    return json.loads(GRADIO_CONFIG.search(body)[1])


def test_a_page_fetch_costs_a_small_fraction_of_an_answer_and_is_gradios_own_page(index_home):
    """200 page fetches used to cost the app about 56 questions' CPU; now less than 10 (each fetch
    under a twentieth of an answer, margins wide both ways). The page served is byte for byte the
    one Gradio builds (a request with a login cookie always goes to Gradio); another Host gets
    its own page, and /config is served the same way."""
    from gradio_client import Client

    with app_process("pagecache-cost.log") as (process, url):
        client = Client(url, verbose=False)
        client.predict(QUESTIONS[0], api_name="/ask")
        assert fetch(url)[0] == 200
        before = app_cpu(process.pid)
        for question in QUESTIONS * 2:
            client.predict(question, api_name="/ask")
        per_answer = (app_cpu(process.pid) - before) / (2 * len(QUESTIONS))
        before = app_cpu(process.pid)
        pages = [fetch(url) for _ in range(200)]
        per_page = (app_cpu(process.pid) - before) / 200
        assert {status for status, _ in pages} == {200} and len({body for _, body in pages}) == 1
        assert per_page < per_answer / 20, (per_page, per_answer)

        built = fetch(url, headers={"Cookie": "access-token-unsecure-x=none"})[1]  # no valid login: Gradio's page
        assert built == pages[0][1] and len(built) > 100_000
        assert page_config(built)["root"] == url.rstrip("/")
        proxied = fetch(url, headers={"X-Forwarded-Host": "plans.example.org", "X-Forwarded-Proto": "https"})[1]
        assert page_config(proxied)["root"] == "https://plans.example.org"
        assert fetch(url)[1] == built
        assert [fetch(url, "/config")[1] for _ in range(2)] == [fetch(url, "/config", {"Cookie": "access-token-y=1"})[1]] * 2
        assert process.poll() is None


def login(url: str, password: str) -> str:
    """The login cookie header for a successful POST /login."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        connection.request("POST", "/login", body=urlencode({"username": "alice", "password": password}),
                           headers={"Content-Type": "application/x-www-form-urlencoded"})
        response = connection.getresponse()
        response.read()
        assert response.status == 200
        return "; ".join(value.split(";", 1)[0] for name, value in response.getheaders() if name.lower() == "set-cookie")
    finally:
        connection.close()


def test_with_a_login_the_cached_page_is_the_login_page_and_a_logged_in_user_gets_his_own(index_home):
    """RAG_AUTH: a visitor without a login cookie always gets the login page (the same for
    everyone, so it may be kept); a logged-in user's page names him and is never shown to anyone
    else; the config stays behind the login."""
    with app_process("pagecache-auth.log", RAG_AUTH="alice:s3cret") as (process, url):
        anonymous = [page_config(fetch(url)[1]) for _ in range(3)]
        assert all(c.get("auth_required") and not c["components"] for c in anonymous)
        cookie = login(url, "s3cret")
        mine = page_config(fetch(url, headers={"Cookie": cookie})[1])
        assert mine["username"] == "alice" and not mine.get("auth_required") and mine["components"]
        assert page_config(fetch(url)[1]) == anonymous[0]
        assert fetch(url, "/config", {"Cookie": cookie})[0] == 200
        assert fetch(url, "/config")[0] == 401
        assert process.poll() is None
