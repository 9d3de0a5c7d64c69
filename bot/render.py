"""Pure functions from what `index/` returns to message text: Telegram HTML, or terminal text
(ANSI-marked at a terminal, plain otherwise).

Every piece of report or user text is escaped. Shortening to fit Telegram's 4096-character limit
happens on the plain text before any markup is added, so a cut never lands inside a tag or an
entity.
"""

from __future__ import annotations

import html
import math
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bot.strings import Lang, text
from index import Hit, IndexInfo, ReportMeta, ReportSummary, SearchResult

MAX_MESSAGE_LENGTH = 4096
"""Telegram's limit for one message, in UTF-16 code units."""

MAX_TITLE_LENGTH = 120
MAX_MISSING_LENGTH = 300
"""Characters of the not-found words listed above an answer: a long question can miss thousands."""
MAX_FILE_LENGTH = 100
"""A report's path is shown by its last this many characters: a deeply nested one would fill a
page on its own and make it longer than Telegram accepts."""
ELLIPSIS = "…"

_CONTEXT_LIMITS: tuple[int | None, ...] = (None, 150, 60, 20, 0)
"""Characters of context kept on each side of a sentence, tried in turn until a page fits."""
_SENTENCE_LIMITS: tuple[int | None, ...] = (None, 1000, 400, 160, 60, 20)
"""Characters kept of each sentence once the context is gone, tried in turn until a page fits."""


@dataclass(frozen=True)
class Markup:
    """How to escape text and mark it up: Telegram HTML, a terminal's ANSI codes, or plain text."""

    escape: Callable[[str], str]
    bold: Callable[[str], str]
    quiet: Callable[[str], str]
    """Context and citations, beside what answers."""
    sentence: Callable[[str], str]
    """The answering sentence, set off from its context."""
    highlight: Callable[[str], str]
    """The question's words within the answering sentence."""


def _bold_html(s: str) -> str:
    return f"<b>{s}</b>"


def _bold_ansi(s: str) -> str:
    return f"\x1b[1m{s}\x1b[22m"


def _brackets(s: str) -> str:
    return f"【{s}】"


def _unchanged(s: str) -> str:
    return s


def _printable(s: str) -> str:
    """Text without control characters: a report cannot send escape codes to the terminal."""
    return "".join(c for c in s if c == "\n" or unicodedata.category(c) != "Cc")


HTML = Markup(
    escape=lambda s: html.escape(s, quote=False),
    bold=_bold_html,
    quiet=lambda s: f"<i>{s}</i>",
    sentence=_unchanged,
    highlight=_bold_html,
)
TERMINAL = Markup(
    escape=_printable,
    bold=_bold_ansi,
    quiet=lambda s: f"\x1b[2m{s}\x1b[22m",
    sentence=_bold_ansi,
    highlight=lambda s: f"\x1b[4m{s}\x1b[24m",
)
PLAIN = Markup(
    escape=_unchanged, bold=_brackets, quiet=_unchanged, sentence=_brackets, highlight=_unchanged
)


def message_length(message: str) -> int:
    """Length as Telegram counts it: UTF-16 code units."""
    return len(message.encode("utf-16-le")) // 2


def page_count(result: SearchResult, page_size: int) -> int:
    return max(1, math.ceil(len(result.hits) / page_size))


def format_date(meta: ReportMeta, lang: Lang) -> str:
    """`2020-02-01`, `约 2021-09` when inferred, `日期不详` when unknown."""
    if meta.date is None or meta.date_provenance == "unknown":
        return text("date_unknown", lang)
    if meta.date_provenance == "inferred":
        return text("date_inferred", lang, date=meta.date)
    return meta.date


def citation(meta: ReportMeta, lang: Lang) -> str:
    """Plain `title · date · file` line citing a report."""
    return " · ".join((_title(meta, lang), format_date(meta, lang), _file(meta)))


def render_page(
    result: SearchResult,
    page: int,
    page_size: int,
    lang: Lang,
    *,
    markup: Markup = HTML,
    query_cut_at: int | None = None,
    most_context: int | None = None,
) -> str:
    """One page of an answer: notices (a cut question, missing words, no sentence that answers it
    directly), then each hit with context and citation, then the page number.

    Context (at most ``most_context`` characters a side) is shortened first, then the sentences
    themselves, until the page fits one message. A hit from a paragraph already shown around an
    earlier hit of the page comes without context, so that no paragraph is shown twice.
    """
    header = []
    if query_cut_at is not None:
        header.append(markup.escape(text("query_cut", lang, limit=query_cut_at)))
    if result.missing:
        separator = "、" if lang == "zh" else ", "
        terms = clip(separator.join(result.missing), MAX_MISSING_LENGTH)
        header.append(markup.escape(text("missing", lang, terms=terms)))
    if not result.hits:
        return "\n\n".join([*header, markup.escape(text("no_results", lang))])
    if not result.confident:
        header.append(markup.escape(text("nearest", lang)))

    pages = page_count(result, page_size)
    page = min(max(page, 0), pages - 1)
    hits = result.hits[page * page_size : (page + 1) * page_size]
    footer = [markup.escape(text("page", lang, page=page + 1, pages=pages))] if pages > 1 else []
    repeats = _paragraph_repeats(hits)
    message = ""
    for context_limit, sentence_limit in _shortenings(most_context):
        blocks = [
            _render_hit(hit, lang, markup, 0 if repeat else context_limit, sentence_limit)
            for hit, repeat in zip(hits, repeats)
        ]
        message = "\n\n".join([*header, *blocks, *footer])
        if message_length(message) <= MAX_MESSAGE_LENGTH:
            break
    return message


def render_passage(hit: Hit, passage: str, lang: Lang, *, markup: Markup = HTML) -> str:
    """The paragraph a hit stands in, its sentence in bold, then the citation."""
    start = passage.find(hit.sentence.text)
    spans = ((start, start + len(hit.sentence.text)),) if start >= 0 else ()
    cite = markup.quiet(markup.escape(citation(hit.report, lang)))
    message = ""
    for limit in (None, 3500, 2000, 1000, 400):
        shown, shown_spans = _shorten(passage, spans, limit)
        message = f"{mark_spans(shown, shown_spans, markup.bold, markup.escape)}\n\n{cite}"
        if message_length(message) <= MAX_MESSAGE_LENGTH:
            break
    return message


def render_sources(reports: Sequence[ReportSummary], lang: Lang, *, markup: Markup = HTML) -> str:
    """Each report that fits one message: title, date with provenance, sentence count, file."""
    header = markup.escape(text("sources_header", lang, count=len(reports)))
    blocks = [header]
    for number, report in enumerate(reports, start=1):
        meta = report.meta
        provenance = text(f"provenance_{meta.date_provenance}", lang)
        date = format_date(meta, lang)
        if meta.date_provenance != "unknown":
            date += text("date_provenance", lang, provenance=provenance)
        facts = " · ".join((date, text("sentence_count", lang, count=report.sentences), _file(meta)))
        title = markup.bold(markup.escape(_title(meta, lang)))
        block = f"{number}. {title}\n{markup.escape(facts)}"
        more = markup.escape(text("sources_more", lang, count=len(reports) - number + 1))
        if message_length("\n\n".join([*blocks, block, more])) > MAX_MESSAGE_LENGTH:
            blocks.append(more)
            break
        blocks.append(block)
    return "\n\n".join(blocks)


def render_about(info: IndexInfo, lang: Lang, *, markup: Markup = HTML) -> str:
    """Facts about the index being served."""
    facts = text(
        "about",
        lang,
        reports=info.reports,
        sentences=info.sentences,
        terms=info.terms,
        built_at=info.built_at,
    )
    return markup.escape(facts)


def _shortenings(most_context: int | None) -> list[tuple[int | None, int | None]]:
    """(context, sentence) limits from loose to tight: context goes first, then sentence text."""
    contexts = _CONTEXT_LIMITS
    if most_context is not None:
        contexts = (most_context, *(c for c in contexts if c is not None and c < most_context))
    levels: list[tuple[int | None, int | None]] = [(c, None) for c in contexts]
    return levels + [(0, s) for s in _SENTENCE_LIMITS[1:]]


def _paragraph_repeats(hits: Sequence[Hit]) -> list[bool]:
    """For each hit, whether an earlier one stands in its paragraph (whose context showed it)."""
    seen: set[tuple[str, int]] = set()
    repeats = []
    for hit in hits:
        paragraph = (hit.report.file, hit.sentence.paragraph)
        repeats.append(paragraph in seen)
        seen.add(paragraph)
    return repeats


def _render_hit(
    hit: Hit, lang: Lang, markup: Markup, context_limit: int | None, sentence_limit: int | None
) -> str:
    sentence, spans = _shorten(hit.sentence.text, hit.highlights, sentence_limit)
    before = _keep_end(hit.context_before, context_limit)
    after = clip(hit.context_after, context_limit)
    body = markup.sentence(mark_spans(sentence, spans, markup.highlight, markup.escape))
    if before:
        body = markup.quiet(markup.escape(before)) + body
    if after:
        body += markup.quiet(markup.escape(after))
    cite = markup.quiet(markup.escape("— " + citation(hit.report, lang)))
    return f"{hit.rank}. {body}\n{cite}"


def mark_spans(
    sentence: str,
    spans: Sequence[tuple[int, int]],
    mark: Callable[[str], str],
    escape: Callable[[str], str] = _unchanged,
) -> str:
    """``sentence`` escaped, with its ``spans`` (a hit's highlights, say) put through ``mark``:
    the one walk over spans, whatever the medium marks them with."""
    parts = []
    position = 0
    for start, end in spans:
        parts.append(escape(sentence[position:start]))
        parts.append(mark(escape(sentence[start:end])))
        position = end
    parts.append(escape(sentence[position:]))
    return "".join(parts)


def _shorten(
    sentence: str, spans: Sequence[tuple[int, int]], limit: int | None
) -> tuple[str, tuple[tuple[int, int], ...]]:
    """At most ``limit`` characters of ``sentence`` around its first span, spans moved to match."""
    if limit is None or len(sentence) <= limit:
        return sentence, tuple(spans)
    first = spans[0][0] if spans else 0
    start = max(0, min(first - limit // 4, len(sentence) - limit))
    end = start + limit
    prefix = ELLIPSIS if start > 0 else ""
    suffix = ELLIPSIS if end < len(sentence) else ""
    offset = len(prefix) - start
    moved = tuple(
        (max(s, start) + offset, min(e, end) + offset) for s, e in spans if s < end and e > start
    )
    return prefix + sentence[start:end] + suffix, moved


def _keep_end(context: str, limit: int | None) -> str:
    if limit is None or len(context) <= limit:
        return context
    return ELLIPSIS + context[len(context) - limit :] if limit else ""


def clip(value: str, limit: int | None) -> str:
    """At most ``limit`` characters from the start of ``value``, with an ellipsis if cut."""
    if limit is None or len(value) <= limit:
        return value
    return value[:limit] + ELLIPSIS if limit else ""


def _file(meta: ReportMeta) -> str:
    if len(meta.file) <= MAX_FILE_LENGTH:
        return meta.file
    return ELLIPSIS + meta.file[-MAX_FILE_LENGTH:]


def _title(meta: ReportMeta, lang: Lang) -> str:
    title = meta.title or text("no_title", lang)
    return clip(title, MAX_TITLE_LENGTH)
