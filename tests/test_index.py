"""Ingest on the real corpus: skip when unchanged, re-embed only what changed, atomic switch."""
import json
import os
import shutil
import signal
import subprocess
import sys
import time

from chroma_helpers import assert_only_served_folders_remain, run_rag
from rag import config
from rag.index import EmbeddingCache, ingest, read_info
from rag.lock import in_use
from rag.retrieve import Retriever


def test_index_holds_every_clause(index_home, clauses):
    info = read_info(index_home)
    assert info["clauses"] == sum(len(c) for c in clauses.values())
    assert info["model"] == "multilingual-e5-small" and info["dim"] == 384
    assert set(info["documents"]) == set(clauses)


def test_unchanged_corpus_is_skipped(index_home):
    report = ingest(progress=False)
    assert report.status == "unchanged" and report.embedded == 0


def test_changed_document_reembeds_only_its_changed_clauses(index_home, tmp_path):
    corpus = tmp_path / "corpus"
    shutil.copytree(config.corpus_dir(), corpus)
    gas = corpus / "002_5aeb480a74277c74.txt"
    gas.write_text(gas.read_text(encoding="utf-8").replace("启动城区液化气企业", "全面启动城区液化气企业"), encoding="utf-8")
    home = tmp_path / "home"
    shutil.copytree(index_home / "cache", home / "cache")
    os.environ["RAG_CORPUS"] = str(corpus)
    try:
        report = ingest(progress=False, home=home)
    finally:
        del os.environ["RAG_CORPUS"]
    assert report.status == "built"
    assert report.embedded == 1  # 二、(二)3 only; its twin in 003 附件6 did not change


def test_embedding_cache_survives_reload(index_home):
    cache = EmbeddingCache(index_home / "cache", "multilingual-e5-small")
    assert len(cache.vectors) > 300


def test_kill_during_ingest_keeps_old_index_serving(index_home):
    before = os.readlink(index_home / "index")
    process = subprocess.Popen([sys.executable, "-m", "rag.cli", "ingest", "--force"], env=dict(os.environ),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline and process.poll() is None:
        if any(p.name != before for p in index_home.glob("index-*")):
            break
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert os.readlink(index_home / "index") == before
    answer = run_rag("ask", "--retrieve-only", "--json", "平江县燃气整治由谁牵头")
    assert answer.returncode == 0, answer.stderr
    assert json.loads(answer.stdout)["retrieved"][0]["path"] == "二、(二)3"
    finished = run_rag("ingest", "--force")
    assert finished.returncode == 0, finished.stderr
    assert os.readlink(index_home / "index") != before
    assert_only_served_folders_remain(index_home)


def test_reingest_keeps_the_folder_a_running_retriever_serves_from(index_home, retriever):
    fresh = run_rag("ingest", "--force")  # a build no other reader of this test session has opened
    assert fresh.returncode == 0, fresh.stderr
    serving = Retriever(home=index_home, encoder=retriever.encoder)
    served = serving.folder
    first = run_rag("ingest", "--force")
    assert first.returncode == 0, first.stderr
    assert os.readlink(index_home / "index") != served.name
    assert served.is_dir() and in_use(served)
    assert serving.search("平江县燃气整治由谁牵头？")[0].clause["path"] == "二、(二)3"
    serving.close()
    assert not in_use(served)
    second = run_rag("ingest", "--force")
    assert second.returncode == 0, second.stderr
    assert not served.exists()  # nobody served from it any more: the next ingest removed it
    assert_only_served_folders_remain(index_home)


def test_missing_or_corrupt_index_gives_a_clear_message(tmp_path):
    result = run_rag("ask", "--retrieve-only", "燃气", env={"RAG_HOME": str(tmp_path)})
    assert result.returncode == 2
    assert "rag ingest" in result.stderr and "Traceback" not in result.stderr
    broken = tmp_path / "index"
    broken.mkdir()
    (broken / "info.json").write_text('{"model": "multilingual-e5-small"}', encoding="utf-8")
    result = run_rag("ask", "--retrieve-only", "燃气", env={"RAG_HOME": str(tmp_path)})
    assert result.returncode == 2
    assert "rag ingest" in result.stderr and "Traceback" not in result.stderr


def test_broken_document_leaves_index_untouched(index_home, tmp_path):
    corpus = tmp_path / "corpus"
    shutil.copytree(config.corpus_dir(), corpus)
    (corpus / "001_6a8d71b69641dc57.txt").write_bytes(b"")
    before = os.readlink(index_home / "index")
    result = run_rag("ingest", "--force", env={"RAG_CORPUS": str(corpus)})
    assert result.returncode == 1
    assert "001_6a8d71b69641dc57.txt" in result.stderr and "原索引继续提供服务" in result.stderr
    assert os.readlink(index_home / "index") == before
