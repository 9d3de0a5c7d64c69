"""One report file as a build takes it: read, its sentences laid out as a table, its terms counted.

This is the work a build spreads over every core and keeps in its cache, per file; what it holds is
plain arrays and a little metadata, so it travels between processes and to disk cheaply.
"""

from __future__ import annotations

from dataclasses import dataclass

from index.text.analyzer import Analyzer
from index.engine.postings_build import TermBlock
from index.ingest.pipeline import read_report
from index.models import ReportMeta
from index.store.sentence_table import SentenceTable, report_sections, table_of
from index.ingest.overrides import Override
from index.engine.term_counting import count_terms


@dataclass(frozen=True)
class AnalysedReport:
    """A report's metadata, reading warnings and section headings, its sentences (the table numbers
    its sections into ``sections``), the terms of each sentence, counted, and its title's terms
    (the ranking credits them to every sentence of the report)."""

    meta: ReportMeta
    warnings: tuple[str, ...]
    sections: tuple[str, ...]
    table: SentenceTable
    block: TermBlock
    title_terms: tuple[str, ...]


def analyse_report(
    name: str, data: bytes, override: Override | None, analyzer: Analyzer
) -> AnalysedReport:
    """Read and analyse one file; raises UnreadableFile (its message is the warning) as
    ``read_report`` does.

    A sentence is found by the terms of its own text (``analyzer.terms``). Adding its report
    title's and section's terms was measured, and made answers no better: the sentence that holds
    the words a question asks for then ties with every sentence under a title that holds them."""
    report = read_report(name, data, override)
    return AnalysedReport(
        report.meta,
        report.warnings,
        tuple(report_sections(report)),
        table_of(report),
        count_terms([sentence.text for sentence in report.sentences], analyzer),
        tuple(dict.fromkeys(analyzer.terms(report.meta.title))) if report.meta.title else (),
    )
