"""Walking the corpus folder: links out of it, very deep folders, folders that cannot be read."""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from bot_fixtures import copy_corpus

from index.build import build_index
from index.ingest.pipeline import load_corpus
from index.freshness import open_searcher

SECRET = "123456:SECRET-token-from-env"
DEPTH = 1000


@pytest.fixture
def deep_corpus(tmp_path: Path) -> Iterator[Path]:
    """The five reports at the bottom of DEPTH nested folders; removed bottom-up afterwards, as
    shutil.rmtree (and so pytest's clean-up) recurses once per level."""
    root = bottom = tmp_path / "deep"
    for _ in range(DEPTH):  # Path.mkdir(parents=True) recurses once per level too
        bottom = bottom / "d"
        bottom.mkdir(parents=True)
    copy_corpus(bottom)
    yield root
    while bottom != tmp_path:
        for child in bottom.iterdir():
            child.unlink() if not child.is_dir() else child.rmdir()
        bottom = bottom.parent


def test_links_out_of_the_corpus_folder_are_refused_and_named(tmp_path: Path) -> None:
    """corpus/env.txt -> ../.env put the bot token into answers."""
    corpus = copy_corpus(tmp_path / "corpus", files=1)
    (tmp_path / ".env").write_text(f"REPORTS_BOT_TOKEN={SECRET}\n这是机密的配置文件，不应被索引。\n")
    (tmp_path / "outside.txt").write_text("外面的报告内容，不应被索引。\n")
    (corpus / "env.txt").symlink_to("../.env")
    (corpus / "absolute.md").symlink_to(tmp_path / "outside.txt")
    (corpus / "inside.txt").symlink_to(next(corpus.glob("*.txt")).name)
    summary = build_index(corpus, tmp_path / "index", workers=1)
    assert summary.reports == 1
    for name in ("env.txt", "absolute.md"):
        (warning,) = [w for w in summary.warnings if w.startswith(f"{name}:")]
        assert "outside the corpus folder" in warning
    assert [w for w in summary.warnings if w.startswith("inside.txt:")], "a link inside is read"
    searcher, _ = open_searcher(corpus, tmp_path / "index")
    assert not searcher.search("机密的配置文件 SECRET").hits
    assert all(SECRET not in w for w in load_corpus(corpus).warnings)


def test_a_corpus_nested_a_thousand_folders_deep_is_built_and_searched(
    deep_corpus: Path, tmp_path: Path
) -> None:
    corpus = deep_corpus
    summary = build_index(corpus, tmp_path / "index", workers=1)
    searcher, notes = open_searcher(corpus, tmp_path / "index")
    assert summary.reports == 5 and notes == []
    assert searcher.search("河北省卫生健康委党组").hits


@pytest.fixture
def unreadable_folders_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """Folders with no read permission fail to list as they would for the bot's own user; the
    tests may run as root, which lists them anyway."""
    real_scandir = os.scandir

    def scandir(path: str | os.PathLike[str]) -> object:
        if not stat.S_IMODE(os.stat(path).st_mode) & 0o444:
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)


@pytest.mark.usefixtures("unreadable_folders_refused")
def test_an_unreadable_sub_folder_is_named(tmp_path: Path) -> None:
    corpus = copy_corpus(tmp_path / "corpus", files=1)
    locked = corpus / "sub" / "locked"
    copy_corpus(locked, files=2)
    locked.chmod(0)
    try:
        summary = build_index(corpus, tmp_path / "index", workers=1)
    finally:
        locked.chmod(0o755)
    assert summary.reports == 1
    (warning,) = [w for w in summary.warnings if w.startswith("sub/locked/:")]
    assert "could not be read" in warning
