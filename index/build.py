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


def _start_worker(
    analyzer_class: type[Analyzer], jieba_cache_dir: Path | None, index_path: Path
) -> None:
    """Load jieba once per worker process, not once per report."""
    global _worker
    analyzer = analyzer_class(jieba_cache_dir)
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
        workers, initializer=_start_worker, initargs=(type(analyzer), analyzer.jieba_cache_dir, index_path)
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
    """Plan what to analyse, analyse it, assemble the arrays, publish them."""
    started = time.perf_counter()
    cache = AnalysisCache(index_path, analyzer.settings)
    plan = _plan(corpus_dir, index_path, analyzer, cache)
    parts, skipped, analysed = _analyse_planned(
        plan, corpus_dir, index_path, analyzer, cache, workers or available_cores(), progress
    )
    postings, rows, table = _assemble(parts, plan.previous, plan.hashes, plan.keys)
    build_dir = _publish(index_path, corpus_dir, analyzer, cache, plan, postings, rows, table)
    return BuildSummary(
        reports=len(rows),
        sentences=postings.sentence_count,
        terms=postings.term_count,
        seconds=time.perf_counter() - started,
        warnings=(*plan.skipped, *skipped, *plan.unmatched, *(w for r in rows for w in r.warnings)),
        build_dir=build_dir,
        analysed=analysed,
        kept=sum(isinstance(part, StoredReport) for part in parts),
    )


@dataclass(frozen=True)
class _Plan:
    """What a build is made of, decided from the corpus folder, the cache and the live build
    before anything is analysed."""

    keys: dict[str, str]
    """Each readable file, in corpus order: the key of its analysis."""
    hashes: dict[str, str]
    """What the build records of the corpus folder (``file_hashes``)."""
    overrides: dict[str, Override]
    tasks: list[_Task]
    """The files to read and analyse: neither in the cache nor kept from the live build."""
    previous: StoredIndex | None
    """The live build to update, or None to merge every report afresh."""
    kept: dict[str, StoredReport]
    """The live build's reports to carry over, by analysis key."""
    skipped: list[str]
    """Why files that could not be opened were left out."""
    unmatched: list[str]
    """metadata.toml entries that name no report file."""


def _plan(corpus_dir: Path, index_path: Path, analyzer: Analyzer, cache: AnalysisCache) -> _Plan:
    """Walk and hash the corpus folder, and decide what to analyse and whether to update the live
    build (few reports changed) or merge every report's analysis afresh."""
    overrides = load_overrides(corpus_dir)
    # jieba's dictionary (Python, one core) loads while the previous build is read and hashed
    # (threads that leave the GIL): a changed report is then segmented without waiting for it.
    threading.Thread(target=analyzer.warm_up, name="warm-up", daemon=True).start()
    previous = _previous_build(index_path, analyzer)
    kept = {r.analysis_key: r for r in previous.reports} if previous else {}
    keys: dict[str, str] = {}
    hashes: dict[str, str] = {}
    names: list[str] = []
    skipped: list[str] = []
    uncached: dict[str, bytes] = {}
    for name, data, digest, warning in walk_corpus(corpus_dir):
        names.append(name)
        if digest:
            hashes[name] = digest
        if data is None or digest is None:
            skipped.append(warning)
            continue
        keys[name] = key = cache.key(name, digest, overrides.get(name))
        if not cache.has(key):
            uncached[name] = data
    _with_overrides_file(corpus_dir, hashes)
    if sum(key not in kept for key in keys.values()) > len(keys) * UPDATE_MAX_SHARE:
        previous, kept = None, {}  # so much changed that merging every report is quicker
    tasks = [
        _Task(name, data, overrides.get(name), keys[name])
        for name, data in uncached.items()
        if keys[name] not in kept
    ]
    return _Plan(keys, hashes, overrides, tasks, previous, kept, skipped,
                 unmatched_overrides(overrides, names))


def _analyse_planned(
    plan: _Plan,
    corpus_dir: Path,
    index_path: Path,
    analyzer: Analyzer,
    cache: AnalysisCache,
    workers: int,
    progress: Progress | None,
) -> tuple[list[StoredReport | AnalysedReport], list[str], int]:
    """Analyse the planned files into the cache, then gather every readable report in corpus order
    (kept from the live build, analysed now, or taken from the cache). Returns the reports, why
    unreadable files were skipped, and how many files were analysed (a damaged cache entry is
    analysed again, and counts). Raises EmptyCorpus when no report could be read."""
    done, total = len(plan.keys) - len(plan.tasks), len(plan.keys)

    def report_done() -> None:
        nonlocal done
        done += 1
        if progress:
            progress(done, total)

    analysed = _analyse_all(plan.tasks, analyzer, cache, index_path, workers, report_done)
    parts: list[StoredReport | AnalysedReport] = []
    skipped: list[str] = []
    for name, key in plan.keys.items():
        if key in plan.kept:
            parts.append(plan.kept[key])
            continue
        result = analysed[key] if key in analysed else cache.load(key)
        if result is None:  # a damaged entry: analyse the file again
            task = _Task(name, (corpus_dir / name).read_bytes(), plan.overrides.get(name), key)
            result = analysed[key] = _analyse(task, analyzer, cache)
        if isinstance(result, str):
            skipped.append(result)
        else:
            parts.append(result)
    if not parts:
        raise EmptyCorpus(f"no report could be read from {corpus_dir}")
    return parts, skipped, len(analysed)


def _publish(
    index_path: Path,
    corpus_dir: Path,
    analyzer: Analyzer,
    cache: AnalysisCache,
    plan: _Plan,
    postings: Postings,
    rows: list[StoredReport],
    table: SentenceTable,
) -> Path:
    """Write the build beside the live one, make it live, and drop the cache entries no file of
    the corpus needs any more; the new build's folder."""
    build_dir = write_build(
        index_path, postings, rows, table, analyzer.settings, plan.hashes, corpus_dir
    )
    publish(index_path, build_dir)
    cache.keep_only(plan.keys.values())
    return build_dir


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
    return _postings(previous, kept, added, first), rows, join_tables(tables)


def _postings(
    previous: StoredIndex | None, kept: list[Kept], added: list[Added], sentence_count: int
) -> Postings:
    """The live build's postings updated, or (with no build to update) the added reports merged."""
    if previous is None:
        builder = PostingsBuilder()
        for report in added:
            builder.add(report.block)
        return builder.finish()
    starts = [report.first_sentence for report in previous.reports]
    return updated_postings(previous.postings, starts, kept, added, sentence_count)
