"""Building postings: each report's terms counted into a TermBlock, the blocks merged into one
Postings, and the last step both a full build and an update (``index.engine.update``) end with,
so that the two agree to the bit.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import chain

import numpy as np

from index.engine.postings import Postings

EPSILON = 0.25
"""rank_bm25's floor for negative idfs, as a share of the mean idf."""


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
        block_ids, term_chars, length_counts = merged_vocabulary(blocks)
        df = np.zeros(int(length_counts.sum()), dtype=np.int64)
        report_df = np.zeros(len(df), dtype=np.int32)
        for ids, block in zip(block_ids, blocks):
            df[ids] += block.df
            report_df[ids] += 1  # a block's terms are distinct

        def place(offsets: np.ndarray, tfs_dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
            """Each block's postings scattered after those of the blocks before it, term by term."""
            docs = np.empty(int(offsets[-1]), dtype=np.int32)
            tfs = np.empty(int(offsets[-1]), dtype=tfs_dtype)
            next_free = offsets[:-1].copy()
            first_doc = 0
            for ids, block in zip(block_ids, blocks):
                block_df = np.asarray(block.df, dtype=np.int64)
                shift = next_free[ids] - (np.cumsum(block_df) - block_df)
                next_free[ids] += block_df
                slots = np.repeat(shift, block_df) + np.arange(len(block.docs))
                docs[slots] = np.asarray(block.docs) + first_doc
                tfs[slots] = clipped_tfs(block.tfs, tfs_dtype)
                first_doc += len(block.doc_len)
            return docs, tfs

        return finished_postings(
            term_chars=term_chars,
            length_counts=length_counts,
            df=df,
            report_df=report_df,
            doc_len=np.concatenate([block.doc_len for block in blocks]).astype(np.int32),
            largest_tf=max(int(block.tfs.max(initial=0)) for block in blocks),
            place=place,
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


PlacePostings = Callable[[np.ndarray, np.dtype], tuple[np.ndarray, np.ndarray]]
"""Given the CSR offsets and the dtype term frequencies are stored in, the postings' ``docs`` and
``tfs`` (clipped with ``clipped_tfs``)."""


def finished_postings(
    *,
    term_chars: np.ndarray,
    length_counts: np.ndarray,
    df: np.ndarray,
    report_df: np.ndarray,
    doc_len: np.ndarray,
    largest_tf: int,
    place: PlacePostings,
) -> Postings:
    """The Postings of a vocabulary (``df`` sentences and ``report_df`` reports per term) and
    ``doc_len`` terms per sentence, with the postings ``place`` puts where the offsets say.

    A full build and an update both end here, so everything derived from the counts (offsets, the
    term frequencies' dtype, rank_bm25's idf, avgdl) is computed one way and agrees to the bit."""
    offsets = np.zeros(len(df) + 1, dtype=np.int64)
    np.cumsum(df, out=offsets[1:])
    docs, tfs = place(offsets, _tf_dtype(largest_tf))
    return Postings(
        term_chars=term_chars,
        length_counts=length_counts,
        offsets=offsets,
        docs=docs,
        tfs=tfs,
        idf=_okapi_idf(df, len(doc_len)),
        doc_len=doc_len,
        report_df=report_df,
        avgdl=float(int(doc_len.sum(dtype=np.int64)) / len(doc_len)),
    )


def _tf_dtype(largest_tf: int) -> np.dtype:
    """One byte per term frequency where every one fits (a term 256 times in a sentence is rare)."""
    return np.dtype(np.uint8 if largest_tf <= np.iinfo(np.uint8).max else np.uint16)


def clipped_tfs(tfs: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Term frequencies capped at the largest ``dtype`` holds (65535 in two bytes), not wrapped."""
    return np.minimum(tfs, np.iinfo(dtype).max)


def _okapi_idf(df: np.ndarray, corpus_size: int) -> np.ndarray:
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
