"""The eval runner: scoring rules on hand-made results, and the gate on the real suite."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

from rag import evaluate

CASE = {"id": "x", "category": "lead_unit", "question": "q",
        "expect": {"docs": ["002_a.txt|003_b.txt"], "clause": "二、(二)3", "lead_units": ["城管局"],
                   "cooperating_units": ["发改局"], "answer_contains": ["城管局"], "answer_excludes": ["住建局牵头"],
                   "should_refuse": False}}


def retrieved(source, path="二、(二)3", text="燃气（城管局牵头，发改局等配合）", also=()):
    return {"source": source, "path": path, "text": text, "also": [{"source": s, "path": path} for s in also]}


def test_retrieval_scores():
    checks = evaluate.score_retrieval(CASE, [retrieved("x.txt", text="无关"), retrieved("003_b.txt")])
    assert checks["hit@1"] == 0.0 and checks["hit@5"] == 1.0 and checks["mrr"] == 0.5
    assert checks["evidence@5"] == 1.0 and checks["clause@5"] == 1.0
    assert evaluate.score_retrieval(CASE, [retrieved("x.txt", also=["002_a.txt"])])["hit@1"] == 1.0


def test_answer_scores():
    text = {("d", "二、(二)3"): "燃气（城管局牵头，发改局等配合）"}
    clause_text = lambda doc_id, path: text.get((doc_id, path))  # noqa: E731
    good = {"answer": "牵头单位：城管局；配合单位：发改局", "refused": False,
            "citations": [{"doc_id": "d", "path": "二、(二)3", "quote": "城管局牵头", "lead_units": ["城管局"]}]}
    checks = evaluate.score_answer(CASE, good, clause_text)
    assert checks["answer_accuracy"] == 1.0 and checks["lead_unit_match"] == 1.0 and checks["citation_validity"] == 1.0
    bad = {**good, "answer": "城管局、发改局；住建局牵头",
           "citations": [{"doc_id": "d", "path": "一、", "quote": "x", "lead_units": ["住建局"]}]}
    checks = evaluate.score_answer(CASE, bad, clause_text)
    assert checks["answer_accuracy"] == 0.0 and checks["lead_unit_match"] == 0.0 and checks["citation_validity"] == 0.0
    refusal = evaluate.score_answer({**CASE, "expect": {"should_refuse": True}}, {"answer": "语料中未找到", "refused": True},
                                    clause_text)
    assert refusal["refusal_accuracy"] == 1.0


def test_alternatives_and_folding():
    assert evaluate.contains("召集人：朱远", "朱远|朱 远")
    assert evaluate.contains("市財政局牽頭", "市财政局")
    assert evaluate.contains("县政府办（优化办）", "县政府办(优化办)")


def test_gate_names_what_fails():
    metrics = {"overall": {"hit@5": 0.5, "false_refusals": 0.2}}
    failures = evaluate.gate(metrics, {"overall": {"hit@5": 0.9, "false_refusals": 0.1, "mrr": 0.5}})
    assert len(failures) == 3 and any("hit@5" in f for f in failures)
    assert evaluate.gate(metrics, {"overall": {"hit@5": 0.5}}) == []


def test_bad_cases_file(tmp_path):
    bad = tmp_path / "cases.jsonl"
    bad.write_text('{"id": "a"}\n', encoding="utf-8")
    with pytest.raises(evaluate.CaseFileError):
        evaluate.load_cases(bad)


def test_eval_gate_on_the_real_suite(index_home, tmp_path):
    """The regression gate: CI fails when the assistant gets worse than eval/thresholds.toml."""
    report, md = tmp_path / "report.json", tmp_path / "report.md"
    result = subprocess.run([sys.executable, "-m", "rag.cli", "eval", "--report", str(report), "--md", str(md)],
                            env=dict(os.environ), capture_output=True, text=True, timeout=900)
    print(result.stdout)
    assert result.returncode == 0, result.stdout + result.stderr
    assert md.with_suffix(".png").stat().st_size > 1000
    assert "| overall |" in md.read_text(encoding="utf-8")


def test_eval_gate_on_questions_in_the_askers_own_words(index_home):
    """The second gate: questions written from the corpus alone, in the asker's own words
    (paraphrases, deadlines, a unit's tasks, English, near misses), with their own floors."""
    root = Path(__file__).resolve().parent.parent / "eval"
    result = subprocess.run([sys.executable, "-m", "rag.cli", "eval", "--cases", str(root / "own_words.jsonl"),
                             "--thresholds", str(root / "own_words_thresholds.toml")],
                            env=dict(os.environ), capture_output=True, text=True, timeout=900)
    print(result.stdout)
    assert result.returncode == 0, result.stdout + result.stderr


def test_risk_coverage_sweep_runs_conversation_cases_too(index_home, tmp_path):
    """`--sweep` answers each case as `rag eval` does; a follow-up case used to stop it with a traceback."""
    root = Path(__file__).resolve().parent.parent / "eval"
    lines = root.joinpath("cases.jsonl").read_text(encoding="utf-8").splitlines()
    picked = [next(line for line in lines if '"turns"' in line), next(line for line in lines if '"turns"' not in line)]
    cases = tmp_path / "cases.jsonl"
    cases.write_text("\n".join(picked) + "\n", encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "rag.cli", "eval", "--cases", str(cases), "--sweep", "0.4,0.5"],
                            env=dict(os.environ), capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    assert "| 0.4 |" in result.stdout and "| 0.5 |" in result.stdout and "Traceback" not in result.stderr
