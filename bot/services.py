"""What the bot's handlers share, and the rules they share with the terminal chat.

Nothing here imports Telegram's library, so that the terminal chat and the health check load
without it.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass, field
from secrets import token_bytes
from typing import TYPE_CHECKING, Protocol

from bot.rate_limit import RateLimiter
from bot.result_store import ResultStore, StoredAnswer
from bot.settings import Settings

if TYPE_CHECKING:
    from index import Searcher


class IndexSource(Protocol):
    """Where the current searcher comes from: `index.LiveIndex` in production."""

    def current(self) -> Searcher: ...


def clip_question(question: str, limit: int) -> tuple[str, int | None]:
    """``question`` without surrounding space and cut to ``limit`` characters, and where it was
    cut (None when whole): a long question is answered from its start, with a note saying so."""
    question = question.strip()
    if len(question) > limit:
        return question[:limit], limit
    return question, None


@dataclass
class Services:
    """What every handler shares; one per Application."""

    settings: Settings
    index: IndexSource
    answers: ResultStore
    limiter: RateLimiter
    """Replies per user and minute, counted by ``rate_limit_gate``."""
    strangers: RateLimiter = field(default_factory=lambda: RateLimiter(1))
    """Refusals per stranger and minute, under an allow-list."""
    salt: bytes = field(default_factory=lambda: token_bytes(16))
    """Per-process salt for anonymising user ids in logs."""

    def anonymise(self, user_id: int) -> str:
        """A short salted hash standing for a user in the logs."""
        return hashlib.blake2b(str(user_id).encode(), key=self.salt, digest_size=4).hexdigest()

    async def look_up(self, question: str, query_cut_at: int | None = None) -> StoredAnswer:
        """Search the current index, in a worker thread so the event loop stays free."""
        def search() -> StoredAnswer:
            searcher = self.index.current()  # in the thread: a newly built index loads here
            result = searcher.search(question, top_k=self.settings.top_k)
            passages = tuple(searcher.passage(hit.sentence) for hit in result.hits)
            return StoredAnswer(result, passages, query_cut_at)

        return await asyncio.to_thread(search)
