"""Helpers shared by the Chroma tests: a real index in a temporary home, built quickly.

The embedding cache of the current RAG_HOME (real vectors of the bundled model, written by an
earlier `rag ingest`) is copied in when there is one, so these tests embed only what is missing.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

from rag import config
from rag.lock import in_use


def seeded_home(target: Path) -> Path:
    target.mkdir(parents=True, exist_ok=True)
    cache = config.rag_home() / "cache"
    if cache.is_dir() and not (target / "cache").exists():
        shutil.copytree(cache, target / "cache")
    return target


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def chroma_cli() -> str:
    """The `chroma` command installed with chromadb, beside this interpreter."""
    path = Path(sys.executable).with_name("chroma")
    return str(path) if path.exists() else (shutil.which("chroma") or "chroma")


def run_rag(*args: str, env: dict | None = None, timeout: int = 180) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "rag.cli", *args], env={**os.environ, **(env or {})},
                          capture_output=True, text=True, timeout=timeout)


def assert_only_served_folders_remain(home: Path) -> None:
    """The current build, plus older ones only while some process still serves from them."""
    current = os.readlink(home / "index")
    older = [p for p in home.glob("index-*") if p.name != current]
    assert (home / current).is_dir()
    assert all(in_use(p) for p in older), [(p.name, in_use(p)) for p in older]
