"""The bot under abuse and mishaps: floods, stale button presses, inline caching, strict data."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import pytest
from fake_bot_api import FakeBotApi
from test_bot_e2e import ask, buttons
from test_corpus_walk import deep_corpus  # noqa: F401 (a fixture)

from bot.strings import text
from index.build import build_index

ALICE, BOB = 1001, 2002
STICKER = {"sticker": {"file_id": "s", "file_unique_id": "s", "type": "regular", "width": 1,
                       "height": 1, "is_animated": False, "is_video": False}}
SETTLE_SECONDS = 1.0
"""Time for replies that should not come to show up."""


def sent_to(api: FakeBotApi, chat_id: int) -> list[str]:
    return [c.params["text"] for c in api.calls_to("sendMessage") if c.params["chat_id"] == chat_id]


async def test_every_reply_producing_update_counts_against_the_rate_limit(
    start_bot, fake_api: FakeBotApi
) -> None:
    """A question, a passage button and /help use up a limit of 3; the sticker after them gets the
    one notice, and /sources, an unknown command and a page button get nothing."""
    async with start_bot(rate_limit_per_minute=3):
        reply = await ask(fake_api, "党员")
        labels = buttons(reply.result)
        fake_api.press(reply.result, next(d for label, d in labels.items() if "▶" not in label))
        await fake_api.wait_for("sendMessage", count=2)
        await ask(fake_api, "/help")
        notice = await ask(fake_api, None, extra=STICKER)
        for flood in ("/sources", "/nonsense"):
            fake_api.user_message(flood)
        fake_api.press(reply.result, labels["下一页 ▶"])
        await asyncio.sleep(SETTLE_SECONDS)
    assert notice.params["text"] == text("rate_limited", "zh")
    assert len(sent_to(fake_api, ALICE)) == 4
    assert fake_api.calls_to("editMessageText") == []
    assert len(fake_api.calls_to("answerCallbackQuery")) == 1


async def test_a_stranger_gets_one_refusal_per_window(start_bot, fake_api: FakeBotApi) -> None:
    async with start_bot(allowed_users={ALICE}):
        greeting = await ask(fake_api, "/start", user_id=ALICE)
        refusal = await ask(fake_api, "党员", user_id=BOB)
        for flood in ("/start", "/help", "党员"):
            fake_api.user_message(flood, user_id=BOB)
        fake_api.user_message(None, user_id=BOB, extra=STICKER)
        fake_api.press(greeting.result, next(iter(buttons(greeting.result).values())), user_id=BOB)
        await asyncio.sleep(SETTLE_SECONDS)
    assert refusal.params["text"] == text("not_allowed", "zh")
    assert sent_to(fake_api, BOB) == [refusal.params["text"]]
    assert fake_api.calls_to("answerCallbackQuery") == []


async def test_a_refused_callback_answer_still_turns_the_page_and_shows_the_passage(
    start_bot, fake_api: FakeBotApi
) -> None:
    """Telegram refuses answerCallbackQuery for a query that is too old (after a restart, under
    load): the page turn and the passage happen all the same."""
    async with start_bot():
        reply = await ask(fake_api, "党员")
        fake_api.fail("answerCallbackQuery", 400, times=2)
        fake_api.press(reply.result, buttons(reply.result)["下一页 ▶"])
        (edit,) = await fake_api.wait_for("editMessageText")
        passage = next(data for label, data in buttons(edit.result).items() if "▶" not in label
                       and "◀" not in label)
        fake_api.press(edit.result, passage)
        shown = await fake_api.wait_for("sendMessage", count=2)
    assert "第 2/2 页" in edit.params["text"]
    assert shown[1].params["reply_parameters"]["message_id"] == reply.result["message_id"]
    assert len(fake_api.calls_to("answerCallbackQuery", ok_only=False)) == 2


async def test_inline_answers_are_personal_and_briefly_cached_under_an_allow_list(
    start_bot, fake_api: FakeBotApi
) -> None:
    """Telegram may serve cached inline results to anyone who types the same query, unless they
    are marked personal: with an allow-list, they must be."""
    async with start_bot(allowed_users={ALICE}):
        fake_api.inline_query("党员", user_id=ALICE)
        (private,) = await fake_api.wait_for("answerInlineQuery")
    async with start_bot():
        fake_api.inline_query("党员", user_id=ALICE)
        public = (await fake_api.wait_for("answerInlineQuery", count=2))[1]
    assert private.params["results"] and private.params.get("is_personal") is True
    assert private.params["cache_time"] <= 10
    assert public.params["cache_time"] == 60 and not public.params.get("is_personal")


async def test_the_webhook_secret_is_in_no_log_line_at_debug(
    start_bot, fake_api: FakeBotApi, unused_tcp_port: int, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "s3cret-webhook-token"
    url = f"http://127.0.0.1:{unused_tcp_port}/telegram"
    with caplog.at_level(logging.DEBUG):
        async with start_bot(webhook_url=url, webhook_port=unused_tcp_port, webhook_secret=secret):
            assert fake_api.webhook["secret_token"] == secret
    assert any("setWebhook" in r.getMessage() for r in caplog.records), "nothing was logged"
    assert [r.getMessage() for r in caplog.records if secret in r.getMessage()] == []


async def test_an_answer_is_not_lost_to_a_reply_that_is_not_json(
    start_bot, fake_api: FakeBotApi
) -> None:
    """A proxy in the way answers 200 with an HTML page: the call is made again."""
    async with start_bot():
        fake_api.garble("sendMessage", times=2)
        reply = await ask(fake_api, "河北省卫生健康委党组")
    assert "000_f160c81bd3db8945.txt" in reply.params["text"]
    assert len(fake_api.calls_to("sendMessage", ok_only=False)) == 3


async def test_pages_fit_telegram_when_report_paths_are_very_long(
    start_bot, fake_api: FakeBotApi, deep_corpus: Path, tmp_path: Path, analyzer: Any
) -> None:
    """Reports 1,000 folders down have 2,000-character paths: cited as they are, three of them
    passed Telegram's 4,096-character limit and the user got an error instead of the page."""
    index_path = tmp_path / "index"
    build_index(deep_corpus, index_path, analyzer, workers=1)
    async with start_bot(index_path=index_path):
        reply = await ask(fake_api, "党员")
        sources = await ask(fake_api, "/sources")
    assert reply.params["text"] != text("error", "zh") and ".txt" in reply.params["text"]
    assert "d/d/d/d/d/" in reply.params["text"]
    assert sources.params["text"] != text("error", "zh")
