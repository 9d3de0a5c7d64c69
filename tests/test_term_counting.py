"""A build counts each report's terms with numpy; the counts must be those of the analyzer's terms."""

import random
from pathlib import Path

import numpy as np
import pytest

from index.text.analyzer import Analyzer, _segmenter
from index.engine.postings_build import TermBlock, term_block
from index.ingest.pipeline import load_corpus
from index.engine.term_counting import count_terms

CORPUS = Path(__file__).resolve().parent.parent / "corpus"


@pytest.fixture(scope="module")
def analyzer() -> Analyzer:
    return Analyzer()


def postings_by_term(block: TermBlock) -> tuple[dict[str, list[tuple[int, int]]], list[int]]:
    """What a block says, whatever order it lists its terms in: each term's (sentence, tf) pairs,
    and each sentence's length."""
    ends = np.cumsum(block.df).tolist()
    found = {}
    for term, end, df in zip(block.vocabulary, ends, block.df.tolist()):
        found[term] = list(zip(block.docs[end - df : end].tolist(), block.tfs[end - df : end].tolist()))
    return found, block.doc_len.tolist()


def assert_counts_the_analyzers_terms(texts: list[str], analyzer: Analyzer) -> None:
    counted = count_terms(texts, analyzer)
    expected = term_block([analyzer.terms(text) for text in texts])
    assert postings_by_term(counted) == postings_by_term(expected)
    assert list(counted.term_lengths) == sorted(counted.term_lengths), "grouped by length"


def test_the_reports_are_counted_as_their_sentences_terms(analyzer: Analyzer) -> None:
    for report in load_corpus(CORPUS).reports:
        assert_counts_the_analyzers_terms([s.text for s in report.sentences], analyzer)


def test_odd_texts_are_counted_as_their_terms(analyzer: Analyzer) -> None:
    """Letters, digits, characters outside jieba's range and beyond 16 bits,
    stop words, damage marks, empty sentences, and words of every length."""
    rng = random.Random(11)
    words = sorted(w for w, count in _segmenter().FREQ.items() if count)
    parts = list("的是了在人有來為國ab1Z9.%-, ，。\ufffd㐀鿿豈") + ["\U00020000", "", "\n"]
    texts = [
        "".join(rng.choice(words) if rng.random() < 0.5 else rng.choice(parts)
                for _ in range(rng.randint(0, 40)))
        for _ in range(400)
    ]
    assert_counts_the_analyzers_terms(texts, analyzer)
    assert_counts_the_analyzers_terms(["", "的"], analyzer)


def test_no_sentences_count_nothing(analyzer: Analyzer) -> None:
    block = count_terms([], analyzer)
    assert len(block.doc_len) == 0 and len(block.df) == 0 and len(block.term_chars) == 0
