"""One ingest at a time, and no ingest removing an index someone still serves from: `flock`s.

Two `rag ingest --force` started together used to race: each removed the other's half-built
folder when it switched its own in, and the `index` link could end up pointing at a deleted
folder. The lock serialises them. `flock` is released by the kernel when the holding process
dies, so a `kill -9` mid-ingest never leaves a stale lock behind; the PID written into the file
is only there to tell the waiting user who holds it.

Every process that serves from an index folder holds a shared `flock` on its `.serving.lock`
for as long as it serves (`hold_serving`). An ingest that has switched the `index` link to its
new build removes an older folder only when nobody holds that lock (`in_use`): a running app
keeps answering from the folder it opened until it restarts, and the next ingest after that
removes the folder.
"""
from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

LOCK_NAME = ".ingest.lock"
SERVING_NAME = ".serving.lock"
DEFAULT_WAIT = 600.0  # a cold ingest takes ≈ 2 minutes on 2 cores; a waiting one gives up after 10


class IngestBusy(Exception):
    """Another ingest holds the lock and did not finish within the wait: exit 2, index untouched."""


def wait_seconds() -> float:
    """How long a second ingest waits for the first (RAG_INGEST_WAIT, seconds)."""
    try:
        return max(0.0, float(os.environ.get("RAG_INGEST_WAIT", DEFAULT_WAIT)))
    except ValueError:
        return DEFAULT_WAIT


def _holder(handle) -> str:
    handle.seek(0)
    text = handle.read().strip()
    return f"（进程 {text}）" if text.isdigit() else ""


@contextmanager
def ingest_lock(home: Path, wait: float | None = None, poll: float = 0.2) -> Iterator[None]:
    """Hold the ingest lock of `home` for the body; wait up to `wait` seconds for it, else IngestBusy."""
    wait = wait_seconds() if wait is None else wait
    home.mkdir(parents=True, exist_ok=True)
    path = home / LOCK_NAME
    handle = open(path, "a+", encoding="utf-8")
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise IngestBusy(
                        f"另一个索引任务正在运行{_holder(handle)}，等待 {wait:.0f} 秒后仍未结束，"
                        f"请稍后再运行 rag ingest (another ingest is running and holds {path}; "
                        f"gave up after {wait:.0f} s, the current index is unchanged)") from None
                time.sleep(poll)
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        yield
    finally:
        handle.close()  # closing the descriptor releases the flock


def hold_serving(folder: Path):
    """A shared lock on `folder` for as long as the returned file stays open (a reader's lease)."""
    try:
        handle = open(folder / SERVING_NAME, "a+", encoding="utf-8")
    except OSError:  # a read-only index (no ingest can remove it either): serve without a lease
        return None
    fcntl.flock(handle.fileno(), fcntl.LOCK_SH)
    return handle


def held(path: Path) -> bool:
    """Whether some process (this one included) holds a flock on the file at `path`."""
    try:
        handle = open(path, "r", encoding="utf-8")
    except FileNotFoundError:
        return False
    with handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
        return False


def in_use(folder: Path) -> bool:
    """Whether some process (this one included) serves from `folder`."""
    return held(folder / SERVING_NAME)


WRITE_ERRNOS = {"ENOSPC", "EDQUOT", "EFBIG", "EROFS", "EACCES"}
# Chroma's Rust store reports a failed write as its own exception, with SQLite's words for it.
WRITE_WORDS = ("disk I/O error", "database or disk is full", "No space left", "File too large", "readonly database")


def is_write_failure(exc: BaseException) -> bool:
    """Whether `exc` means the index could not be written (disk full, quota, read-only, permissions)."""
    import errno

    if isinstance(exc, OSError) and exc.errno in {getattr(errno, name) for name in WRITE_ERRNOS if hasattr(errno, name)}:
        return True
    return any(word in str(exc) for word in WRITE_WORDS)


def write_failure(exc: BaseException) -> str:
    """A clear message for an ingest that could not write its files."""
    import errno

    reasons = {errno.ENOSPC: "磁盘空间不足 (disk full)", errno.EDQUOT: "磁盘配额已满 (disk quota exceeded)",
               errno.EFBIG: "文件超出大小限制 (file too large)", errno.EROFS: "文件系统只读 (read-only file system)",
               errno.EACCES: "没有写入权限 (permission denied)"}
    if isinstance(exc, OSError) and exc.errno in reasons:
        reason = reasons[exc.errno] + (f"：{exc.filename}" if exc.filename else "")
    else:
        reason = "磁盘已满或不可写 (disk full or not writable)"
    return (f"写入索引失败，{reason}。原索引保持不变；腾出空间或修正权限后重新运行 rag ingest "
            f"(could not write the index; the current index keeps serving)")


def exclusive_ingest(func):
    """Decorate `ingest(force, progress, home)` so that it runs under the ingest lock of its home."""
    import functools
    import inspect

    signature = inspect.signature(func)

    @functools.wraps(func)
    def locked(*args, **kwargs):
        from rag import config

        home = signature.bind(*args, **kwargs).arguments.get("home") or config.rag_home()
        with ingest_lock(Path(home)):
            return func(*args, **kwargs)

    return locked
