"""Run the bot image against the fake Bot API on 127.0.0.1 and check a question gets a cited answer.

Used by deploy/ci-check-image.sh (not collected by pytest). Run from the repository root:

    python tests/container/check_bot.py IMAGE

Checks, in a container started as production would (read-only root, all capabilities dropped):
the bot answers a question with the report's file and a date; it runs as non-root; its root
filesystem is read-only; the image's HEALTHCHECK passes. Then, with a reports folder mounted over the
corpus from which one report is missing, the bot must notice, rebuild before serving and log the
change. Prints start-to-first-answer time and idle memory. Exits 1 on any failure.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

TOKEN = "123456:TEST-token"
QUESTION = "株洲市最後一名新冠肺炎確診患者何時出院？"
EXPECTED_FILE = "003_99b2eed65f7f11de"
DATE = re.compile(r"\d{4}-\d{2}|\d{4}年")
INDEX_VOLUME = "reports-bot-ci-index"
RUN_FLAGS = ["--read-only", "--cap-drop=all", "--security-opt=no-new-privileges"]


def log(message: str) -> None:
    print(f"  {message}", flush=True)


def podman(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["podman", *args], capture_output=True, text=True, check=check)


class FakeApi:
    """The tests' fake Bot API server, in its own process, driven over HTTP."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.fake_bot_api", "--port", "0", "--token", TOKEN],
            stdout=subprocess.PIPE,
            text=True,
        )
        line = self.process.stdout.readline()  # "fake Bot API listening on http://127.0.0.1:N/bot"
        match = re.search(r"http://127\.0\.0\.1:(\d+)", line)
        if not match:
            raise SystemExit(f"fake Bot API did not start: {line!r}")
        self.url = f"http://127.0.0.1:{match.group(1)}"

    def calls(self, method: str) -> list[dict]:
        with urllib.request.urlopen(f"{self.url}/_test/calls?method={method}", timeout=5) as r:
            return json.load(r)["calls"]

    def say(self, text: str) -> None:
        body = json.dumps({"text": text}).encode()
        request = urllib.request.Request(
            f"{self.url}/_test/updates", body, {"Content-Type": "application/json"}
        )
        urllib.request.urlopen(request, timeout=5).close()

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def wait_for(what: str, predicate, timeout: float) -> float:
    """Poll ``predicate`` until it returns something truthy; return the time that took."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if result := predicate():
            return result if isinstance(result, float) else time.monotonic()
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


def answer_in(api: FakeApi, since: int, expected_file: str) -> str | None:
    for call in api.calls("sendMessage")[since:]:
        text = str(call["params"].get("text", ""))
        if expected_file in text and DATE.search(text):
            return text
    return None


def start_bot(image: str, api: FakeApi, name: str, *extra: str) -> None:
    podman("rm", "-f", name, check=False)
    podman(
        "run", "-d", "--name", name, "--network", "host", *RUN_FLAGS,
        # Podman schedules healthchecks with systemd timers; CI has no systemd: run it by hand below.
        "--health-interval", "disable",
        "-e", f"REPORTS_BOT_TOKEN={TOKEN}", "-e", f"REPORTS_BOT_API_BASE_URL={api.url}/bot",
        *extra, image,
    )  # fmt: skip


def ask(api: FakeApi, question: str) -> int:
    """Queue a question (before the bot starts: it must pick up what waited); return a marker."""
    since = len(api.calls("sendMessage"))
    api.say(question)
    return since


def answered(api: FakeApi, since: int, expected_file: str, timeout: float) -> float:
    """Wait for an answer citing ``expected_file`` with a date; return when it came (monotonic)."""
    at = wait_for(f"an answer citing {expected_file}",
                  lambda: answer_in(api, since, expected_file), timeout)  # fmt: skip
    log(f"answer: {answer_in(api, since, expected_file)[:100]!r}")
    return at


def memory_mb(name: str) -> float:
    usage = podman("stats", "--no-stream", "--format", "{{.MemUsage}}", name).stdout.split("/")[0]
    number, unit = re.match(r"\s*([\d.]+)\s*([kMG]?B)", usage).groups()
    return float(number) * {"B": 1e-6, "kB": 1e-3, "MB": 1, "GB": 1e3}[unit]


def check_running(name: str) -> None:
    uid = podman("exec", name, "id", "-u").stdout.strip()
    assert uid and uid != "0", f"bot runs as uid {uid!r}"
    assert podman("exec", name, "touch", "/srv/reports-bot/x", check=False).returncode != 0, (
        "root filesystem is writable"
    )
    assert podman("inspect", "--format", "{{.HostConfig.ReadonlyRootfs}}", name).stdout.strip() == (
        "true"
    )
    health = podman("healthcheck", "run", name, check=False)
    assert health.returncode == 0, f"healthcheck failed: {health.stdout}{health.stderr}"
    log(f"uid {uid}, read-only root, healthcheck passes")


def main(image: str) -> int:
    api = FakeApi()
    names = ["reports-bot-ci-bot", "reports-bot-ci-volume"]
    scratch = Path(tempfile.mkdtemp())
    try:
        # 1. The image as built: start-to-first-answer, checks on the running container, memory.
        since = ask(api, QUESTION)
        started = time.monotonic()
        start_bot(image, api, names[0])
        answer_at = answered(api, since, EXPECTED_FILE, timeout=90)
        log(f"start to first answer: {answer_at - started:.1f}s")
        check_running(names[0])
        time.sleep(3)  # let the answer's garbage settle before reading idle memory
        log(f"idle memory after one answer: {memory_mb(names[0]):.0f} MB")
        podman("rm", "-f", "-t", "5", names[0])

        # 2. Reports as a volume: a folder with one report fewer over the corpus, and a named index
        # volume (as in deploy/compose.yaml), which starts as a copy of the image's index.
        corpus = scratch / "corpus"
        shutil.copytree("corpus", corpus)
        removed = sorted(corpus.iterdir())[0]
        removed.unlink()
        podman("volume", "rm", "-f", INDEX_VOLUME, check=False)
        since = ask(api, QUESTION)
        start_bot(image, api, names[1],
                  "-v", f"{corpus}:/srv/reports-bot/corpus:ro",
                  "-v", f"{INDEX_VOLUME}:/srv/reports-bot/index")  # fmt: skip
        answered(api, since, EXPECTED_FILE, timeout=120)
        logs = podman("logs", names[1]).stdout + podman("logs", names[1]).stderr
        assert removed.name in logs, f"the bot's log doesn't mention the removed {removed.name}"
        log(f"changed corpus noticed ({removed.name} removed) and index rebuilt before serving")
        return 0
    except AssertionError as error:
        print(f"FAIL: {error}", file=sys.stderr)
        for name in names:
            result = podman("logs", "--tail", "40", name, check=False)
            print(f"--- logs of {name}:\n{result.stdout}{result.stderr}", file=sys.stderr)
        return 1
    finally:
        for name in names:
            podman("rm", "-f", "-t", "2", name, check=False)
        podman("volume", "rm", "-f", INDEX_VOLUME, check=False)
        api.stop()
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
