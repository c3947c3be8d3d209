"""Per-query encode latency of the torch path and the ONNX path (not a test).

Retrieval has a budget of p50 <= 50 ms per query, so the encoder's share is measured the way
the retriever calls it: one query at a time, two threads.

    .venv/bin/python eval/bench_encoder.py [--runs 100]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rag import models
from rag.encoder import Encoder, OnnxEncoder, SentenceTransformerEncoder

QUERIES = [
    "平江县燃气整治由谁牵头",
    "市財政局牽頭的項目有哪些",
    "2025年老旧小区改造目标是多少个",
    "农村生活污水治理的资金来源",
    "疫苗接种工作由哪个部门负责",
    "乡村振兴重点任务的完成时限",
]


def bench(encoder: Encoder, runs: int) -> tuple[float, float]:
    """p50 and p95 in milliseconds of single-query `encode_queries` calls, after a warm-up."""
    encoder.encode_queries(QUERIES)
    times = []
    for i in range(runs):
        start = time.perf_counter()
        encoder.encode_queries([QUERIES[i % len(QUERIES)]])
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), float(np.percentile(times, 95))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100)
    args = parser.parse_args()

    folder = models.build_e5_folder()
    models.build_onnx(folder)
    encoders: dict[str, Encoder] = {
        "torch (sentence-transformers)": SentenceTransformerEncoder(folder),
        "onnxruntime (load_encoder default)": OnnxEncoder(folder),
    }
    for label, encoder in encoders.items():
        p50, p95 = bench(encoder, args.runs)
        print(f"{label:36s} p50 {p50:6.1f} ms   p95 {p95:6.1f} ms")
    torch_vectors, onnx_vectors = (e.encode_queries(QUERIES) for e in encoders.values())
    agreement = (torch_vectors * onnx_vectors).sum(axis=1).min()
    print(f"{'min cosine torch vs onnx':36s} {agreement:.6f}")


if __name__ == "__main__":
    main()
