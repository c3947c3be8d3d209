"""What an official does with a plan besides asking it: assign and track.

Pure functions over the clause records (a `rag.store.Store`): the responsibility matrix and its
pivot, one unit's page, the deadline calendar and the indicator table. Nothing here knows the
corpus: plans, units, dates and indicator names are all read from the clauses themselves.
Twins (the same text in two documents, one `text_key`) are shown once, with both sources.
"""
from __future__ import annotations

import calendar
import re
from collections import Counter
from dataclasses import dataclass, field

from rag.clean import to_simplified
from rag.store import ANNEX_PATH, Store
from rag.units import normalize_unit

ROLES = (("lead_units", "牵头"), ("cooperating_units", "配合"), ("responsible_units", "负责"))
MATRIX_HEADER = ["方案", "标题路径", "条款", "牵头单位", "配合单位", "负责单位", "时限", "条款 id", "同文"]


def _flat(text: str) -> str:
    """Clause text without the line breaks of the source file (a sentence may wrap mid-word)."""
    return to_simplified(text).replace("\n", "").replace("\r", "")


def plan_title(store: Store, record: dict) -> str:
    """The plan a clause belongs to: its annex when the annex is a plan of its own, else its document."""
    if record["annex"] is not None:
        annex = record["path"].split(" ")[0]
        for doc_id, path, title, _ in store.plans:
            if doc_id == record["doc_id"] and path == annex and ANNEX_PATH.fullmatch(annex):
                return title
    return record["doc_title"]


def _distinct(store: Store, records: list[dict]) -> list[tuple[dict, list[dict]]]:
    """Each text once (the first place it appears) with its twins elsewhere in `store`."""
    seen: set[str] = set()
    out = []
    for record in records:
        if record["text_key"] in seen:
            continue
        seen.add(record["text_key"])
        twins = [store.clauses[i] for i in store.twins.get(record["text_key"], []) if store.clauses[i]["id"] != record["id"]]
        out.append((record, twins))
    return out


def _select(store: Store, doc_ids: list[str] | None = None, region: str | None = None) -> list[dict]:
    return [c for c in store.clauses if (not doc_ids or c["doc_id"] in doc_ids) and (not region or c["region"] == region)]


def names_units(record: dict) -> bool:
    return bool(record["lead_units"] or record["cooperating_units"] or record["responsible_units"])


def matrix_rows(store: Store, doc_ids: list[str] | None = None, region: str | None = None,
                unit: str | None = None) -> list[list[str]]:
    """One row per clause that names units (MATRIX_HEADER's columns); twins once, both sources noted."""
    wanted = normalize_unit(unit) if unit else None
    rows = []
    for record, twins in _distinct(store, [c for c in _select(store, doc_ids, region) if names_units(c)]):
        if wanted and wanted not in {normalize_unit(u) for key, _ in ROLES for u in record[key]}:
            continue
        rows.append([plan_title(store, record), " / ".join(record["heading_path"]), record["title"],
                     "、".join(record["lead_units"]), "、".join(record["cooperating_units"]),
                     "、".join(record["responsible_units"]), record["deadline"], record["id"],
                     "；".join(f"{t['doc_id']} {t['path']}（{t['source']}）" for t in twins)])
    return rows


def unit_display_names(store: Store) -> dict[str, str]:
    """Matching form of each unit → the way the plans most often write it."""
    seen: dict[str, Counter] = {}
    for c in store.clauses:
        for key, _ in ROLES:
            for u in c[key]:
                seen.setdefault(normalize_unit(u), Counter())[u] += 1
    return {k: v.most_common(1)[0][0] for k, v in seen.items() if k}


def pivot(store: Store, doc_ids: list[str] | None = None, region: str | None = None) -> tuple[list[str], list[list]]:
    """Units × plans: in each plan, how many items a unit leads / cooperates on / is responsible for."""
    names = unit_display_names(store)
    counts: dict[str, dict[str, Counter]] = {}
    plans: list[str] = []
    for record, _ in _distinct(store, [c for c in _select(store, doc_ids, region) if names_units(c)]):
        plan = plan_title(store, record)
        if plan not in plans:
            plans.append(plan)
        for key, role in ROLES:
            for u in {normalize_unit(u) for u in record[key]} - {""}:
                counts.setdefault(u, {}).setdefault(plan, Counter())[role] += 1
    header = ["单位", "牵头合计", "配合合计", "负责合计", *plans]
    rows = []
    for u, by_plan in counts.items():
        total = sum(by_plan.values(), Counter())
        cells = ["·".join(f"{role}{by_plan[p][role]}" for _, role in ROLES if by_plan.get(p, Counter())[role])
                 for p in plans]
        rows.append([names.get(u, u), total["牵头"], total["配合"], total["负责"], *cells])
    rows.sort(key=lambda r: (-r[1], -r[2], -r[3], r[0]))
    return header, rows


# ---- one unit's page ----

def unit_page(store: Store, name: str, region: str | None = None) -> dict[str, dict[str, list[dict]]]:
    """Plan → role → the clauses where the unit (any alias, either script) has that role."""
    wanted = normalize_unit(name)
    page: dict[str, dict[str, list[dict]]] = {}
    for record, twins in _distinct(store, _select(store, region=region)):
        for key, role in ROLES:
            if wanted in {normalize_unit(u) for u in record[key]}:
                page.setdefault(plan_title(store, record), {}).setdefault(role, []).append(
                    {**record, "twins": [f"{t['doc_id']} {t['path']}" for t in twins]})
    return page


def similar_units(store: Store, name: str) -> list[str]:
    """Units whose name contains the query (or the query theirs): the suggestions for a miss."""
    wanted = normalize_unit(name)
    names = unit_display_names(store)
    return sorted(shown for key, shown in names.items() if wanted and (wanted in key or key in wanted))[:20]


def unit_markdown(store: Store, name: str, region: str | None = None) -> str:
    page = unit_page(store, name, region)
    if not page:
        hint = similar_units(store, name)
        return f"方案中没有找到单位「{name}」。" + (f"相近的单位：{'、'.join(hint)}" if hint else "")
    total = sum(len(items) for roles in page.values() for items in roles.values())
    lines = [f"### {name}", f"共 {total} 项（{len(page)} 个方案）"]
    for plan, roles in page.items():
        lines.append(f"\n#### {plan}")
        for _, role in ROLES:
            for item in roles.get(role, []):
                due = f" ⏰ {item['deadline']}" if item["deadline"] else ""
                also = f"（同文：{'；'.join(item['twins'])}）" if item["twins"] else ""
                lines.append(f"- **{role}** `{item['doc_id']} {item['path']}` {item['title']}{due}{also}")
    return "\n".join(lines)


# ---- the deadline calendar ----

YEAR = re.compile(r"(20\d\d)年")
DATED = re.compile(
    r"(?P<pre>到|力争|确保|争取|在|于)?(?:(?<![\d\-—－至~])(?P<year>20\d\d)年(?!第|\d))?(?P<rel>今年|明年|年内|年底|年末)?"
    r"(?:(?P<month>1[0-2]|[1-9])月(?!份)(?:(?P<day>[1-3]?\d)日)?(?P<part>上旬|中旬|下旬|底|末)?)?(?P<post>底|末|前|内|以前)?")
UNDATED = re.compile(r"长期坚持|持续推进|常态化推进|长期")


@dataclass
class Due:
    """A dated target of a clause: the day it is due by (a year or month alone → its last day)."""

    date: str  # YYYY-MM-DD
    text: str  # as written (2023年底前, 6月底完成)
    record: dict
    twins: list[str] = field(default_factory=list)


def document_years(store: Store, dates: dict[str, str | None] | None = None) -> dict[str, int | None]:
    """Each document's year, for deadlines that give none: the manifest date, else the title's year,
    else the year its text names most often."""
    years: dict[str, int | None] = {}
    for doc_id, doc in store.documents.items():
        if dates and dates.get(doc_id):
            years[doc_id] = int(str(dates[doc_id])[:4])
            continue
        found = YEAR.findall(doc["title"]) or [y for c in store.clauses if c["doc_id"] == doc_id
                                               for y in YEAR.findall(c["text_simplified"])]
        years[doc_id] = int(Counter(found).most_common(1)[0][0]) if found else None
    return years


def _due_date(m: re.Match, year: int | None) -> str | None:
    """The last day a match allows, or None when it names no date or too little to date it."""
    y = int(m["year"]) if m["year"] else (year + 1 if m["rel"] == "明年" and year else year)
    if not y or not (m["year"] or m["rel"] or m["month"]):
        return None
    if m["day"] and not m["post"]:
        return None  # a day with no 前: an event of the report, not a target
    if m["year"] and year and y < year:
        return None  # 2022年启动的: the past, not a target
    if not m["month"]:
        return f"{y}-12-31"
    month = int(m["month"])
    last = calendar.monthrange(y, month)[1]
    day = int(m["day"]) if m["day"] else {"上旬": 10, "中旬": 20}.get(m["part"] or "", last)
    return f"{y}-{month:02d}-{min(day, last):02d}"


def dues(record: dict, year: int | None) -> list[tuple[str, str]]:
    """(due date, as written) of the parsed deadline and of each dated target in the text."""
    found = []
    for source in ([record["deadline"]] if record["deadline"] else []) + [_flat(record["text"])]:
        for m in DATED.finditer(source):
            if m.group(0) and (date := _due_date(m, year)):
                found.append((date, m.group(0)))
    out, seen = [], set()
    for date, text in found:
        if date not in seen:  # one clause, one entry per day
            seen.add(date)
            out.append((date, text))
    return out


def deadlines(store: Store, before: str | None = None, dates: dict[str, str | None] | None = None,
              region: str | None = None) -> tuple[list[Due], list[dict]]:
    """Dated targets sorted by date (up to `before`), and the clauses whose deadline names no date."""
    years = document_years(store, dates)
    dated, undated = [], []
    for record, twins in _distinct(store, _select(store, region=region)):
        found = dues(record, years.get(record["doc_id"]))
        names = [f"{t['doc_id']} {t['path']}" for t in twins]
        dated += [Due(d, text, record, names) for d, text in found if not before or d <= before]
        if not found and (record["deadline"] or (names_units(record) and UNDATED.search(record["responsibility"] or ""))):
            undated.append(record)
    dated.sort(key=lambda d: (d.date, d.record["doc_id"], d.record["path"]))
    return dated, undated


def _units_text(record: dict) -> str:
    return " | ".join(f"{role}：{'、'.join(record[key])}" for key, role in ROLES if record[key])


def deadline_rows(dated: list[Due]) -> list[list[str]]:
    return [[d.date, d.text, d.record["doc_title"], d.record["path"], d.record["title"], _units_text(d.record),
             d.record["id"], "；".join(d.twins)] for d in dated]


DEADLINE_HEADER = ["到期", "原文", "方案", "条款路径", "条款", "单位", "条款 id", "同文"]


# ---- indicators ----

MEASURE = r"%|％|‰|个百分点|万元|亿元|万人|人次|平方米|公里|千米|公顷|亩|吨|万|亿|个|座|家|所|处|条|项|人|户|件|台|辆|次|天|倍"
VERB = r"达到|达|不低于|不少于|不超过|不高于|低于|高于|超过|控制在|保持在|稳定在|提高到|提升到|提高|提升|增长|下降|降低|减少|压减|同比下降|同比增长"
TARGET = re.compile(rf"(?P<name>[\u4e00-\u9fff“”\"]{{2,30}}?)(?P<verb>{VERB})?(?P<value>\d+(?:\.\d+)?)"
                    rf"(?P<measure>{MEASURE})?(?P<qual>以上|以下|以内|左右|及以上)?")
FILLER = re.compile(r"^(?:并|且|和|与|及|其中|同时|确保|力争|争取|实现|推动|使|要|全面|全[省市县区州旗]|[省市县区]级?(?=[\u4e00-\u9fff]{4}))+")
NOT_A_NAME = re.compile(r"^(?:完成|新建|建成|创建|关闭|淘汰|培训|打造|开展|组织|累计|共|约|第|前|后)$")


@dataclass
class Indicator:
    name: str
    value: float
    measure: str
    target: str  # as written: 达到92%以上
    year: int | None
    record: dict


def _indicators_of(record: dict, year: int | None) -> list[Indicator]:
    found = []
    for sentence in re.split(r"[。；;！!？?\n]", _flat(record["text"])):
        said = YEAR.findall(sentence)
        for part in re.split(r"[，,、：:（）()]", sentence):
            for m in TARGET.finditer(part):
                measure = m["measure"] or ""
                if not (measure or (m["qual"] and m["name"].endswith("率"))):
                    continue  # a bare number (a year, a hotline) is not a target
                if m.start() and part[m.start() - 1].isdigit():
                    continue  # 2022年第4次: the name would start inside a date
                if m.end("value") < len(part) and part[m.end("value")] in "年月日号期届":
                    continue
                name = FILLER.sub("", m["name"].strip("“”\""))
                if len(name) < 2 or NOT_A_NAME.match(name):
                    continue
                target = (m["verb"] or "") + m["value"] + measure + (m["qual"] or "")
                found.append(Indicator(name, float(m["value"]), measure.replace("％", "%"), target,
                                       int(said[-1]) if said else year, record))
    return found


def indicators(store: Store, region: str | None = None, dates: dict[str, str | None] | None = None) -> list[Indicator]:
    """Every numeric target the clause sentences state (twins once)."""
    years = document_years(store, dates)
    return [i for record, _ in _distinct(store, _select(store, region=region))
            for i in _indicators_of(record, years.get(record["doc_id"]))]


def indicator_key(name: str) -> str:
    """Matching form of an indicator name: simplified, no quotes or spaces."""
    return re.sub(r"[“”\"\s]", "", to_simplified(name))


def compare_indicators(store: Store, first: str, second: str, dates: dict | None = None) -> dict:
    """Indicators of two regions aligned by name: rows present in both, and those of each side alone."""
    sides = []
    for region in (first, second):
        by_name: dict[str, list[Indicator]] = {}
        for i in indicators(store, region, dates):
            by_name.setdefault(indicator_key(i.name), []).append(i)
        sides.append(by_name)
    both = [k for k in sides[0] if k in sides[1]]
    return {"regions": [first, second], "both": {k: (sides[0][k], sides[1][k]) for k in both},
            "only": [{k: v for k, v in side.items() if k not in both} for side in sides]}


def cite(i: Indicator) -> str:
    return f"{i.target}［{i.record['doc_id']} {i.record['path']}］"


def indicator_markdown(table: dict, shared: bool = True, alone: bool = True) -> str:
    """The aligned indicators as a table (`shared`), then those only one side states (`alone`)."""
    first, second = table["regions"]
    lines = [f"| 指标 | {first} | {second} |", "|---|---|---|"] if shared else []
    for name, (a, b) in table["both"].items() if shared else ():
        lines.append(f"| {name} | {'；'.join(map(cite, a))} | {'；'.join(map(cite, b))} |")
    for region, only in zip(table["regions"], table["only"]) if alone else ():
        lines.append(f"\n**仅{region}有的指标**（{len(only)} 项）\n")
        lines += [f"- {name}：{'；'.join(map(cite, items))}" for name, items in only.items()]
    return "\n".join(lines)


# ---- files: csv, xlsx, md ----

def write_csv(path, header: list[str], rows: list[list]) -> None:
    import csv

    with open(path, "w", encoding="utf-8-sig", newline="") as f:  # the BOM: Excel reads it as UTF-8
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)


def write_xlsx(path, sheets: list[tuple[str, list[str], list[list]]]) -> None:
    """Sheets of (name, header, rows): header frozen, auto filter on, columns as wide as their text."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    book = Workbook()
    book.remove(book.active)
    for name, header, rows in sheets:
        sheet = book.create_sheet(name)
        sheet.append(header)
        for row in rows:
            sheet.append(row)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        sheet.freeze_panes = "A2"
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(header))}{len(rows) + 1}"
        for n, column in enumerate(zip(header, *rows), 1):
            # A CJK character is about two widths of a Latin one.
            wide = max(sum(2 if ord(ch) > 0x2E80 else 1 for ch in str(v)) for v in column)
            sheet.column_dimensions[get_column_letter(n)].width = min(max(wide + 2, 8), 60)
        for row in sheet.iter_rows(min_row=2):
            for cell in row:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
    book.save(path)


def md_table(header: list[str], rows: list[list]) -> str:
    def cell(v) -> str:
        return str(v).replace("|", "\\|").replace("\n", " ")

    return "\n".join(["| " + " | ".join(map(cell, header)) + " |", "|" + "---|" * len(header)]
                     + ["| " + " | ".join(map(cell, row)) + " |" for row in rows])


def write_matrix(store: Store, path, fmt: str, doc_ids: list[str] | None = None, region: str | None = None) -> list[str]:
    """The matrix and its pivot in `fmt`; returns the files written."""
    from pathlib import Path

    rows = matrix_rows(store, doc_ids, region)
    pivot_header, pivot_rows = pivot(store, doc_ids, region)
    path = Path(path)
    if fmt == "xlsx":
        write_xlsx(path, [("责任矩阵", MATRIX_HEADER, rows), ("单位×方案", pivot_header, pivot_rows)])
        return [str(path)]
    if fmt == "md":
        path.write_text(f"## 责任矩阵（{len(rows)} 项）\n\n{md_table(MATRIX_HEADER, rows)}\n\n"
                        f"## 单位 × 方案（牵头·配合·负责 项数）\n\n{md_table(pivot_header, pivot_rows)}\n", encoding="utf-8")
        return [str(path)]
    write_csv(path, MATRIX_HEADER, rows)
    second = path.with_name(path.name + ".pivot.csv") if path.suffix != ".csv" else path.with_suffix(".pivot.csv")
    write_csv(second, pivot_header, pivot_rows)
    return [str(path), str(second)]
