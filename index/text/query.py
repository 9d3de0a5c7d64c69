"""Understanding a question: its terms, their synonyms and numerals, its words, what it asks for.

Expansions come from ``data/synonyms.toml`` (abbreviations and other ways of writing the same thing)
and from rewriting counts between Chinese numerals and digits (十四家 <-> 14家). They are searched at
a lower weight than the words the user typed, so they widen recall without outranking an exact match.

The question's words are also kept as *concepts* (each word with the other ways of writing it and
the parts it is made of), which the ranking uses to tell how much of the question a sentence
covers, and the kind of answer it asks for (a year, a date, a number), which a sentence either
can or cannot give.
"""

from __future__ import annotations

import bisect

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Literal

from index.text.analyzer import Analyzer, Token, cjk_pairs

EXPANSION_WEIGHT = 0.5
"""How much a synonym counts against a word the user typed (1.0). A numeral rewritten in digits is
the same number, so it counts in full."""

AnswerType = Literal["year", "time", "money", "number"]

_DIGITS = "零一二三四五六七八九"
_CN_NUMERAL = re.compile(r"[零一二两三四五六七八九十百千万]+")
_ARABIC_NUMBER = re.compile(r"(?<![0-9.])[0-9]{1,5}(?![0-9.])")
_COUNTED = re.compile(
    r"(?:个|位|名|人|家|所|例|次|天|日|号|月|周|岁|元|块|角|万|亿|支|批|项|条|座|辆|台|件|种|组|队"
    r"|床|户|村|篇|份|只|头|倍|层|届|轮|期|章|节|集|场|架|艘|枚|张|本|间|处|小时|分钟|公里|米|吨)"
)
"""Measure words: a number followed by one is a count or a date part, which both ways of writing
numbers express (十四家, 14家; 二月十日, 2月10日). A number without one (a year, a code, a phone
number such as 12320) is written one way only and is not rewritten."""

_ASKS_YEAR = re.compile(r"哪一?年|何年|几年|哪一?个?年代|什么年代|哪一?个?世纪|多少年")
_ASKS_TIME = re.compile(
    r"何时|什么时候|哪一?天|哪一?日|几月|几号|几日|何日|几时|哪一?个?时期|什么时期|何时期"
)
_ASKS_MONEY = re.compile(r"多少钱|多少元|几块钱|几元|多少费用|多少经费|多少资金|多少善款|价格|费用是|花了多少|花费多少")
_ASKS_NUMBER = re.compile(r"多少|几(?!乎)|多大|多长|多高|多重|多远|多久|多宽|多深|多厚|第几")
_INTERROGATIVE = re.compile(
    r"第?(?:哪几|哪|几(?!乎)|何|多少|什么|甚么|谁)(?:一|些)?"
    r"(?:方面|地方|时候|东西|事情|世纪|年代|样子|个|位|种|年|部|家|所|座|条|张|类|次|股|场|门|岁"
    r"|盘|颗|国|边|里|儿|人|天|月|日|号|名|项)?"
)
"""Where a question asks (哪一年, 几个, 什么地方, 第几): these words say what kind of answer is
wanted, not what it is about, so they are not concepts a sentence should hold."""


@dataclass(frozen=True)
class Concept:
    """One word of the question, as the ranking counts what a sentence covers of the question."""

    word: str
    """The word (folded)."""
    spellings: tuple[str, ...]
    """Ways of writing it: the word itself, and the synonyms and numeral rewrites of the phrase it
    stands in."""
    forms: tuple[tuple[str, ...], ...]
    """The same, each as the terms that together write it."""
    parts: tuple[str, ...]
    """Its sub-words and character pairs: a sentence holding only these holds part of the word
    (or the word cut otherwise, as names jieba does not know are)."""
    start: int
    end: int
    """Where the word stands in the folded question."""


@dataclass(frozen=True)
class QueryPlan:
    """What to search for: weighted terms in query order, the user's own content words, and what
    the question asks for."""

    terms: tuple[tuple[str, float], ...]
    words: tuple[str, ...]
    """Content words of the question (folded), longest first where they overlap: used to report
    words found nowhere and to highlight matches."""
    expansions: tuple[str, ...]
    """Synonyms and numeral rewrites of the question's words."""
    concepts: tuple[Concept, ...] = ()
    """The question's words that stand in no longer word, in question order."""
    answer_type: AnswerType | None = None
    """A year, a date or a number, when the question asks for one (哪一年, 什么时候, 多少)."""


@dataclass(frozen=True)
class _Expansion:
    phrase: str
    weight: float
    start: int
    end: int
    """Where the phrase it rewrites stands in the folded question."""


@cache
def synonym_groups() -> tuple[tuple[str, ...], ...]:
    """The synonym table, folded to lower case; each group lists interchangeable phrases."""
    text = resources.files("index.text").joinpath("data", "synonyms.toml").read_text(encoding="utf-8")
    return tuple(tuple(p.lower() for p in group) for group in tomllib.loads(text)["groups"])


def plan_query(question: str, analyzer: Analyzer) -> QueryPlan:
    """Analyse a question as sentences are analysed, then add its expansions."""
    folded = analyzer.fold(question)
    words, terms = analyzer.question(folded)
    weights: dict[str, float] = {}
    for term in terms:
        weights[term] = weights.get(term, 0.0) + 1.0
    synonyms, numerals = _synonym_rewrites(folded), _numeral_rewrites(folded)
    # A numeral's full weight wins over a synonym's; a phrase rewritten in many places once.
    for phrase, weight in dict.fromkeys((e.phrase, e.weight) for e in numerals + synonyms):
        for term in analyzer.query_terms(phrase):
            weights.setdefault(term, weight)
    return QueryPlan(
        terms=tuple(weights.items()),
        words=tuple(dict.fromkeys(sorted((w.term for w in words), key=len, reverse=True))),
        expansions=tuple(dict.fromkeys(e.phrase for e in synonyms + numerals)),
        concepts=_concepts(folded, words, synonyms + numerals, analyzer),
        answer_type=answer_type(folded),
    )


def top_level(words: list[Token]) -> list[Token]:
    """The words that stand inside no longer word (search mode also gives the parts of a word)."""
    covered = set()
    reach = -1  # the furthest end of the words that start earlier, or as early and end later
    for start, end in sorted({(w.start, w.end) for w in words}, key=lambda span: (span[0], -span[1])):
        if reach >= end:
            covered.add((start, end))
        reach = max(reach, end)
    return [w for w in words if (w.start, w.end) not in covered]


def _inside(words: list[Token], word: Token) -> list[str]:
    """The terms of the other words within ``word``'s span; ``words`` sorted by start."""
    first = bisect.bisect_left(words, word.start, key=lambda w: w.start)
    last = bisect.bisect_left(words, word.end, key=lambda w: w.start)
    return [w.term for w in words[first:last] if w.end <= word.end and w != word]


def _concepts(
    folded: str, words: list[Token], expansions: list[_Expansion], analyzer: Analyzer
) -> tuple[Concept, ...]:
    asking = [-1] * len(folded)  # per character: which interrogative phrase it stands in
    for number, match in enumerate(_INTERROGATIVE.finditer(folded)):
        asking[match.start() : match.end()] = [number] * (match.end() - match.start())
    by_start = sorted(words, key=lambda w: w.start)
    concepts: dict[str, Concept] = {}  # a word asked twice is one concept, where it first stands
    for word in sorted(top_level(words), key=lambda w: w.start):
        if word.term in concepts or -1 < asking[word.start] == asking[word.end - 1]:
            continue
        inner = _inside(by_start, word)
        # A rewrite of a phrase that holds the word writes the word another way (卫健委 ->
        # 卫生健康委员会); a rewrite of a phrase inside it writes a part of it (党委书记: 党组织).
        spellings = [word.term]
        forms = [(word.term,)]
        for e in expansions:
            if e.start <= word.start and word.end <= e.end:
                spellings.append(e.phrase)
                forms.append(tuple(w.term for w in top_level(analyzer.question(e.phrase)[0])))
            elif e.start < word.end and word.start < e.end:
                inner += analyzer.question(e.phrase)[1]
        parts = [p for p in dict.fromkeys(inner + cjk_pairs(word.term)) if p != word.term]
        concepts[word.term] = Concept(word.term, tuple(spellings), tuple(f for f in forms if f),
                                      tuple(parts), word.start, word.end)
    return tuple(concepts.values())


def answer_type(folded: str) -> AnswerType | None:
    """What kind of answer a (folded) question asks for, when it asks for a year, a date or time,
    a sum of money or a number; None for anything else (who, what, why...)."""
    if _ASKS_YEAR.search(folded):
        return "year"
    if _ASKS_TIME.search(folded):
        return "time"
    if _ASKS_MONEY.search(folded):
        return "money"
    if _ASKS_NUMBER.search(folded):
        return "number"
    return None


def synonyms_of(folded: str) -> list[str]:
    """Other ways of writing the phrases of the table that ``folded`` contains."""
    return [e.phrase for e in _synonym_rewrites(folded)]


def _synonym_rewrites(folded: str) -> list[_Expansion]:
    found: dict[str, _Expansion] = {}
    for group in synonym_groups():
        for phrase in group:
            start = folded.find(phrase)
            if start < 0:
                continue
            for other in group:
                if other not in folded and other not in found:
                    found[other] = _Expansion(other, EXPANSION_WEIGHT, start, start + len(phrase))
    return list(found.values())


def numeral_variants(folded: str) -> list[str]:
    """Digits for the counts written in Chinese numerals in the question, and Chinese numerals for
    those written in digits (十四家 <-> 14家); years, codes and phone numbers are left alone."""
    return [e.phrase for e in _numeral_rewrites(folded)]


def _numeral_rewrites(folded: str) -> list[_Expansion]:
    rewrites = []
    for match in _CN_NUMERAL.finditer(folded):
        numeral = match.group()
        if len(numeral) < 2 and numeral not in "十百千万":
            continue  # a lone 一 or 两 is mostly part of a word (一线, 两癌), not a count
        value = chinese_to_int(numeral)
        if value is not None and _is_count(folded, match):
            rewrites.append(_Expansion(str(value), 1.0, *match.span()))
    for match in _ARABIC_NUMBER.finditer(folded):
        if _is_count(folded, match):
            rewrites.append(_Expansion(int_to_chinese(int(match.group())), 1.0, *match.span()))
    return rewrites


def _is_count(folded: str, number: re.Match) -> bool:
    """Whether a number reads as a count or a date part (a measure word follows it, or 第 comes
    before it), rather than a year, a code or a phone number."""
    return bool(_COUNTED.match(folded, number.end())) or folded[number.start() - 1 : number.start()] == "第"


def chinese_to_int(numeral: str) -> int | None:
    """十四 -> 14, 两百零五 -> 205, 三 -> 3; None for what is not a plain number."""
    units = {"十": 10, "百": 100, "千": 1000, "万": 10000}
    digits = {c: i for i, c in enumerate(_DIGITS)} | {"两": 2}
    total, section, digit = 0, 0, None
    for char in numeral:
        if char in digits:
            digit = digits[char]
        elif char == "万":
            total += (section + (digit or 0)) * 10000
            section, digit = 0, None
        else:
            section += (1 if digit is None else digit) * units[char]
            digit = None
    value = total + section + (digit or 0)
    if numeral in ("零",) or value == 0:
        return None
    return value


def int_to_chinese(value: int) -> str:
    """14 -> 十四, 205 -> 二百零五, 10 -> 十; for 0 < value < 100000."""
    if value == 0:
        return _DIGITS[0]
    parts, pending_zero = [], False
    for unit_value, unit in ((10000, "万"), (1000, "千"), (100, "百"), (10, "十"), (1, "")):
        digit, value = divmod(value, unit_value)
        if digit:
            if pending_zero:
                parts.append(_DIGITS[0])
            parts.append(_DIGITS[digit] + unit)
            pending_zero = False
        elif parts:
            pending_zero = True
    text = "".join(parts)
    return text[1:] if text.startswith("一十") else text
