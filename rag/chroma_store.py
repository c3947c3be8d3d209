"""Where the dense vectors live: a Chroma collection, embedded in the index folder or on a server.

Without `RAG_CHROMA_URL` every index folder holds its own embedded Chroma (`<index>/chroma`),
switched in with the rest of the folder. With `RAG_CHROMA_URL=http://host:port` (and optionally
`RAG_CHROMA_TOKEN`, sent as a bearer token) the vectors go to a Chroma server shared by several
app processes: each ingest writes a new collection named after its build, `info.json` names the
live one, and collections no longer in use are dropped after the switch.

HNSW settings are fixed at collection creation (eval/BENCHMARKS.md has the recall they give).

A server that accepts connections but never answers (hung, overloaded, a proxy without its
backend) must not hang `rag ask`, `rag ingest` or the app: every request waits at most
`RAG_CHROMA_TIMEOUT` seconds (10) and then counts as "not reachable", like a server that is down.
"""
from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlparse

from rag.errors import IndexUnavailable

COLLECTION_PREFIX = "clauses-"
HNSW = {"space": "cosine", "ef_search": 200, "ef_construction": 200, "max_neighbors": 32}
DEFAULT_TIMEOUT = 10.0


class StoreUnavailable(IndexUnavailable):
    """The Chroma store cannot be reached or does not hold the collection (CLI: exit 2)."""


def chroma_url() -> str | None:
    """The Chroma server to use (RAG_CHROMA_URL), or None for the embedded store."""
    return os.environ.get("RAG_CHROMA_URL", "").strip().rstrip("/") or None


def chroma_token() -> str | None:
    return os.environ.get("RAG_CHROMA_TOKEN", "").strip() or None


def chroma_timeout() -> float:
    """Seconds any one request to the Chroma server may take (RAG_CHROMA_TIMEOUT, default 10)."""
    try:
        value = float(os.environ.get("RAG_CHROMA_TIMEOUT", "") or DEFAULT_TIMEOUT)
    except ValueError:
        return DEFAULT_TIMEOUT
    return value if value > 0 else DEFAULT_TIMEOUT


def _answers(base: str, timeout: float) -> None:
    """Raise unless the server sends an HTTP response to its heartbeat within `timeout` seconds.

    chromadb 1.5's HttpClient builds its httpx session with `timeout=None` and has no setting for
    it (chromadb/api/fastapi.py), and its constructor already sends requests; a server that hangs
    would hang the constructor, so it is only called once the server has answered this check.
    """
    import httpx

    with httpx.Client(timeout=httpx.Timeout(timeout)) as http:
        http.get(base + "/api/v2/heartbeat")


def _limit_requests(chroma, timeout: float) -> None:
    """Give the client's own httpx session a timeout, so a server that stops answering later
    (mid-ingest, between questions) raises instead of blocking forever."""
    import httpx

    session = getattr(getattr(chroma, "_server", None), "_session", None)
    if isinstance(session, httpx.Client):
        session.timeout = httpx.Timeout(timeout)


def down_message(url: str, exc: BaseException | None = None) -> str:
    reason = f"（{type(exc).__name__}: {exc}）" if exc else ""
    return (f"无法连接 Chroma 服务器 {url}{reason}。请确认服务器已启动（chroma run --path … --port …），"
            f"或取消 RAG_CHROMA_URL 改用本地索引。 The Chroma server at {url} is not reachable: "
            f"start it or unset RAG_CHROMA_URL.")


def client(folder: Path | None, url: str | None = None):
    """A Chroma client: HTTP for `url`, else persistent in `folder / "chroma"`."""
    import chromadb
    from chromadb.config import Settings

    settings = Settings(anonymized_telemetry=False)
    if url:
        parsed = urlparse(url if "://" in url else "http://" + url)
        ssl = parsed.scheme == "https"
        headers = {}
        token = chroma_token()
        if token:
            headers = {"Authorization": f"Bearer {token}", "X-Chroma-Token": token}
        timeout = chroma_timeout()
        try:
            _answers(f"{parsed.scheme}://{parsed.netloc}", timeout)
            chroma = chromadb.HttpClient(host=parsed.hostname or "localhost", port=parsed.port or (443 if ssl else 8000),
                                         ssl=ssl, headers=headers, settings=settings)
        except Exception as exc:  # connection refused, timeout, DNS, auth: all mean "not reachable"
            raise StoreUnavailable(down_message(url, exc)) from None
        _limit_requests(chroma, timeout)
        return chroma
    if folder is None:
        raise ValueError("an embedded Chroma store needs its index folder")
    # The real folder, not the `index` link: chromadb caches one client per path string, and after a
    # re-ingest the link names a new folder that the cached client does not know.
    return chromadb.PersistentClient(path=str((folder / "chroma").resolve()), settings=settings)


def collection_name(build: str) -> str:
    """`index-20261201-091000-123` → `clauses-20261201-091000-123` (Chroma: [a-zA-Z0-9._-])."""
    return COLLECTION_PREFIX + build.removeprefix("index-")


def create_collection(chroma, name: str):
    return chroma.create_collection(name, embedding_function=None, configuration={"hnsw": dict(HNSW)},
                                    metadata={"written_by": "rag ingest"})


def drop_unused(chroma, keep: set[str]) -> list[str]:
    """Delete this project's collections other than `keep`; returns the names dropped."""
    dropped = []
    for collection in chroma.list_collections():
        name = collection if isinstance(collection, str) else collection.name
        if name.startswith(COLLECTION_PREFIX) and name not in keep:
            chroma.delete_collection(name)
            dropped.append(name)
    return dropped
