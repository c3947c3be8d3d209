"""RAG_CHROMA_URL: ingest into and answer from a real `chroma run` server on 127.0.0.1.

The server is a child process of this test, stopped by its PID at the end.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import urllib.request

import pytest
from chroma_helpers import chroma_cli, free_port, run_rag, seeded_home

from rag.index import index_path, ingest, read_info

QUESTION = "平江县燃气整治由谁牵头？"


def start_server(path, port: int) -> subprocess.Popen:
    process = subprocess.Popen([chroma_cli(), "run", "--path", str(path), "--port", str(port), "--host", "127.0.0.1"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while time.time() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"chroma run exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1):
                return process
        except OSError:
            time.sleep(0.2)
    stop_server(process)
    raise RuntimeError("chroma run did not answer its heartbeat within 60 s")


def stop_server(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.kill(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    port = free_port()
    process = start_server(tmp_path_factory.mktemp("chroma-server"), port)
    try:
        yield process, f"http://127.0.0.1:{port}"
    finally:
        stop_server(process)


def server_collections(url: str) -> list[str]:
    from rag.chroma_store import client

    return sorted(c if isinstance(c, str) else c.name for c in client(None, url).list_collections())


def test_ingest_and_answer_through_the_server_then_a_clear_message_when_it_is_down(server, tmp_path, monkeypatch):
    process, url = server
    home = seeded_home(tmp_path / "home")
    env = {"RAG_HOME": str(home), "RAG_CHROMA_URL": url}

    built = run_rag("ingest", env=env)
    assert built.returncode == 0, built.stderr
    info = read_info(home)
    assert info["chroma_url"] == url and info["collection"] in server_collections(url)
    assert not (index_path(home) / "chroma").exists()  # the vectors are on the server only

    asked = run_rag("ask", "--json", QUESTION, env=env)
    assert asked.returncode == 0, asked.stderr
    answer = json.loads(asked.stdout)
    assert "城管局" in answer["answer"] and answer["citations"][0]["path"] == "二、(二)3"

    # Re-ingest: a new collection per build, switched in by info.json; older ones dropped
    # except the one just replaced (processes still serving it keep answering).
    monkeypatch.setenv("RAG_HOME", str(home))
    monkeypatch.setenv("RAG_CHROMA_URL", url)
    first = info["collection"]
    ingest(force=True, progress=False, home=home)
    second = read_info(home)["collection"]
    assert second != first and server_collections(url) == sorted([first, second])
    ingest(force=True, progress=False, home=home)
    third = read_info(home)["collection"]
    assert server_collections(url) == sorted([second, third])
    assert ingest(progress=False, home=home).status == "unchanged"

    stop_server(process)
    for args in (["ask", QUESTION], ["ask", "--retrieve-only", QUESTION], ["ingest", "--force"]):
        down = run_rag(*args, env=env)
        assert down.returncode == 2, (args, down.stdout, down.stderr)
        assert "Traceback" not in down.stderr
        assert "无法连接 Chroma 服务器" in down.stderr and "not reachable" in down.stderr and url in down.stderr
    assert read_info(home)["collection"] == third  # a failed ingest leaves the index as it was
