"""The regression eval: run every case through the assistant once, score it, gate on it.

A case names the documents its evidence must come from, the strings a correct answer must
contain (and must not), the units that lead, and whether the corpus answers at all. The same
runner scores the naive llama-index baseline on the retrieval metrics, side by side.
"""
from __future__ import annotations

import json
import statistics
import time
import tomllib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rag.clean import to_simplified
from rag.units import normalize_unit

RETRIEVAL_METRICS = ("hit@1", "hit@5", "mrr", "evidence@5", "clause@5")
ANSWER_METRICS = ("answer_accuracy", "lead_unit_match", "refusal_accuracy", "false_refusals", "citation_validity")
ALL_METRICS = RETRIEVAL_METRICS + ANSWER_METRICS


class CaseFileError(Exception):
    """A cases file that cannot be read as the eval schema."""


def load_cases(path: Path) -> list[dict]:
    cases = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            case = json.loads(line)
            missing = [key for key in ("id", "category", "question", "expect") if key not in case]
            if missing:
                raise KeyError(", ".join(missing))
            case["expect"].setdefault("docs", [])
            if not isinstance(case.get("turns", []), list) or not all(isinstance(t, str) for t in case.get("turns", [])):
                raise TypeError("turns 应为问题列表 (turns must be a list of questions)")
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise CaseFileError(f"{path}:{number}: 不是有效的评测用例 (invalid case): {exc}") from None
        cases.append(case)
    return cases


def _alternatives(entry: str) -> list[str]:
    return [a for a in entry.split("|") if a]


def fold(text: str) -> str:
    """Compare in simplified script, ignoring bracket width and spaces (朱 远 = 朱远)."""
    return to_simplified(text).replace("（", "(").replace("）", ")").replace(" ", "").replace("\u3000", "")


def contains(text: str, entry: str) -> bool:
    """Does `text` hold one of the entry's `|` alternatives (in either script)?"""
    folded = fold(text)
    return any(fold(a) in folded for a in _alternatives(entry))


def _sources(item: dict) -> set[str]:
    return {item["source"]} | {a["source"] for a in item.get("also", [])}


def _paths(item: dict) -> set[str]:
    return {item["path"]} | {a["path"] for a in item.get("also", [])}


@dataclass
class Scored:
    """One case's checks: None where a check does not apply to the case."""

    checks: dict[str, float | None]
    failures: list[str]


def score_retrieval(case: dict, retrieved: list[dict]) -> dict[str, float | None]:
    expect = case["expect"]
    docs = [set(_alternatives(entry)) for entry in expect.get("docs", [])]
    if expect.get("should_refuse") or not docs:
        return {m: None for m in RETRIEVAL_METRICS}
    top5 = retrieved[:5]
    rank = next((r for r, item in enumerate(retrieved, 1) if any(_sources(item) & d for d in docs)), None)
    # A clause's heading (path and title) is part of what was retrieved, as it is inline in a chunk.
    evidence = "\n".join(f"{item.get('path', '')} {item.get('title', '')}\n{item['text']}" for item in top5)
    contains_all = [e for e in expect.get("answer_contains", [])]
    clause = expect.get("clause") or ""
    return {
        "hit@1": float(bool(retrieved) and any(_sources(retrieved[0]) & d for d in docs)),
        "hit@5": float(all(any(_sources(item) & d for item in top5) for d in docs)),
        "mrr": 1.0 / rank if rank else 0.0,
        "evidence@5": float(all(contains(evidence, e) for e in contains_all)) if contains_all else None,
        "clause@5": float(any(clause in _paths(item) for item in top5)) if clause else None,
    }


def score_answer(case: dict, result: dict, clause_text: Callable[[str, str], str | None]) -> dict[str, float | None]:
    expect = case["expect"]
    answer, refused = result.get("answer", ""), bool(result.get("refused"))
    excluded = any(x and x in answer for x in expect.get("answer_excludes", []))
    citations = result.get("citations", [])
    valid = [bool((text := clause_text(c["doc_id"], c["path"])) and c.get("quote", "") in text) for c in citations]
    checks: dict[str, float | None] = {m: None for m in ANSWER_METRICS}
    checks["citation_validity"] = sum(valid) / len(valid) if valid else None
    if expect.get("should_refuse"):
        checks["refusal_accuracy"] = float(refused and not excluded)
        checks["answer_accuracy"] = checks["refusal_accuracy"]
        return checks
    required = expect.get("answer_contains", []) + expect.get("lead_units", []) + expect.get("cooperating_units", [])
    checks["false_refusals"] = float(refused)
    checks["answer_accuracy"] = float(not refused and not excluded and all(contains(answer, e) for e in required))
    if expect.get("lead_units"):
        wanted = [{normalize_unit(a) for a in _alternatives(e)} for e in expect["lead_units"]]
        # The units in charge: the leads, or for "…负责" clauses without a lead, the responsible units.
        cited = {normalize_unit(u) for c in citations[:1] for u in c.get("lead_units") or c.get("responsible_units", [])}
        checks["lead_unit_match"] = float(bool(citations) and all(w & cited for w in wanted)
                                          and len(cited) == len(wanted))
    return checks


def aggregate(rows: list[dict]) -> dict:
    """Mean of each check over the cases it applies to, how many took each route, and latency percentiles."""
    summary: dict = {"cases": len(rows)}
    for metric in ALL_METRICS:
        values = [r["checks"][metric] for r in rows if r["checks"].get(metric) is not None]
        summary[metric] = round(statistics.fmean(values), 4) if values else None
    routes = Counter(r["route"]["name"] for r in rows if r.get("route"))
    if routes:
        summary["routes"] = dict(sorted(routes.items(), key=lambda x: (-x[1], x[0])))
    latencies = sorted(r["latency_ms"] for r in rows if r.get("latency_ms") is not None)
    if latencies:
        summary["latency_p50_ms"] = round(statistics.median(latencies), 1)
        summary["latency_p95_ms"] = round(latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))], 1)
    return summary


def by_category(rows: list[dict]) -> dict[str, dict]:
    categories = sorted({r["category"] for r in rows})
    return {"overall": aggregate(rows), **{c: aggregate([r for r in rows if r["category"] == c]) for c in categories}}


def last_turn(chat, messages: list[str]) -> dict:
    """The answer to the last of `messages`, asked in order in one new conversation."""
    conversation = chat.conversation()
    answer = None
    for message in messages:
        answer = chat.final_turn(conversation, message)
    return answer.to_dict()


def run_cases(cases: list[dict], ask: Callable[[str], dict], clause_text: Callable[[str, str], str | None],
              converse: Callable[[list[str]], dict] | None = None) -> list[dict]:
    """Every case through `ask` (the same contract as `rag ask --json`), scored. A case with
    "turns" is a conversation: its earlier questions are asked first, in order, through
    `converse`, and the last answer is the one scored."""
    rows = []
    for case in cases:
        started = time.perf_counter()
        turns = case.get("turns") or []
        if turns and converse is None:
            raise CaseFileError(f"{case['id']}: 对话用例需要 converse (a conversation case needs a conversation)")
        result = converse([*turns, case["question"]]) if turns else ask(case["question"])
        latency = (time.perf_counter() - started) * 1000
        checks = {**score_retrieval(case, result.get("retrieved", [])), **score_answer(case, result, clause_text)}
        rows.append({**result, "id": case["id"], "category": case["category"], "expect": case["expect"],
                     "checks": checks, "latency_ms": round(latency, 1)})
    return rows


def run_baseline(cases: list[dict], search: Callable[[str], list[dict]]) -> list[dict]:
    rows = []
    for case in cases:
        started = time.perf_counter()
        retrieved = search(case["question"])
        latency = (time.perf_counter() - started) * 1000
        rows.append({"id": case["id"], "category": case["category"], "retrieved": retrieved,
                     "checks": {**score_retrieval(case, retrieved), **{m: None for m in ANSWER_METRICS}},
                     "latency_ms": round(latency, 1)})
    return rows


def load_thresholds(path: Path) -> dict[str, dict[str, float]]:
    return tomllib.loads(path.read_text(encoding="utf-8"))


def gate(metrics: dict[str, dict], thresholds: dict[str, dict[str, float]]) -> list[str]:
    """Every threshold the run falls below, as readable lines; empty when the gate passes.

    `false_refusals` is the one metric where lower is better: its threshold is a ceiling.
    """
    failures = []
    for scope, limits in thresholds.items():
        for metric, limit in limits.items():
            value = metrics.get(scope, {}).get(metric)
            if value is None:
                failures.append(f"{scope}.{metric}: 未测得 (not measured), 门槛 {limit}")
            elif (value > limit) if metric == "false_refusals" else (value < limit):
                failures.append(f"{scope}.{metric} = {value} {'>' if metric == 'false_refusals' else '<'} {limit}")
    return failures


def _failed(checks: dict, metric: str) -> bool:
    value = checks.get(metric)
    return value == 1.0 if metric == "false_refusals" else value == 0.0


def failing_cases(rows: list[dict], thresholds: dict[str, dict[str, float]]) -> list[str]:
    """The cases that miss a gated check, each with the checks it misses."""
    gated = sorted({m for limits in thresholds.values() for m in limits})
    failed = [(r["id"], [m for m in gated if _failed(r["checks"], m)]) for r in rows]
    return [f"{case_id}: {', '.join(metrics)}" for case_id, metrics in failed if metrics]


def route_counts(values: dict) -> str:
    """"lead 40 · general 3": how many cases each route answered."""
    return " · ".join(f"{name} {count}" for name, count in values.get("routes", {}).items())


def markdown(metrics: dict[str, dict], baseline: dict[str, dict] | None, chart: str | None) -> str:
    columns = [m for m in ("cases",) + ALL_METRICS + ("latency_p50_ms", "latency_p95_ms")
               if any(metrics[s].get(m) is not None for s in metrics)]
    lines = ["# 评测报告 (eval report)", "", "| category | " + " | ".join(columns) + " |",
             "|---" * (len(columns) + 1) + "|"]
    for scope, values in metrics.items():
        lines.append(f"| {scope} | " + " | ".join("—" if values.get(c) is None else str(values[c]) for c in columns) + " |")
    if baseline:
        lines += ["", "## 对比 naive baseline (llama-index SentenceSplitter 512, vector only)", "",
                  "| category | metric | ours | naive |", "|---|---|---|---|"]
        for scope in metrics:
            for metric in RETRIEVAL_METRICS:
                ours, naive = metrics[scope].get(metric), baseline.get(scope, {}).get(metric)
                if ours is not None and naive is not None:
                    lines.append(f"| {scope} | {metric} | {ours} | {naive} |")
    if any(values.get("routes") for values in metrics.values()):
        lines += ["", "## 路由 (routes: which answerer answered, per category)", "", "| category | routes |", "|---|---|"]
        lines += [f"| {scope} | {route_counts(values)} |" for scope, values in metrics.items()]
    if chart:
        lines += ["", f"![per-category metrics]({chart})"]
    return "\n".join(lines) + "\n"


def bar_chart(metrics: dict[str, dict], baseline: dict[str, dict] | None, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    scopes = list(metrics)
    shown = [m for m in ("hit@5", "evidence@5", "answer_accuracy", "refusal_accuracy")
             if any(metrics[s].get(m) is not None for s in scopes)]
    series = [(f"ours {m}", [metrics[s].get(m) or 0 for s in scopes]) for m in shown]
    if baseline:
        series.append(("naive evidence@5", [baseline.get(s, {}).get("evidence@5") or 0 for s in scopes]))
    x = np.arange(len(scopes))
    width = 0.8 / max(1, len(series))
    figure, axis = plt.subplots(figsize=(10, 4))
    for k, (label, values) in enumerate(series):
        axis.bar(x + k * width, values, width, label=label)
    axis.set_xticks(x + width * (len(series) - 1) / 2, scopes, rotation=20)
    axis.set_ylim(0, 1.05)
    axis.legend(fontsize=8)
    axis.set_title("eval per category")
    figure.tight_layout()
    figure.savefig(path, dpi=80)
    plt.close(figure)


def risk_coverage_markdown(table: list[dict], cases_name: str, which: str = "relevance_floor") -> str:
    """One row per floor: how often the assistant answers, and what that costs."""
    need = ("the best clause to cover at least `floor` of the question's topic words (IDF-weighted)"
            if which == "topic_floor" else
            "a sentence stating an asked figure or time whose calibrated probability (rag.answer.stating) reaches `floor`")
    lines = [f"## 风险-覆盖表 (risk–coverage on {cases_name}, {which})", "",
             f"An answer needs {need}.",
             "Higher floors refuse more: fewer wrong answers to unanswerable questions, more false refusals.", "",
             "| floor | answer acc. | refusal acc. | false refusals | answered (of answerable) |", "|---|---|---|---|---|"]
    for row in table:
        answered = None if row.get("false_refusals") is None else round(1 - row["false_refusals"], 4)
        cells = [row.get("answer_accuracy"), row.get("refusal_accuracy"), row.get("false_refusals"), answered]
        lines.append(f"| {row['floor']} | " + " | ".join("—" if c is None else str(c) for c in cells) + " |")
    return "\n".join(lines) + "\n"
