"""The project's retriever as a llama-index `BaseRetriever`.

`ClauseRetriever(Retriever())` returns the same clauses, in the same order and with the same fused
scores, as `Retriever.search`, each as a `NodeWithScore` whose `TextNode` carries the clause text
and, as metadata, where it sits (document, heading path, clause path) and what it assigns (lead /
cooperating / responsible units, a deadline when the clause states one). Any llama-index
component that takes a retriever (`RetrieverQueryEngine`, postprocessors, evaluators) can then
run over the clause index without a second vector store.

    from llama_index.core import get_response_synthesizer
    from llama_index.core.query_engine import RetrieverQueryEngine
    engine = RetrieverQueryEngine(ClauseRetriever(Retriever()), response_synthesizer=get_response_synthesizer(llm=my_llm))
"""
from __future__ import annotations

import re
from typing import Any

from llama_index.core.callbacks import CallbackManager
from llama_index.core.retrievers import BaseRetriever
from llama_index.core.schema import NodeRelationship, NodeWithScore, QueryBundle, RelatedNodeInfo, TextNode

from rag.retrieve import Hit, Retriever

# 2023年底前, 2023年年底, 2024年6月底前, 2023年9月1日前: the first one a clause states.
DEADLINE = re.compile(r"\d{4}年(?:年底|底|\d{1,2}月(?:底|\d{1,2}日)?)(?:前|以前|之前)?")
# Metadata the embedding / LLM side of llama-index should not see as text (ids, lists).
HIDDEN = ["clause_id", "doc_id", "source", "annex", "also", "dense_rank", "lexical_rank"]


def deadline_of(text: str) -> str:
    found = DEADLINE.search(text)
    return found.group(0) if found else ""


def hit_to_node(hit: Hit) -> NodeWithScore:
    c = hit.clause
    metadata: dict[str, Any] = {
        "doc_title": c["doc_title"], "region": c["region"], "kind": c["kind"],
        "heading_path": " / ".join(c["heading_path"]), "path": c["path"], "title": c["title"],
        "lead_units": "、".join(c["lead_units"]), "cooperating_units": "、".join(c["cooperating_units"]),
        "responsible_units": "、".join(c["responsible_units"]), "deadline": deadline_of(c["text"]),
        "clause_id": c["id"], "doc_id": c["doc_id"], "source": c["source"], "annex": c["annex"] or 0,
        "also": "; ".join(f"{t['source']} {t['path']}" for t in hit.also),
        "dense_rank": -1 if hit.dense_rank is None else hit.dense_rank,
        "lexical_rank": -1 if hit.lexical_rank is None else hit.lexical_rank,
    }
    node = TextNode(id_=c["id"], text=c["text"], metadata=metadata,
                    excluded_embed_metadata_keys=list(HIDDEN), excluded_llm_metadata_keys=list(HIDDEN))
    node.relationships[NodeRelationship.SOURCE] = RelatedNodeInfo(node_id=c["doc_id"], metadata={"source": c["source"]})
    return NodeWithScore(node=node, score=float(hit.score))


class ClauseRetriever(BaseRetriever):
    """`Retriever.search` behind llama-index's retriever interface (filters fixed per instance)."""

    def __init__(self, retriever: Retriever, k: int = 5, region: str | list[str] | None = None,
                 doc_id: str | list[str] | None = None, kind: str | list[str] | None = None,
                 callback_manager: CallbackManager | None = None) -> None:
        super().__init__(callback_manager=callback_manager)
        self.retriever = retriever
        self.k, self.region, self.doc_id, self.kind = k, region, doc_id, kind

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        hits = self.retriever.search(query_bundle.query_str, k=self.k, region=self.region, doc_id=self.doc_id,
                                     kind=self.kind)
        return [hit_to_node(hit) for hit in hits]
