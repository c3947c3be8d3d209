"""The corpus's own English–Chinese dictionary (rag.bilingual), built from CC-CEDICT at ingest."""
from __future__ import annotations

import pytest

from rag.bilingual import dictionary, english_terms, forms

VOCABULARY = ["孤儿", "低保", "床位", "夏季", "攻势", "保险", "争取", "永州", "县域", "公里", "的"]


@pytest.fixture(scope="module")
def senses():
    return dictionary(VOCABULARY)


def test_an_english_word_gets_the_chinese_word_the_corpus_uses(senses):
    assert english_terms("What is the allowance for orphans?", senses) == ["孤儿"]
    assert english_terms("How much is the subsistence allowance?", senses) == ["低保"]
    assert english_terms("Who leads the summer offensive?", senses) == ["夏季", "攻势"]
    assert english_terms("How many hospital beds?", senses) == ["床位"]


def test_only_words_of_the_corpus_and_only_clear_senses(senses):
    assert "孤儿" not in dictionary(["低保"]).get("orphan", [])  # a word the plans do not use is never offered
    assert english_terms("funding it aims to secure", senses) == []  # 保险's later sense, 争取's verb sense
    assert english_terms("Yongzhou's task force", senses) == []  # a place is the gazetteer's, not a sense
    assert "program" not in dictionary(["计划", "规划", "方案"])  # three words share it: too vague


def test_words_the_glossary_translates_keep_its_term(senses):
    assert english_terms("Which county?", senses) == []  # the glossary's 县, not 县域


def test_a_chinese_question_gets_nothing(senses):
    assert english_terms("平江的孤儿补贴是多少？", senses) == []


def test_inflected_forms():
    assert "orphan" in forms("orphans") and "raise" in forms("raised") and "facility" in forms("facilities")
