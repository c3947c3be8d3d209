"""The tracking views on the command line: `rag matrix`, `rag unit`, `rag deadlines`, `rag indicators`.

They read the parsed corpus directly (no model, no index), so they run anywhere the corpus is.
"""
from __future__ import annotations

import argparse
import sys

from rag import config
from rag.errors import UsageError
from rag.load import load_corpus


def _views_store(*regions: str | None):
    """The Store over the parsed corpus (no model, no index) and the manifest dates of its documents;
    a region the corpus lacks is refused with the regions it has."""
    from rag.index import clause_records
    from rag.store import Store

    documents, problems = load_corpus(config.corpus_dir())
    for problem in problems:
        print(f"{'错误' if problem.fatal else '注意'}: {problem.source}: {problem.message}", file=sys.stderr)
    known = sorted({d.region for d in documents})
    if unknown := [r for r in regions if r and r not in known]:
        raise UsageError(f"语料中没有地区 {'、'.join(unknown)}；现有地区：{'、'.join(known)}")
    return Store(clause_records(documents)[0]), {d.id: d.date for d in documents}


def cmd_matrix(args: argparse.Namespace) -> int:
    from rag import views

    store, _ = _views_store(args.region)
    if unknown := [d for d in args.doc or [] if d not in store.documents]:
        raise UsageError(f"清单中没有文档 {'、'.join(unknown)}")
    for written in views.write_matrix(store, args.output, args.format, args.doc, args.region):
        print(f"已写出 {written}")
    return 0


def cmd_unit(args: argparse.Namespace) -> int:
    from rag import views

    store, _ = _views_store(args.region)
    print(views.unit_markdown(store, args.name, args.region))
    return 0 if views.unit_page(store, args.name, args.region) else 1


def cmd_deadlines(args: argparse.Namespace) -> int:
    from rag import views

    store, dates = _views_store(args.region)
    dated, undated = views.deadlines(store, args.before, dates, args.region)
    print(views.md_table(views.DEADLINE_HEADER, views.deadline_rows(dated)))
    print(f"\n未写明日期的时限（{len(undated)} 项）")
    for record in undated:
        print(f"- {record['deadline'] or record['responsibility']}  {record['doc_id']} {record['path']} {record['title']}")
    return 0


def cmd_indicators(args: argparse.Namespace) -> int:
    from rag import views

    store, dates = _views_store(args.region, *(args.compare or []))
    if args.compare:
        print(views.indicator_markdown(views.compare_indicators(store, *args.compare, dates=dates)))
        return 0
    rows = [[i.name, i.target, i.year or "", i.record["region"], f"{i.record['doc_id']} {i.record['path']}"]
            for i in views.indicators(store, args.region, dates)]
    print(views.md_table(["指标", "目标", "年份", "地区", "出处"], rows))
    return 0


def add_view_commands(commands) -> None:
    """The views' subcommands on the `rag` parser."""
    matrix = commands.add_parser("matrix", help="责任矩阵：每条写明单位的条款一行，另附单位×方案汇总")
    matrix.add_argument("--doc", nargs="+", help="只包括这些文档 id")
    matrix.add_argument("--region", help="只包括该地区的方案")
    matrix.add_argument("--format", choices=["csv", "xlsx", "md"], default="xlsx")
    matrix.add_argument("-o", "--output", required=True, help="输出文件（csv 另写 *.pivot.csv）")
    matrix.set_defaults(func=cmd_matrix)
    unit = commands.add_parser("unit", help="一个单位的全部任务（牵头、配合、负责），按方案分组")
    unit.add_argument("name", help="单位名称（简称、别名、繁体均可）")
    unit.add_argument("--region", help="只看该地区")
    unit.set_defaults(func=cmd_unit)
    due = commands.add_parser("deadlines", help="时限日历：按到期日排列的条款及其单位")
    due.add_argument("--before", help="只列出此日期（YYYY-MM-DD）及以前到期的")
    due.add_argument("--region", help="只看该地区")
    due.set_defaults(func=cmd_deadlines)
    indicators = commands.add_parser("indicators", help="指标表：条款中的数量目标，可按指标名对比两地")
    indicators.add_argument("--compare", nargs=2, metavar="REGION", help="对比两个地区")
    indicators.add_argument("--region", help="只看该地区")
    indicators.set_defaults(func=cmd_indicators)
