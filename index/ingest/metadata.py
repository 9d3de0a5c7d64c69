"""Read a report's title, source, author, URL and date from the lines around its body.

Sites write these in many shapes (a lone ``2020-02-01 16:56:00``, ``发布时间:2020年02月19日 15:03
来源:…``, a URL glued to a date and a site name). A date written there is *explicit*; without one,
the latest date the text itself mentions is *inferred*; with nothing to go on it is *unknown*.
No date is ever made up.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable

from index.ingest.cleaning import COLONS, COMMAS, OPENING_PARENS, CleanDocument
from index.models import ReportMeta
from index.text.scripts import HAN

_URL = re.compile(r"https?://[A-Za-z0-9._~:/?#@!$&'*+,;=%-]+?(?=\d{4}\s*年|[^A-Za-z0-9._~:/?#@!$&'*+,;=%-]|$)")
_FULL_DATE = re.compile(
    r"(?<!\d)(\d{4})\s*(?:[-/.]\s*(\d{1,2})\s*[-/.]\s*(\d{1,2})|年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*[日号])"
)
_TIME = re.compile(r"(?<!\d)\d{1,2}:\d{2}(?::\d{2})?(?!\d)")
_LABEL = r"(?:发布时间|發布時間|發佈時間|时间|時間|日期|来源|來源|稿源|出处|出處|作者|记者|記者|编辑|編輯|责任编辑|責任編輯)"
_LABELLED = re.compile(rf"{_LABEL}\s*[{COLONS}]")
_SOURCE = re.compile(rf"(?:来源|來源|稿源|出处|出處)\s*[{COLONS}]\s*([^\s{COLONS}]+)(?:\s+([{HAN}]{{2,3}}(?:\s+[{HAN}]{{2,3}})*))?(?=\s|$)")
_AUTHOR = re.compile(rf"(?:作者|记者|記者|撰稿|撰文|文)\s*[{COLONS}]\s*([{HAN}]{{2,4}}(?:[\s、{COMMAS}]+[{HAN}]{{2,4}})*)")
_NAMES_LINE = re.compile(rf"^[{HAN}]{{2,3}}(?:\s+[{HAN}]{{2,3}}){{0,5}}$")
_SITE_SUFFIX = r"(?:网|網|在线|在線|日报|日報|晚报|晚報|频道|頻道|电视台|電視台)"
_SITE = re.compile(rf"^[{HAN}A-Za-z]{{1,10}}{_SITE_SUFFIX}$")
_SITE_EDITOR = re.compile(
    rf"^[{OPENING_PARENS}]?\s*([{HAN}]{{1,10}}{_SITE_SUFFIX})\s*(?:责任|責任)?(?:编辑|編輯)\s*[{COLONS}]"
)

# Dates the text mentions, for inference: full dates, year-months, bare years (which set the year
# for the month-day mentions after them), month-days and bare months.
_MENTION = re.compile(
    r"(?<!\d)(?:(?P<y>(?:19|20)\d{2})\s*年(?:\s*(?P<ym>\d{1,2})\s*月(?:\s*(?P<yd>\d{1,2})\s*[日号])?)?"
    r"|(?P<iy>(?:19|20)\d{2})-(?P<im>\d{1,2})-(?P<id>\d{1,2})"
    r"|(?P<m>\d{1,2})\s*月(?:\s*(?P<d>\d{1,2})\s*[日号])?)"
)


def extract(file: str, document: CleanDocument) -> ReportMeta:
    """Metadata of one cleaned report: from its header and footer lines, falling back on the
    dates its text mentions."""
    header = document.of_kind("header")
    title_lines = _title_lines(header)
    lines = [p.text for p in header[len(title_lines) :]] + [p.text for p in document.of_kind("footer")]

    url = _first(m.group() for line in lines for m in _URL.finditer(line))
    site = _first(_site(line) for line in lines)
    labelled = _first(m for line in lines if (m := _SOURCE.search(line)))
    named = _first(_author(line) for line in lines)
    author = named or (labelled and labelled.group(2))
    # What the page labels its source is the source, even where another site reprinted it.
    source = (labelled and labelled.group(1)) or site or None

    date, provenance = _explicit_date(lines), "explicit"
    if date is None:
        body = "\n".join(p.text for p in document.of_kind("heading", "body"))
        date, provenance = infer_date(body), "inferred"
    if date is None:
        provenance = "unknown"
    return ReportMeta(
        file=file,
        title=" ".join(p.text for p in title_lines) or None,
        source=source,
        author=author or None,
        url=url,
        date=date,
        date_provenance=provenance,
    )


def _title_lines(header) -> list:
    """The first header line, and the lines written right under it (no blank line between) that
    are not publication lines: a title can run over several lines, with its subtitle."""
    title = []
    for paragraph in header:
        if title and (paragraph.block != title[0].block or _is_publication_line(paragraph.text)):
            break
        if not title and _is_publication_line(paragraph.text):
            return []
        title.append(paragraph)
    return title


def _is_publication_line(text: str) -> bool:
    return bool(
        _URL.search(text)
        or _FULL_DATE.search(text)
        or _LABELLED.search(text)
        or _site(text)
    )


def _site(line: str) -> str | None:
    """A publisher named on its own among the page's header words (``共产党员网``, a URL and date
    followed by ``教育裝備網``) or before an editor credit (``(天水在線編輯:陶靜)``)."""
    if match := _SITE_EDITOR.match(line):
        return match.group(1)
    rest = _TIME.sub(" ", _FULL_DATE.sub(" ", _URL.sub(" ", line)))
    return _first(token for token in rest.split() if _SITE.match(token))


def _author(line: str) -> str | None:
    if match := _AUTHOR.search(line):
        return " ".join(re.split(rf"[\s、{COMMAS}]+", match.group(1)))
    if _NAMES_LINE.match(line) and not _SITE.match(line):  # 人民网 is no name
        return line
    return None


def _explicit_date(lines: list[str]) -> str | None:
    for line in lines:
        for match in _FULL_DATE.finditer(line):
            year = int(match.group(1))
            month, day = (int(g) for g in (match.group(2) or match.group(4), match.group(3) or match.group(5)))
            if is_real_date(year, month, day):
                return f"{year:04d}-{month:02d}-{day:02d}"
    return None


def infer_date(text: str) -> str | None:
    """The latest date the text mentions, at the precision it is written with. A month and day
    without a year take the year last mentioned before them (or, if none came before, the latest
    year the text names); bare years alone are never enough to date a report."""
    years = [int(m.group("y")) for m in _MENTION.finditer(text) if m.group("y")]
    fallback_year = max(years) if years else None
    year = None
    best: tuple[int, int, int] | None = None
    for match in _MENTION.finditer(text):
        if match.group("y"):
            year = int(match.group("y"))
            found = (year, _int(match.group("ym")), _int(match.group("yd")))
        elif match.group("iy"):
            found = (int(match.group("iy")), int(match.group("im")), int(match.group("id")))
        else:
            context = year or fallback_year
            if context is None:
                continue
            found = (context, int(match.group("m")), _int(match.group("d")))
        if found[1] and is_real_date(*found) and (best is None or found > best):
            best = found
    if best is None:
        return None
    year, month, day = best
    return f"{year:04d}-{month:02d}" + (f"-{day:02d}" if day else "")


def is_real_date(year: int, month: int = 1, day: int = 0) -> bool:
    """Whether the calendar has this date; a day of 0: a month, written without its day."""
    try:
        dt.date(year, month, day or 1)
    except ValueError:
        return False
    return True


def _int(value: str | None) -> int:
    return int(value) if value else 0


def _first(values: Iterable):
    return next((value for value in values if value), None)

