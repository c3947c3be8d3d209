"""Sections built from the real corpus's clause records."""
import pytest

from rag.index import clause_records
from rag.sections import build_sections, label, shared_prefix


@pytest.fixture(scope="module")
def sections(documents):
    records, _, _ = clause_records(list(documents.values()))
    return {(s["doc_id"], s["path"]): s for s in build_sections(records)}, records


@pytest.mark.parametrize("child, parent, written", [
    ("二、(二)13", "二、(二)", "13."), ("二、(二)", "二、", "（二）"), ("附件5 一、", "附件5", "一、"),
    ("二、(三)2(1)", "二、(三)2", "（1）"), ("三、(一)·强化投资关键作用", "三、(一)", ""), ("【县市区动态】道县", "【县市区动态】", ""),
])
def test_label_is_the_number_the_item_is_written_with(child, parent, written):
    assert label(child, parent) == written


def test_shared_prefix_names_a_column_or_table():
    assert shared_prefix(["【县市区动态】冷水滩区", "【县市区动态】零陵区"]) == "【县市区动态】"
    assert shared_prefix(["附件1 安全生产翻身仗", "附件1 安全生产其他"]) == "附件1"


def test_numbered_section_holds_every_item_in_order(sections):
    by_key, records = sections
    special = by_key[("pj-fanshen", "二、(二)")]
    assert special["children"] == [f"二、(二){n}" for n in range(1, 16)]
    text = special["text"]
    assert text.startswith("深化专项整治\n1.建筑领域专项整治（含自建房）。")
    positions = [text.index(r["text"]) for r in records if r["doc_id"] == "pj-fanshen" and r["path"].startswith("二、(二)")
                 and r["path"] != "二、(二)"]
    assert positions == sorted(positions)
    # A higher section holds its sub-sections' items too.
    assert "15.其他行业领域" in by_key[("pj-fanshen", "二、")]["text"]


def test_column_without_a_heading_clause_is_a_section(sections):
    by_key, _ = sections
    column = by_key[("yz-zhuanbao", "【县市区动态】")]
    assert column["title"] == "县市区动态" and len(column["children"]) == 14
    assert "\n宁远县　安全守底行动方案已制定" in column["text"]  # a row's name is written in front of it
    assert not column["lead_units"]


def test_annex_table_and_twin_sections(sections):
    by_key, _ = sections
    table = by_key[("pj-liuzhang", "附件1")]
    assert table["title"] == "平江县打好发展“六仗”责任分解表" and len(table["children"]) == 6
    # 003 附件6 repeats 002: the twin sections read the same and share a key.
    assert by_key[("pj-liuzhang", "附件6 二、(二)")]["text_key"] == by_key[("pj-fanshen", "二、(二)")]["text_key"]


def test_traditional_text_kept_with_a_simplified_copy(sections):
    by_key, _ = sections
    tasks = by_key[("yj-shoudi", "二、")]
    assert "工作任務" in tasks["text"] and "工作任务" in tasks["text_simplified"]
    assert tasks["text"].count("\n") == tasks["text_simplified"].count("\n")
