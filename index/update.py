"""Updating a build in place of rebuilding it: when a few reports of a large corpus change, the new
postings are the old ones with those reports' sentences cut out and the new reports' spliced in.

A full merge touches every report's cached analysis (linear in the corpus, minutes at a million
sentences); this touches the changed reports' analysis and makes a handful of passes over the old
arrays, each a single numpy operation. The result equals a full build's, array for array: sentences
stay in corpus order, terms in (length, text) order, and the idf depends only on the set of terms.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from index.bm25 import Postings, TermBlock, okapi_idf, tf_dtype


@dataclass(frozen=True)
class Kept:
    """Sentences old_first..old_first+count-1 of the old build, now numbered from new_first."""

    old_first: int
    count: int
    new_first: int


@dataclass(frozen=True)
class Added:
    """A report's analysis, its sentences numbered from new_first in the new build."""

    block: TermBlock
    new_first: int


def updated_postings(
    old: Postings, kept: Sequence[Kept], added: Sequence[Added], sentence_count: int
) -> Postings:
    """The postings of a corpus made of ``kept`` runs of the old one and ``added`` reports."""
    # Old sentences to their new ids (-1: gone); kept runs keep their order, so postings stay sorted.
    new_id = np.full(old.sentence_count, -1, dtype=np.int32)
    doc_len = np.zeros(sentence_count, dtype=np.int32)
    for run in kept:
        new_id[run.old_first : run.old_first + run.count] = np.arange(
            run.new_first, run.new_first + run.count, dtype=np.int32
        )
        doc_len[run.new_first : run.new_first + run.count] = old.doc_len[
            run.old_first : run.old_first + run.count
        ]
    for report in added:
        doc_len[report.new_first : report.new_first + len(report.block.doc_len)] = report.block.doc_len

    docs = new_id[old.docs]
    gone = np.flatnonzero(docs < 0)
    kept_df = np.diff(old.offsets) - np.bincount(
        np.searchsorted(old.offsets, gone, side="right") - 1, minlength=old.term_count
    )
    tfs = old.tfs
    if len(gone):
        docs, tfs = np.delete(docs, gone), np.delete(tfs, gone)

    vocabulary = _Vocabulary(old, [report.block.vocabulary for report in added])
    df = np.zeros(vocabulary.size, dtype=np.int64)
    df[vocabulary.old_position] = kept_df
    block_terms = [vocabulary.positions(i) for i in range(len(added))]
    for terms, report in zip(block_terms, added):
        df[terms] += report.block.df
    alive = df > 0
    final_id = np.cumsum(alive) - 1

    # The new postings, ordered by (term, sentence), and where each goes among the kept ones.
    none = [np.empty(0, dtype=np.int64)]
    new_terms = np.concatenate(
        none + [np.repeat(final_id[terms], r.block.df) for terms, r in zip(block_terms, added)]
    )
    new_docs = np.concatenate(none + [r.block.docs + r.new_first for r in added]).astype(np.int32)
    new_tfs = np.concatenate(none + [r.block.tfs for r in added])
    order = np.lexsort((new_docs, new_terms))
    new_terms, new_docs, new_tfs = new_terms[order], new_docs[order], new_tfs[order]
    still_held = alive[vocabulary.old_position]
    kept_by_term = np.zeros(int(alive.sum()), dtype=np.int64)
    kept_by_term[final_id[vocabulary.old_position[still_held]]] = kept_df[still_held]
    kept_start = np.concatenate(([0], np.cumsum(kept_by_term)))
    slots = kept_start[new_terms]
    for term in np.unique(new_terms).tolist():
        mine = slice(*np.searchsorted(new_terms, [term, term + 1]))
        held = docs[kept_start[term] : kept_start[term + 1]]
        slots[mine] += np.searchsorted(held, new_docs[mine])

    largest_tf = max(int(tfs.max(initial=0)), int(new_tfs.max(initial=0)))
    new_tfs = np.minimum(new_tfs, np.iinfo(tf_dtype(largest_tf)).max)
    final_df = df[alive]
    offsets = np.zeros(len(final_df) + 1, dtype=np.int64)
    np.cumsum(final_df, out=offsets[1:])
    term_chars, length_counts = vocabulary.chars(alive)
    return Postings(
        term_chars=term_chars,
        length_counts=length_counts,
        offsets=offsets,
        docs=np.insert(docs, slots, new_docs),
        tfs=np.insert(tfs.astype(tf_dtype(largest_tf), copy=False), slots, new_tfs),
        idf=okapi_idf(final_df, sentence_count),
        doc_len=doc_len,
        avgdl=float(int(doc_len.sum(dtype=np.int64)) / sentence_count),
    )


class _Vocabulary:
    """The old terms and the new reports' unseen ones together, in (length, text) order.

    Positions run over both: old term i sits at ``old_position[i]``, each unseen term just before
    the first old term that sorts after it. Terms no sentence holds any more are dropped later."""

    def __init__(self, old: Postings, vocabularies: Sequence[Sequence[str]]) -> None:
        self._old = old
        self._vocabularies = vocabularies
        self._old_ids = [np.asarray([-1 if i is None else i for i in old.term_ids(v)], dtype=np.int64)
                         for v in vocabularies]
        unseen = {t for v, ids in zip(vocabularies, self._old_ids) for t, i in zip(v, ids) if i < 0}
        self.unseen = sorted(unseen, key=lambda term: (len(term), term))
        before = np.asarray([old.rank_of(term) for term in self.unseen], dtype=np.int64)
        self.old_position = np.arange(old.term_count) + np.searchsorted(
            before, np.arange(old.term_count), side="right"
        )
        self._unseen_position = dict(
            zip(self.unseen, (before + np.arange(len(before))).tolist())
        )
        self.size = old.term_count + len(self.unseen)

    def positions(self, i: int) -> np.ndarray:
        """Where the terms of vocabulary ``i`` sit."""
        ids = self._old_ids[i]
        positions = self.old_position[np.maximum(ids, 0)]
        for j in np.flatnonzero(ids < 0).tolist():
            positions[j] = self._unseen_position[self._vocabularies[i][j]]
        return positions

    def chars(self, alive: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The ``term_chars`` and ``length_counts`` of the terms still alive."""
        old_alive = alive[self.old_position]
        unseen_alive = [t for t in self.unseen if alive[self._unseen_position[t]]]
        lengths = max(len(self._old.length_counts), max(map(len, unseen_alive), default=0) + 1)
        length_counts = np.zeros(lengths, dtype=np.int64)
        pieces = []
        first_id = np.concatenate(([0], np.cumsum(self._old.length_counts)))
        for length in range(1, lengths):
            mine = [t for t in unseen_alive if len(t) == length]
            if length < len(self._old.length_counts):
                ids = slice(first_id[length], first_id[length + 1])
                group = self._old.terms_of_length(length)[old_alive[ids]]
            else:
                group = np.empty(0, dtype=f"<U{length}")
            group = np.insert(group, np.searchsorted(group, mine), mine) if mine else group
            length_counts[length] = len(group)
            pieces.append(np.ascontiguousarray(group).view(np.uint32))
        longest = int(np.flatnonzero(length_counts)[-1]) if length_counts.any() else 0
        chars = np.concatenate([np.empty(0, dtype=np.uint32), *pieces]).astype(np.uint32, copy=False)
        return chars, length_counts[: longest + 1]
