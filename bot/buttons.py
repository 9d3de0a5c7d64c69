r"""What the bot's buttons carry: every callback_data it sends, and the patterns that route a
press to its handler.

Telegram limits callback_data to 64 bytes, so an answer's buttons carry only the short id it is
stored under (see ``bot.result_store.ResultStore``):

- ``q:<n>`` asks the n-th example question (0-based) of the user's language;
- ``p:<id>:<page>`` shows page ``<page>`` (0-based) of answer ``<id>``;
- ``x:<id>:<n>`` shows the passage around hit ``<n>`` (0-based) of answer ``<id>``.

Callback data can be made up by anyone, so a pattern takes its data exactly: ASCII digits only
(``²`` passes str.isdigit() and crashes int()), and few of them, as no answer has a thousand
pages or hits. python-telegram-bot matches a pattern at the start of the data, and each ends in
``\Z`` (``$`` would let a trailing newline through).
"""

from __future__ import annotations

import re

_ANSWER_ID = r"([A-Za-z0-9_-]{1,16})"
_NUMBER = r"([0-9]{1,3})"

EXAMPLE = re.compile(r"q:([0-9]{1,2})\Z")
PAGE = re.compile(rf"p:{_ANSWER_ID}:{_NUMBER}\Z")
PASSAGE = re.compile(rf"x:{_ANSWER_ID}:{_NUMBER}\Z")
NO_DATA = re.compile(r"(?!)")
"""Matches no data at all: python-telegram-bot offers a press that carries no data to every
handler with a pattern, and the first one, with this pattern, takes it."""


def example(n: int) -> str:
    """callback_data asking the ``n``-th example question."""
    return f"q:{n}"


def page(answer_id: str, page: int) -> str:
    """callback_data showing page ``page`` of an answer."""
    return f"p:{answer_id}:{page}"


def passage(answer_id: str, hit: int) -> str:
    """callback_data showing the passage around hit ``hit`` of an answer."""
    return f"x:{answer_id}:{hit}"


def example_number(match: re.Match[str]) -> int:
    """Which example question an ``EXAMPLE`` match asks."""
    return int(match[1])


def answer_button(match: re.Match[str]) -> tuple[str, int]:
    """The answer id and the page or hit number a ``PAGE`` or ``PASSAGE`` match carries."""
    return match[1], int(match[2])
