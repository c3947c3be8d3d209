"""Parse time is linear in document size (issue 15, item 8: a 50 MB document parsed in 6 min 18 s).

The whole per-document ingest path before embedding (`load_corpus` + `clause_records`), run by
eval/bench_parse.py in a fresh process per size; a ratio of CPU times, not a time, so a busy
machine does not make it flake.
"""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from rag import config


@pytest.mark.slow
def test_twice_the_document_costs_at_most_two_and_a_half_times_the_parse():
    result = subprocess.run([sys.executable, "eval/bench_parse.py", "--sizes", "2", "4", "--json"],
                            cwd=config.PROJECT_ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    small, large = json.loads(result.stdout)["rows"]
    assert not small["problems"] and not large["problems"]
    assert 1.8 < large["mb"] / small["mb"] < 2.2 and large["clauses"] > small["clauses"]
    assert large["cpu_s"] / small["cpu_s"] <= 2.5, (small, large)
