"""The on-disk index: round trip, atomic swap, refusal of what it cannot serve."""

from __future__ import annotations

import json
import multiprocessing
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from index.engine.postings_build import build_postings
from index.models import Report, ReportMeta, Sentence
from index.store.sentence_table import join_tables, report_sections, table_of
from index.store.storage import (
    IndexUnavailable,
    StoredIndex,
    open_live,
    publish,
    StoredReport,
    write_build,
)

ANALYZER = {"version": 1, "name": "test"}


def make_report(name: str, texts: list[str]) -> Report:
    meta = ReportMeta(name, f"title of {name}", None, None, None, "2020-02-01", "explicit")
    sentences = tuple(
        Sentence(name, i, i * 10, i * 10 + len(t), 0, None, t) for i, t in enumerate(texts)
    )
    return Report(meta, "".join(texts), sentences)


def build(index_path: Path, reports: list[Report]) -> Path:
    postings = build_postings([list(s.text) for r in reports for s in r.sentences])
    rows, first = [], 0
    for r in reports:
        rows.append(StoredReport(r.meta, first, len(r.sentences), "sha", tuple(report_sections(r))))
        first += len(r.sentences)
    table = join_tables([table_of(r) for r in reports])
    build_dir = write_build(
        index_path, postings, rows, table, ANALYZER, {"a.txt": "sha"}, index_path
    )
    publish(index_path, build_dir)
    return build_dir


def test_round_trip_keeps_postings_reports_and_sentences(tmp_path: Path) -> None:
    reports = [make_report("a.txt", ["甲乙", "乙丙"]), make_report("b.txt", ["丙丁"])]
    build(tmp_path, reports)
    stored = open_live(tmp_path, ANALYZER)
    expected = build_postings([list(s.text) for r in reports for s in r.sentences])
    for name in ("term_chars", "length_counts", "offsets", "docs", "tfs", "idf", "doc_len"):
        np.testing.assert_array_equal(getattr(stored.postings, name), getattr(expected, name))
    assert not isinstance(stored.postings.docs, np.memmap)  # in memory: a file cut short can't SIGBUS
    assert stored.postings.avgdl == expected.avgdl
    assert [r.meta for r in stored.reports] == [r.meta for r in reports]
    assert stored.sentences(0, 2) == [s for r in reports for s in r.sentences]
    assert stored.report_of(2).meta.file == "b.txt"
    assert stored.info.sentences == 3 and stored.info.reports == 2


def test_no_index_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(IndexUnavailable, match="reports-bot index"):
        open_live(tmp_path, ANALYZER)


def test_an_older_format_is_refused(tmp_path: Path) -> None:
    build_dir = build(tmp_path, [make_report("a.txt", ["甲乙"])])
    manifest = json.loads((build_dir / "manifest.json").read_text())
    manifest["format_version"] = 0
    (build_dir / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(IndexUnavailable, match="format version 0"):
        open_live(tmp_path, ANALYZER)


def test_another_analyzer_is_refused(tmp_path: Path) -> None:
    build(tmp_path, [make_report("a.txt", ["甲乙"])])
    with pytest.raises(IndexUnavailable, match="analyzer"):
        open_live(tmp_path, {"version": 2})


def test_a_build_without_manifest_is_never_served(tmp_path: Path) -> None:
    build_dir = build(tmp_path, [make_report("a.txt", ["甲乙"])])
    (build_dir / "manifest.json").unlink()
    with pytest.raises(IndexUnavailable, match="incomplete"):
        open_live(tmp_path, ANALYZER)


def test_damaged_arrays_are_refused(tmp_path: Path) -> None:
    build_dir = build(tmp_path, [make_report("a.txt", ["甲乙", "乙丙"])])
    np.save(build_dir / "docs.npy", np.zeros(1, dtype=np.int32))
    with pytest.raises(IndexUnavailable, match="damaged"):
        StoredIndex(build_dir)


def read_until_stopped(index_path: Path, stop: Any, results: Any) -> None:
    """A reader process, like the bot: open the live index again and again, note what it saw."""
    seen: set[int] = set()
    errors: list[str] = []
    while not stop.is_set():
        try:
            stored = open_live(index_path, ANALYZER)
            seen.add(stored.info.sentences)
        except Exception as error:  # any error at all fails the test
            errors.append(repr(error))
    results.put((seen, errors))


def test_readers_during_rebuilds_see_the_old_or_the_new_index(tmp_path: Path) -> None:
    old, new = make_report("a.txt", ["甲乙"]), make_report("a.txt", ["丙丁", "戊己"])
    build(tmp_path, [old])
    context = multiprocessing.get_context("fork")
    stop, results = context.Event(), context.Queue()
    readers = [
        context.Process(target=read_until_stopped, args=(tmp_path, stop, results))
        for _ in range(2)
    ]
    for reader in readers:
        reader.start()
    for round_number in range(30):
        build(tmp_path, [new if round_number % 2 == 0 else old])
    stop.set()
    outcomes = [results.get(timeout=30) for _ in readers]
    for reader in readers:
        reader.join()
    assert [errors for _, errors in outcomes] == [[], []]
    seen = set().union(*(seen for seen, _ in outcomes))
    assert seen and seen <= {1, 2}


def test_old_builds_are_cleaned_up(tmp_path: Path) -> None:
    for _ in range(4):
        build(tmp_path, [make_report("a.txt", ["甲乙"])])
    assert len(list((tmp_path / "builds").iterdir())) == 2
