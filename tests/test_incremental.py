"""Rebuilds reuse each report's cached analysis and still build exactly what a full build does."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

import index.build
from index.text.analyzer import Analyzer
from index.build import BuildSummary, build_index
from index.ingest.reading import discover
from index.store.storage import StoredIndex, live_build

CORPUS = Path(__file__).resolve().parent.parent / "corpus"
ARRAYS = ("terms", "offsets", "docs", "tfs", "idf", "doc_len")


@pytest.fixture(scope="module")
def analyzer() -> Analyzer:
    return Analyzer()


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    shutil.copytree(CORPUS, folder)
    return folder


def assert_same_index(built: Path, expected: Path) -> None:
    """Two index folders serve the same postings, scores, reports and sentences."""
    a, b = StoredIndex(live_build(built)), StoredIndex(live_build(expected))
    for name in ARRAYS:
        np.testing.assert_array_equal(getattr(a.postings, name), getattr(b.postings, name))
    assert a.postings.avgdl == b.postings.avgdl
    assert a.reports == b.reports
    assert a.sentences(0, a.info.sentences) == b.sentences(0, b.info.sentences)
    assert a.manifest["corpus_files"] == b.manifest["corpus_files"]


def rebuild_and_compare(corpus: Path, cached: Path, fresh: Path, analyzer: Analyzer) -> BuildSummary:
    summary = build_index(corpus, cached, analyzer)
    full = build_index(corpus, fresh, analyzer)
    assert full.analysed == len(discover(corpus).files)
    assert summary.warnings == full.warnings
    assert_same_index(cached, fresh)
    return summary


def test_an_unchanged_corpus_is_not_analysed_again(
    corpus: Path, tmp_path: Path, analyzer: Analyzer
) -> None:
    first = build_index(corpus, tmp_path / "ix", analyzer)
    assert first.analysed == 5
    again = rebuild_and_compare(corpus, tmp_path / "ix", tmp_path / "full", analyzer)
    assert again.analysed == 0


def test_adding_a_report_analyses_only_that_report(
    corpus: Path, tmp_path: Path, analyzer: Analyzer
) -> None:
    build_index(corpus, tmp_path / "ix", analyzer)
    text = (corpus / "002_7e09391dc468c881.txt").read_text(encoding="utf-8")
    (corpus / "sub").mkdir()
    (corpus / "sub" / "001_new.txt").write_text(text.replace("疫情", "新冠疫情"), encoding="utf-8")
    summary = rebuild_and_compare(corpus, tmp_path / "ix", tmp_path / "full", analyzer)
    assert (summary.analysed, summary.kept, summary.reports) == (1, 5, 6)


def test_changing_a_report_analyses_only_that_report(
    corpus: Path, tmp_path: Path, analyzer: Analyzer
) -> None:
    build_index(corpus, tmp_path / "ix", analyzer)
    changed = corpus / "001_a31383f84a783488.txt"
    changed.write_text(changed.read_text(encoding="utf-8") + "\n新增一段:疫苗接种工作有序推进。\n")
    summary = rebuild_and_compare(corpus, tmp_path / "ix", tmp_path / "full", analyzer)
    assert (summary.analysed, summary.kept) == (1, 4)


def test_removing_a_report_analyses_nothing_and_drops_its_cache_entry(
    corpus: Path, tmp_path: Path, analyzer: Analyzer
) -> None:
    build_index(corpus, tmp_path / "ix", analyzer)
    entries = set((tmp_path / "ix" / "cache").rglob("*.json"))
    (corpus / "000_f160c81bd3db8945.txt").unlink()
    summary = rebuild_and_compare(corpus, tmp_path / "ix", tmp_path / "full", analyzer)
    assert (summary.analysed, summary.kept, summary.reports) == (0, 4, 4)
    assert len(set((tmp_path / "ix" / "cache").rglob("*.json"))) == len(entries) - 1


def test_a_metadata_override_reanalyses_only_its_report(
    corpus: Path, tmp_path: Path, analyzer: Analyzer
) -> None:
    build_index(corpus, tmp_path / "ix", analyzer)
    with open(corpus / "metadata.toml", "a", encoding="utf-8") as overrides:
        overrides.write('\n["003_99b2eed65f7f11de.txt"]\ntitle = "株洲市援鄂医疗队"\n')
    summary = rebuild_and_compare(corpus, tmp_path / "ix", tmp_path / "full", analyzer)
    assert summary.analysed == 1


def test_unreadable_files_are_cached_with_their_warning(
    corpus: Path, tmp_path: Path, analyzer: Analyzer
) -> None:
    (corpus / "empty.txt").write_bytes(b"")
    first = build_index(corpus, tmp_path / "ix", analyzer)
    summary = rebuild_and_compare(corpus, tmp_path / "ix", tmp_path / "full", analyzer)
    assert summary.analysed == 0
    assert any("empty.txt" in warning for warning in summary.warnings)
    assert summary.warnings == first.warnings


def test_a_damaged_cache_entry_is_analysed_again(
    corpus: Path, tmp_path: Path, analyzer: Analyzer
) -> None:
    build_index(corpus, tmp_path / "ix", analyzer)
    victim = sorted((tmp_path / "ix" / "cache").rglob("*.bin"))[0]
    victim.write_bytes(victim.read_bytes()[:100])
    (tmp_path / "ix" / "current").unlink()  # no build to update: every report from the cache
    summary = rebuild_and_compare(corpus, tmp_path / "ix", tmp_path / "full", analyzer)
    assert summary.analysed == 1


def test_worker_processes_build_what_one_process_builds(
    corpus: Path, tmp_path: Path, analyzer: Analyzer, monkeypatch: pytest.MonkeyPatch
) -> None:
    build_index(corpus, tmp_path / "one", analyzer, workers=1)
    monkeypatch.setattr(index.build, "PARALLEL_MIN_BYTES", 0)
    summary = build_index(corpus, tmp_path / "two", analyzer, workers=2)
    assert summary.analysed == 5
    assert_same_index(tmp_path / "two", tmp_path / "one")


def test_when_most_reports_changed_every_report_is_merged_afresh(
    corpus: Path, tmp_path: Path, analyzer: Analyzer
) -> None:
    build_index(corpus, tmp_path / "ix", analyzer)
    for report in sorted(corpus.glob("*.txt"))[:2]:
        report.write_text(report.read_text(encoding="utf-8") + "\n新增一段:核酸检测有序开展。\n")
    summary = rebuild_and_compare(corpus, tmp_path / "ix", tmp_path / "full", analyzer)
    assert (summary.analysed, summary.kept) == (2, 0)


def test_an_entry_whose_arrays_do_not_fit_together_is_analysed_again(
    corpus: Path, tmp_path: Path, analyzer: Analyzer
) -> None:
    """The .bin file is whole, but the JSON's array lengths were changed: two swapped lengths
    still add up to the file's size, yet the sentence table and the terms no longer agree."""
    build_index(corpus, tmp_path / "ix", analyzer)
    entry = sorted((tmp_path / "ix" / "cache").rglob("*.bin"))[0].with_suffix(".json")
    fields = json.loads(entry.read_text(encoding="utf-8"))
    fields["sizes"][4], fields["sizes"][5] = fields["sizes"][5], fields["sizes"][4]  # df, docs
    entry.write_text(json.dumps(fields, ensure_ascii=False), encoding="utf-8")
    (tmp_path / "ix" / "current").unlink()
    summary = rebuild_and_compare(corpus, tmp_path / "ix", tmp_path / "full", analyzer)
    assert summary.analysed == 1
