

def test_eval_asks_a_cases_turns_in_one_conversation(tmp_path):
    """A case with "turns" is scored on the last answer of one conversation; its turns must be questions."""
    import json

    from rag.evaluate import CaseFileError, load_cases, run_cases

    asked: list[list[str]] = []

    def converse(messages: list[str]) -> dict:
        asked.append(messages)
        return {"answer": "按上文理解为：沅江市…92%", "refused": False, "citations": [], "retrieved": []}

    case = {"id": "f1", "category": "followup", "turns": ["平江的目标是多少？"], "question": "那沅江呢？",
            "expect": {"answer_contains": ["92%"]}}
    path = tmp_path / "cases.jsonl"
    path.write_text(json.dumps(case, ensure_ascii=False) + "\n", encoding="utf-8")
    rows = run_cases(load_cases(path), lambda q: pytest.fail("a conversation case was asked alone"), lambda d, p: None,
                     converse=converse)
    assert asked == [["平江的目标是多少？", "那沅江呢？"]] and rows[0]["checks"]["answer_accuracy"] == 1.0
    path.write_text(json.dumps({**case, "turns": "平江"}, ensure_ascii=False) + "\n", encoding="utf-8")
    with pytest.raises(CaseFileError):
        load_cases(path)
