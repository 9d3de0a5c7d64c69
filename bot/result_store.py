"""Answers kept server-side so their buttons can page and open passages after the fact."""

from __future__ import annotations

import secrets
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from index import SearchResult


@dataclass(frozen=True)
class StoredAnswer:
    """One answered question: its result, the passage of each hit, whether it was cut short."""

    result: SearchResult
    passages: tuple[str, ...]
    query_cut_at: int | None = None


@dataclass(frozen=True)
class Owner:
    """Where an answer was given, so only there its buttons work: its chat, and in a private chat
    its user too (a group's answer is shared, and anyone in the group may page it)."""

    chat_id: int
    user_id: int | None = None


class ResultStore:
    """A bounded store of recent answers that forgets them after ``ttl`` seconds.

    Telegram limits callback_data to 64 bytes, so an answer's buttons carry only the id it is
    stored under (``bot.buttons``): 8 URL-safe characters, so that callback_data stays under 20
    bytes. When more than ``max_answers`` are stored, the least recently used goes first.
    Callback data can be replayed from anywhere, so an answer comes back only to the ``Owner``
    it was stored for.
    """

    def __init__(
        self,
        max_answers: int = 1000,
        ttl: float = 3600.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._answers: OrderedDict[str, tuple[float, Owner, StoredAnswer]] = OrderedDict()
        self._max_answers = max_answers
        self._ttl = ttl
        self._clock = clock

    def __len__(self) -> int:
        return len(self._answers)

    def put(self, answer: StoredAnswer, owner: Owner) -> str:
        """Store ``answer`` given to ``owner``, returning the id its buttons carry."""
        answer_id = secrets.token_urlsafe(6)
        self._answers[answer_id] = (self._clock() + self._ttl, owner, answer)
        while len(self._answers) > self._max_answers:
            self._answers.popitem(last=False)
        return answer_id

    def get(self, answer_id: str, owner: Owner | None) -> StoredAnswer | None:
        """The answer stored for ``owner``; None once it expired or was pushed out, and None,
        just the same, to anyone else."""
        entry = self._answers.get(answer_id)
        if entry is None:
            return None
        expires_at, stored_for, answer = entry
        if self._clock() >= expires_at:
            del self._answers[answer_id]
            return None
        if owner != stored_for:
            return None
        self._answers.move_to_end(answer_id)
        return answer

