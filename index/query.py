"""Understanding a question: its terms, their synonyms and numerals, and which words nothing holds.

Expansions come from ``data/synonyms.toml`` (abbreviations and other ways of writing the same thing)
and from rewriting numbers between Chinese numerals and digits (十四家 <-> 14家). They are searched at
a lower weight than the words the user typed, so they widen recall without outranking an exact match.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources

from index.analysis import Analyzer

EXPANSION_WEIGHT = 0.5
"""How much a synonym counts against a word the user typed (1.0). A numeral rewritten in digits is
the same number, so it counts in full."""

_DIGITS = "零一二三四五六七八九"
_CN_NUMERAL = re.compile(r"[零一二两三四五六七八九十百千万]+")
_ARABIC_NUMBER = re.compile(r"(?<![0-9.])[0-9]{1,5}(?![0-9.])")


@dataclass(frozen=True)
class QueryPlan:
    """What to search for: weighted terms in query order, and the user's own content words."""

    terms: tuple[tuple[str, float], ...]
    words: tuple[str, ...]
    """Content words of the question (folded), longest first where they overlap: used to report
    words found nowhere and to highlight matches."""
    expansions: tuple[str, ...]
    """Synonyms and numeral rewrites of the question's words."""


@cache
def synonym_groups() -> tuple[tuple[str, ...], ...]:
    """The synonym table, folded to lower case; each group lists interchangeable phrases."""
    text = resources.files("index").joinpath("data", "synonyms.toml").read_text(encoding="utf-8")
    return tuple(tuple(p.lower() for p in group) for group in tomllib.loads(text)["groups"])


def plan_query(question: str, analyzer: Analyzer) -> QueryPlan:
    """Analyse a question as sentences are analysed, then add its expansions."""
    folded = analyzer.fold(question)
    words, terms = analyzer.question(folded)
    weights: dict[str, float] = {}
    for term in terms:
        weights[term] = weights.get(term, 0.0) + 1.0
    synonyms, numerals = synonyms_of(folded), numeral_variants(folded)
    for phrases, weight in ((numerals, 1.0), (synonyms, EXPANSION_WEIGHT)):
        for phrase in phrases:
            for term in analyzer.query_terms(phrase):
                weights.setdefault(term, weight)
    return QueryPlan(
        terms=tuple(weights.items()),
        words=tuple(dict.fromkeys(sorted((w.term for w in words), key=len, reverse=True))),
        expansions=tuple(synonyms + numerals),
    )


def synonyms_of(folded: str) -> list[str]:
    """Other ways of writing the phrases of the table that ``folded`` contains."""
    found: list[str] = []
    for group in synonym_groups():
        if any(phrase in folded for phrase in group):
            found.extend(p for p in group if p not in folded and p not in found)
    return found


def numeral_variants(folded: str) -> list[str]:
    """Digits for the Chinese numerals in the question and Chinese numerals for its digits."""
    variants = []
    for match in _CN_NUMERAL.finditer(folded):
        numeral = match.group()
        if len(numeral) < 2 and numeral not in "十百千万":
            continue  # a lone 一 or 两 is mostly part of a word (一线, 两癌), not a count
        value = chinese_to_int(numeral)
        if value is not None:
            variants.append(str(value))
    for match in _ARABIC_NUMBER.finditer(folded):
        variants.append(int_to_chinese(int(match.group())))
    return variants


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
