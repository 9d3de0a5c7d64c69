"""Many questions at once: the answers of every worker are the answers of one searcher, in order."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from index.batch import search_many
from index.models import result_to_dict
from index.search import Searcher

QUESTIONS = ["株洲疫苗接种", "妇幼保健院院长是谁", "吉林派了多少医护人员去湖北", "广东省", "x" * 50,
             "上海2月10日派了多少医生", "張定宇說了什麼"] * 3


def test_workers_answer_as_one_searcher_in_the_questions_order(corpus_index: Path) -> None:
    searcher = Searcher.open(corpus_index)
    alone = [result_to_dict(searcher.search(q, 3)) for q in QUESTIONS]
    together = list(search_many(searcher, QUESTIONS, 3, result_to_dict, workers=2))
    assert together == alone
    assert [answer["query"] for answer in together] == QUESTIONS


def test_a_script_that_waits_for_each_answer_gets_it(corpus_index: Path) -> None:
    """A pipe read one answer at a time: the batch must not wait for more questions first."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("REPORTS_BOT_")}
    env["REPORTS_BOT_CORPUS_DIR"] = str(Path(__file__).resolve().parent.parent / "corpus")
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "search", "--json", "--index", str(corpus_index)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env,
    )
    assert process.stdin and process.stdout
    try:
        for question in QUESTIONS[:4]:
            process.stdin.write(question + "\n")
            process.stdin.flush()
            assert json.loads(process.stdout.readline())["query"] == question
        process.stdin.close()
        assert process.wait(timeout=60) == 0
    finally:
        process.kill()
