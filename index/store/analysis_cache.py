"""Each report file's analysis kept by content, so that a rebuild reads and segments only the files
that are new or changed.

An entry is two files named by its key: ``<key>.bin``, the AnalysedReport's arrays one after another
in a fixed order and fixed types, and ``<key>.json``, its metadata, warnings and section headings,
and how long each array is (or, for a file that was skipped, the warning that says why). The JSON
file is written last, so its presence means the entry is whole. Nothing is pickled.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable, Iterable
from dataclasses import asdict
from pathlib import Path
from typing import BinaryIO

import numpy as np

from index.engine.postings_build import TermBlock
from index.report_analysis import AnalysedReport
from index.store.sentence_table import SentenceTable
from index.ingest.overrides import Override
from index.store.storage import _meta_from_json

CACHE_VERSION = 5
"""Bump when what a cache entry holds, or how it is made, changes."""

_ARRAYS = (
    ("bounds", np.int64),
    ("fields", np.int32),
    ("term_lengths", np.int32),
    ("term_chars", np.uint32),
    ("df", np.int32),
    ("docs", np.int32),
    ("tfs", np.int32),
    ("doc_len", np.int32),
    ("text", np.uint8),
)
"""The arrays of an entry's .bin file, in order: widest first, so that each starts aligned."""


class AnalysisCache:
    """Analyses by key. The key hashes everything an analysis depends on: the file's bytes, its
    name (sentences and metadata carry it), its metadata.toml override (it changes the stored
    metadata), the analyzer settings, and the cache format version (the index format does not
    change what a report's analysis is)."""

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
        text = json.dumps(parts, sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def has(self, key: str) -> bool:
        return (self.folder / f"{key}.json").is_file()

    def store(self, key: str, analysed: AnalysedReport | str) -> None:
        """Keep a report's analysis, or the warning that says why its file was skipped."""
        self.folder.mkdir(parents=True, exist_ok=True)
        if isinstance(analysed, str):
            entry: dict[str, object] = {"skipped": analysed}
        else:
            arrays = _arrays_of(analysed)
            entry = {
                "meta": asdict(analysed.meta),
                "warnings": list(analysed.warnings),
                "sections": list(analysed.sections),
                "title_terms": list(analysed.title_terms),
                "sizes": [len(array) for array in arrays],
            }
            _replace(self.folder / f"{key}.bin", lambda f: f.writelines(arrays))
        text = json.dumps(entry, ensure_ascii=False, separators=(",", ":"))
        _replace(self.folder / f"{key}.json", lambda f: f.write(text.encode("utf-8")))

    def load(self, key: str) -> AnalysedReport | str | None:
        """The analysis, or the skip warning; None when the entry is missing or damaged (the file
        is then analysed again)."""
        try:
            entry = json.loads((self.folder / f"{key}.json").read_text(encoding="utf-8"))
            if "skipped" in entry:
                return str(entry["skipped"])
            data = (self.folder / f"{key}.bin").read_bytes()
            sizes = [int(size) for size in entry["sizes"]]
            if len(sizes) != len(_ARRAYS) or min(sizes) < 0 or sum(
                size * np.dtype(dtype).itemsize for size, (_, dtype) in zip(sizes, _ARRAYS)
            ) != len(data):
                return None
            arrays, offset = {}, 0
            for size, (name, dtype) in zip(sizes, _ARRAYS):
                arrays[name] = np.frombuffer(data, dtype=dtype, count=size, offset=offset)
                offset += size * np.dtype(dtype).itemsize
            analysed = AnalysedReport(
                _meta_from_json(entry["meta"]),
                tuple(entry["warnings"]),
                tuple(entry["sections"]),
                SentenceTable(arrays["text"], arrays["bounds"], arrays["fields"].reshape(-1, 4)),
                TermBlock(*(arrays[name] for name in
                            ("term_lengths", "term_chars", "df", "docs", "tfs", "doc_len"))),
                tuple(entry["title_terms"]),
            )
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return analysed if _consistent(analysed) else None

    def keep_only(self, keys: Iterable[str]) -> None:
        """Drop the entries of files no longer in the corpus, and caches of other versions."""
        wanted = set(keys)
        for other in self.root.iterdir():
            if other != self.folder:
                shutil.rmtree(other, ignore_errors=True)
        for path in self.folder.iterdir():
            if path.name.split(".", 1)[0] not in wanted:
                path.unlink(missing_ok=True)


def _arrays_of(analysed: AnalysedReport) -> list[np.ndarray]:
    table, block = analysed.table, analysed.block
    parts = {
        "bounds": table.bounds, "fields": table.fields.ravel(), "text": table.text,
        "term_lengths": block.term_lengths, "term_chars": block.term_chars, "df": block.df,
        "docs": block.docs, "tfs": block.tfs, "doc_len": block.doc_len,
    }
    return [np.ascontiguousarray(parts[name], dtype=dtype) for name, dtype in _ARRAYS]


def _consistent(analysed: AnalysedReport) -> bool:
    """Whether the arrays of an entry fit together (a damaged entry is analysed again)."""
    table, block = analysed.table, analysed.block
    sentences = len(block.doc_len)
    return bool(
        sentences > 0
        and len(table) == sentences
        and len(table.bounds) == sentences + 1
        and table.bounds[0] == 0
        and table.bounds[-1] == len(table.text)
        and np.all(np.diff(table.bounds) >= 0)
        and len(block.df) == len(block.term_lengths)
        and int(block.term_lengths.sum()) == len(block.term_chars)
        and int(block.df.sum()) == len(block.docs) == len(block.tfs)
        and (len(block.docs) == 0 or 0 <= block.docs.min() <= block.docs.max() < sentences)
    )


def _replace(path: Path, write: Callable[[BinaryIO], object]) -> None:
    """Write through a temporary file and rename, so a reader never sees half an entry."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    with open(temporary, "wb") as handle:
        write(handle)
    os.replace(temporary, path)
