"""The callback data the bot's buttons carry, and the patterns that route a press by it."""

from __future__ import annotations

import re

from bot import buttons
from bot.result_store import Owner, ResultStore, StoredAnswer
from index.models import SearchResult

PATTERNS = (buttons.EXAMPLE, buttons.PAGE, buttons.PASSAGE, buttons.NO_DATA)


def routed(data: str) -> list[re.Pattern[str]]:
    """The patterns that take ``data``, matched as python-telegram-bot matches them."""
    return [pattern for pattern in PATTERNS if re.match(pattern, data)]


def test_button_data_round_trips_and_fits_telegram_limit() -> None:
    answer_id = ResultStore().put(StoredAnswer(SearchResult("q", (), ()), ()), Owner(1001, 1001))
    for data, pattern, carried in (
        (buttons.page(answer_id, 12), buttons.PAGE, (answer_id, 12)),
        (buttons.passage(answer_id, 4), buttons.PASSAGE, (answer_id, 4)),
    ):
        assert len(data.encode()) <= 64
        assert routed(data) == [pattern]
        assert buttons.answer_button(re.match(pattern, data)) == carried
    assert routed(buttons.example(7)) == [buttons.EXAMPLE]
    assert buttons.example_number(re.match(buttons.EXAMPLE, buttons.example(7))) == 7
    assert buttons.page("abc", 1) == "p:abc:1"
    assert buttons.passage("abc", 2) == "x:abc:2"
    assert buttons.example(3) == "q:3"


def test_foreign_button_data_is_not_ours() -> None:
    for data in ("", "p:abc", "p::1", "x:abc:-1", "z:abc:1", "p:abc:one", "q:", "q:123", "q:1:2"):
        assert routed(data) == [], data


def test_button_numbers_are_ascii_digits_within_bounds() -> None:
    """Superscripts and other scripts' digits pass str.isdigit(); int() crashes on some."""
    for number in ("²", "٣", "１", "1_0", " 1", "1\n", "9" * 5000, "0x1"):
        for data in (f"p:abc:{number}", f"x:abc:{number}", f"q:{number}"):
            assert routed(data) == [], data
