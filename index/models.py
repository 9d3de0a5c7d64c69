"""Plain data passed between the pipeline stages: read -> clean -> split -> analyze -> index -> search."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

DateProvenance = Literal["explicit", "inferred", "override", "unknown"]

DAMAGED = "\ufffd"
"""Stands in the cleaned text for a run of characters lost to a bad encoding round-trip."""


@dataclass(frozen=True)
class ReportMeta:
    """What a citation needs to know about one report."""

    file: str
    """Path relative to the corpus folder, with forward slashes: the name users see as the source."""
    title: str | None
    source: str | None
    author: str | None
    url: str | None
    date: str | None
    """ISO text at the precision known: ``2020-02-01`` or ``2021-09``; None when unknown."""
    date_provenance: DateProvenance
    overrides: tuple[str, ...] = ()
    """Names of the fields the operator set in the corpus's metadata.toml (they win over what was read)."""


@dataclass(frozen=True)
class Sentence:
    """One answerable chunk of a report, as displayed (report's own script, glosses removed)."""

    file: str
    position: int
    """Index of this sentence within its report, 0-based."""
    start: int
    end: int
    """Character span of the sentence in the report's cleaned text."""
    paragraph: int
    """Index of the paragraph (within the report) the sentence belongs to."""
    section: str | None
    """The heading this sentence stands under, if any."""
    text: str


@dataclass(frozen=True)
class Report:
    """A report read and cleaned: its metadata, cleaned text and sentences in reading order."""

    meta: ReportMeta
    text: str
    sentences: tuple[Sentence, ...]
    warnings: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    """What reading left out of the index or cut, for the operator to check (not problems)."""


@dataclass(frozen=True)
class Corpus:
    """Every report that could be read, plus one warning per file or problem that was skipped."""

    reports: tuple[Report, ...]
    warnings: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class Hit:
    """One answering sentence with everything needed to show and cite it."""

    rank: int
    score: float
    """The ranking's score (``index.engine.ranking``): BM25 with the report's evidence."""
    bm25: float
    """The sentence's own BM25 score, exactly rank_bm25's."""
    report: ReportMeta
    sentence: Sentence
    highlights: tuple[tuple[int, int], ...]
    """Spans of ``sentence.text`` that matched query terms, sorted and non-overlapping."""
    context_before: str
    context_after: str
    """Neighbouring sentences of the same paragraph, for context."""
    partial: bool = False
    """The sentence, its context and its report's title leave out a word of the question (a date,
    a name, 加强针) or write no number or date where the question asks for one: it is the
    nearest sentence, not an answer."""

    @property
    def context(self) -> str:
        return self.context_before + self.sentence.text + self.context_after


@dataclass(frozen=True)
class SearchResult:
    """The answer to one question: hits best first, and the query terms found nowhere."""

    query: str
    hits: tuple[Hit, ...]
    missing: tuple[str, ...]
    """The question's words that no report holds, as the user wrote them, in question order."""

    @property
    def confident(self) -> bool:
        """Whether the best sentence answers the question: every word of the question is in
        some report, and the best sentence is not ``partial``."""
        return bool(self.hits) and not self.hits[0].partial and not self.missing


@dataclass(frozen=True)
class ReportSummary:
    """One indexed report as listed to users: its metadata and how many sentences it holds."""

    meta: ReportMeta
    sentences: int


@dataclass(frozen=True)
class IndexInfo:
    """Facts about the index being served."""

    built_at: str
    """ISO 8601 UTC time of the build."""
    reports: int
    sentences: int
    terms: int
    format_version: int


def result_to_dict(result: SearchResult) -> dict[str, object]:
    """The JSON shape of a result that `reports-bot search --json` prints, one object per query."""
    return {
        "query": result.query,
        "results": [
            {
                "rank": hit.rank,
                "score": hit.score,
                "bm25": hit.bm25,
                "partial": hit.partial,
                "file": hit.report.file,
                "title": hit.report.title,
                "date": hit.report.date,
                "date_provenance": hit.report.date_provenance,
                "section": hit.sentence.section,
                "text": hit.sentence.text,
                "context": hit.context,
            }
            for hit in result.hits
        ],
        "missing": list(result.missing),
        "confident": result.confident,
    }
