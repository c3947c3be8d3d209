"""`rag` command line: a thin layer over the pipeline modules."""
from __future__ import annotations

import argparse
import json
import signal
import sys

from rag import config
from rag.cli_views import add_view_commands
from rag.errors import UsageError
from rag.load import ManifestError, load_corpus
from rag.lock import IngestBusy, is_write_failure, write_failure
from rag.parse import Clause, parse_document
from rag.textin import MAX_QUESTION, normalize_question


def _units_line(clause: Clause) -> str:
    parts = []
    if clause.lead_units:
        parts.append("牵头: " + "、".join(clause.lead_units))
    if clause.cooperating_units:
        parts.append("配合: " + "、".join(clause.cooperating_units))
    if clause.responsible_units:
        parts.append("负责: " + "、".join(clause.responsible_units))
    return f"  [{' | '.join(parts)}]" if parts else ""


def cmd_parse(args: argparse.Namespace) -> int:
    try:
        documents, problems = load_corpus(config.corpus_dir(), args.doc)
    except ManifestError as exc:
        print(f"错误: {exc}", file=sys.stderr)
        return 2
    for problem in problems:
        label = "错误" if problem.fatal else "注意"
        print(f"{label}: {problem.source}: {problem.message}", file=sys.stderr)
    if args.doc and not documents and not problems:
        print(f"错误: 清单中没有文档 {args.doc} (no such document)", file=sys.stderr)
        return 2
    clauses = {d.id: parse_document(d) for d in documents}
    if args.json:
        json.dump([c.to_dict() for d in documents for c in clauses[d.id]], sys.stdout, ensure_ascii=False, indent=1)
        print()
    else:
        for document in documents:
            print(f"{document.id}  {document.title}  ({document.source}, {len(clauses[document.id])} 条)")
            for clause in clauses[document.id]:
                depth = len(clause.heading_path) - (1 if clause.annex else 0) + (2 if clause.annex else 1)
                print(f"{'  ' * depth}{clause.path}  {clause.title}{_units_line(clause)}")
        total = sum(len(c) for c in clauses.values())
        print(f"共 {len(documents)} 个文档，{total} 条条款。")
    return 1 if any(p.fatal for p in problems) else 0


def cmd_models(args: argparse.Namespace) -> int:
    from rag.models import models_main

    return models_main(force=args.force)


def cmd_add(args: argparse.Namespace) -> int:
    from pathlib import Path

    from rag.add import AddError, add_document

    try:
        entry = add_document(Path(args.file), config.corpus_dir(), title=args.title, region=args.region,
                             kind=args.kind, date=args.date)
    except AddError as exc:
        print(f"错误: {exc}\n未加入：清单和语料目录保持不变，原索引继续提供服务。", file=sys.stderr)
        return 2
    print(f"已加入清单：id = {entry.id}，《{entry.title}》，地区 {entry.region}，类型 {entry.kind}"
          + (f"，文号 {entry.doc_number}" if entry.doc_number else "") + (f"，日期 {entry.date}" if entry.date else ""))
    args.force = False
    return cmd_ingest(args)


def cmd_ingest(args: argparse.Namespace) -> int:
    from rag.errors import IndexUnavailable
    from rag.index import ingest

    try:
        report = ingest(force=args.force, progress=sys.stderr.isatty())
    except (ManifestError, IngestBusy, IndexUnavailable) as exc:  # IndexUnavailable: the Chroma server is down
        print(f"错误: {exc}；原索引保持不变。", file=sys.stderr)
        return 2
    except Exception as exc:  # noqa: BLE001 - only a failed write is turned into a message
        if not is_write_failure(exc):
            raise
        print(f"错误: {write_failure(exc)}", file=sys.stderr)
        return 1
    for problem in report.problems:
        print(f"{'错误' if problem.fatal else '注意'}: {problem.source}: {problem.message}", file=sys.stderr)
    if report.status == "failed":
        print("索引未更新：请先修正上述文件或清单条目；原索引继续提供服务。", file=sys.stderr)
        return 1
    if report.status == "unchanged":
        print(f"语料未变化，索引无需重建（{report.clauses} 条条款，{report.seconds:.1f} 秒）。")
    else:
        print(f"索引已建立：{report.clauses} 条条款，新嵌入 {report.embedded} 条，用时 {report.seconds:.1f} 秒。")
    return 0


def _print_hits(hits: list) -> None:
    for n, hit in enumerate(hits, 1):
        c = hit.clause
        print(f"[{n}] {c['doc_title']} {c['path']} {c['title']}  (score {hit.score:.4f})")
        print(f"    {c['source']} · {c['doc_id']} · {c['region']}{_units_line_dict(c)}")
        for twin in hit.also:
            print(f"    同文: {twin['source']} {twin['path']}")
        print(f"    {c['text'][:300]}")


def _units_line_dict(record: dict) -> str:
    return _units_line(Clause(**{k: record[k] for k in Clause.__dataclass_fields__}))


def _retriever():
    from rag.errors import IndexUnavailable
    from rag.retrieve import Retriever

    try:
        return Retriever()
    except IndexUnavailable as exc:
        raise UsageError(str(exc)) from None


def _llm_backend(choice: str | None):
    from rag.llm_backends import load_backend

    try:
        return load_backend(choice)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def cmd_ask(args: argparse.Namespace) -> int:
    from rag.answer import Assistant
    from rag.chat import Chat

    question, notice = normalize_question(" ".join(args.question), MAX_QUESTION)
    if notice:
        print(f"注意: {notice}", file=sys.stderr)
    if not question:
        print("错误: 问题为空。请输入要查询的问题。", file=sys.stderr)
        return 2
    retriever = _retriever()
    if args.retrieve_only:
        hits = retriever.search(question, k=args.k, region=args.region, doc_id=args.doc)
        if args.json:
            print(json.dumps({"question": question, "retrieved": [h.to_dict() for h in hits]}, ensure_ascii=False, indent=1))
        else:
            _print_hits(hits)
        return 0
    backend = _llm_backend(args.llm)
    printed = ""
    for answer in Chat(Assistant(retriever), backend).stream(question, region=args.region, doc_id=args.doc, k=args.k):
        if not args.json and answer.mode == "llm" and answer.answer.startswith(printed):
            print(answer.answer[len(printed):], end="", flush=True)
            printed = answer.answer
    if args.json:
        print(json.dumps(answer.to_dict(), ensure_ascii=False, indent=1))
        return 0
    if printed != answer.answer:
        print(("\n" + "—" * 20 + "\n" if printed else "") + answer.answer)
    else:
        print()
    if answer.notice:
        print(f"\n（{answer.notice}）", file=sys.stderr)
    return 0


def _citations_text(answer) -> str:
    """Each citation of an answer on its own lines: the clause, its units and the quoted span."""
    from rag.clean import to_simplified

    lines = []
    for c in answer.citations:
        units = c.units_sentence()
        lines.append(f"[{c.n}] 《{c.title}》{c.path}「{to_simplified(c.clause_title)}」（{c.region}）" + (f" {units}" if units else ""))
        lines.append("    > " + c.quote.replace("\n", " ")[:300])
    return "\n".join(lines)


def cmd_chat(args: argparse.Namespace) -> int:
    """A conversation in the terminal: one message a line from stdin, follow-ups read against the
    turns before; /reset starts a new conversation, /quit (or end of input) ends it."""
    from rag.answer import Assistant
    from rag.chat import Chat

    chat = Chat(Assistant(_retriever()), _llm_backend(args.llm))
    conversation = chat.conversation()
    interactive = sys.stdin.isatty()
    print("方案助手对话：输入问题后回车；/reset 开始新对话，/quit 退出。", flush=True)
    while True:
        if interactive:
            print("> ", end="", flush=True)
        line = sys.stdin.readline()
        if not line:
            break
        message, notice = normalize_question(line.strip(), MAX_QUESTION)
        if not message:
            continue
        if message in ("/quit", "/exit", "/q"):
            break
        if message in ("/reset", "/new"):
            conversation.reset()
            print("（已开始新对话）", flush=True)
            continue
        if notice:
            print(f"注意: {notice}", file=sys.stderr)
        answer = chat.final_turn(conversation, message)
        if args.json:
            print(json.dumps(answer.to_dict(), ensure_ascii=False), flush=True)
            continue
        print(f"\n问：{message}\n{answer.answer}")
        cited = _citations_text(answer)
        print(("\n引文：\n" + cited if cited else "") + "\n" + "—" * 20, flush=True)
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from pathlib import Path

    from rag import evaluate
    from rag.answer import Assistant
    from rag.chat import Chat

    try:
        cases = evaluate.load_cases(Path(args.cases))
    except (OSError, evaluate.CaseFileError) as exc:
        raise UsageError(str(exc)) from None
    retriever = _retriever()
    if args.sweep or args.sweep_topic:
        return _sweep(args, cases, retriever)
    rows = _run_cases(cases, Chat(Assistant(retriever), _llm_backend(args.llm)))
    metrics = evaluate.by_category(rows)
    baseline = None
    if args.baseline == "naive":
        from rag.baseline import NaiveBaseline

        naive = NaiveBaseline()
        baseline = evaluate.by_category(evaluate.run_baseline(cases, lambda q: naive.search(q, k=5)))
    _print_metrics(metrics, baseline)
    if args.report:
        Path(args.report).parent.mkdir(parents=True, exist_ok=True)
        Path(args.report).write_text(json.dumps({"metrics": metrics, "baseline": baseline, "cases": rows},
                                                ensure_ascii=False, indent=1), encoding="utf-8")
    if args.md:
        md = Path(args.md)
        md.parent.mkdir(parents=True, exist_ok=True)
        chart = md.with_suffix(".png")
        evaluate.bar_chart(metrics, baseline, chart)
        md.write_text(evaluate.markdown(metrics, baseline, chart.name), encoding="utf-8")
    thresholds = evaluate.load_thresholds(Path(args.thresholds)) if args.thresholds else {}
    failures = evaluate.gate(metrics, thresholds)
    if failures:
        print("\n未通过评测门槛 (eval gate failed):", file=sys.stderr)
        for line in failures:
            print(f"  {line}", file=sys.stderr)
        print("未通过的用例 (failing cases):", file=sys.stderr)
        for line in evaluate.failing_cases(rows, thresholds):
            print(f"  {line}", file=sys.stderr)
        return 1
    return 0


def _run_cases(cases: list[dict], chat) -> list[dict]:
    """Every case answered as the app answers it; a conversation case through one conversation."""
    from rag import evaluate

    return evaluate.run_cases(cases, lambda q: chat.final(q).to_dict(), chat.assistant.cited_text,
                              converse=lambda messages: evaluate.last_turn(chat, messages))


def _sweep(args: argparse.Namespace, cases: list[dict], retriever) -> int:
    """The risk-coverage table: refusal accuracy and false refusals at each relevance floor."""
    from pathlib import Path

    from rag import evaluate
    from rag.answer import Assistant

    from rag.chat import Chat

    which = "topic_floor" if args.sweep_topic else "relevance_floor"
    floors = [float(x) for x in (args.sweep_topic or args.sweep).split(",")]
    table = []
    for floor in floors:
        rows = _run_cases(cases, Chat(Assistant(retriever, **{which: floor}), None))
        table.append({"floor": floor, **evaluate.aggregate(rows)})
    text = evaluate.risk_coverage_markdown(table, Path(args.cases).name, which)
    print(text)
    if args.md:
        Path(args.md).parent.mkdir(parents=True, exist_ok=True)
        with open(args.md, "a", encoding="utf-8") as out:
            out.write("\n" + text)
    return 0


def _print_metrics(metrics: dict, baseline: dict | None) -> None:
    from rag import evaluate
    from rag.evaluate import ALL_METRICS

    shown = [m for m in ALL_METRICS if any(v.get(m) is not None for v in metrics.values())]
    print(f"{'category':<16}" + "".join(f"{m:>18}" for m in ["cases", *shown, "latency_p50_ms"]))
    for scope, values in metrics.items():
        cells = [values.get(m) for m in ["cases", *shown, "latency_p50_ms"]]
        print(f"{scope:<16}" + "".join(f"{'—' if v is None else v:>18}" for v in cells))
        if baseline:
            naive = [baseline.get(scope, {}).get(m) if m in ("hit@1", "hit@5", "mrr", "evidence@5", "clause@5") else None
                     for m in ["cases", *shown, "latency_p50_ms"]]
            print(f"{'  naive':<16}" + "".join(f"{'' if v is None else v:>18}" for v in naive))
    print("\n路由 (routes)")
    for scope, values in metrics.items():
        print(f"{scope:<16}{evaluate.route_counts(values)}")


def cmd_serve(args: argparse.Namespace) -> int:
    from rag.ui import serve

    return serve(host=args.host, port=args.port)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rag", description="方案助手 — 有出处的方案问答")
    commands = parser.add_subparsers(dest="command", required=True)
    parse = commands.add_parser("parse", help="把语料切分为条款并列出牵头/配合/负责单位")
    parse.add_argument("--doc", help="只处理这个文档 id")
    parse.add_argument("--json", action="store_true", help="输出全部条款的 JSON 数组")
    parse.set_defaults(func=cmd_parse)
    models = commands.add_parser("models", help="从已安装的软件包构建离线嵌入模型")
    models.add_argument("--force", action="store_true", help="即使已是最新也重新构建")
    models.set_defaults(func=cmd_models)
    ingest = commands.add_parser("ingest", help="建立或更新检索索引（Chroma + BM25）")
    ingest.add_argument("--force", action="store_true", help="即使语料未变化也重建")
    ingest.set_defaults(func=cmd_ingest)
    add = commands.add_parser("add", help="把一份新文档加入语料（推断标题、地区、文号、日期），然后更新索引")
    add.add_argument("file", help="文档文件（UTF-8 或 GB18030 文本）")
    add.add_argument("--title", help="文档标题（默认取首行，通知取《》内的标题）")
    add.add_argument("--region", help="地区（默认取标题中的地名）")
    add.add_argument("--kind", help="类型，如 实施方案（默认取标题结尾）")
    add.add_argument("--date", help="印发日期 YYYY-MM-DD（默认取文中日期）")
    add.set_defaults(func=cmd_add)
    ask = commands.add_parser("ask", help="提问")
    ask.add_argument("question", nargs="+", help="问题")
    ask.add_argument("--retrieve-only", action="store_true", help="只列出检索到的条款")
    ask.add_argument("--json", action="store_true", help="输出 JSON")
    ask.add_argument("--region", help="只在该地区的方案中查找（manifest 中文档的 region）")
    ask.add_argument("--doc", help="只在该文档中查找（文档 id）")
    ask.add_argument("-k", type=int, default=5, help="返回条款数")
    ask.add_argument("--llm", choices=["none", "openai", "local"], help="用大模型在同一批条款上作答（默认取 RAG_LLM）")
    ask.set_defaults(func=cmd_ask)
    chat = commands.add_parser("chat", help="在终端里连续对话（追问会结合上文理解）；/reset 新对话，/quit 退出")
    chat.add_argument("--json", action="store_true", help="每条回答输出一行 JSON")
    chat.add_argument("--llm", choices=["none", "openai", "local"], help="用大模型作答（默认取 RAG_LLM）")
    chat.set_defaults(func=cmd_chat)
    run_eval = commands.add_parser("eval", help="运行回归评测并按门槛判定")
    run_eval.add_argument("--cases", default=str(config.PROJECT_ROOT / "eval" / "cases.jsonl"))
    run_eval.add_argument("--thresholds", default=str(config.PROJECT_ROOT / "eval" / "thresholds.toml"),
                          help="门槛文件；空字符串表示不设门槛")
    run_eval.add_argument("--report", help="写出逐条结果的 JSON 报告")
    run_eval.add_argument("--md", help="写出 Markdown 报告（附柱状图 PNG）")
    run_eval.add_argument("--baseline", choices=["naive"], help="同时评测朴素 llama-index 基线")
    run_eval.add_argument("--sweep", help="在这些相关度下限上各跑一遍（如 0.3,0.4,0.5,0.6；数字句的校准概率下限），输出风险-覆盖表 (risk-coverage table)")
    run_eval.add_argument("--sweep-topic", help="同上，扫的是条款主题下限 (the topic floor: the best clause of any question)")
    run_eval.add_argument("--llm", choices=["none", "openai", "local"], help="用大模型作答后再评测（默认取 RAG_LLM）")
    run_eval.set_defaults(func=cmd_eval)
    add_view_commands(commands)
    serve = commands.add_parser("serve", help="启动网页版助手（Gradio）")
    serve.add_argument("--host", default="127.0.0.1", help="监听地址")
    serve.add_argument("--port", type=int, default=7860, help="端口")
    serve.set_defaults(func=cmd_serve)
    return parser


# Commands whose output is piped (`rag ask … | head`) end quietly on a closed pipe. Never the
# server: with SIGPIPE at its default, one browser closing a connection mid-download killed it.
PIPED_COMMANDS = ("parse", "ask", "chat", "eval", "unit", "deadlines", "indicators", "ingest", "add", "models")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command in PIPED_COMMANDS:
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    try:
        return args.func(args)
    except UsageError as exc:
        print(f"错误: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
