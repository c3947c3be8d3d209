"""Fit rag.answer.stating's weights on labelled sets, and show how well they hold on a set left out.

For every Chinese figure or time question of the sets, each candidate sentence (what
rag.answer.refuse.figure_candidates finds, as the answer layer does) is labelled by whether it
holds the question's first gold string; an unanswerable question's candidates are all negative.
A logistic regression (numpy, L2) is fit on the candidates. The leave-one-set-out table is the
honest estimate: for each set, the weights fit on the others decide its questions (answer when
the best candidate reaches the floor), against the lexical floor that came before.

    python eval/fit_answerability.py [--sets cases,own_words,dev,fresh,fresh2,fresh3]

Needs a built index (`rag ingest`). Never give it a set that measures unseen questions
(eval/heldout.jsonl, fresh4, fresh5): what it is fit on is tuned on.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rag.answer import Assistant  # noqa: E402
from rag.answer.base import Asked  # noqa: E402
from rag.answer.refuse import about_places, figure_candidates, standing  # noqa: E402
from rag.answer.stating import WEIGHTS  # noqa: E402
from rag.evaluate import contains, load_cases  # noqa: E402

NAMES = list(WEIGHTS)


def labelled(assistant: Assistant, path: Path) -> list[dict]:
    """One entry per Chinese figure or time question: its candidates' features and labels."""
    questions = []
    for case in load_cases(path):
        if case.get("turns"):
            continue
        query = assistant.parse(case["question"])
        if query.language != "zh":
            continue
        hits = assistant.retriever.search(query.text, k=5, plan=query.searched_plan)
        asked = Asked(query, hits, assistant.store, assistant.retriever.lexicon, assistant.retriever.search)
        where = standing(hits)
        found = figure_candidates(asked, where, about_places(query, hits, where)) if hits else None
        if found is None:
            continue
        expect = case["expect"]
        gold = (expect.get("answer_contains", []) + expect.get("lead_units", []))[:1]
        answerable = not expect.get("should_refuse")
        best = max((c.coverage for c in found), default=0.0)
        questions.append({"set": path.stem, "answerable": answerable,
                          "x": [[c.features(best)[n] for n in NAMES] for c in found],
                          "y": [float(answerable and bool(gold) and contains(c.sentence, gold[0])) for c in found],
                          "coverage": [c.coverage for c in found]})
    return questions


def fit(x: np.ndarray, y: np.ndarray, l2: float = 1.0, steps: int = 3000, rate: float = 0.5) -> np.ndarray:
    """Logistic regression by gradient descent; the last weight is the bias (not penalised)."""
    x = np.c_[x, np.ones(len(x))]
    w = np.zeros(x.shape[1])
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-x @ w))
        w -= rate * (x.T @ (p - y) + l2 * np.r_[w[:-1], 0.0]) / len(y)
    return w


def decide(questions: list[dict], score, floor: float) -> dict[str, int]:
    """Answered right (the chosen sentence holds the gold), answered wrong, refused wrongly, refused rightly."""
    tally = dict.fromkeys(("right", "wrong_sentence", "false_refusal", "refused", "near_miss_answered"), 0)
    for q in questions:
        scores = score(q) if q["x"] else np.array([])
        if len(scores) and scores.max() >= floor:
            if not q["answerable"]:
                tally["near_miss_answered"] += 1
            else:
                tally["right" if q["y"][int(scores.argmax())] else "wrong_sentence"] += 1
        else:
            tally["false_refusal" if q["answerable"] else "refused"] += 1
    return tally


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", default="cases,own_words,dev,fresh,fresh2,fresh3")
    parser.add_argument("--floor", type=float, default=0.5)
    args = parser.parse_args()
    assistant = Assistant()
    folder = Path(__file__).resolve().parent
    questions = [q for name in args.sets.split(",") for q in labelled(assistant, folder / f"{name}.jsonl")]
    stack = lambda qs: (np.array([r for q in qs for r in q["x"]]), np.array([v for q in qs for v in q["y"]]))  # noqa: E731
    print(f"{len(questions)} questions, {sum(len(q['x']) for q in questions)} candidate sentences")
    print("\n| left out | model: right / wrong sentence / false refusals / near misses refused / answered |"
          " lexical floor 0.45: the same |\n|---|---|---|")
    for held in dict.fromkeys(q["set"] for q in questions):
        w = fit(*stack([q for q in questions if q["set"] != held]))
        rest = [q for q in questions if q["set"] == held]
        model = decide(rest, lambda q: 1.0 / (1.0 + np.exp(-(np.c_[np.array(q["x"]), np.ones(len(q["x"]))] @ w))), args.floor)
        lexical = decide(rest, lambda q: np.array(q["coverage"]), 0.45)
        print(f"| {held} | {' / '.join(map(str, model.values()))} | {' / '.join(map(str, lexical.values()))} |")
    w = fit(*stack(questions))
    print("\nWEIGHTS = {" + ", ".join(f'"{n}": {v:.2f}' for n, v in zip(NAMES, w)) + "}" + f"\nBIAS = {w[-1]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
