"""Answering questions over the five reports: scripts, expansions, missing words, repeats, citations."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from rank_bm25 import BM25Okapi
from test_postings import dense_scores

from index.text.analyzer import Analyzer
from index.build import build_index
from index.ingest.pipeline import load_corpus
from index.text.query import plan_query
from index.engine.ranking import BM25_ONLY
from index.search import Searcher

CORPUS = Path(__file__).resolve().parent.parent / "corpus"


@pytest.fixture(scope="module")
def searcher(corpus_index: Path) -> Searcher:
    return Searcher.open(corpus_index)


def marked(hit) -> list[str]:  # type: ignore[no-untyped-def]
    return [hit.sentence.text[start:end] for start, end in hit.highlights]


def test_a_simplified_question_finds_a_traditional_report(searcher: Searcher) -> None:
    result = searcher.search("妇幼保健院院长是谁")
    top = result.hits[0]
    assert top.report.file == "002_7e09391dc468c881.txt"
    assert "院長范多智" in top.sentence.text
    assert "院長" in marked(top)


def test_a_traditional_question_finds_a_simplified_report(searcher: Searcher) -> None:
    top = searcher.search("株洲一天最多時派出多少採樣人員").hits[0]
    assert top.report.file == "003_99b2eed65f7f11de.txt"
    assert "2441人" in top.sentence.text


def test_hits_carry_title_date_and_file(searcher: Searcher) -> None:
    top = searcher.search("王文元交纳特殊党费").hits[0]
    assert top.rank == 1 and top.score > 0
    assert top.report.file == "000_f160c81bd3db8945.txt"
    assert top.report.title and "河北省卫生健康委" in top.report.title
    assert (top.report.date, top.report.date_provenance) == ("2020-02-01", "explicit")
    assert top.sentence.text in top.context


def test_synonyms_find_what_the_question_words_differently(searcher: Searcher) -> None:
    # The reports write 新型冠状病毒 or 新冠肺炎; the question says 新冠病毒检验.
    result = searcher.search("新冠病毒检验的党员夫妻")
    assert any("黄亮" in hit.sentence.text for hit in result.hits[:3])


def test_chinese_numerals_find_digits(searcher: Searcher) -> None:
    result = searcher.search("河北确定了十四家定点医院")
    assert any("14家" in hit.sentence.text for hit in result.hits)
    assert result.missing == ()


def test_words_found_nowhere_are_named_and_alone_give_no_results(searcher: Searcher) -> None:
    result = searcher.search("广东省的方舱医院")
    assert result.hits == ()
    assert set(result.missing) == {"广东省", "方舱医院"}


def test_a_missing_word_beside_found_ones_still_answers(searcher: Searcher) -> None:
    result = searcher.search("廣東省派了多少醫護人員支援湖北")
    assert result.missing == ("廣東省",), "named as the user wrote it"
    assert result.hits
    assert not result.confident, "the nearest sentence, not an answer"


@pytest.mark.parametrize("question", ["", "   ", "请问是什么?", "?!。,", "的了吗"])
def test_filler_alone_gives_no_results(searcher: Searcher, question: str) -> None:
    result = searcher.search(question)
    assert result.hits == () and result.missing == ()


def test_a_single_character_question_is_answered(searcher: Searcher) -> None:
    result = searcher.search("癌")
    assert result.hits and all("癌" in hit.sentence.text for hit in result.hits)


def test_top_k_and_ranks(searcher: Searcher) -> None:
    hits = searcher.search("核酸检测", top_k=7).hits
    assert [hit.rank for hit in hits] == list(range(1, 8))
    assert [hit.score for hit in hits] == sorted((hit.score for hit in hits), reverse=True)


def test_the_passage_is_the_whole_paragraph(searcher: Searcher) -> None:
    hit = searcher.search("邢台 120急救 军令状").hits[0]
    passage = searcher.passage(hit.sentence)
    assert hit.sentence.text in passage
    assert passage.startswith("尽锐出战,用我必胜。")


def test_repeated_sentences_take_one_place(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    slogan = "思想不麻痹,防疫不懈怠,防护不放松。"
    (corpus / "a.txt").write_text(f"甲地报告\n\n甲地党员坚守防疫一线。{slogan}\n", "utf-8")
    (corpus / "b.txt").write_text(f"乙地报告\n\n乙地医护人员支援湖北。{slogan}\n", "utf-8")
    build_index(corpus, tmp_path / "index")
    hits = Searcher.open(tmp_path / "index").search("防疫不懈怠 防护不放松").hits
    assert sum(slogan in hit.sentence.text for hit in hits) == 1
    assert any(hit.sentence.text == "甲地党员坚守防疫一线。" for hit in hits), "distinct ones stay"


def test_the_index_holds_the_terms_the_build_gives_each_sentence(searcher: Searcher) -> None:
    """Ties the stored postings to the analyzer's terms, the tokens the rank_bm25 comparison uses."""
    analyzer = searcher.analyzer
    report = load_corpus(CORPUS).reports[0]
    terms = analyzer.terms(report.sentences[0].text)
    assert None not in searcher._stored.postings.term_ids(terms)
    assert searcher._stored.postings.doc_len[0] == len(terms)


def test_an_index_from_another_analysis_is_refused(corpus_index: Path) -> None:
    class OtherAnalyzer(Analyzer):
        settings = {"version": -1}  # type: ignore[assignment]

    from index.store.storage import IndexUnavailable

    with pytest.raises(IndexUnavailable, match="analyzer"):
        Searcher.open(corpus_index, OtherAnalyzer())


def test_scores_equal_rank_bm25_over_the_five_reports(searcher: Searcher) -> None:
    """The engine against BM25Okapi.get_scores on the very tokens the index was built from."""
    documents = [
        searcher.analyzer.terms(sentence.text)
        for report in load_corpus(CORPUS).reports
        for sentence in report.sentences
    ]
    reference = BM25Okapi(documents)
    for question in ["河北到1月底一共报告了多少确诊病例", "黨員志願者在核酸採樣點", "疫苗 接种", "癌"]:
        query = searcher.analyzer.terms(question)
        np.testing.assert_allclose(
            dense_scores(searcher._stored.postings, query), reference.get_scores(query), atol=1e-9
        )


def test_a_word_whose_synonym_occurs_is_not_missing(searcher: Searcher) -> None:
    result = searcher.search("株洲单日最多派出多少采样人员")
    assert result.missing == ()
    assert "2441人" in result.hits[0].sentence.text


@pytest.mark.parametrize("question", ["张定宇说了什么", "張定宇", "范多智"])
def test_a_name_cut_otherwise_in_the_question_is_found(searcher: Searcher, question: str) -> None:
    """jieba cuts these names one way in the question and another in the reports; their
    characters stand together in the reports all the same."""
    result = searcher.search(question)
    assert result.missing == ()
    name = searcher.analyzer.fold(question)[:3]
    assert name in searcher.analyzer.fold(result.hits[0].sentence.text)


def test_a_year_finds_sentences_of_that_year_first(searcher: Searcher) -> None:
    result = searcher.search("2021年")
    assert "2021年" in result.hits[0].sentence.text
    assert all("清零" not in hit.sentence.text or "2021" in hit.sentence.text for hit in result.hits)


def test_only_content_words_are_missing_in_the_users_script_and_order(searcher: Searcher) -> None:
    result = searcher.search("請問方艙醫院和廣東省的情況如何")
    assert result.missing == ("方艙醫院", "廣東省")


def test_a_question_no_sentence_answers_is_not_confident(searcher: Searcher) -> None:
    asked_for_money = searcher.search("口罩多少钱一个")
    assert asked_for_money.hits and not asked_for_money.confident
    assert asked_for_money.hits[0].partial
    unknown_thing = searcher.search("加强针在哪里打")  # no report names 加强针
    assert not unknown_thing.confident


def test_a_question_a_sentence_answers_is_confident(searcher: Searcher) -> None:
    result = searcher.search("王文元老人交了多少钱特殊党费")
    assert result.confident and not result.hits[0].partial
    assert "2000元" in result.hits[0].sentence.text


def test_words_of_any_script_are_found(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "r.txt").write_text(
        "标题\n\nこんにちは世界。\n\nありがとうございました。\n\n정말 감사합니다!\n\nПривет, мир!\n\n防疫工作。\n",
        encoding="utf-8",
    )
    build_index(corpus, tmp_path / "index")
    searcher = Searcher.open(tmp_path / "index")
    for question, answer in [
        ("ありがとう", "ありがとうございました。"),
        ("こんにちは", "こんにちは世界。"),
        ("감사합니다", "정말 감사합니다!"),
        ("привет", "Привет, мир!"),
    ]:
        assert searcher.search(question).hits[0].sentence.text == answer, question


@pytest.mark.parametrize("question", ["吉林派了多少医护人员去湖北", "妇幼保健院院长是谁", "党员先锋模范作用"])
def test_the_bm25_only_ranking_is_the_order_of_plain_bm25(
    corpus_index: Path, question: str
) -> None:
    plain = Searcher.open(corpus_index, ranking=BM25_ONLY)
    hits = plain.search(question, top_k=8).hits
    plan = plan_query(question, plain.analyzer)
    postings = plain._stored.postings
    term_ids = postings.term_ids(term for term, _ in plan.terms)
    weighted = [(t, w) for t, (_, w) in zip(term_ids, plan.terms) if t is not None]
    best = [sentence for sentence, _ in postings.best(weighted, 40)]
    shown = [plain._sentence_id(hit.sentence) for hit in hits]
    assert shown[0] == best[0] and shown == [s for s in best if s in shown]
    assert all(hit.score == hit.bm25 for hit in hits)


def test_a_searcher_let_go_frees_its_index_at_once(corpus_index: Path) -> None:
    """The bot swaps searchers on a rebuild: the old index (a GB at a million sentences) must go
    when the last reference does, not when the cycle collector next runs."""
    import gc
    import weakref

    searcher = Searcher.open(corpus_index)
    searcher.search("疫情防控")
    stored = weakref.ref(searcher._stored)
    gc.disable()
    try:
        del searcher
        assert stored() is None
    finally:
        gc.enable()
