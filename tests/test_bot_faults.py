"""Faults between the bot and Telegram: the bot never stops, and every question is answered once.

The fake Bot API is made unreliable on a fifth of all calls, at random but from a fixed seed: 429
with retry_after, 500 and 502, responses held back, and connections cut before the request is served
(or, for getUpdates, after it was: the updates are then delivered again). Several hundred questions
from many users must each get exactly the reply the index gives to it: no loss, no duplicate, no
error message in its place.

A sendMessage whose connection is cut after Telegram sent the message is not injected: no client can
tell it from one cut before, and Telegram offers nothing to make a retry idempotent.
"""

from __future__ import annotations

import asyncio
import logging
import random
import shutil
import signal
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import fake_bot_api
import pytest
from bot_fixtures import killed_if_running
from fake_bot_api import Call, FakeBotApi, Fault
from telegram.error import (
    BadRequest,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from test_bot_e2e import ask

from bot import app, render
from bot.app import NETWORK_ATTEMPTS, RetryingRateLimiter
from bot.strings import EXAMPLE_QUESTIONS, text
from index.search import Searcher

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = (
    *EXAMPLE_QUESTIONS["zh"],
    "河北省卫生健康委党组", "口罩", "核酸检测", "疫情防控", "婦保院黨委", "株洲", "援鄂医疗队",
    "医疗物资", "防控", "宣传", "不存在的东西", "14家医院", "<b>党员</b> & 群众", "😷 疫情",
)
FAULT_KINDS = ("429", "500", "502", "slow", "drop")


class Dropped(Exception):
    """The connection is cut instead of answered."""


class _CuttingHandler(fake_bot_api._MethodHandler):
    """Serves like the fake's own handler, but can hang up without a response."""

    async def post(self, token: str, method: str) -> None:
        try:
            await super().post(token, method)
        except Dropped:
            self.request.connection.stream.close()
            self._finished = True


class UnreliableBotApi(FakeBotApi):
    """The fake Bot API failing on ``rate`` of the calls once ``unreliable`` is set."""

    def __init__(self, seed: int = 6, rate: float = 0.2, slow_seconds: float = 0.3) -> None:
        super().__init__()
        self.unreliable = False
        self.rate = rate
        self.slow_seconds = slow_seconds
        self.injected: Counter[str] = Counter()
        self._random = random.Random(seed)

    async def handle(self, token: str, method: str, params: dict[str, Any]) -> Any:
        if not self.unreliable or self._random.random() >= self.rate:
            return await super().handle(token, method, params)
        kind = self._random.choice(FAULT_KINDS)
        self.injected[kind] += 1
        if kind == "drop":
            if method == "getUpdates" and self._random.random() < 0.5:
                await super().handle(token, method, params)  # served, then the answer is lost
            else:
                self.calls.append(Call(method, params, status=0))
            raise Dropped
        if kind == "slow":
            self._faults[method].appendleft(Fault(delay=self.slow_seconds))
        else:
            self._faults[method].appendleft(
                Fault(status=int(kind), retry_after=1 if kind == "429" else None)
            )
        return await super().handle(token, method, params)


@pytest.fixture
async def fake_api(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[UnreliableBotApi]:
    """The bot fixtures' fake Bot API, made unreliable on demand (overrides their ``fake_api``)."""
    monkeypatch.setattr(fake_bot_api, "_MethodHandler", _CuttingHandler)
    api = UnreliableBotApi()
    await api.start()
    yield api
    await api.stop()


def expected_reply(searcher: Searcher, question: str, page_size: int) -> str:
    return render.render_page(searcher.search(question, top_k=5), 0, page_size, "zh")


def replies(api: FakeBotApi) -> dict[int, Counter[str]]:
    by_chat: dict[int, Counter[str]] = {}
    for call in api.calls_to("sendMessage"):
        by_chat.setdefault(call.params["chat_id"], Counter())[call.params["text"]] += 1
    return by_chat


USERS = 20
QUESTIONS_EACH = 10
QUIET_SECONDS = 6.0
"""Longer than any back-off the bot waits between two attempts at a call."""


async def settle(api: FakeBotApi, answers: int, limit: float = 90.0) -> None:
    """Return once ``answers`` messages were sent, or once the bot has sent nothing for
    QUIET_SECONDS: what is missing then is lost, and the counts will say so."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    sent, quiet_since = 0, loop.time()
    while loop.time() < deadline and sent < answers:
        await asyncio.sleep(0.1)
        if len(api.calls_to("sendMessage")) != sent:
            sent, quiet_since = len(api.calls_to("sendMessage")), loop.time()
        elif loop.time() - quiet_since > QUIET_SECONDS:
            return


async def test_every_question_answered_exactly_once_through_a_fifth_of_calls_failing(
    start_bot: Any, fake_api: UnreliableBotApi, corpus_index: Path
) -> None:
    rng = random.Random(6)
    asked = {1000 + u: [rng.choice(QUESTIONS) for _ in range(QUESTIONS_EACH)] for u in range(USERS)}
    searcher = Searcher.open(corpus_index)
    expected = {
        chat: Counter(expected_reply(searcher, q, page_size=3) for q in questions)
        for chat, questions in asked.items()
    }
    total = USERS * QUESTIONS_EACH
    async with start_bot(rate_limit_per_minute=10_000, api_max_retries=5) as application:
        fake_api.unreliable = True
        for round_ in range(QUESTIONS_EACH):
            for chat, questions in asked.items():
                fake_api.user_message(questions[round_], user_id=chat)
            await asyncio.sleep(0.05)
        try:
            await settle(fake_api, total)
        finally:
            fake_api.unreliable = False
        await asyncio.sleep(1.0)  # time for any duplicate to show
        assert application.running, "the bot stopped"
        fake_api.user_message("党员", user_id=1)
        await fake_api.wait_for("sendMessage", lambda c: c.params["chat_id"] == 1, timeout=20)

    got = replies(fake_api)
    error_text = text("error", "zh")
    lost = {chat: expected[chat] - got.get(chat, Counter()) for chat in expected}
    duplicated = {chat: got.get(chat, Counter()) - expected[chat] for chat in expected}
    print(
        f"\n{total} questions, faults injected: {dict(fake_api.injected)}, "
        f"lost {sum(sum(c.values()) for c in lost.values())}, "
        f"duplicated {sum(sum(c.values()) for c in duplicated.values())}, "
        f"error replies {sum(c[error_text] for c in got.values())}"
    )
    assert not [chat for chat, texts in got.items() if error_text in texts], "an error replaced an answer"
    assert not any(lost.values()), f"lost answers in {sum(map(len, lost.values()))} chats"
    assert not any(duplicated.values()), "duplicated answers"
    assert sum(fake_api.injected.values()) >= total // 10
    assert set(fake_api.injected) == set(FAULT_KINDS), fake_api.injected


async def test_a_slow_reply_holds_up_only_its_own_chat_and_its_answers_keep_their_order(
    start_bot: Any, fake_api: UnreliableBotApi, corpus_index: Path
) -> None:
    """The reply to Alice's first question is held back: Bob, asking meanwhile, is answered at
    once, and Alice's second answer still comes after her first."""
    alice, bob = 1001, 2002
    searcher = Searcher.open(corpus_index)
    async with start_bot():
        fake_api.slow("sendMessage", 3.0)
        fake_api.user_message("口罩", user_id=alice)
        fake_api.user_message("党员", user_id=alice)
        await asyncio.sleep(0.5)  # Alice's first answer is on its way, held back by the fake
        asked = time.monotonic()
        fake_api.user_message("核酸检测", user_id=bob)
        await fake_api.wait_for("sendMessage", lambda c: c.params["chat_id"] == bob)
        waited = time.monotonic() - asked
        await fake_api.wait_for("sendMessage", count=3)
    assert waited < 1.5, f"Bob waited {waited:.1f} s behind Alice's slow reply"
    to_alice = [c.params["text"] for c in fake_api.calls_to("sendMessage")
                if c.params["chat_id"] == alice]
    assert to_alice == [expected_reply(searcher, q, page_size=3) for q in ("口罩", "党员")]


class FailingCall:
    """A Bot API call that raises ``error`` the first ``failures`` times it is made."""

    def __init__(self, error: TelegramError, failures: int) -> None:
        self.error = error
        self.failures = failures
        self.made = 0

    async def __call__(self, endpoint: str, data: dict[str, Any]) -> bool:
        self.made += 1
        if self.made <= self.failures:
            raise self.error
        return True


async def through_limiter(call: FailingCall, endpoint: str = "sendMessage") -> Any:
    data = {"chat_id": 1, "text": "answer"}
    limiter = RetryingRateLimiter()
    return await limiter.process_request(call, (endpoint, data), {}, endpoint, data, None)


# PTB raises a bare NetworkError for 5xx answers and for httpx errors such as a cut connection.
ON_THE_WAY = [NetworkError("Bad Gateway"), NetworkError("httpx.RemoteProtocolError"), TimedOut()]


@pytest.mark.parametrize("error", ON_THE_WAY, ids=repr)
async def test_calls_failing_on_the_way_are_retried_with_a_doubling_back_off(
    error: TelegramError, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(app, "FIRST_BACKOFF_SECONDS", 0.01)
    loop = asyncio.get_running_loop()
    started = loop.time()
    recovering = FailingCall(error, failures=NETWORK_ATTEMPTS - 1)
    assert await through_limiter(recovering) is True
    assert recovering.made == NETWORK_ATTEMPTS
    assert loop.time() - started >= 0.01 + 0.02 + 0.04 + 0.08
    failing = FailingCall(error, failures=NETWORK_ATTEMPTS)
    with pytest.raises(type(error)):
        await through_limiter(failing)
    assert failing.made == NETWORK_ATTEMPTS


@pytest.mark.parametrize(
    "error",
    [BadRequest("Bad Request: message is too long"), Forbidden("Forbidden: bot was blocked"),
     InvalidToken(), Conflict("Conflict: terminated by other getUpdates request"), RetryAfter(1)],
    ids=repr,
)
async def test_errors_a_retry_would_only_repeat_are_raised_at_once(error: TelegramError) -> None:
    call = FailingCall(error, failures=1)
    with pytest.raises(type(error)):
        await through_limiter(call)
    assert call.made == 1


async def test_get_updates_is_left_to_the_polling_loop_to_retry() -> None:
    call = FailingCall(NetworkError("Bad Gateway"), failures=1)
    with pytest.raises(NetworkError):
        await through_limiter(call, endpoint="getUpdates")
    assert call.made == 1


async def test_sigterm_while_answering_finishes_the_answers_then_exits(
    fake_api: UnreliableBotApi, corpus_index: Path, tmp_path: Path
) -> None:
    """Questions are queued, every sendMessage is held back, SIGTERM arrives mid-answer: the
    answers in flight are still delivered before the process exits with status 0."""
    environment = {
        "REPORTS_BOT_TOKEN": fake_api.token,
        "REPORTS_BOT_API_BASE_URL": fake_api.base_url,
        "REPORTS_BOT_INDEX_PATH": str(corpus_index),
        "REPORTS_BOT_POLL_TIMEOUT_SECONDS": "1",
        "REPORTS_BOT_RATE_LIMIT_PER_MINUTE": "1000",
        "PATH": "/usr/bin:/bin",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "run", cwd=ROOT, env=environment,
        stderr=asyncio.subprocess.PIPE,
    )
    async with killed_if_running(process):
        await fake_api.wait_for("getUpdates", timeout=30)
        fake_api.slow("sendMessage", 1.0, times=3)
        for user in (1, 2, 3):
            fake_api.user_message("党员先锋模范作用", user_id=user)
        await asyncio.sleep(0.5)  # the first answer is being sent, held back by the fake
        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), 30)
    log = stderr.decode()
    assert process.returncode == 0, log
    answered = {c.params["chat_id"] for c in fake_api.calls_to("sendMessage")}
    assert answered == {1, 2, 3}, log
    assert "Traceback" not in log
    assert fake_api.token not in log


async def test_the_bot_answers_on_when_its_index_files_are_cut_short(
    start_bot: Any, fake_api: UnreliableBotApi, corpus_index: Path, tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Every file of the live build truncated while the bot runs: the same answers, one log line."""
    index_path = tmp_path / "index"
    shutil.copytree(corpus_index, index_path, symlinks=True)
    with caplog.at_level(logging.ERROR, logger="index.live"):
        async with start_bot(index_path=index_path):
            before = await ask(fake_api, "党员先锋模范作用")
            for path in (index_path / "current").iterdir():
                with open(path, "r+b") as handle:
                    handle.truncate(path.stat().st_size // 3)
            after = [await ask(fake_api, "党员先锋模范作用") for _ in range(2)]
    assert [a.params["text"] for a in after] == [before.params["text"]] * 2
    assert len([r for r in caplog.records if "changed on disk" in r.getMessage()]) == 1
