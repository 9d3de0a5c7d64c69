"""Postings updated in place (reports cut out, reports spliced in) equal a full build's, array for array."""

from __future__ import annotations

import random

import numpy as np
import pytest

from index.engine.postings import Postings
from index.engine.postings_build import PostingsBuilder, term_block
import index.engine.update
from index.engine.update import Added, Kept, updated_postings

ARRAYS = ("term_chars", "length_counts", "offsets", "docs", "tfs", "idf", "doc_len", "report_df")


def build(reports: list[list[list[str]]]) -> Postings:
    """A full build: one term block per report, as the index merges them."""
    builder = PostingsBuilder()
    for report in reports:
        builder.add(term_block(report))
    return builder.finish()


def random_report(rng: random.Random, words: list[str]) -> list[list[str]]:
    weights = [1 / (rank + 1) for rank in range(len(words))]
    return [rng.choices(words, weights, k=rng.randint(0, 12)) for _ in range(rng.randint(1, 6))]


def update(old_reports: list[list[list[str]]], new_reports: list[list[list[str]]]) -> Postings:
    """Update the old corpus's postings to the new corpus: reports equal (by identity) to an old
    one are kept, the others added."""
    old = build(old_reports)
    old_first, first = {}, 0
    for report in old_reports:
        old_first[id(report)], first = first, first + len(report)
    kept, added, first = [], [], 0
    for report in new_reports:
        if id(report) in old_first:
            kept.append(Kept(old_first[id(report)], len(report), first))
        else:
            added.append(Added(term_block(report), first))
        first += len(report)
    return updated_postings(old, list(old_first.values()), kept, added, first)


def assert_equal(a: Postings, b: Postings) -> None:
    for name in ARRAYS:
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
        assert getattr(a, name).dtype == getattr(b, name).dtype, name
    assert a.avgdl == b.avgdl


@pytest.mark.parametrize("seed", range(40))
def test_removing_changing_and_adding_reports_equals_a_full_build(seed: int) -> None:
    rng = random.Random(seed)
    # Words of several lengths, some only in new reports (new terms, a new longest length).
    old_words = [rng.choice("甲乙丙丁") * rng.randint(1, 3) + str(i) for i in range(30)]
    new_words = old_words[: rng.randint(1, 30)] + [f"新{'词' * rng.randint(0, 6)}{i}" for i in range(8)]
    old_reports = [random_report(rng, old_words) for _ in range(rng.randint(1, 8))]
    new_reports = [r for r in old_reports if rng.random() < 0.7]
    for _ in range(rng.randint(0, 3)):
        new_reports.insert(rng.randint(0, len(new_reports)), random_report(rng, new_words))
    if not sum(map(len, new_reports)):
        new_reports.append([["甲"]])
    assert_equal(update(old_reports, new_reports), build(new_reports))


def test_a_term_frequency_over_255_widens_the_frequencies() -> None:
    old_reports = [[["a", "b"], ["b"]]]
    new_reports = [old_reports[0], [["a"] * 300]]
    updated = update(old_reports, new_reports)
    assert updated.tfs.dtype == np.uint16
    assert_equal(updated, build(new_reports))


def test_nothing_changed_gives_the_same_postings() -> None:
    reports = [[["a", "b"], ["b", "c"]], [["c", "dd"]]]
    assert_equal(update(reports, list(reports)), build(reports))


@pytest.mark.parametrize("sliced_edits_max", [0, 10**9])
def test_splicing_by_slices_and_by_masks_agree(
    sliced_edits_max: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Few edits are applied slice by slice, many with numpy's delete and insert: the same result."""
    monkeypatch.setattr(index.engine.update, "SLICED_EDITS_MAX", sliced_edits_max)
    rng = np.random.default_rng(3)
    for _ in range(50):
        source = rng.integers(0, 50, rng.integers(0, 40)).astype(np.int32)
        removed = np.sort(rng.choice(len(source), rng.integers(0, len(source) + 1), replace=False))
        at = np.sort(rng.integers(0, len(source) + 1, rng.integers(0, 10)))
        values = rng.integers(100, 200, len(at)).astype(np.int32)
        renumber = rng.permutation(50).astype(np.int32)
        expected: list[int] = []
        for position in range(len(source) + 1):
            expected += values[at == position].tolist()
            if position < len(source) and position not in removed:
                expected.append(int(renumber[source[position]]))
        spliced = index.engine.update._splice(source, removed, at, values, renumber=renumber)
        assert spliced.tolist() == expected
        assert spliced.dtype == source.dtype


def test_many_changed_reports_update_as_a_full_build(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(index.engine.update, "SLICED_EDITS_MAX", 0)
    for seed in range(10):
        test_removing_changing_and_adding_reports_equals_a_full_build(seed)
