"""rag.li_retriever: the Chroma-backed retriever inside a real llama-index query engine."""
from __future__ import annotations

import os

import pytest
from chroma_helpers import seeded_home

from rag.index import ingest
from rag.retrieve import Retriever

QUESTION = "平江县燃气整治由谁牵头？"


@pytest.fixture(scope="module")
def retriever(tmp_path_factory):
    home = seeded_home(tmp_path_factory.mktemp("chroma-li"))
    saved = os.environ.pop("RAG_CHROMA_URL", None)
    try:
        assert ingest(progress=False, home=home).status == "built"
    finally:
        if saved is not None:
            os.environ["RAG_CHROMA_URL"] = saved
    return Retriever(home)


def test_nodes_are_the_search_hits_with_their_metadata(retriever):
    from llama_index.core.schema import MetadataMode, NodeWithScore

    from rag.li_retriever import ClauseRetriever, deadline_of

    nodes = ClauseRetriever(retriever, k=5).retrieve(QUESTION)
    hits = retriever.search(QUESTION, k=5)
    assert all(isinstance(n, NodeWithScore) for n in nodes)
    assert [n.node.metadata["clause_id"] for n in nodes] == [h.clause["id"] for h in hits]
    assert [n.score for n in nodes] == [pytest.approx(h.score) for h in hits]
    top = nodes[0].node
    assert top.metadata["path"] == "二、(二)3" and top.metadata["lead_units"] == "城管局"
    assert top.metadata["cooperating_units"] == "发改局" and "heading_path" in top.metadata
    assert "燃气" in top.get_content() and "城管局" in top.get_content(metadata_mode=MetadataMode.LLM)
    assert "clause_id" not in top.get_content(metadata_mode=MetadataMode.LLM)
    assert deadline_of("确保2023年底前完成改造") == "2023年底前" and deadline_of("持续推进") == ""
    for node in ClauseRetriever(retriever, k=5, region="沅江市").retrieve("安全利用率目标"):
        assert node.node.metadata["region"] == "沅江市"


def test_retriever_query_engine_runs_without_an_llm(retriever):
    from llama_index.core import get_response_synthesizer
    from llama_index.core.llms import MockLLM
    from llama_index.core.query_engine import RetrieverQueryEngine
    from llama_index.core.response_synthesizers.no_text import NoText

    from rag.li_retriever import ClauseRetriever

    # `from_args(response_mode="no_text")` would resolve Settings.llm (OpenAI): pass synthesizers built here.
    engine = RetrieverQueryEngine(ClauseRetriever(retriever, k=3), response_synthesizer=NoText(llm=MockLLM()))
    response = engine.query(QUESTION)
    assert [n.node.metadata["path"] for n in response.source_nodes][0] == "二、(二)3"
    assert len(response.source_nodes) == 3
    # A synthesizer that does call the (mock) LLM also runs over the clause nodes.
    compact = RetrieverQueryEngine(ClauseRetriever(retriever, k=2),
                                   response_synthesizer=get_response_synthesizer(llm=MockLLM(max_tokens=8)))
    answer = compact.query(QUESTION)
    assert answer.source_nodes[0].node.metadata["lead_units"] == "城管局" and str(answer)
