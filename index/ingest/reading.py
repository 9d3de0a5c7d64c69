"""Find the report files and turn their bytes into text, whatever encoding the operator saved them in."""

from __future__ import annotations

import codecs
import os
import re
from dataclasses import dataclass
from pathlib import Path

import charset_normalizer

from index.errors import CorpusError, UnreadableFile

REPORT_SUFFIXES = (".txt", ".md")

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# Tried in this order by the detector: the encodings Chinese reports are really saved in.
_CANDIDATES = ["utf_8", "gb18030", "big5", "utf_16"]
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f]")
"""Control characters that text does not hold (tab, newlines, \\v and \\f are fine)."""
MAX_REPORT_BYTES = 8 * 1024 * 1024
"""A report is a web page's text, tens of kilobytes; a larger file is a dump or an export, and
reading it would hold up the whole build (cleaning and segmenting take about a second per MB)."""


@dataclass(frozen=True)
class Listing:
    """What the corpus folder holds: its report files in order, and a warning, starting with its
    name, for each folder that could not be listed and each link leading out of the folder."""

    files: list[Path]
    skipped: list[tuple[str, str]]


def discover(corpus_dir: Path) -> Listing:
    """Every *.txt and *.md file under ``corpus_dir`` (recursively, hidden ones skipped), sorted by
    relative path so that two builds over the same folder read the files in the same order.

    The walk keeps its own list of folders to visit, so any depth works (a recursive walk stops
    with RecursionError about 1,000 folders down). Links to folders are not followed. Links named
    like reports are listed even when they loop or dangle, so that reading them fails and names
    them, rather than passing over them in silence; but a link (or a path) that leads out of the
    corpus folder is refused: ``corpus/env.txt -> ../.env`` would put secrets into answers."""
    if not corpus_dir.is_dir():
        raise CorpusError(f"corpus folder not found: {corpus_dir}")
    root = os.path.realpath(corpus_dir)
    files: list[Path] = []
    skipped: list[tuple[str, str]] = []
    folders = [corpus_dir]
    while folders:
        folder = folders.pop()
        try:
            with os.scandir(folder) as listing:
                entries = list(listing)
        except OSError as error:
            name = f"{relative_name(folder, corpus_dir)}/"
            skipped.append((name, f"{name}: skipped, the folder could not be read ({error.strerror})"))
            continue
        for entry in entries:
            path = Path(entry.path)
            if entry.name.startswith("."):
                continue
            if entry.is_dir(follow_symlinks=False):
                folders.append(path)
            elif path.suffix.lower() in REPORT_SUFFIXES and (entry.is_symlink() or entry.is_file()):
                if _inside(os.path.realpath(path), root):
                    files.append(path)
                else:
                    name = relative_name(path, corpus_dir)
                    skipped.append((name, f"{name}: skipped, it leads outside the corpus folder"))
    files.sort(key=lambda path: relative_name(path, corpus_dir))
    return Listing(files, sorted(skipped))


def _inside(path: str, root: str) -> bool:
    return os.path.commonpath((path, root)) == root


def relative_name(path: Path, corpus_dir: Path) -> str:
    """The name a report is known by: its path under the corpus folder, with forward slashes."""
    return path.relative_to(corpus_dir).as_posix()


def decode(name: str, data: bytes) -> str:
    """The text of one file. A BOM decides outright; otherwise strict UTF-8, then charset-normalizer
    among the encodings Chinese text is found in. Raises UnreadableFile for empty, binary or
    undecodable files, so the caller can warn and go on with the others."""
    if len(data) > MAX_REPORT_BYTES:
        raise UnreadableFile(
            f"{name}: skipped, it is {len(data) / 2**20:.0f} MB, more than a report can be "
            f"({MAX_REPORT_BYTES // 2**20} MB); split it into one file per report"
        )
    if not data.strip():
        raise UnreadableFile(f"{name}: skipped, the file is empty")
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return _checked(name, data.decode(encoding))
            except UnicodeDecodeError as error:
                raise UnreadableFile(
                    f"{name}: skipped, it starts with a {encoding} byte-order mark but is not "
                    f"valid {encoding} ({error.reason} at byte {error.start})"
                ) from None
    if b"\x00" in data:
        raise UnreadableFile(f"{name}: skipped, it looks binary (contains NUL bytes), not text")
    try:
        return _checked(name, data.decode("utf-8"))
    except UnicodeDecodeError:
        pass
    best = charset_normalizer.from_bytes(data, cp_isolation=_CANDIDATES).best()
    if best is None:
        raise UnreadableFile(
            f"{name}: skipped, its encoding could not be recognised "
            "(save it as UTF-8, GB18030/GBK, Big5 or UTF-16 with BOM)"
        )
    return _checked(name, str(best))


def _checked(name: str, text: str) -> str:
    text = text.lstrip("\ufeff")
    if not text.strip():
        raise UnreadableFile(f"{name}: skipped, the file has no text")
    controls = len(_CONTROL.findall(text))
    if controls > max(2, len(text) // 100):
        raise UnreadableFile(f"{name}: skipped, it looks binary (control characters), not text")
    return text
