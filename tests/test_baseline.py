"""The naive llama-index baseline, built once over the real corpus with the real model.

The whole module runs with sockets disabled: tiktoken's BPE file, nltk's punkt data and the
model must all come from local disk.
"""
from __future__ import annotations

import socket

import numpy as np
import pytest

from rag import config, models
from rag.baseline import CHUNK_SIZE, NaiveBaseline
from rag.load import read_manifest

GAS_QUESTION = "平江县燃气整治由谁牵头"


@pytest.fixture(scope="module", autouse=True)
def no_network():
    def refuse(*args, **kwargs):
        raise AssertionError(f"network access attempted: {args[:2]}")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket.socket, "connect", refuse)
        patch.setattr(socket, "create_connection", refuse)
        patch.setattr(socket, "getaddrinfo", refuse)
        yield


@pytest.fixture(scope="module")
def baseline(no_network) -> NaiveBaseline:
    return NaiveBaseline()


@pytest.fixture(scope="module")
def sources() -> set[str]:
    return {entry["source"] for entry in read_manifest(config.corpus_dir())}


def test_builds_over_every_document(baseline: NaiveBaseline, sources: set[str]) -> None:
    assert not baseline.problems
    assert {d.metadata["source"] for d in baseline.documents} == sources
    assert {n.metadata["source"] for n in baseline.nodes} == sources
    assert len(baseline.nodes) > len(sources)


def test_chunks_are_raw_text_of_at_most_512_tokens(baseline: NaiveBaseline) -> None:
    raw = {d.metadata["doc_id"]: d.text for d in baseline.documents}
    for node in baseline.nodes:
        text = node.get_content()
        assert 0 < len(baseline.tokenizer(text)) <= CHUNK_SIZE
        assert text in raw[node.metadata["doc_id"]]  # uncleaned: a verbatim slice of the file


def test_search_returns_top_5_chunks(baseline: NaiveBaseline, sources: set[str]) -> None:
    hits = baseline.search(GAS_QUESTION)
    assert len(hits) == 5
    for hit in hits:
        assert set(hit) == {"doc_id", "source", "path", "score", "text"}
        assert hit["source"] in sources and hit["path"] == "" and hit["text"]
    scores = [hit["score"] for hit in hits]
    assert scores == sorted(scores, reverse=True)
    assert "燃气" in "".join(hit["text"] for hit in hits)
    assert len(baseline.search(GAS_QUESTION, k=2)) == 2


def test_no_llm_or_default_embedding_is_resolved(baseline: NaiveBaseline) -> None:
    """Only a retriever is used: llama-index's global defaults (OpenAI) are never looked up."""
    from llama_index.core import Settings

    baseline.search(GAS_QUESTION)
    assert Settings._llm is None and Settings._embed_model is None


def test_vectors_match_plain_huggingface_embedding(baseline: NaiveBaseline) -> None:
    """Our wrapped ONNX encoder embeds exactly like llama-index's own HuggingFaceEmbedding."""
    from llama_index.embeddings.huggingface import HuggingFaceEmbedding

    reference = HuggingFaceEmbedding(model_name=str(models.build_e5_folder()), device="cpu",
                                     query_instruction="query: ", text_instruction="passage: ")
    texts = [node.get_content(metadata_mode="embed") for node in baseline.nodes[:3]]
    ours = np.array(baseline.embed_model.get_text_embedding_batch(texts))
    theirs = np.array(reference.get_text_embedding_batch(texts))
    np.testing.assert_allclose((ours * theirs).sum(axis=1), 1.0, atol=1e-4)
    query = np.array(baseline.embed_model.get_query_embedding(GAS_QUESTION))
    assert query @ np.array(reference.get_query_embedding(GAS_QUESTION)) == pytest.approx(1.0, abs=1e-4)
