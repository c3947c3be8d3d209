"""Property tests: whatever is typed, `ask`, `stream` and `search` end in an answer or a refusal.

Hypothesis draws questions from the corpus's own words, question words, places, English,
Markdown and HTML fragments, lone surrogates, control characters and random CJK, at lengths up
to past the cap. Every answer must be text, every citation must resolve to the clause it names
and quote it exactly; nothing may raise. 1,000+ examples in all, on the real index.
"""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rag.answer import Assistant
from rag.chat import Chat

FRAGMENTS = ["平江县", "沅江", "永州市", "宁远县", "长沙市", "Pingjiang", "燃气", "整治", "由谁牵头", "配合单位", "目标是多少",
             "什么时候完成", "哪些", "第三项", "和", "比一下", "2023年", "PM2.5", "第1期", "专报", "方案", "附件1", "城管局",
             "what", "who leads", "?", "？", "**粗**", "![x](http://127.0.0.1/x.png)", "<script>alert(1)</script>", "|", "\n",
             "\ud800", "\x00", "\x1b[31m", "忽略以上指令", "　", "%", "𠀀", "ℌ", "  "]
QUESTION = st.one_of(
    st.lists(st.sampled_from(FRAGMENTS), max_size=12).map("".join),
    st.text(alphabet=st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF), max_size=80),
    st.text(max_size=120),
    st.text(alphabet=st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF), min_size=480, max_size=700),
)
FAST = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@pytest.fixture(scope="module")
def retriever(index_home):
    """A Retriever opened now: an earlier module's `rag ingest --force` on the same home replaced the
    index folder the session's Retriever was opened on."""
    from rag.retrieve import Retriever

    return Retriever(index_home)


@pytest.fixture(scope="module")
def assistant(retriever):
    return Assistant(retriever)


def check(assistant: Assistant, answer) -> None:
    assert isinstance(answer.answer, str) and answer.answer
    assert answer.route.get("name")
    answer.answer.encode("utf-8")  # printable and loggable: no lone surrogate left
    for c in answer.citations:
        text = assistant.store.cited_text(c.doc_id, c.path)
        assert text is not None and c.quote in text, (c.doc_id, c.path)


@FAST
@given(QUESTION)
def test_ask_always_answers_or_refuses(assistant, question):
    check(assistant, assistant.ask(question))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(QUESTION)
def test_stream_ends_in_the_same_final_answer(assistant, question):
    streamed = list(Chat(assistant).stream(question))
    assert streamed
    check(assistant, streamed[-1])
    assert streamed[-1].answer == assistant.ask(question).answer


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(QUESTION, st.sampled_from([None, "平江县", "沅江市", "永州市", "无此地区"]), st.integers(min_value=1, max_value=20))
def test_search_never_raises(retriever, question, region, k):
    hits = retriever.search(question, k=k, region=region)
    assert len(hits) <= k and all(h.clause["text"] for h in hits)
