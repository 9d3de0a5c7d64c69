"""Turning text into search terms, the same way for sentences and for questions.

Folding: NFKC (full-width to half-width), lower case, Traditional to Simplified with OpenCC, so that
a question in either script finds a report in either script. Segmenting: jieba in search mode with a
domain dictionary, plus the CJK bigrams and single characters around its words, which find the
sub-words jieba keeps inside longer words (简单 in 安装简单), names it has never seen, and one-character
questions. Measured on the labelled questions, the characters lift hit@1 from 0.89 to 0.95. Letters
of the scripts jieba does not segment (kana, Hangul, Cyrillic...) make a word of each unbroken run,
as a Latin word is one; kana and Hangul get the bigrams and single characters too.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
import unicodedata
from collections.abc import Sequence
from functools import cache, cached_property
from importlib import resources
from pathlib import Path
from typing import NamedTuple

import jieba
import numpy as np
import opencc

from index.models import DAMAGED
from index.text.scripts import HAN, UNSPACED_RANGES
from index.text.segmenting import Lexicon, Piece, search_pieces

ANALYZER_VERSION = 4
"""Bump when the analysis, or the reading that makes the sentences it analyses, changes in a way
that changes the terms of an existing index: the cached analyses of reports are keyed by it."""

MAX_TERM_LENGTH = 32
"""Longer tokens (URLs, runs of digits) are noise, not something a person types."""

_IS_CJK = np.zeros(UNSPACED_RANGES[-1][1] + 2, dtype=bool)
"""Whether a code point's single characters and pairs are terms (``UNSPACED_RANGES``), as a
table, one lookup per character; the last entry (False) stands for every code point above it."""
_IS_CJK[np.concatenate([np.arange(first, last + 1) for first, last in UNSPACED_RANGES])] = True
_WORDLIKE = re.compile(r"[^\W_]")
"""A word is a term when it holds a letter or digit, of any script."""
_LETTER = re.compile(rf"[^\W\d_{HAN}]")
"""A letter, of any script but Chinese."""
_UNSEGMENTED_LETTER = re.compile(rf"[^\W\d_a-z{HAN}]")
"""A letter that jieba hands over one character at a time: not Latin, not Chinese."""
_SURROGATE = re.compile("[\ud800-\udfff]")
_KNOWN_WORDS = 200_000
"""How many words' verdicts ``_TermVerdicts`` keeps (a few tens of MB at most)."""


def _data_text(name: str) -> str:
    return resources.files("index.text").joinpath("data", name).read_text(encoding="utf-8")


def _load_stopwords() -> frozenset[str]:
    lines = (line.strip() for line in _data_text("stopwords.txt").splitlines())
    return frozenset(line for line in lines if line and not line.startswith("#"))


@cache
def _segmenter(cache_dir: Path | None = None) -> jieba.Tokenizer:
    """jieba with the domain dictionary, loaded once per process (about a second) and shared;
    its dictionary cache kept in ``cache_dir`` (None: the system's temp folder)."""
    jieba.setLogLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    if cache_dir is not None:
        cache_dir.mkdir(parents=True, exist_ok=True)
        tokenizer.tmp_dir = str(cache_dir)
    tokenizer.initialize()
    for fields in (line.split() for line in _data_text("userdict.txt").splitlines()):
        if fields:
            tokenizer.add_word(fields[0], int(fields[1]) if len(fields) > 1 else None)
    return tokenizer


@cache
def _lexicon(cache_dir: Path | None = None) -> Lexicon:
    """``_segmenter``'s dictionary as ``search_pieces`` walks it, made once per process."""
    return Lexicon(_segmenter(cache_dir))


class Token(NamedTuple):
    """A search term and where it stands in the folded text it came from."""

    term: str
    start: int
    end: int


class Analyzer:
    """Folds and segments text into terms, the same way for every sentence and every question."""

    def __init__(self, jieba_cache_dir: Path | None = None) -> None:
        """``jieba_cache_dir``: where jieba keeps its dictionary cache rather than the shared temp
        folder: a private place, and one that survives in an image whose /tmp is a fresh tmpfs."""
        self.jieba_cache_dir = jieba_cache_dir
        self._converter = opencc.OpenCC("t2s")
        self.stopwords = _load_stopwords()
        self._lock = threading.Lock()
        self._is_term = _TermVerdicts(self.stopwords)

    def warm_up(self) -> None:
        """Load jieba's dictionary now rather than on the first question."""
        self.folded_words("疫情防控")

    @cached_property
    def settings(self) -> dict[str, object]:
        """What an index records so that it is only ever queried with the analysis that built it."""
        digest = hashlib.sha256()
        for name in ("userdict.txt", "stopwords.txt"):
            digest.update(_data_text(name).encode("utf-8"))
        return {
            "version": ANALYZER_VERSION,
            "fold": "nfkc+lower+opencc-t2s",
            "segmenter": f"jieba-{jieba.__version__}-search",
            "characters": "cjk-kana-hangul-bigrams+unigrams",
            "other-scripts": "letter-runs",
            "data_sha256": digest.hexdigest()[:16],
        }

    def is_known_word(self, word: str) -> bool:
        """Whether ``word`` is in jieba's dictionary or the domain dictionary."""
        return bool(_lexicon(self.jieba_cache_dir).freq.get(word))

    def fold(self, text: str) -> str:
        """NFKC, lower case, Simplified. Keeps the length of CJK text so spans map back to the original.
        A lone surrogate (no character; a question may carry one) stands as a damaged character."""
        folded = unicodedata.normalize("NFKC", _SURROGATE.sub(DAMAGED, text)).lower()
        return self._converter.convert(folded)

    def fold_many(self, texts: Sequence[str]) -> list[str]:
        """``fold`` of each text, in one conversion: folding costs mostly per call, and a question's
        answer folds a few dozen sentences. Texts are joined at line breaks, which no folding step
        carries a character across; texts holding one are folded one by one."""
        if any("\n" in text for text in texts):
            return [self.fold(text) for text in texts]
        return self.fold("\n".join(texts)).split("\n") if texts else []

    def characters(self, folded: str, words: Sequence[Piece], singles: bool = True) -> list[str]:
        """CJK bigrams, and with ``singles`` single characters, inside or touching ``words``
        (see ``kept_characters``), in text order: each character before the pair it starts."""
        spans = np.asarray([(start, end) for _, start, end in words], dtype=np.int64).reshape(-1, 2)
        single, pair = kept_characters(code_points(folded), spans[:, 0], spans[:, 1])
        if not singles:
            single[:] = False
        pieces: list[str] = []
        for i in np.flatnonzero(single | pair).tolist():
            if single[i]:
                pieces.append(folded[i])
            if pair[i]:
                pieces.append(folded[i : i + 2])
        return pieces

    def terms(self, text: str) -> list[str]:
        """The terms a sentence is indexed under: its words, CJK bigrams and single characters."""
        return self._analysed(text, singles=True)[1]

    def query_terms(self, text: str) -> list[str]:
        """The terms a question is searched by: as a sentence's, less the single characters of its
        longer words. Those match every sentence sharing one character with the question: measured
        on the labelled questions they add nothing to answers, and they are the longest postings."""
        return self._analysed(text, singles=False)[1]

    def question(self, text: str) -> tuple[list[Token], list[str]]:
        """A question's words (to tell which of them no report holds) and its ``query_terms``, from
        one segmentation."""
        words, terms = self._analysed(text, singles=False)
        return [Token(*word) for word in words], terms

    def _analysed(self, text: str, singles: bool) -> tuple[list[Piece], list[str]]:
        folded, words = self.folded_words(text)
        return words, [word for word, _, _ in words] + self.characters(folded, words, singles)

    def folded_words(self, text: str) -> tuple[str, list[Piece]]:
        """The folded text and its jieba search-mode words with their spans in it, without
        punctuation, damage marks or stop words: what its terms are made of."""
        folded = self.fold(text)
        with self._lock:
            pieces = search_pieces(_lexicon(self.jieba_cache_dir), folded)
        if _UNSEGMENTED_LETTER.search(folded):
            pieces = letter_runs(pieces)
        is_term = self._is_term
        return folded, [piece for piece in pieces if is_term[piece[0]]]


def letter_runs(pieces: list[Piece]) -> list[Piece]:
    """``pieces`` with the letters that jieba hands over one at a time joined to the letters
    they touch, so that a word of any script is one word (こんにちは, 감사합니다, привет, café), as
    a Latin word is."""
    joined: list[Piece] = []
    for word, start, end in pieces:
        if joined and _glued(joined[-1], (word, start, end)):
            joined[-1] = (joined[-1][0] + word, joined[-1][1], end)
        else:
            joined.append((word, start, end))
    return joined


def _glued(left: Piece, right: Piece) -> bool:
    """Whether two pieces touch between two letters (no ideographs), one of them of a script
    that jieba does not segment."""
    before, after = left[0][-1], right[0][0]
    return (
        left[2] == right[1]
        and bool(_LETTER.fullmatch(before) and _LETTER.fullmatch(after))
        and bool(_UNSEGMENTED_LETTER.fullmatch(before) or _UNSEGMENTED_LETTER.fullmatch(after))
    )


def is_cjk(char: str) -> bool:
    """Whether a character is kana, a CJK ideograph or Hangul: its single characters and pairs
    are terms."""
    return bool(_IS_CJK[min(ord(char), len(_IS_CJK) - 1)])


def cjk_pairs(word: str) -> list[str]:
    """The pairs of neighbouring CJK characters in ``word``, as they are indexed."""
    return [word[i : i + 2] for i in range(len(word) - 1) if is_cjk(word[i]) and is_cjk(word[i + 1])]


def code_points(text: str) -> np.ndarray:
    """The code points of ``text``, one per character as Python counts them."""
    return np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)


def kept_characters(
    points: np.ndarray, starts: np.ndarray, ends: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Which single characters, and which pairs (by the position of their first character), of a
    text with code points ``points`` are terms, given its words' spans.

    Pairs find what word segmentation splits apart or keeps inside a longer word; single
    characters answer one-character questions. Both are CJK only (kana and Hangul included). A
    pair is kept when a word covers one of its characters, so pairs made only of stop words
    (是什, 请问) stay out; a single
    character when a word covers it, unless that word is the character itself (it would count
    twice)."""
    n = len(points)
    edges = np.bincount(starts, minlength=n + 1) - np.bincount(ends, minlength=n + 1)
    covered = np.cumsum(edges[:n]) > 0
    single = covered.copy()
    single[starts[ends - starts == 1]] = False
    cjk = _IS_CJK[np.minimum(points, len(_IS_CJK) - 1)]
    single &= cjk
    pair = np.zeros(n, dtype=bool)
    pair[:-1] = cjk[:-1] & cjk[1:] & (covered[:-1] | covered[1:])
    return single, pair


class _TermVerdicts(dict[str, bool]):
    """Whether a jieba word is a term, by word: ``verdicts[word]``. Remembered, because the same
    words come back all the time, and a dict lookup is what a build does a hundred million times."""

    def __init__(self, stopwords: frozenset[str]) -> None:
        super().__init__()
        self._stopwords = stopwords

    def __missing__(self, word: str) -> bool:
        if len(self) >= _KNOWN_WORDS:
            self.clear()
        verdict = self[word] = (
            len(word) <= MAX_TERM_LENGTH
            and DAMAGED not in word
            and word not in self._stopwords
            and _WORDLIKE.search(word) is not None
        )
        return verdict
