"""The real Application talking HTTP to the fake Bot API on 127.0.0.1, over a real index."""

from __future__ import annotations

import asyncio
import logging

import httpx
from bot_fixtures import copy_corpus
from fake_bot_api import Call, FakeBotApi

from bot.app import TokenRedactor
from index.build import build_index
from index.live import LiveIndex

USER = 1001
OTHER_USER = 2002
GROUP = -100123

HEBEI = "000_f160c81bd3db8945.txt"
ZHUZHOU = "003_99b2eed65f7f11de.txt"
SHANGHAI = "004_c85b02d35b5cd381.txt"


def replies(api: FakeBotApi, chat_id: int) -> list[Call]:
    return [c for c in api.calls_to("sendMessage") if c.params["chat_id"] == chat_id]


async def ask(
    api: FakeBotApi, question: str | None, *, user_id: int = USER, chat_id: int | None = None, **kw
) -> Call:
    """Send ``question`` as a user and wait for the bot's next message in that chat."""
    chat = user_id if chat_id is None else chat_id
    seen = len(replies(api, chat))
    api.user_message(question, user_id=user_id, chat_id=chat_id, **kw)
    found = await api.wait_for(
        "sendMessage", lambda c: c.params["chat_id"] == chat, count=seen + 1
    )
    return found[seen]


def buttons(message: dict) -> dict[str, str]:
    """Button text -> callback_data for the inline keyboard under a message."""
    rows = message.get("reply_markup", {}).get("inline_keyboard", [])
    return {button["text"]: button["callback_data"] for row in rows for button in row}


async def test_simplified_question_answered_with_file_and_date(start_bot, fake_api) -> None:
    async with start_bot():
        reply = await ask(fake_api, "河北省卫生健康委党组")
    text = reply.params["text"]
    assert reply.params["parse_mode"] == "HTML"
    assert HEBEI in text and "2020-02-01" in text
    assert "<b>河北省卫生健康委党组</b>" in text


async def test_traditional_question_answered_with_file_and_date(start_bot, fake_api) -> None:
    async with start_bot():
        reply = await ask(fake_api, "株洲市最後一名新冠肺炎確診患者何時出院？")
    text = reply.params["text"]
    assert ZHUZHOU in text and "约 2021-09" in text


async def test_english_user_gets_english_interface(start_bot, fake_api) -> None:
    async with start_bot():
        reply = await ask(fake_api, "北京 天津", language_code="en")
    assert reply.params["text"].startswith("Not found: 北京, 天津")
    assert "Nothing found" in reply.params["text"]


async def test_a_question_the_reports_do_not_answer_gets_the_nearest_sentences(
    start_bot, fake_api
) -> None:
    async with start_bot():
        chinese = await ask(fake_api, "上海2月10日派了多少医生")
        english = await ask(fake_api, "上海2月10日派了多少医生", language_code="en")
        answered = await ask(fake_api, "吉林派了多少医护人员去湖北")
    assert chinese.params["text"].startswith("没有直接回答这个问题的句子，最接近的是：\n\n1. ")
    assert english.params["text"].startswith(
        "No sentence answers this question directly; the nearest are:\n\n1. "
    )
    assert answered.params["text"].startswith("1. ")


async def test_paging_forward_and_back_edits_in_place(start_bot, fake_api) -> None:
    async with start_bot():
        reply = await ask(fake_api, "党员")
        message = reply.result
        assert "第 1/2 页" in message["text"]
        fake_api.press(message, buttons(message)["下一页 ▶"])
        (edit,) = await fake_api.wait_for("editMessageText")
        assert edit.params["message_id"] == message["message_id"]
        assert "第 2/2 页" in edit.params["text"] and edit.params["text"].startswith("4. ")
        fake_api.press(edit.result, buttons(edit.result)["◀ 上一页"])
        edits = await fake_api.wait_for("editMessageText", count=2)
        assert edits[1].params["text"] == message["text"]
        await fake_api.wait_for("answerCallbackQuery", count=2)


async def test_passage_button_sends_the_paragraph_with_citation(start_bot, fake_api) -> None:
    async with start_bot():
        reply = await ask(fake_api, "河北省卫生健康委党组")
        fake_api.press(reply.result, buttons(reply.result)["📖 1 原文"])
        passage = await ask_nothing_and_wait(fake_api, USER, after=1)
    assert passage.params["reply_parameters"]["message_id"] == reply.result["message_id"]
    assert "<b>" in passage.params["text"] and HEBEI in passage.params["text"]


async def ask_nothing_and_wait(api: FakeBotApi, chat_id: int, after: int) -> Call:
    found = await api.wait_for(
        "sendMessage", lambda c: c.params["chat_id"] == chat_id, count=after + 1
    )
    return found[after]


async def test_expired_button_asks_to_ask_again(start_bot, fake_api) -> None:
    async with start_bot(answer_ttl_seconds=0.01):
        reply = await ask(fake_api, "党员")
        await asyncio.sleep(0.05)
        fake_api.press(reply.result, buttons(reply.result)["下一页 ▶"])
        (answered,) = await fake_api.wait_for("answerCallbackQuery")
        fake_api.press(reply.result, "p:unknown:1")
        await fake_api.wait_for("answerCallbackQuery", count=2)
    assert answered.params["text"] == "这条回答已过期，请重新提问。"
    assert answered.params["show_alert"] is True
    assert fake_api.calls_to("editMessageText") == []


async def test_start_offers_example_questions_that_ask_when_tapped(start_bot, fake_api) -> None:
    async with start_bot():
        greeting = await ask(fake_api, "/start")
        examples = buttons(greeting.result)
        assert len(examples) == 3
        fake_api.press(greeting.result, next(iter(examples.values())))
        answer = await ask_nothing_and_wait(fake_api, USER, after=1)
    assert ".txt" in answer.params["text"]


async def test_help_sources_and_about(start_bot, fake_api) -> None:
    async with start_bot():
        help_text = (await ask(fake_api, "/help")).params["text"]
        sources = (await ask(fake_api, "/sources")).params["text"]
        about = (await ask(fake_api, "/about")).params["text"]
    assert "5 份报告" in help_text and "@reports_test_bot" in help_text
    assert "共 5 份报告" in sources and "2020-02-01（原文注明）" in sources and SHANGHAI in sources
    assert "日期不详" in sources
    assert about.startswith("索引：5 份报告")


async def test_inline_query_offers_articles_that_send_passages(start_bot, fake_api) -> None:
    async with start_bot():
        fake_api.inline_query("株洲市确诊患者出院")
        (answer,) = await fake_api.wait_for("answerInlineQuery")
    results = answer.params["results"]
    assert 1 <= len(results) <= 5
    first = results[0]
    assert first["type"] == "article" and first["title"]
    assert ZHUZHOU in first["description"]
    content = first["input_message_content"]
    assert content["parse_mode"] == "HTML" and ZHUZHOU in content["message_text"]


async def test_group_answers_only_search_mentions_and_replies(start_bot, fake_api) -> None:
    async with start_bot():
        fake_api.user_message("党员 大家好", chat_id=GROUP)
        searched = await ask(fake_api, "/search 党员", chat_id=GROUP)
        assert len(replies(fake_api, GROUP)) == 1, "plain group chatter is not answered"
        mentioned = await ask(fake_api, "@reports_test_bot 河北省卫生健康委党组", chat_id=GROUP)
        replied = await ask(fake_api, "上海市教卫系统", chat_id=GROUP, reply_to=searched.result)
        usage = await ask(fake_api, "/search", chat_id=GROUP)
        bare_mention = await ask(fake_api, "@reports_test_bot", chat_id=GROUP)
    assert ".txt" in searched.params["text"]
    assert bare_mention.params["text"] == usage.params["text"], "a bare mention gets the usage hint"
    assert HEBEI in mentioned.params["text"]
    assert SHANGHAI in replied.params["text"]
    assert usage.params["text"].startswith("用法")
    assert searched.params["reply_parameters"]["message_id"] > 0, (
        "group answers quote the question"
    )


async def test_flooding_user_is_limited_while_another_is_served(start_bot, fake_api) -> None:
    async with start_bot(rate_limit_per_minute=3):
        for _ in range(6):
            fake_api.user_message("党员", user_id=USER)
        other = await ask(fake_api, "党员", user_id=OTHER_USER)
        await fake_api.wait_for("sendMessage", lambda c: c.params["chat_id"] == USER, count=4)
    flood = [c.params["text"] for c in replies(fake_api, USER)]
    assert len(flood) == 4, "three answers and one note, nothing for the rest"
    assert flood[3] == "提问太快了，请稍等一分钟再问。"
    assert ".txt" in other.params["text"]


async def test_429_is_retried_and_delivered_exactly_once(start_bot, fake_api) -> None:
    async with start_bot():
        fake_api.fail("sendMessage", 429, retry_after=1)
        reply = await ask(fake_api, "河北省卫生健康委党组")
        await asyncio.sleep(0.3)
    attempts = [c for c in fake_api.calls_to("sendMessage", ok_only=False)]
    assert [c.status for c in attempts] == [429, 200]
    assert reply.at - attempts[0].at >= 1.0, "retry_after was honoured"
    assert HEBEI in reply.params["text"]


async def test_5xx_on_set_my_commands_at_startup_is_survived(start_bot, fake_api) -> None:
    fake_api.fail("setMyCommands", 500, times=2)
    async with start_bot():
        reply = await ask(fake_api, "河北省卫生健康委党组")
    assert HEBEI in reply.params["text"]
    # Retried after a back-off: both menus are registered in the end.
    statuses = [c.status for c in fake_api.calls_to("setMyCommands", ok_only=False)]
    assert statuses == [500, 500, 200, 200]


async def test_commands_menu_registered_in_both_languages(start_bot, fake_api) -> None:
    async with start_bot():
        calls = await fake_api.wait_for("setMyCommands", count=2)
    names = {
        c.params.get("language_code"): [cmd["command"] for cmd in c.params["commands"]]
        for c in calls
    }
    assert names[None] == names["en"] == ["start", "help", "search", "sources", "about"]


async def test_allow_listed_deployment_refuses_strangers(start_bot, fake_api) -> None:
    async with start_bot(allowed_users={USER}):
        refused = await ask(fake_api, "河北省卫生健康委党组", user_id=OTHER_USER)
        served = await ask(fake_api, "河北省卫生健康委党组", user_id=USER)
        fake_api.inline_query("党员", user_id=OTHER_USER + 1)  # a stranger is refused once a minute
        (inline,) = await fake_api.wait_for("answerInlineQuery")
    assert refused.params["text"] == "抱歉，这个机器人仅供特定用户使用。"
    assert HEBEI in served.params["text"]
    assert inline.params["results"] == []


async def test_index_rebuilt_while_running_is_served_next(
    start_bot, fake_api, analyzer, tmp_path
) -> None:
    corpus = copy_corpus(tmp_path / "corpus", files=3)
    index_path = tmp_path / "index"
    build_index(corpus, index_path, analyzer)
    async with start_bot(index=LiveIndex(index_path, analyzer), index_path=index_path):
        before = await ask(fake_api, "上海市教卫系统")
        copy_corpus(corpus)
        await asyncio.to_thread(build_index, corpus, index_path, analyzer)
        after = await ask(fake_api, "上海市教卫系统")
    assert SHANGHAI not in before.params["text"]
    assert SHANGHAI in after.params["text"]


async def test_webhook_mode_checks_the_secret_token(start_bot, fake_api, unused_tcp_port) -> None:
    url = f"http://127.0.0.1:{unused_tcp_port}/telegram"
    async with start_bot(
        webhook_url=url, webhook_port=unused_tcp_port, webhook_secret="s3cret-token"
    ):
        assert fake_api.webhook["url"] == url
        assert fake_api.webhook["secret_token"] == "s3cret-token"
        update = {
            "update_id": 1,
            "message": {
                "message_id": 1,
                "date": 0,
                "chat": {"id": USER, "type": "private"},
                "from": {"id": USER, "is_bot": False, "first_name": "U"},
                "text": "河北省卫生健康委党组",
            },
        }
        async with httpx.AsyncClient() as client:
            forged = await client.post(
                url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "x"}
            )
            genuine = await client.post(
                url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret-token"}
            )
        (reply,) = await fake_api.wait_for("sendMessage")
    assert forged.status_code == 403
    assert genuine.status_code == 200
    assert HEBEI in reply.params["text"]
    assert fake_api.calls_to("getUpdates") == []


async def test_the_webhook_refuses_a_huge_body_before_reading_it(
    start_bot, fake_api, unused_tcp_port
) -> None:
    """Four 95 MB posts with a wrong secret took the bot from 183 to 638 MB: the body was read
    whole before the secret was checked. A body over 1 MB is now refused from its length."""
    url = f"http://127.0.0.1:{unused_tcp_port}/telegram"
    async with start_bot(webhook_url=url, webhook_port=unused_tcp_port, webhook_secret="s3cret"):
        headers = {"X-Telegram-Bot-Api-Secret-Token": "x", "Content-Type": "application/json"}
        async with httpx.AsyncClient() as client:
            try:
                huge = await client.post(url, content=b"{" + b" " * (5 << 20) + b"}",
                                         headers=headers)
                refused = huge.status_code == 400  # not 403: refused before it was read
            except httpx.TransportError:
                refused = True  # answered 400 and closed while the body was still being sent
            small = await client.post(url, content=b"{}", headers=headers)
    assert refused
    assert small.status_code == 403, "a small body still reaches the secret check"


async def test_non_text_messages_get_a_hint(start_bot, fake_api) -> None:
    sticker = {
        "sticker": {
            "file_id": "s",
            "file_unique_id": "s",
            "type": "regular",
            "width": 1,
            "height": 1,
            "is_animated": False,
            "is_video": False,
        }
    }
    async with start_bot():
        reply = await ask(fake_api, None, extra=sticker)
    assert reply.params["text"] == "我只能读文字，请用文字提问。"


async def test_passages_shared_through_inline_mode_are_not_questions(start_bot, fake_api) -> None:
    via_bot = {"via_bot": fake_api.bot_user}
    async with start_bot():
        fake_api.user_message("党员先锋模范作用", extra=via_bot)
        reply = await ask(fake_api, "/about")
    assert len(replies(fake_api, USER)) == 1
    assert reply.params["text"].startswith("索引")


async def test_long_questions_are_cut_with_a_notice(start_bot, fake_api) -> None:
    async with start_bot():
        reply = await ask(fake_api, "河北省卫生健康委党组" * 30)
    assert reply.params["text"].startswith("问题太长，只用了前 200 个字。")


class Broken:
    """An index that fails every question, with the token in its error message."""

    def __init__(self, token: str) -> None:
        self.token = token

    def current(self):
        raise RuntimeError(f"disk on fire near {self.token}")


async def test_errors_are_logged_redacted_and_the_bot_keeps_serving(
    start_bot, fake_api, caplog
) -> None:
    caplog.handler.addFilter(TokenRedactor(fake_api.token))
    with caplog.at_level(logging.ERROR):
        async with start_bot(index=Broken(fake_api.token)):
            first = await ask(fake_api, "党员")
            second = await ask(fake_api, "党员")
    assert first.params["text"] == second.params["text"] == "出了点问题，请稍后再试。"
    assert "disk on fire near [TOKEN]" in caplog.text
    assert fake_api.token not in caplog.text


async def test_answers_are_logged_anonymously(start_bot, fake_api, caplog) -> None:
    with caplog.at_level(logging.INFO, logger="bot.handlers"):
        async with start_bot():
            await ask(fake_api, "河北省卫生健康委党组", user_id=4242)
    (line,) = [r.getMessage() for r in caplog.records if r.getMessage().startswith("answered")]
    assert "4242" not in line and "河北" not in line
    assert "results=5" in line and "latency_ms=" in line
