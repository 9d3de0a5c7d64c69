"""Load on the real bot: simulated users asking through the fake Bot API, every answer accounted for.

Runs `reports-bot run` as its own process against the tests' fake Bot API on 127.0.0.1, over an
index of the bundled reports, and has ``--users`` users each ask ``--questions / --users`` questions
one after the other (each waits for its answer, as a person would). It reports whether every
question was answered exactly once, the answer latency the bot itself logs (handler start to reply
sent) and as users see it (message sent to answer received), the bot's resident memory after
warm-up and at the end, and whether the answer store stayed bounded: the first answer's buttons have
expired once more answers than the store holds came after it, while the last answer's still work.

    .venv/bin/python benchmarks/bot_load.py                    # 50 users, 2,000 questions
    .venv/bin/python benchmarks/bot_load.py --fault-rate 0.2   # a fifth of Bot API calls failing
    .venv/bin/python benchmarks/bot_load.py --users 2 --questions 400 --pause 0.1  # the bot's own time

Not a unit test: it prints figures. Linux only (memory is read from /proc).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import random
import re
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import fake_bot_api  # noqa: E402
from test_bot_faults import QUESTIONS, UnreliableBotApi, _CuttingHandler  # noqa: E402

from bot.strings import text  # noqa: E402
from index.build import build_index  # noqa: E402

LATENCY_LINE = re.compile(r"answered user=\S+ results=\d+ latency_ms=(\d+)")
MORE_QUESTIONS = (
    "上海教卫系统如何抗疫", "如何做好防控物资保障", "党员先锋模范作用", "发热门诊", "社区防控",
    "复工复产", "志愿者", "隔离观察", "医护人员", "疫苗接种", "what is this", "？？？", "的了吗",
)


class CountingBotApi(UnreliableBotApi):
    """The unreliable fake that also tells each waiting user when its chat got a message."""

    def __init__(self, fault_rate: float) -> None:
        super().__init__(seed=6, rate=fault_rate)
        self.delivered: dict[int, asyncio.Queue[float]] = defaultdict(asyncio.Queue)

    async def handle(self, token: str, method: str, params: dict[str, Any]) -> Any:
        result = await super().handle(token, method, params)
        if method == "sendMessage":
            self.delivered[params["chat_id"]].put_nowait(time.monotonic())
        return result


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def read_log(stream: asyncio.StreamReader, latencies: list[float], lines: list[str]) -> None:
    while line := await stream.readline():
        decoded = line.decode(errors="replace").rstrip()
        lines.append(decoded)
        if match := LATENCY_LINE.search(decoded):
            latencies.append(float(match.group(1)))


async def run(args: argparse.Namespace) -> int:
    work = Path(tempfile.mkdtemp(prefix="bot-load-"))
    index_path = work / "load-index"
    build_index(ROOT / "corpus", index_path, workers=1)
    fake_bot_api._MethodHandler = _CuttingHandler  # type: ignore[misc]
    logging.getLogger("tornado.access").setLevel(logging.ERROR)  # one line per injected fault
    api = CountingBotApi(args.fault_rate)
    await api.start()
    environment = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "REPORTS_BOT_TOKEN": api.token or "",
        "REPORTS_BOT_API_BASE_URL": api.base_url,
        "REPORTS_BOT_INDEX_PATH": str(index_path),
        "REPORTS_BOT_CORPUS_DIR": str(ROOT / "corpus"),
        "REPORTS_BOT_POLL_TIMEOUT_SECONDS": "1",
        "REPORTS_BOT_RATE_LIMIT_PER_MINUTE": "100000",
        "REPORTS_BOT_ANSWER_STORE_SIZE": str(args.store_size),
        "REPORTS_BOT_API_MAX_RETRIES": "5",
    }
    bot = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "run", cwd=work, env=environment,
        stderr=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.DEVNULL,
    )
    latencies: list[float] = []
    log_lines: list[str] = []
    reader = asyncio.create_task(read_log(bot.stderr, latencies, log_lines))  # type: ignore[arg-type]
    try:
        await api.wait_for("getUpdates", timeout=60)
        return await drive(args, api, bot.pid, latencies, log_lines)
    finally:
        if bot.returncode is None:
            bot.terminate()
        await asyncio.wait_for(bot.wait(), 30)
        await reader
        await api.stop()
        if bot.returncode != 0:
            print("\n".join(["the bot failed:", *log_lines[-20:]]), file=sys.stderr)


async def drive(
    args: argparse.Namespace, api: CountingBotApi, pid: int, latencies: list[float], log: list[str]
) -> int:
    pool = QUESTIONS + MORE_QUESTIONS
    each = args.questions // args.users
    rng = random.Random(6)
    asked: dict[int, list[str]] = {5000 + u: [rng.choice(pool) for _ in range(each)] for u in range(args.users)}
    seen_by_user: list[float] = []
    lost: Counter[int] = Counter()
    done = 0
    warm = asyncio.Event()
    memory: list[tuple[int, float]] = []

    async def user(chat: int, questions: list[str]) -> None:
        nonlocal done
        for question in questions:
            sent = time.monotonic()
            api.user_message(question, user_id=chat)
            try:
                received = await asyncio.wait_for(api.delivered[chat].get(), args.answer_timeout)
            except TimeoutError:
                lost[chat] += 1
                continue
            seen_by_user.append((received - sent) * 1000)
            done += 1
            if done == args.questions // 10:
                warm.set()
            await asyncio.sleep(args.pause)

    async def sample_memory() -> None:
        await warm.wait()
        while True:
            memory.append((done, rss_mb(pid)))
            await asyncio.sleep(0.5)

    started = time.monotonic()
    sampler = asyncio.create_task(sample_memory())
    api.unreliable = args.fault_rate > 0
    await asyncio.gather(*(user(chat, questions) for chat, questions in asked.items()))
    api.unreliable = False
    elapsed = time.monotonic() - started
    memory.append((done, rss_mb(pid)))
    sampler.cancel()
    await asyncio.sleep(2)  # let any late duplicate arrive

    error_text = text("error", "zh")
    sent = api.calls_to("sendMessage")
    per_chat = Counter(c.params["chat_id"] for c in sent if c.params["text"] != error_text)
    errors = sum(1 for c in sent if c.params["text"] == error_text)
    total = each * args.users
    duplicates = sum(max(0, per_chat[chat] - len(qs)) for chat, qs in asked.items())
    missing = sum(max(0, len(qs) - per_chat[chat]) for chat, qs in asked.items())
    bounded = await store_is_bounded(api)
    after_warm_up, at_end = memory[0][1], memory[-1][1]

    print(f"questions          {total} from {args.users} users, in {elapsed:.1f} s "
          f"({total / elapsed:.0f}/s)")
    print(f"faults injected    {sum(api.injected.values())} {dict(api.injected)}")
    print(f"answered           {total - missing} (lost {missing}, of them replaced by an error "
          f"message {errors}; duplicated {duplicates}; users who waited in vain {sum(lost.values())})")
    print(f"latency in bot ms  p50 {percentile(latencies, 0.5):.0f}  p99 {percentile(latencies, 0.99):.0f}"
          f"  max {max(latencies):.0f}  ({len(latencies)} answers logged)")
    print(f"latency seen ms    p50 {percentile(seen_by_user, 0.5):.0f}  "
          f"p99 {percentile(seen_by_user, 0.99):.0f}  mean {statistics.mean(seen_by_user):.0f}")
    print(f"bot RSS MB         after warm-up {after_warm_up:.1f} (at {memory[0][0]} answers), "
          f"end {at_end:.1f}, growth {at_end - after_warm_up:+.1f}, "
          f"max {max(m for _, m in memory):.1f}")
    marks = [next(m for n, m in memory if n >= share * done) for share in (0.25, 0.5, 0.75, 1.0)]
    print("bot RSS MB by answers  " + "  ".join(
        f"{int(share * done)}: {mark:.1f}" for share, mark in zip((0.25, 0.5, 0.75, 1.0), marks)))
    print(f"answer store       size {args.store_size}: first answer's buttons expired "
          f"{bounded[0]}, last answer's still work {bounded[1]}")
    print(f"token in bot log   {any(api.token in line for line in log if api.token)}")
    healthy = missing == 0 and duplicates == 0 and errors == 0 and all(bounded)
    return 0 if healthy else 1


async def store_is_bounded(api: CountingBotApi) -> tuple[bool, bool]:
    """(the oldest answer's page button expired, the newest one's still pages)."""
    answers = [c for c in api.calls_to("sendMessage") if "reply_markup" in c.params]
    paged = [c for c in answers if any("p:" in b["callback_data"]
                                       for row in c.params["reply_markup"]["inline_keyboard"]
                                       for b in row)]
    results = []
    for call in (paged[0], paged[-1]):
        data = next(b["callback_data"] for row in call.params["reply_markup"]["inline_keyboard"]
                    for b in row if b["callback_data"].startswith("p:"))
        alerts = len(api.calls_to("answerCallbackQuery"))
        edits = len(api.calls_to("editMessageText"))
        api.press(call.result, data, user_id=call.params["chat_id"])
        await api.wait_for("answerCallbackQuery", count=alerts + 1, timeout=20)
        await asyncio.sleep(0.3)
        results.append(len(api.calls_to("editMessageText")) > edits)
    return (not results[0], results[1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--questions", type=int, default=2000)
    parser.add_argument("--fault-rate", type=float, default=0.0,
                        help="share of Bot API calls that fail (429, 500, 502, slow, cut)")
    parser.add_argument("--pause", type=float, default=0.0,
                        help="seconds a user reads an answer before asking again; with few users "
                        "asking slower than Telegram's 30 messages a second, the in-bot latency "
                        "is the bot's own work, not the send limiter's spacing")
    parser.add_argument("--store-size", type=int, default=1000, help="REPORTS_BOT_ANSWER_STORE_SIZE")
    parser.add_argument("--answer-timeout", type=float, default=60.0,
                        help="seconds a user waits for an answer before counting it lost")
    return asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
