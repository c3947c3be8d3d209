"""What the web app shows when something goes wrong: a clear Chinese message, never internals.

An exception's text (file paths, library names, clause data) must not reach anonymous web users;
it goes to the server log (stderr) with the traceback, and the browser or API client gets one
sentence it can act on. Also the start-up checks that turn a busy port into a message, and
the middleware in front of Gradio's own routes (login, queue), which no event function sees.
"""
from __future__ import annotations

import errno
import functools
import hmac
import inspect
import json
import logging
import math
import os
import socket
import time
from collections.abc import Callable

log = logging.getLogger("rag.ui")
USER_ERROR = "出错了：这次没能完成回答，请稍后重试或换个问法。（原因已记入服务器日志）"


def user_safe(func):
    """Wrap a Gradio event function (plain or generator): any exception other than gr.Error is
    logged with its traceback and replaced by gr.Error(USER_ERROR)."""
    import gradio as gr

    def fail(exc: Exception):
        log.error("%s failed: %s", func.__name__, exc, exc_info=exc)
        return gr.Error(USER_ERROR, print_exception=False)

    if inspect.isgeneratorfunction(func):
        @functools.wraps(func)
        def stream(*args, **kwargs):
            try:
                yield from func(*args, **kwargs)
            except gr.Error:
                raise
            except Exception as exc:  # noqa: BLE001 - everything unexpected becomes the one message
                raise fail(exc) from None

        return stream

    @functools.wraps(func)
    def call(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except gr.Error:
            raise
        except Exception as exc:  # noqa: BLE001
            raise fail(exc) from None

    return call


def port_problem(host: str, port: int) -> str | None:
    """Why the app cannot listen on host:port (in use, not permitted), or None when it can."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            return launch_problem(host, port, exc)
    return None


def launch_problem(host: str, port: int, exc: OSError) -> str:
    """The message for a server that could not open its port."""
    if exc.errno == errno.EACCES:
        reason = f"没有权限监听端口 {port}（1024 以下的端口需要管理员权限）"
    elif exc.errno == errno.EADDRNOTAVAIL or isinstance(exc, socket.gaierror):
        reason = f"本机没有地址 {host}"
    else:
        reason = f"端口 {port} 已被占用（可能已有一个方案助手在运行）"
    return f"{reason}；请用 --port 换一个端口，或先停止占用它的程序 (cannot listen on {host}:{port})"

# Limits for anonymous visitors: the app takes no files (the API's uploads are small), and past
# RAG_QUEUE_MAX (default 64) waiting events new ones are refused at once instead of piling up
# behind two cores.
MAX_FILE_SIZE = "1mb"
QUEUE_FULL = "现在提问的人太多，排队已满，请稍后再试。(Queue is full, please try again later.)"


def queue_max() -> int:
    """How many events may wait in the queue (RAG_QUEUE_MAX)."""
    return max(1, int(os.environ.get("RAG_QUEUE_MAX") or 64))


# Gradio's default ("auto") tells every waiting client its new place each time any answer starts:
# K questions waiting cost ~K²/2 messages, each encoded and streamed by the app and parsed by the
# client (≈ 7 ms of CPU per question with 20 users on two cores). A place in the queue shown
# once a second is as useful.
STATUS_EVERY = 1.0  # seconds


def queue_limits() -> dict:
    """`Blocks.queue` arguments: at most RAG_QUEUE_MAX waiting events, their places sent once a second."""
    return {"max_size": queue_max(), "status_update_rate": STATUS_EVERY}


class LoginThrottle:
    """Failed logins per client address: after `attempts` within `lockout` seconds, that address
    may not try again until the oldest of them is `lockout` seconds old. Guessing a password then
    costs hours per thousand tries, and one client's mistakes never lock out another.

    An attempt counts as failed from the moment it starts (a success clears the address), so a
    burst of concurrent guesses is counted as strictly as a sequence. Behind a reverse proxy every
    client shares the proxy's address unless it sets X-Forwarded-For (uvicorn trusts it from
    127.0.0.1).
    """

    def __init__(self, attempts: int, lockout: float, clock: Callable[[], float] = time.monotonic):
        self.attempts, self.lockout, self.clock = attempts, lockout, clock
        self.failures: dict[str, list[float]] = {}

    def admit(self, client: str) -> float:
        """0 and the attempt counted when `client` may try now, else the seconds it must wait."""
        now = self.clock()
        if len(self.failures) > 10_000:  # a sweep of many addresses must not grow memory for ever
            self.failures = {c: t for c, t in self.failures.items() if now - t[-1] < self.lockout}
        recent = [t for t in self.failures.get(client, []) if now - t < self.lockout]
        if len(recent) >= self.attempts:
            return self.lockout - (now - recent[-self.attempts])
        self.failures[client] = [*recent, now]
        return 0.0

    def succeeded(self, client: str) -> None:
        self.failures.pop(client, None)


def login_throttle() -> LoginThrottle:
    """RAG_LOGIN_ATTEMPTS failures (default 5) lock an address for RAG_LOGIN_LOCKOUT seconds (default 300)."""
    return LoginThrottle(max(1, int(os.environ.get("RAG_LOGIN_ATTEMPTS") or 5)),
                         float(os.environ.get("RAG_LOGIN_LOCKOUT") or 300))


def password_check(user: str, password: str) -> Callable[[str, str], bool]:
    """Gradio's `auth` callable for the one account: both compared in constant time, so the
    response time tells nothing about how much of a guess was right."""
    def check(username: str, given: str) -> bool:
        same_user = hmac.compare_digest(username.encode("utf-8", "surrogatepass"), user.encode())
        return same_user & hmac.compare_digest(given.encode("utf-8", "surrogatepass"), password.encode())

    return check


class Guard:
    """ASGI middleware before Gradio's routes: throttles POST /login, and words a full queue in
    Chinese. Gradio's page ignores the body of a 503 from the queue and shows a fixed English
    sentence, so a browser's request (it sends Sec-Fetch-Mode) gets 429, whose detail the page
    shows; scripts keep the 503 gradio_client turns into its QueueError."""

    def __init__(self, app, throttle: LoginThrottle | None = None):
        self.app, self.throttle = app, throttle

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            return await self.app(scope, receive, send)
        path = scope["path"].rstrip("/")
        if self.throttle and path.endswith("/login"):
            return await self.login(scope, receive, send)
        if path.endswith("/queue/join") or "/call/" in path:
            browser = any(name == b"sec-fetch-mode" for name, _ in scope["headers"])
            return await self.app(scope, receive, _QueueFullInChinese(send, 429 if browser else 503))
        return await self.app(scope, receive, send)

    async def login(self, scope, receive, send) -> None:
        client = (scope.get("client") or ("?", 0))[0]
        if wait := self.throttle.admit(client):
            log.warning("login refused for %s: too many failed attempts", client)
            await _send_json(send, 429, f"登录失败次数过多，请 {math.ceil(wait)} 秒后再试 (too many failed logins)",
                             [(b"retry-after", str(math.ceil(wait)).encode())])
            return

        async def watch(message: dict) -> None:
            if message["type"] == "http.response.start" and message["status"] == 200:
                self.throttle.succeeded(client)
            await send(message)

        await self.app(scope, receive, watch)


class _QueueFullInChinese:
    """An ASGI `send` that replaces Gradio's "Queue is full…" 503 by QUEUE_FULL with `status`."""

    def __init__(self, send, status: int):
        self.send, self.status, self.held, self.body = send, status, None, b""

    async def __call__(self, message: dict) -> None:
        if message["type"] == "http.response.start" and message["status"] == 503:
            self.held = message
            return
        if self.held is None or message["type"] != "http.response.body":
            return await self.send(message)
        self.body += message.get("body", b"")
        if message.get("more_body"):
            return
        if b"Queue is full" not in self.body:  # another 503 (the queue stopping) passes unchanged
            await self.send(self.held)
            return await self.send({"type": "http.response.body", "body": self.body})
        await _send_json(self.send, self.status, QUEUE_FULL, [(b"retry-after", b"5")])


async def _send_json(send, status: int, detail: str, headers: list[tuple[bytes, bytes]]) -> None:
    body = json.dumps({"detail": detail}, ensure_ascii=False).encode()
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", b"application/json; charset=utf-8"), (b"content-length", str(len(body)).encode()), *headers]})
    await send({"type": "http.response.body", "body": body})


def launch_guards(auth: tuple[str, str] | None) -> dict:
    """The `launch()` arguments that guard the app: upload cap, the login (constant-time check,
    throttled, its rule shown on the login page), the Guard middleware, and the page cache that
    keeps a visitor's page fetch from costing a quarter of an answer (rag/pagecache.py)."""
    from starlette.middleware import Middleware

    from rag.pagecache import PageCache

    throttle = login_throttle() if auth else None
    options = {"max_file_size": MAX_FILE_SIZE, "auth": password_check(*auth) if auth else None,
               "app_kwargs": {"middleware": [Middleware(Guard, throttle=throttle), Middleware(PageCache)]}}
    if throttle:
        options["auth_message"] = (f"连续 {throttle.attempts} 次登录失败后，需等待 {throttle.lockout:.0f} 秒才能再试。"
                                   "（Too many failed logins lock this address for a while.）")
    return options
