"""Follow-ups resolved into standalone questions (rag.conversation), with no index and no model:
the Store and Lexicon are built from the parsed corpus as in tests/test_query.py."""
from __future__ import annotations

import pytest

from rag.answer.types import Answer, Citation
from rag.conversation import Conversation, list_items
from rag.index import document_frequency, tokenize
from rag.lexicon import Lexicon
from rag.query import parse_query


@pytest.fixture(scope="module")
def corpus(parsed_corpus):
    records, lexical, store = parsed_corpus
    lexicon = Lexicon(document_frequency([tokenize(t) or ["∅"] for t in lexical]), len(records), store.gazetteer)
    return store, lexicon


@pytest.fixture()
def conversation(corpus):
    store, lexicon = corpus
    parse = lambda text: parse_query(text, store.plans, store.unit_names, store.gazetteer, lexicon.content_tokens)
    return Conversation(parse, store.gazetteer, store.corpus_text)


def citation(lead=(), cooperating=(), title="条款") -> Citation:
    return Citation(1, "d", "s", "t", "一、", title, list(lead), list(cooperating), [], "q", "q")


def turn(conversation: Conversation, message: str, text: str = "答", citations=()) -> str:
    resolution = conversation.resolve(message)
    conversation.record(message, resolution, Answer(message, text, False, citations=list(citations)))
    return resolution.question


def test_a_standalone_question_is_answered_as_typed(conversation):
    turn(conversation, "平江县燃气安全专项整治由谁牵头？")
    resolution = conversation.resolve("沅江市受污染耕地安全利用率目标是多少？")
    assert not resolution.followup and resolution.question == "沅江市受污染耕地安全利用率目标是多少？"


def test_a_first_question_is_never_rewritten(conversation):
    assert not conversation.resolve("那沅江呢？").followup


def test_region_switch_keeps_topic_and_attribute(conversation):
    turn(conversation, "平江的受污染耕地安全利用率目标是多少？")
    resolved = turn(conversation, "那沅江呢？")
    assert resolved == "沅江市的受污染耕地安全利用率目标是多少？"
    assert conversation.last.query.regions == ("沅江市",)
    assert conversation.resolve("what about Pingjiang?").question.startswith("平江县")


def test_a_question_naming_no_region_gains_the_one_named_later(conversation):
    turn(conversation, "受污染耕地安全利用率目标是多少？")
    assert turn(conversation, "那平江呢？").startswith("平江县受污染耕地安全利用率")


def test_attribute_switch_on_the_same_topic(conversation):
    turn(conversation, "平江县燃气安全专项整治由谁牵头？", citations=[citation(["城管局"], ["发改局"])])
    assert conversation.resolve("配合单位呢？").question == "平江县燃气安全专项整治配合单位有哪些？"
    assert conversation.resolve("什么时候完成？").question == "平江县燃气安全专项整治什么时候完成？"
    resolved = conversation.resolve("这是到哪一年的目标？")
    assert resolved.question.startswith("平江县燃气安全专项整治") and "哪一年" in resolved.question


def test_a_word_that_stands_in_for_one_of_the_topics(conversation):
    """"农村的呢" after 城市低保标准: the plans write 农村低保 as they write 城市低保."""
    turn(conversation, "平江县打好重点民生保障仗工作方案里，城市低保标准要提高到多少？")
    assert turn(conversation, "农村的呢？") == "平江县打好重点民生保障仗工作方案里，农村低保标准要提高到多少？"
    turn(conversation, "平江县燃气安全专项整治由谁牵头？")
    assert turn(conversation, "那消防呢？") == "平江县消防安全专项整治由谁牵头？"  # the plans write 消防安全 too
    turn(conversation, "平江县燃气安全专项整治由谁牵头？")
    assert turn(conversation, "那沅江呢？") == "沅江市燃气安全专项整治由谁牵头？"  # a region, not a word, stands in


def test_compare_the_last_two_single_region_turns(conversation):
    turn(conversation, "平江的受污染耕地安全利用率目标是多少？")
    turn(conversation, "那沅江呢？")
    resolution = conversation.resolve("两地比一下")
    assert resolution.sides == ("平江县", "沅江市") and resolution.topic == "受污染耕地安全利用率目标是多少"
    assert resolution.question.startswith("对比平江县和沅江市")


def test_an_attribute_after_a_comparison_is_compared_too(conversation):
    turn(conversation, "平江县非煤矿山专项整治由谁牵头？")
    turn(conversation, "那沅江呢？")
    turn(conversation, "两地比一下")
    resolution = conversation.resolve("配合单位呢？")
    assert resolution.sides == ("平江县", "沅江市") and resolution.topic == "非煤矿山专项整治配合单位有哪些"


def test_compare_without_two_regions_is_not_a_comparison(conversation):
    turn(conversation, "平江的受污染耕地安全利用率目标是多少？")
    assert not conversation.resolve("对比一下").sides


def test_the_nth_item_of_the_last_list_answer(conversation):
    listed = "共 3 项：[1]\n1. 附件1 经济增长主动仗 [2]\n2. 附件1 科技创新攻坚仗 [3]\n3. 附件1 优化发展环境持久仗 [4]"
    turn(conversation, "平江打好发展哪六仗？", listed)
    assert conversation.last.items == ["经济增长主动仗", "科技创新攻坚仗", "优化发展环境持久仗"]
    assert conversation.resolve("第三项呢？").question == "平江县优化发展环境持久仗有哪些具体任务？"
    assert conversation.resolve("第2项由谁牵头？").question == "平江县科技创新攻坚仗由谁牵头？"
    assert conversation.resolve("第九项呢？").rule == "item-missing"


def test_a_pronoun_for_the_last_answers_unit(conversation):
    turn(conversation, "平江县燃气安全专项整治由谁牵头？", citations=[citation(["城管局"], ["发改局"])])
    assert conversation.resolve("这个单位还牵头什么？").question == "城管局牵头哪些任务？"
    assert conversation.resolve("该部门还负责哪些？").question == "城管局负责哪些任务？"


def test_a_topic_switch_keeps_scope_and_attribute(conversation):
    turn(conversation, "平江县燃气安全专项整治由谁牵头？")
    assert conversation.resolve("那道路交通安全专项整治呢？").question == "平江县道路交通安全专项整治由谁牵头？"


def test_list_items_read_lead_listings_and_clause_titles():
    text = "共 2 项：\n1. 附件4 二、(一)2 抓好民营经济“六个一”工作（牵头）[1]\n2. 附件4 二、(四)1 持续强化法制保障（牵头）[2]"
    assert list_items(text, []) == ["抓好民营经济“六个一”工作", "持续强化法制保障"]
    assert list_items("无", [citation(title="甲"), citation(title="乙")]) == ["甲", "乙"]


def test_a_standalone_question_resets_the_context(conversation):
    turn(conversation, "平江的受污染耕地安全利用率目标是多少？")
    turn(conversation, "那沅江呢？")
    turn(conversation, "平江县燃气安全专项整治由谁牵头？")
    assert len(conversation.turns) == 1
    conversation.reset()
    assert conversation.last is None


def test_rag_chat_reads_a_conversation_from_stdin(index_home):
    """`rag chat` as a process: a follow-up resolved against the turn before, /reset, /quit."""
    import os
    import subprocess
    import sys

    lines = "平江的受污染耕地安全利用率目标是多少？\n那沅江呢？\n/reset\n那沅江呢？\n/quit\n平江县燃气整治由谁牵头？\n"
    result = subprocess.run([sys.executable, "-m", "rag.cli", "chat"], input=lines, env=dict(os.environ),
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    first, second, after_reset = out.split("问：")[1:4]
    assert "91%" in first and "引文" in first
    assert "按上文理解为：沅江市的受污染耕地安全利用率目标是多少？" in second and "92%" in second
    assert "《沅江市安全守底行动实施方案》二、(四)3" in second  # the citation, printed with the answer
    assert "（已开始新对话）" in out and "按上文理解为" not in after_reset
    assert out.count("问：") == 3  # nothing is answered after /quit


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
