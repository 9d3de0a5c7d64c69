"""Counting the terms of many sentences at once, as a build does for each report.

Nearly all terms (96 in 100 in the bundled reports) are one or two characters long: the CJK
characters and pairs, and short words. Rather than Python strings, each created, hashed and looked
up in a dict one at a time, they are numbers computed from the text's code points with numpy and
counted by sorting; only the longer words go through a dict. The block holds exactly what
``term_block([analyzer.terms(text) for text in texts])`` does (``tests/test_term_counting.py``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from index.text.analyzer import Analyzer, code_points, kept_characters
from index.engine.postings_build import TermBlock, counted_block, numbered_terms, term_arrays

_SECOND = 1 << 21
"""A pair's number is its first code point times this, plus its second (code points are below it)."""
_PAIRS = 1 << 42
"""Added to a pair's number, so that pairs number after every single character."""


def count_terms(texts: Sequence[str], analyzer: Analyzer) -> TermBlock:
    """The terms of each of ``texts`` (sentences), counted into a TermBlock."""
    folded, words = [], []
    for text in texts:
        folded_text, pieces = analyzer.folded_words(text)
        folded.append(folded_text)
        words.append(pieces)
    # One text, a line break after each sentence: no pair and no word spans two sentences.
    sizes = [len(text) + 1 for text in folded]
    points = code_points("".join(text + "\n" for text in folded)).astype(np.int64)
    sentence_at = np.repeat(np.arange(len(texts)), sizes)
    first = np.cumsum([0, *sizes[:-1]], dtype=np.int64)
    word_count = np.fromiter(map(len, words), dtype=np.int64, count=len(words))
    word_sentence = np.repeat(np.arange(len(texts)), word_count)
    spans = np.asarray(
        [(start, end) for pieces in words for _, start, end in pieces], dtype=np.int64
    ).reshape(-1, 2) + first[word_sentence, None]
    starts, ends = spans[:, 0], spans[:, 1]
    single, pair = kept_characters(points, starts, ends)
    pair_number = np.empty_like(points)
    pair_number[:-1] = points[:-1] * _SECOND + points[1:] + _PAIRS
    pair_number[-1:] = 0
    width = ends - starts
    short = width <= 2
    numbers = np.concatenate([
        points[single],
        pair_number[pair],
        np.where(width[short] == 1, points[starts[short]], pair_number[starts[short]]),
    ])
    number_sentence = np.concatenate(
        [sentence_at[single], sentence_at[pair], word_sentence[short]]
    )
    distinct, short_ids = np.unique(numbers, return_inverse=True)
    vocabulary, long_ids = numbered_terms(
        [word for pieces in words for word, start, end in pieces if end - start > 2]
    )
    long_lengths, long_chars = term_arrays(vocabulary)
    is_pair = distinct >= _PAIRS
    pair_chars = np.divmod(distinct[is_pair] - _PAIRS, _SECOND)
    return counted_block(
        ids=np.concatenate([short_ids.ravel(), long_ids + len(distinct)]),
        sentences=np.concatenate([number_sentence, word_sentence[~short]]),
        sentence_count=len(texts),
        term_lengths=np.concatenate([np.where(is_pair, 2, 1), long_lengths]),
        term_chars=np.concatenate(
            [distinct[~is_pair], np.stack(pair_chars, axis=1).ravel(), long_chars]
        ),
    )
