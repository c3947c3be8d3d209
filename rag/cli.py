"""`rag` command line: a thin layer over the pipeline modules."""
from __future__ import annotations

import argparse
import json
import sys

from rag import config
from rag.load import ManifestError, load_corpus
from rag.parse import Clause, parse_document


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


def cmd_ingest(args: argparse.Namespace) -> int:
    from rag.index import ingest

    try:
        report = ingest(force=args.force, progress=sys.stderr.isatty())
    except ManifestError as exc:
        print(f"错误: {exc}；原索引保持不变。", file=sys.stderr)
        return 2
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


def cmd_ask(args: argparse.Namespace) -> int:
    from rag.index import IndexUnavailable
    from rag.retrieve import Retriever

    question = " ".join(args.question).strip()
    if not question:
        print("错误: 问题为空。请输入要查询的问题。", file=sys.stderr)
        return 2
    try:
        retriever = Retriever()
    except IndexUnavailable as exc:
        print(f"错误: {exc}", file=sys.stderr)
        return 2
    hits = retriever.search(question, k=args.k, region=args.region, doc_id=args.doc)
    if args.json:
        print(json.dumps({"question": question, "retrieved": [h.to_dict() for h in hits]}, ensure_ascii=False, indent=1))
    else:
        _print_hits(hits)
    return 0


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
    ask = commands.add_parser("ask", help="提问")
    ask.add_argument("question", nargs="+", help="问题")
    ask.add_argument("--retrieve-only", action="store_true", help="只列出检索到的条款")
    ask.add_argument("--json", action="store_true", help="输出 JSON")
    ask.add_argument("--region", help="只在该地区的方案中查找（平江县/沅江市/永州市）")
    ask.add_argument("--doc", help="只在该文档中查找（文档 id）")
    ask.add_argument("-k", type=int, default=5, help="返回条款数")
    ask.set_defaults(func=cmd_ask)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
