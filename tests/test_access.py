"""Access and secrets: buttons answer only where their answer was given, allow-lists hold for every
kind of update, the token never reaches a log line or an exception, nothing a user sends is opened
as a file, and nothing is unpickled.
"""

from __future__ import annotations

import ast
import logging
import pickle
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fake_bot_api import FakeBotApi
from test_bot_e2e import ask, buttons

from bot.app import TokenRedactor
from bot.strings import text

ROOT = Path(__file__).resolve().parent.parent
ALICE, BOB, GROUP, OTHER_GROUP = 1001, 2002, -100123, -100456
EXPIRED = text("expired", "zh")
REFUSED = text("not_allowed", "zh")


def alerts(api: FakeBotApi) -> list[str]:
    return [c.params.get("text", "") for c in api.calls_to("answerCallbackQuery")]


def shown_to(api: FakeBotApi, chat_id: int) -> list[str]:
    """Everything the bot sent or edited in a chat."""
    return [
        c.params["text"]
        for c in api.calls
        if c.method in ("sendMessage", "editMessageText") and c.params.get("chat_id") == chat_id
    ]


async def _press_and_wait(api: FakeBotApi, message: dict[str, Any], data: str, user_id: int) -> str:
    seen = len(api.calls_to("answerCallbackQuery"))
    api.press(message, data, user_id=user_id)
    await api.wait_for("answerCallbackQuery", count=seen + 1)
    return alerts(api)[seen]


MADE_UP = [
    "", "p", "p:", "x::0", "p:AAAAAAAA:0", "x:AAAAAAAA:0", "x:../../etc/passwd:0", "p:%s:-1",
    "x:%s:999", "z:%s:0", "q:-1", "q:x", "<b>x</b>", "😀" * 16,
    "x:%s:0\n", "x:%s:0 ", "p:%s:0:extra",
    "q:²", "q:٣", "p:%s:²", "x:%s:٣", "p:%s:" + "9" * 5000, "q:" + "9" * 5000,
]


async def test_made_up_button_data_is_refused_and_reveals_nothing(start_bot, fake_api) -> None:
    async with start_bot(rate_limit_per_minute=100):
        reply = await ask(fake_api, "党员", user_id=ALICE)
        real_id = buttons(reply.result)["下一页 ▶"].split(":")[1]
        before = len(shown_to(fake_api, ALICE))
        for forged in MADE_UP:
            data = forged % real_id if "%s" in forged else forged
            alert = await _press_and_wait(fake_api, reply.result, data, ALICE)
            assert alert in (EXPIRED, ""), (data, alert)
    assert len(shown_to(fake_api, ALICE)) == before, "a made-up button showed something"


async def test_another_users_or_chats_button_is_refused(start_bot, fake_api) -> None:
    async with start_bot():
        alices = await ask(fake_api, "河北省卫生健康委党组", user_id=ALICE)
        bobs = await ask(fake_api, "口罩", user_id=BOB)
        in_group = await ask(fake_api, "/search 党员", user_id=ALICE, chat_id=GROUP)
        elsewhere = await ask(fake_api, "/search 口罩", user_id=BOB, chat_id=OTHER_GROUP)
        before = {chat: len(shown_to(fake_api, chat)) for chat in (ALICE, BOB, OTHER_GROUP)}
        stolen = [
            (bobs.result, data, BOB) for data in buttons(alices.result).values()
        ] + [
            (elsewhere.result, data, BOB) for data in buttons(in_group.result).values()
        ] + [
            (alices.result, data, BOB) for data in buttons(alices.result).values()
        ]
        for message, data, user in stolen:
            assert await _press_and_wait(fake_api, message, data, user) == EXPIRED, data
    assert {chat: len(shown_to(fake_api, chat)) for chat in before} == before


async def test_allow_lists_hold_for_messages_commands_buttons_and_inline_queries(
    start_bot, fake_api
) -> None:
    async with start_bot(allowed_users={ALICE}, allowed_chats={GROUP}):
        served = await ask(fake_api, "河北省卫生健康委党组", user_id=ALICE)
        in_group = await ask(fake_api, "/search 党员", user_id=BOB, chat_id=GROUP)
        # A stranger is refused once a minute, so each attempt comes from another one.
        strangers = iter(range(BOB + 1, BOB + 100))
        refusals = [
            await ask(fake_api, question, user_id=next(strangers))
            for question in ("河北省卫生健康委党组", "/start", "/sources", "/about", "/help",
                             "/search 党员", "/nonsense")
        ]
        outside = await ask(fake_api, "/search 党员", user_id=BOB, chat_id=OTHER_GROUP)
        for data in buttons(served.result).values():
            refused = await _press_and_wait(fake_api, served.result, data, next(strangers))
            assert refused == REFUSED
        greeting = await ask(fake_api, "/start", user_id=ALICE)
        for data in buttons(greeting.result).values():
            refused = await _press_and_wait(fake_api, greeting.result, data, next(strangers))
            assert refused == REFUSED
        fake_api.inline_query("党员", user_id=next(strangers))
        fake_api.inline_query("党员", user_id=ALICE)
        inline = await fake_api.wait_for("answerInlineQuery", count=2)
    assert ".txt" in served.params["text"] and ".txt" in in_group.params["text"]
    assert [r.params["text"] for r in [*refusals, outside]] == [REFUSED] * (len(refusals) + 1)
    assert not any(c.params.get("chat_id") >= BOB and c.params["text"] != REFUSED
                   for c in fake_api.calls_to("sendMessage"))
    assert fake_api.calls_to("editMessageText") == []
    by_user = {c.params["inline_query_id"]: c.params["results"] for c in inline}
    assert sorted(map(len, by_user.values())) == [0, 5], "the stranger got results"


# -- the token ----------------------------------------------------------------------------------


class _Everything(logging.Handler):
    """Keeps every record, and the text of every exception logged with one."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self.exceptions: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info and record.exc_info[1] is not None:
            error = record.exc_info[1]
            self.exceptions.append(f"{type(error).__name__}: {error!r} {error}")
        self.lines.append(self.format(record))


@pytest.fixture
def every_log_line() -> Iterator[_Everything]:
    """Every record any logger emits during the test, at DEBUG, formatted as the bot does."""
    handler = _Everything()
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield handler
    root.removeHandler(handler)
    root.setLevel(level)


async def test_the_token_is_in_no_exception_and_no_redacted_log_line(
    start_bot, fake_api, every_log_line: _Everything
) -> None:
    """Failing calls of several kinds are provoked with logging at DEBUG: no exception the bot
    meets carries the token, and with the bot's own logging set-up no line does either."""
    every_log_line.addFilter(TokenRedactor(fake_api.token))
    logging.getLogger("httpx").setLevel(logging.WARNING)  # as bot.app.configure_logging sets it
    try:
        async with start_bot():
            fake_api.fail("sendMessage", 500)
            fake_api.fail("sendMessage", 502)
            fake_api.fail("sendMessage", 429, retry_after=1)
            fake_api.fail("getUpdates", 502)
            fake_api.fail("answerCallbackQuery", 400)
            for _ in range(3):
                fake_api.user_message("党员")
            (reply,) = await fake_api.wait_for("sendMessage", lambda c: "reply_markup" in c.params)
            fake_api.press(reply.result, buttons(reply.result)["下一页 ▶"])
            fake_api.press(reply.result, buttons(reply.result)["下一页 ▶"])
            await fake_api.wait_for("editMessageText")
    finally:
        logging.getLogger("httpx").setLevel(logging.NOTSET)
    assert every_log_line.exceptions, "no failure was logged: the test provoked nothing"
    assert [line for line in every_log_line.lines if fake_api.token in line] == []
    secret = fake_api.token.split(":")[1]
    assert [e for e in every_log_line.exceptions if secret in e] == []


# -- user text is never a path, nothing is unpickled ---------------------------------------------

_WATCHING: list[list[tuple[str, str]]] = []


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if _WATCHING and event in ("open", "os.listdir", "os.scandir", "pickle.find_class"):
        _WATCHING[-1].append((event, str(args[0]) if args else ""))


sys.addaudithook(_audit)  # audit hooks cannot be removed; it records only while a test watches
HOSTILE_PATHS = ["/etc/passwd", "../../../etc/shadow", "file:///etc/hosts", "~/.ssh/id_rsa",
                 "corpus/000_f160c81bd3db8945.txt", "\\\\server\\share\\x.txt", ".env"]


@pytest.fixture
def opened() -> Iterator[list[tuple[str, str]]]:
    """Files and folders opened, and classes unpickled, while the test runs."""
    _WATCHING.append([])
    yield _WATCHING[-1]
    _WATCHING.pop()


async def test_no_path_a_user_sends_is_opened_and_nothing_is_unpickled(
    start_bot, fake_api, opened: list[tuple[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("load", "loads", "Unpickler"):
        monkeypatch.setattr(pickle, name, _refuse_pickle)
    async with start_bot(rate_limit_per_minute=100):
        reply = await ask(fake_api, "党员")
        for path in HOSTILE_PATHS:
            await ask(fake_api, path)
            await ask(fake_api, f"/search {path}")
            fake_api.inline_query(path)
            await _press_and_wait(fake_api, reply.result, f"x:{path}:0", ALICE)
        await ask(fake_api, "/sources")
    assert not [e for e in opened if e[0] == "pickle.find_class"]
    touched = [target for _, target in opened]
    assert any("builds" in t for t in touched), "the audit hook saw nothing: it proves nothing"
    for path in HOSTILE_PATHS:
        assert not [t for t in touched if path.strip("./~") in t], (path, touched)


def _refuse_pickle(*args: Any, **kwargs: Any) -> None:
    raise AssertionError("something was unpickled")


def test_no_project_code_can_unpickle() -> None:
    """No module imports pickle or its kin, and every numpy load refuses pickled objects."""
    for source in [*ROOT.glob("index/*.py"), *ROOT.glob("bot/*.py")]:
        tree = ast.parse(source.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [a.name for a in node.names] + [getattr(node, "module", None) or ""]
                assert not {"pickle", "cPickle", "shelve", "dill", "joblib", "marshal"} & {
                    n.split(".")[0] for n in names
                }, source
            if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "load" and (
                getattr(node.func.value, "id", "") == "np"
            ):
                given = {k.arg: k.value for k in node.keywords}
                assert "allow_pickle" in given and getattr(given["allow_pickle"], "value", True) is False, (
                    f"{source.name}:{node.lineno} np.load without allow_pickle=False"
                )
