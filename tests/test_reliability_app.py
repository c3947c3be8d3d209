"""The running app survives what browsers and strangers do to it (issue 15, item 1).

Every test talks to a real `python app.py` over real sockets.
"""
import contextlib
import http.client
import re
import signal
import socket
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from apphelpers import app_process

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
