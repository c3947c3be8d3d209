"""The app's assign-and-track tabs: 责任矩阵, 单位, 时限, 指标 (the data comes from `rag.views`).

`add_view_tabs(store)` is called inside the app's `gr.Tabs` block; each tab only turns the rows
of `rag.views` into Gradio components, so the CLI and the app show the same things.
"""
from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from pathlib import Path

import gradio as gr

from rag import config, views
from rag.store import Store

ALL = "（全部）"


def manifest_dates() -> dict[str, str | None]:
    """The manifest date of each document (relative deadlines are dated in their document's year)."""
    from rag.load import ManifestError, read_manifest

    with contextlib.suppress(ManifestError, OSError):
        return {e.get("id"): str(e["date"]) if e.get("date") else None for e in read_manifest(config.corpus_dir())}
    return {}


def _region(value: str | None) -> str | None:
    return None if not value or value == ALL else value


def matrix_table(store: Store, region: str | None, doc_ids: list[str] | None, unit: str | None) -> list[list[str]]:
    return views.matrix_rows(store, doc_ids or None, _region(region), (unit or "").strip() or None)


def matrix_file(store: Store, region: str | None, doc_ids: list[str] | None) -> str:
    """The matrix and pivot of the current filters as an xlsx in a temporary folder."""
    folder = Path(tempfile.gettempdir()) / "rag-views"
    folder.mkdir(exist_ok=True)
    # One file per filter (not per click), written aside and moved in whole: users share it safely.
    key = hashlib.sha1(repr((_region(region), sorted(doc_ids or []), len(store.clauses))).encode()).hexdigest()[:10]
    path = folder / f"责任矩阵-{key}.xlsx"
    with tempfile.NamedTemporaryFile(dir=folder, suffix=".xlsx", delete=False) as part:
        views.write_matrix(store, part.name, "xlsx", doc_ids or None, _region(region))
    os.replace(part.name, path)
    return str(path)


def deadline_view(store: Store, dates: dict, before: str | None, region: str | None) -> tuple[list[list[str]], str]:
    before = (before or "").strip() or None
    if before and not views.re.fullmatch(r"\d{4}-\d{2}-\d{2}", before):
        return [], "日期格式应为 YYYY-MM-DD。"
    dated, undated = views.deadlines(store, before, dates, _region(region))
    lines = [f"共 {len(dated)} 个有日期的时限。", f"\n#### 未写明日期的时限（{len(undated)} 项）"]
    lines += [f"- {r['deadline'] or r['responsibility']} · `{r['doc_id']} {r['path']}` {r['title']}" for r in undated]
    return views.deadline_rows(dated), "\n".join(lines)


def indicator_chart_data(table: dict) -> list[tuple[str, list[dict]]]:
    """For each indicator both regions state in one measure: (title, rows of 地区/值/出处) for a bar chart."""
    charts = []
    for name, sides in table["both"].items():
        measures = {i.measure for side in sides for i in side}
        if len(measures) != 1:
            continue
        rows = [{"地区": region, "值": i.value, "出处": f"{i.record['doc_id']} {i.record['path']}"}
                for region, side in zip(table["regions"], sides) for i in side[:1]]
        charts.append((f"{name}（{measures.pop() or '数值'}）", rows))
    return charts


def best_pair(store: Store, regions: list[str], dates: dict) -> tuple[str | None, str | None]:
    """The two regions that share the most indicators (the 指标 tab opens on them)."""
    pairs = [(a, b) for n, a in enumerate(regions) for b in regions[n + 1:]]
    if not pairs:
        return (regions[0] if regions else None), None
    return max(pairs, key=lambda p: len(views.compare_indicators(store, *p, dates)["both"]))


def add_view_tabs(store: Store, dates: dict | None = None) -> None:
    """The four tabs, added to the enclosing `gr.Tabs`."""
    import pandas as pd

    dates = manifest_dates() if dates is None else dates
    regions = sorted({c["region"] for c in store.clauses})
    plans = [(f"{d['title']}（{doc_id}）", doc_id) for doc_id, d in store.documents.items()]
    units = sorted(views.unit_display_names(store).values())

    with gr.Tab("责任矩阵", id="matrix"):
        with gr.Row():
            m_region = gr.Dropdown([ALL, *regions], value=ALL, label="地区", elem_id="matrix-region")
            m_docs = gr.Dropdown(plans, multiselect=True, label="方案", elem_id="matrix-docs")
            m_unit = gr.Dropdown(units, value=None, allow_custom_value=True, label="单位", elem_id="matrix-unit")
        m_download = gr.DownloadButton("下载 Excel（责任矩阵 + 单位×方案）", value=matrix_file(store, ALL, []),
                                       elem_id="matrix-download")
        m_table = gr.Dataframe(matrix_table(store, ALL, [], None), headers=views.MATRIX_HEADER, interactive=False,
                               wrap=True, elem_id="matrix-table", max_height=600)

        def refresh(region: str, doc_ids: list[str], unit: str | None) -> tuple:
            return matrix_table(store, region, doc_ids, unit), matrix_file(store, region, doc_ids)

        for control in (m_region, m_docs, m_unit):
            control.change(refresh, [m_region, m_docs, m_unit], [m_table, m_download], api_visibility="private")

    with gr.Tab("单位", id="unit"):
        with gr.Row():
            u_pick = gr.Dropdown(units, value=units[0] if units else None, allow_custom_value=True, label="单位",
                                 elem_id="unit-pick", scale=3)
            u_region = gr.Dropdown([ALL, *regions], value=ALL, label="地区", elem_id="unit-region")
        u_page = gr.Markdown(views.unit_markdown(store, units[0]) if units else "方案中没有写明单位。",
                             elem_id="unit-page")

        def show_unit(name: str | None, region: str) -> str:
            return views.unit_markdown(store, name, _region(region)) if name else "请选择单位。"

        for control in (u_pick, u_region):
            control.change(show_unit, [u_pick, u_region], u_page, api_visibility="private")

    with gr.Tab("时限", id="deadlines"):
        with gr.Row():
            d_before = gr.Textbox(label="截止日期（YYYY-MM-DD，可空）", elem_id="deadline-before")
            d_region = gr.Dropdown([ALL, *regions], value=ALL, label="地区", elem_id="deadline-region")
        rows, note = deadline_view(store, dates, None, ALL)
        d_table = gr.Dataframe(rows, headers=views.DEADLINE_HEADER, interactive=False, wrap=True,
                               elem_id="deadline-table", max_height=600)
        d_note = gr.Markdown(note, elem_id="deadline-undated")

        def show_deadlines(before: str, region: str) -> tuple:
            return deadline_view(store, dates, before, region)

        d_before.submit(show_deadlines, [d_before, d_region], [d_table, d_note], api_visibility="private")
        d_region.change(show_deadlines, [d_before, d_region], [d_table, d_note], api_visibility="private")

    with gr.Tab("指标", id="indicators"):
        first, second = best_pair(store, regions, dates)
        with gr.Row():
            i_a = gr.Dropdown(regions, value=first, label="地区甲", elem_id="indicator-a")
            i_b = gr.Dropdown(regions, value=second, label="地区乙", elem_id="indicator-b")

        def compare(a: str | None, b: str | None) -> tuple:
            if not a or not b:
                return "请选择两个地区。", "", None
            table = views.compare_indicators(store, a, b, dates)
            return (views.indicator_markdown(table, alone=False), views.indicator_markdown(table, shared=False),
                    indicator_chart_data(table))

        first_table, first_alone, first_charts = compare(i_a.value, i_b.value)
        i_state = gr.State(first_charts)
        i_table = gr.Markdown(first_table, elem_id="indicator-table")

        with gr.Column(elem_id="indicator-charts"):
            @gr.render(inputs=i_state)
            def charts(data: list | None) -> None:
                for title, rows in (data or [])[:12]:
                    top = max(r["值"] for r in rows)
                    gr.BarPlot(pd.DataFrame(rows), x="地区", y="值", title=title, tooltip=["出处"], height=220,
                               y_lim=[0, top * 1.1 or 1])

        with gr.Accordion("只有一方写明的指标", open=False):
            i_alone = gr.Markdown(first_alone, elem_id="indicator-alone")
        for control in (i_a, i_b):
            control.change(compare, [i_a, i_b], [i_table, i_alone, i_state], api_visibility="private")
