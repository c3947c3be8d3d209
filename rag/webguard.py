"""What the web app shows when something goes wrong: a clear Chinese message, never internals.

An exception's text (file paths, library names, clause data) must not reach anonymous web users;
it goes to the server log (stderr) with the traceback, and the browser or API client gets one
sentence it can act on. Also the start-up checks that turn a busy port into a message.
"""
from __future__ import annotations

import errno
import functools
import inspect
import logging
import socket

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
# 64 waiting events new ones are refused at once instead of piling up behind two cores.
MAX_FILE_SIZE = "1mb"
QUEUE_MAX = 64
