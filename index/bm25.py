"""BM25 scores exactly as ``rank_bm25.BM25Okapi`` defines them, over an inverted index.

For a query term q and a sentence d (rank_bm25's formula, k1=1.5, b=0.75):

    idf(q)   = ln((N - n(q) + 0.5) / (n(q) + 0.5)), and where that is negative:
               epsilon * (the mean idf over all terms), epsilon = 0.25
    score(d) = sum over the query's terms q (repeats count) of
               idf(q) * tf(q, d) * (k1 + 1) / (tf(q, d) + k1 * (1 - b + b * len(d) / avgdl))

``rank_bm25`` computes this for every sentence in Python; here each term keeps its postings (the
sentences holding it, with term frequencies) in CSR arrays, so a query touches only the sentences that
hold one of its terms, and the top k are chosen among those candidates alone.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

K1 = 1.5
B = 0.75
EPSILON = 0.25


@dataclass(frozen=True)
class Postings:
    """The inverted index: for term i, ``docs[offsets[i]:offsets[i+1]]`` are the sentences holding it
    (ascending) and ``tfs`` the same slice's term frequencies. ``terms`` is sorted for lookup."""

    terms: np.ndarray
    offsets: np.ndarray
    docs: np.ndarray
    tfs: np.ndarray
    idf: np.ndarray
    doc_len: np.ndarray
    avgdl: float

    @property
    def sentence_count(self) -> int:
        return len(self.doc_len)

    def term_ids(self, terms: Iterable[str]) -> list[int | None]:
        """The id of each term, or None for a term no sentence holds."""
        ids: list[int | None] = []
        wanted = list(terms)
        if not wanted or len(self.terms) == 0:
            return [None] * len(wanted)
        found = np.searchsorted(self.terms, wanted)
        for term, position in zip(wanted, found.tolist()):
            hit = position < len(self.terms) and self.terms[position] == term
            ids.append(position if hit else None)
        return ids

    def document_frequency(self, term_id: int) -> int:
        return int(self.offsets[term_id + 1] - self.offsets[term_id])

    def score(self, weighted_terms: Sequence[tuple[int, float]]) -> tuple[np.ndarray, np.ndarray]:
        """Scores of the sentences holding any of the terms: (sentence ids ascending, scores).

        ``weighted_terms`` pairs a term id with how many times it counts (1.0 for each occurrence
        in the query; expansions may count less)."""
        if not weighted_terms:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float64)
        doc_parts, score_parts = [], []
        for term_id, weight in weighted_terms:
            start, end = int(self.offsets[term_id]), int(self.offsets[term_id + 1])
            docs = np.asarray(self.docs[start:end], dtype=np.int64)
            tf = np.asarray(self.tfs[start:end], dtype=np.float64)
            lengths = np.asarray(self.doc_len[docs], dtype=np.float64)
            part = self.idf[term_id] * (
                tf * (K1 + 1) / (tf + K1 * (1 - B + B * lengths / self.avgdl))
            )
            doc_parts.append(docs)
            score_parts.append(part * weight if weight != 1.0 else part)
        if len(doc_parts) == 1:
            return doc_parts[0], score_parts[0]
        docs = np.concatenate(doc_parts)
        candidates, slot = np.unique(docs, return_inverse=True)
        return candidates, np.bincount(slot, weights=np.concatenate(score_parts))


def top_k(candidates: np.ndarray, scores: np.ndarray, k: int) -> list[tuple[int, float]]:
    """The k best (sentence id, score), best first; equal scores in sentence order, so ties are stable.

    Selection runs over the candidates only: a partition finds the k-th best score, then just the
    candidates at or above it are sorted."""
    if k <= 0 or len(candidates) == 0:
        return []
    if len(candidates) > k:
        threshold = np.partition(scores, len(scores) - k)[len(scores) - k]
        keep = scores >= threshold
        candidates, scores = candidates[keep], scores[keep]
    order = np.lexsort((candidates, -scores))[:k]
    return [(int(candidates[i]), float(scores[i])) for i in order]


def build_postings(documents: Iterable[Sequence[str]]) -> Postings:
    """Build the inverted index and rank_bm25's idf from each sentence's terms, in order."""
    term_ids: dict[str, int] = {}
    doc_len: list[int] = []
    rows_term: list[int] = []
    rows_doc: list[int] = []
    rows_tf: list[int] = []
    for doc_id, tokens in enumerate(documents):
        doc_len.append(len(tokens))
        for term, count in Counter(tokens).items():
            rows_term.append(term_ids.setdefault(term, len(term_ids)))
            rows_doc.append(doc_id)
            rows_tf.append(count)
    if not doc_len:
        raise ValueError("cannot index an empty corpus")
    first_seen_terms = list(term_ids)
    df = np.bincount(np.asarray(rows_term, dtype=np.int64), minlength=len(first_seen_terms))
    idf = _okapi_idf(df, len(doc_len))

    # Renumber terms in sorted order so a query finds them by binary search.
    sorted_order = sorted(range(len(first_seen_terms)), key=first_seen_terms.__getitem__)
    new_id = np.empty(len(sorted_order), dtype=np.int64)
    new_id[np.asarray(sorted_order, dtype=np.int64)] = np.arange(len(sorted_order))
    term_col = new_id[np.asarray(rows_term, dtype=np.int64)]
    doc_col = np.asarray(rows_doc, dtype=np.int32)
    order = np.lexsort((doc_col, term_col))
    offsets = np.zeros(len(sorted_order) + 1, dtype=np.int64)
    np.cumsum(np.bincount(term_col, minlength=len(sorted_order)), out=offsets[1:])
    lengths = np.asarray(doc_len, dtype=np.int32)
    return Postings(
        terms=np.asarray([first_seen_terms[i] for i in sorted_order], dtype=np.str_),
        offsets=offsets,
        docs=doc_col[order],
        tfs=np.minimum(np.asarray(rows_tf, dtype=np.int64), np.iinfo(np.uint16).max)[order].astype(
            np.uint16
        ),
        idf=idf[np.asarray(sorted_order, dtype=np.int64)],
        doc_len=lengths,
        avgdl=float(sum(doc_len) / len(doc_len)),
    )


def _okapi_idf(df: np.ndarray, corpus_size: int) -> np.ndarray:
    """rank_bm25's idf, summed in the same order (terms as first seen) so the mean matches to the bit."""
    idf = np.array(
        [math.log(corpus_size - n + 0.5) - math.log(n + 0.5) for n in df.tolist()],
        dtype=np.float64,
    )
    average_idf = sum(idf.tolist()) / len(idf)
    idf[idf < 0] = EPSILON * average_idf
    return idf
