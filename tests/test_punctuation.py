"""Punctuation in the reading rules: every rule knows both the ASCII and the full-width form.

The full-width forms were once turned into their ASCII twins in the source, unnoticed: classes
such as ``[;;]`` then held one character twice and full-width text slipped through every rule."""

import importlib
import pkgutil
import re
import unicodedata

import pytest

import index
from index.ingest import cleaning

PAIRED = {
    "COLONS": ":",
    "COMMAS": ",",
    "SEMICOLONS": ";",
    "OPENING_PARENS": "(",
    "CLOSING_PARENS": ")",
}


@pytest.mark.parametrize("name", sorted(PAIRED))
def test_each_paired_constant_holds_both_forms(name):
    value = getattr(cleaning, name)
    assert len(value) == 2
    ascii_form, full_width = value
    assert ascii_form == PAIRED[name]
    assert full_width != ascii_form and unicodedata.normalize("NFKC", full_width) == ascii_form


def test_terminals_hold_both_forms():
    assert len(set(cleaning.TERMINALS)) == len(cleaning.TERMINALS)
    for ascii_form in "!?":
        twins = [c for c in cleaning.TERMINALS if unicodedata.normalize("NFKC", c) == ascii_form]
        assert sorted(twins) == sorted([ascii_form, chr(ord(ascii_form) + 0xFEE0)])
    assert "\u3002" in cleaning.TERMINALS  # 。


_CODE_POINT = re.compile(r"\\x([0-9a-fA-F]{2})|\\u([0-9a-fA-F]{4})|\\U([0-9a-fA-F]{8})")


def _classes(pattern: str) -> list[list[str]]:
    """The members of each character class in a regular expression: single characters, escapes
    and ranges (code point escapes read as the characters they stand for)."""
    pattern = _CODE_POINT.sub(lambda m: chr(int(m.group(m.lastindex), 16)), pattern)
    found = []
    i = 0
    while i < len(pattern):
        if pattern[i] == "\\":
            i += 2
        elif pattern[i] == "[":
            j = i + 2 if pattern[i + 1 : i + 2] == "^" else i + 1
            members = []
            while j < len(pattern) and (pattern[j] != "]" or not members):
                width = 2 if pattern[j] == "\\" else 3 if pattern[j + 1 : j + 2] == "-" else 1
                if width == 3 and pattern[j + 2 : j + 3] in ("]", ""):
                    width = 1
                members.append(pattern[j : j + width])
                j += width
            found.append(members)
            i = j + 1
        else:
            i += 1
    return found


def _patterns():
    for info in pkgutil.walk_packages(index.__path__, prefix="index."):
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            values = value if isinstance(value, tuple) else (value,)
            for item in values:
                for pattern in item if isinstance(item, tuple) else (item,):
                    if isinstance(pattern, re.Pattern):
                        yield f"{info.name}.{name}", pattern.pattern


def test_the_class_reader_sees_duplicates():
    assert _classes("a[;;]b[^\\s::]c[a-z.-]") == [[";", ";"], ["\\s", ":", ":"], ["a-z", ".", "-"]]
    assert _classes(r"[\x00-\x08\u3002]") == [["\x00-\x08", "\u3002"]]


def test_no_character_class_holds_a_character_twice():
    repeated = {
        name: members
        for name, pattern in _patterns()
        for members in _classes(pattern)
        if len(set(members)) < len(members)
    }
    assert repeated == {}
