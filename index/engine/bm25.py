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
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from itertools import chain

import numpy as np
from numpy.typing import ArrayLike

_NO_TERMS = np.empty(0, dtype="<U1")


K1 = 1.5
B = 0.75
EPSILON = 0.25
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


def build_postings(documents: Iterable[Sequence[str]]) -> Postings:
    """Build the inverted index and rank_bm25's idf from each sentence's terms, in order."""
    builder = PostingsBuilder()
    builder.add(term_block(list(documents)))
    return builder.finish()


@dataclass(frozen=True)
class TermBlock:
    """The terms of a run of sentences (one report's), compact: distinct terms once, then postings.

    The distinct terms are grouped by length, shortest first (within a length, in no set order),
    as code points: term i is ``term_lengths[i]`` characters of ``term_chars``, after those of terms
    < i. Postings are term-major: term i has ``df[i]`` entries in ``docs`` (the block's sentences
    holding it, ascending, counted from 0) and ``tfs``, after those of terms < i. Sorting the terms
    by text is left to the merge, which sorts each distinct term once (a report's build sorting its
    own would cost a tenth of its analysis)."""

    term_lengths: np.ndarray
    term_chars: np.ndarray
    df: np.ndarray
    docs: np.ndarray
    tfs: np.ndarray
    doc_len: np.ndarray

    @property
    def vocabulary(self) -> list[str]:
        """The distinct terms as strings."""
        text = np.asarray(self.term_chars, dtype=np.uint32).tobytes().decode("utf-32-le")
        ends = np.cumsum(self.term_lengths).tolist()
        return [text[end - length : end] for end, length in zip(ends, self.term_lengths.tolist())]


def term_block(documents: Sequence[Sequence[str]]) -> TermBlock:
    """Count the terms of ``documents`` (each a sentence's terms, in order) into a TermBlock."""
    vocabulary, ids = numbered_terms(list(chain.from_iterable(documents)))
    doc_len = np.fromiter(map(len, documents), dtype=np.int64, count=len(documents))
    lengths, chars = term_arrays(vocabulary)
    return counted_block(ids, np.repeat(np.arange(len(documents)), doc_len), len(documents),
                         lengths, chars)


def numbered_terms(tokens: Sequence[str]) -> tuple[list[str], np.ndarray]:
    """The distinct tokens grouped by length, shortest first (within a length, first seen
    first), and the number of each token among them."""
    seen = list(dict.fromkeys(tokens))
    lengths = np.fromiter(map(len, seen), dtype=np.int64, count=len(seen))
    vocabulary = [seen[i] for i in np.argsort(lengths, kind="stable").tolist()]
    local_id = dict(zip(vocabulary, range(len(vocabulary))))
    return vocabulary, np.fromiter(map(local_id.__getitem__, tokens), dtype=np.int64,
                                   count=len(tokens))


def term_arrays(vocabulary: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Terms as a TermBlock holds them: their lengths, and their code points one after another."""
    lengths = np.fromiter(map(len, vocabulary), dtype=np.int64, count=len(vocabulary))
    text = "".join(vocabulary).encode("utf-32-le")
    return lengths, np.frombuffer(text, dtype=np.uint32)


def counted_block(
    ids: np.ndarray,
    sentences: np.ndarray,
    sentence_count: int,
    term_lengths: np.ndarray,
    term_chars: np.ndarray,
) -> TermBlock:
    """A TermBlock from its terms (as ``term_lengths`` and ``term_chars``, grouped by length) and,
    for each token, the number of its term and its sentence."""
    width = max(1, sentence_count)
    pairs, tfs = np.unique(ids * width + sentences, return_counts=True)
    term, docs = np.divmod(pairs, width)
    return TermBlock(
        term_lengths=term_lengths.astype(np.int32),
        term_chars=term_chars.astype(np.uint32),
        df=np.bincount(term, minlength=len(term_lengths)).astype(np.int32),
        docs=docs.astype(np.int32),
        tfs=tfs.astype(np.int32),
        doc_len=np.bincount(sentences, minlength=sentence_count).astype(np.int32),
    )


class PostingsBuilder:
    """Merges TermBlocks, in sentence order, into one Postings.

    The blocks' vocabularies are numbered together with numpy alone (see ``merged_vocabulary``), and
    each block's postings are placed with one scatter: no Python work per term, no sort over all
    postings, which at a million sentences (about 10^8 postings) would dominate the build."""

    def __init__(self) -> None:
        self._blocks: list[TermBlock] = []

    def add(self, block: TermBlock) -> None:
        """Take the next block of sentences."""
        self._blocks.append(block)

    def finish(self) -> Postings:
        """The merged index; raises ValueError when no block held a sentence."""
        blocks = self._blocks
        if sum(len(block.doc_len) for block in blocks) == 0:
            raise ValueError("cannot index an empty corpus")
        doc_len = np.concatenate([block.doc_len for block in blocks]).astype(np.int32)
        block_ids, term_chars, length_counts = merged_vocabulary(blocks)
        df = np.zeros(int(length_counts.sum()), dtype=np.int64)
        report_df = np.zeros(len(df), dtype=np.int32)
        for ids, block in zip(block_ids, blocks):
            df[ids] += block.df
            report_df[ids] += 1  # a block's terms are distinct
        offsets = np.zeros(len(df) + 1, dtype=np.int64)
        np.cumsum(df, out=offsets[1:])

        docs = np.empty(int(offsets[-1]), dtype=np.int32)
        largest_tf = max(int(block.tfs.max(initial=0)) for block in blocks)
        tfs = np.empty(int(offsets[-1]), dtype=tf_dtype(largest_tf))
        next_free = offsets[:-1].copy()
        first_doc = 0
        for ids, block in zip(block_ids, blocks):
            block_df = np.asarray(block.df, dtype=np.int64)
            shift = next_free[ids] - (np.cumsum(block_df) - block_df)
            next_free[ids] += block_df
            slots = np.repeat(shift, block_df) + np.arange(len(block.docs))
            docs[slots] = np.asarray(block.docs) + first_doc
            tfs[slots] = np.minimum(block.tfs, np.iinfo(tfs.dtype).max)
            first_doc += len(block.doc_len)
        return Postings(
            term_chars=term_chars,
            length_counts=length_counts,
            offsets=offsets,
            docs=docs,
            tfs=tfs,
            idf=okapi_idf(df, len(doc_len)),
            doc_len=doc_len,
            report_df=report_df,
            avgdl=float(int(doc_len.sum(dtype=np.int64)) / len(doc_len)),
        )


def merged_vocabulary(
    blocks: Sequence[TermBlock],
) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    """Number the distinct terms of all blocks together in (length, text) order.

    Returns each block's term ids, and the merged vocabulary as ``term_chars`` and
    ``length_counts``. Each length is numbered on its own, over the terms of that length gathered
    from every block (they sit together in each). Their characters are renumbered densely in code
    point order; terms then become integers that sort as their text does (digits in that base),
    whose distinct values are marked in a table (when it is at most four times the keys: fresh
    memory is slow to touch) or sorted; longer terms are sorted as rows."""
    longest = max((int(b.term_lengths[-1]) for b in blocks if len(b.term_lengths)), default=0)
    counts = np.zeros((len(blocks), longest + 1), dtype=np.int64)  # block, length: how many terms
    for row, block in zip(counts, blocks):
        row += np.bincount(block.term_lengths, minlength=longest + 1)
    chars = counts * np.arange(longest + 1)  # block, length: how many code points
    first_char = np.cumsum(chars, axis=1) - chars
    rows = [np.empty((0, 0), dtype=np.uint32)]  # per length: every block's terms, one per row
    for length in range(1, longest + 1):
        pieces = [block.term_chars[first : first + n * length] for block, first, n
                  in zip(blocks, first_char[:, length].tolist(), counts[:, length].tolist()) if n]
        rows.append(np.concatenate(pieces or [np.empty(0, dtype=np.uint32)]).reshape(-1, length))
    used = np.zeros(max((int(r.max()) for r in rows if r.size), default=0) + 1, dtype=bool)
    for group in rows:
        used[group] = True
    alphabet = np.flatnonzero(used)
    letter = np.cumsum(used, dtype=np.int32) - 1
    del used
    base = max(len(alphabet), 2)
    length_counts = np.zeros(longest + 1, dtype=np.int64)
    vocabulary = [np.empty(0, dtype=np.uint32)]
    numbered = [np.empty(0, dtype=np.int64)]  # per length: the merged id of each row
    for length in range(1, longest + 1):
        letters, rows[length] = letter[rows[length]], None
        if len(letters) == 0:
            numbered.append(np.empty(0, dtype=np.int64))
            continue
        if base**length < 1 << 62:
            digits = base ** np.arange(length - 1, -1, -1, dtype=np.int64)
            keys = letters[:, 0].astype(np.int64)
            for column in range(1, length):  # Horner's rule: numpy's integer matmul is slow
                keys *= base
                keys += letters[:, column]
            if base**length <= 4 * len(keys) + (1 << 16):
                seen = np.zeros(base**length, dtype=bool)
                seen[keys] = True
                inverse, keys = (np.cumsum(seen, dtype=np.int32) - 1)[keys], np.flatnonzero(seen)
            else:
                keys, inverse = np.unique(keys, return_inverse=True)
            distinct = keys[:, None] // digits % base
        else:
            distinct, inverse = np.unique(letters, axis=0, return_inverse=True)
        numbered.append(length_counts.sum() + inverse.ravel().astype(np.int64))
        length_counts[length] = len(distinct)
        vocabulary.append(alphabet[distinct].astype(np.uint32).ravel())
    first_row = (np.cumsum(counts, axis=0) - counts).tolist()  # block, length: its first row
    block_ids = [
        np.concatenate([numbered[length][first : first + n]
                        for length, (first, n) in enumerate(zip(starts, sizes))])
        for starts, sizes in zip(first_row, counts.tolist())
    ]
    return block_ids, np.concatenate(vocabulary), length_counts


def tf_dtype(largest_tf: int) -> np.dtype:
    """One byte per term frequency where every one fits (a term 256 times in a sentence is rare)."""
    return np.dtype(np.uint8 if largest_tf <= np.iinfo(np.uint8).max else np.uint16)


def okapi_idf(df: np.ndarray, corpus_size: int) -> np.ndarray:
    """rank_bm25's idf of terms with document frequencies ``df``, in the index's term order.

    rank_bm25 floors negative idfs at epsilon times the mean idf, summed in the order it first saw
    the terms; summed here in term order, the mean can differ from it in the last bit (about 1e-16),
    but it depends on the set of terms alone, so a build updated in place equals a full one to the
    bit. ``np.cumsum`` adds strictly left to right; the logarithms are Python's, once per distinct
    document frequency."""
    values = np.flatnonzero(np.bincount(df)) if len(df) else np.empty(0, dtype=np.int64)
    logs = np.zeros(int(values[-1]) + 1 if len(values) else 0, dtype=np.float64)
    logs[values] = [math.log(corpus_size - n + 0.5) - math.log(n + 0.5) for n in values.tolist()]
    idf = logs[df]
    average_idf = float(np.cumsum(idf)[-1]) / len(idf) if len(idf) else 0.0
    idf[idf < 0] = EPSILON * average_idf
    return idf
