import json
import re

import pytest

from rag.load import Annex, Document
from rag.parse import parse_document
from rag.units import normalize_unit

NUMBERED = re.compile(r"^(附件\d+ )?[一二三四五六七八九十]+、")


def test_gas_safety_clause(clause):
    c = clause("pj-fanshen", "二、(二)3")
    assert c.title == "燃气安全专项整治"
    assert c.lead_units == ["城管局"]
    assert c.cooperating_units == ["发改局"]
    assert c.heading_path == ["工作任务", "深化专项整治"]
    assert c.responsibility == "（城管局牵头，发改局等配合）"


def test_eight_units_lead_separately(clause):
    c = clause("pj-shoudi", "二、(一)1")
    assert c.lead_units == ["县发改局", "县住建局", "县交通运输局", "县应急管理局", "县市场监督管理局",
                            "县文化旅游广电体育局", "县消防救援大队", "县交通顽瘴痼疾整治办"]
    assert c.cooperating_units == ["其他有关单位"]


def test_traditional_document(clause):
    c = clause("yj-shoudi", "二、(二)1")
    assert c.lead_units == ["市財政局"]
    assert normalize_unit(c.lead_units[0]) == "财政局"
    assert "市财政局牵头" in c.text_simplified
    assert "市財政局牽頭" in c.text
    assert clause("yj-shoudi", "二、(三)2(3)").lead_units == ["市公安局"]


def test_section_lead_governs_children(clause):
    section = clause("pj-liuzhang", "附件5 二、(一)")
    assert section.title == "防范化解政府债务风险"
    assert section.lead_units == ["财政局"]
    child = clause("pj-liuzhang", "附件5 二、(一)1")
    assert child.lead_units == ["财政局"]
    assert "审计局" in child.responsible_units
    assert child.heading_path == ["平江县打好防范化解风险阻击仗工作方案", "工作任务", "防范化解政府债务风险"]


def test_several_parentheticals_in_one_paragraph(clause):
    c = clause("pj-liuzhang", "附件3 二、(一)")
    assert c.lead_units == ["科工信局", "林业局", "财政局"]


def test_no_bold_markers_survive(clauses):
    assert not [c.id for cs in clauses.values() for c in cs if "**" in c.text or "**" in c.title]


def test_page_breaks_are_joined(clause):
    assert "基本消除重污染天气" in clause("pj-shoudi", "一、(四)").text
    assert "确保社会大局和谐稳定" in clause("pj-liuzhang", "二、(四)").text
    assert "确保遇设计标准内洪水时" in clause("pj-fanshen", "二、(二)14").text
    assert clause("pj-liuzhang", "附件2 二、(三)1").lead_units == ["商务粮食局"]


@pytest.mark.parametrize("doc_id, expected", [
    # Lines that open with a heading marker, counted with grep on the seeds; 003 minus the
    # seven lines of its 附件 list.
    ("pj-shoudi", 39), ("yj-shoudi", 47), ("pj-fanshen", 42), ("pj-liuzhang", 200),
])
def test_every_numbered_line_is_one_clause(clauses, doc_id, expected):
    numbered = [c for c in clauses[doc_id] if NUMBERED.match(c.path) and "·" not in c.path]
    assert len(numbered) == expected


def test_newsletter_paragraphs_are_named_by_place(clauses):
    places = [c.title for c in clauses["yz-zhuanbao"] if c.path.startswith("【县市区动态】")]
    assert places == ["冷水滩区", "零陵区", "祁阳市", "东安县", "双牌县", "道县", "江华县", "江永县",
                      "宁远县", "新田县", "蓝山县", "永州经开区", "金洞管理区", "回龙圩管理区"]
    topics = [c.title for c in clauses["yz-zhuanbao"] if c.path.startswith("【专项行动】")]
    assert topics == ["安全生产", "地方债务", "社会稳定", "生态环境"]
    ningyuan = next(c for c in clauses["yz-zhuanbao"] if c.title == "宁远县")
    assert ningyuan.text.startswith("安全守底行动方案已制定") and "9人负责日常工作" in ningyuan.text


def test_responsibility_table_rows(clauses):
    rows = [c for c in clauses["pj-liuzhang"] if c.annex == 1]
    assert [r.title for r in rows] == ["经济增长主动仗", "科技创新攻坚仗", "优化发展环境持久仗",
                                       "防范化解风险阻击仗", "安全生产翻身仗", "重点民生保障仗"]
    for row in rows:
        for field in ("召集人：", "副召集人：", "牵头单位：", "责任单位："):
            assert field in row.text
    safety = rows[4]
    assert safety.path == "附件1 安全生产翻身仗"
    assert safety.lead_units == ["应急管理局"]
    assert "召集人：李适时；副召集人：彭小林" in safety.text
    assert "园艺示范中心" in safety.responsible_units
    assert "召集人：朱远" in rows[2].text


def test_inline_bold_subheadings_become_clauses(clause):
    c = clause("pj-liuzhang", "三、(二)·实施关键技术攻关工程")
    assert c.heading_path[-1] == "打好科技创新攻坚战，推动创新发展能力持续增强"
    assert "石膏高值化绿色利用技术" in c.text
    assert "实施创新平台建设工程" not in c.text


def test_annexes_and_cover_notice(clauses):
    liuzhang = clauses["pj-liuzhang"]
    assert {c.annex for c in liuzhang} == {None, 1, 2, 3, 4, 5, 6, 7}
    notice = next(c for c in liuzhang if c.path == "通知")
    assert "平政办发〔2023〕2号" in notice.text
    assert next(c for c in liuzhang if c.path == "附件").text.count("\n") == 6


def test_ids_are_unique_and_stable(documents, clauses):
    for doc_id, document in documents.items():
        ids = [c.id for c in clauses[doc_id]]
        assert len(ids) == len(set(ids))
        assert ids == [c.id for c in parse_document(document)]


def test_numbers_inside_sentences_are_not_headings():
    text = ("测试方案\n\n一、工作目标\n\n1. 甲项。\n\n2023年完成全部任务。\n\n100%按期整改。\n\n"
            "5. 见第5条。\n\n2. 乙项。\n\n（1）细项。\n\n（2）细项二。\n\n二、要求")
    document = Document(id="t", source="t.txt", title="测试方案", region="平江县", level="县", kind="工作方案", text=text)
    paths = [c.path for c in parse_document(document)]
    assert paths == ["一、", "一、1", "一、2", "一、2(1)", "一、2(2)", "二、"]
    first = parse_document(document)[1]
    assert "2023年完成全部任务" in first.text and "见第5条" in first.text


def test_annex_headings_written_as_fujian():
    text = "总方案\n\n一、总则\n\n附件1\n\n分工表方案\n\n一、任务\n\n1. 做事。（财政局牵头）"
    annexes = [Annex(1, "分工表方案")]
    document = Document(id="t", source="t.txt", title="总方案", region="平江县", level="县", kind="总体方案",
                        annexes=annexes, text=text)
    paths = [c.path for c in parse_document(document)]
    assert "附件1 一、1" in paths


def test_clause_json_keys(clauses):
    keys = set(clauses["pj-fanshen"][0].to_dict())
    assert keys == {"id", "doc_id", "source", "annex", "path", "heading_path", "title", "text",
                    "text_simplified", "lead_units", "cooperating_units", "responsible_units", "responsibility", "deadline"}
    json.dumps(clauses["pj-fanshen"][0].to_dict(), ensure_ascii=False)


def test_topic_scoped_lead_is_not_the_clauses_lead(clause):
    # 001 二、(四)2: (城市黑臭水體住建部門牽頭) covers one sentence; the clause closes with its own units.
    water = clause("yj-shoudi", "二、(四)2")
    assert water.lead_units == ["益陽市生態環境局沅江分局"]
    assert water.cooperating_units == ["市水利局", "市住建局"]
    assert "（城市黑臭水體住建部門牽頭）" in water.responsibility
