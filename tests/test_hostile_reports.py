"""Hostile reports: operators drop anything into the corpus folder, and the build must still index
every good report, name every bad file once, and say through its exit status whether it read any.
"""

from __future__ import annotations

import errno
import os
import random
import stat
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from bot_fixtures import CORPUS, copy_corpus

from index.build import EmptyCorpus, build_index
from index.ingest.pipeline import load_corpus
from index.ingest.reading import MAX_REPORT_BYTES
from index.search import Searcher

ROOT = Path(__file__).resolve().parent.parent
BIG_FILE_BYTES = 50 * 1024 * 1024
BUILD_SECONDS = 30
"""A build over the hostile folder must finish in this time, the 50 MB file included."""
FURNITURE = "分享到\n打印\n关闭窗口\n【关闭】\n责任编辑：张三\n扫一扫 二维码\n网站首页\n1 2 3\n返回顶部\n"
NON_ASCII_NAME = "河北 报告 (副本) é.txt"


@dataclass(frozen=True)
class HostileCorpus:
    folder: Path
    good: tuple[str, ...]
    bad: tuple[str, ...]
    """Files the build must skip, each named in exactly one warning."""


def _single_line(size: int) -> bytes:
    """``size`` bytes of real report text with every line break taken out."""
    text = (CORPUS / "000_f160c81bd3db8945.txt").read_text(encoding="utf-8")
    line = "".join(text.split()).encode("utf-8")
    return (line * (size // len(line) + 1))[:size]


def make_hostile_corpus(folder: Path, *, good_files: int = 2, big: bool = True) -> HostileCorpus:
    """Good reports (one under a name with spaces and non-ASCII letters) among every kind of bad file."""
    copy_corpus(folder, files=good_files)
    good = sorted(p.name for p in folder.iterdir())
    if good_files:
        (folder / NON_ASCII_NAME).write_bytes((CORPUS / "002_7e09391dc468c881.txt").read_bytes())
        good.append(NON_ASCII_NAME)
    bad = {
        "random bytes.txt": random.Random(6).randbytes(64 * 1024),
        "random-no-nul.txt": random.Random(7).randbytes(64 * 1024).replace(b"\0", b"\1"),
        "empty.txt": b"",
        "blank.md": b"  \n\t\n\n",
        "furniture.txt": FURNITURE.encode("utf-8"),
        "子目录/只有家具 furniture.md": FURNITURE.encode("gb18030"),
        "bad bom.txt": b"\xff\xfe" + b"\x00\xd8" * 3,
        "unreadable.txt": (CORPUS / "001_a31383f84a783488.txt").read_bytes(),
    }
    if big:
        bad["one line 50MB.txt"] = _single_line(BIG_FILE_BYTES)
    for name, data in bad.items():
        (folder / name).parent.mkdir(exist_ok=True)
        (folder / name).write_bytes(data)
    (folder / "unreadable.txt").chmod(0)
    (folder / "not-a-report.pdf").write_bytes(b"%PDF-1.4 not read at all")
    (folder / ".hidden.txt").write_bytes(b"\0\0")
    os.mkfifo(folder / "a pipe.txt")  # never opened: opening a FIFO would block the build
    return HostileCorpus(folder, tuple(sorted(good)), tuple(sorted(bad)))


@pytest.fixture
def unreadable_files_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """Files with no read permission fail to open as they would for the bot's own user; the tests
    may run as root, which reads them anyway."""
    real_read_bytes = Path.read_bytes

    def read_bytes(path: Path) -> bytes:
        if path.is_file() and not stat.S_IMODE(path.stat().st_mode) & 0o444:
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
        return real_read_bytes(path)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)


def _naming(warnings: tuple[str, ...], name: str) -> list[str]:
    return [w for w in warnings if w.startswith(f"{name}:")]


@pytest.mark.usefixtures("unreadable_files_refused")
def test_build_indexes_the_good_reports_and_names_each_bad_file_once(tmp_path: Path) -> None:
    corpus = make_hostile_corpus(tmp_path / "corpus")
    started = time.perf_counter()
    summary = build_index(corpus.folder, tmp_path / "index", workers=1)
    assert time.perf_counter() - started < BUILD_SECONDS
    assert summary.reports == len(corpus.good)
    for name in corpus.bad:
        assert len(_naming(summary.warnings, name)) == 1, (name, summary.warnings)
        assert "skipped" in _naming(summary.warnings, name)[0]
    for name in corpus.good:
        assert not any("skipped" in w for w in _naming(summary.warnings, name))
    assert not any("not-a-report" in w or "hidden" in w or "pipe" in w for w in summary.warnings)
    assert "more than a report can be" in _naming(summary.warnings, "one line 50MB.txt")[0]
    assert "could not be opened" in _naming(summary.warnings, "unreadable.txt")[0]

    searcher = Searcher.open(tmp_path / "index")
    assert {r.meta.file for r in searcher.reports} == set(corpus.good)
    cited = {hit.report.file for hit in searcher.search("婦保院黨委", top_k=5).hits}
    assert NON_ASCII_NAME in cited


def test_a_report_over_the_size_limit_is_refused_before_it_is_read(tmp_path: Path) -> None:
    """The limit, not the file's shape, bounds the build: just over it is refused, under it read."""
    copy_corpus(tmp_path / "corpus", files=1)
    (tmp_path / "corpus" / "over.txt").write_bytes(_single_line(MAX_REPORT_BYTES + 1))
    (tmp_path / "corpus" / "under.txt").write_bytes(_single_line(200_000))
    summary = build_index(tmp_path / "corpus", tmp_path / "index", workers=1)
    assert summary.reports == 2
    assert len(_naming(summary.warnings, "over.txt")) == 1


def test_a_duplicated_report_is_named_and_indexed_once(tmp_path: Path) -> None:
    copy_corpus(tmp_path / "corpus", files=2)
    first = sorted((tmp_path / "corpus").iterdir())[0]
    (tmp_path / "corpus" / f"copy of {first.name}").write_bytes(first.read_bytes())
    summary = build_index(tmp_path / "corpus", tmp_path / "index", workers=1)
    assert summary.reports == 2
    assert len(_naming(summary.warnings, f"copy of {first.name}")) == 1


def test_a_file_whose_name_is_not_utf8_is_named_and_skipped(tmp_path: Path) -> None:
    copy_corpus(tmp_path / "corpus", files=1)
    good = sorted((tmp_path / "corpus").iterdir())[0]
    (tmp_path / "corpus" / "other.txt").write_bytes(good.read_bytes() + "另一句话。\n".encode())
    os.rename(tmp_path / "corpus" / "other.txt", os.fsencode(tmp_path / "corpus") + b"/\xffother.txt")
    summary = build_index(tmp_path / "corpus", tmp_path / "index", workers=1)
    assert summary.reports == 1
    [warning] = _naming(summary.warnings, "\ufffdother.txt")
    assert "not valid UTF-8" in warning
    assert _naming(load_corpus(tmp_path / "corpus").warnings, "\ufffdother.txt") == [warning]


def test_a_symlink_loop_is_named(tmp_path: Path) -> None:
    copy_corpus(tmp_path / "corpus", files=1)
    (tmp_path / "corpus" / "loop-a.txt").symlink_to("loop-b.txt")
    (tmp_path / "corpus" / "loop-b.txt").symlink_to("loop-a.txt")
    summary = build_index(tmp_path / "corpus", tmp_path / "index", workers=1)
    assert summary.reports == 1
    assert len(_naming(summary.warnings, "loop-a.txt")) == 1


def test_symlink_loops_do_not_hang_or_break_the_build(tmp_path: Path) -> None:
    """A looping folder link and looping file links are passed over; the reports are read."""
    copy_corpus(tmp_path / "corpus", files=1)
    (tmp_path / "corpus" / "loop-a.txt").symlink_to("loop-b.txt")
    (tmp_path / "corpus" / "loop-b.txt").symlink_to("loop-a.txt")
    (tmp_path / "corpus" / "itself.txt").symlink_to("itself.txt")
    (tmp_path / "corpus" / "sub").mkdir()
    (tmp_path / "corpus" / "sub" / "up").symlink_to("..", target_is_directory=True)
    summary = build_index(tmp_path / "corpus", tmp_path / "index", workers=1)
    assert summary.reports == 1


@pytest.mark.usefixtures("unreadable_files_refused")
def test_a_folder_of_only_bad_files_builds_nothing_and_keeps_the_live_index(tmp_path: Path) -> None:
    copy_corpus(tmp_path / "good", files=1)
    live = build_index(tmp_path / "good", tmp_path / "index", workers=1).build_dir
    corpus = make_hostile_corpus(tmp_path / "corpus", good_files=0, big=False)
    assert corpus.good == ()
    with pytest.raises(EmptyCorpus):
        build_index(corpus.folder, tmp_path / "index", workers=1)
    assert Searcher.open(tmp_path / "index").build_dir == live


def _index_command(corpus: Path, index: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REPORTS_BOT_")}
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", "index", "--corpus", str(corpus), "--index", str(index)],
        capture_output=True, text=True, encoding="utf-8", cwd=ROOT, env=env, timeout=120,
    )


def test_index_command_exit_status_says_whether_any_report_was_read(tmp_path: Path) -> None:
    """0 with each bad file named once on stderr when some report was read; 1 and no index when none."""
    corpus = make_hostile_corpus(tmp_path / "mixed", good_files=1)
    readable_anyway = {"unreadable.txt"} if os.geteuid() == 0 else set()
    done = _index_command(corpus.folder, tmp_path / "index")
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert f"indexed {len(corpus.good) + len(readable_anyway)} reports" in done.stdout
    for name in set(corpus.bad) - readable_anyway:
        assert done.stderr.count(f"warning: {name}:") == 1, (name, done.stderr)

    bad_only = make_hostile_corpus(tmp_path / "bad", good_files=0, big=False)
    for name in readable_anyway:
        (bad_only.folder / name).unlink()
    failed = _index_command(bad_only.folder, tmp_path / "index2")
    assert failed.returncode == 1
    assert failed.stderr.startswith("reports-bot: no report could be read")
    assert "Traceback" not in failed.stderr
    assert not (tmp_path / "index2" / "current").exists()


def test_the_corpus_command_and_the_build_skip_the_same_copy(tmp_path: Path) -> None:
    """What `reports-bot corpus` shows is what `reports-bot index` indexes."""
    copy_corpus(tmp_path / "corpus", files=2)
    first = sorted((tmp_path / "corpus").iterdir())[0]
    (tmp_path / "corpus" / f"copy of {first.name}").write_bytes(first.read_bytes())
    shown = load_corpus(tmp_path / "corpus")
    built = build_index(tmp_path / "corpus", tmp_path / "index", workers=1)
    assert len(shown.reports) == built.reports == 2
    assert [w for w in shown.warnings if "copy of" in w] == [
        w for w in built.warnings if "copy of" in w
    ]
