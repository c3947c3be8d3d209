"""One ingest at a time (issue 15, item 2), with real concurrent `rag ingest` processes.

Two `rag ingest --force` started together used to both report success while each deleted the
other's folder, leaving `index` pointing at nothing. Now the second waits for the first (or
gives up with exit 2 after RAG_INGEST_WAIT seconds), and a lock held by a killed process is
free at once.
"""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from chroma_helpers import assert_only_served_folders_remain
from rag.index import read_info
from rag.lock import LOCK_NAME, IngestBusy, held, ingest_lock


def start_ingest(*args: str, **env: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "rag.cli", "ingest", *args], env={**os.environ, **env},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def retrieve_gas() -> dict:
    result = subprocess.run([sys.executable, "-m", "rag.cli", "ask", "--retrieve-only", "--json", "平江县燃气整治由谁牵头"],
                            capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)["retrieved"][0]


def lock_is_held(home: Path) -> bool:
    return held(home / LOCK_NAME)


def wait_for_lock(home: Path, process: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not lock_is_held(home):
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the ingest never took the lock"
        time.sleep(0.05)


def assert_index_is_whole(home: Path) -> None:
    link = home / "index"
    assert link.is_symlink() and (link / "info.json").exists(), list(home.iterdir())
    assert_only_served_folders_remain(home)
    assert read_info(home)["clauses"] > 300
    assert retrieve_gas()["path"] == "二、(二)3"


def test_two_force_ingests_started_together_leave_a_whole_index(index_home):
    first = start_ingest("--force")
    time.sleep(0.3)
    second = start_ingest("--force")
    outputs = [p.communicate(timeout=600) for p in (first, second)]
    for process, (out, err) in zip((first, second), outputs):
        assert process.returncode == 0, err
        assert "Traceback" not in err and "索引已建立" in out
    assert_index_is_whole(index_home)


def test_second_ingest_gives_up_after_the_wait_with_exit_2(index_home):
    before = os.readlink(index_home / "index")
    first = start_ingest("--force")
    wait_for_lock(index_home, first)
    second = start_ingest("--force", RAG_INGEST_WAIT="1")
    out, err = second.communicate(timeout=120)
    assert second.returncode == 2, err
    assert "另一个索引任务正在运行" in err and "another ingest is running" in err and "Traceback" not in err
    assert f"进程 {first.pid}" in err
    if first.poll() is None:  # the second changed nothing: the old index is still the one serving
        assert os.readlink(index_home / "index") == before
    first.communicate(timeout=600)
    assert first.returncode == 0
    assert_index_is_whole(index_home)


def test_lock_of_a_killed_ingest_is_free_at_once(index_home):
    before = os.readlink(index_home / "index")
    victim = start_ingest("--force")
    wait_for_lock(index_home, victim)
    victim.send_signal(signal.SIGKILL)
    victim.communicate()
    assert (index_home / LOCK_NAME).exists() and not lock_is_held(index_home)  # the file stays, the lock does not
    assert os.readlink(index_home / "index") == before
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "rag.cli", "ingest", "--force"], capture_output=True, text=True,
                            env={**os.environ, "RAG_INGEST_WAIT": "0"}, timeout=600)
    assert result.returncode == 0, result.stderr
    assert time.monotonic() - started < 300
    assert_index_is_whole(index_home)


def test_lock_in_process_times_out_and_is_reentrant_after_release(tmp_path):
    with ingest_lock(tmp_path, wait=0):
        holder = subprocess.run([sys.executable, "-c", "from pathlib import Path; from rag.lock import ingest_lock\n"
                                 f"with ingest_lock(Path({str(tmp_path)!r}), wait=0.5): pass"],
                                capture_output=True, text=True, timeout=60)
        assert holder.returncode != 0 and "IngestBusy" in holder.stderr
    with ingest_lock(tmp_path, wait=0):
        pass
    with pytest.raises(IngestBusy):
        with ingest_lock(tmp_path, wait=0):
            with ingest_lock(tmp_path, wait=0.3):  # a second descriptor in the same process also waits
                pass


def test_ingest_that_cannot_write_says_so_and_keeps_the_old_index(index_home):
    """A full disk, simulated for the ingest process alone: every file it writes may hold 200 kB."""
    import resource

    before = os.readlink(index_home / "index")

    def small_files() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (200_000, 200_000))

    result = subprocess.run([sys.executable, "-m", "rag.cli", "ingest", "--force"], capture_output=True, text=True,
                            preexec_fn=small_files, timeout=600)
    assert result.returncode == 1, result.stderr
    assert "写入索引失败" in result.stderr and "原索引保持不变" in result.stderr
    assert "Traceback" not in result.stderr
    assert os.readlink(index_home / "index") == before
    assert retrieve_gas()["path"] == "二、(二)3"
