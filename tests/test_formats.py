"""Plans in formats the seeds do not use: article style (第一章 / 第一条 / ①), a 责任分解表 with
序号 / 牵头单位 / 责任单位 / 完成时限 columns, and items closing with labelled units
(（牵头单位：…；配合单位：…）, （责任单位：…；完成时限：…）). The fixtures are in tests/fixtures/formats/.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from rag.load import load_corpus
from rag.parse import parse_document

FIXTURES = Path(__file__).parent / "fixtures" / "formats"


@pytest.fixture(scope="module")
def parsed():
    documents, problems = load_corpus(FIXTURES)
    assert not problems
    return {d.id: {c.path: c for c in parse_document(d)} for d in documents}


def units(c):
    return c.lead_units, c.cooperating_units, c.responsible_units, c.deadline


def test_article_style_paths(parsed):
    paths = list(parsed["fx-tiaoli"])
    assert paths == ["第一章", "第一条", "第二条", "第二章", "第三条", "第四条", "第四条(一)", "第四条(二)", "第五条",
                     "第三章", "第六条", "第六条①", "第六条②", "第七条"]
    article = parsed["fx-tiaoli"]["第三条"]
    assert article.heading_path == ["更新任务"] and article.title == "实施老旧小区改造，完善水电气等基础设施"


def test_article_style_units_and_deadlines(parsed):
    doc = parsed["fx-tiaoli"]
    assert units(doc["第三条"]) == (["市住建局"], ["市财政局", "市自然资源局"], [], "2024年底前完成")
    assert units(doc["第四条(一)"]) == (["市水务局"], ["市城管局"], [], "")
    assert units(doc["第四条(二)"]) == (["市住建局"], [], ["各区人民政府"], "6月底前完成")
    assert units(doc["第五条"]) == ([], [], ["市民政局", "市卫健委"], "长期坚持")
    assert units(doc["第六条①"]) == (["市财政局"], ["市发改委"], [], "")
    assert units(doc["第六条②"]) == (["市发改委"], [], [], "持续推进")
    assert units(doc["第一条"]) == ([], [], [], "")


def test_duty_table_rows(parsed):
    doc = parsed["fx-fenjie"]
    rows = [c for c in doc.values() if c.annex == 1]
    assert [r.path for r in rows] == ["附件1 推行企业开办全程网办", "附件1 建立政企常态化沟通机制", "附件1 推进工程建设项目审批提速"]
    assert units(rows[0]) == (["县行政审批服务局"], [], ["县市场监管局", "县税务局"], "2024年6月底前")
    assert units(rows[1]) == (["县发改局"], [], ["各乡镇人民政府", "县工商联"], "长期坚持")
    assert units(rows[2]) == (["县住建局"], [], ["县自然资源局", "县水利局"], "2024年底前完成")
    assert rows[0].heading_path == ["示范县优化营商环境重点任务责任分解表"]
    assert rows[0].responsibility == "牵头单位：县行政审批服务局；责任单位：县市场监管局、县税务局"
    assert "完成时限：2024年6月底前" in rows[0].text
    assert units(doc["二、"]) == ([], [], ["县政府办"], "")


def test_labelled_items_and_run_on_numbers(parsed):
    doc = parsed["fx-liebiao"]
    assert list(doc) == ["一、", "一、1", "一、2", "二、", "二、(一)", "二、(一)1", "二、(一)2", "二、(二)", "二、(二)3",
                         "二、(二)4"]
    assert units(doc["一、1"]) == ([], [], ["区工信局"], "2024年12月底")
    assert units(doc["一、2"]) == (["区农业农村局"], ["区商务局", "各镇人民政府"], [], "")
    assert units(doc["二、(一)1"]) == (["区农业农村局"], ["区气象局"], [], "9月底前完成")
    assert units(doc["二、(一)2"]) == (["区农业农村局"], ["区财政局"], [], "")
    assert units(doc["二、(二)3"]) == (["区商务局", "区供销社"], [], [], "")
    assert units(doc["二、(二)4"]) == (["区人社局"], [], [], "年底前完成")


def test_fixture_records_carry_the_deadline(parsed):
    record = parsed["fx-tiaoli"]["第三条"].to_dict()
    assert record["deadline"] == "2024年底前完成"
