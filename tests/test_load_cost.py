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


def test_queued_clients_are_told_their_place_once_a_second_not_at_every_start(index_home):
    """Gradio's default ("auto") sends every waiting client a new queue estimate each time any
    answer starts: K questions waiting cost ~K²/2 messages, each encoded and streamed by the app
    and parsed by a client (≈ 7 ms of CPU per question with 20 users on two cores). Once a second
    is enough for a queue position. 40 questions at once over Gradio's own queue protocol: 647
    estimates before, 137 now (one per second waited, and one when joining)."""
    import json
    import uuid
    from concurrent.futures import ThreadPoolExecutor
    from urllib.parse import urlsplit

    import http.client

    from apphelpers import app_process
    from rag import config

    cases = [json.loads(line) for line in (config.PROJECT_ROOT / "eval" / "cases.jsonl").read_text(encoding="utf-8").splitlines()]
    questions = [c["question"] for c in cases if not c["expect"].get("should_refuse") and not c.get("turns")][:40]

    def ask(url: str, fn_index: int, question: str) -> dict[str, int]:
        """One session's question, joined and streamed as gradio_client does; its messages by kind."""
        parts, session = urlsplit(url), uuid.uuid4().hex
        joined = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
        joined.request("POST", "/gradio_api/queue/join", body=json.dumps(
            {"data": [question], "fn_index": fn_index, "session_hash": session, "event_data": None, "trigger_id": None}),
            headers={"Content-Type": "application/json"})
        assert joined.getresponse().status == 200
        joined.close()
        stream = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
        stream.request("GET", f"/gradio_api/queue/data?session_hash={session}")
        response, kinds = stream.getresponse(), {}
        for line in response:
            if line.startswith(b"data: "):
                kind = json.loads(line[6:])["msg"]
                kinds[kind] = kinds.get(kind, 0) + 1
                if kind == "process_completed":
                    break
        stream.close()
        return kinds

    with app_process("queue-estimates.log") as (process, url):
        parts = urlsplit(url)
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
        connection.request("GET", "/config")
        dependencies = json.loads(connection.getresponse().read())["dependencies"]
        connection.close()
        fn_index = next(d["id"] for d in dependencies if d.get("api_name") == "ask")
        with ThreadPoolExecutor(len(questions)) as pool:
            counts = list(pool.map(lambda q: ask(url, fn_index, q), questions))
        assert all(c.get("process_completed") == 1 for c in counts), counts
        estimates = sum(c.get("estimation", 0) for c in counts)
        assert estimates < 320, estimates
        assert process.poll() is None
