"""The `reports-bot index/search/eval` contract, run as a user runs it: a subprocess."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

CORPUS = Path(__file__).resolve().parent.parent / "corpus"


def cli(
    *args: str,
    stdin: str = "",
    cwd: Path | None = None,
    corpus: Path | None = CORPUS,
    **settings: str,
) -> subprocess.CompletedProcess[str]:
    """Run the command with no REPORTS_BOT_ setting but the corpus folder (none: the default)
    and ``settings``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("REPORTS_BOT_")}
    env.update({f"REPORTS_BOT_{name.upper()}": value for name, value in settings.items()})
    if corpus is not None:
        env["REPORTS_BOT_CORPUS_DIR"] = str(corpus)
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        input=stdin, capture_output=True, text=True, timeout=120, env=env, cwd=cwd,
    )


def test_search_prints_readable_results(corpus_index: Path) -> None:
    run = cli("search", "--index", str(corpus_index), "--top-k", "2", "妇幼保健院院长是谁")
    assert run.returncode == 0, run.stderr
    first, second = run.stdout.split("\n2. ")
    assert first.splitlines()[0] == "? 妇幼保健院院长是谁"
    assert "1. (" in first and "002_7e09391dc468c881.txt" in first
    assert "[院長]范多智" in first
    assert "context: " in first and second


def test_search_says_when_it_only_has_the_nearest_sentences(corpus_index: Path) -> None:
    run = cli("search", "--index", str(corpus_index), "上海2月10日派了多少医生")
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[:2] == ["? 上海2月10日派了多少医生", "  没有直接回答这个问题的句子，最接近的是："]
    assert lines[2].startswith("1. (")
    answered = cli("search", "--index", str(corpus_index), "吉林派了多少医护人员去湖北")
    assert "最接近" not in answered.stdout


def test_search_json_for_one_query(corpus_index: Path) -> None:
    run = cli("search", "--index", str(corpus_index), "--json", "吉林派了多少医护人员去湖北")
    assert run.returncode == 0, run.stderr
    (line,) = run.stdout.splitlines()
    answer = json.loads(line)
    assert answer["query"] == "吉林派了多少医护人员去湖北"
    assert answer["missing"] == []
    top = answer["results"][0]
    assert set(top) == {
        "rank", "score", "bm25", "partial", "file", "title", "date", "date_provenance", "section",
        "text", "context",
    }
    assert answer["confident"] is True and top["partial"] is False
    assert (top["rank"], top["file"], top["date"], top["date_provenance"]) == (
        1, "001_a31383f84a783488.txt", "2020-02-19", "explicit"
    )
    assert "865名" in top["text"] and top["text"] in top["context"]


def test_search_json_reads_one_query_per_stdin_line(corpus_index: Path) -> None:
    run = cli("search", "--index", str(corpus_index), "--json", stdin="株洲疫苗接种\n\n广东省\n")
    assert run.returncode == 0, run.stderr
    answers = [json.loads(line) for line in run.stdout.splitlines()]
    assert [a["query"] for a in answers] == ["株洲疫苗接种", "广东省"]
    assert answers[0]["results"][0]["date_provenance"] == "inferred"
    assert answers[1] == {
        "query": "广东省", "results": [], "missing": ["广东省"], "confident": False
    }


def test_search_without_a_query_or_json_is_a_usage_error(corpus_index: Path) -> None:
    run = cli("search", "--index", str(corpus_index))
    assert run.returncode == 1
    assert run.stderr.startswith("reports-bot: give a QUERY")


def test_search_builds_the_index_first_when_there_is_none(tmp_path: Path) -> None:
    run = cli("search", "--json", "核酸检测", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert "no index at .index yet: building it" in run.stderr
    assert json.loads(run.stdout)["results"]
    assert (tmp_path / ".index" / "current").is_dir()


def test_a_mistyped_index_path_is_an_error_not_a_new_folder(tmp_path: Path) -> None:
    for command in (["search", "疫苗"], ["eval", str(tmp_path / "q.jsonl")]):
        run = cli(*command, "--index", str(tmp_path / "typo" / "ix"))
        assert run.returncode == 2
        assert f"no index at {tmp_path / 'typo' / 'ix'}" in run.stderr
        assert "reports-bot index --index" in run.stderr
        assert not (tmp_path / "typo").exists()


def test_search_away_from_the_corpus_leaves_no_index_folder(tmp_path: Path) -> None:
    run = cli("search", "核酸检测", corpus=None, cwd=tmp_path)
    assert run.returncode == 1
    (line,) = run.stderr.splitlines()
    assert line == (
        "reports-bot: no index at .index, and no corpus folder corpus to build one from: "
        "run `reports-bot index --corpus DIR`"
    )
    assert list(tmp_path.iterdir()) == []


def test_search_into_a_closed_pipe_prints_no_traceback(corpus_index: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REPORTS_BOT_")}
    search = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "search", "--index", str(corpus_index), "--top-k", "20",
         "党员"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
    )
    search.stdout.close()  # as `| head -1` does once it has its line
    stderr = search.stderr.read().decode()
    assert search.wait(timeout=120) == 1
    assert stderr == ""


def test_index_prints_a_summary_and_warnings(tmp_path: Path) -> None:
    """The bundled corpus is quiet (its metadata.toml settles what the reports leave open);
    without that file, a report that writes no date is named."""
    run = cli("index", "--corpus", str(CORPUS), "--index", str(tmp_path / "ix"))
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("indexed 5 reports, ")
    assert run.stderr == ""
    assert (tmp_path / "ix" / "current" / "manifest.json").is_file()
    bare = shutil.copytree(CORPUS, tmp_path / "bare", ignore=shutil.ignore_patterns("*.toml"))
    run = cli("index", "--corpus", str(bare), "--index", str(tmp_path / "ix2"))
    assert "002_7e09391dc468c881.txt: no date found" in run.stderr


def test_index_with_no_readable_report_fails_with_one_line(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "empty.txt").write_bytes(b"")
    run = cli("index", "--corpus", str(corpus), "--index", str(tmp_path / "ix"))
    assert run.returncode == 1
    assert run.stderr.strip().splitlines()[-1].startswith("reports-bot: no report could be read")
    assert not (tmp_path / "ix" / "current").exists()


def test_eval_scores_a_labelled_file(corpus_index: Path, tmp_path: Path) -> None:
    questions = tmp_path / "q.jsonl"
    rows = [
        {"id": "a", "query": "妇幼保健院院长是谁", "category": "entity",
         "files": ["002_7e09391dc468c881.txt"], "evidence": ["院長范多智"]},
        {"id": "b", "query": "吉林这篇报道哪天发布", "category": "date",
         "files": ["001_a31383f84a783488.txt"], "evidence": ["2020年02月19日 15:03"]},
        {"id": "c", "query": "广东省派了多少人", "category": "no_answer", "files": [], "evidence": []},
        # Every word is in the reports; the nearest sentences write no price: only partial.
        {"id": "e", "query": "口罩多少钱一个", "category": "no_answer", "files": [], "evidence": []},
        {"id": "d", "query": "妇幼保健院院长是谁", "category": "entity",
         "files": ["000_f160c81bd3db8945.txt"], "evidence": ["不存在的句子"]},
    ]
    questions.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), "utf-8")
    run = cli("eval", str(questions), "--index", str(corpus_index))
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0].split() == [
        "all", "n=3", "hit@1", "0.667", "hit@k", "0.667", "MRR", "0.667", "unsure", "0.333",
        "no-answer", "1.000", "(n=2)",
    ]
    assert any(line.startswith("date") and "hit@1 1.000" in line for line in lines)


def test_eval_names_a_malformed_line(tmp_path: Path, corpus_index: Path) -> None:
    questions = tmp_path / "q.jsonl"
    questions.write_text('{"query": "x"}\nnot json\n', "utf-8")
    run = cli("eval", str(questions), "--index", str(corpus_index))
    assert run.returncode == 1
    assert "line 2" in run.stderr


def test_an_index_path_that_is_a_file_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("x")
    run = cli("index", "--index", str(tmp_path / "afile"))
    assert run.returncode == 1
    assert run.stderr.strip().startswith(f"reports-bot: cannot write the index at {tmp_path / 'afile'}")
    assert "Traceback" not in run.stderr


def test_top_k_must_be_positive(corpus_index: Path) -> None:
    run = cli("search", "--index", str(corpus_index), "--top-k", "0", "疫苗")
    assert run.returncode == 2
    assert "must be at least 1" in run.stderr


def test_a_bad_setting_is_one_line_naming_it(corpus_index: Path) -> None:
    env_run = subprocess.run(
        [sys.executable, "-m", "bot.cli", "search", "--index", str(corpus_index), "疫苗"],
        capture_output=True, text=True, timeout=120,
        env={**os.environ, "REPORTS_BOT_LOG_LEVEL": "LOUD", "REPORTS_BOT_TOP_K": "2"},
    )
    assert env_run.returncode == 1
    assert env_run.stderr.startswith("reports-bot: bad setting: REPORTS_BOT_LOG_LEVEL: ")


def test_eval_rebuilds_an_index_of_an_older_format(corpus_index: Path, tmp_path: Path) -> None:
    """An index left by an older version is rebuilt, not refused: the index is derived data."""
    index = tmp_path / "old"
    shutil.copytree(corpus_index, index, symlinks=True)
    manifest = index / "current" / "manifest.json"
    fields = json.loads(manifest.read_text(encoding="utf-8"))
    manifest.write_text(json.dumps(dict(fields, format_version=2)), encoding="utf-8")
    questions = tmp_path / "q.jsonl"
    questions.write_text(
        json.dumps({"query": "妇幼保健院院长是谁", "category": "entity",
                    "files": ["002_7e09391dc468c881.txt"], "evidence": ["院長范多智"]},
                   ensure_ascii=False) + "\n",
        encoding="utf-8",
    )
    run = cli("eval", "--index", str(index), str(questions))
    assert run.returncode == 0, run.stderr
    assert "format version 2" in run.stderr and "rebuilding it" in run.stderr
    assert run.stdout.startswith("all                 n=1   hit@1 1.000")


def test_the_index_remembers_the_corpus_folder_it_was_built_from(tmp_path: Path) -> None:
    corpus = shutil.copytree(CORPUS, tmp_path / "reports")
    index = str(tmp_path / "ix")
    built = cli("index", "--corpus", str(corpus), "--index", index, corpus=None, cwd=tmp_path)
    assert built.returncode == 0, built.stderr
    run = cli("search", "--index", index, "核酸检测", corpus=None, cwd=tmp_path)
    assert run.returncode == 0 and run.stderr == ""
    (corpus / "000_f160c81bd3db8945.txt").unlink()
    run = cli("search", "--index", index, "核酸检测", corpus=None, cwd=tmp_path)
    assert "the index is stale (removed: 000_f160c81bd3db8945.txt)" in run.stderr
    rebuilt = cli("index", "--index", index, corpus=None, cwd=tmp_path)
    assert rebuilt.stdout.startswith("indexed 4 reports, "), rebuilt.stderr


def write_questions(path: Path, *rows: object) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    return path


def test_eval_help_describes_the_question_file() -> None:
    run = cli("eval", "--help")
    for field in ("query", "category", "files", "evidence", "no_answer"):
        assert f"{field}" in run.stdout


def test_eval_of_an_empty_file_says_so(tmp_path: Path, corpus_index: Path) -> None:
    questions = write_questions(tmp_path / "q.jsonl")
    run = cli("eval", str(questions), "--index", str(corpus_index))
    assert run.returncode == 1
    assert run.stderr == f"reports-bot: {questions}: no questions in it\n"


def test_eval_names_a_field_of_the_wrong_type(tmp_path: Path, corpus_index: Path) -> None:
    questions = write_questions(
        tmp_path / "q.jsonl",
        {"query": "院长是谁", "files": ["002_7e09391dc468c881.txt"], "evidence": ["范多智"]},
        {"query": "院长是谁", "files": "002_7e09391dc468c881.txt", "evidence": ["范多智"]},
    )
    run = cli("eval", str(questions), "--index", str(corpus_index))
    assert run.returncode == 1
    assert "line 2" in run.stderr and "`files` must be a list of texts" in run.stderr


def test_eval_names_a_report_the_index_does_not_hold(tmp_path: Path, corpus_index: Path) -> None:
    questions = write_questions(
        tmp_path / "q.jsonl",
        {"id": "x", "query": "院长是谁", "files": ["002.txt"], "evidence": ["范多智"]},
    )
    run = cli("eval", str(questions), "--index", str(corpus_index))
    assert run.returncode == 1
    assert run.stderr.endswith(f"reports-bot: {questions}: question x names a report the index "
                               "does not hold: 002.txt\n")


def test_eval_verbose_says_not_found_for_a_miss(tmp_path: Path, corpus_index: Path) -> None:
    questions = write_questions(
        tmp_path / "q.jsonl",
        {"id": "x", "query": "院长是谁", "files": ["002_7e09391dc468c881.txt"],
         "evidence": ["不存在的句子"]},
    )
    run = cli("eval", str(questions), "--index", str(corpus_index), "--verbose")
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines()[0] == "x 院长是谁: not found"


def test_the_ranking_can_be_plain_bm25_by_flag_or_setting(corpus_index: Path) -> None:
    question = "吉林派了多少医护人员去湖北"

    def results(*flags: str, **settings: str) -> list[dict]:
        index = str(corpus_index)
        run = cli("search", "--index", index, "--json", "--top-k", "8", *flags, question,
                  **settings)
        assert run.returncode == 0, run.stderr
        return json.loads(run.stdout)["results"]

    report_aware = results()
    assert any(r["score"] != r["bm25"] for r in report_aware)
    plain = results("--ranking", "bm25")
    assert all(r["score"] == r["bm25"] for r in plain)
    assert [r["bm25"] for r in plain] == sorted((r["bm25"] for r in plain), reverse=True)
    assert plain != report_aware
    assert results(ranking="bm25") == plain
    assert results("--ranking", "report", ranking="bm25") == report_aware


def test_eval_takes_the_ranking_too(corpus_index: Path, tmp_path: Path) -> None:
    questions = write_questions(
        tmp_path / "q.jsonl",
        {"query": "妇幼保健院院长是谁", "files": ["002_7e09391dc468c881.txt"], "evidence": ["院長范多智"]},
    )
    run = cli("eval", str(questions), "--index", str(corpus_index), "--ranking", "bm25")
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("all ")
