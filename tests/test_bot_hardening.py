"""The bot under abuse and mishaps: floods, stale button presses, inline caching, strict data."""

from __future__ import annotations

from fake_bot_api import FakeBotApi
from test_bot_e2e import ask, buttons

ALICE, BOB = 1001, 2002


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
