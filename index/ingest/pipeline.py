"""The reading pipeline: bytes -> text -> clean paragraphs -> metadata and sentences -> Report.

``read_report`` works on one file's bytes, so a build can cache each report by content hash;
``load_corpus`` runs it over the whole corpus folder with the operator's metadata.toml.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
from collections.abc import Iterable, Iterator
from pathlib import Path

from index.ingest.cleaning import MAX_PARAGRAPH, CleanDocument, clean
from index.errors import CorpusError, UnreadableFile
from index.ingest.metadata import extract
from index.models import Corpus, Report, ReportMeta
from index.ingest.reading import decode, discover, relative_name
from index.ingest.sentences import CHUNK, MAX_SENTENCE, Split, split
from index.ingest.overrides import OVERRIDES_FILE, UNKNOWN_DATE, Override, load_overrides

__all__ = ["CorpusError", "UnreadableFile", "Override", "load_corpus", "read_report"]

log = logging.getLogger(__name__)

_SHOWN_CHARS = 100
"""How much of the text left out of the index a note quotes."""


def load_corpus(corpus_dir: Path) -> Corpus:
    """Every report under ``corpus_dir``, in sorted order. A file that cannot be read is skipped
    with a warning; a bad metadata.toml or a missing folder raises CorpusError."""
    overrides = load_overrides(corpus_dir)
    reports: list[Report] = []
    warnings: list[str] = []
    names = []
    for name, data, _, skipped in walk_corpus(corpus_dir):
        names.append(name)
        if data is None:
            warnings.append(skipped)
            continue
        try:
            reports.append(read_report(name, data, overrides.get(name)))
        except UnreadableFile as unreadable:
            warnings.append(str(unreadable))
    return Corpus(tuple(reports), tuple(warnings + unmatched_overrides(overrides, names)))


def walk_corpus(corpus_dir: Path) -> Iterator[tuple[str, bytes | None, str | None, str]]:
    """Each report file in order: its name, its bytes and their sha256, or, for a file skipped,
    no bytes and the warning that says why: it leads out of the corpus folder, its name is no text
    or it could not be opened (no hash either), or it repeats the text of an earlier file. Folders
    that could not be listed come first, the same way."""
    first_of: dict[str, str] = {}
    listing = discover(corpus_dir)
    for name, warning in listing.skipped:
        yield name, None, None, warning
    for path in listing.files:
        name = relative_name(path, corpus_dir)
        try:
            name.encode("utf-8")
        except UnicodeEncodeError:  # bytes that are no UTF-8, kept by the OS as lone surrogates
            shown = name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
            yield shown, None, None, (
                f"{shown}: skipped, its name is not valid UTF-8 (its bad bytes are shown as "
                "\ufffd); rename it"
            )
            continue
        try:
            data = path.read_bytes()
        except OSError as error:
            yield name, None, None, f"{name}: skipped, it could not be opened ({error.strerror})"
            continue
        digest = hashlib.sha256(data).hexdigest()
        if digest in first_of:
            yield name, None, digest, f"{name}: skipped, the same text as {first_of[digest]}"
            continue
        first_of[digest] = name
        yield name, data, digest, ""


def unmatched_overrides(overrides: dict[str, Override], names: Iterable[str]) -> list[str]:
    """A warning for each metadata.toml entry that names no report file."""
    return [
        f'{OVERRIDES_FILE}: ["{name}"] matches no report file in the corpus folder'
        for name in sorted(set(overrides) - set(names))
    ]


def read_report(name: str, data: bytes, override: Override | None = None) -> Report:
    """One report from its name under the corpus folder and its raw bytes.
    Raises UnreadableFile (its message is the warning) for an empty, oversized, binary or
    undecodable file, and for one with no sentence (only page furniture): it could answer nothing."""
    document = clean(decode(name, data), markdown=name.lower().endswith(".md"))
    meta = extract(name, document)
    if override is not None:
        meta = _apply(meta, override)
    parts = split(name, document)
    if not parts.sentences:
        raise UnreadableFile(f"{name}: skipped, no sentences found in it; is it a report?")
    warnings = _damage(name, document.damaged, override)
    if meta.date is None and "date" not in meta.overrides:
        warnings.append(
            f'{name}: no date found; set one in {OVERRIDES_FILE} if you know it, or "{UNKNOWN_DATE}"'
        )
    return Report(
        meta=meta,
        text=parts.text,
        sentences=parts.sentences,
        warnings=tuple(warnings),
        notes=tuple(_left_out(document) + _cut(name, parts)),
    )


def _damage(name: str, damaged: int, override: Override | None) -> list[str]:
    """A warning about the runs of damaged characters, unless metadata.toml accepts that many."""
    accepted = override.damaged if override else None
    if not damaged or damaged == accepted:
        return []
    warning = (
        f"{name}: {damaged} run(s) of characters damaged by a bad encoding round-trip, "
        "each shown as one U+FFFD (\ufffd)"
    )
    return [warning + (f"; {OVERRIDES_FILE} accepts {accepted}" if accepted else "")]


def _cut(name: str, parts: Split) -> list[str]:
    """A note, and a logged warning, saying which over-long paragraphs and sentences were cut:
    a report of megabytes would otherwise cost every question that touches it."""
    if not parts.long_paragraphs and not parts.long_sentences:
        return []
    note = (
        f"{name}: cut to keep answers quick: {parts.long_paragraphs} paragraph(s) over "
        f"{MAX_PARAGRAPH} characters into parts, {parts.long_sentences} sentence(s) over "
        f"{MAX_SENTENCE} characters into chunks of at most {CHUNK}"
    )
    log.warning(note)
    return [note]


def _left_out(document: CleanDocument) -> list[str]:
    """A note counting the lines dropped as page furniture or captions and those after the body,
    quoting the first of them, so that real text dropped by mistake can be seen."""
    left_out = [*document.dropped, *(p.text for p in document.of_kind("footer"))]
    if not left_out:
        return []
    shown = " | ".join(left_out)
    if len(shown) > _SHOWN_CHARS:
        shown = shown[:_SHOWN_CHARS] + "…"
    return [f"{len(left_out)} line(s) left out as page furniture, captions or footer: {shown}"]


def _apply(meta: ReportMeta, override: Override) -> ReportMeta:
    given: dict[str, str | None] = dict(override.metadata())
    if given.get("date") == UNKNOWN_DATE:
        given["date"] = None
        meta = dataclasses.replace(meta, date_provenance="unknown")
    elif "date" in given:
        meta = dataclasses.replace(meta, date_provenance="override")
    return dataclasses.replace(meta, **given, overrides=tuple(given))
