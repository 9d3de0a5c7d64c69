"""Cut a cleaned report into answerable sentences, each under the section heading it stands in.

The cleaned text is the headings and body paragraphs, one per line; every sentence records its
character span in that text, so ``text[start:end] == sentence.text`` always holds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from index.ingest.cleaning import (
    CLOSERS, COLONS, COMMAS, CONTENT, MAX_PARAGRAPH, SEMICOLONS, TERMINALS, CleanDocument,
)
from index.models import Sentence
from index.text.scripts import HAN

LONG_SENTENCE = 150
"""Sentences longer than this are also cut after semicolons."""
MAX_SENTENCE = 300
"""Sentences still longer than this are cut into CHUNKs: a report of megabytes with no sentence
end would otherwise be one sentence, costing every question that touches it."""
CHUNK = 120
"""Text without sentence terminals, and a sentence over MAX_SENTENCE, is cut into chunks of at most
this many characters, each at the last soft break (comma, colon, space...) of its second half."""

_SENTENCE_END = re.compile(rf"[{re.escape(TERMINALS)}]+[{re.escape(CLOSERS)}…]*")
_CLAUSE_END = re.compile(rf"[{SEMICOLONS}][{re.escape(CLOSERS)}]*")
_SOFT_BREAK = re.compile(rf"[{COMMAS}{SEMICOLONS}{COLONS}、\s]")
_SPACED_LETTER = re.compile(rf"[^\W_{HAN}]")
"""A letter or digit of a script that separates its words with spaces (Latin...), not to be cut."""


@dataclass(frozen=True)
class Split:
    text: str
    """The cleaned text: headings and body paragraphs, one per line."""
    sentences: tuple[Sentence, ...]
    long_paragraphs: int
    """Body paragraphs over MAX_PARAGRAPH characters, numbered as several paragraphs."""
    long_sentences: int
    """Sentences over MAX_SENTENCE characters, cut into chunks."""


def split(file: str, document: CleanDocument) -> Split:
    """Sentences of the body paragraphs, in reading order. Consecutive headings (a heading split
    over several lines, or a title with its subtitle) together name the section of the sentences
    below them; headings themselves are not sentences. A paragraph over MAX_PARAGRAPH
    characters counts as several, so that the context shown around a sentence stays short."""
    lines: list[str] = []
    sentences: list[Sentence] = []
    section: str | None = None
    heading_run: list[str] = []
    offset = 0
    paragraph = 0
    long_paragraphs = long_sentences = 0
    for part in document.of_kind("heading", "body"):
        if part.kind == "heading":
            heading_run.append(part.text)
            section = " ".join(heading_run)
        else:
            heading_run = []
            pieces = spans(part.text)
            parts = _parts(pieces)
            for (start, end), part_number in zip(pieces, parts):
                sentences.append(
                    Sentence(
                        file=file,
                        position=len(sentences),
                        start=offset + start,
                        end=offset + end,
                        paragraph=paragraph + part_number,
                        section=section,
                        text=part.text[start:end],
                    )
                )
            paragraph += parts[-1] + 1 if parts else 1
            long_paragraphs += len(part.text) > MAX_PARAGRAPH
            long_sentences += over_long(part.text)
        lines.append(part.text)
        offset += len(part.text) + 1
    return Split("\n".join(lines), tuple(sentences), long_paragraphs, long_sentences)


def _parts(pieces: list[tuple[int, int]]) -> list[int]:
    """For each sentence of a paragraph, which part of it the sentence falls in: a new part
    begins with the first sentence starting MAX_PARAGRAPH characters or more after the last."""
    parts = []
    part = first = 0
    for start, _ in pieces:
        if start - first >= MAX_PARAGRAPH:
            part, first = part + 1, start
        parts.append(part)
    return parts


def spans(paragraph: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence in one paragraph: cut after the TERMINALS with the closing
    quotes and brackets that follow, after semicolons too when a sentence runs over
    LONG_SENTENCE characters, and at the paragraph end; a sentence over MAX_SENTENCE characters,
    and any piece of a paragraph without terminals, is cut into CHUNKs. Pieces with no word
    character (a stray ……) are not sentences."""
    limit = MAX_SENTENCE if _SENTENCE_END.search(paragraph) else CHUNK
    result = [
        chunk
        for start, end in _sentences(paragraph)
        for chunk in (_chunks(paragraph, start, end) if end - start > limit else [(start, end)])
    ]
    return [
        (start, end)
        for start, end in (_trimmed(paragraph, s, e) for s, e in result)
        if CONTENT.search(paragraph, start, end)
    ]


def over_long(paragraph: str) -> int:
    """How many sentences of the paragraph run over MAX_SENTENCE characters, to be cut."""
    if len(paragraph) <= MAX_SENTENCE:
        return 0
    return sum(end - start > MAX_SENTENCE for start, end in _sentences(paragraph))


def _sentences(paragraph: str) -> list[tuple[int, int]]:
    """The paragraph cut after its TERMINALS, and after semicolons in sentences over
    LONG_SENTENCE characters."""
    result = []
    for start, end in _cut(paragraph, _SENTENCE_END, 0, len(paragraph)):
        if end - start > LONG_SENTENCE:
            result.extend(_cut(paragraph, _CLAUSE_END, start, end))
        else:
            result.append((start, end))
    return result


def _cut(text: str, boundary: re.Pattern, start: int, end: int) -> list[tuple[int, int]]:
    pieces = []
    for match in boundary.finditer(text, start, end):
        pieces.append((start, match.end()))
        start = match.end()
    if start < end:
        pieces.append((start, end))
    return pieces


def _chunks(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """``text[start:end]`` in pieces of at most CHUNK characters."""
    pieces = []
    while end - start > CHUNK:
        cut = _soft_break(text, start + CHUNK // 2, start + CHUNK)
        pieces.append((start, cut))
        start = cut
    pieces.append((start, end))
    return pieces


def _soft_break(text: str, low: int, high: int) -> int:
    """Where to cut between ``low`` and ``high``: after the last soft break, else between two
    characters that are not both letters of a spaced script (a Latin word stays whole), else,
    inside a word longer than a chunk, at ``high``."""
    breaks = [match.end() for match in _SOFT_BREAK.finditer(text, low, high)]
    if breaks:
        return breaks[-1]
    return next(
        (
            cut
            for cut in range(high, low, -1)
            if not (_SPACED_LETTER.match(text, cut - 1) and _SPACED_LETTER.match(text, cut))
        ),
        high,
    )


def _trimmed(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end
