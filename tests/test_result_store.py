"""The bounded, expiring store behind answer buttons, and the rate limiter."""

from __future__ import annotations

from bot.rate_limit import RateLimiter
from bot.result_store import Owner, ResultStore, StoredAnswer
from index.models import SearchResult


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


ALICE = Owner(chat_id=1001, user_id=1001)
"""Alice in her private chat with the bot."""


def answer(query: str = "q") -> StoredAnswer:
    return StoredAnswer(SearchResult(query, (), ()), ())


def test_stored_answers_come_back_until_they_expire() -> None:
    clock = Clock()
    store = ResultStore(ttl=60, clock=clock)
    stored = answer()
    answer_id = store.put(stored, ALICE)
    clock.now += 59
    assert store.get(answer_id, ALICE) is stored
    clock.now += 1
    assert store.get(answer_id, ALICE) is None
    assert len(store) == 0


def test_store_is_bounded_and_forgets_least_recently_used() -> None:
    store = ResultStore(max_answers=2)
    first, second = store.put(answer("1"), ALICE), store.put(answer("2"), ALICE)
    store.get(first, ALICE)
    third = store.put(answer("3"), ALICE)
    assert store.get(second, ALICE) is None
    assert store.get(first, ALICE) is not None and store.get(third, ALICE) is not None
    assert len(store) == 2


def test_unknown_ids_are_none() -> None:
    assert ResultStore().get("nope", ALICE) is None


def test_an_answer_comes_back_only_where_it_was_given() -> None:
    store = ResultStore()
    private, in_group = answer("private"), answer("group")
    private_id = store.put(private, ALICE)
    group_id = store.put(in_group, Owner(chat_id=-100123))
    for stranger in (
        Owner(chat_id=1001, user_id=2002),  # another user pressing in Alice's private chat
        Owner(chat_id=2002, user_id=2002),  # Alice's button data replayed in Bob's chat
        Owner(chat_id=1001),
        None,  # a press under an inline-mode message, which has no chat
    ):
        assert store.get(private_id, stranger) is None, stranger
    assert store.get(group_id, Owner(chat_id=-100456)) is None
    assert store.get(group_id, ALICE) is None
    assert store.get(private_id, ALICE) is private, "refusing strangers did not forget it"
    assert store.get(group_id, Owner(chat_id=-100123)) is in_group


def test_rate_limit_allows_per_minute_then_warns_once_then_drops() -> None:
    clock = Clock()
    limiter = RateLimiter(per_minute=3, clock=clock)
    assert [limiter.check(1) for _ in range(5)] == ["allow"] * 3 + ["warn", "drop"]
    assert limiter.check(2) == "allow", "other users are not affected"
    clock.now += 60
    assert limiter.check(1) == "allow"


def test_rate_limit_window_slides() -> None:
    clock = Clock()
    limiter = RateLimiter(per_minute=2, clock=clock)
    limiter.check(1)
    clock.now += 30
    limiter.check(1)
    assert limiter.check(1) == "warn"
    clock.now += 31
    assert limiter.check(1) == "allow", "the first question left the window"
    assert limiter.check(1) == "warn", "a new flood gets a new note"


def test_rate_limit_forgets_quiet_users() -> None:
    clock = Clock()
    limiter = RateLimiter(per_minute=1, clock=clock)
    for user in range(100):
        limiter.check(user)
    clock.now += 61
    limiter.check(1000)
    assert len(limiter._asked) == 1
