"""Bad corpus input: each problem names its file, exits non-zero, and loses no other document."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from rag import config


def run_parse(corpus: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "RAG_CORPUS": str(corpus)}
    return subprocess.run([sys.executable, "-m", "rag.cli", "parse", *args], env=env, capture_output=True,
                          text=True, timeout=60)


@pytest.fixture
def corpus(tmp_path):
    target = tmp_path / "corpus"
    shutil.copytree(config.corpus_dir(), target)
    return target


def test_whole_corpus_parses_to_json(corpus):
    result = run_parse(corpus, "--json")
    assert result.returncode == 0, result.stderr
    clauses = json.loads(result.stdout)
    assert {c["doc_id"] for c in clauses} == {"pj-shoudi", "yj-shoudi", "pj-fanshen", "pj-liuzhang", "yz-zhuanbao"}


def test_readable_tree_for_one_document(corpus):
    result = run_parse(corpus, "--doc", "pj-fanshen")
    assert result.returncode == 0
    assert "二、(二)3  燃气安全专项整治  [牵头: 城管局 | 配合: 发改局]" in result.stdout
    assert "yj-shoudi" not in result.stdout


def test_missing_and_empty_files_are_reported_and_others_parsed(corpus):
    (corpus / "000_14d776d5b2249bb4.txt").unlink()
    (corpus / "004_ee9dddaa510c7d69.txt").write_text("  \n\n")
    result = run_parse(corpus, "--json")
    assert result.returncode == 1
    assert "000_14d776d5b2249bb4.txt" in result.stderr and "004_ee9dddaa510c7d69.txt" in result.stderr
    assert "文件为空" in result.stderr
    doc_ids = {c["doc_id"] for c in json.loads(result.stdout)}
    assert doc_ids == {"yj-shoudi", "pj-fanshen", "pj-liuzhang"}


def test_gb18030_file_is_read_and_flagged(corpus):
    source = corpus / "002_5aeb480a74277c74.txt"
    source.write_bytes(source.read_text(encoding="utf-8").encode("gb18030"))
    result = run_parse(corpus, "--json", "--doc", "pj-fanshen")
    assert result.returncode == 0
    assert "GB18030" in result.stderr and "002_5aeb480a74277c74.txt" in result.stderr
    gas = next(c for c in json.loads(result.stdout) if c["path"] == "二、(二)3")
    assert gas["lead_units"] == ["城管局"]


def test_undecodable_file_is_an_error(corpus):
    (corpus / "002_5aeb480a74277c74.txt").write_bytes(b"\xff\xfe\x80\x81" * 50)
    result = run_parse(corpus, "--json")
    assert result.returncode == 1
    assert "002_5aeb480a74277c74.txt" in result.stderr and "UTF-8" in result.stderr
    assert len({c["doc_id"] for c in json.loads(result.stdout)}) == 4


def test_broken_manifest(corpus):
    (corpus / "manifest.toml").write_text("[[documents]\nid = ", encoding="utf-8")
    result = run_parse(corpus)
    assert result.returncode == 2
    assert "manifest.toml" in result.stderr and "Traceback" not in result.stderr


def test_manifest_entry_missing_fields(corpus):
    manifest = corpus / "manifest.toml"
    manifest.write_text(manifest.read_text(encoding="utf-8").replace('title = "平江县打好安全生产翻身仗工作方案"\n', "", 1),
                        encoding="utf-8")
    result = run_parse(corpus, "--json")
    assert result.returncode == 1
    assert "002_5aeb480a74277c74.txt" in result.stderr and "title" in result.stderr
    assert len({c["doc_id"] for c in json.loads(result.stdout)}) == 4


def test_manifest_annex_entry_missing_title(corpus):
    manifest = corpus / "manifest.toml"
    text = manifest.read_text(encoding="utf-8")
    manifest.write_text(text.replace('  title = "平江县打好重点民生保障仗工作方案"\n', ""), encoding="utf-8")
    result = run_parse(corpus, "--json")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "003_9fa4fb7ca9cf5266.txt" in result.stderr
    assert len({c["doc_id"] for c in json.loads(result.stdout)}) == 4
