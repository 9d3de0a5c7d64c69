"""BM25 scores exactly as ``rank_bm25.BM25Okapi`` defines them, over an inverted index.

For a query term q and a sentence d (rank_bm25's formula, k1=1.5, b=0.75):

    idf(q)   = ln((N - n(q) + 0.5) / (n(q) + 0.5)), and where that is negative:
               epsilon * (the mean idf over all terms), epsilon = 0.25
    score(d) = sum over the query's terms q (repeats count) of
               idf(q) * tf(q, d) * (k1 + 1) / (tf(q, d) + k1 * (1 - b + b * len(d) / avgdl))

``rank_bm25`` computes this for every sentence in Python; here each term keeps its postings (the
sentences holding it, with term frequencies) in CSR arrays, so a query touches only the sentences that
hold one of its terms, and the top k are chosen among those candidates alone.

This module is the query side; the postings and their idf are built in ``index.engine.postings_build``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from numpy.typing import ArrayLike

_NO_TERMS = np.empty(0, dtype="<U1")


K1 = 1.5
B = 0.75
SCORE_ALL_BELOW = 20_000
"""Below this many postings in all, a query scores every sentence that holds one of its terms."""
_SLACK = 1e-9
"""Relative margin on pruning: partial sums add terms in another order than the final scores, so
they may differ in the last bits; a sentence is dropped only when it falls short by more."""


@dataclass(frozen=True)
class Postings:
    """The inverted index: for term i, ``docs[offsets[i]:offsets[i+1]]`` are the sentences holding it
    (ascending) and ``tfs`` the same slice's term frequencies.

    The vocabulary is stored compactly, by length: terms are numbered in (length, text) order and
    ``term_chars`` holds their code points one after the other, ``length_counts[n]`` of length n.
    The terms of one length, viewed as a fixed-width numpy string array, are sorted for binary
    search; most terms are one- or two-character CJK strings, so this takes 4 bytes a character
    where one array as wide as the longest term would take 4 bytes times that length per term."""

    term_chars: np.ndarray
    length_counts: np.ndarray
    offsets: np.ndarray
    docs: np.ndarray
    tfs: np.ndarray
    idf: np.ndarray
    doc_len: np.ndarray
    report_df: np.ndarray
    """How many reports hold each term (each TermBlock merged is one report): the document
    frequency of the report-level prior, where ``df`` (``np.diff(offsets)``) counts sentences."""
    avgdl: float

    @property
    def sentence_count(self) -> int:
        return len(self.doc_len)

    @property
    def term_count(self) -> int:
        return len(self.idf)

    @cached_property
    def _by_length(self) -> dict[int, tuple[int, np.ndarray]]:
        """For each term length: the id of its first term and its terms as a sorted string array."""
        groups, first_id, first_char = {}, 0, 0
        for length, how_many in enumerate(self.length_counts.tolist()):
            if how_many and length:
                chars = self.term_chars[first_char : first_char + length * how_many]
                groups[length] = (first_id, np.asarray(chars, dtype=np.uint32).view(f"<U{length}"))
            first_id += how_many
            first_char += length * how_many
        return groups

    def terms_of_length(self, length: int) -> np.ndarray:
        """The terms of one length, by id, as a sorted fixed-width string array."""
        return self._by_length.get(length, (0, np.empty(0, dtype=f"<U{max(length, 1)}")))[1]

    def rank_of(self, term: str) -> int:
        """How many terms sort before ``term`` in (length, text) order, whether or not it is one."""
        shorter = int(self.length_counts[: len(term)].sum())
        return shorter + int(np.searchsorted(self.terms_of_length(len(term)), term))

    @property
    def terms(self) -> list[str]:
        """Every term, by id (for inspection and tests; a query uses ``term_ids``)."""
        return [term for _, group in sorted(self._by_length.values(), key=lambda g: g[0])
                for term in group.tolist()]

    def term_ids(self, terms: Iterable[str]) -> list[int | None]:
        """The id of each term, or None for a term no sentence holds."""
        ids: list[int | None] = []
        for term in terms:
            first_id, group = self._by_length.get(len(term), (0, _NO_TERMS))
            position = int(np.searchsorted(group, term))
            hit = position < len(group) and group[position] == term
            ids.append(first_id + position if hit else None)
        return ids

    def score(self, weighted_terms: Sequence[tuple[int, float]]) -> tuple[np.ndarray, np.ndarray]:
        """Scores of every sentence holding any of the terms: (sentence ids ascending, scores).

        ``weighted_terms`` pairs a term id with how many times it counts (1.0 for each occurrence
        in the query; expansions may count less). All the terms' postings are scored at once, then
        summed per sentence in query order, as rank_bm25 adds them."""
        if not weighted_terms:
            return np.empty(0, dtype=np.int64), np.empty(0)
        ids = np.fromiter((t for t, _ in weighted_terms), dtype=np.int64, count=len(weighted_terms))
        slices = [slice(a, b) for a, b in zip(self.offsets[ids].tolist(),
                                               self.offsets[ids + 1].tolist())]
        docs = np.concatenate([self.docs[s] for s in slices])
        lengths = [s.stop - s.start for s in slices]
        parts = term_score(
            np.repeat(self.idf[ids], lengths),
            np.repeat([weight for _, weight in weighted_terms], lengths),
            np.concatenate([self.tfs[s] for s in slices]),
            self.length_norm[docs],
        )
        candidates, slot = np.unique(docs, return_inverse=True)
        return candidates.astype(np.int64), np.bincount(slot, weights=parts, minlength=len(candidates))

    def best(self, weighted_terms: Sequence[tuple[int, float]], k: int) -> list[tuple[int, float]]:
        """The k best (sentence id, score), exactly as scoring every candidate would give them, but
        without walking the long postings of common terms when they cannot change the top k.

        MaxScore pruning: a term adds at most what its highest term frequency adds to the shortest
        sentence. Terms are walked rarest first, their contributions summed into a dense buffer,
        and the k-th best sum so far is a floor the answer must reach. Once the bounds of the terms
        left sum below it, a sentence none of the walked terms holds cannot make the top k: the
        rest are only probed (binary search) for the candidates found so far, and candidates whose
        sum plus what the terms left could add to a sentence of their length falls below the floor
        are dropped as it rises. The few that remain are scored exactly, in query order."""
        if k <= 0 or not weighted_terms:
            return []
        ids = np.fromiter((t for t, _ in weighted_terms), dtype=np.int64, count=len(weighted_terms))
        starts, ends = self.offsets[ids].tolist(), self.offsets[ids + 1].tolist()
        idf, weights = self.idf[ids].tolist(), [w for _, w in weighted_terms]
        most_tf = [int(self.tfs[a:b].max(initial=0)) for a, b in zip(starts, ends)]
        bounds = term_score(idf, weights, most_tf, self._shortest_norm).tolist()
        if min(bounds) <= 0 or sum(ends) - sum(starts) <= SCORE_ALL_BELOW:
            # A term that adds nothing or lowers scores: prune nothing. Few postings in all:
            # scoring every candidate costs less than pruning would.
            return top_k(*self.score(weighted_terms), k)
        rarest = sorted(range(len(ids)), key=lambda i: ends[i] - starts[i])
        floor, rest = -math.inf, sum(bounds)
        walked: list[np.ndarray] = []
        leaders = np.empty(0, dtype=np.intp)
        with self._score_buffer() as sums:
            for i in rarest:
                if rest < floor * (1 - _SLACK):
                    break
                docs = self.docs[starts[i] : ends[i]].astype(np.intp)
                tf = self.tfs[starts[i] : ends[i]]
                held = term_score(idf[i], weights[i], tf, self.length_norm[docs])
                held += sums[docs]
                sums[docs] = held
                walked.append(docs)
                rest -= bounds[i]
                leaders, floor = _leaders(sums, docs, held, leaders, k)
            candidates, partial = _take_candidates(sums, walked, floor * (1 - _SLACK) - rest)
        left = sorted(rarest[len(walked) :], key=lambda i: -bounds[i])
        for probed, i in enumerate(left):
            norm = self.length_norm[candidates]
            headroom = sum(term_score(idf[j], weights[j], most_tf[j], norm) for j in left[probed:])
            keep = partial + headroom >= floor * (1 - _SLACK)
            candidates, partial = candidates[keep], partial[keep]
            slot, tf = self._probe(starts[i], ends[i], candidates)
            partial[slot] += term_score(idf[i], weights[i], tf, self.length_norm[candidates[slot]])
            if len(partial) >= k:
                floor = max(floor, _kth_largest(partial, k))
        candidates = np.sort(candidates[partial >= floor * (1 - _SLACK)])
        return top_k(candidates, self.score_candidates(candidates, weighted_terms), k)

    def score_candidates(
        self, candidates: np.ndarray, weighted_terms: Sequence[tuple[int, float]]
    ) -> np.ndarray:
        """rank_bm25's score of each candidate sentence (ascending ids), adding the terms in query
        order as rank_bm25 does, each found in the term's postings by binary search."""
        scores = np.zeros(len(candidates), dtype=np.float64)
        for term_id, weight in weighted_terms:
            slot, tf = self.find(term_id, candidates)
            if len(slot):
                norm = self.length_norm[candidates[slot]]
                scores[slot] += term_score(float(self.idf[term_id]), weight, tf, norm)
        return scores

    def find(self, term_id: int, candidates: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Which candidates (ascending) hold the term, as positions among them, and their term
        frequencies; binary-searches whichever side is shorter."""
        start, end = int(self.offsets[term_id]), int(self.offsets[term_id + 1])
        docs = self.docs[start:end]
        if 0 < len(docs) < len(candidates):
            slot = np.minimum(np.searchsorted(candidates, docs), len(candidates) - 1)
            found = candidates[slot] == docs
            return slot[found], self.tfs[start:end][found]
        return self._probe(start, end, candidates)

    def _probe(self, start: int, end: int, candidates: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Which candidates (in any order) the postings ``start:end`` hold, as positions among
        them, and their term frequencies, by binary search in the postings."""
        docs = self.docs[start:end]
        if len(docs) == 0 or len(candidates) == 0:
            return np.empty(0, dtype=np.int64), self.tfs[start:start]
        where = np.minimum(np.searchsorted(docs, candidates), len(docs) - 1)
        slot = np.flatnonzero(docs[where] == candidates)
        return slot, self.tfs[start:end][where[slot]]

    @cached_property
    def length_norm(self) -> np.ndarray:
        """``k1 * (1 - b + b * len(d) / avgdl)`` of each sentence, once rather than per query."""
        return K1 * (1 - B + B * np.asarray(self.doc_len, dtype=np.float64) / self.avgdl)

    @cached_property
    def _shortest_norm(self) -> float:
        """The smallest length norm: no sentence gets more from a term frequency than this one."""
        return float(self.length_norm.min())

    @cached_property
    def _spare_buffers(self) -> list[np.ndarray]:
        """Zeroed score buffers, one per query running at once (queries run in worker threads)."""
        return []

    @contextmanager
    def _score_buffer(self) -> Iterator[np.ndarray]:
        """A zeroed float per sentence, reused: a fresh one would fault in its pages every query.
        The caller zeroes what it touched; a buffer left dirty by an error is not given back."""
        try:
            buffer = self._spare_buffers.pop()
        except IndexError:
            buffer = np.zeros(self.sentence_count, dtype=np.float64)
        yield buffer
        self._spare_buffers.append(buffer)


def term_score(idf: ArrayLike, weight: ArrayLike, tf: ArrayLike, norm: ArrayLike) -> np.ndarray:
    """What a term adds to sentences with these term frequencies and length norms, computed as
    rank_bm25 computes it (times the weight, which is exact for a weight of 1): the same parts,
    added in the same order, give the same float. Takes arrays (one entry per sentence, or per term
    for bounds) or single numbers."""
    tf = np.asarray(tf, dtype=np.float64)
    part = tf * (K1 + 1)
    part /= tf + norm
    part *= idf
    part *= weight
    return part


def _leaders(
    sums: np.ndarray, docs: np.ndarray, held: np.ndarray, leaders: np.ndarray, k: int
) -> tuple[np.ndarray, float]:
    """The k sentences with the highest sums so far, and the k-th of those sums (-inf while fewer
    than k are known): ``docs`` just had a term added, making their sums ``held``, so only their
    best can join the old leaders."""
    if len(docs) > k:
        docs = docs[held >= _kth_largest(held, k)]
    pool = np.union1d(leaders, docs)
    if len(pool) > k:
        pool = pool[np.argpartition(sums[pool], -k)[-k:]]
    return pool, float(sums[pool].min()) if len(pool) >= k else -math.inf


def _kth_largest(values: np.ndarray, k: int) -> float:
    """The k-th largest of ``values`` (at least k of them). On long arrays a sample's k-th largest,
    which at least k values reach, first narrows the partition to those few."""
    if len(values) > 64 * k:
        sample = values[:: len(values) // (16 * k)]
        values = values[values >= np.partition(sample, -k)[-k]]
    return float(np.partition(values, -k)[-k])


def _take_candidates(
    sums: np.ndarray, walked: list[np.ndarray], cut: float
) -> tuple[np.ndarray, np.ndarray]:
    """The sentences of the walked postings whose sums exceed ``cut``, and their sums, leaving
    ``sums`` zeroed. Long postings are cheaper to find them in by one scan of the buffer; from
    short ones each sentence is taken with the first postings holding it, and zeroing its sum
    there keeps it from being taken twice (every sum of a walked sentence is positive)."""
    cut = max(cut, 0.0)
    if sum(map(len, walked)) > len(sums) // 8:
        candidates = np.flatnonzero(sums > cut)
        partial = sums[candidates]
        for docs in walked:
            sums[docs] = 0.0
        return candidates, partial
    taken, taken_sums = [], []
    for docs in walked:
        held = sums[docs]
        above = held > cut
        taken.append(docs[above])
        taken_sums.append(held[above])
        sums[docs] = 0.0
    return np.concatenate(taken), np.concatenate(taken_sums)


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

