"""`reports-bot corpus`: what an operator checks before indexing."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REPORTS_BOT_")}
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", "corpus", *args],
        capture_output=True, text=True, encoding="utf-8", cwd=cwd, env=env, timeout=60,
    )


def test_prints_metadata_counts_and_warnings(tmp_path):
    result = run("--corpus", str(ROOT / "corpus"))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "000_f160c81bd3db8945.txt\n  title:     河北省卫生健康委:充分发挥党的政治优势 坚决打赢疫情防控斗争\n" in out
    assert "  date:      2020-02-01 (explicit)\n  source:    长城网\n  author:    刘作军\n" in out
    assert "  date:      2021-09-22 (inferred)\n" in out
    assert "  date:      - (unknown)\n" in out
    assert "  url:       http://www.wxhgws.com\n  sentences: 40\n" in out
    assert "002_7e09391dc468c881.txt (set in metadata.toml: date)\n" in out
    assert "warning:" not in out  # corpus/metadata.toml accepts the damage and the unknown date
    assert "  note:      3 line(s) left out as page furniture, captions or footer: 河北频道 > 全景河北 | " in out
    assert out.rstrip().endswith("5 reports read, 0 corpus warnings")


def test_settings_are_used_without_the_flag_and_bad_input_is_one_line(tmp_path):
    (tmp_path / "corpus").mkdir()
    (tmp_path / "corpus" / "a.txt").write_text("标题\n\n第一句话写在这里,说明情况。\n", encoding="utf-8")
    (tmp_path / "corpus" / "b.txt").write_bytes(b"")
    result = run(cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "a.txt\n  title:     标题\n" in result.stdout
    assert "warning: b.txt: skipped, the file is empty" in result.stdout

    (tmp_path / "corpus" / "metadata.toml").write_text('["a.txt"]\ntitle = \n', encoding="utf-8")
    result = run(cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.startswith("reports-bot: metadata.toml: not valid TOML:")
    assert "line 2" in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_folder(tmp_path):
    result = run("--corpus", str(tmp_path / "nope"))
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr.strip() == f"reports-bot: corpus folder not found: {tmp_path / 'nope'}"
