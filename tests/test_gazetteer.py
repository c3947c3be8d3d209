"""Places: the corpus's regions derived from the index, and China's places from general geography."""
from __future__ import annotations

import shutil

from rag.gazetteer import places_named, pinyin_forms, short_form
from rag.index import clause_records
from rag.load import load_corpus
from rag.store import Store

from tests.test_foreign import FIXTURE, MANIFEST, SOURCE


def test_regions_and_their_names_come_from_the_index(parsed_corpus):
    gazetteer = parsed_corpus[2].gazetteer
    assert gazetteer.regions == ["平江县", "沅江市", "永州市"]  # the manifest's regions, in its order
    assert gazetteer.regions_in("平江和沅江的受污染耕地安全利用率") == ["平江县", "沅江市"]
    assert gazetteer.regions_in("How about Yuanjiang?") == ["沅江市"]
    assert gazetteer.regions_in("冷水滩区专班") == ["永州市"]  # a county the newsletter reports on
    assert gazetteer.regions_in("Daoxian County") == ["永州市"]
    assert gazetteer.regions_in("长沙市的方案") == []
    assert gazetteer.reported_place("蓝山") == "蓝山县" and gazetteer.reported_place("平江") is None
    assert gazetteer.regions_text == "平江县、沅江市和永州市"
    assert gazetteer.without_places("平江县和宁远的方案") == "和的方案"


def test_an_english_word_that_spells_a_place_is_a_place_only_when_capitalised(parsed_corpus):
    """"line" spells 临邑 in pinyin: "bottom-line plan" put 临邑 in what an English question searched."""
    gazetteer = parsed_corpus[2].gazetteer
    assert gazetteer.places_in_english("Pingjiang's safety bottom-line plan") == ["平江"]
    assert gazetteer.places_in_english("the plan of Changsha and pingjiang") == ["长沙", "平江"]


def test_a_document_from_another_city_brings_its_region(tmp_path):
    shutil.copy(FIXTURE / SOURCE, tmp_path / SOURCE)
    (tmp_path / "manifest.toml").write_text(MANIFEST, encoding="utf-8")
    documents, problems = load_corpus(tmp_path)
    assert not [p for p in problems if p.fatal]
    gazetteer = Store(clause_records(documents)[0]).gazetteer
    assert gazetteer.regions == ["包头市"]
    assert gazetteer.regions_in("包头的数字政府考评由谁牵头？") == ["包头市"]
    assert gazetteer.regions_in("What does Baotou assess?") == ["包头市"]
    assert "包头市" in gazetteer.regions_text


def test_places_are_words_of_their_own():
    assert places_named("长沙市安全守底行动方案里的目标") == ["长沙市"]
    assert places_named("益阳市的安全守底行动工作专班") == ["益阳市"]
    assert places_named("推广安全新技术") == []  # not 广安
    assert places_named("要整治多少个水源地") == []  # not 治多
    assert places_named("河沟水塘发黑发臭") == [] and places_named("上门服务") == []


def test_short_forms_and_pinyin():
    assert short_form("平江县") == "平江" and short_form("道县") == "道县" and short_form("金洞管理区") == "金洞"
    assert "huilongxu" in pinyin_forms("回龙圩") and pinyin_forms("包头")[0] == "baotou"
