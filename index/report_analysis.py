"""One report file as a build takes it: read, its sentences laid out as a table, its terms counted.

This is the work a build spreads over every core and keeps in its cache, per file; what it holds is
plain arrays and a little metadata, so it travels between processes and to disk cheaply.
"""

from __future__ import annotations

from dataclasses import dataclass

from index.analysis import Analyzer
from index.bm25 import TermBlock, term_block
from index.corpus import read_report
from index.models import Report, ReportMeta, Sentence
from index.sentence_table import SentenceTable, report_sections, table_of
from index.sidecar import Override


@dataclass(frozen=True)
class AnalysedReport:
    """A report's metadata, reading warnings and section headings, its sentences (the table numbers
    its sections into ``sections``) and the terms of each sentence, counted."""

    meta: ReportMeta
    warnings: tuple[str, ...]
    sections: tuple[str, ...]
    table: SentenceTable
    block: TermBlock


def analyse_report(
    name: str, data: bytes, override: Override | None, analyzer: Analyzer
) -> AnalysedReport:
    """Read and analyse one file; raises UnreadableFile (its message is the warning) as
    ``read_report`` does."""
    report = read_report(name, data, override)
    return AnalysedReport(
        report.meta,
        report.warnings,
        tuple(report_sections(report)),
        table_of(report),
        term_block(report_terms(report, analyzer)),
    )


def sentence_terms(sentence: Sentence, analyzer: Analyzer) -> list[str]:
    """The terms a sentence is found by: its own text's. (Adding its report title's and section's
    terms was measured, and made answers no better: the sentence that holds the words a question
    asks for then ties with every sentence under a title that holds them.)"""
    return analyzer.terms(sentence.text)


def report_terms(report: Report, analyzer: Analyzer) -> list[list[str]]:
    """``sentence_terms`` of every sentence of a report, in order."""
    return [sentence_terms(sentence, analyzer) for sentence in report.sentences]
