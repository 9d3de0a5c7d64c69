"""Rebuilds that fail and index files that break: the bot keeps answering from the last good index.

A rebuild can stop half-way (the disk fills up, the process is killed) and a build's files can be
cut short or overwritten while the bot serves them. In every case the live index must stay as it
was, the damage must be logged, and the next rebuild must work.
"""

from __future__ import annotations

import errno
import logging
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from bot_fixtures import CORPUS, copy_corpus

import index.freshness
import index.store.storage
from index.build import build_index
from index.freshness import open_serving
from index.live import LiveIndex
from index.search import Searcher
from index.store.storage import DATA_FILES, live_build

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = ("疫情防控", "党员先锋模范作用", "防控物资保障", "婦保院黨委")


def answers(searcher: Searcher) -> list[list[tuple[str, int]]]:
    """What the index answers to a few questions, to compare before and after a fault."""
    return [
        [(hit.report.file, hit.sentence.position) for hit in searcher.search(q).hits]
        for q in QUESTIONS
    ]


@pytest.fixture(scope="module")
def three_reports(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A corpus folder of three of the five reports and its index, built once."""
    folder = tmp_path_factory.mktemp("three")
    corpus = copy_corpus(folder / "corpus", files=3)
    build_index(corpus, folder / "index", workers=1)
    return corpus, folder / "index"


@pytest.fixture
def live(three_reports: tuple[Path, Path], tmp_path: Path) -> tuple[Path, Path]:
    """(corpus folder, index path): a test's own copy of the three-report corpus and its live index."""
    corpus, index_path = three_reports
    shutil.copytree(corpus, tmp_path / "corpus")
    shutil.copytree(index_path, tmp_path / "index", symlinks=True)
    return tmp_path / "corpus", tmp_path / "index"


def add_remaining_reports(corpus: Path) -> None:
    copy_corpus(corpus)


def _enospc(*args: Any, **kwargs: Any) -> None:
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def _enospc_after_a_partial_file(path: Path, *args: Any) -> None:
    Path(path).write_bytes(b"\x93NUMPY half")
    _enospc()


DISK_FULL_AT: dict[str, Callable[[pytest.MonkeyPatch], None]] = {
    "arrays": lambda mp: mp.setattr(np, "save", _enospc),
    "half an array": lambda mp: mp.setattr(index.store.storage, "_save_array", _enospc_after_a_partial_file),
    "manifest": lambda mp: mp.setattr(os, "fsync", _enospc),
    "swap": lambda mp: mp.setattr(Path, "symlink_to", _enospc),
}


@pytest.mark.parametrize("where", DISK_FULL_AT)
def test_disk_full_during_a_rebuild_leaves_the_live_index_untouched(
    live: tuple[Path, Path], where: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    corpus, index_path = live
    served = LiveIndex(index_path)
    before, build_before = answers(served.current()), live_build(index_path)
    add_remaining_reports(corpus)

    with monkeypatch.context() as patched:
        DISK_FULL_AT[where](patched)
        with pytest.raises(OSError) as failure:
            build_index(corpus, index_path, workers=1)
    assert failure.value.errno == errno.ENOSPC
    left = [build.name for build in (index_path / "builds").iterdir()]
    assert left == [build_before.name], "a failed build is left behind"

    assert live_build(index_path) == build_before
    assert answers(served.current()) == before
    reopened = Searcher.open(index_path)
    assert (reopened.build_dir, answers(reopened)) == (build_before, before)
    assert len(reopened.reports) == 3

    summary = build_index(corpus, index_path, workers=1)
    assert summary.reports == 5
    assert live_build(index_path) == summary.build_dir != build_before
    assert len(served.current().reports) == 5
    assert len(list((index_path / "builds").iterdir())) <= 2, "half-written builds pile up"


_STALL = """
import sys, time
from pathlib import Path
import importlib
module, name, flag = sys.argv[1:4]
def stall(*args, **kwargs):
    Path(flag).write_text("stalled")
    time.sleep(120)
setattr(importlib.import_module(module), name, stall)
from bot.cli import main
sys.argv = ["reports-bot", *sys.argv[4:]]
sys.exit(main())
"""
"""Runs `reports-bot` with one function replaced by a stall that tells the test it got there."""

KILL_POINTS = {
    "while reading the reports": ("index.ingest.pipeline", "split"),
    "while writing the build folder": ("index.store.storage", "_save_array"),
}


@pytest.mark.parametrize("moment", KILL_POINTS)
def test_a_rebuild_killed_half_way_leaves_the_live_index_untouched(
    live: tuple[Path, Path], moment: str, tmp_path: Path
) -> None:
    corpus, index_path = live
    before, build_before = answers(Searcher.open(index_path)), live_build(index_path)
    add_remaining_reports(corpus)
    flag = tmp_path / "stalled"
    env = {k: v for k, v in os.environ.items() if not k.startswith("REPORTS_BOT_")}
    rebuild = subprocess.Popen(
        [sys.executable, "-c", _STALL, *KILL_POINTS[moment], str(flag),
         "index", "--corpus", str(corpus), "--index", str(index_path)],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while not flag.exists() and rebuild.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert flag.exists(), rebuild.stderr.read().decode() if rebuild.poll() is not None else "no stall"
    finally:
        rebuild.send_signal(signal.SIGKILL)
        rebuild.wait(10)
        rebuild.stderr.close()
    assert rebuild.returncode == -signal.SIGKILL

    assert live_build(index_path) == build_before
    assert answers(Searcher.open(index_path)) == before
    summary = build_index(corpus, index_path, workers=1)
    assert summary.reports == 5
    assert answers(Searcher.open(index_path)) != before


BUILD_FILES = ("manifest.json", *DATA_FILES)


def _truncate(path: Path) -> None:
    with open(path, "r+b") as handle:
        handle.truncate(path.stat().st_size // 3)


def _scramble(path: Path) -> None:
    """Same size, random bytes after the first 128 (past a .npy header): a bad sector, not a cut."""
    data = bytearray(path.read_bytes())
    data[128:] = np.random.default_rng(6).integers(0, 256, len(data) - 128, dtype=np.uint8).tobytes()
    path.write_bytes(bytes(data))


DAMAGE: dict[str, Callable[[Path], None]] = {
    "truncated": _truncate,
    "scrambled": _scramble,
    "deleted": Path.unlink,
}


@pytest.mark.parametrize("damage", DAMAGE)
def test_damage_to_the_served_index_is_logged_and_answers_go_on(
    live: tuple[Path, Path], damage: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The files of the build being served are damaged one after the other, under a running
    LiveIndex: it answers exactly as before from its copy and logs each change once."""
    _, index_path = live
    served = LiveIndex(index_path)
    before = answers(served.current())
    build = live_build(index_path)
    for name in BUILD_FILES:
        caplog.clear()
        with caplog.at_level(logging.ERROR, logger="index.live"):
            DAMAGE[damage](build / name)
            assert answers(served.current()) == before, name
            assert answers(served.current()) == before, name
        logged = [r for r in caplog.records if "changed on disk" in r.getMessage()]
        assert len(logged) == 1, (name, caplog.text)


@pytest.mark.parametrize("damage", ["truncated", "scrambled"])  # a missing file is the easy case
@pytest.mark.parametrize("name", BUILD_FILES)
def test_a_damaged_new_build_is_refused_and_the_last_good_one_served(
    live: tuple[Path, Path], damage: str, name: str, caplog: pytest.LogCaptureFixture
) -> None:
    corpus, index_path = live
    served = LiveIndex(index_path)
    before, first = answers(served.current()), served.current().build_dir
    add_remaining_reports(corpus)
    second = build_index(corpus, index_path, workers=1).build_dir
    DAMAGE[damage](second / name)
    with caplog.at_level(logging.ERROR, logger="index.live"):
        assert served.current().build_dir == first
        assert answers(served.current()) == before
    assert len([r for r in caplog.records if r.name == "index.live"]) == 1, caplog.text

    (corpus / "000_f160c81bd3db8945.txt").write_bytes(
        (CORPUS / "000_f160c81bd3db8945.txt").read_bytes() + "\n补充一句新的内容。\n".encode()
    )
    third = build_index(corpus, index_path, workers=1).build_dir
    assert served.current().build_dir == third
    assert len(served.current().reports) == 5


def test_a_stale_index_that_cannot_be_rebuilt_keeps_serving_and_is_rebuilt_later(
    live: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reports changed but the disk is full: `run` used to refuse to start although a good
    index existed. It now serves that one and tries the rebuild again until it is written."""
    corpus, index_path = live
    add_remaining_reports(corpus)
    monkeypatch.setattr(index.freshness, "REBUILD_RETRY_SECONDS", 0.2)
    with monkeypatch.context() as disk_full:
        disk_full.setattr(np, "save", _enospc)
        served, notes = open_serving(corpus, index_path)
        assert served.current().info.reports == 3
    assert any("could not be written" in note and "serving the index as it was built" in note
               for note in notes), notes
    # The disk has room again: a retry writes the new build, and the served index switches to it.
    waited = 0.0
    while served.current().info.reports != 5 and waited < 60:
        time.sleep(0.2)
        waited += 0.2
    assert served.current().info.reports == 5
