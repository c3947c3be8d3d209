"""A damaged index is noticed and rebuilt by a plain `rag ingest`; an oversized document is refused by name."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from rag.load import load_corpus


def rag(home: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "rag.cli", *args], env={**os.environ, "RAG_HOME": str(home), **env},
                          capture_output=True, text=True, timeout=600)


def test_a_truncated_index_file_is_reported_and_rebuilt_by_plain_ingest(index_home, tmp_path):
    home = tmp_path / "home"
    shutil.copytree(index_home, home, symlinks=True)
    clauses = home / "index" / "clauses.json"
    clauses.write_bytes(clauses.read_bytes()[:1000])  # a disk that filled up, a copy cut short
    broken = rag(home, "ask", "--retrieve-only", "平江县燃气整治由谁牵头？")
    assert broken.returncode == 2 and "索引已损坏" in broken.stderr and "Traceback" not in broken.stderr
    rebuilt = rag(home, "ingest")
    assert rebuilt.returncode == 0 and "索引已建立" in rebuilt.stdout, rebuilt.stdout + rebuilt.stderr
    answered = rag(home, "ask", "平江县燃气整治由谁牵头？")
    assert answered.returncode == 0 and "城管局" in answered.stdout


def test_an_oversized_document_is_refused_and_the_others_load(tmp_path, monkeypatch):
    (tmp_path / "big.txt").write_text("一、总体要求\n" + "平江县" * 200_000, encoding="utf-8")
    (tmp_path / "small.txt").write_text("一、总体要求\n（一）目标。做好工作（县应急管理局牵头）。\n", encoding="utf-8")
    (tmp_path / "manifest.toml").write_text("".join(
        f'[[documents]]\nid = "{name}"\nsource = "{name}.txt"\ntitle = "示范县{name}方案"\nregion = "示范县"\n'
        f'level = "县"\nkind = "方案"\n\n' for name in ("big", "small")), encoding="utf-8")
    monkeypatch.setenv("RAG_MAX_DOC_MB", "1")
    documents, problems = load_corpus(tmp_path)
    assert [d.id for d in documents] == ["small"]
    assert len(problems) == 1 and problems[0].source == "big.txt" and "文件过大" in problems[0].message
