"""Fixtures for the bot's tests: a real index, the fake Bot API, the real bot running on them."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fake_bot_api import FakeBotApi
from telegram.ext import Application

from bot.app import build_application, serve
from bot.services import IndexSource
from bot.settings import Settings
from index.build import build_index
from index.live import LiveIndex
from index.text.analyzer import Analyzer

CORPUS = Path(__file__).resolve().parent.parent / "corpus"


@pytest.fixture(scope="session")
def corpus_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An index of the five reports, built once per test session."""
    index_path = tmp_path_factory.mktemp("index") / "index"
    build_index(CORPUS, index_path)
    return index_path


@pytest.fixture(scope="session")
def analyzer(corpus_index: Path) -> Analyzer:
    """One analyzer for every test's index, warmed up: its first question loads the dictionary."""
    analyzer = Analyzer()
    LiveIndex(corpus_index, analyzer).current().search("党员")
    return analyzer


@pytest.fixture
async def fake_api() -> AsyncIterator[FakeBotApi]:
    """The fake Bot API on an ephemeral 127.0.0.1 port, stopped after the test."""
    api = FakeBotApi()
    await api.start()
    yield api
    await api.stop()


class _EveryRecord(logging.Handler):
    """Keeps each record as a line would show it: the message, then any traceback."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        # The fake's access log is Telegram's side of the wire, where the token is in every URL;
        # the bot never writes there (PTB's webhook server logs requests through its own logger).
        if record.name != "tornado.access":
            self.lines.append(self.format(record))


@pytest.fixture(autouse=True)
def token_in_no_log_line(request: pytest.FixtureRequest) -> Iterator[None]:
    """For every test that runs the fake Bot API: its token is in no log record, at any level.

    The capturing handler has no TokenRedactor of its own (``bot.app.configure_logging`` puts one
    on root's handlers), so this holds for any handler an operator attaches. httpx is kept at
    WARNING, as configure_logging keeps it: at INFO it logs each request URL, which holds the token.
    """
    if "fake_api" not in request.fixturenames:
        yield
        return
    token = request.getfixturevalue("fake_api").token
    root, httpx = logging.getLogger(), logging.getLogger("httpx")
    levels = root.level, httpx.level
    handler = _EveryRecord()
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    httpx.setLevel(logging.WARNING)
    try:
        yield
    finally:
        root.removeHandler(handler)
        root.setLevel(levels[0])
        httpx.setLevel(levels[1])
    if token is not None:
        leaks = [line for line in handler.lines if token in line]
        assert not leaks, f"{len(leaks)} log lines hold the token, first: {leaks[0]}"


@pytest.fixture
def bot_settings(fake_api: FakeBotApi, corpus_index: Path) -> Callable[..., Settings]:
    """Settings pointing at the fake Bot API and the session index; keywords override."""

    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "token": fake_api.token,
            "api_base_url": fake_api.base_url,
            "index_path": corpus_index,
            "poll_timeout_seconds": 1,
            **overrides,
        }
        return Settings(_env_file=None, **values)

    return make


@pytest.fixture
def start_bot(
    fake_api: FakeBotApi, bot_settings: Callable[..., Settings], analyzer: Analyzer
) -> Callable[..., contextlib.AbstractAsyncContextManager[Application]]:
    """``async with start_bot(**settings) as app:`` runs the real bot until the block ends."""

    @contextlib.asynccontextmanager
    async def running(
        index: IndexSource | None = None, **overrides: Any
    ) -> AsyncIterator[Application]:
        settings = bot_settings(**overrides)
        index = index or LiveIndex(settings.index_path, analyzer)
        application = build_application(settings, index)
        stop = asyncio.Event()
        served = asyncio.create_task(serve(application, settings, stop))
        # Polling starts right after deleteWebhook; updates sent before the first poll still come.
        ready = "setWebhook" if settings.webhook_url else "deleteWebhook"
        waiting = asyncio.create_task(fake_api.wait_for(ready))
        await asyncio.wait([served, waiting], timeout=10, return_when=asyncio.FIRST_COMPLETED)
        if not waiting.done():
            waiting.cancel()
            stop.set()
            await served  # start-up failed: raise its error here
            raise TimeoutError("the bot did not start receiving updates")
        try:
            yield application
        finally:
            stop.set()
            await asyncio.wait_for(served, 10)

    return running


def copy_corpus(destination: Path, files: int | None = None) -> Path:
    """The first ``files`` reports (all by default) copied into ``destination``."""
    destination.mkdir(parents=True, exist_ok=True)
    for report in sorted(CORPUS.glob("*.txt"))[:files]:
        shutil.copy(report, destination)
    return destination


@contextlib.asynccontextmanager
async def killed_if_running(process: asyncio.subprocess.Process) -> AsyncIterator[None]:
    """A bot process a test drives: killed and reaped when the test ends before the process did,
    so a failing test leaves no bot behind."""
    try:
        yield
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
