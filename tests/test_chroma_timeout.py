"""RAG_CHROMA_URL naming a server that accepts connections but never answers: a clear message, no hang.

The "server" is a thread of this test bound to 127.0.0.1: it accepts every connection and keeps
it open without reading or writing a byte, as a hung Chroma (or a proxy without its backend) does.
"""
from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest
from chroma_helpers import run_rag, seeded_home

from rag.index import ingest

QUESTION = "平江县燃气整治由谁牵头？"
TIMEOUT = 2  # RAG_CHROMA_TIMEOUT for these runs, seconds


@pytest.fixture
def hanging_server() -> Iterator[str]:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.settimeout(0.2)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept_and_hold() -> None:
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            held.append(connection)  # never read, never answered

    thread = threading.Thread(target=accept_and_hold, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(timeout=5)
        for connection in held:
            connection.close()
        listener.close()


def test_ask_and_ingest_give_the_down_message_instead_of_hanging(hanging_server, tmp_path, monkeypatch):
    home = seeded_home(tmp_path / "home")
    monkeypatch.setenv("RAG_HOME", str(home))
    monkeypatch.delenv("RAG_CHROMA_URL", raising=False)
    assert ingest(progress=False, home=home).status == "built"  # an embedded index; the server is asked only below
    env = {"RAG_HOME": str(home), "RAG_CHROMA_URL": hanging_server, "RAG_CHROMA_TIMEOUT": str(TIMEOUT)}
    for args in (["ask", QUESTION], ["ask", "--retrieve-only", QUESTION], ["ingest", "--force"]):
        started = time.monotonic()
        result = run_rag(*args, env=env, timeout=120)
        elapsed = time.monotonic() - started
        assert result.returncode == 2, (args, result.stdout, result.stderr)
        assert "Traceback" not in result.stderr
        assert "无法连接 Chroma 服务器" in result.stderr and "not reachable" in result.stderr, result.stderr
        assert hanging_server in result.stderr and "Timeout" in result.stderr, result.stderr
        assert elapsed < 60, (args, elapsed)  # model loading included; the wait itself is TIMEOUT


def test_the_timeout_setting(monkeypatch):
    from rag.chroma_store import DEFAULT_TIMEOUT, chroma_timeout

    monkeypatch.delenv("RAG_CHROMA_TIMEOUT", raising=False)
    assert chroma_timeout() == DEFAULT_TIMEOUT == 10
    for value, expected in (("2.5", 2.5), ("0", DEFAULT_TIMEOUT), ("-1", DEFAULT_TIMEOUT), ("soon", DEFAULT_TIMEOUT)):
        monkeypatch.setenv("RAG_CHROMA_TIMEOUT", value)
        assert chroma_timeout() == expected
