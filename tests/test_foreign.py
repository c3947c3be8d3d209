"""A document the parser was not written against, added the way a user adds one.

tests/fixtures/foreign/ holds a real plan from another city (its README says where from). Its
annex numbers items 1．–90． across sections and closes each with
（6月底完成，牵头考核单位：市政府办公室、市公安局）: the deadline is not a unit, and item 3． under
（二） is an item, not body text. The expected leads and deadlines are read from the raw text
with a regex of their own, not with the parser.
"""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from rag.load import load_corpus
from rag.parse import parse_document

FIXTURE = Path(__file__).parent / "fixtures" / "foreign"
SOURCE = "01_baotou-digital-gov-assessment.txt"
MANIFEST = """[[documents]]
id = "bt-szzf"
source = "01_baotou-digital-gov-assessment.txt"
title = "包头市2022年数字政府建设考评办法"
region = "包头市"
level = "市"
kind = "考评办法"
script = "simplified"
date = "2022-04-14"
doc_number = "包府办发〔2022〕43号"
"""
ITEM = re.compile(r"^\s*(\d{1,2})．.*（([^（）]*)，牵头考核单位：([^（）]*)）\s*$", re.MULTILINE)
NOT_IN_A_UNIT = ("月", "底", "年", "完成", "推进", "包括", "持续")


@pytest.fixture(scope="module")
def foreign(tmp_path_factory):
    corpus = tmp_path_factory.mktemp("foreign-corpus")
    shutil.copy(FIXTURE / SOURCE, corpus / SOURCE)
    (corpus / "manifest.toml").write_text(MANIFEST, encoding="utf-8")
    documents, problems = load_corpus(corpus)
    assert not problems and len(documents) == 1
    return documents[0], parse_document(documents[0])


@pytest.fixture(scope="module")
def expected():
    """Item number → (deadline, lead units) as the annex writes them."""
    text = (FIXTURE / SOURCE).read_text(encoding="utf-8")
    return {int(m[1]): (m[2], m[3].split("、")) for m in ITEM.finditer(text)}


def annex_items(clauses):
    return {int(re.search(r"(\d+)$", c.path)[1]): c for c in clauses if c.annex == 1 and re.search(r"\)\d+$", c.path)}


def test_all_ninety_items_are_clauses(foreign, expected):
    _, clauses = foreign
    items = annex_items(clauses)
    assert sorted(expected) == list(range(1, 91))
    assert sorted(items) == list(range(1, 91))


def test_item_numbers_run_on_across_sections(foreign):
    _, clauses = foreign
    items = annex_items(clauses)
    assert items[3].path == "附件1 一、(二)3"
    assert items[3].heading_path == ["包头市数字政府建设考评指标", '政务服务"一网通办"（25分）', "政务服务便民热线升级（2分）"]
    assert items[39].path == "附件1 二、(一)39"
    assert items[90].path == "附件1 七、(三)90"
    assert items[3].title == "全面提升“12345\"政务热线服务水平"


def test_every_item_has_its_leads_and_deadline(foreign, expected):
    _, clauses = foreign
    items = annex_items(clauses)
    wrong = {n: (c.lead_units, c.deadline) for n, c in items.items() if (c.deadline, c.lead_units) != expected[n]}
    assert wrong == {}
    assert items[1].deadline == "5月底取得明显成效并持续推进"
    assert items[3].lead_units == ["市政府办公室", "市公安局"] and items[3].deadline == "6月底完成"
    assert items[8].lead_units == ["市住建局", "审批服务局"] and items[8].deadline == "持续优化"
    # （0.5分）（5月底取得阶段性成效并持续推进，牵头考核单位：市审批服务局）: the score is no deadline.
    assert items[19].deadline == "5月底取得阶段性成效并持续推进"
    for c in items.values():
        assert c.cooperating_units == [] and c.responsible_units == []


def test_the_annex_and_the_covering_notice(foreign):
    document, clauses = foreign
    assert {c.annex for c in clauses} == {None, 1}
    assert next(c for c in clauses if c.path == "附件").text == "包头市数字政府建设考评指标"
    assert clauses[0].path == "通知" and "包府办发〔2022〕43号" in clauses[0].text
    assert [c.path for c in clauses if c.annex is None][1:5] == ["一、", "二、", "三、", "三、(一)"]
    ids = [c.id for c in clauses]
    assert len(ids) == len(set(ids)) and not [c for c in clauses if c.path.endswith("'")]


def test_a_parenthetical_that_names_no_unit_gives_none(foreign):
    _, clauses = foreign
    # 三、(二): "各部门（包括牵头单位自身）" names a role, not a unit.
    method = next(c for c in clauses if c.path == "三、(二)")
    assert (method.lead_units, method.cooperating_units, method.responsible_units, method.deadline) == ([], [], [], "")
    assert all(not c.lead_units for c in clauses if c.annex == 1 and not re.search(r"\d$", c.path))


def test_no_unit_is_a_deadline_or_a_verb(foreign, clauses):
    _, foreign_clauses = foreign
    everything = foreign_clauses + [c for cs in clauses.values() for c in cs]
    units = {u for c in everything for u in c.lead_units + c.cooperating_units + c.responsible_units}
    assert units
    assert sorted(u for u in units if any(w in u for w in NOT_IN_A_UNIT)) == []


def test_seed_clauses_have_no_deadline_and_keep_the_field(clauses):
    # The seeds write no deadline in a responsibility; every record still carries the field.
    records = [c.to_dict() for cs in clauses.values() for c in cs]
    assert all(r["deadline"] == "" for r in records)
