"""Updating a build in place of rebuilding it: when a few reports of a large corpus change, the new
postings are the old ones with those reports' sentences cut out and the new reports' spliced in.

A full merge touches every report's cached analysis (linear in the corpus, minutes at a million
sentences); this touches the changed reports' analysis and makes a handful of passes over the old
arrays, each a single numpy operation. The result equals a full build's, array for array: sentences
stay in corpus order, terms in (length, text) order, and the idf depends only on the set of terms.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from index.engine.postings import Postings
from index.engine.postings_build import TermBlock, clipped_tfs, finished_postings


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
    old: Postings,
    old_report_starts: Sequence[int],
    kept: Sequence[Kept],
    added: Sequence[Added],
    sentence_count: int,
) -> Postings:
    """The postings of a corpus made of ``kept`` runs of the old one (whole reports; the old
    reports start at ``old_report_starts``) and ``added`` reports."""
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

    gone = np.flatnonzero((new_id < 0)[old.docs])
    gone_terms = np.searchsorted(old.offsets, gone, side="right") - 1
    kept_df = np.diff(old.offsets) - np.bincount(gone_terms, minlength=old.term_count)
    # Each term's reports that leave: distinct (term, old report) pairs among the postings that go.
    reports = len(old_report_starts)
    gone_reports = np.searchsorted(old_report_starts, old.docs[gone], side="right") - 1
    leaving = np.unique(gone_terms * reports + gone_reports) // max(reports, 1)
    kept_report_df = old.report_df - np.bincount(leaving, minlength=old.term_count)

    vocabulary = _Vocabulary(old, [report.block.vocabulary for report in added])
    df = np.zeros(vocabulary.size, dtype=np.int64)
    df[vocabulary.old_position] = kept_df
    report_df = np.zeros(vocabulary.size, dtype=np.int32)
    report_df[vocabulary.old_position] = kept_report_df
    block_terms = [vocabulary.positions(i) for i in range(len(added))]
    for terms, report in zip(block_terms, added):
        df[terms] += report.block.df
        report_df[terms] += 1
    alive = df > 0
    final_id = np.cumsum(alive) - 1

    # The new postings, and where each goes in the old arrays: a report's postings of a term go
    # after the term's sentences that stay before the report.
    bounds = _old_bounds(kept, added, old.sentence_count)
    at = [np.repeat(_insertion_points(old, vocabulary.anchors(i), bound), r.block.df)
          for i, (r, bound) in enumerate(zip(added, bounds))]
    none = [np.empty(0, dtype=np.int64)]
    new_at = np.concatenate(none + at)
    new_terms = np.concatenate(
        none + [np.repeat(final_id[terms], r.block.df) for terms, r in zip(block_terms, added)]
    )
    new_docs = np.concatenate(none + [r.block.docs + r.new_first for r in added]).astype(np.int32)
    new_tfs = np.concatenate(none + [r.block.tfs for r in added])
    order = np.lexsort((new_docs, new_terms, new_at))
    new_at, new_docs, new_tfs = new_at[order], new_docs[order], new_tfs[order]

    term_chars, length_counts = vocabulary.chars(alive)

    def place(offsets: np.ndarray, tfs_dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
        """The old postings without the sentences that went, with the new ones spliced in."""
        return (
            _splice(old.docs, gone, new_at, new_docs, renumber=new_id),
            _splice(old.tfs.astype(tfs_dtype, copy=False), gone, new_at,
                    clipped_tfs(new_tfs, tfs_dtype)),
        )

    return finished_postings(
        term_chars=term_chars,
        length_counts=length_counts,
        df=df[alive],
        report_df=report_df[alive],
        doc_len=doc_len,
        largest_tf=max(int(old.tfs.max(initial=0)), int(new_tfs.max(initial=0))),
        place=place,
    )


def _old_bounds(kept: Sequence[Kept], added: Sequence[Added], old_count: int) -> list[int]:
    """For each added report, the old id of the first kept sentence that comes after it."""
    runs = sorted(kept, key=lambda run: run.new_first)
    starts = [run.new_first for run in runs]
    bounds = []
    for report in added:
        following = bisect.bisect_right(starts, report.new_first)
        bounds.append(runs[following].old_first if following < len(runs) else old_count)
    return bounds


def _insertion_points(old: Postings, anchors: np.ndarray, bound: int) -> np.ndarray:
    """Where a report's postings go in the old arrays, per term: before the old sentences >= bound
    of an old term (anchor >= 0), or where an unseen term sorts (before old term -anchor-1)."""
    points = old.offsets[np.where(anchors >= 0, anchors, -anchors - 1)]
    for j in np.flatnonzero(anchors >= 0).tolist():
        term = anchors[j]
        points[j] += np.searchsorted(old.docs[old.offsets[term] : old.offsets[term + 1]], bound)
    return points


SLICED_EDITS_MAX = 200_000
"""Above this many edits (many reports changed at once), a Python loop over them would cost more
than numpy's masked delete and insert."""


def _splice(
    source: np.ndarray,
    removed: np.ndarray,
    at: np.ndarray,
    values: np.ndarray,
    renumber: np.ndarray | None = None,
) -> np.ndarray:
    """``source`` without the entries at positions ``removed``, with ``values[i]`` inserted before
    position ``at[i]`` (both ascending), and what is kept of ``source`` mapped through
    ``renumber``: one pass, slice by slice between the edits, into the one new array. (Delete and
    insert would each pass over the whole array with a mask; and fresh memory is slow to touch.)"""
    if len(removed) + len(at) > SLICED_EDITS_MAX:
        kept = np.delete(source, removed)
        if renumber is not None:
            kept = np.take(renumber, kept, mode="wrap")
        return np.insert(kept, at - np.searchsorted(removed, at), values)
    groups = np.flatnonzero(np.diff(at)) + 1
    edits = sorted(
        [(int(position), 1, None) for position in removed.tolist()]
        + [(int(at[first]), 0, slice(first, last))
           for first, last in zip([0, *groups.tolist()], [*groups.tolist(), len(at)])
           if first < last]
    )
    out = np.empty(len(source) - len(removed) + len(values), dtype=source.dtype)
    filled = 0

    def put(piece: np.ndarray, mapped: np.ndarray | None) -> None:
        nonlocal filled
        target = out[filled : filled + len(piece)]
        if mapped is None:
            target[:] = piece
        else:
            np.take(mapped, piece, out=target, mode="wrap")  # "wrap": in range; "clip" is slower
        filled += len(piece)

    start = 0
    for position, is_removal, inserted in edits:
        if position > start:
            put(source[start:position], renumber)
            start = position
        if is_removal:
            start = position + 1
        else:
            put(values[inserted], None)
    put(source[start:], renumber)
    return out


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
        self._unseen_rank = dict(zip(self.unseen, before.tolist()))
        self.size = old.term_count + len(self.unseen)

    def anchors(self, i: int) -> np.ndarray:
        """Per term of vocabulary ``i``: its old id, or for an unseen term -1 - the id of the old
        term it sorts before."""
        anchors = self._old_ids[i].copy()
        for j in np.flatnonzero(anchors < 0).tolist():
            anchors[j] = -1 - self._unseen_rank[self._vocabularies[i][j]]
        return anchors

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
