"""Shared fixtures: the real corpus, parsed once per test session; the slow tier marked.

A test is `slow` when it needs the embedding model or a built index (directly or through a
fixture), or starts processes that do (the app, `rag ingest`, `rag eval`). `pytest -m "not slow"`
is the inner loop: parsing, units, the Query, the router over BM25, the LLM checks.
"""
from __future__ import annotations

import pytest

SLOW_FIXTURES = {"index_home", "retriever", "assistant", "server", "tiny_model", "baseline", "cache_dir"}
SLOW_MODULES = {"test_app", "test_index", "test_evaluate", "test_models", "test_baseline", "test_add",
                "test_reliability_app", "test_reliability_ingest"}
SLOW_PREFIXES = ("test_chroma_",)  # a real Chroma collection or server, real embeddings

from rag import config
from rag.load import load_corpus
from rag.parse import Clause, parse_document


@pytest.fixture(scope="session")
def documents():
    documents, problems = load_corpus(config.corpus_dir())
    assert not problems
    return {d.id: d for d in documents}


@pytest.fixture(scope="session")
def clauses(documents) -> dict[str, list[Clause]]:
    return {doc_id: parse_document(document) for doc_id, document in documents.items()}


@pytest.fixture(scope="session")
def clause(clauses):
    def find(doc_id: str, path: str) -> Clause:
        matches = [c for c in clauses[doc_id] if c.path == path]
        assert matches, f"{doc_id} has no clause {path}"
        return matches[0]

    return find


@pytest.fixture(scope="session")
def index_home(tmp_path_factory):
    """A real index (real embeddings, Chroma, BM25) built once into a temporary RAG_HOME.

    The converted model is shared with the project's cache (`rag models` builds it before the
    tests); everything the index build writes goes to the temporary home.
    """
    import os

    from rag.index import ingest

    home = tmp_path_factory.mktemp("rag-home")
    if seed := os.environ.get("RAG_TEST_EMBED_CACHE"):  # a folder of embeddings-*.npz: skips the 2-minute embedding
        import shutil

        shutil.copytree(seed, home / "cache")
    os.environ.setdefault("RAG_MODEL_CACHE", str(config.model_cache()))
    os.environ["RAG_HOME"] = str(home)
    report = ingest(progress=False)
    assert report.status == "built", report
    return home


@pytest.fixture(scope="session")
def retriever(index_home):
    from rag.retrieve import Retriever

    return Retriever(index_home)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        module = item.module.__name__.split(".")[-1]
        if SLOW_FIXTURES & set(getattr(item, "fixturenames", ())) or module in SLOW_MODULES or module.startswith(SLOW_PREFIXES):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def parsed_corpus(documents):
    """Clause records as the index stores them, their BM25 texts, and the Store over them: no model."""
    from rag.index import clause_records, load_user_words, user_words
    from rag.store import Store

    records, _, lexical = clause_records(list(documents.values()))
    load_user_words(user_words(records))
    return records, lexical, Store(records)
