"""Adding documents the README's way, on a corpus of fixtures only: no seed document is present.

`rag add` infers the manifest entry from the text and ingests; then the assistant answers who
leads, when it is due, and a comparison of two regions, all from documents it was not written
against. A file that cannot be read is refused by name and changes nothing.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from rag import config

FIXTURES = Path(__file__).parent / "fixtures"
FOREIGN = FIXTURES / "foreign" / "01_baotou-digital-gov-assessment.txt"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """The format fixtures as a corpus, with the foreign document added by `rag add`."""
    root = tmp_path_factory.mktemp("fixture-corpus")
    folder, home = root / "corpus", root / "home"
    shutil.copytree(FIXTURES / "formats", folder)
    env = {**os.environ, "RAG_CORPUS": str(folder), "RAG_HOME": str(home),
           "RAG_MODEL_CACHE": os.environ.get("RAG_MODEL_CACHE", str(config.model_cache()))}
    added = rag(env, "add", str(FOREIGN))
    assert added.returncode == 0, added.stderr
    return folder, env, added.stdout


def rag(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "rag.cli", *args], env=env, capture_output=True, text=True, timeout=900)


def ask(env: dict, question: str) -> dict:
    result = rag(env, "ask", "--json", question)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_add_infers_the_entry_from_the_text(corpus):
    folder, _, printed = corpus
    entry = tomllib.loads((folder / "manifest.toml").read_text(encoding="utf-8"))["documents"][-1]
    assert entry["title"] == "包头市2022年数字政府建设考评办法"  # the covering notice's 《…》
    assert (entry["region"], entry["level"], entry["kind"]) == ("包头市", "市", "考评办法")
    assert (entry["doc_number"], entry["date"]) == ("包府办发〔2022〕43号", "2022-04-14")
    assert (folder / FOREIGN.name).read_bytes() == FOREIGN.read_bytes()
    assert "已加入清单" in printed and "索引已建立" in printed


def test_who_leads_in_an_added_document(corpus):
    answer = ask(corpus[1], "包头市企业注销一网通办平台应用由哪个部门牵头考核？")
    assert not answer["refused"] and "市市场监管局" in answer["answer"]
    cited = answer["citations"][0]
    assert cited["source"] == FOREIGN.name and cited["lead_units"] == ["市市场监管局"]
    assert cited["quote"] in cited["text"]


def test_when_it_is_due(corpus):
    answer = ask(corpus[1], "示范县优化营商环境行动方案里，政企常态化沟通机制什么时候完成？")
    assert not answer["refused"] and answer["route"]["name"] == "time" and "长期坚持" in answer["answer"]


def test_a_comparison_of_two_fixture_regions(corpus):
    answer = ask(corpus[1], "包头市和示范县的政务服务各由谁牵头？")
    assert answer["kind"] == "compare" and "包头市" in answer["answer"] and "示范县" in answer["answer"]
    assert {c["region"] for c in answer["citations"]} <= {"包头市", "示范县"}


def test_a_region_the_corpus_lacks_is_refused_with_what_it_has(corpus):
    answer = ask(corpus[1], "平江县燃气整治由谁牵头？")
    assert answer["refused"] and "包头市" in answer["answer"]  # the message names what the manifest holds


def test_an_unreadable_file_changes_nothing(corpus, tmp_path):
    folder, env, _ = corpus
    before = (folder / "manifest.toml").read_text(encoding="utf-8")
    garbage = tmp_path / "扫描件.txt"
    garbage.write_bytes(bytes(range(128, 256)) * 40)
    result = rag(env, "add", str(garbage))
    assert result.returncode == 2 and "扫描件.txt" in result.stderr and "原索引继续提供服务" in result.stderr
    assert (folder / "manifest.toml").read_text(encoding="utf-8") == before and not (folder / garbage.name).exists()
    assert not ask(env, "包头市企业注销一网通办平台应用由哪个部门牵头考核？")["refused"]
