"""The optional ``metadata.toml`` in the corpus folder, where the operator sets or corrects what
was read from a report. One table per report file, named by its path under the corpus folder::

    ["000_f160c81bd3db8945.txt"]
    title = "河北省卫生健康委:充分发挥党的政治优势 坚决打赢疫情防控斗争"
    date = "2020-02-01"          # or "2020-02", or "2020", or "unknown"
    source = "长城网"
    author = "刘作军"
    url = "https://example.org/report.html"
    damaged = 5                  # runs of damaged characters seen in the file and accepted

Every key is optional; the values given win over what was read and are marked as overrides.
A syntax error, an unknown key or a bad value is a CorpusError naming the place.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, fields
from pathlib import Path

from index.errors import CorpusError
from index.ingest.metadata import is_real_date

OVERRIDES_FILE = "metadata.toml"

UNKNOWN_DATE = "unknown"
"""The date the operator sets for a report whose date nobody knows: no warning asks for one."""

_ISO = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")


@dataclass(frozen=True)
class Override:
    """What the operator set for one report; None means "keep what was read"."""

    title: str | None = None
    date: str | None = None
    source: str | None = None
    author: str | None = None
    url: str | None = None
    damaged: int | None = None
    """How many runs of damaged characters the operator has seen in the file and accepts: the
    warning about them comes back only when the file holds another number."""

    def given(self) -> dict[str, str | int]:
        """Every setting made (what the reading of the report depends on)."""
        return {f.name: value for f in fields(self) if (value := getattr(self, f.name)) is not None}

    def metadata(self) -> dict[str, str]:
        """The metadata fields set, which replace what was read."""
        return {key: value for key, value in self.given().items() if isinstance(value, str)}


_KEYS = tuple(f.name for f in fields(Override))


def load_overrides(corpus_dir: Path) -> dict[str, Override]:
    """The overrides in ``corpus_dir/metadata.toml`` by report file name; {} when there is none."""
    path = corpus_dir / OVERRIDES_FILE
    if not path.is_file():
        return {}
    try:
        return parse_overrides(path.read_text(encoding="utf-8-sig"), path.name)
    except UnicodeDecodeError:
        raise CorpusError(f"{path.name}: not UTF-8 text; save it as UTF-8") from None


def parse_overrides(text: str, name: str = OVERRIDES_FILE) -> dict[str, Override]:
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise CorpusError(f"{name}: not valid TOML: {error}") from None
    overrides = {}
    for file, table in document.items():
        where = f'{name}: ["{file}"]'
        if not isinstance(table, dict):
            raise CorpusError(f"{where}: expected a table of settings for that report file")
        unknown = sorted(set(table) - set(_KEYS))
        if unknown:
            raise CorpusError(f"{where}: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(_KEYS)}")
        for key, value in table.items():
            _check(where, key, value)
        overrides[file] = Override(
            **{key: value.strip() if isinstance(value, str) else value for key, value in table.items()}
        )
    return overrides


def _check(where: str, key: str, value: object) -> None:
    """Raise CorpusError, naming the place, unless ``value`` is one ``key`` can take."""
    if key == "damaged":
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise CorpusError(f"{where}: damaged must be a whole number above 0, without quotes")
        return
    if not isinstance(value, str) or not value.strip():
        raise CorpusError(f"{where}: {key} must be a non-empty string in quotes")
    if key == "date" and value.strip() != UNKNOWN_DATE and not _valid_iso(value):
        raise CorpusError(
            f'{where}: date "{value}" is not a real date written YYYY-MM-DD, YYYY-MM or YYYY, '
            f'nor "{UNKNOWN_DATE}"'
        )


def _valid_iso(text: str) -> bool:
    match = _ISO.match(text.strip())
    if not match:
        return False
    return is_real_date(*(int(g) if g else 1 for g in match.groups()))
