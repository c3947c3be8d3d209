"""Run every eval question through the assistant and diff the answers against a saved run.

A refactor of the answer layer must not change what a user sees. `save` writes, for each
question of the given case files, the answer text, refusal, kind and citations (document,
path, quote, units, scope) as `rag ask --json` gives them; `check` runs the questions again
and lists every question whose answer differs. Timings and the route (which says how an
answer was made, not what it is) are left out of the comparison.

    python eval/diff_answers.py save  eval/out/answers-before.json
    python eval/diff_answers.py check eval/out/answers-before.json
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CASES = [ROOT / "eval" / "cases.jsonl", ROOT / "eval" / "heldout.jsonl"]
CITATION_FIELDS = ("n", "doc_id", "path", "quote", "lead_units", "cooperating_units", "responsible_units", "scope", "also")


def snapshot(answer: dict) -> dict:
    """What a user sees of one answer."""
    return {"answer": answer["answer"], "refused": answer["refused"], "kind": answer.get("kind", ""),
            "citations": [{f: c.get(f) for f in CITATION_FIELDS} for c in answer["citations"]]}


def questions(paths: list[Path]) -> list[str]:
    found = []
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                found.append(json.loads(line)["question"])
    return list(dict.fromkeys(found))


def run(paths: list[Path]) -> dict[str, dict]:
    from rag.answer import Assistant
    from rag.retrieve import Retriever

    assistant = Assistant(Retriever())
    return {q: snapshot(assistant.ask(q).to_dict()) for q in questions(paths)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("action", choices=["save", "check"])
    parser.add_argument("saved", type=Path)
    parser.add_argument("--cases", type=Path, nargs="+", default=DEFAULT_CASES)
    args = parser.parse_args(argv)
    answers = run(args.cases)
    if args.action == "save":
        args.saved.parent.mkdir(parents=True, exist_ok=True)
        args.saved.write_text(json.dumps(answers, ensure_ascii=False, indent=1), encoding="utf-8")
        print(f"{len(answers)} answers saved to {args.saved}")
        return 0
    saved = json.loads(args.saved.read_text(encoding="utf-8"))
    changed = [q for q in answers if saved.get(q) != answers[q]]
    missing = [q for q in saved if q not in answers]
    for q in changed:
        print(f"CHANGED: {q}\n  before: {json.dumps(saved.get(q), ensure_ascii=False)[:400]}\n"
              f"  after:  {json.dumps(answers[q], ensure_ascii=False)[:400]}")
    for q in missing:
        print(f"NOT ASKED: {q}")
    print(f"{len(answers)} questions: {len(answers) - len(changed)} identical, {len(changed)} changed, {len(missing)} not asked")
    return 1 if changed or missing else 0


if __name__ == "__main__":
    sys.exit(main())
