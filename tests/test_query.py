"""Question analysis: the same folding as sentences, synonyms, numerals."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from index.text.analyzer import Analyzer, Token
from index.text.query import EXPANSION_WEIGHT, chinese_to_int, int_to_chinese, plan_query, top_level


@pytest.fixture(scope="module")
def analyzer() -> Analyzer:
    return Analyzer()


def test_traditional_and_simplified_questions_get_the_same_terms(analyzer: Analyzer) -> None:
    assert plan_query("黨員志願者在核酸採樣點", analyzer).terms == plan_query(
        "党员志愿者在核酸采样点", analyzer
    ).terms


def test_full_width_and_case_are_folded(analyzer: Analyzer) -> None:
    assert analyzer.fold("ＳＡＲＳ１２３２０") == "sars12320"


def test_filler_and_punctuation_are_not_terms(analyzer: Analyzer) -> None:
    terms = dict(plan_query("请问,是什么?多少!", analyzer).terms)
    assert terms == {}


def test_bigrams_find_sub_words(analyzer: Analyzer) -> None:
    assert "简单" in analyzer.terms("安装简单")


@pytest.mark.parametrize(
    ("question", "expected"),
    [("卫健委", "卫生健康委员会"), ("新冠", "新型冠状病毒"), ("援鄂", "支援湖北"), ("非典", "sars"),
     ("半个月", "15天")],
)
def test_synonyms_expand_both_ways(analyzer: Analyzer, question: str, expected: str) -> None:
    assert expected in plan_query(question, analyzer).expansions
    assert question in plan_query(expected, analyzer).expansions


def test_expansions_weigh_less_than_typed_words(analyzer: Analyzer) -> None:
    terms = dict(plan_query("卫健委", analyzer).terms)
    assert terms["卫健委"] == 1.0
    assert terms["卫生健康委员会"] == EXPANSION_WEIGHT


def test_numerals_expand_both_ways(analyzer: Analyzer) -> None:
    assert "14" in plan_query("十四家医院", analyzer).expansions
    assert "十四" in plan_query("14家医院", analyzer).expansions
    assert plan_query("第一线", analyzer).expansions == ()


@pytest.mark.parametrize(
    ("numeral", "value"),
    [("十", 10), ("十四", 14), ("二十", 20), ("两百零五", 205), ("三千零一", 3001), ("一万二千", 12000)],
)
def test_chinese_numerals_round_trip(numeral: str, value: int) -> None:
    assert chinese_to_int(numeral) == value
    assert chinese_to_int(int_to_chinese(value)) == value


@given(st.lists(st.tuples(st.integers(0, 12), st.integers(1, 4)), max_size=30))
def test_top_level_words_are_those_inside_no_longer_word(spans: list[tuple[int, int]]) -> None:
    words = [Token(f"w{start}-{start + width}", start, start + width) for start, width in spans]
    by_definition = [
        w for w in words
        if not any(o.start <= w.start and w.end <= o.end and o.end - o.start > w.end - w.start
                   for o in words)
    ]
    assert top_level(words) == by_definition


def test_a_word_asked_many_times_is_planned_once(analyzer: Analyzer) -> None:
    """A question repeating a phrase thousands of times (a paste, an attack) plans in the time of
    its distinct words: planning it per occurrence took minutes."""
    plan = plan_query("口罩14家" * 2000, analyzer)
    assert sorted(c.word for c in plan.concepts) == sorted({c.word for c in plan.concepts})
    assert len(plan.concepts) <= 3 and len(plan.expansions) == len(set(plan.expansions)) == 2  # 十四, 医用口罩
    assert plan.concepts[0].start == 0
