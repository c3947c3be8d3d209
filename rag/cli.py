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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rag", description="方案助手 — 有出处的方案问答")
    commands = parser.add_subparsers(dest="command", required=True)
    parse = commands.add_parser("parse", help="把语料切分为条款并列出牵头/配合/负责单位")
    parse.add_argument("--doc", help="只处理这个文档 id")
    parse.add_argument("--json", action="store_true", help="输出全部条款的 JSON 数组")
    parse.set_defaults(func=cmd_parse)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
