"""Retrieval on the real corpus, with real embeddings, offline."""
import os

import numpy as np



def paths(hits):
    return [(h.clause["doc_id"], h.clause["path"]) for h in hits]


def test_runs_offline(retriever):
    assert os.environ["HF_HUB_OFFLINE"] == "1"


def test_gas_question_ranks_the_gas_clause_first(retriever):
    hits = retriever.search("平江县燃气整治由谁牵头？")
    assert paths(hits)[0] in {("pj-fanshen", "二、(二)3"), ("pj-liuzhang", "附件6 二、(二)3")}
    assert hits[0].clause["lead_units"] == ["城管局"]


def test_duplicate_annex_is_shown_once_with_both_sources(retriever):
    hits = retriever.search("燃气安全专项整治 城管局", k=10)
    gas = [h for h in hits if h.clause["path"].endswith("二、(二)3")]
    assert len(gas) == 1
    sources = {gas[0].clause["source"]} | {a["source"] for a in gas[0].also}
    assert sources == {"002_5aeb480a74277c74.txt", "003_9fa4fb7ca9cf5266.txt"}


def test_simplified_question_finds_the_traditional_document(retriever):
    hits = retriever.search("沅江市防止新增隐性债务由哪个部门牵头")
    assert hits[0].clause["doc_id"] == "yj-shoudi"
    assert hits[0].clause["path"] == "二、(二)1"


def test_region_named_in_the_question_filters(retriever):
    assert {h.clause["region"] for h in retriever.search("沅江受污染耕地安全利用率目标", k=8)} == {"沅江市"}
    assert {h.clause["region"] for h in retriever.search("宁远县专班办公室有几个人", k=8)} == {"永州市"}


def test_the_region_named_selects_clauses_and_does_not_rank_them_by_its_name(retriever):
    """永州 is in the heading of the 永州经开区 row, and 平江 in units such as 市生态环境局平江分局:
    the name matched those clauses, not the question's topic."""
    for named, region in (("永州市安全守底行动工作专班是哪天组建的", "永州市"), ("平江骑摩托戴头盔的比例定了多少", "平江县")):
        bare = named.replace(region, "").replace(region[:2], "")
        with_name = {h.clause["path"]: h.lexical_rank for h in retriever.search(named, k=8)}
        without = {h.clause["path"]: h.lexical_rank for h in retriever.search(bare, k=8, region=region)}
        shared = with_name.keys() & without.keys()
        assert len(shared) >= 4 and all(with_name[p] == without[p] for p in shared), named
    assert retriever.store.gazetteer.without_regions("永州市和永州经开区的专班").split() == ["和永州经开区的专班"]


def test_explicit_filters(retriever):
    hits = retriever.search("受污染耕地安全利用率", k=8, region="平江县")
    assert hits and {h.clause["region"] for h in hits} == {"平江县"}
    hits = retriever.search("燃气", k=5, doc_id="pj-shoudi")
    assert {h.clause["doc_id"] for h in hits} == {"pj-shoudi"}


def test_exact_numbers_and_names_are_found(retriever):
    hits = retriever.search("安全生产翻身仗的召集人是谁", k=5)
    assert any("李适时" in h.clause["text"] for h in hits)
    hits = retriever.search("平江森林火灾受害率控制在多少", k=5)
    assert any("0.9%" in h.clause["text"] for h in hits)


def test_configured_reranker_orders_the_candidates(index_home, tmp_path, monkeypatch):
    """The reranker hook with a real (tiny, random) cross-encoder folder built here."""
    from sentence_transformers import CrossEncoder
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

    from rag import config
    from rag.retrieve import Retriever

    e5 = config.model_cache() / "multilingual-e5-small"
    tokenizer = AutoTokenizer.from_pretrained(e5)
    model = BertForSequenceClassification(BertConfig(vocab_size=tokenizer.vocab_size + 10, hidden_size=32,
                                                     num_hidden_layers=1, num_attention_heads=2,
                                                     intermediate_size=64, num_labels=1))
    folder = tmp_path / "reranker"
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    monkeypatch.setenv("RAG_RERANKER", str(folder))
    reranked = Retriever(index_home)
    question = "平江县燃气整治由谁牵头"
    hits = reranked.search(question, k=5)
    assert len(hits) == 5
    scores = CrossEncoder(str(folder)).predict([(question, h.clause["title"] + "\n" + h.clause["text_simplified"])
                                                 for h in hits])
    assert list(scores) == sorted(scores, reverse=True)


def test_an_english_question_names_a_plan_in_its_own_words(retriever):
    """The encoder reads which plan an English phrase means; its clauses then rank first."""
    assert retriever.plan_in_english("Under Pingjiang's economic growth battle plan, how fast should output grow?",
                                     ["平江县"]) == ("pj-liuzhang", "附件2")
    assert retriever.plan_in_english("Who leads talent work in Pingjiang's technology innovation plan?",
                                     ["平江县"]) == ("pj-liuzhang", "附件3")
    assert retriever.plan_in_english("How many compounds does Pingjiang plan to renovate?", ["平江县"]) is None
    question = "What total output does the growth plan aim for?"
    scoped = retriever.search(question, k=5, region="平江县", plan=("pj-liuzhang", "附件2"))
    assert scoped[0].clause["path"].startswith("附件2 ")
    assert retriever.search(question, k=5, region="平江县")[0].clause["path"] != scoped[0].clause["path"]


def test_an_english_question_is_also_searched_in_the_chinese_its_terms_render(retriever):
    """The encoder matches English to Chinese clauses poorly: alone, it ranks the six-battles
    plan's safety task force first for this question about the bottom-line plan's. The Chinese
    the question's terms render (办公室 专班 安全 … 平江), searched too, finds the right one."""
    question = "Where is the office of Pingjiang's safety bottom-line action task force based?"
    everything = np.ones(len(retriever.clauses), dtype=bool)
    english_only = retriever.clauses[retriever.dense_ranking(question, everything)[0]]
    assert (english_only["doc_id"], english_only["path"]) != ("pj-shoudi", "三、")
    assert paths(retriever.search(question))[0] == ("pj-shoudi", "三、")
