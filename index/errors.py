"""Errors the corpus pipeline raises, kept apart so every stage can use them without import cycles."""

from __future__ import annotations


class CorpusError(Exception):
    """A fatal operator error (missing corpus folder, bad metadata.toml): shown as-is, no traceback."""


class UnreadableFile(Exception):
    """One report file that must be skipped; the message is the warning, starting with the file name."""
