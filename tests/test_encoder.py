"""The bundled encoder's query length bound (issue 15: no question may cost more than a few normal
ones). Encoding is ~1.5 ms of CPU per token, so a 490-character random-CJK question was encoded
as 274 tokens, 0.42 s; a query is now encoded from its first QUERY_TOKENS tokens, and every
question of the eval sets is shorter than that, so their vectors, and answers, are unchanged."""
from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest

from rag.clean import to_simplified

pytestmark = pytest.mark.slow  # the real embedding model
LIMIT = 128  # tokens of a query encoded: rag.encoder.QUERY_TOKENS
EVAL = Path(__file__).resolve().parent.parent / "eval"


class CountingSession:
    """The encoder's real ONNX session, recording the width (tokens) of every batch it runs."""

    def __init__(self, session):
        self.session, self.widths = session, []

    def run(self, outputs, feeds):
        self.widths.append(feeds["input_ids"].shape[1])
        return self.session.run(outputs, feeds)

    def __getattr__(self, name):
        return getattr(self.session, name)


@pytest.fixture(scope="module")
def encoder():
    from rag.models import load_encoder

    return load_encoder()


def random_cjk(length: int, seed: int) -> str:
    rng = random.Random(seed)
    return "".join(chr(rng.randint(0x4E00, 0x9FFF)) for _ in range(length))


def test_a_long_query_is_encoded_from_its_first_tokens_only(encoder, monkeypatch):
    counting = CountingSession(encoder._session)
    monkeypatch.setattr(encoder, "_session", counting)
    long = random_cjk(490, 1)
    assert len(encoder._tokenizer.encode("query: " + long)) > 2 * LIMIT  # the hostile client's size
    vector = encoder.encode_queries([long])
    assert counting.widths == [LIMIT]
    assert vector.shape == (1, encoder.dim) and abs(float(np.linalg.norm(vector)) - 1.0) < 1e-5
    # The same text a few characters longer has the same first tokens, so the same vector.
    assert np.array_equal(encoder.encode_queries([long + random_cjk(5, 2)]), vector)
    counting.widths.clear()
    encoder.encode_passages([long])
    assert counting.widths[0] > 2 * LIMIT  # passages keep the model's length


def test_every_eval_question_is_under_the_bound_so_its_vector_is_unchanged(encoder):
    from rag.encoder import QUERY_TOKENS

    assert QUERY_TOKENS == LIMIT
    questions = []
    for path in sorted(EVAL.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                case = json.loads(line)
                questions += [case["question"], *[t for t in case.get("turns") or [] if isinstance(t, str)]]
    assert len(questions) > 900
    longest = max(len(encoder._tokenizer.encode(encoder._query_prefix + to_simplified(q))) for q in questions)
    assert longest <= QUERY_TOKENS // 2, longest
    sample = [q for q in questions if len(q) > 60][:8]
    assert np.array_equal(encoder.encode_queries(sample), encoder._encode([encoder._query_prefix + q for q in sample], 32))
