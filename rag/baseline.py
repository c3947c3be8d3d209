"""The naive baseline the eval suite compares our retrieval against.

"The same cases through plain llama-index": the raw seed files, llama-index's default
`SentenceSplitter` (512 tokens, 50 overlap), the same embedding model as ours, vector
retrieval only. No cleaning, no clause tree, no units, no BM25, no region filter.

Decisions, so that the comparison is fair and reproducible offline:

- Tokenizer: llama-index's default, tiktoken `cl100k_base` (what `get_tokenizer()` picks for
  its default "gpt-3.5-turbo"). tiktoken would download its BPE file at run time, but
  llama-index-core ships that file in `llama_index/core/_static/tiktoken_cache`; we point
  `TIKTOKEN_CACHE_DIR` there while building the encoding (even if the environment names
  another cache), so it never touches the network. "512 tokens" therefore means cl100k
  tokens. For Chinese these are finer than e5's, so a chunk is at most about 340 e5 tokens
  and nothing is truncated by the embedding model's 512-token limit.
- Sentence splitting: the splitter's default nltk punkt data is also bundled with
  llama-index-core (`_static/nltk_cache`) and is used as long as NLTK_DATA is unset.
- Embeddings: our own encoder (`rag.models.load_encoder`, the ONNX export of the bundled
  multilingual-e5-small) wrapped as a llama-index `BaseEmbedding`. It gives the same vectors as
  `HuggingFaceEmbedding(model_name=build_e5_folder(), query_instruction="query: ",
  text_instruction="passage: ")` (cosine 1.0, checked in tests/test_baseline.py) without
  loading torch, and is the very model our index uses.
- Metadata (`source` = file name, `doc_id`) is kept on the nodes but not embedded, as
  llama-index's `SimpleDirectoryReader` does for file names; the vector is the chunk text alone.
- Storage: llama-index's in-memory `SimpleVectorStore` (cosine similarity). Only a retriever is
  used, so no LLM is ever resolved from `Settings`.
"""
from __future__ import annotations

import os
from functools import partial
from pathlib import Path
from typing import Any

from rag import config
from rag.encoder import Encoder, force_offline
from rag.load import Problem, load_corpus

CHUNK_SIZE = 512
CHUNK_OVERLAP = 50
TIKTOKEN_ENCODING = "cl100k_base"
# Encoder batch for chunks of ~300 e5 tokens: measured about 20 % less CPU than batches of 32.
ENCODE_BATCH = 8

force_offline()


def llama_index_static(name: str) -> Path:
    """A data folder bundled with llama-index-core (`tiktoken_cache`, `nltk_cache`)."""
    import llama_index.core

    return Path(llama_index.core.__file__).parent / "_static" / name


def tiktoken_tokenizer():
    """llama-index's default splitter tokenizer (tiktoken cl100k_base), built from the BPE
    file bundled with llama-index-core so that tiktoken has nothing to download."""
    import tiktoken

    cache = llama_index_static("tiktoken_cache")
    previous = os.environ.get("TIKTOKEN_CACHE_DIR")
    os.environ["TIKTOKEN_CACHE_DIR"] = str(cache)
    try:
        encoding = tiktoken.get_encoding(TIKTOKEN_ENCODING)
    finally:
        if previous is None:
            del os.environ["TIKTOKEN_CACHE_DIR"]
        else:
            os.environ["TIKTOKEN_CACHE_DIR"] = previous
    return partial(encoding.encode, allowed_special="all")


def _embedding_class():
    """Defined on first use, so importing this module does not import llama-index."""
    from llama_index.core.base.embeddings.base import BaseEmbedding
    from pydantic import PrivateAttr

    class EncoderEmbedding(BaseEmbedding):
        """A `rag.encoder.Encoder` as a llama-index embedding model (same prefixes, same vectors)."""

        _encoder: Any = PrivateAttr()

        def __init__(self, encoder: Encoder, **kwargs: Any) -> None:
            kwargs.setdefault("embed_batch_size", 32)
            super().__init__(model_name=encoder.name, **kwargs)
            self._encoder = encoder

        @classmethod
        def class_name(cls) -> str:
            return "RagEncoderEmbedding"

        def _get_query_embedding(self, query: str) -> list[float]:
            return self._encoder.encode_queries([query])[0].tolist()

        def _get_text_embedding(self, text: str) -> list[float]:
            return self._encoder.encode_passages([text])[0].tolist()

        def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
            return self._encoder.encode_passages(texts, batch_size=ENCODE_BATCH).tolist()

        async def _aget_query_embedding(self, query: str) -> list[float]:
            return self._get_query_embedding(query)

        async def _aget_text_embedding(self, text: str) -> list[float]:
            return self._get_text_embedding(text)

    return EncoderEmbedding


def encoder_embedding(encoder: Encoder):
    """Wrap one of our encoders as a llama-index `BaseEmbedding`."""
    return _embedding_class()(encoder)


class NaiveBaseline:
    """Plain llama-index RAG over the raw seed files: what a team gets without our parser.

    Every document of `corpus/manifest.toml` (default `rag.config.corpus_dir()`), read by
    `rag.load.load_corpus` and used as-is, is split by `SentenceSplitter(chunk_size=512,
    chunk_overlap=50)` with llama-index's default tiktoken tokenizer, embedded with the same
    model as our index (`embed_model` as for `rag.models.load_encoder`: default RAG_EMBED_MODEL
    or the bundled e5) and kept in an in-memory vector index. Building (187 chunks, 44k e5
    tokens to embed) costs about 65 s of CPU, so some 35 s on two idle cores; a search about
    50 ms. Documents that cannot be read are listed in `problems` and left out, as in our index.
    """

    def __init__(self, corpus: Path | None = None, embed_model: str | None = None) -> None:
        from llama_index.core import Document, VectorStoreIndex
        from llama_index.core.node_parser import SentenceSplitter

        from rag.models import load_encoder

        documents, problems = load_corpus(Path(corpus) if corpus else config.corpus_dir())
        self.problems: list[Problem] = problems
        keys = ["source", "doc_id"]
        self.documents = [
            Document(text=d.text, metadata={"source": d.source, "doc_id": d.id},
                     excluded_embed_metadata_keys=keys, excluded_llm_metadata_keys=keys)
            for d in documents
        ]
        self.tokenizer = tiktoken_tokenizer()
        self.splitter = SentenceSplitter(chunk_size=CHUNK_SIZE, chunk_overlap=CHUNK_OVERLAP,
                                         tokenizer=self.tokenizer)
        self.nodes = self.splitter.get_nodes_from_documents(self.documents)
        self.embed_model = encoder_embedding(load_encoder(embed_model))
        self.index = VectorStoreIndex(self.nodes, embed_model=self.embed_model)

    def search(self, question: str, k: int = 5) -> list[dict]:
        """Top-k chunks, best first: [{"doc_id", "source", "path": "", "score", "text"}]."""
        retriever = self.index.as_retriever(similarity_top_k=k)
        return [
            {"doc_id": hit.node.metadata["doc_id"], "source": hit.node.metadata["source"],
             "path": "", "score": float(hit.score), "text": hit.node.get_content()}
            for hit in retriever.retrieve(question)
        ]
