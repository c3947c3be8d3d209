"""Settings read from the environment, so a deployment changes behaviour without code edits.

Every path defaults to something inside the project so that `make run` works on a fresh
clone with no configuration at all.
"""
from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _path(name: str, default: Path) -> Path:
    value = os.environ.get(name)
    return Path(value).expanduser().resolve() if value else default


def corpus_dir() -> Path:
    """Where the plan documents and `manifest.toml` live (RAG_CORPUS)."""
    return _path("RAG_CORPUS", PROJECT_ROOT / "corpus")


def rag_home() -> Path:
    """Home of everything the project builds: index, model cache (RAG_HOME, default `.rag/`)."""
    return _path("RAG_HOME", PROJECT_ROOT / ".rag")


def model_cache() -> Path:
    """Where converted embedding models are written (RAG_MODEL_CACHE, default RAG_HOME/models)."""
    return _path("RAG_MODEL_CACHE", rag_home() / "models")


def embed_model() -> str | None:
    """A sentence-transformers name or local path that replaces the bundled e5 (RAG_EMBED_MODEL)."""
    return os.environ.get("RAG_EMBED_MODEL") or None


def reranker() -> str | None:
    """A local cross-encoder folder to rerank retrieval candidates with (RAG_RERANKER); off by default."""
    return os.environ.get("RAG_RERANKER") or None
