"""The app's page and config, built by Gradio once per request shape instead of on every fetch.

Gradio answers `GET /` (and `GET /config`, which every gradio_client asks for) by deep-copying
the app's 230 KB config, walking it to rewrite its URLs for the request's root, regenerating
the API snippets and serialising it all again: 22–28 ms of CPU per fetch on this machine (0.4 ms from here). The
result is the same for every visitor who is not logged in: it depends only on the request's
path, query, scheme and the headers Gradio derives the root URL from (Host, X-Forwarded-Host,
X-Forwarded-Proto, X-Gradio-Server), because the config is fixed when the app is built and
per-session state lives on the server, keyed by the session hash the page makes for itself.
So a client that fetches the page and hangs up, a dozen times a second, cost ≈ 0.3 of a core
that the answers needed (eval/BENCHMARKS.md, "Load").

`PageCache` keeps Gradio's own response (the ASGI messages, byte for byte) the first time a
request shape is seen and replays it afterwards. A request that carries a login cookie always
goes to Gradio: with RAG_AUTH the page names the user, and whether the cookie is still valid is
Gradio's to decide; without a cookie the page is the login page, the same for everyone. Only
complete 200 responses without Set-Cookie are kept, at most `size` shapes (least recently used
first out), so odd Host headers cannot grow memory; a shape not kept costs what it did before.
It sits inside Gradio's compression and CORS middleware, which still run per request.
"""
from __future__ import annotations

from collections import OrderedDict

CACHED_PATHS = frozenset({"/", "/config", "/config/"})
# The headers Gradio's get_root_url reads: the page's URLs are built from them.
ROOT_HEADERS = (b"host", b"x-forwarded-host", b"x-forwarded-proto", b"x-gradio-server")
LOGIN_COOKIE = b"access-token"


class PageCache:
    """ASGI middleware: GET of the page or the config, for a visitor without a login cookie,
    answered from the response Gradio gave the first visitor with the same root URL and query."""

    def __init__(self, app, size: int = 16):
        self.app, self.size = app, size
        self.pages: OrderedDict[tuple, list[dict]] = OrderedDict()

    async def __call__(self, scope, receive, send) -> None:
        key = self.key(scope)
        if key is None:
            return await self.app(scope, receive, send)
        if (messages := self.pages.get(key)) is not None:
            self.pages.move_to_end(key)
            for message in messages:
                await send(_copy(message))
            return
        kept: list[dict] = []

        async def keep(message: dict) -> None:
            kept.append(_copy(message))  # before `send`: the CORS and compression layers edit it in place
            await send(message)

        await self.app(scope, receive, keep)
        if self.cacheable(kept):
            self.pages[key] = kept
            while len(self.pages) > self.size:
                self.pages.popitem(last=False)

    @staticmethod
    def key(scope) -> tuple | None:
        """What the response depends on, or None when it must go to Gradio (not a page GET, or a
        login cookie is present)."""
        if scope["type"] != "http" or scope["method"] != "GET" or scope["path"] not in CACHED_PATHS:
            return None
        headers = dict.fromkeys(ROOT_HEADERS, b"")
        for name, value in scope["headers"]:
            if name == b"cookie" and LOGIN_COOKIE in value:
                return None
            if name in headers and not headers[name]:
                headers[name] = value  # Gradio reads the first value of a repeated header
        return (scope["path"], scope.get("query_string", b""), scope.get("scheme"), scope.get("root_path", ""),
                tuple(scope.get("server") or ()), *headers.values())

    @staticmethod
    def cacheable(messages: list[dict]) -> bool:
        """A complete 200 response that sets no cookie."""
        if not messages or messages[0]["type"] != "http.response.start" or messages[0]["status"] != 200:
            return False
        if any(name.lower() == b"set-cookie" for name, _ in messages[0].get("headers", [])):
            return False
        last = messages[-1]
        return last["type"] == "http.response.body" and not last.get("more_body", False)


def _copy(message: dict) -> dict:
    """A message the outer middleware may edit (they add headers to the list in place)."""
    return {**message, "headers": list(message["headers"])} if "headers" in message else dict(message)
