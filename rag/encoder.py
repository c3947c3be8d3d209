"""Text encoders behind one small interface, so that ingest and query embed text the same way.

Two implementations:
- `OnnxEncoder` runs the bundled multilingual-e5-small (exported by `rag.models.build_onnx`)
  with onnxruntime and a lean unigram tokenizer (`rag.unigram`, on `tokenizers`' normaliser).
  It imports neither torch nor transformers, which keeps start-up short, and is about three
  times faster per query than torch on CPU.
- `SentenceTransformerEncoder` runs any sentence-transformers model: a replacement chosen with
  RAG_EMBED_MODEL, and the torch reference the ONNX path is checked against.

Importing this module puts Hugging Face libraries in offline mode: the project has no
network, and a hub lookup would only hang or fail.
"""
from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

BUNDLED_NAME = "multilingual-e5-small"
ONNX_FILE = "onnx/sentence_embedding.onnx"
# The weights beside the graph (ONNX external data): onnxruntime memory-maps this file instead of
# parsing a 470 MB protobuf into private memory (load peak 1158 → 425 MB, eval/BENCHMARKS.md).
ONNX_DATA = ONNX_FILE + ".data"
DEFAULT_THREADS = 2  # ingest's batches; RAG_ENCODER_THREADS overrides (the app sets cores per worker)
# A query's tokens encoded (with <s> and </s>), twice the longest question of every eval set (61).
# Encoding costs ~1.5 ms of CPU per token, so 490 random CJK characters (274 tokens) cost 0.42 s,
# five whole normal answers; at 128 a question can cost at most about two. The search still
# sees all of it through BM25; passages keep the model's 512.
QUERY_TOKENS = 128


def force_offline() -> None:
    """Forbid Hugging Face hub access for this process.

    huggingface_hub reads HF_HUB_OFFLINE once, when it is imported; if something (chromadb,
    LlamaIndex) imported it before us, the environment variable alone would come too late,
    so the already-loaded constant is set as well.
    """
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    constants = sys.modules.get("huggingface_hub.constants")
    if constants is not None:
        constants.HF_HUB_OFFLINE = True


force_offline()


class Encoder(Protocol):
    """What the index and the retriever need from an embedding model."""

    name: str
    dim: int

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """float32 [n, dim], L2-normalised; the model's query prefix is added."""
        ...

    def encode_passages(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        """float32 [n, dim], L2-normalised; the model's passage prefix is added."""
        ...


def _read_json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


class OnnxEncoder:
    """The bundled e5 folder's ONNX export (mean pooling and normalisation inside the graph).

    Prefixes and the length limit are read from the folder's sentence-transformers files, so
    this path tokenises exactly like `SentenceTransformer(folder)` does.
    """

    def __init__(self, folder: Path, name: str = BUNDLED_NAME, threads: int | None = None) -> None:
        import onnxruntime

        from rag.unigram import UnigramTokenizer

        folder = Path(folder)
        self.name = name
        prompts = _read_json(folder / "config_sentence_transformers.json")["prompts"]
        self._query_prefix = prompts["query"]
        self._passage_prefix = prompts["passage"]
        # The same ids as `tokenizers.Tokenizer.from_file(…)` in ~200 MB less memory (rag/unigram.py).
        self._tokenizer = UnigramTokenizer(
            folder / "tokenizer.json", _read_json(folder / "sentence_bert_config.json")["max_seq_length"])
        self._pad_id = self._tokenizer.token_to_id("<pad>")

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads or int(os.environ.get("RAG_ENCODER_THREADS") or DEFAULT_THREADS)
        options.inter_op_num_threads = 1
        # By default the pool's threads spin after each run waiting for the next: on two cores
        # that burned a core the other answer (or Gradio) needed, ~2x the CPU of an encode.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._session = onnxruntime.InferenceSession(
            str(folder / ONNX_FILE), options, providers=["CPUExecutionProvider"])
        self.dim = int(self._session.get_outputs()[0].shape[-1])
        self._weights = MappedWeights(folder / ONNX_DATA)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Each query's first QUERY_TOKENS tokens: no question may cost the app many answers."""
        return self._encode([self._query_prefix + t for t in texts], batch_size=32, max_tokens=QUERY_TOKENS)

    def encode_passages(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        return self._encode([self._passage_prefix + t for t in texts], batch_size)

    def _encode(self, texts: list[str], batch_size: int, max_tokens: int | None = None) -> np.ndarray:
        """Batches are formed from texts of similar length, so little compute goes to padding."""
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        encodings = self._tokenizer.encode_batch(texts)
        if max_tokens:
            encodings = [self._tokenizer.truncated(e, max_tokens) for e in encodings]
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i]), reverse=True)
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            width = len(encodings[rows[0]])
            input_ids = np.full((len(rows), width), self._pad_id, dtype=np.int64)
            attention_mask = np.zeros((len(rows), width), dtype=np.int64)
            for r, i in enumerate(rows):
                input_ids[r, : len(encodings[i])] = encodings[i]
                attention_mask[r, : len(encodings[i])] = 1
            (embeddings,) = self._session.run(
                None, {"input_ids": input_ids, "attention_mask": attention_mask})
            out[rows] = embeddings
        self._weights.release()
        return out


class MappedWeights:
    """This process's memory mappings of the external weights file, released after each run.

    onnxruntime memory-maps `….onnx.data`. A query reads a few rows of the 366 MB word-embedding
    matrix, but each page fault maps its neighbours too (read-ahead, fault-around), so after a few
    hundred queries ~290 MB of the file counted as the process's RSS. `release` drops the pages
    from this process (MADV_DONTNEED: the mapping is read-only, so the next read simply faults the
    same bytes back from the page cache); the weights, and so the vectors, are unchanged.
    Best effort: a no-op where /proc or madvise is missing.
    """

    MADV_DONTNEED = 4

    def __init__(self, path: Path) -> None:
        self.ranges: list[tuple[int, int]] = []
        self._madvise = None
        try:
            import ctypes

            target = str(Path(path).resolve())
            with open("/proc/self/maps", encoding="utf-8") as maps:
                for line in maps:
                    fields = line.split(maxsplit=5)
                    if len(fields) == 6 and fields[5].strip() == target:
                        start, end = (int(x, 16) for x in fields[0].split("-"))
                        self.ranges.append((start, end - start))
            libc = ctypes.CDLL(None, use_errno=True)
            libc.madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
            self._madvise = libc.madvise
        except (OSError, AttributeError, ValueError):
            self.ranges = []

    def release(self) -> None:
        if self._madvise is not None:
            for start, length in self.ranges:
                self._madvise(start, length, self.MADV_DONTNEED)


class SentenceTransformerEncoder:
    """Any sentence-transformers model, by local path or by name already in the HF cache.

    Queries and passages go through `encode_query` / `encode_document`, which apply the model's
    own "query" / "document" prompts (for the bundled e5 folder: "query: " / "passage: ").
    """

    def __init__(self, model: str | Path, name: str | None = None) -> None:
        from sentence_transformers import SentenceTransformer

        self._model = SentenceTransformer(str(model), device="cpu")
        self.name = name or str(model)
        self.dim = int(self._model.get_embedding_dimension())

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self._model.encode_query(list(texts), normalize_embeddings=True,
                                           convert_to_numpy=True)
        return np.asarray(vectors, dtype=np.float32)

    def encode_passages(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self._model.encode_document(list(texts), batch_size=batch_size,
                                              normalize_embeddings=True, convert_to_numpy=True)
        return np.asarray(vectors, dtype=np.float32)
