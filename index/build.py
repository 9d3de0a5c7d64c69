"""Building the index from the corpus folder: read, analyse, score, store, swap in."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from index.analysis import Analyzer
from index.bm25 import build_postings
from index.corpus import load_corpus
from index.models import Report, Sentence
from index.reading import discover, relative_name
from index.storage import publish, write_build

SIDECAR = "metadata.toml"


@dataclass(frozen=True)
class BuildSummary:
    """What a build did, for the operator's summary line."""

    reports: int
    sentences: int
    terms: int
    seconds: float
    warnings: tuple[str, ...]
    build_dir: Path


class EmptyCorpus(Exception):
    """No report could be read, so there is nothing to index; the live index is left as it was."""


def file_hashes(corpus_dir: Path) -> dict[str, str]:
    """sha256 of every report file and of the metadata sidecar, by name under the corpus folder."""
    paths = discover(corpus_dir)
    sidecar = corpus_dir / SIDECAR
    if sidecar.is_file():
        paths.append(sidecar)
    return {
        relative_name(path, corpus_dir): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in paths
    }


def sentence_terms(report: Report, sentence: Sentence, analyzer: Analyzer) -> list[str]:
    """The terms a sentence is found by: its own, plus its report title's and its section's, because
    a sentence seldom repeats the place or subject its report is about (吉林, 株洲, 援鄂)."""
    header = " ".join(filter(None, (report.meta.title, sentence.section)))
    return analyzer.terms(sentence.text) + analyzer.terms(header)


def build_index(
    corpus_dir: Path,
    index_path: Path,
    analyzer: Analyzer | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> BuildSummary:
    """Rebuild the index from every readable report and make it live atomically.

    ``progress(done, total)`` is called per report analysed. Raises EmptyCorpus (and leaves the
    live index alone) when no report could be read."""
    started = time.perf_counter()
    analyzer = analyzer or Analyzer()
    hashes = file_hashes(corpus_dir)
    corpus = load_corpus(corpus_dir)
    if not corpus.reports:
        raise EmptyCorpus(f"no report could be read from {corpus_dir}")
    documents: list[list[str]] = []
    for done, report in enumerate(corpus.reports, start=1):
        documents.extend(sentence_terms(report, s, analyzer) for s in report.sentences)
        if progress:
            progress(done, len(corpus.reports))
    postings = build_postings(documents)
    build_dir = write_build(
        index_path,
        postings,
        [(report, hashes[report.meta.file]) for report in corpus.reports],
        analyzer.settings,
        hashes,
    )
    publish(index_path, build_dir)
    return BuildSummary(
        reports=len(corpus.reports),
        sentences=postings.sentence_count,
        terms=len(postings.terms),
        seconds=time.perf_counter() - started,
        warnings=corpus.warnings + tuple(w for r in corpus.reports for w in r.warnings),
        build_dir=build_dir,
    )
