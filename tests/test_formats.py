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
                         "二、(二)4", "三、", "三、1", "三、2"]
    assert units(doc["一、1"]) == ([], [], ["区工信局"], "2024年12月底")
    assert units(doc["一、2"]) == (["区农业农村局"], ["区商务局", "各镇人民政府"], [], "")
    assert units(doc["二、(一)1"]) == (["区农业农村局"], ["区气象局"], [], "9月底前完成")
    assert units(doc["二、(一)2"]) == (["区农业农村局"], ["区财政局"], [], "")
    assert units(doc["二、(二)3"]) == (["区商务局", "区供销社"], [], [], "")
    assert units(doc["二、(二)4"]) == (["区人社局"], [], [], "年底前完成")


def test_labels_closing_an_item_without_brackets(parsed):
    doc = parsed["fx-liebiao"]
    meeting = doc["三、1"]
    assert units(meeting) == (["区委网信办"], [], ["区发改局", "区财政局"], "2024年6月底")
    assert meeting.title == "建立数字乡村建设联席会议制度"
    assert meeting.responsibility == "牵头单位：区委网信办；责任单位：区发改局、区财政局；完成时限：2024年6月底"
    assert units(doc["三、2"]) == (["区委组织部（区考核办）"], ["区委网信办"], [], "")


def test_markdown_table_rows(parsed):
    rows = [c for c in parsed["fx-fenjie"].values() if c.annex == 2]
    assert [r.path for r in rows] == ["附件2 12345热线涉企诉求", "附件2 政策兑现投诉"]
    assert units(rows[0]) == (["县政务服务中心"], ["县工信局", "县市场监管局"], [], "即时办理")
    assert rows[0].responsibility == "牵头单位：县政务服务中心；配合单位：县工信局、县市场监管局"
    assert units(rows[1]) == (["县财政局"], ["县发改局"], [], "每季度")
    assert rows[1].heading_path == ["示范县营商环境投诉处理分工表"]


def make(text, annexes=()):
    from rag.load import Annex, Document

    return Document(id="t", source="t.txt", title="测试方案", region="示范市", level="市", kind="工作方案",
                    annexes=[Annex(n, t) for n, t in annexes], text=text)


def paths(text, annexes=()):
    return [c.path for c in parse_document(make(text, annexes))]


def test_numbered_markers_of_every_depth():
    text = ("测试方案\n\n一、任务\n\n（一）甲类\n\n1．做甲。\n\n（1）细甲。\n\n①更细。\n\n②更细二。\n\n（2）细乙。\n\n"
            "2、做乙。\n\n3.做丙。\n\n（二）乙类\n\n1 做丁。")
    assert paths(text) == ["一、", "一、(一)", "一、(一)1", "一、(一)1(1)", "一、(一)1(1)①", "一、(一)1(1)②",
                           "一、(一)1(2)", "一、(一)2", "一、(一)3", "一、(二)", "一、(二)1"]


def test_a_number_that_neither_continues_nor_runs_on_stays_body_text():
    text = "测试方案\n\n一、任务\n\n（一）甲类\n\n1．做甲。\n\n2．做乙。\n\n（二）乙类\n\n5．见上文第5项。\n\n3．做丙。"
    clauses = parse_document(make(text))
    assert [c.path for c in clauses] == ["一、", "一、(一)", "一、(一)1", "一、(一)2", "一、(二)", "一、(二)3"]
    assert "见上文第5项" in clauses[4].text


def test_annex_headings_in_their_forms():
    text = ("测试方案\n\n一、总则\n\n附件二\n\n分工方案\n\n一、任务\n\n1．做事。（财政局牵头）\n\n"
            "附件3：进度表\n\n一、安排\n\n附件\n\n考核细则\n\n一、对象")
    clauses = parse_document(make(text))
    assert [c.path for c in clauses] == ["一、", "附件2 一、", "附件2 一、1", "附件3 一、", "附件4 一、"]
    assert [c.heading_path[0] for c in clauses[1:]] == ["分工方案", "分工方案", "进度表", "考核细则"]


def test_a_titled_second_tree_is_an_annex():
    # After 一、…二、 a title line and a new 一、: an annex written without a 附件 line.
    text = "测试方案\n\n一、目标\n\n二、任务\n\n考核指标\n\n一、指标\n\n1．第一项。（市工信局牵头）"
    clauses = parse_document(make(text))
    assert [c.path for c in clauses] == ["一、", "二、", "附件1 一、", "附件1 一、1"]
    assert clauses[2].heading_path == ["考核指标"] and clauses[3].lead_units == ["市工信局"]


def test_fixture_records_carry_the_deadline(parsed):
    record = parsed["fx-tiaoli"]["第三条"].to_dict()
    assert record["deadline"] == "2024年底前完成"


def test_parts_and_traditional_articles():
    text = ("测试方案\n\n第一部分 总体要求\n\n一、目标\n\n二、原则\n\n第二部分 重点任务\n\n一、改造\n\n"
            "1．做事。（市住建局牵头）\n\n第三部分 附則\n\n第一條 本方案自印發之日起施行。\n\n第二條 由市住建局負責解釋。")
    assert paths(text) == ["第一部分", "第一部分一、", "第一部分二、", "第二部分", "第二部分一、", "第二部分一、1", "第三部分",
                           "第一条", "第二条"]  # canonical, like (二) for （二）


def test_a_section_deadline_comes_with_its_lead():
    text = ("测试方案\n\n一、任务\n\n（一）整治燃气管道（2024年底前完成，市住建局牵头）\n\n1．排查隐患。\n\n"
            "2．更换老旧管道。（市城管局牵头，持续推进）\n\n3．建立台账。（牵头单位：市住建局）（完成时限：2024年6月底）")
    clauses = {c.path: c for c in parse_document(make(text))}
    assert units(clauses["一、(一)1"]) == (["市住建局"], [], [], "2024年底前完成")
    assert units(clauses["一、(一)2"]) == (["市城管局"], [], [], "持续推进")
    assert units(clauses["一、(一)3"]) == (["市住建局"], [], [], "2024年6月底")


def test_a_name_the_document_labels_as_a_unit_is_one_elsewhere():
    text = ("测试方案\n\n一、任务\n\n1．改造燃气管网。（牵头单位：华润燃气；配合单位：县住建局）\n\n"
            "2．开展入户安检。（华润燃气牵头，县应急管理局配合）\n\n3．宣传安全用气。（包括华润燃气在内的企业负责）")
    clauses = {c.path: c for c in parse_document(make(text))}
    assert clauses["一、2"].lead_units == ["华润燃气"]
    assert (clauses["一、3"].lead_units, clauses["一、3"].responsible_units) == ([], [])
