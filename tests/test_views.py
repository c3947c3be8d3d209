"""The assign-and-track views (rag/views.py, `rag matrix|unit|deadlines|indicators`) on the seeds and
on the foreign fixture. Expected values are read from the clause records or the raw text, not typed in."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from rag import views
from rag.load import load_corpus
from rag.units import normalize_unit
from test_foreign import FIXTURE, MANIFEST, SOURCE

ROOT = Path(__file__).resolve().parent.parent


def run_cli(*args: str, cwd: Path | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.run([sys.executable, "-m", "rag.cli", *args], capture_output=True, text=True, env=env,
                          cwd=cwd or ROOT, timeout=120)


@pytest.fixture(scope="module")
def foreign_store(tmp_path_factory):
    from rag.index import clause_records
    from rag.store import Store

    corpus = tmp_path_factory.mktemp("foreign-views")
    shutil.copy(FIXTURE / SOURCE, corpus / SOURCE)
    (corpus / "manifest.toml").write_text(MANIFEST, encoding="utf-8")
    documents, problems = load_corpus(corpus)
    assert not problems
    return Store(clause_records(documents)[0]), {d.id: d.date for d in documents}


@pytest.fixture(scope="module")
def parsed_json():
    result = run_cli("parse", "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_the_matrix_has_a_row_for_every_clause_that_names_units(parsed_corpus, parsed_json):
    store = parsed_corpus[2]
    rows = views.matrix_rows(store)
    named = {c["id"] for c in parsed_json if c["lead_units"] or c["cooperating_units"] or c["responsible_units"]}
    shown = {r[7] for r in rows}
    twins = {t.split("（")[0] for r in rows for t in r[8].split("；") if t}
    missing = {i for i in named - shown if f"{store.by_id[i]['doc_id']} {store.by_id[i]['path']}" not in twins}
    assert missing == set()
    assert len(shown) == len(rows)
    by_id = {c["id"]: c for c in parsed_json}
    for row in rows:
        assert row[3] == "、".join(by_id[row[7]]["lead_units"])


def test_twins_appear_once_with_both_sources(parsed_corpus):
    store = parsed_corpus[2]
    twins = [k for k, ids in store.twins.items() if len({store.clauses[i]["doc_id"] for i in ids}) > 1
             and views.names_units(store.clauses[ids[0]])]
    assert twins
    rows = views.matrix_rows(store)
    for key in twins:
        ids = [store.clauses[i]["id"] for i in store.twins[key]]
        listed = [r for r in rows if r[7] in ids]
        assert len(listed) == 1 and listed[0][8]


def test_the_pivot_counts_what_the_matrix_lists(parsed_corpus):
    store = parsed_corpus[2]
    header, rows = views.pivot(store)
    assert header[:4] == ["单位", "牵头合计", "配合合计", "负责合计"]
    top = rows[0]
    key = normalize_unit(top[0])
    leads = [r for r in views.matrix_rows(store) if key in {normalize_unit(u) for u in r[3].split("、") if u}]
    assert top[1] == len(leads)


def test_the_foreign_matrix_keeps_the_deadlines(foreign_store):
    store, _ = foreign_store
    rows = views.matrix_rows(store)
    assert len([r for r in rows if r[6]]) == 90
    assert all(r[0] == store.doc_title(r[7].split("#")[0]) for r in rows)


def test_a_units_page_gathers_its_roles_in_either_script(parsed_corpus):
    store = parsed_corpus[2]
    unit = next(u for c in store.clauses for u in c["cooperating_units"])
    page = views.unit_page(store, unit)
    assert page
    traditional = next((c for c in store.clauses if c["text"] != c["text_simplified"] and c["lead_units"]), None)
    if traditional:
        name = traditional["lead_units"][0]
        simplified = normalize_unit(name)
        assert views.unit_page(store, simplified) == views.unit_page(store, name)
    text = views.unit_markdown(store, unit)
    assert unit in text and "####" in text


def test_a_unit_the_plans_do_not_name(parsed_corpus):
    assert views.unit_page(parsed_corpus[2], "不存在的单位甲") == {}
    assert "没有找到" in views.unit_markdown(parsed_corpus[2], "不存在的单位甲")


def test_the_foreign_units_page_has_its_deadlines(foreign_store):
    store, _ = foreign_store
    lead = store.clauses[next(i for i, c in enumerate(store.clauses) if c["lead_units"])]["lead_units"][0]
    page = views.unit_page(store, lead)
    items = [i for roles in page.values() for i in roles.get("牵头", [])]
    assert items and all(i["deadline"] for i in items)


def test_the_foreign_calendar_dates_month_deadlines_in_the_documents_year(foreign_store):
    store, dates = foreign_store
    dated, undated = views.deadlines(store, dates=dates)
    year = dates[next(iter(dates))][:4]
    month_ends = [d for d in dated if re.fullmatch(r"\d{1,2}月底.*", d.record["deadline"])]
    assert month_ends
    for d in month_ends:
        month = int(re.match(r"(\d+)月", d.record["deadline"])[1])
        assert d.date.startswith(f"{year}-{month:02d}-")
    assert [d.date for d in dated] == sorted(d.date for d in dated)
    assert undated and all(not views.dues(r, int(year)) for r in undated)
    assert {r["deadline"] for r in undated} & {"持续推进"}
    before = views.deadlines(store, before=f"{year}-06-30", dates=dates)[0]
    assert before and all(d.date <= f"{year}-06-30" for d in before) and len(before) < len(dated)


def test_a_year_or_month_alone_sorts_to_its_end():
    record = {"deadline": "", "text": "到2025年完成改造，6月底前上线。"}
    assert views.dues(record, 2024) == [("2025-12-31", "到2025年"), ("2024-06-30", "6月底前")]
    assert views.dues({"deadline": "持续推进", "text": "长期坚持"}, 2024) == []


def test_the_seed_calendar_finds_dated_targets_in_the_text(parsed_corpus):
    store = parsed_corpus[2]
    dated, _ = views.deadlines(store)
    assert dated
    for d in dated:
        assert d.text in views._flat(d.record["text"]) or d.text in d.record["deadline"]


def test_indicators_come_from_the_sentences(parsed_corpus):
    store = parsed_corpus[2]
    found = views.indicators(store)
    assert found
    for i in found:
        flat = views._flat(i.record["text"])
        assert i.name in flat.replace("“", "").replace("”", "") or i.name in flat
        assert i.target in flat


def test_two_regions_align_by_indicator_name(parsed_corpus):
    store = parsed_corpus[2]
    regions = sorted({c["region"] for c in store.clauses})
    pairs = [(a, b) for a in regions for b in regions if a < b]
    tables = [views.compare_indicators(store, a, b) for a, b in pairs]
    table = max(tables, key=lambda t: len(t["both"]))
    assert table["both"]
    for name, (a, b) in table["both"].items():
        assert {i.record["region"] for i in a} == {table["regions"][0]}
        assert {i.record["region"] for i in b} == {table["regions"][1]}
        assert all(views.indicator_key(i.name) == name for i in a + b)
    text = views.indicator_markdown(table)
    assert "仅" in text and "［" in text


def test_foreign_indicators(foreign_store):
    store, dates = foreign_store
    found = views.indicators(store, dates=dates)
    assert any(i.measure == "%" for i in found)
    assert all(i.year for i in found)


def test_the_xlsx_opens_with_header_frozen_and_cjk_intact(parsed_corpus, tmp_path):
    from openpyxl import load_workbook

    store = parsed_corpus[2]
    path = tmp_path / "m.xlsx"
    views.write_matrix(store, path, "xlsx")
    book = load_workbook(path)
    assert book.sheetnames == ["责任矩阵", "单位×方案"]
    sheet = book["责任矩阵"]
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref
    assert [c.value for c in sheet[1]] == views.MATRIX_HEADER
    rows = views.matrix_rows(store)
    assert sheet.max_row == len(rows) + 1
    assert [c.value or "" for c in sheet[2]] == rows[0]
    assert book["单位×方案"].freeze_panes == "A2"


@pytest.mark.slow  # a subprocess or a browser
@pytest.mark.parametrize("fmt", ["csv", "xlsx", "md"])
def test_rag_matrix_writes_its_files(tmp_path, fmt):
    out = tmp_path / f"matrix.{fmt}"
    result = run_cli("matrix", "--format", fmt, "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert out.stat().st_size > 0
    if fmt == "csv":
        pivot = tmp_path / "matrix.pivot.csv"
        assert pivot.read_text(encoding="utf-8-sig").startswith("单位,")
    if fmt == "md":
        assert out.read_text(encoding="utf-8").count("\n## ") == 1


@pytest.mark.slow  # a subprocess or a browser
def test_rag_matrix_filters_by_region(parsed_corpus, tmp_path):
    region = parsed_corpus[2].clauses[0]["region"]
    out = tmp_path / "m.csv"
    assert run_cli("matrix", "--region", region, "--format", "csv", "-o", str(out)).returncode == 0
    lines = out.read_text(encoding="utf-8-sig").splitlines()
    assert len(lines) - 1 == len(views.matrix_rows(parsed_corpus[2], region=region))
    assert run_cli("matrix", "--doc", "no-such-doc", "-o", str(out)).returncode == 2


@pytest.mark.slow  # a subprocess or a browser
def test_rag_unit_deadlines_indicators(parsed_corpus):
    store = parsed_corpus[2]
    unit = views.matrix_rows(store)[0][3].split("、")[0]
    result = run_cli("unit", unit)
    assert result.returncode == 0 and unit in result.stdout
    assert run_cli("unit", "不存在的单位甲").returncode == 1
    result = run_cli("deadlines", "--before", "2099-12-31")
    assert result.returncode == 0 and result.stdout.startswith("| 到期 |")
    regions = sorted({c["region"] for c in store.clauses})[:2]
    result = run_cli("indicators", "--compare", *regions)
    assert result.returncode == 0 and f"| 指标 | {regions[0]} | {regions[1]} |" in result.stdout


CHROMIUM = Path("/usr/bin/chromium")
BROWSER_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.mark.slow  # a subprocess or a browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium")
def test_the_four_tabs_in_a_browser(parsed_corpus, tmp_path):
    """The tabs as the app adds them (on the parsed corpus, no model): a filter, a download, a unit, the charts."""
    import gradio as gr
    from openpyxl import load_workbook
    from playwright.sync_api import expect, sync_playwright

    from rag.ui_views import add_view_tabs, best_pair, indicator_chart_data

    store = parsed_corpus[2]
    regions = sorted({c["region"] for c in store.clauses})
    with gr.Blocks() as demo:
        with gr.Tabs():
            add_view_tabs(store)
    demo.queue()
    _, url, _ = demo.launch(prevent_thread_lock=True, quiet=True)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=BROWSER_ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 860}, accept_downloads=True)
            page.goto(url)
            table = page.locator("#matrix-table")
            first = views.matrix_rows(store)[0]
            expect(table).to_contain_text(first[2], timeout=30_000)
            region = page.locator("#matrix-region input")
            region.fill(regions[-1])
            page.get_by_role("option", name=regions[-1], exact=True).click()
            other = views.matrix_rows(store, region=regions[-1])[0]
            expect(table).to_contain_text(other[2], timeout=30_000)
            with page.expect_download() as download:
                page.locator("#matrix-download").click()
            saved = tmp_path / "m.xlsx"
            download.value.save_as(saved)
            sheet = load_workbook(saved)["责任矩阵"]
            assert sheet.max_row == len(views.matrix_rows(store, region=regions[-1])) + 1

            page.get_by_role("tab", name="单位").click()
            expect(page.locator("#unit-page")).to_contain_text("共", timeout=10_000)
            page.get_by_role("tab", name="时限").click()
            expect(page.locator("#deadline-table")).to_contain_text("到期", timeout=10_000)
            page.get_by_role("tab", name="指标").click()
            first, second = best_pair(store, regions, {})
            expect(page.locator("#indicator-table")).to_contain_text(first, timeout=10_000)
            charts = indicator_chart_data(views.compare_indicators(store, first, second))
            assert charts
            expect(page.locator("#indicator-charts")).to_contain_text(charts[0][0], timeout=10_000)
            (ROOT / "test-artifacts").mkdir(exist_ok=True)
            page.screenshot(path=ROOT / "test-artifacts" / "views-indicators.png", full_page=True)
            browser.close()
    finally:
        demo.close()


@pytest.mark.slow  # a subprocess or a browser
def test_the_commands_on_the_foreign_corpus(tmp_path):
    shutil.copy(FIXTURE / SOURCE, tmp_path / SOURCE)
    (tmp_path / "manifest.toml").write_text(MANIFEST, encoding="utf-8")
    env = {"RAG_CORPUS": str(tmp_path)}
    out = tmp_path / "m.xlsx"
    result = run_cli("matrix", "-o", str(out), env=env)
    assert result.returncode == 0, result.stderr
    from openpyxl import load_workbook

    assert load_workbook(out)["责任矩阵"].max_row == 91
    region = re.search(r'region = "([^"]+)"', MANIFEST)[1]
    year = re.search(r'date = "(\d{4})', MANIFEST)[1]
    result = run_cli("deadlines", "--before", f"{year}-06-30", env=env)
    assert result.returncode == 0 and f"| {year}-05-31 |" in result.stdout and f"| {year}-07-31 |" not in result.stdout
    assert "持续推进" in result.stdout.split("未写明日期的时限")[1]
    assert run_cli("indicators", "--region", region, env=env).stdout.count("\n|") > 2
    refused = run_cli("unit", "某局", "--region", "没有这个地区", env=env)
    assert refused.returncode == 2 and region in refused.stderr
