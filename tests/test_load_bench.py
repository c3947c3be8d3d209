"""The load benchmark, small: concurrent users and hostile clients against a real app, no errors,
and every answer the same as when it is asked alone (the full run's figures: eval/BENCHMARKS.md)."""
from __future__ import annotations

import json
import subprocess
import sys

from rag import config


def test_concurrent_users_with_hostile_clients_get_the_solo_answers(index_home):
    result = subprocess.run([sys.executable, "eval/load.py", "--start", "--users", "3", "--questions", "2", "--hostile", "2",
                             "--think", "0.05"],
                            cwd=config.PROJECT_ROOT, capture_output=True, text=True, timeout=900)
    report = json.loads(result.stdout)
    assert result.returncode == 0, result.stdout + result.stderr
    assert report["answered"] == 6 and not report["errors"] and not report["differ from solo"]
    assert report["hang-ups"] > 0 and report["long questions"] + report["long-question errors"] >= 0
    # Users who read between questions; the CPU figures say what the app, the clients and the rest cost.
    assert report["think s"] == 0.05 and report["app cpu s/q"] > 0 and report["clients cpu s/q"] > 0
    assert report["others cpu s/q"] is not None and len(report["load average before/after"]) == 2
