"""`reports-bot health`, the container's HEALTHCHECK: one line, exit 0 or 1."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def health(index_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("REPORTS_BOT_")}
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", "health", "--index", str(index_path)],
        capture_output=True, text=True, timeout=120, env={**clean, **env},
    )


def test_a_good_index_is_healthy(corpus_index: Path, tmp_path: Path) -> None:
    run = health(corpus_index, REPORTS_BOT_JIEBA_CACHE_DIR=str(tmp_path / "jieba"))
    assert run.returncode == 0, run.stderr
    (line,) = run.stdout.splitlines()
    assert line.startswith("healthy: 5 reports, 219 sentences, built ")
    assert (tmp_path / "jieba" / "jieba.cache").is_file(), "jieba's cache goes where it is told"


def test_no_index_is_unhealthy(tmp_path: Path) -> None:
    run = health(tmp_path / "none")
    assert run.returncode == 1
    assert run.stdout.splitlines() == [
        f"unhealthy: no index at {tmp_path / 'none'}: build one with `reports-bot index`"
    ]
    assert run.stderr == ""
