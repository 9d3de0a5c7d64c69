"""Telling a stale index from a fresh one, and rebuilding before serving when asked."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import index.store.storage
from index.text.analyzer import Analyzer
from index.build import build_index
from index.freshness import (
    corpus_changes,
    corpus_folder,
    open_searcher,
    open_serving,
    prepare_index,
)
from index.engine.ranking import BM25_ONLY
from index.store.storage import FORMAT_VERSION, IndexUnavailable, live_build, open_live

CORPUS = Path(__file__).resolve().parent.parent / "corpus"


def copy_corpus(tmp_path: Path) -> Path:
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus, ignore=shutil.ignore_patterns("metadata.toml"))
    return corpus


def manifest(index_path: Path) -> dict[str, object]:
    return open_live(index_path, Analyzer().settings).manifest


def test_a_fresh_index_has_no_changes(tmp_path: Path) -> None:
    corpus = copy_corpus(tmp_path)
    build_index(corpus, tmp_path / "ix")
    assert not corpus_changes(corpus, manifest(tmp_path / "ix"))


def test_added_changed_and_removed_reports_are_named(tmp_path: Path) -> None:
    corpus = copy_corpus(tmp_path)
    build_index(corpus, tmp_path / "ix")
    (corpus / "new" ).mkdir()
    (corpus / "new" / "extra.md").write_text("新报告\n\n这是一篇新报告。\n", "utf-8")
    with open(corpus / "000_f160c81bd3db8945.txt", "a", encoding="utf-8") as report:
        report.write("\n补充一句。\n")
    (corpus / "003_99b2eed65f7f11de.txt").unlink()
    (corpus / "metadata.toml").write_text('["001_a31383f84a783488.txt"]\ntitle = "吉林"\n', "utf-8")
    changes = corpus_changes(corpus, manifest(tmp_path / "ix"))
    assert changes.added == ("metadata.toml", "new/extra.md")
    assert changes.changed == ("000_f160c81bd3db8945.txt",)
    assert changes.removed == ("003_99b2eed65f7f11de.txt",)
    assert changes.describe() == (
        "added: metadata.toml, new/extra.md; changed: 000_f160c81bd3db8945.txt; "
        "removed: 003_99b2eed65f7f11de.txt"
    )


def test_prepare_builds_a_missing_index(tmp_path: Path) -> None:
    notes = prepare_index(CORPUS, tmp_path / "ix", rebuild_if_stale=False)
    assert notes == [f"no index at {tmp_path / 'ix'} yet: building it from {CORPUS}"]
    assert live_build(tmp_path / "ix").is_dir()


def test_prepare_reports_or_rebuilds_a_stale_index(tmp_path: Path) -> None:
    corpus = copy_corpus(tmp_path)
    build_index(corpus, tmp_path / "ix")
    before = live_build(tmp_path / "ix")
    (corpus / "002_7e09391dc468c881.txt").unlink()

    notes = prepare_index(corpus, tmp_path / "ix", rebuild_if_stale=False)
    assert notes == [
        "the index is stale (removed: 002_7e09391dc468c881.txt): run `reports-bot index`"
    ]
    assert live_build(tmp_path / "ix") == before

    notes = prepare_index(corpus, tmp_path / "ix", rebuild_if_stale=True)
    assert "rebuilding" in notes[0]
    assert live_build(tmp_path / "ix") != before
    assert prepare_index(corpus, tmp_path / "ix", rebuild_if_stale=True) == []
    assert open_live(tmp_path / "ix", Analyzer().settings).info.reports == 4


def test_an_index_without_its_corpus_folder_is_served_as_built(tmp_path: Path) -> None:
    build_index(CORPUS, tmp_path / "ix")
    notes = prepare_index(tmp_path / "gone", tmp_path / "ix", rebuild_if_stale=True)
    assert notes == [f"corpus folder {tmp_path / 'gone'} not found: serving the index as it was built"]


@pytest.mark.parametrize("rebuild_if_stale", [True, False])
def test_an_index_of_another_format_is_rebuilt_whatever_it_is_opened_for(
    tmp_path: Path, rebuild_if_stale: bool
) -> None:
    """No version of the program serves both formats, so even a search rebuilds it."""
    build_index(CORPUS, tmp_path / "ix")
    manifest_path = live_build(tmp_path / "ix") / "manifest.json"
    old = manifest_path.read_text()
    manifest_path.write_text(
        old.replace(f'"format_version": {FORMAT_VERSION}', '"format_version": 1')
    )
    (note,) = prepare_index(CORPUS, tmp_path / "ix", rebuild_if_stale=rebuild_if_stale)
    assert "format version 1" in note and note.endswith(f"rebuilding it from {CORPUS}")
    assert open_live(tmp_path / "ix", Analyzer().settings).info.format_version == FORMAT_VERSION


def test_an_index_with_damaged_files_is_rebuilt_for_serving(tmp_path: Path) -> None:
    build_index(CORPUS, tmp_path / "ix")
    damaged = live_build(tmp_path / "ix")
    docs = damaged / "docs.npy"
    docs.write_bytes(docs.read_bytes()[:-8] + b"\xff" * 8)
    with pytest.raises(IndexUnavailable, match="damaged"):
        open_live(tmp_path / "ix", Analyzer().settings)
    live, notes = open_serving(CORPUS, tmp_path / "ix")
    (note,) = notes
    assert "damaged" in note and note.endswith(f"rebuilding it from {CORPUS}")
    assert live.current().build_dir != damaged
    assert live.current().search("疫情防控").hits


def test_an_index_with_damaged_files_is_rebuilt_for_a_search(tmp_path: Path) -> None:
    build_index(CORPUS, tmp_path / "ix")
    damaged = live_build(tmp_path / "ix")
    (damaged / "idf.npy").write_bytes(b"")
    searcher, notes = open_searcher(CORPUS, tmp_path / "ix")
    (note,) = notes
    assert "damaged" in note and note.endswith(f"rebuilding it from {CORPUS}")
    assert searcher.build_dir != damaged and searcher.search("疫情防控").hits


def test_serving_a_stale_index_switches_to_its_rebuild_before_the_first_question(
    tmp_path: Path,
) -> None:
    corpus = copy_corpus(tmp_path)
    build_index(corpus, tmp_path / "ix")
    stale = live_build(tmp_path / "ix")
    (corpus / "000_f160c81bd3db8945.txt").unlink()
    live, notes = open_serving(corpus, tmp_path / "ix")
    (note,) = notes
    assert note.startswith("the corpus changed since the index was built (removed: 000_")
    assert live.current().build_dir != stale
    assert len(live.current().reports) == 4


def test_another_corpus_folder_is_named_and_rebuilt_from_only_for_serving(tmp_path: Path) -> None:
    corpus = copy_corpus(tmp_path)
    build_index(CORPUS, tmp_path / "ix")
    built = live_build(tmp_path / "ix")
    (note,) = prepare_index(corpus, tmp_path / "ix", rebuild_if_stale=False)
    assert note == (
        f"the index was built from {CORPUS}, not {corpus}: "
        f"run `reports-bot index --corpus {corpus}`"
    )
    assert live_build(tmp_path / "ix") == built
    (note,) = prepare_index(corpus, tmp_path / "ix", rebuild_if_stale=True)
    assert note == f"the index was built from {CORPUS}: rebuilding it from {corpus}"
    assert live_build(tmp_path / "ix") != built
    assert corpus_folder(None, tmp_path / "ix") == corpus


def test_the_corpus_folder_is_the_chosen_else_the_built_one_else_corpus(tmp_path: Path) -> None:
    assert corpus_folder(None, tmp_path / "ix") == Path("corpus")
    build_index(CORPUS, tmp_path / "ix")
    assert corpus_folder(None, tmp_path / "ix") == CORPUS
    assert corpus_folder(tmp_path / "other", tmp_path / "ix") == tmp_path / "other"


def test_a_served_index_ranks_as_asked(tmp_path: Path) -> None:
    build_index(CORPUS, tmp_path / "ix")
    live, _ = open_serving(CORPUS, tmp_path / "ix", ranking=BM25_ONLY)
    hits = live.current().search("吉林派了多少医护人员去湖北").hits
    assert hits and all(hit.score == hit.bm25 for hit in hits)


@pytest.mark.parametrize("opener", [open_searcher, open_serving])
def test_opening_a_fresh_index_reads_its_manifest_once(
    opener, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    corpus = copy_corpus(tmp_path)
    build_index(corpus, tmp_path / "ix")
    reads: list[Path] = []
    read_manifest = index.store.storage.read_manifest

    def counted(build_dir: Path) -> dict[str, object]:
        reads.append(build_dir)
        return read_manifest(build_dir)

    monkeypatch.setattr(index.store.storage, "read_manifest", counted)
    opened, notes = opener(corpus, tmp_path / "ix")
    assert notes == [] and reads == [live_build(tmp_path / "ix")]
