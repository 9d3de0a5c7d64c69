"""Rendering answers to Telegram HTML and plain text, from hand-built results; the HTML is
checked as Telegram would check it (`html_check`)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from html_check import check_telegram_html
from hypothesis import given
from hypothesis import strategies as st

from bot import render
from bot.render import MAX_MESSAGE_LENGTH, PLAIN, message_length
from bot.strings import _STRINGS, COMMANDS, EXAMPLE_QUESTIONS, language_of, text
from index.models import Hit, IndexInfo, ReportMeta, ReportSummary, SearchResult, Sentence

META = ReportMeta(
    file="000_hebei.txt",
    title="河北省卫生健康委:充分发挥党的政治优势",
    source="长城网",
    author=None,
    url=None,
    date="2020-02-01",
    date_provenance="explicit",
)


def make_hit(
    sentence: str,
    highlights: tuple[tuple[int, int], ...] = (),
    *,
    rank: int = 1,
    before: str = "",
    after: str = "",
    meta: ReportMeta = META,
    partial: bool = False,
) -> Hit:
    return Hit(
        rank=rank,
        score=1.0,
        bm25=1.0,
        report=meta,
        sentence=Sentence(meta.file, rank, 0, len(sentence), 0, None, sentence),
        highlights=highlights,
        context_before=before,
        context_after=after,
        partial=partial,
    )


def result(*hits: Hit, query: str = "问题", missing: tuple[str, ...] = ()) -> SearchResult:
    return SearchResult(query=query, hits=hits, missing=missing)


def test_highlights_are_bold_and_context_quiet() -> None:
    hit = make_hit("党员先锋模范作用", ((0, 2),), before="前文。", after="后文。")
    page = render.render_page(result(hit), 0, 3, "zh")
    assert "<b>党员</b>先锋模范作用" in page
    assert "<i>前文。</i>" in page and "<i>后文。</i>" in page
    assert "<i>— 河北省卫生健康委:充分发挥党的政治优势 · 2020-02-01 · 000_hebei.txt</i>" in page


def test_escapes_question_and_report_text() -> None:
    hit = make_hit(
        "a<b>&c",
        ((0, 3),),
        before="<script>",
        after="x & y",
        meta=ReportMeta("a&b.txt", "<i>t</i>", None, None, None, None, "unknown"),
    )
    page = render.render_page(result(hit, missing=("<北京>&",)), 0, 3, "zh")
    assert "<b>a&lt;b</b>&gt;&amp;c" in page
    assert "&lt;script&gt;" in page and "x &amp; y" in page
    assert "&lt;i&gt;t&lt;/i&gt;" in page and "a&amp;b.txt" in page
    assert "未找到: &lt;北京&gt;&amp;" in page
    assert "未找到: <北京>&" in check_telegram_html(page)


def test_escapes_the_question_when_nothing_matched() -> None:
    page = render.render_page(result(missing=("<&>",)), 0, 3, "en")
    assert "Not found: &lt;&amp;&gt;" in page
    assert "Nothing found" in check_telegram_html(page)


def test_missing_terms_header_names_each_term() -> None:
    page = render.render_page(result(make_hit("上海"), missing=("北京", "天津")), 0, 3, "zh")
    assert page.startswith("未找到: 北京、天津\n")


NEAREST = "没有直接回答这个问题的句子，最接近的是："


@pytest.mark.parametrize("markup", [render.HTML, PLAIN])
def test_a_partial_best_sentence_is_shown_as_the_nearest_not_an_answer(markup) -> None:
    hits = (make_hit("二月的句子", partial=True), make_hit("别的句子", rank=2))
    page = render.render_page(result(*hits), 0, 3, "zh", markup=markup)
    assert page.startswith(f"{NEAREST}\n\n1. ")
    english = render.render_page(result(*hits), 0, 3, "en", markup=markup)
    nearest = "No sentence answers this question directly; the nearest are:"
    assert english.startswith(f"{nearest}\n\n1. ")


def test_missing_words_are_named_before_the_nearest_sentences() -> None:
    page = render.render_page(result(make_hit("上海"), missing=("北京",)), 0, 3, "zh")
    assert page.startswith(f"未找到: 北京\n\n{NEAREST}\n\n1. ")


def test_a_confident_answer_is_not_called_the_nearest() -> None:
    page = render.render_page(result(make_hit("答案", partial=False)), 0, 3, "zh")
    assert NEAREST not in page and page.startswith("1. ")


def test_no_results_suggests_rephrasing() -> None:
    assert "换个说法" in render.render_page(result(), 0, 3, "zh")
    assert "rephrasing" in render.render_page(result(), 0, 3, "en")


def test_pages_show_their_hits_and_number() -> None:
    hits = [make_hit(f"句子{n}", rank=n) for n in range(1, 6)]
    first = render.render_page(result(*hits), 0, 3, "zh")
    second = render.render_page(result(*hits), 1, 3, "zh")
    assert "句子1" in first and "句子3" in first and "句子4" not in first
    assert "句子4" in second and "句子5" in second and "句子3" not in second
    assert first.endswith("第 1/2 页") and second.endswith("第 2/2 页")
    assert render.page_count(result(*hits), 3) == 2


@pytest.mark.parametrize(
    ("date", "provenance", "zh", "en"),
    [
        ("2020-02-01", "explicit", "2020-02-01", "2020-02-01"),
        ("2020-02-09", "override", "2020-02-09", "2020-02-09"),
        ("2021-09", "inferred", "约 2021-09", "c. 2021-09"),
        (None, "unknown", "日期不详", "date unknown"),
    ],
)
def test_citation_for_each_date_provenance(date, provenance, zh, en) -> None:
    meta = ReportMeta("r.txt", "标题", None, None, None, date, provenance)
    assert render.citation(meta, "zh") == f"标题 · {zh} · r.txt"
    assert render.citation(meta, "en") == f"标题 · {en} · r.txt"


def test_citation_without_title() -> None:
    meta = ReportMeta("r.txt", None, None, None, None, "2021-09", "inferred")
    assert render.citation(meta, "zh") == "（无标题） · 约 2021-09 · r.txt"


def test_long_context_is_shortened_first() -> None:
    hits = [
        make_hit("关键句子" * 20, ((0, 2),), rank=n, before="前" * 3000, after="后" * 3000)
        for n in range(1, 4)
    ]
    page = render.render_page(result(*hits), 0, 3, "zh")
    assert message_length(page) <= MAX_MESSAGE_LENGTH
    shown = check_telegram_html(page)
    assert shown.count("关键句子" * 20) == 3, "whole sentences kept when cutting context suffices"
    assert "…" in shown


def test_long_sentences_are_cut_outside_tags_and_entities() -> None:
    sentence = "&<>" * 3000 + "重点" + "&" * 3000
    start = sentence.index("重点")
    hits = [make_hit(sentence, ((start, start + 2),), rank=n) for n in range(1, 4)]
    page = render.render_page(result(*hits, missing=("x",)), 0, 3, "zh")
    assert message_length(page) <= MAX_MESSAGE_LENGTH
    assert page.count("<b>重点</b>") == 3, "the highlighted words stay visible"
    check_telegram_html(page)


@given(
    sentence=st.text(alphabet="党员<>&防控 ab", min_size=1, max_size=3000),
    before=st.text(alphabet="前<&", max_size=3000),
    after=st.text(alphabet="后>&", max_size=3000),
    span=st.tuples(st.integers(0, 3000), st.integers(1, 20)),
    page_size=st.integers(1, 10),
)
def test_any_page_fits_and_is_well_formed(sentence, before, after, span, page_size) -> None:
    start = min(span[0], len(sentence) - 1)
    highlights = ((start, min(start + span[1], len(sentence))),)
    hits = [make_hit(sentence, highlights, rank=n, before=before, after=after) for n in range(10)]
    page = render.render_page(result(*hits), 0, page_size, "zh")
    assert message_length(page) <= MAX_MESSAGE_LENGTH
    check_telegram_html(page)


def test_passage_bolds_its_sentence_and_fits() -> None:
    hit = make_hit("目标句。")
    passage = "甲<乙>。" * 2000 + "目标句。" + "丙&丁。" * 2000
    message = render.render_passage(hit, passage, "zh")
    assert message_length(message) <= MAX_MESSAGE_LENGTH
    assert "<b>目标句。</b>" in message
    assert message.endswith(
        "<i>河北省卫生健康委:充分发挥党的政治优势 · 2020-02-01 · 000_hebei.txt</i>"
    )
    check_telegram_html(message)


def test_plain_text_rendition_marks_the_answering_sentence() -> None:
    hit = make_hit("a<b & 党员", ((6, 8),), before="前。", after="后。")
    page = render.render_page(result(hit, missing=("北京",)), 0, 3, "zh", markup=PLAIN)
    assert page == (
        "未找到: 北京\n\n"
        f"{NEAREST}\n\n"
        "1. 前。【a<b & 党员】后。\n"
        "— 河北省卫生健康委:充分发挥党的政治优势 · 2020-02-01 · 000_hebei.txt"
    )


def test_terminal_rendition_sets_the_sentence_in_bold_and_dims_the_rest() -> None:
    hit = make_hit("党员\x1b[2J先锋", ((0, 2),), before="前。", after="后。")
    page = render.render_page(result(hit), 0, 3, "zh", markup=render.TERMINAL)
    assert page == (
        "1. \x1b[2m前。\x1b[22m\x1b[1m\x1b[4m党员\x1b[24m[2J先锋\x1b[22m\x1b[2m后。\x1b[22m\n"
        "\x1b[2m— 河北省卫生健康委:充分发挥党的政治优势 · 2020-02-01 · 000_hebei.txt\x1b[22m"
    )


def test_a_paragraph_shown_around_one_hit_is_not_repeated_around_the_next() -> None:
    def in_paragraph(text: str, rank: int, paragraph: int, before: str, after: str) -> Hit:
        hit = make_hit(text, rank=rank, before=before, after=after)
        return replace(hit, sentence=replace(hit.sentence, paragraph=paragraph))

    hits = (
        in_paragraph("甲句。", 1, 0, "", "乙句。"),
        in_paragraph("乙句。", 2, 0, "甲句。", ""),
        in_paragraph("丙句。", 3, 1, "", "丁句。"),
    )
    page = render.render_page(result(*hits), 0, 3, "zh", markup=PLAIN)
    blocks = [block.splitlines()[0] for block in page.split("\n\n")]
    assert blocks == ["1. 【甲句。】乙句。", "2. 【乙句。】", "3. 【丙句。】丁句。"]


def test_context_can_be_kept_short() -> None:
    hit = make_hit("答案。", before="前" * 100, after="后" * 100)
    page = render.render_page(result(hit), 0, 3, "zh", markup=PLAIN, most_context=10)
    assert page.splitlines()[0] == f"1. …{'前' * 10}【答案。】{'后' * 10}…"


def test_query_cut_notice() -> None:
    page = render.render_page(result(make_hit("句子")), 0, 3, "en", query_cut_at=200)
    assert page.startswith("Your question was long; I used its first 200 characters.")


def test_sources_list_titles_dates_with_provenance_counts_and_files() -> None:
    reports = [
        ReportSummary(META, 120),
        ReportSummary(ReportMeta("b.txt", "<乙>", None, None, None, "2021-09", "inferred"), 7),
        ReportSummary(ReportMeta("c.txt", "丙", None, None, None, None, "unknown"), 3),
    ]
    zh = render.render_sources(reports, "zh")
    assert "2020-02-01（原文注明） · 120 句 · 000_hebei.txt" in zh
    assert "<b>&lt;乙&gt;</b>\n约 2021-09（推断） · 7 句 · b.txt" in zh
    assert "日期不详 · 3 句 · c.txt" in zh
    en = render.render_sources(reports, "en")
    assert "c. 2021-09 (inferred) · 7 sentences · b.txt" in en


def test_sources_that_do_not_fit_say_how_many_are_left_out() -> None:
    reports = [ReportSummary(META, n) for n in range(200)]
    message = render.render_sources(reports, "zh")
    assert message_length(message) <= MAX_MESSAGE_LENGTH
    listed = message.count("000_hebei.txt")
    assert 0 < listed < 200
    assert message.endswith(f"……另有 {200 - listed} 份未列出。")


def test_about_shows_index_facts() -> None:
    info = IndexInfo("2024-05-01T10:00:00Z", 5, 321, 4000, 1)
    assert render.render_about(info, "zh") == (
        "索引：5 份报告，321 个句子，4000 个词项。\n构建时间：2024-05-01T10:00:00Z"
    )
    assert "Index: 5 reports, 321 sentences" in render.render_about(info, "en")


@pytest.mark.parametrize(
    ("code", "lang"),
    [
        ("en", "en"),
        ("en-GB", "en"),
        ("zh-hans", "zh"),
        ("zh-hant", "zh"),
        ("ru", "zh"),
        (None, "zh"),
    ],
)
def test_language_follows_telegram_language(code, lang) -> None:
    assert language_of(code) == lang


def test_every_string_exists_in_both_languages() -> None:
    for key, translations in _STRINGS.items():
        assert set(translations) == {"zh", "en"}, key
    assert set(COMMANDS) == set(EXAMPLE_QUESTIONS) == {"zh", "en"}
    assert [name for name, _ in COMMANDS["zh"]] == [name for name, _ in COMMANDS["en"]]


def test_ui_strings_chinese_by_default_english_for_english() -> None:
    assert text("expired", "zh") == "这条回答已过期，请重新提问。"
    assert text("expired", "en") == "This answer has expired, please ask again."
    assert text("page", "en", page=1, pages=2) == "Page 1/2"
