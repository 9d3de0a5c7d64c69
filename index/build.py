"""Building the index from the corpus folder: read, analyse, score, store, swap in.

Reading and segmenting are nearly all of a build's time (jieba segments about 0.3 M characters a
second per core), so each report's analysis is kept in ``<index>/cache/`` by what it depends on, and
a rebuild reads and segments only the reports that are new or changed, on every core. The cache
holds JSON and plain ``.npy`` arrays, never pickles, and a report taken from it builds exactly what
a freshly analysed one does: both go through the cache.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import multiprocessing
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from index.analysis import Analyzer
from index.bm25 import Postings, PostingsBuilder, TermBlock, term_block
from index.corpus import read_report, unmatched_overrides, walk_corpus
from index.errors import UnreadableFile
from index.models import Report, Sentence
from index.sidecar import SIDECAR_NAME, Override, load_sidecar
from index.sentence_table import SentenceTable, join_tables, report_sections, table_of
from index.storage import (
    IndexUnavailable,
    StoredIndex,
    StoredReport,
    _meta_from_json,
    open_live,
    publish,
    write_build,
)
from index.update import Added, Kept, updated_postings

CACHE_VERSION = 3
"""Bump when what a cache entry holds, or how it is made, changes."""
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
    """sha256 of every report file that can be opened and of the metadata sidecar, by name under
    the corpus folder: what a build records, so a later start can tell whether the corpus changed."""
    return _with_sidecar(
        corpus_dir, {name: digest for name, _, digest, _ in walk_corpus(corpus_dir) if digest}
    )


def _with_sidecar(corpus_dir: Path, hashes: dict[str, str]) -> dict[str, str]:
    """The report files' hashes, and the metadata sidecar's where there is one."""
    sidecar = corpus_dir / SIDECAR_NAME
    if sidecar.is_file():
        hashes[SIDECAR_NAME] = _sha256(sidecar.read_bytes())
    return hashes


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sentence_terms(sentence: Sentence, analyzer: Analyzer) -> list[str]:
    """The terms a sentence is found by: its own text's. (Adding its report title's and section's
    terms was measured, and made answers no better: the sentence that holds the words a question
    asks for then ties with every sentence under a title that holds them.)"""
    return analyzer.terms(sentence.text)


def report_terms(report: Report, analyzer: Analyzer) -> list[list[str]]:
    """``sentence_terms`` of every sentence of a report, in order."""
    return [sentence_terms(sentence, analyzer) for sentence in report.sentences]


class AnalysisCache:
    """Each file's reading and analysis, by content: ``<key>.json`` holds the report's metadata,
    sentences, warnings and how many distinct terms and term characters it has (or why the file
    was skipped), ``<key>.npy`` its TermBlock's arrays one after another as one int32 array (term
    lengths, term code points, df, docs, tfs, sentence lengths). The JSON file is written last, so
    its presence means the entry is whole.

    The key hashes everything the analysis depends on: the file's bytes, its name (sentences and
    metadata carry it), its metadata.toml override (it changes the stored metadata), the
    analyzer settings, and the cache format version (the index format does not change what a
    report's analysis is)."""

    def __init__(self, index_path: Path, analyzer_settings: dict[str, object]) -> None:
        self.root = index_path / "cache"
        self.folder = self.root / f"v{CACHE_VERSION}"
        self._settings = analyzer_settings

    def key(self, name: str, sha256: str, override: Override | None) -> str:
        parts = {
            "file": name,
            "sha256": sha256,
            "override": override.given() if override else None,
            "analyzer": self._settings,
            "format": CACHE_VERSION,
        }
        return _sha256(json.dumps(parts, sort_keys=True, ensure_ascii=False).encode())

    def has(self, key: str) -> bool:
        return (self.folder / f"{key}.json").is_file()

    def store(self, key: str, report: Report | str, block: TermBlock | None = None) -> None:
        """Keep a report with its TermBlock, or the warning that says why its file was skipped."""
        self.folder.mkdir(parents=True, exist_ok=True)
        if isinstance(report, str):
            entry: dict[str, object] = {"skipped": report}
        else:
            assert block is not None
            entry = {
                "meta": asdict(report.meta),
                "warnings": list(report.warnings),
                "sentences": [
                    [s.position, s.start, s.end, s.paragraph, s.section, s.text]
                    for s in report.sentences
                ],
                "terms": len(block.term_lengths),
                "chars": len(block.term_chars),
            }
            arrays = np.concatenate([
                block.term_lengths, block.term_chars, block.df, block.docs, block.tfs, block.doc_len
            ])
            _replace(self.folder / f"{key}.npy", lambda f: np.save(f, arrays.astype(np.int32)))
        text = json.dumps(entry, ensure_ascii=False, separators=(",", ":"))
        _replace(self.folder / f"{key}.json", lambda f: f.write(text.encode("utf-8")))

    def load(self, key: str) -> tuple[Report, TermBlock] | str | None:
        """The report and its TermBlock, or the skip warning; None when the entry is missing or
        damaged (it is then analysed again)."""
        try:
            entry = json.loads((self.folder / f"{key}.json").read_text(encoding="utf-8"))
            if "skipped" in entry:
                return str(entry["skipped"])
            meta = _meta_from_json(entry["meta"])
            sentences = tuple(Sentence(meta.file, *row) for row in entry["sentences"])
            terms, chars, count = int(entry["terms"]), int(entry["chars"]), len(sentences)
            arrays = np.load(self.folder / f"{key}.npy", allow_pickle=False)
        except (OSError, ValueError, KeyError, TypeError):
            return None
        postings = (len(arrays) - 2 * terms - chars - count) // 2
        if arrays.ndim != 1 or postings < 0 or 2 * terms + chars + 2 * postings + count != len(arrays):
            return None
        parts = np.split(arrays, np.cumsum([terms, chars, terms, postings, postings]))
        if int(parts[0].sum()) != chars:
            return None
        report = Report(meta, "", sentences, tuple(entry["warnings"]))
        return report, TermBlock(*parts)

    def keep_only(self, keys: Iterable[str]) -> None:
        """Drop the entries of files no longer in the corpus, and caches of other versions."""
        wanted = set(keys)
        for other in self.root.iterdir():
            if other != self.folder:
                shutil.rmtree(other, ignore_errors=True)
        for path in self.folder.iterdir():
            if path.name.split(".", 1)[0] not in wanted:
                path.unlink(missing_ok=True)


def _replace(path: Path, write: Callable[[object], object]) -> None:
    """Write through a temporary file and rename, so a reader never sees half an entry."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    with open(temporary, "wb") as handle:
        write(handle)
    os.replace(temporary, path)


@dataclass(frozen=True)
class _Task:
    """One file to read and analyse into the cache."""

    name: str
    data: bytes
    override: Override | None
    key: str


def _analyse(task: _Task, analyzer: Analyzer, cache: AnalysisCache) -> None:
    try:
        report = read_report(task.name, task.data, task.override)
    except UnreadableFile as skipped:
        cache.store(task.key, str(skipped))
        return
    block = term_block(report_terms(report, analyzer))
    cache.store(task.key, report, block)


_worker: tuple[Analyzer, AnalysisCache] | None = None


def _start_worker(analyzer_class: type[Analyzer], index_path: Path) -> None:
    """Load jieba once per worker process, not once per report."""
    global _worker
    analyzer = analyzer_class()
    analyzer.warm_up()
    _worker = (analyzer, AnalysisCache(index_path, analyzer.settings))


def _analyse_in_worker(task: _Task) -> None:
    assert _worker is not None
    _analyse(task, *_worker)


def _analyse_all(
    tasks: list[_Task],
    analyzer: Analyzer,
    cache: AnalysisCache,
    index_path: Path,
    workers: int,
    report_done: Callable[[], None],
) -> None:
    """Analyse ``tasks`` into the cache, on ``workers`` processes when there is enough text."""
    if workers < 2 or len(tasks) < 2 or sum(len(t.data) for t in tasks) < PARALLEL_MIN_BYTES:
        for task in tasks:
            _analyse(task, analyzer, cache)
            report_done()
        return
    # "spawn": a fresh interpreter per worker, safe even if the caller runs threads.
    context = multiprocessing.get_context("spawn")
    with context.Pool(
        workers, initializer=_start_worker, initargs=(type(analyzer), index_path)
    ) as pool:
        chunk = max(1, min(16, len(tasks) // (workers * 8)))
        for _ in pool.imap_unordered(_analyse_in_worker, tasks, chunksize=chunk):
            report_done()


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
    overrides = load_sidecar(corpus_dir)
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
    _with_sidecar(corpus_dir, hashes)
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

    _analyse_all(tasks, analyzer, cache, index_path, workers or _cores(), report_done)

    parts: list[StoredReport | tuple[Report, TermBlock]] = []
    analysed = len(tasks)
    for name, key in entries.items():
        if key in held:
            parts.append(held[key])
            continue
        loaded = cache.load(key)
        if loaded is None:  # a damaged entry: analyse the file again
            task = _Task(name, (corpus_dir / name).read_bytes(), overrides.get(name), key)
            _analyse(task, analyzer, cache)
            analysed += 1
            loaded = cache.load(key)
        if isinstance(loaded, str):
            warnings.append(loaded)
        elif loaded is not None:
            parts.append(loaded)
    warnings += unmatched_overrides(overrides, names)
    if not parts:
        raise EmptyCorpus(f"no report could be read from {corpus_dir}")
    postings, rows, table = _assemble(parts, previous, hashes, entries)
    build_dir = write_build(index_path, postings, rows, table, analyzer.settings, hashes)
    publish(index_path, build_dir)
    cache.keep_only(entries.values())
    return BuildSummary(
        reports=len(rows),
        sentences=postings.sentence_count,
        terms=postings.term_count,
        seconds=time.perf_counter() - started,
        warnings=tuple(warnings) + tuple(w for r in rows for w in r.warnings),
        build_dir=build_dir,
        analysed=analysed,
        kept=sum(isinstance(part, StoredReport) for part in parts),
    )


def _previous_build(index_path: Path, analyzer: Analyzer) -> StoredIndex | None:
    """The live build, when the next one can be made from it: same format, same analysis, intact."""
    try:
        return open_live(index_path, analyzer.settings)
    except IndexUnavailable:
        return None


def _assemble(
    parts: list[StoredReport | tuple[Report, TermBlock]],
    previous: StoredIndex | None,
    hashes: dict[str, str],
    keys: dict[str, str],
) -> tuple[Postings, list[StoredReport], SentenceTable]:
    """The new build's postings, reports and sentences, from reports kept from the previous build
    and reports taken from the analysis cache, in corpus order."""
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
            report, block = part
            file = report.meta.file
            added.append(Added(block, first))
            tables.append(table_of(report))
            rows.append(StoredReport(
                report.meta, first, len(report.sentences), hashes[file],
                tuple(report_sections(report)), keys[file], report.warnings,
            ))
        first += rows[-1].sentence_count
    if previous is None:
        builder = PostingsBuilder()
        for report in added:
            builder.add(report.block)
        postings = builder.finish()
    else:
        postings = updated_postings(previous.postings, kept, added, first)
    return postings, rows, join_tables(tables)


def _cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
