"""Manifest entries that point outside the corpus folder, or reuse an id, are refused by name
(issue 15, item 3); every other document still loads."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from rag.load import load_corpus
from tests.test_load import corpus, run_parse  # noqa: F401 - the same copied corpus and `rag parse` run

ALL = {"pj-shoudi", "yj-shoudi", "pj-fanshen", "pj-liuzhang", "yz-zhuanbao"}


def point_source(corpus: Path, old: str, new: str) -> None:
    manifest = corpus / "manifest.toml"
    text = manifest.read_text(encoding="utf-8")
    assert f'source = "{old}"' in text
    manifest.write_text(text.replace(f'source = "{old}"', f'source = "{new}"', 1), encoding="utf-8")


@pytest.mark.parametrize("outside", ["../secret.txt", "../../../../../../etc/passwd", "/etc/passwd", "sub/../../secret.txt"])
def test_source_outside_the_corpus_is_refused_and_others_load(corpus, outside):
    # A readable file right beside the corpus: without the check it would be indexed and quoted.
    (corpus.parent / "secret.txt").write_text("一、机密\n（一）不该被读取的内容（保密局牵头）\n" * 5, encoding="utf-8")
    point_source(corpus, "002_5aeb480a74277c74.txt", outside)
    result = run_parse(corpus, "--json")
    assert result.returncode == 1, result.stderr
    assert "pj-fanshen" in result.stderr and "语料文件夹之外" in result.stderr and "Traceback" not in result.stderr
    clauses = json.loads(result.stdout)
    assert {c["doc_id"] for c in clauses} == ALL - {"pj-fanshen"}
    assert not any("保密局" in c["text"] or "root:" in c["text"] for c in clauses)


def test_symlink_leaving_the_corpus_is_refused(corpus):
    (corpus.parent / "secret.txt").write_text("一、机密\n" * 5, encoding="utf-8")
    (corpus / "link.txt").symlink_to(corpus.parent / "secret.txt")
    point_source(corpus, "002_5aeb480a74277c74.txt", "link.txt")
    documents, problems = load_corpus(corpus)
    assert {d.id for d in documents} == ALL - {"pj-fanshen"}
    assert [p.source for p in problems] == ["link.txt"] and problems[0].fatal


def test_source_in_a_subfolder_of_the_corpus_still_loads(corpus):
    (corpus / "sub").mkdir()
    shutil.move(corpus / "002_5aeb480a74277c74.txt", corpus / "sub" / "002.txt")
    point_source(corpus, "002_5aeb480a74277c74.txt", "sub/002.txt")
    documents, problems = load_corpus(corpus)
    assert not problems and {d.id for d in documents} == ALL


def test_duplicate_document_id_is_refused_with_a_clear_message(corpus):
    manifest = corpus / "manifest.toml"
    text = manifest.read_text(encoding="utf-8")
    assert text.count('id = "pj-liuzhang"') == 1
    manifest.write_text(text.replace('id = "pj-liuzhang"', 'id = "pj-fanshen"', 1), encoding="utf-8")
    result = run_parse(corpus, "--json")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "pj-fanshen 重复" in result.stderr and "003_9fa4fb7ca9cf5266.txt" in result.stderr
    clauses = json.loads(result.stdout)
    # The first entry with the id keeps it; the documents without a clash are untouched.
    assert {c["doc_id"] for c in clauses} == ALL - {"pj-liuzhang"}
    assert {c["source"] for c in clauses if c["doc_id"] == "pj-fanshen"} == {"002_5aeb480a74277c74.txt"}


def test_ingest_stops_on_a_source_outside_the_corpus(tmp_path, corpus):
    point_source(corpus, "002_5aeb480a74277c74.txt", "/etc/passwd")
    env = {**os.environ, "RAG_CORPUS": str(corpus), "RAG_HOME": str(tmp_path / "home")}
    result = subprocess.run([sys.executable, "-m", "rag.cli", "ingest"], env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 1 and "语料文件夹之外" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "home" / "index").exists()
