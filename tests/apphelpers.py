"""Starting the real app (`python app.py`) as a user would, for the tests that need a server."""
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from rag import config

ARTIFACTS = config.PROJECT_ROOT / "test-artifacts"
READY = re.compile(r"已就绪：(http://\S+?)（")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def app_env(**settings: str) -> dict:
    """The test process's environment without a login or LLM from the developer's shell (the checks
    expect grounded answers), plus `settings`."""
    env = {k: v for k, v in os.environ.items() if k != "RAG_AUTH" and not k.startswith("RAG_LLM")}
    return {**env, **settings, "PYTHONUNBUFFERED": "1"}


@contextmanager
def app_process(log_name: str, *args: str, **settings: str) -> Iterator[tuple[subprocess.Popen, str]]:
    """`python app.py --port <free> [args]`; yields (process, URL) once it prints the ready line,
    and stops it by its PID afterwards."""
    ARTIFACTS.mkdir(exist_ok=True)
    log_path = ARTIFACTS / log_name
    with open(log_path, "w", encoding="utf-8") as log:
        process = subprocess.Popen([sys.executable, "app.py", "--port", str(free_port()), *args], cwd=config.PROJECT_ROOT,
                                   env=app_env(**settings), stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 300
            while not (ready := READY.search(log_path.read_text(encoding="utf-8"))):
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"app did not start (exit {process.poll()}):\n{log_path.read_text(encoding='utf-8')}")
                time.sleep(0.5)
            yield process, ready[1]
        finally:
            if process.poll() is None:
                os.kill(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


@contextmanager
def running_app(log_name: str, **settings: str) -> Iterator[str]:
    """`python app.py` on a free port; yields its URL once it is ready."""
    with app_process(log_name, **settings) as (_, url):
        yield url
