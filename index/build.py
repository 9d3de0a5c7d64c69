"""Building the index from the corpus folder: read, analyse, score, store, swap in.

Reading and segmenting are nearly all of a build's time, so each report's analysis is kept in
``<index>/cache/`` by what it depends on (``index.store.analysis_cache``), and a rebuild reads and
segments only the reports that are new or changed, on every core. A report taken from the cache
builds exactly what a freshly analysed one does: both are the same AnalysedReport.
"""

from __future__ import annotations

import fcntl
import hashlib
import multiprocessing
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from index.text.analyzer import Analyzer
from index.store.analysis_cache import AnalysisCache
from index.batch import available_cores
from index.engine.postings import Postings
from index.engine.postings_build import PostingsBuilder
from index.ingest.pipeline import unmatched_overrides, walk_corpus
from index.errors import UnreadableFile
from index.report_analysis import AnalysedReport, analyse_report
from index.store.sentence_table import SentenceTable, join_tables
from index.ingest.overrides import OVERRIDES_FILE, Override, load_overrides
from index.store.storage import (
    IndexUnavailable,
    StoredIndex,
    StoredReport,
    open_live,
    publish,
    write_build,
)
from index.engine.update import Added, Kept, updated_postings

PARALLEL_MIN_BYTES = 2_000_000
"""Below this much text to analyse, worker processes (each loads jieba: about a second) cost more
than they save, so the build analyses in this process."""

UPDATE_MAX_SHARE = 0.25
"""A rebuild updates the live build when at most this share of the reports is new or changed;
beyond it, splicing costs more than merging every report's cached analysis afresh."""

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class BuildSummary:
    """What a build did, for the operator's summary line."""

    reports: int
    sentences: int
    terms: int
    seconds: float
    warnings: tuple[str, ...]
    build_dir: Path
    analysed: int = 0
    """Files read and segmented afresh; the others were taken from the analysis cache."""
    kept: int = 0
    """Reports carried over from the previous build unchanged (its arrays were updated, not rebuilt)."""


class EmptyCorpus(Exception):
    """No report could be read, so there is nothing to index; the live index is left as it was."""


def file_hashes(corpus_dir: Path) -> dict[str, str]:
    """sha256 of every report file that can be opened and of the overrides file (metadata.toml), by name under
    the corpus folder: what a build records, so a later start can tell whether the corpus changed."""
    return _with_overrides_file(
        corpus_dir, {name: digest for name, _, digest, _ in walk_corpus(corpus_dir) if digest}
    )


def _with_overrides_file(corpus_dir: Path, hashes: dict[str, str]) -> dict[str, str]:
    """The report files' hashes, and the overrides file (metadata.toml)'s where there is one."""
    overrides = corpus_dir / OVERRIDES_FILE
    if overrides.is_file():
        hashes[OVERRIDES_FILE] = _sha256(overrides.read_bytes())
    return hashes


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class _Task:
    """One file to read and analyse into the cache."""

    name: str
    data: bytes
    override: Override | None
    key: str


def _analyse(task: _Task, analyzer: Analyzer, cache: AnalysisCache) -> AnalysedReport | str:
    """Read and analyse one file into the cache; its analysis, or the warning that skips it."""
    try:
        analysed: AnalysedReport | str = analyse_report(task.name, task.data, task.override, analyzer)
    except UnreadableFile as skipped:
        analysed = str(skipped)
    cache.store(task.key, analysed)
    return analysed


_worker: tuple[Analyzer, AnalysisCache] | None = None


def _start_worker(analyzer_class: type[Analyzer], index_path: Path) -> None:
    """Load jieba once per worker process, not once per report."""
    global _worker
    analyzer = analyzer_class()
    analyzer.warm_up()
    _worker = (analyzer, AnalysisCache(index_path, analyzer.settings))


def _analyse_in_worker(task: _Task) -> str:
    """Analyse one file into the cache and return its key: the build reads the analysis from the
    cache, which costs it a third of what receiving it through the pool's pipe does."""
    assert _worker is not None
    _analyse(task, *_worker)
    return task.key


def _analyse_all(
    tasks: list[_Task],
    analyzer: Analyzer,
    cache: AnalysisCache,
    index_path: Path,
    workers: int,
    report_done: Callable[[], None],
) -> dict[str, AnalysedReport | str | None]:
    """Analyse ``tasks`` into the cache, on ``workers`` processes when there is enough text; each
    analysis by its key (None where its cache entry could not be read back)."""
    analysed: dict[str, AnalysedReport | str | None] = {}
    if workers < 2 or len(tasks) < 2 or sum(len(t.data) for t in tasks) < PARALLEL_MIN_BYTES:
        for task in tasks:
            analysed[task.key] = _analyse(task, analyzer, cache)
            report_done()
        return analysed
    # "spawn": a fresh interpreter per worker, safe even if the caller runs threads.
    context = multiprocessing.get_context("spawn")
    with context.Pool(
        workers, initializer=_start_worker, initargs=(type(analyzer), index_path)
    ) as pool:
        chunk = max(1, min(16, len(tasks) // (workers * 8)))
        for key in pool.imap_unordered(_analyse_in_worker, tasks, chunksize=chunk):
            analysed[key] = cache.load(key)
            report_done()
    return analysed


def build_index(
    corpus_dir: Path,
    index_path: Path,
    analyzer: Analyzer | None = None,
    progress: Progress | None = None,
    workers: int | None = None,
) -> BuildSummary:
    """Rebuild the index from every readable report and make it live atomically.

    Only files the analysis cache does not hold are read and segmented, on ``workers`` processes
    (default: every core). ``progress(done, total)`` is called per file. Raises EmptyCorpus (and
    leaves the live index alone) when no report could be read."""
    with _one_build_at_a_time(index_path):
        return _build(corpus_dir, index_path, analyzer or Analyzer(), progress, workers)


@contextmanager
def _one_build_at_a_time(index_path: Path) -> Iterator[None]:
    """Builds of one index folder take turns (a start-up rebuild and a manual `reports-bot index`
    would otherwise prune each other's cache files); a second build waits for the first."""
    index_path.mkdir(parents=True, exist_ok=True)
    with open(index_path / ".build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _build(
    corpus_dir: Path,
    index_path: Path,
    analyzer: Analyzer,
    progress: Progress | None,
    workers: int | None,
) -> BuildSummary:
    started = time.perf_counter()
    overrides = load_overrides(corpus_dir)
    cache = AnalysisCache(index_path, analyzer.settings)
    hashes: dict[str, str] = {}
    # jieba's dictionary (Python, one core) loads while the previous build is read and hashed
    # (threads that leave the GIL): a changed report is then segmented without waiting for it.
    threading.Thread(target=analyzer.warm_up, name="warm-up", daemon=True).start()
    previous = _previous_build(index_path, analyzer)
    held = {r.analysis_key: r for r in previous.reports} if previous else {}
    entries: dict[str, str] = {}  # by file, in corpus order: its cache key
    names: list[str] = []
    warnings: list[str] = []
    uncached: dict[str, bytes] = {}
    for name, data, digest, skipped in walk_corpus(corpus_dir):
        names.append(name)
        if digest:
            hashes[name] = digest
        if data is None or digest is None:
            warnings.append(skipped)
            continue
        entries[name] = key = cache.key(name, digest, overrides.get(name))
        if not cache.has(key):
            uncached[name] = data
    _with_overrides_file(corpus_dir, hashes)
    if sum(key not in held for key in entries.values()) > len(entries) * UPDATE_MAX_SHARE:
        previous, held = None, {}  # so much changed that merging every report is quicker
    tasks = [
        _Task(name, data, overrides.get(name), entries[name])
        for name, data in uncached.items()
        if entries[name] not in held
    ]

    done = len(entries) - len(tasks)

    def report_done() -> None:
        nonlocal done
        done += 1
        if progress:
            progress(done, len(entries))

    analysed = _analyse_all(
        tasks, analyzer, cache, index_path, workers or available_cores(), report_done
    )

    parts: list[StoredReport | AnalysedReport] = []
    for name, key in entries.items():
        if key in held:
            parts.append(held[key])
            continue
        result = analysed[key] if key in analysed else cache.load(key)
        if result is None:  # a damaged entry: analyse the file again
            task = _Task(name, (corpus_dir / name).read_bytes(), overrides.get(name), key)
            result = analysed[key] = _analyse(task, analyzer, cache)
        if isinstance(result, str):
            warnings.append(result)
        else:
            parts.append(result)
    warnings += unmatched_overrides(overrides, names)
    if not parts:
        raise EmptyCorpus(f"no report could be read from {corpus_dir}")
    postings, rows, table = _assemble(parts, previous, hashes, entries)
    build_dir = write_build(
        index_path, postings, rows, table, analyzer.settings, hashes, corpus_dir
    )
    publish(index_path, build_dir)
    cache.keep_only(entries.values())
    return BuildSummary(
        reports=len(rows),
        sentences=postings.sentence_count,
        terms=postings.term_count,
        seconds=time.perf_counter() - started,
        warnings=tuple(warnings) + tuple(w for r in rows for w in r.warnings),
        build_dir=build_dir,
        analysed=len(analysed),
        kept=sum(isinstance(part, StoredReport) for part in parts),
    )


def _previous_build(index_path: Path, analyzer: Analyzer) -> StoredIndex | None:
    """The live build, when the next one can be made from it: same format, same analysis, intact."""
    try:
        return open_live(index_path, analyzer.settings)
    except IndexUnavailable:
        return None


def _assemble(
    parts: list[StoredReport | AnalysedReport],
    previous: StoredIndex | None,
    hashes: dict[str, str],
    keys: dict[str, str],
) -> tuple[Postings, list[StoredReport], SentenceTable]:
    """The new build's postings, reports and sentences, from reports kept from the previous build
    and reports analysed now or taken from the analysis cache, in corpus order."""
    rows: list[StoredReport] = []
    tables: list[SentenceTable] = []
    kept: list[Kept] = []
    added: list[Added] = []
    first = 0
    for part in parts:
        if isinstance(part, StoredReport):
            assert previous is not None
            kept.append(Kept(part.first_sentence, part.sentence_count, first))
            tables.append(previous.table.rows(part.first_sentence, part.sentence_count))
            rows.append(replace(part, first_sentence=first))
        else:
            file = part.meta.file
            added.append(Added(part.block, first))
            tables.append(part.table)
            rows.append(StoredReport(
                part.meta, first, len(part.table), hashes[file], part.sections, keys[file],
                part.warnings, part.title_terms,
            ))
        first += rows[-1].sentence_count
    if previous is None:
        builder = PostingsBuilder()
        for report in added:
            builder.add(report.block)
        postings = builder.finish()
    else:
        starts = [report.first_sentence for report in previous.reports]
        postings = updated_postings(previous.postings, starts, kept, added, first)
    return postings, rows, join_tables(tables)
