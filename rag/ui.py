"""The web app: chat with cited answers, a corpus browser, a comparison tab and the `/ask` API.

Officials check an answer against its source, so every citation is shown beside the answer
and opens the clause in its place in the document. All answering stays in `rag.answer`;
this module only turns `Answer`s into Gradio components. The models and the index are loaded
once in `serve`, before the port opens, so no question pays for loading them.
"""
import contextlib
import html
import os
import re
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace
from functools import partial

# Gradio reports usage to its servers unless told not to; the app must work fully offline.
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
# After every event Gradio rebuilds a pandas summary of the last 10,000 events for a monitoring
# dashboard this app never mounts: 3 ms an event at first, 16 ms after 10,000 questions.
os.environ.setdefault("GRADIO_ANALYTICS_CACHE_FREQUENCY", str(10**9))
# Gradio asks matplotlib (when installed) for its backend around every event; unset, the first
# question would wait ~1.5 s for matplotlib to resolve it by importing pyplot.
os.environ.setdefault("MPLBACKEND", "agg")
STARTED = time.perf_counter()  # before the Gradio import, the slowest part of starting

import gradio as gr  # noqa: E402

from rag.answer import Answer, Assistant  # noqa: E402
from rag.chat import Chat, shown  # noqa: E402
from rag.clean import to_simplified  # noqa: E402
from rag.conversation import Conversation  # noqa: E402
from rag.llm_backends import LLMBackend, load_backend  # noqa: E402
from rag.textin import MAX_QUESTION, markdown_literal, normalize_question  # noqa: E402
from rag.ui_html import CSS, Corpus, citation_card  # noqa: E402
from rag.ui_views import add_view_tabs  # noqa: E402
from rag.webguard import launch_guards, launch_problem, port_problem, queue_limits, user_safe  # noqa: E402

MODES = {"grounded": "依据原文（grounded）", "llm": "大模型生成（LLM）", "fallback": "回退到依据原文（fallback）"}
LLM_SETTINGS = ("RAG_LLM", "RAG_LLM_BASE_URL", "RAG_LLM_MODEL", "RAG_LLM_API_KEY", "RAG_LLM_MODEL_PATH", "RAG_LLM_TIMEOUT")
CONCURRENCY = 2  # one answer per core; further users wait in the queue instead of failing
# ONNX threads per answer: two answers at once must not ask for four threads on two cores.
ENCODER_THREADS = max(1, (os.cpu_count() or 1) // CONCURRENCY)
CITE_MARK = re.compile(r"\[(\d+)\]")
SCROLL_TO_CLAUSE = ("() => setTimeout(() => document.querySelector('#clause-tree .selected')"
                    "?.scrollIntoView({block: 'center'}), 150)")


@dataclass(frozen=True)
class Scope:
    """One search of a question: Assistant.ask takes one region or one document at a time."""

    label: str
    region: str | None = None
    doc_id: str | None = None


def scopes(regions: list[str] | None, doc_ids: list[str] | None, titles: dict[str, str]) -> list[Scope]:
    """The searches a question needs for the chosen filters; documents are the narrower pick, so
    they win over regions, and several picks mean one search (and one answer section) each."""
    if doc_ids:
        return [Scope(f"《{titles[d]}》", doc_id=d) for d in doc_ids]
    return [Scope(r, region=r) for r in regions or []] or [Scope("")]


def combine(parts: list[tuple[Scope, Answer]]) -> Answer:
    """One answer from per-scope answers: a heading per scope, citations renumbered to stay unique."""
    if len(parts) == 1:
        return parts[0][1]
    texts, citations, offset = [], [], 0
    for scope, answer in parts:
        shift = partial(lambda o, m: f"[{int(m[1]) + o}]", offset)
        texts.append(f"#### {scope.label}\n\n" + CITE_MARK.sub(shift, answer.answer))
        citations += [replace(c, n=c.n + offset) for c in answer.citations]
        offset += len(answer.citations)
    answers = [a for _, a in parts]
    return replace(answers[0], answer="\n\n".join(texts), refused=all(a.refused for a in answers), citations=citations,
                   mode="+".join(dict.fromkeys(a.mode for a in answers)),
                   notice="；".join(dict.fromkeys(a.notice for a in answers if a.notice)),
                   retrieved=[r for a in answers for r in a.retrieved],
                   timings_ms={"total": sum(a.timings_ms.get("total", 0.0) for a in answers)})


def stream_scoped(chat: Chat, question: str, searches: list[Scope]) -> Iterator[Answer]:
    """The combined answer as it grows, one scope after another; the last item is final."""
    done: list[tuple[Scope, Answer]] = []
    for scope in searches:
        last = None
        for last in chat.stream(question, region=scope.region, doc_id=scope.doc_id):
            yield combine([*done, (scope, last)])
        done.append((scope, last))


def stream_conversation(chat: Chat, conversation: Conversation, text: str, searches: list[Scope]) -> Iterator[Answer]:
    """A chat message as a turn of the session's conversation: a follow-up answered as the
    standalone question it resolves to (shown above the answer), under the chosen filters."""
    if len(searches) == 1:
        yield from chat.stream_turn(conversation, text, region=searches[0].region, doc_id=searches[0].doc_id)
        return
    resolution = conversation.resolve(text)
    answer = None
    for answer in (stream_scoped(chat, resolution.question, searches) if not resolution.sides
                   else chat.stream_compare(list(resolution.sides), resolution.topic)):
        yield shown(answer, text, resolution)
    conversation.record(text, resolution, answer)


def mask_key(key: str) -> str:
    """An API key shown only by its prefix and last four characters (sk-…abcd)."""
    if len(key) <= 8:
        return "…" if key else ""
    prefix = key[:3] if key[2:3] == "-" else ""
    return f"{prefix}…{key[-4:]}"


def llm_settings_markdown(backend_name: str | None) -> str:
    """The LLM endpoint as the environment sets it, read-only, with the key masked."""
    rows = [f"| 当前 | {html.escape(backend_name) if backend_name else '未启用：只依据原文作答（grounded）'} |"]
    for name in LLM_SETTINGS:
        value = os.environ.get(name, "")
        shown = mask_key(value) if name.endswith("API_KEY") else value
        rows.append(f"| `{name}` | {html.escape(shown) if shown else '（未设置）'} |")
    return ("| 变量 | 值 |\n|---|---|\n" + "\n".join(rows) +
            "\n\n这些设置从环境变量读取，修改后重启应用生效。")


def parse_auth(value: str | None) -> tuple[str, str] | None:
    """RAG_AUTH=user:password turns on the login page; unset means open access."""
    if not value:
        return None
    user, sep, password = value.partition(":")
    if not (sep and user and password):
        raise ValueError("RAG_AUTH 的格式应为 user:password")
    return user, password


def status_markdown(answer: Answer, searches: list[Scope]) -> str:
    """How the answer was made: mode, the reason for any fallback, time and search scope."""
    mode = "+".join(MODES.get(m, m) for m in answer.mode.split("+"))
    parts = [f"**模式**：{mode}", f"用时 {answer.timings_ms.get('total', 0):.0f} ms"]
    labels = [s.label for s in searches if s.label]
    if labels:
        parts.append("范围：" + "、".join(labels))
    if answer.refused:
        parts.append("**语料中没有依据，未作答**")
    text = " · ".join(parts)
    if answer.notice:
        text += f"\n\n> {'⚠️ ' if 'fallback' in answer.mode else ''}{html.escape(answer.notice)}"
    return text


def api_markdown(answer: Answer) -> str:
    """The answer for API clients: its Markdown, then each citation with units and quote."""
    lines = [answer.answer]
    if answer.citations:
        lines.append("\n---\n**引文**")
    for c in answer.citations:
        units = c.units_sentence()
        lines.append(f"\n[{c.n}] 《{c.title}》{c.path}「{to_simplified(c.clause_title)}」（{c.region}）"
                     + (f" {units}" if units else "") + "\n\n> " + c.quote.replace("\n", "\n> "))
    return "\n".join(lines)


def build(chat: Chat) -> gr.Blocks:
    """The Blocks app around one loaded assistant and its LLM backend (or none)."""
    assistant = chat.assistant
    store = assistant.store
    corpus = Corpus(store)
    examples, regions = store.example_questions(), store.gazetteer.regions
    titles = {doc_id: d["title"] for doc_id, d in corpus.documents.items()}
    first_doc = next(iter(corpus.documents))

    with gr.Blocks(title="方案助手", analytics_enabled=False) as demo:
        # The browser's components are made first (placed in their tab below) so that the
        # citation buttons of the chat and comparison tabs can open a clause in them.
        doc_pick = gr.Dropdown(corpus.doc_choices(), value=first_doc, label="文档", elem_id="doc-pick", render=False)
        clause_pick = gr.Dropdown(corpus.clause_choices(first_doc), value=None, label="条款", elem_id="clause-pick",
                                  render=False)
        search = gr.Textbox(label="搜索全部文档（文字或单位，回车搜索）", placeholder="例如：燃气、城管局、召集人",
                            elem_id="clause-search", render=False)
        tree = gr.HTML(corpus.tree_html(first_doc), elem_id="clause-tree", max_height=640, render=False)
        browser_outputs = [doc_pick, clause_pick, search, tree]

        def open_clause(clause_id: str, quote: str = "") -> tuple:
            """Show a clause in its place: its document's tree, the clause open, the quote marked."""
            doc_id = corpus.by_id[clause_id]["doc_id"]
            return (gr.Tabs(selected="browser"), doc_id,
                    gr.Dropdown(choices=corpus.clause_choices(doc_id), value=clause_id), "",
                    corpus.tree_html(doc_id, clause_id, quote))

        def citation_panel(state: gr.State) -> None:
            """Citation cards, each with a button that opens the clause in the browser tab."""
            @gr.render(inputs=state)
            def show(citations: list[dict]) -> None:
                if not citations:
                    gr.Markdown("*暂无引文*")
                for c in citations:
                    gr.HTML(citation_card(c))
                    # A column with no heading clause of its own (【县市区动态】) opens at its first item.
                    opened = store.record(c["doc_id"], c["path"]) or store.record(
                        c["doc_id"], store.record(c["doc_id"], c["path"], "section")["children"][0])
                    clause_id = opened["id"]
                    button = gr.Button(f"在文档中查看 [{c['n']}] {c['path']}", size="sm")
                    button.click(partial(open_clause, clause_id, c["quote"]), outputs=[tabs, *browser_outputs],
                                 api_visibility="private").then(None, js=SCROLL_TO_CLAUSE)

        gr.Markdown(f"## 方案助手\n依据{store.gazetteer.regions_text}的方案原文作答，每条回答都注明出处条款和牵头、配合单位；"
                    "方案没有写的，会直接说明。")
        with gr.Tabs(selected="chat") as tabs:
            with gr.Tab("问答", id="chat"):
                with gr.Row():
                    with gr.Column(scale=3):
                        chatbot = gr.Chatbot(elem_id="chat", show_label=False, height=520, feedback_options=None,
                                             buttons=["copy"], placeholder="请输入关于方案内容的问题，例如下方的示例。")
                        with gr.Row():
                            question = gr.Textbox(elem_id="question", show_label=False, scale=5, max_lines=4,
                                                  placeholder="输入问题，按回车提问")
                            ask = gr.Button("提问", variant="primary", elem_id="ask", scale=1)
                            new_chat = gr.Button("新对话", elem_id="new-chat", scale=1)
                        with gr.Row():
                            example_buttons = [gr.Button(q, size="sm") for q in examples]
                        with gr.Accordion("筛选范围", open=False):
                            with gr.Row():
                                region_filter = gr.Dropdown(regions, multiselect=True, label="地区",
                                                            info="可多选；每个地区分别作答")
                                doc_filter = gr.Dropdown(corpus.doc_choices(), multiselect=True, label="文档",
                                                         info="可多选；选了文档时按文档查找")
                    with gr.Column(scale=2, elem_id="citations"):
                        status = gr.Markdown("**模式**：—", elem_id="status")
                        gr.Markdown("#### 引文")
                        cited = gr.State([])
                        citation_panel(cited)
                # One Conversation per browser session, made at its first message (a State's
                # initial value is copied per session, and the assistant must not be).
                conversation = gr.State(None)
            with gr.Tab("对比", id="compare"):
                with gr.Row():
                    region_a = gr.Dropdown(regions, value=regions[0], label="地区甲", elem_id="region-a")
                    region_b = gr.Dropdown(regions, value=regions[min(1, len(regions) - 1)], label="地区乙", elem_id="region-b")
                    topic = gr.Textbox(label="主题", elem_id="topic", scale=2,
                                       placeholder="例如：受污染耕地安全利用率、燃气整治由谁牵头")
                compare = gr.Button("对比", variant="primary", elem_id="compare-btn")
                compare_status = gr.Markdown()
                compare_answer = gr.Markdown(elem_id="compare-answer")
                with gr.Column(elem_id="compare-citations"):
                    compare_cited = gr.State([])
                    citation_panel(compare_cited)
            with gr.Tab("文档浏览", id="browser"):
                with gr.Row():
                    doc_pick.render()
                    clause_pick.render()
                    search.render()
                tree.render()
            # The four tracking views under one tab: eight tabs side by side overflow into a menu.
            with gr.Tab("跟踪", id="track"), gr.Tabs():
                add_view_tabs(store)
            with gr.Tab("设置", id="settings"):
                info = assistant.retriever.info
                gr.Markdown("#### 大模型接口（只读）\n" + llm_settings_markdown(getattr(chat.llm, "name", None)))
                gr.Markdown(f"#### 索引\n{len(corpus.clauses)} 条条款，{len(corpus.documents)} 个文档；嵌入模型 "
                            f"`{info['model']}`；建立于 {info['built_at']}。")

        @user_safe
        def respond(text: str, history: list[dict], regions: list[str], doc_ids: list[str],
                    session: Conversation | None) -> Iterator[tuple]:
            """Stream the answer into the chat; the citations and the mode follow with the final text.
            A follow-up is read against the session's conversation and answered as the question it resolves to."""
            text, notice = normalize_question(text, MAX_QUESTION)
            if not text:
                yield gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
                return
            session = session or chat.conversation()
            searches = scopes(regions, doc_ids, titles)
            # The question is shown as typed: escaped, so HTML or Markdown in it is text, never markup.
            history = [*history, {"role": "user", "content": markdown_literal(text + (f"\n（{notice}）" if notice else ""))},
                       {"role": "assistant", "content": "正在查找…"}]
            yield history, "", "正在查找…", gr.skip(), session
            answer = None
            for answer in stream_conversation(chat, session, text, searches):
                history[-1] = {"role": "assistant", "content": answer.answer.replace("<", "&lt;")}
                yield history, gr.skip(), status_markdown(answer, searches), gr.skip(), gr.skip()
            yield history, gr.skip(), gr.skip(), [asdict(c) for c in answer.citations], session

        chat_inputs = [question, chatbot, region_filter, doc_filter, conversation]
        chat_outputs = [chatbot, question, status, cited, conversation]
        asking = [trigger(respond, chat_inputs, chat_outputs, api_visibility="private") for trigger in (question.submit, ask.click)]
        # 新对话 stops an answer still streaming, whose next update would bring the old chat back.
        new_chat.click(lambda: ([], "", "**模式**：—", [], None), outputs=[chatbot, question, status, cited, conversation],
                       api_visibility="private", cancels=asking)
        for button, example in zip(example_buttons, examples):
            button.click(partial(str, example), outputs=question, api_visibility="private").then(
                respond, chat_inputs, chat_outputs, api_visibility="private")

        @user_safe
        def run_compare(a: str, b: str, subject: str) -> Iterator[tuple]:
            """The comparison table for the two regions picked, in the order picked."""
            subject, notice = normalize_question(subject, MAX_QUESTION)
            if not subject or a == b:
                yield "请选择两个不同的地区并填写主题。", "", []
                return
            answer = None
            for answer in chat.stream_compare([a, b], subject):
                yield ((f"（{notice}）\n\n" if notice else "") + status_markdown(answer, [Scope(a), Scope(b)]),
                       answer.answer.replace("<", "&lt;"), gr.skip())
            yield gr.skip(), gr.skip(), [asdict(c) for c in answer.citations]

        for trigger in (compare.click, topic.submit):
            trigger(run_compare, [region_a, region_b, topic], [compare_status, compare_answer, compare_cited],
                    api_visibility="private")

        def pick_document(doc_id: str, search: object = "") -> tuple:
            return doc_id, gr.Dropdown(choices=corpus.clause_choices(doc_id), value=None), search, corpus.tree_html(doc_id)

        def pick_clause(clause_id: str | None, doc_id: str) -> tuple:
            return open_clause(clause_id)[1:] if clause_id else pick_document(doc_id)

        def run_search(query: str, doc_id: str) -> tuple:
            if not query.strip():  # the box is left alone: under load Enter can arrive before the typed text
                return pick_document(doc_id, gr.skip())
            matches = corpus.search(query)
            choices = [(f"《{c['doc_title']}》{c['path']} {to_simplified(c['title'])}", c["id"]) for c in matches]
            return doc_id, gr.Dropdown(choices=choices, value=None), gr.skip(), corpus.results_html(query, matches)

        doc_pick.input(pick_document, doc_pick, browser_outputs, api_visibility="private")
        clause_pick.input(pick_clause, [clause_pick, doc_pick], browser_outputs, api_visibility="private").then(
            None, js=SCROLL_TO_CLAUSE)
        search.submit(run_search, [search, doc_pick], browser_outputs, api_visibility="private")

        @user_safe
        def ask_api(question: str) -> str:
            """Answer one question: Markdown with the cited clauses, for gradio_client scripts and the eval."""
            question, notice = normalize_question(question, MAX_QUESTION)
            return (f"（{notice}）\n\n" if notice else "") + api_markdown(chat.final(question))

        gr.api(ask_api, api_name="ask")

        @user_safe
        def chat_api(message: str, session: Conversation | None) -> tuple[str, Conversation]:
            """One message of a conversation (one gradio_client Client per conversation): a follow-up
            is answered as the standalone question it resolves to, shown as 按上文理解为."""
            message, notice = normalize_question(message, MAX_QUESTION)
            session = session or chat.conversation()
            if not message:
                return "（问题为空）", session
            return (f"（{notice}）\n\n" if notice else "") + api_markdown(chat.final_turn(session, message)), session

        api_message, api_reply, api_session = gr.Textbox(visible=False), gr.Markdown(visible=False), gr.State(None)
        gr.Button(visible=False).click(chat_api, [api_message, api_session], [api_reply, api_session], api_name="chat")
    return demo


def load_chat(llm: LLMBackend | None = None) -> Chat:
    """The assistant with models and index loaded, building the index first when there is none."""
    from rag.errors import IndexUnavailable
    from rag.index import ingest
    from rag.retrieve import Retriever

    try:
        retriever = Retriever()
    except IndexUnavailable as exc:
        print(f"{exc}\n正在建立索引（rag ingest）…", flush=True)
        report = ingest(progress=sys.stderr.isatty())
        for problem in report.problems:
            print(f"{'错误' if problem.fatal else '注意'}: {problem.source}: {problem.message}", file=sys.stderr)
        retriever = Retriever()
    assistant = Assistant(retriever)
    assistant.warm_up()
    with contextlib.suppress(ImportError):  # Gradio imports it around its first event
        import matplotlib  # noqa: F401
    return Chat(assistant, llm)


def serve(host: str = "127.0.0.1", port: int = 7860) -> int:
    """Load everything, open the port, print the ready line with the URL, and serve until stopped."""
    from rag.errors import IndexUnavailable
    from rag.lock import IngestBusy

    try:
        auth = parse_auth(os.environ.get("RAG_AUTH"))
        if problem := port_problem(host, port):  # before the slow loading, so the user is told at once
            raise ValueError(problem)
        os.environ.setdefault("RAG_ENCODER_THREADS", str(ENCODER_THREADS))
        chat = load_chat(load_backend())
    except (ValueError, IndexUnavailable, IngestBusy) as exc:
        print(f"错误: {exc}", file=sys.stderr)
        return 2
    demo = build(chat)
    demo.queue(default_concurrency_limit=CONCURRENCY, **queue_limits())
    try:
        _, url, _ = demo.launch(server_name=host, server_port=port, prevent_thread_lock=True, quiet=True,
                                show_error=False, footer_links=["api"], css=CSS, **launch_guards(auth))
    except OSError as exc:  # the port was taken while the models loaded
        print(f"错误: {launch_problem(host, port, exc)}", file=sys.stderr)
        return 2
    print(f"方案助手已就绪：{url.rstrip('/')}（启动用时 {time.perf_counter() - STARTED:.1f} 秒）", flush=True)
    demo.block_thread()
    return 0
