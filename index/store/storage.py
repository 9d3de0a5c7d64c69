"""The on-disk index: a versioned folder of plain arrays, swapped in atomically.

Layout of ``INDEX_PATH`` (see the README's "Index format" section)::

    current -> builds/<build id>      symlink to the live build, replaced with one atomic rename
    builds/<build id>/
        manifest.json                 format version, build time, corpus folder, fingerprint and
                                      file hashes, analyzer settings, counts, sha256 of every
                                      other file, and a sha256 of its own other fields (checksum)
        reports.json                  one object per report: metadata, content hash, sentence id
                                      range, section headings
        sentence_text.npy sentence_bounds.npy sentence_fields.npy
                                      the displayed sentences: UTF-8 text back to back, where each
                                      starts, and (start, end, paragraph, section) per sentence
        term_chars.npy length_counts.npy  the vocabulary: code points of the terms in (length, text)
                                      order, and how many terms there are of each length
        offsets.npy docs.npy tfs.npy  CSR postings: term i holds docs[offsets[i]:offsets[i+1]]
        idf.npy doc_len.npy           rank_bm25's idf per term; terms per sentence
        report_df.npy                 how many reports hold each term (the report-level prior)

Arrays are ``.npy`` files, loaded with ``allow_pickle=False``; nothing is ever pickled. A build is
read whole into memory when opened, so a file truncated or overwritten under a running bot cannot
crash it (a memory-mapped file cut short raises SIGBUS) or change its answers. The manifest is
written last, so a build folder without one is unfinished and never served.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import math
import os
import shutil
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from index.engine.postings import Postings
from index.models import IndexInfo, ReportMeta, Sentence
from index.store.sentence_table import SentenceTable

FORMAT_VERSION = 5
_ARRAYS = (
    "term_chars", "length_counts", "offsets", "docs", "tfs", "idf", "doc_len", "report_df"
)
_TABLE_ARRAYS = {"sentence_text": "text", "sentence_bounds": "bounds", "sentence_fields": "fields"}
DATA_FILES = ("reports.json", *(f"{name}.npy" for name in (*_ARRAYS, *_TABLE_ARRAYS)))
"""Every file of a build besides the manifest, which records their sha256."""
_IO_THREADS = 2
"""Files read (or written) and checksummed at once: hashing and file reads release the GIL."""
_KEEP_OLD_BUILDS = 1
"""Builds kept besides the live one, so a reader that opened the previous build can finish."""


class IndexUnavailable(Exception):
    """There is no index at the path, or it cannot be served; the message says what to do."""


@dataclass(frozen=True)
class StoredReport:
    """A report as the index keeps it: metadata, where its sentences start, its content hash, the
    section headings its sentences stand under (they refer to them by number), its title's terms,
    and what the next build needs to reuse it: the key of its analysis and the warnings its
    reading gave."""

    meta: ReportMeta
    first_sentence: int
    sentence_count: int
    sha256: str
    sections: tuple[str, ...] = ()
    analysis_key: str = ""
    warnings: tuple[str, ...] = ()
    title_terms: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        row = dict(vars(self), meta=dict(vars(self.meta), overrides=list(self.meta.overrides)))
        row.update(sections=list(self.sections), warnings=list(self.warnings),
                   title_terms=list(self.title_terms))
        return row

    @classmethod
    def from_json(cls, row: dict[str, Any]) -> StoredReport:
        fields = dict(row, meta=_meta_from_json(row["meta"]))
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in fields.items()})


class StoredIndex:
    """A loaded build, held in memory: postings, report metadata, and the sentence table."""

    table: SentenceTable

    def __init__(
        self,
        build_dir: Path,
        analyzer: dict[str, object] | None = None,
        manifest: dict[str, Any] | None = None,
    ) -> None:
        """Load ``build_dir``; with ``analyzer``, refuse (before reading any array) a build made by
        another analysis: its terms would not match. ``manifest``: the build's, when the caller
        has already read it (``read_manifest``)."""
        self.build_dir = build_dir
        self.manifest = read_manifest(build_dir) if manifest is None else manifest
        if analyzer is not None:
            _check_analyzer(build_dir, self.manifest, analyzer)
        try:
            sums = self.manifest["files"]
            names = (*_ARRAYS, *_TABLE_ARRAYS)
            # Largest first, so the two threads finish together.
            names = sorted(names, key=lambda n: -(build_dir / f"{n}.npy").stat().st_size)
            with ThreadPoolExecutor(_IO_THREADS) as pool:
                loaded = pool.map(
                    lambda name: _checked_array(build_dir / f"{name}.npy", sums[f"{name}.npy"]),
                    names,
                )
                arrays = dict(zip(names, loaded))
            self.reports = tuple(
                StoredReport.from_json(row)
                for row in json.loads(_checked_bytes(build_dir / "reports.json", sums["reports.json"]))
            )
            self.table = SentenceTable(**{field: arrays.pop(name)
                                          for name, field in _TABLE_ARRAYS.items()})
            self.postings = Postings(avgdl=float(self.manifest["avgdl"]), **arrays)
            self._check_shapes()
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise IndexUnavailable(f"the index at {build_dir} is damaged: {error!r}") from None
        self._report_starts = [r.first_sentence for r in self.reports]

    def _check_shapes(self) -> None:
        p, counts = self.postings, self.manifest["counts"]
        consistent = (
            int(p.length_counts.sum()) == counts["terms"] == len(p.idf) == len(p.offsets) - 1
            == len(p.report_df)
            and int(np.dot(p.length_counts, np.arange(len(p.length_counts)))) == len(p.term_chars)
            and len(p.docs) == len(p.tfs) == counts["postings"] == int(p.offsets[-1])
            and len(p.doc_len) == counts["sentences"]
            and len(self.reports) == counts["reports"]
            and len(self.table) == len(self.table.bounds) - 1 == counts["sentences"]
            and self.table.fields.ndim == 2
            and int(self.table.bounds[-1]) == len(self.table.text)
        )
        sentences = counts["sentences"]
        in_range = (
            consistent
            and int(p.offsets[0]) == 0
            and bool(np.all(np.diff(p.offsets) >= 0))
            and (len(p.docs) == 0 or (int(p.docs.min()) >= 0 and int(p.docs.max()) < sentences))
            and all(0 <= r.first_sentence <= r.first_sentence + r.sentence_count <= sentences
                    for r in self.reports)
            and bool(np.all(np.diff(self.table.bounds) >= 0))
        )
        if not in_range:
            raise IndexUnavailable(f"the index at {self.build_dir} is damaged: its arrays disagree")

    @property
    def info(self) -> IndexInfo:
        counts = self.manifest["counts"]
        return IndexInfo(
            built_at=self.manifest["built_at"],
            reports=counts["reports"],
            sentences=counts["sentences"],
            terms=counts["terms"],
            format_version=self.manifest["format_version"],
        )

    def report_of(self, sentence_id: int) -> StoredReport:
        return self.reports[bisect.bisect_right(self._report_starts, sentence_id) - 1]

    def sentences(self, first: int, last: int) -> list[Sentence]:
        """Sentences with ids first..last inclusive (within the index), in order."""
        found = []
        for i in range(max(0, first), min(last, len(self.table) - 1) + 1):
            report = self.report_of(i)
            found.append(self.table.sentence(
                i, report.meta.file, i - report.first_sentence, report.sections
            ))
        return found

    def sentence(self, sentence_id: int) -> Sentence:
        return self.sentences(sentence_id, sentence_id)[0]


def read_manifest(build_dir: Path) -> dict[str, Any]:
    """A build's manifest, provided the build is finished and of the format this program reads."""
    manifest_path = build_dir / "manifest.json"
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise IndexUnavailable(f"the index build {build_dir} is incomplete (no manifest)") from None
    except (OSError, ValueError) as error:
        raise IndexUnavailable(f"the index manifest {manifest_path} is unreadable: {error}") from None
    if not isinstance(manifest, dict):
        raise IndexUnavailable(f"the index manifest {manifest_path} is damaged: not an object")
    version = manifest.get("format_version")
    if version != FORMAT_VERSION:
        raise IndexUnavailable(
            f"the index at {build_dir} has format version {version}, this program reads version "
            f"{FORMAT_VERSION}: rebuild it with `reports-bot index`"
        )
    if manifest.get("checksum") != _manifest_checksum(manifest):
        raise IndexUnavailable(
            f"the index manifest {manifest_path} is damaged (it does not match its checksum): "
            "rebuild it with `reports-bot index`"
        )
    return manifest


def _manifest_checksum(manifest: dict[str, Any]) -> str:
    """sha256 of every field of a manifest but this one: the data files' sums do not cover the
    manifest, so an edited avgdl or count would change answers while every file matched."""
    fields = {name: value for name, value in manifest.items() if name != "checksum"}
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()


def fingerprint(corpus_files: dict[str, str]) -> str:
    """One hash for the whole corpus: it changes when any file is added, edited or removed."""
    digest = hashlib.sha256()
    for name in sorted(corpus_files):
        digest.update(f"{name}\0{corpus_files[name]}\n".encode())
    return digest.hexdigest()


def _checked_bytes(path: Path, expected_sha256: str) -> bytes:
    """A file's bytes, provided they are the ones the manifest recorded."""
    content = path.read_bytes()
    if hashlib.sha256(content).hexdigest() != expected_sha256:
        raise ValueError(f"{path.name} does not match the checksum its manifest recorded")
    return content


def _checked_array(path: Path, expected_sha256: str) -> np.ndarray:
    """An .npy file read straight into memory, provided its bytes are the ones the manifest
    recorded. Only plain arrays are read: nothing that would need unpickling."""
    with open(path, "rb") as handle:
        version = np.lib.format.read_magic(handle)
        read_header = (
            np.lib.format.read_array_header_1_0
            if version == (1, 0)
            else np.lib.format.read_array_header_2_0
        )
        shape, fortran_order, dtype = read_header(handle)
        if dtype.hasobject or fortran_order:
            raise ValueError(f"{path.name} is not a plain array")
        header_length = handle.tell()
        count = math.prod(shape)
        array = np.fromfile(handle, dtype=dtype, count=count)
        if array.size != count:
            raise ValueError(f"{path.name} is cut short")
        handle.seek(0)
        digest = hashlib.sha256(handle.read(header_length))
    digest.update(memoryview(array).cast("B"))
    if digest.hexdigest() != expected_sha256:
        raise ValueError(f"{path.name} does not match the checksum its manifest recorded")
    return array.reshape(shape)


def _meta_from_json(fields: dict[str, Any]) -> ReportMeta:
    """JSON has no tuples: turn lists back into the tuples the dataclass holds."""
    return ReportMeta(**{k: tuple(v) if isinstance(v, list) else v for k, v in fields.items()})


def write_build(
    index_path: Path,
    postings: Postings,
    reports: list[StoredReport],
    table: SentenceTable,
    analyzer: dict[str, object],
    corpus_files: dict[str, str],
    corpus_dir: Path,
) -> Path:
    """Write a complete build folder beside the live one and return it; ``publish`` makes it live.

    ``corpus_files`` has the sha256 of every file in the corpus folder ``corpus_dir``, read or not,
    so a later start can tell what changed; the folder is recorded so that later commands compare
    with (and rebuild from) the folder the index was built from."""
    built_at = datetime.now(timezone.utc)
    build_dir = index_path / "builds" / f"{built_at:%Y%m%dT%H%M%S%fZ}-{os.getpid()}"
    build_dir.mkdir(parents=True)
    with _removed_on_failure(build_dir):
        arrays = {name: getattr(postings, name) for name in _ARRAYS}
        arrays.update({name: getattr(table, field) for name, field in _TABLE_ARRAYS.items()})
        # One report a line; json's C encoder (indent=None) is ten times faster than its
        # indenting one.
        lines = (json.dumps(r.to_json(), ensure_ascii=False) for r in reports)
        rows = "[\n" + ",\n".join(lines) + "\n]\n"
        (build_dir / "reports.json").write_text(rows, "utf-8")
        largest_first = sorted(arrays.items(), key=lambda item: -item[1].nbytes)
        with ThreadPoolExecutor(_IO_THREADS) as pool:
            sums = list(pool.map(lambda item: _save_array(build_dir / f"{item[0]}.npy", item[1]),
                                 largest_first))
        files = {f"{name}.npy": digest for (name, _), digest in zip(largest_first, sums)}
        files["reports.json"] = hashlib.sha256(rows.encode("utf-8")).hexdigest()
        manifest = {
            "format_version": FORMAT_VERSION,
            "built_at": built_at.isoformat(timespec="seconds"),
            "corpus_dir": str(corpus_dir.resolve()),
            "corpus_fingerprint": fingerprint(corpus_files),
            "corpus_files": corpus_files,
            "analyzer": analyzer,
            "avgdl": postings.avgdl,
            "files": dict(sorted(files.items())),
            "counts": {
                "reports": len(reports),
                "sentences": postings.sentence_count,
                "terms": postings.term_count,
                "postings": len(postings.docs),
            },
        }
        manifest["checksum"] = _manifest_checksum(manifest)
        _write_durably(build_dir / "manifest.json", json.dumps(manifest, ensure_ascii=False))
    return build_dir


def _save_array(path: Path, array: np.ndarray) -> str:
    """Save a plain .npy file and return the sha256 of its bytes."""
    np.save(path, array, allow_pickle=False)
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 24):
            digest.update(chunk)
    return digest.hexdigest()


def _write_durably(path: Path, text: str) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())


def publish(index_path: Path, build_dir: Path) -> None:
    """Make ``build_dir`` the live build with one atomic rename, then drop builds no one needs."""
    link = index_path / "current"
    staging = index_path / f".current-{os.getpid()}"
    staging.unlink(missing_ok=True)
    with _removed_on_failure(build_dir):
        staging.symlink_to(build_dir.relative_to(index_path))
        os.replace(staging, link)
    _remove_old_builds(index_path, keep=build_dir)


@contextmanager
def _removed_on_failure(build_dir: Path) -> Iterator[None]:
    """A build that could not be written or made live is removed, not left half-written (a full
    disk would otherwise fill up with them)."""
    try:
        yield
    except BaseException:
        shutil.rmtree(build_dir, ignore_errors=True)
        raise


def _remove_old_builds(index_path: Path, keep: Path) -> None:
    builds = sorted(p for p in (index_path / "builds").iterdir() if p != keep)
    for old in builds[: max(0, len(builds) - _KEEP_OLD_BUILDS)]:
        shutil.rmtree(old, ignore_errors=True)


def live_build(index_path: Path) -> Path:
    """The folder of the live build, or IndexUnavailable saying how to make one."""
    link = index_path / "current"
    try:
        return index_path / os.readlink(link)
    except FileNotFoundError:
        raise IndexUnavailable(
            f"no index at {index_path}: build one with `reports-bot index`"
        ) from None
    except OSError as error:
        raise IndexUnavailable(f"the index at {index_path} is unreadable: {error}") from None


_OPEN_ATTEMPTS = 5
"""Times opening the live build is tried while rebuilds keep swapping it."""


@dataclass(frozen=True)
class LiveManifest:
    """The live build's folder and its manifest, checked as ``open_live`` checks it: read once,
    it tells whether the index is stale and then opens it."""

    build_dir: Path
    manifest: dict[str, Any]


def live_manifest(index_path: Path, analyzer: dict[str, object]) -> LiveManifest:
    """The live build's manifest, with the checks ``open_live`` makes before reading any array:
    finished, of this format, made by this analysis. Cheap: to tell whether the index is stale."""
    build_dir = live_build(index_path)
    manifest = read_manifest(build_dir)
    _check_analyzer(index_path, manifest, analyzer)
    return LiveManifest(build_dir, manifest)


def open_live(
    index_path: Path, analyzer: dict[str, object], known: LiveManifest | None = None
) -> StoredIndex:
    """Open the live build, refusing one made by another analysis (its terms would not match).

    ``known`` is its manifest when already read; it is read again only if the live build has
    changed since. If a rebuild swaps the build (and removes it) while it is being opened, the
    new one is opened instead."""
    for _ in range(_OPEN_ATTEMPTS):
        build_dir = live_build(index_path)
        manifest = known.manifest if known and known.build_dir == build_dir else None
        try:
            return StoredIndex(build_dir, analyzer, manifest)
        except IndexUnavailable:
            if live_build(index_path) == build_dir:
                raise
    raise IndexUnavailable(f"the index at {index_path} kept changing while it was being opened")


def _check_analyzer(where: Path, manifest: dict[str, Any], analyzer: dict[str, object]) -> None:
    if manifest.get("analyzer") != analyzer:
        raise IndexUnavailable(
            f"the index at {where} was built with other analyzer settings "
            f"({manifest.get('analyzer')}): rebuild it with `reports-bot index`"
        )
