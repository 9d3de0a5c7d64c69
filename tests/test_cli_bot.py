"""`reports-bot run`, `reports-bot chat` and plain `reports-bot`, as separate processes."""

from __future__ import annotations

import asyncio
import os
import pty
import re
import select
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from bot_fixtures import killed_if_running
from fake_bot_api import FakeBotApi

from bot.settings import Settings
from bot.strings import text

HEBEI = "000_f160c81bd3db8945.txt"
COMMAND = [sys.executable, "-m", "bot.cli"]


def environment(**settings: str) -> dict[str, str]:
    """This process's environment without any REPORTS_BOT_ setting, plus ``settings``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("REPORTS_BOT_")}
    env.update({f"REPORTS_BOT_{name.upper()}": value for name, value in settings.items()})
    env["LANG"] = "C.UTF-8"
    return env


def cli(*args: str, cwd: Path, stdin: str = "", **settings: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*COMMAND, *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=cwd,
        env=environment(**settings),
        timeout=60,
    )


def test_run_without_token_exits_with_one_clear_line(tmp_path: Path) -> None:
    done = cli("run", cwd=tmp_path)
    assert done.returncode != 0
    assert done.stdout == ""
    (line,) = done.stderr.splitlines()
    assert "REPORTS_BOT_TOKEN" in line and "reports-bot chat" in line


def test_bad_setting_exits_with_one_line_naming_it(tmp_path: Path) -> None:
    done = cli("run", cwd=tmp_path, token="1:x", page_size="lots")
    assert done.returncode != 0
    (line,) = done.stderr.splitlines()
    assert "REPORTS_BOT_PAGE_SIZE" in line


@pytest.mark.parametrize(
    ("value", "ids"), [("", set()), ("42", {42}), ("1, -100200", {1, -100200}), ("[1, 2]", {1, 2})]
)
def test_allow_lists_from_environment(monkeypatch, value: str, ids: set[int]) -> None:
    monkeypatch.setenv("REPORTS_BOT_ALLOWED_USERS", value)
    monkeypatch.setenv("REPORTS_BOT_ALLOWED_CHATS", value)
    settings = Settings(_env_file=None)
    assert settings.allowed_users == settings.allowed_chats == ids


def test_chat_answers_a_question_from_stdin(tmp_path: Path, corpus_index: Path) -> None:
    done = cli("chat", cwd=tmp_path, stdin="河北省卫生健康委党组\n", index_path=str(corpus_index))
    assert done.returncode == 0, done.stderr
    assert HEBEI in done.stdout and "2020-02-01" in done.stdout
    first = done.stdout.split("\n\n")[0]
    assert re.fullmatch(r"1\. .{0,61}【[^】]*河北省卫生健康委党组[^】]*】.{0,61}", first.splitlines()[0])
    assert "<b>" not in done.stdout and "\x1b[" not in done.stdout


def test_chat_shows_help_for_help_and_start_and_refuses_other_commands(
    tmp_path: Path, corpus_index: Path
) -> None:
    questions = "/help\n/start\n/nonsense\n"
    done = cli("chat", cwd=tmp_path, stdin=questions, index_path=str(corpus_index))
    assert done.returncode == 0, done.stderr
    replies = done.stdout.strip().split("\n\n")
    assert replies == [text("chat_intro", "zh")] * 2 + [text("unknown_command", "zh")]


def test_chat_stops_quietly_on_ctrl_c(tmp_path: Path, corpus_index: Path) -> None:
    chat = subprocess.Popen(
        [*COMMAND, "chat"], cwd=tmp_path, env=environment(index_path=str(corpus_index)),
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    chat.stdin.write("党员\n")
    chat.stdin.flush()
    assert chat.stdout.readline().startswith("1. ")  # answered, so waiting for the next line
    chat.send_signal(signal.SIGINT)
    assert chat.wait(timeout=30) == 130
    assert "Traceback" not in chat.stderr.read()


def test_chat_at_a_terminal_edits_lines_and_marks_answers(
    tmp_path: Path, corpus_index: Path
) -> None:
    controller, terminal = pty.openpty()
    chat = subprocess.Popen(
        [*COMMAND, "chat"], cwd=tmp_path, env=environment(index_path=str(corpus_index)),
        stdin=terminal, stdout=terminal, stderr=terminal,
    )
    os.close(terminal)
    # "/abou", left arrow, right arrow, "t": the command /about only if the arrows move the cursor.
    shown = converse(controller, [b"/abou\x1b[D\x1b[Ct\r", b"\xe5\x85\x9a\xe5\x91\x98\r", b"\x04"])
    assert chat.wait(timeout=30) == 0
    os.close(controller)
    assert "索引：5 份报告" in shown
    assert "\x1b[1m" in shown and "\x1b[2m" in shown  # the sentence in bold, its context dimmed
    assert "Traceback" not in shown


def converse(controller: int, keys: list[bytes]) -> str:
    """Type each of ``keys`` at the prompt once the program shows one; everything it wrote."""
    shown = b""
    for typed in keys:
        while not shown.rstrip().endswith(b">"):
            ready, _, _ = select.select([controller], [], [], 60)
            assert ready, shown.decode(errors="replace")
            shown += os.read(controller, 65536)
        os.write(controller, typed)
        shown = shown.rstrip()[:-1] + b"|"  # the prompt answered
    while True:
        ready, _, _ = select.select([controller], [], [], 30)
        try:
            chunk = os.read(controller, 65536) if ready else b""
        except OSError:  # the program exited and closed the terminal
            chunk = b""
        if not chunk:
            return shown.decode(errors="replace")
        shown += chunk


def test_chat_pages_on_empty_line_and_lists_sources(tmp_path: Path, corpus_index: Path) -> None:
    done = cli(
        "chat",
        "--lang",
        "en",
        cwd=tmp_path,
        stdin="党员\n\n/sources\n",
        index_path=str(corpus_index),
    )
    assert "Page 1/2" in done.stdout and "Page 2/2" in done.stdout
    assert "5 reports:" in done.stdout


def test_no_subcommand_without_token_says_so_and_chats(tmp_path: Path, corpus_index: Path) -> None:
    done = cli(cwd=tmp_path, stdin="河北省卫生健康委党组\n", index_path=str(corpus_index))
    assert done.returncode == 0, done.stderr
    assert "no REPORTS_BOT_TOKEN set" in done.stderr
    assert HEBEI in done.stdout


@pytest.mark.parametrize("command", ["health", "chat"])
def test_health_and_chat_do_not_load_telegram(
    command: str, tmp_path: Path, corpus_index: Path
) -> None:
    """The container's health check and the terminal chat need no Telegram library: it loads only
    for the command that runs the bot."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "bot.cli", command],
        input="党员\n",
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=environment(index_path=str(corpus_index)),
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    imported = [
        line.rsplit("|", 1)[-1].strip()
        for line in done.stderr.splitlines()
        if line.startswith("import time:")
    ]
    assert "bot.settings" in imported, "no import report"
    assert [name for name in imported if name.split(".")[0] == "telegram"] == []


async def test_run_serves_then_stops_cleanly_on_sigterm(
    tmp_path: Path, corpus_index: Path, fake_api: FakeBotApi
) -> None:
    process = await asyncio.create_subprocess_exec(
        *COMMAND,
        "run",
        cwd=tmp_path,
        env=environment(
            token=fake_api.token,
            api_base_url=fake_api.base_url,
            index_path=str(corpus_index),
            poll_timeout_seconds="1",
        ),
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        await fake_api.wait_for("deleteWebhook", timeout=30)
        fake_api.user_message("河北省卫生健康委党组")
        (reply,) = await fake_api.wait_for("sendMessage", timeout=30)
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), 30)
    log = stderr.decode()
    assert process.returncode == 0, log
    assert HEBEI in reply.params["text"]
    assert "answered user=" in log and "stopped" in log
    assert fake_api.token not in log


def _error_lines(log: str) -> list[str]:
    return [line for line in log.splitlines() if " ERROR " in line or " CRITICAL " in line]


def test_a_rejected_token_at_start_is_one_line_without_the_token(
    tmp_path: Path, corpus_index: Path
) -> None:
    async def scenario() -> subprocess.CompletedProcess:
        api = FakeBotApi()
        await api.start()
        try:
            return await asyncio.to_thread(
                cli, "run", cwd=tmp_path, token="123456:WRONG-token", api_base_url=api.base_url,
                index_path=str(corpus_index),
            )
        finally:
            await api.stop()

    done = asyncio.run(scenario())
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr and "WRONG-token" not in done.stderr
    (line,) = _error_lines(done.stderr)
    assert "rejected the bot token" in line


def test_an_unreachable_bot_api_at_start_is_one_line(tmp_path: Path, corpus_index: Path) -> None:
    import socket

    with socket.socket() as closed:  # a port nothing listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    done = cli("run", cwd=tmp_path, token="123456:SOME-token", index_path=str(corpus_index),
               api_base_url=f"http://127.0.0.1:{port}/bot")
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr and "SOME-token" not in done.stderr
    (line,) = _error_lines(done.stderr)
    assert "cannot reach the Telegram Bot API" in line and f"127.0.0.1:{port}" in line


async def test_a_token_revoked_while_polling_stops_the_process_with_status_1(
    tmp_path: Path, corpus_index: Path, fake_api: FakeBotApi
) -> None:
    token = fake_api.token
    process = await asyncio.create_subprocess_exec(
        *COMMAND, "run", cwd=tmp_path, stderr=asyncio.subprocess.PIPE,
        env=environment(token=token, api_base_url=fake_api.base_url,
                        index_path=str(corpus_index), poll_timeout_seconds="1"),
    )
    async with killed_if_running(process):
        await fake_api.wait_for("getUpdates", timeout=30)
        fake_api.token = "123456:the-new-token"  # revoked in @BotFather: the old one gets 401
        _, stderr = await asyncio.wait_for(process.communicate(), 30)
    log = stderr.decode()
    assert process.returncode == 1, log
    assert token not in log
    assert any("rejected the bot token" in line for line in _error_lines(log)), log
