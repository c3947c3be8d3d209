"""Every eval set's gold strings are in the plan documents they cite.

A gold unit, figure or date that the cited documents do not contain would make a case reward an
invented answer (or fail a right one); the writers check it by hand, this checks it for every
set, the gated one and the never-tuned ones alike.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag import config
from rag.evaluate import fold, load_cases

SETS = sorted((config.PROJECT_ROOT / "eval").glob("*.jsonl"))


def document_texts() -> dict[str, str]:
    folder = config.PROJECT_ROOT / "corpus"
    # A sentence may wrap inside a word (基本消\n除重污染天气); the parser joins such lines too.
    return {p.name: p.read_text(encoding="utf-8").replace("\n", "") for p in folder.glob("*.txt")}


@pytest.mark.parametrize("path", SETS, ids=[p.name for p in SETS])
def test_gold_strings_occur_in_the_cited_documents(path: Path):
    texts = document_texts()
    folded: dict[tuple[str, ...], str] = {}
    missing = []
    for case in load_cases(path):
        expect = case["expect"]
        if expect.get("should_refuse"):
            assert not expect.get("answer_contains"), case["id"]  # a refusal has nothing to contain
            continue
        documents = [doc for entry in expect["docs"] for doc in entry.split("|")]  # "a|b": either document
        key = tuple(doc for doc in documents if doc in texts)
        if key not in folded:
            folded[key] = fold("\n".join(texts[doc] for doc in key))
        cited = folded[key]
        assert cited or not expect["docs"], f"{case['id']}: cites no document of the corpus: {expect['docs']}"
        if not expect["docs"]:
            continue
        for gold in expect.get("answer_contains", []) + expect.get("lead_units", []) + expect.get("cooperating_units", []):
            if not any(fold(alternative) in cited for alternative in gold.split("|")):  # as rag.evaluate.contains
                missing.append(f"{case['id']}: {gold}")
    assert not missing, missing
