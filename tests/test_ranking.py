"""The report-aware ranking: each signal on a corpus made to need it, and BM25 alone when off."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.build import build_index
from index.text.query import plan_query
from index.engine.ranking import BM25_ONLY
from index.search import Searcher
from index.store.storage import open_live


def searcher_over(tmp_path: Path, reports: dict[str, str], **kwargs: object) -> Searcher:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name, text in reports.items():
        (corpus / name).write_text(text, "utf-8")
    build_index(corpus, tmp_path / "index")
    return Searcher.open(tmp_path / "index", **kwargs)  # type: ignore[arg-type]


FILLER = "各单位认真落实工作要求。会议强调要压实责任。"

REPORTS = {
    # The answer does not name its subject: the title and the first sentence do.
    "a.txt": f"株洲核酸检测工作纪实\n\n株洲开展全员核酸检测。{FILLER}共采样五十万人次,全部为阴性。\n",
    # Names the subject twice, answers nothing.
    "b.txt": f"湘潭防疫简报\n\n湘潭学习株洲核酸检测经验。{FILLER}\n",
    "c.txt": f"长沙防疫简报\n\n长沙部署疫苗接种。{FILLER}\n",
}


@pytest.fixture()
def ranked(tmp_path: Path) -> Searcher:
    return searcher_over(tmp_path, REPORTS)


def test_the_answer_that_leaves_its_subject_to_the_title_comes_first(ranked: Searcher) -> None:
    hits = ranked.search("株洲核酸检测采样了多少人次").hits
    assert hits[0].sentence.text == "共采样五十万人次,全部为阴性。"
    assert hits[0].bm25 < max(hit.bm25 for hit in hits), "BM25 alone puts it lower"


def test_bm25_only_ranks_by_the_sentence_alone(tmp_path: Path) -> None:
    searcher = searcher_over(tmp_path, REPORTS, ranking=BM25_ONLY)
    question = "株洲核酸检测采样了多少人次"
    hits = searcher.search(question, top_k=10).hits
    assert [hit.score for hit in hits] == [hit.bm25 for hit in hits]
    stored = open_live(tmp_path / "index", searcher.analyzer.settings)
    plan = plan_query(question, searcher.analyzer)
    ids = stored.postings.term_ids(term for term, _ in plan.terms)
    weighted = [(i, weight) for i, (_, weight) in zip(ids, plan.terms) if i is not None]
    best = [stored.sentence(i).text for i, _ in stored.postings.best(weighted, 10)]
    assert [hit.sentence.text for hit in hits] == best


def test_a_sentence_holding_more_of_the_question_beats_one_naming_only_its_subject(
    tmp_path: Path,
) -> None:
    """BM25 prefers the first sentence: the subject's name matches as a word, sub-words and
    character pairs. The second holds what the question asks about, its subject in the title."""
    searcher = searcher_over(tmp_path, {
        "a.txt": "岳麓区疫情防控工作通报\n\n岳麓区新型冠状病毒疫情防控指挥部召开会议。"
                 "指挥部办公室设在区政府三楼,由区卫健局负责日常工作。\n",
        "b.txt": f"简报\n\n{FILLER}\n",
    })
    hits = searcher.search("岳麓区疫情防控指挥部办公室设在哪里").hits
    assert hits[0].sentence.text.startswith("指挥部办公室设在区政府三楼")
    assert hits[0].bm25 < hits[1].bm25


def test_a_question_asking_for_a_number_prefers_a_sentence_writing_one(tmp_path: Path) -> None:
    searcher = searcher_over(tmp_path, {
        "a.txt": "通报\n\n援鄂医疗队出发了,医疗队员斗志昂扬。援鄂医疗队共有队员138名。\n",
        "b.txt": f"简报\n\n{FILLER}\n",
    })
    top = searcher.search("援鄂医疗队有多少队员").hits[0]
    assert "138" in top.sentence.text and not top.partial


def test_report_frequencies_count_reports_not_sentences(ranked: Searcher) -> None:
    postings = ranked._stored.postings
    [place, result] = postings.term_ids(["株洲", "阴性"])
    assert int(postings.report_df[place]) == 2  # a.txt twice (title aside), b.txt once
    assert int(postings.report_df[result]) == 1
