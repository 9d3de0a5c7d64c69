"""The displayed sentences of a build as three plain arrays, so that loading them is one read each and
a rebuild can cut reports out of them and splice new ones in without touching the others."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from index.models import Report, Sentence

NO_SECTION = -1


@dataclass(frozen=True)
class SentenceTable:
    """Sentence i's UTF-8 text is ``text[bounds[i]:bounds[i+1]]``; ``fields[i]`` holds its start, end,
    paragraph, and its section as a number into its report's list of sections (-1: none). Its file
    and its position within the report follow from the report it belongs to."""

    text: np.ndarray
    bounds: np.ndarray
    fields: np.ndarray

    def __len__(self) -> int:
        return len(self.fields)

    def text_of(self, i: int) -> str:
        """Sentence i's text."""
        return self.text[self.bounds[i] : self.bounds[i + 1]].tobytes().decode("utf-8")

    def paragraph_of(self, i: int) -> int:
        return int(self.fields[i, 2])

    def sentence(self, i: int, file: str, position: int, sections: Sequence[str]) -> Sentence:
        start, end, paragraph, section = self.fields[i].tolist()
        text = self.text_of(i)
        return Sentence(
            file, position, start, end, paragraph,
            None if section == NO_SECTION else sections[section], text,
        )

    def rows(self, first: int, count: int) -> SentenceTable:
        """Sentences first..first+count-1, as a table of their own."""
        bounds = self.bounds[first : first + count + 1]
        return SentenceTable(self.text[bounds[0] : bounds[-1]], bounds - bounds[0],
                             self.fields[first : first + count])


def report_sections(report: Report) -> list[str]:
    """The distinct section headings of a report, in order of first use."""
    return list(dict.fromkeys(s.section for s in report.sentences if s.section is not None))


def table_of(report: Report) -> SentenceTable:
    """One report's sentences, their sections numbered as ``report_sections`` lists them."""
    number = {name: i for i, name in enumerate(report_sections(report))}
    encoded = [s.text.encode("utf-8") for s in report.sentences]
    bounds = np.zeros(len(encoded) + 1, dtype=np.int64)
    np.cumsum([len(e) for e in encoded], out=bounds[1:])
    fields = np.asarray(
        [[s.start, s.end, s.paragraph, number.get(s.section, NO_SECTION)]
         for s in report.sentences],
        dtype=np.int32,
    ).reshape(-1, 4)
    return SentenceTable(np.frombuffer(b"".join(encoded), dtype=np.uint8), bounds, fields)


def join_tables(tables: Sequence[SentenceTable]) -> SentenceTable:
    """The tables one after another."""
    shifts = np.cumsum([0] + [len(t.text) for t in tables[:-1]])
    bounds = [t.bounds[:-1] + shift for t, shift in zip(tables, shifts)]
    bounds.append(np.asarray([sum(len(t.text) for t in tables)], dtype=np.int64))
    return SentenceTable(
        np.concatenate([t.text for t in tables]).astype(np.uint8, copy=False),
        np.concatenate(bounds).astype(np.int64, copy=False),
        np.concatenate([t.fields for t in tables]).astype(np.int32, copy=False).reshape(-1, 4),
    )
