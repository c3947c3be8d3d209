"""The dense path goes through Chroma: real index, real embeddings, real embedded Chroma."""
from __future__ import annotations

import json
import os

import numpy as np
import pytest
from chroma_helpers import seeded_home

from rag.clean import to_simplified
from rag.index import index_path, ingest, read_info
from rag.retrieve import Retriever
from rag.chroma_store import HNSW

QUESTIONS = ["平江县燃气整治由谁牵头？", "受污染耕地安全利用率目标是多少", "专班办公室有几个人",
             "Who leads gas safety in Pingjiang?", "沅江市利剑行动", "统计局在六仗责任分解表里是哪几仗的责任单位？"]


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    home = seeded_home(tmp_path_factory.mktemp("chroma-dense"))
    saved = os.environ.get("RAG_CHROMA_URL")
    os.environ.pop("RAG_CHROMA_URL", None)
    try:
        report = ingest(progress=False, home=home)
    finally:
        if saved is not None:
            os.environ["RAG_CHROMA_URL"] = saved
    assert report.status == "built"
    return home


@pytest.fixture(scope="module")
def retriever(home):
    return Retriever(home)


def stored_vectors(retriever) -> np.ndarray:
    """Every clause's vector as Chroma stores it, in clause order."""
    got = retriever.collection.get(include=["embeddings"])
    by_id = dict(zip(got["ids"], got["embeddings"]))
    return np.asarray([by_id[str(i)] for i in range(len(retriever.clauses))], dtype=np.float32)


def test_index_is_one_chroma_collection_without_a_vector_copy(home, retriever):
    info = read_info(home)
    folder = index_path(home)
    assert not (folder / "vectors.npy").exists()
    assert info["collection"].startswith("clauses-") and info["chroma_url"] is None
    assert retriever.collection.name == info["collection"]
    assert retriever.collection.count() == info["clauses"] == len(retriever.clauses)
    hnsw = retriever.collection.configuration["hnsw"]
    assert {k: hnsw[k] for k in HNSW} == HNSW
    metadata = retriever.collection.get(ids=["0"], include=["metadatas"])["metadatas"][0]
    first = retriever.clauses[0]
    assert (metadata["region"], metadata["doc_id"], metadata["kind"]) == (first["region"], first["doc_id"], first["kind"])


@pytest.mark.parametrize("question", QUESTIONS)
def test_dense_ranking_equals_exact_search_over_all_clauses(retriever, question):
    vectors = stored_vectors(retriever)
    simplified = to_simplified(question)
    regions = retriever.store.gazetteer.regions_in(question)
    mask = retriever.allowed(regions, [], [])
    got = retriever.dense_ranking(simplified, mask, retriever.where(regions, [], []))
    query = retriever.encoder.encode_queries([simplified])[0]
    allowed = np.flatnonzero(mask)
    expected = [int(allowed[j]) for j in np.argsort(-(vectors[allowed] @ query), kind="stable")[:60]]
    assert got == expected
    assert got == retriever.dense_ranking(simplified, mask, retriever.where(regions, [], []))  # deterministic


def test_filters_become_where_clauses(retriever):
    assert retriever.where([], [], []) is None
    assert retriever.where(["平江县"], [], []) == {"region": {"$in": ["平江县"]}}
    both = retriever.where(["平江县"], ["pj-fanshen"], [])
    assert both == {"$and": [{"region": {"$in": ["平江县"]}}, {"doc_id": {"$in": ["pj-fanshen"]}}]}
    query = retriever.encoder.encode_queries(["燃气安全"])[0]
    rows, vectors = retriever.dense_candidates(query, both)
    expected = [i for i, c in enumerate(retriever.clauses) if c["region"] == "平江县" and c["doc_id"] == "pj-fanshen"]
    assert rows == expected and vectors.shape == (len(expected), 384)
    # Every clause comes back when the corpus is smaller than the candidate count.
    rows, _ = retriever.dense_candidates(query, None)
    assert rows == list(range(len(retriever.clauses)))


def test_search_with_filters_through_chroma(retriever):
    hits = retriever.search("平江县燃气整治由谁牵头？", k=3)
    assert hits[0].clause["path"] == "二、(二)3" and "城管局" in hits[0].clause["lead_units"]
    for hit in retriever.search("安全利用率目标", k=5, region="沅江市"):
        assert hit.clause["region"] == "沅江市"
    for hit in retriever.search("燃气", k=5, doc_id="pj-fanshen"):
        assert hit.clause["doc_id"] == "pj-fanshen"


def test_index_without_a_collection_asks_for_ingest(home, tmp_path):
    import shutil

    from chroma_helpers import run_rag

    old = tmp_path / "old"
    shutil.copytree(index_path(home), old / "index")
    info = json.loads((old / "index" / "info.json").read_text(encoding="utf-8"))
    del info["collection"]
    (old / "index" / "info.json").write_text(json.dumps(info), encoding="utf-8")
    result = run_rag("ask", "--retrieve-only", "燃气", env={"RAG_HOME": str(old), "RAG_CHROMA_URL": ""})
    assert result.returncode == 2 and "rag ingest" in result.stderr and "Traceback" not in result.stderr


def test_fetched_vectors_are_kept_and_are_chromas_own(retriever):
    query = retriever.encoder.encode_queries(["燃气安全"])[0]
    retriever.dense_candidates(query, None)
    assert retriever._have.all()
    calls = []
    real_get = retriever.collection.get
    retriever.collection.get = lambda *a, **k: calls.append(1) or real_get(*a, **k)
    try:
        rows, vectors = retriever.dense_candidates(query, retriever.where(["沅江市"], [], []))
    finally:
        retriever.collection.get = real_get
    assert not calls  # a search after the first is one Chroma query
    assert np.array_equal(vectors, stored_vectors(retriever)[rows])


def test_a_filter_that_lets_few_clauses_through_needs_no_filtered_query(retriever):
    """Chroma's filtered query costs ~0.5 s at 387,000 clauses however few rows pass; when the
    rows the filter allows are no more than the candidates, they are the candidates."""
    query = retriever.encoder.encode_queries(["燃气安全"])[0]
    mask = retriever.allowed(["沅江市"], [], [])
    where = retriever.where(["沅江市"], [], [])
    calls = []
    real_query = retriever.collection.query
    retriever.collection.query = lambda *a, **k: calls.append(1) or real_query(*a, **k)
    try:
        rows, vectors = retriever.dense_candidates(query, where, np.flatnonzero(mask))
        ranking = retriever.dense_ranking("燃气安全", mask, where)
    finally:
        retriever.collection.query = real_query
    assert not calls
    assert rows == [int(r) for r in np.flatnonzero(mask)] and np.array_equal(vectors, stored_vectors(retriever)[rows])
    assert ranking and all(retriever.clauses[r]["region"] == "沅江市" for r in ranking)
    unfiltered = []
    retriever.collection.query = lambda *a, **k: unfiltered.append(1) or real_query(*a, **k)
    try:
        retriever.dense_ranking("燃气安全", np.ones(len(retriever.clauses), dtype=bool), None)
    finally:
        retriever.collection.query = real_query
    assert unfiltered  # without a filter Chroma's HNSW chooses the candidates
