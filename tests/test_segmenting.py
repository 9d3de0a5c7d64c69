"""The fast segmentation gives exactly jieba's words, order and spans."""

import random
from pathlib import Path

import pytest
from jieba import finalseg

from index.text.analyzer import Analyzer, _lexicon, _segmenter
from index.ingest.pipeline import load_corpus
from index.text.segmenting import cut, hmm_cut, search_pieces

CORPUS = Path(__file__).resolve().parent.parent / "corpus"


@pytest.fixture(scope="module")
def texts() -> list[str]:
    """The corpus sentences, folded and as written, and random strings of dictionary words,
    frequent characters, letters, digits, punctuation, whitespace and damage marks."""
    analyzer = Analyzer()
    sentences = [s.text for r in load_corpus(CORPUS).reports for s in r.sentences]
    rng = random.Random(2024)
    words = sorted(w for w, count in _segmenter().FREQ.items() if count)
    parts = list("的是了在人有这个上们來為國點學號ab1Z9+#&._%-, \t\r\n，。“”\ufffd㐀鿿") + ["\r\n"]
    made = [
        "".join(rng.choice(words) if rng.random() < 0.6 else rng.choice(parts) for _ in range(30))
        for _ in range(3000)
    ]
    return [analyzer.fold(s) for s in sentences] + sentences + made + ["", " ", "\r\n", "a"]


def test_cut_is_jiebas(texts: list[str]) -> None:
    tokenizer = _segmenter()
    for text in texts:
        assert cut(_lexicon(), text) == tokenizer.lcut(text), text


def test_search_pieces_are_jiebas(texts: list[str]) -> None:
    tokenizer = _segmenter()
    for text in texts:
        expected = list(tokenizer.tokenize(text, mode="search"))
        assert search_pieces(_lexicon(), text) == expected, text


def test_hmm_is_jiebas() -> None:
    """Runs of lone characters, where jieba's HMM decides the words, as well as letters, digits
    and characters it has never seen."""
    rng = random.Random(7)
    singles = sorted(w for w in _segmenter().FREQ if len(w) == 1)
    runs = ["".join(rng.choice(singles) for _ in range(rng.randint(1, 12))) for _ in range(20000)]
    runs += ["是了在和", "ab12是3.5%了", "好好好", "\U00020000的", "㐀鿿", "x"]
    for run in runs:
        words: list[str] = []
        hmm_cut(run, words)
        assert words == list(finalseg.cut(run)), run
