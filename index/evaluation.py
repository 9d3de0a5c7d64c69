"""Measuring answer quality on labelled questions: hit@1, hit@k, MRR and no-answer accuracy.

See ``FILE_FORMAT`` for the question file. A result is a hit when it comes from a gold file and
its sentence holds a gold phrase, compared with glosses stripped, folded to Simplified, without
spaces or punctuation; or, where the phrase is the report's own publication date, when it comes
from that file and carries that date. A no-answer question is right when the answer is not
``confident``: nothing returned, a word reported missing, or the best sentence only partial.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from index.text.analyzer import Analyzer
from index.ingest.cleaning import strip_glosses
from index.models import Hit
from index.search import Searcher

NO_ANSWER = "no_answer"
FILE_FORMAT = """\
A question file is JSON Lines, one question a line:
  {"id": "q1", "query": "妇幼保健院院长是谁", "category": "entity",
   "files": ["002_7e09391dc468c881.txt"], "evidence": ["院长范多智"]}
  query     the question (required)
  id        a name for it in --verbose output (default: its line number)
  category  scores are given per category too (default: uncategorised)
  files     the report files holding the answer, as the index names them; empty (or category
            no_answer) when the reports do not answer it
  evidence  short exact phrases of the answering sentences, or the report's date; with several
            files, one phrase a file in the same order
A hit is a result from one of the files whose sentence holds a phrase (script, spaces and
punctuation aside). A no-answer question is right when the answer says it is not a direct one
(nothing found, a word missing, or only the nearest sentences)."""
"""The question file, as `reports-bot eval --help` and the README describe it."""
_FULL_DATE = re.compile(r"(\d{4})\s*[年\-/.]\s*(\d{1,2})\s*[月\-/.]\s*(\d{1,2})")


@dataclass(frozen=True)
class Question:
    id: str
    query: str
    category: str
    files: tuple[str, ...]
    evidence: tuple[str, ...]


@dataclass
class Scores:
    """Running totals for one group of questions."""

    questions: int = 0
    hit_at_1: int = 0
    hit_at_k: int = 0
    reciprocal_ranks: float = 0.0
    no_answer_total: int = 0
    no_answer_right: int = 0
    unsure: int = 0
    """Answerable questions whose answer said it was not a direct one."""
    failures: list[str] = field(default_factory=list)

    def line(self, name: str) -> str:
        parts = [f"{name:<18}"]
        answerable = self.questions - self.no_answer_total
        if answerable:
            parts.append(
                f"n={answerable:<3} hit@1 {self.hit_at_1 / answerable:.3f}  "
                f"hit@k {self.hit_at_k / answerable:.3f}  MRR {self.reciprocal_ranks / answerable:.3f}"
                f"  unsure {self.unsure / answerable:.3f}"
            )
        if self.no_answer_total:
            parts.append(
                f"no-answer {self.no_answer_right / self.no_answer_total:.3f} "
                f"(n={self.no_answer_total})"
            )
        return "  ".join(parts)


def load_questions(path: Path) -> list[Question]:
    """The questions of a file in ``FILE_FORMAT``; ValueError naming the line that is not one, or
    saying the file holds none, rather than a score of 0 for a question that cannot be scored."""
    questions = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            questions.append(_question(json.loads(line), number))
        except (ValueError, TypeError) as error:
            raise ValueError(f"{path}, line {number}: not a labelled question ({error})") from None
    if not questions:
        raise ValueError(f"{path}: no questions in it")
    return questions


def _question(row: object, number: int) -> Question:
    """One line's question; TypeError naming a field that is not of the format's type."""
    if not isinstance(row, dict):
        raise TypeError("expected a JSON object")
    if not isinstance(row.get("query"), str) or not row["query"].strip():
        raise TypeError("`query` must be a non-empty text")
    category = row.get("category", "uncategorised")
    if not isinstance(category, str):
        raise TypeError("`category` must be a text")
    files, evidence = (_texts(row, name) for name in ("files", "evidence"))
    if files and not evidence:
        raise TypeError("`evidence` must give the phrases that answer it")
    if len(files) > 1 and len(evidence) != len(files):
        raise TypeError("with several `files`, `evidence` holds one phrase a file")
    return Question(str(row.get("id", number)), row["query"], category, files, evidence)


def _texts(row: dict[str, object], name: str) -> tuple[str, ...]:
    value = row.get(name, [])
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise TypeError(f"`{name}` must be a list of texts")
    return tuple(value)


def unknown_files(questions: list[Question], searcher: Searcher) -> str | None:
    """The first question naming a report the index does not hold (a typo would score 0), said
    in a line; None when every named report is there."""
    held = {report.meta.file for report in searcher.reports}
    for question in questions:
        unknown = [file for file in question.files if file not in held]
        if unknown:
            return (f"question {question.id} names a report the index does not hold: "
                    f"{', '.join(unknown)}")
    return None


class Judge:
    """Decides whether a hit answers a question, on text compared without script or punctuation."""

    def __init__(self, analyzer: Analyzer) -> None:
        self._analyzer = analyzer

    def comparable(self, text: str) -> str:
        folded = self._analyzer.fold(strip_glosses(text)[0])
        return "".join(c for c in folded if unicodedata.category(c)[0] in "LN")

    def is_hit(self, question: Question, hit: Hit) -> bool:
        pairs = (
            zip(question.files, question.evidence)
            if len(question.files) > 1
            else ((f, e) for f in question.files for e in question.evidence)
        )
        text = self.comparable(hit.sentence.text)
        for file, phrase in pairs:
            if hit.report.file != file:
                continue
            if self.comparable(phrase) in text or _names_date(phrase, hit.report.date):
                return True
        return False


def _names_date(phrase: str, report_date: str | None) -> bool:
    match = _FULL_DATE.search(phrase)
    if not match or not report_date:
        return False
    year, month, day = (int(g) for g in match.groups())
    return report_date == f"{year:04d}-{month:02d}-{day:02d}"


def evaluate(searcher: Searcher, questions: list[Question], top_k: int = 5) -> dict[str, Scores]:
    """Scores overall (key ``all``) and per category."""
    judge = Judge(searcher.analyzer)
    groups: dict[str, Scores] = defaultdict(Scores)
    for question in questions:
        result = searcher.search(question.query, top_k=top_k)
        for scores in (groups["all"], groups[question.category]):
            scores.questions += 1
            if question.category == NO_ANSWER or not question.files:
                scores.no_answer_total += 1
                right = not result.confident
                scores.no_answer_right += right
                if not right and scores is groups["all"]:
                    scores.failures.append(f"{question.id} {question.query}: answered, should not be")
                continue
            scores.unsure += not result.confident
            rank = next(
                (h.rank for h in result.hits if judge.is_hit(question, h)), None
            )
            if rank is not None:
                scores.hit_at_1 += rank == 1
                scores.hit_at_k += 1
                scores.reciprocal_ranks += 1 / rank
            if rank != 1 and scores is groups["all"]:
                found = "not found" if rank is None else f"first hit at rank {rank}"
                scores.failures.append(f"{question.id} {question.query}: {found}")
    return dict(groups)
