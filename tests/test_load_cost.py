"""What one question costs the app under load (issue 15, the load target): each distinct text is
encoded once per question and never reused by the next one; the ONNX pool does not spin on the
cores the other answer needs; Gradio does not rebuild its monitoring summary after every event."""
from __future__ import annotations

import os

import numpy as np
import pytest

from rag.retrieve import one_question


@pytest.fixture
def counted(retriever, monkeypatch):
    """The retriever with its query encodings counted, by text."""
    texts: list[str] = []
    encode = retriever.encoder.encode_queries

    def counting(batch):
        texts.extend(batch)
        return encode(batch)

    monkeypatch.setattr(retriever.encoder, "encode_queries", counting)
    return retriever, texts


def test_one_question_encodes_a_text_once_across_filters(counted):
    retriever, texts = counted
    regions = retriever.store.gazetteer.regions[:2]
    alone = [[h.to_dict() for h in retriever.search("燃气安全专项整治由谁牵头", region=r)] for r in regions]
    assert len(texts) == 2
    texts.clear()
    with one_question():
        memo = [[h.to_dict() for h in retriever.search("燃气安全专项整治由谁牵头", region=r)] for r in regions]
        retriever.search("燃气安全专项整治由谁牵头", k=3, region=regions[0])
    assert memo == alone and len(texts) == 1


def test_the_memo_ends_with_the_question(counted):
    from rag.answer import Assistant
    from rag.chat import Chat

    retriever, texts = counted
    chat = Chat(Assistant(retriever))
    first = chat.final("平江县燃气安全专项整治归哪个部门牵头？")
    once = len(texts)
    again = chat.final("平江县燃气安全专项整治归哪个部门牵头？")
    assert once >= 1 and len(texts) == 2 * once and again.answer == first.answer
    with one_question():
        retriever.search("燃气")
    retriever.search("燃气")
    assert texts[-2:] == ["燃气", "燃气"]


def test_encoder_threads_follow_the_environment_and_do_not_spin(retriever, monkeypatch):
    from rag.encoder import OnnxEncoder
    from rag.models import build_e5_folder

    folder = build_e5_folder()  # built for the retriever's index already
    monkeypatch.setenv("RAG_ENCODER_THREADS", "1")
    one = OnnxEncoder(folder)
    options = one._session.get_session_options()
    assert options.intra_op_num_threads == 1
    assert options.get_session_config_entry("session.intra_op.allow_spinning") == "0"
    monkeypatch.delenv("RAG_ENCODER_THREADS")
    two = OnnxEncoder(folder)
    assert two._session.get_session_options().intra_op_num_threads == 2
    texts = ["燃气安全专项整治由谁牵头", "平江县财源建设"]
    assert np.array_equal(one.encode_queries(texts), two.encode_queries(texts))


def test_the_app_skips_gradios_per_event_monitoring_summary():
    import gradio as gr

    import rag.ui as ui

    assert int(os.environ["GRADIO_ANALYTICS_CACHE_FREQUENCY"]) >= 10**9
    with gr.Blocks() as demo:
        gr.Markdown("x")
    demo.queue(default_concurrency_limit=ui.CONCURRENCY)
    assert demo._queue.ANAYLTICS_CACHE_FREQUENCY >= 10**9
    assert ui.ENCODER_THREADS == max(1, (os.cpu_count() or 1) // ui.CONCURRENCY)


def app_cpu(pid: int) -> float:
    """User + system CPU seconds of a process so far."""
    fields = open(f"/proc/{pid}/stat", encoding="ascii").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_a_long_random_question_costs_the_app_at_most_a_few_normal_ones(index_home):
    """A 490-character random-CJK question (the hostile client's longest) cost the running app about
    four normal answers of CPU (≈ 0.5 s, its 274 tokens encoded), so four such clients starved
    everyone else. Now it costs about two (the query is encoded from its first 128 tokens), under
    the bound of three; CPU seconds of the app process, never wall times."""
    import json
    import random

    from gradio_client import Client

    from apphelpers import app_process
    from rag import config

    cases = [json.loads(line) for line in (config.PROJECT_ROOT / "eval" / "cases.jsonl").read_text(encoding="utf-8").splitlines()]
    normal = [c["question"] for c in cases if not c["expect"].get("should_refuse") and not c.get("turns")][:12]
    rng = random.Random(15)
    long = ["".join(chr(rng.randint(0x4E00, 0x9FFF)) for _ in range(490)) for _ in range(6)]
    with app_process("long-question-cost.log") as (process, url):
        client = Client(url, verbose=False)
        client.predict(long[0][::-1], api_name="/ask")
        before = app_cpu(process.pid)
        for question in normal:
            client.predict(question, api_name="/ask")
        per_normal = (app_cpu(process.pid) - before) / len(normal)
        before = app_cpu(process.pid)
        for question in long:
            client.predict(question, api_name="/ask")
        per_long = (app_cpu(process.pid) - before) / len(long)
        assert per_long < 3 * per_normal, (per_long, per_normal)
        assert process.poll() is None
