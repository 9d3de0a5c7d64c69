"""manifest.json itself is checked: an edited or malformed manifest is refused, not served."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from index.live import LiveIndex
from index.store.storage import IndexUnavailable, live_build, publish
from index.search import Searcher

Edit = Callable[[dict[str, Any]], None]
EDITS: dict[str, Edit] = {
    "avgdl changed": lambda manifest: manifest.update(avgdl=manifest["avgdl"] * 3),
    "a count changed": lambda manifest: manifest["counts"].update(terms=1),
    "built_at missing": lambda manifest: manifest.pop("built_at"),
    "counts not an object": lambda manifest: manifest.update(counts=[]),
}


def edit_manifest(build_dir: Path, edit: Edit) -> None:
    path = build_dir / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    edit(manifest)
    path.write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")


@pytest.fixture
def index_copy(corpus_index: Path, tmp_path: Path) -> Path:
    shutil.copytree(corpus_index, tmp_path / "index", symlinks=True)
    return tmp_path / "index"


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REPORTS_BOT_")}
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args], capture_output=True, text=True, timeout=120,
        cwd=cwd, env={**env, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)},
    )


@pytest.mark.parametrize("edit", EDITS)
def test_an_edited_manifest_is_refused_by_health_and_search(
    index_copy: Path, tmp_path: Path, edit: str
) -> None:
    edit_manifest(live_build(index_copy), EDITS[edit])
    with pytest.raises(IndexUnavailable, match="manifest"):
        Searcher.open(index_copy)
    health = cli("health", "--index", str(index_copy), cwd=tmp_path)
    (line,) = health.stdout.splitlines()
    assert health.returncode == 1 and line.startswith("unhealthy: ") and "manifest" in line
    search = cli("search", "党员", "--index", str(index_copy), cwd=tmp_path)  # no corpus here
    assert search.returncode == 1 and "Traceback" not in search.stderr, search.stderr
    assert len(search.stderr.splitlines()) <= 2, search.stderr


@pytest.mark.parametrize("edit", EDITS)
def test_a_running_index_keeps_its_build_when_the_next_has_a_bad_manifest(
    index_copy: Path, analyzer: Any, edit: str
) -> None:
    live = LiveIndex(index_copy, analyzer)
    served = live.current().build_dir
    before = [hit.sentence.text for hit in live.current().search("党员").hits]
    forged = index_copy / "builds" / "forged"
    shutil.copytree(served, forged)
    edit_manifest(forged, EDITS[edit])
    publish(index_copy, forged)
    assert live.current().build_dir == served
    assert [hit.sentence.text for hit in live.current().search("党员").hits] == before
