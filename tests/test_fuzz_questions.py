"""Hostile questions: whatever a user types, analysis, search and rendering neither raise nor send
Telegram anything it would refuse.

Questions mix the characters that break text handling (emoji and ZWJ sequences, zero-width and
bidi controls, C0/C1 controls, combining marks, many scripts, HTML and Markdown look-alikes) with
words the reports really hold, so that hostile text also reaches the ranking and the highlighting;
questions may also hold lone surrogates.
Sizes run from nothing to 10,000 characters, plus questions of only punctuation or only stop words.
Set REPORTS_BOT_FUZZ_EXAMPLES to try more than the default number of examples per property.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from html_check import InvalidTelegramHtml, check_telegram_html
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_render import make_hit

from bot import render
from bot.render import MAX_MESSAGE_LENGTH, message_length
from index.text.analyzer import MAX_TERM_LENGTH, Analyzer
from index.models import DAMAGED, Hit, ReportMeta, ReportSummary, SearchResult
from index.search import Searcher

EXAMPLES = int(os.environ.get("REPORTS_BOT_FUZZ_EXAMPLES", "100"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

EMOJI = ["😀", "👍🏽", "👨‍👩‍👧‍👦", "🏳️‍🌈", "🇨🇳", "❤️", "🧧", "\U0001faf6", "#️⃣"]
INVISIBLE = [
    "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u180e",
    "\u200e", "\u200f", "\u202a", "\u202b", "\u202c", "\u202d", "\u202e",
    "\u2066", "\u2067", "\u2068", "\u2069", "\u061c",
]
CONTROLS = [chr(c) for c in [*range(0, 32), *range(127, 160)]]
SURROGATES = ["\ud800", "\udbff", "\udc00", "\udfff"]
"""Half of a UTF-16 pair alone: no character, but JSON can carry one into a message's text."""
COMBINING = [chr(c) for c in [*range(0x300, 0x370), *range(0x20D0, 0x20F1)]] + ["\u3099", "\u309a"]
SCRIPTS = [
    "Hello", "Привет", "مرحبا", "שלום", "नमस्ते", "สวัสดี", "안녕하세요", "こんにちは", "Γειά",
    "衛生健康委員會", "疫情防控", "ＦＵＬＬ－ＷＩＤＴＨ１２３", "㍿㍻", "𠀀𪚥", "ﷺ", "ǅ", "ß", "İ",
]
MARKUP = [
    "<b>", "</b>", "<i>x</i>", "<a href=\"javascript:alert(1)\">", "</a>", "<script>", "<tg-spoiler>",
    "<pre><code>", "&", "&amp;", "&lt;", "&#0;", "&#x110000;", "&bogus;", "<", ">", "<<>>", "\"'",
    "*bold*", "_it_", "__u__", "~s~", "||spoiler||", "`code`", "```pre```", "[link](http://x.y)",
    "\\", "<!--", "-->", "<![CDATA[", "/start", "/search@reports_test_bot", "@someone",
]
PUNCTUATION = list("，。、；：？！…—·「」『』（）《》【】〔〕“”‘’.,;:?!-_()[]{}<>/\\|@#$%^&*~`'\"+=")

_ANALYZER = Analyzer()
STOPWORDS = sorted(_ANALYZER.stopwords)
REPORT_WORDS = ["疫情", "防控", "党员", "物资保障", "河北", "上海", "教卫系统", "卫生健康委", "口罩", "14家"]

pieces = st.one_of(
    st.text(max_size=30),
    st.sampled_from(EMOJI),
    st.sampled_from(INVISIBLE),
    st.sampled_from(CONTROLS),
    st.sampled_from(COMBINING),
    st.sampled_from(SCRIPTS),
    st.sampled_from(MARKUP),
    st.sampled_from(REPORT_WORDS),
    st.sampled_from(STOPWORDS),
)
mixed = st.lists(pieces, max_size=40).map("".join)
asked = st.lists(st.one_of(pieces, st.sampled_from(SURROGATES)), max_size=40).map("".join)
"""What a user sends: as mixed, and lone surrogates too (a report file is decoded, never holds one)."""
only_punctuation = st.lists(st.sampled_from(PUNCTUATION), min_size=1, max_size=200).map("".join)
only_stopwords = st.lists(st.sampled_from(STOPWORDS), min_size=1, max_size=60).map("".join)
huge = st.builds(
    lambda fragment, size: (fragment * (size // max(1, len(fragment)) + 1))[:size],
    st.lists(pieces, min_size=1, max_size=12).map("".join).filter(bool),
    st.integers(min_value=4000, max_value=10_000),
)
questions = st.one_of(asked, asked, only_punctuation, only_stopwords, huge, st.text())


@pytest.fixture(scope="module")
def searcher(corpus_index: Path) -> Searcher:
    """A searcher over the session's index of the five reports."""
    return Searcher.open(corpus_index, _ANALYZER)


@FUZZ
@given(question=questions)
def test_analysis_of_any_text_gives_clean_terms(question: str) -> None:
    """Terms index and search, so they must be real pieces of the folded text and never noise."""
    folded = _ANALYZER.fold(question)
    words, query_terms = _ANALYZER.question(folded)
    for word in words:
        assert 0 <= word.start < word.end <= len(folded)
        assert folded[word.start : word.end] == word.term
    for term in query_terms + _ANALYZER.terms(folded):
        assert term and term in folded
        assert DAMAGED not in term
    for word in words:
        assert len(word.term) <= MAX_TERM_LENGTH
        assert word.term not in _ANALYZER.stopwords


@FUZZ
@given(question=questions)
def test_search_of_any_question_answers_within_bounds(question: str, searcher: Searcher) -> None:
    """Hits are few, ranked, and highlight only inside their own sentence."""
    result = searcher.search(question, top_k=5)
    assert len(result.hits) <= 5
    assert [hit.rank for hit in result.hits] == list(range(1, len(result.hits) + 1))
    for hit in result.hits:
        previous_end = 0
        for start, end in hit.highlights:
            assert previous_end <= start < end <= len(hit.sentence.text)
            previous_end = end
    if not _ANALYZER.terms(question):
        assert result.hits == ()


@FUZZ
@given(question=questions, page_size=st.integers(1, 5), lang=st.sampled_from(["zh", "en"]))
def test_every_reply_to_any_question_is_valid_telegram_html(
    question: str, page_size: int, lang: str, searcher: Searcher
) -> None:
    """Every page and every passage the bot could send for the question, cut as the bot cuts it
    and uncut, is well-formed Telegram HTML within one message."""
    for asked, cut_at in ((question, None), (question[:200], 200 if len(question) > 200 else None)):
        result = searcher.search(asked, top_k=5)
        for page in range(render.page_count(result, page_size)):
            check_telegram_html(render.render_page(result, page, page_size, lang, query_cut_at=cut_at))
        for hit in result.hits:
            check_telegram_html(render.render_passage(hit, searcher.passage(hit.sentence), lang))


hostile_text = st.one_of(mixed, mixed, mixed, st.text(), huge)
short_hostile = st.one_of(mixed, st.text(max_size=300))


hostile_meta = st.builds(
    ReportMeta,
    file=short_hostile.map(lambda name: name or "x.txt"),
    title=st.none() | hostile_text,
    source=st.none(),
    author=st.none(),
    url=st.none(),
    date=st.none() | st.just("2020-02-01") | short_hostile,
    date_provenance=st.sampled_from(["explicit", "inferred", "override", "unknown"]),
)
"""Report metadata as hostile as report text: titles and file names come from the operator's files."""


@st.composite
def hostile_hits(draw: st.DrawFn, rank: int) -> Hit:
    """A hit whose report and sentence are as hostile as the question: a report can hold anything."""
    sentence = draw(hostile_text)
    spans = sorted(draw(st.lists(st.integers(0, len(sentence)), max_size=8)))
    highlights = tuple(
        (a, b) for a, b in zip(spans[::2], spans[1::2]) if a < b
    )
    return make_hit(
        sentence,
        highlights,
        rank=rank,
        before=draw(hostile_text),
        after=draw(hostile_text),
        meta=draw(hostile_meta),
    )


@st.composite
def hostile_results(draw: st.DrawFn) -> SearchResult:
    count = draw(st.integers(0, 6))
    return SearchResult(
        query=draw(hostile_text),
        hits=tuple(draw(hostile_hits(rank)) for rank in range(1, count + 1)),
        missing=tuple(draw(st.lists(hostile_text.filter(bool), max_size=30))),
    )


@FUZZ
@given(result=hostile_results(), page_size=st.integers(1, 5), lang=st.sampled_from(["zh", "en"]))
def test_rendering_hostile_report_text_is_valid_telegram_html(
    result: SearchResult, page_size: int, lang: str
) -> None:
    """Report text, titles, file names and missing words are escaped and shortened to fit."""
    for page in range(render.page_count(result, page_size)):
        check_telegram_html(render.render_page(result, page, page_size, lang, query_cut_at=200))
    for hit in result.hits:
        check_telegram_html(render.render_passage(hit, hit.context, lang))


@FUZZ
@given(
    reports=st.lists(st.builds(ReportSummary, hostile_meta, st.integers(0, 10**6)), max_size=80),
    lang=st.sampled_from(["zh", "en"]),
)
def test_the_list_of_any_reports_is_valid_telegram_html(reports: list[ReportSummary], lang: str) -> None:
    """/sources lists what the operator's files say about themselves, however many and however odd."""
    check_telegram_html(render.render_sources(reports, lang))


def test_the_checker_refuses_what_telegram_refuses() -> None:
    """The checker must be able to fail, or every test above proves nothing."""
    for bad in ["a < b", "a & b", "<b>x", "<b>x</i>", "<div>x</div>", "<a>x</a>", "x>y",
                "<span>x</span>", "&#x110000;", "", "x" * (MAX_MESSAGE_LENGTH + 1), "😀" * 2049]:
        with pytest.raises(InvalidTelegramHtml):
            check_telegram_html(bad)
    assert check_telegram_html('<b>a</b> &lt;i&gt; &amp; <a href="https://x.y">l</a>') == "a <i> & l"
    assert message_length("😀" * 2048) == MAX_MESSAGE_LENGTH
