"""Find the report files and turn their bytes into text, whatever encoding the operator saved them in."""

from __future__ import annotations

import codecs
import re
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


def discover(corpus_dir: Path) -> list[Path]:
    """Every *.txt and *.md file under ``corpus_dir`` (recursively, hidden ones skipped), sorted by
    relative path so that two builds over the same folder read the files in the same order.
    Links named like reports are listed even when they loop or dangle, so that reading them fails
    and names them, rather than passing over them in silence."""
    if not corpus_dir.is_dir():
        raise CorpusError(f"corpus folder not found: {corpus_dir}")
    found = [
        path
        for path in corpus_dir.rglob("*")
        if path.suffix.lower() in REPORT_SUFFIXES
        and (path.is_file() or path.is_symlink())
        and not any(part.startswith(".") for part in path.relative_to(corpus_dir).parts)
    ]
    return sorted(found, key=lambda path: relative_name(path, corpus_dir))


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
