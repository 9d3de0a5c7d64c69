"""A small, faithful fake of the Telegram Bot API's HTTP/JSON protocol, for tests.

It serves ``/bot<token>/<method>`` on 127.0.0.1 like api.telegram.org does: form or JSON
parameters in, ``{"ok": true, "result": ...}`` out, errors as ``{"ok": false, "error_code": ...}``.
It knows getMe, getUpdates (offset and long-poll timeout), sendMessage, editMessageText,
answerCallbackQuery, answerInlineQuery, setMyCommands, deleteWebhook, setWebhook and
getWebhookInfo; records every call; and answers 429 with retry_after, 5xx, or slowly, on demand.

Tests drive it in-process (``FakeBotApi``). Other clients run it on its own and drive it over HTTP:

    python -m tests.fake_bot_api --port 8081 [--token 123:ABC]

    POST /_test/updates  {"text": "...", "user_id": 1, "chat_id": 1, "language_code": "zh"}
                         or a whole Update object; queues it for getUpdates
    GET  /_test/calls?method=sendMessage&since=0   calls recorded so far, oldest first
    POST /_test/faults   {"method": "sendMessage", "status": 429, "retry_after": 1, "times": 1}
                         or {"method": ..., "delay": 2.5, "times": 1}
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import itertools
import json
import re
import signal
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from tornado.httpserver import HTTPServer
from tornado.netutil import bind_sockets
from tornado.web import Application, RequestHandler

JSON_PARAMETERS = {
    "allowed_updates",
    "button",
    "commands",
    "entities",
    "link_preview_options",
    "reply_markup",
    "reply_parameters",
    "results",
    "scope",
}
"""Parameters the Bot API reads as JSON-serialized objects when sent as form fields."""
INTEGER_PARAMETERS = {"chat_id", "message_id", "offset", "limit", "timeout", "cache_time"}
BOOLEAN_PARAMETERS = {"drop_pending_updates", "show_alert", "is_personal"}

BOT_ID = 7000000001


@dataclass
class Call:
    """One request the bot made, as the fake understood it."""

    method: str
    params: dict[str, Any]
    status: int = 200
    result: Any = None
    """What the fake answered, for successful calls: e.g. the Message a sendMessage created."""
    at: float = field(default_factory=time.monotonic)


@dataclass
class Fault:
    """What to do to the next call of a method instead of (or before) serving it."""

    status: int | None = None
    retry_after: int | None = None
    delay: float = 0.0
    garbled: bool = False
    """Answer 200 with a body that is not JSON (a proxy's error page), without serving the call."""


class Garbled(Exception):
    """The call is answered 200 with a body that is not JSON."""


class ApiError(Exception):
    def __init__(self, status: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.status,
            "description": self.description,
        }
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def text_entities(text: str) -> list[dict[str, Any]]:
    """The entities Telegram attaches to user text: a leading /command and @mentions."""
    entities = []
    command = re.match(r"/[A-Za-z0-9_]+(@[A-Za-z0-9_]+)?", text)
    if command:
        entities.append({"type": "bot_command", "offset": 0, "length": command.end()})
    for mention in re.finditer(r"(?<![\w/])@[A-Za-z0-9_]{5,32}", text):
        entities.append(
            {
                "type": "mention",
                "offset": utf16_length(text[: mention.start()]),
                "length": utf16_length(mention.group()),
            }
        )
    return entities


class FakeBotApi:
    """The fake server: start it, point a bot at ``base_url``, script users, inspect ``calls``."""

    def __init__(
        self, token: str | None = "123456:TEST-token", username: str = "reports_test_bot"
    ):
        self.token = token
        """The only token accepted; None accepts any."""
        self.username = username
        self.calls: list[Call] = []
        self.webhook: dict[str, Any] = {}
        self.port = 0
        self._pending: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1)
        self._query_ids = itertools.count(1)
        self._messages: dict[tuple[int, int], dict[str, Any]] = {}
        self._faults: dict[str, deque[Fault]] = defaultdict(deque)
        self._changed = asyncio.Event()
        self._closing = False
        self._server: HTTPServer | None = None

    # -- lifecycle ----------------------------------------------------------------------------

    async def start(self, port: int = 0) -> None:
        """Listen on 127.0.0.1:``port`` (an ephemeral port when 0)."""
        app = Application(
            [
                (r"/bot(?P<token>[^/]+)/(?P<method>\w+)", _MethodHandler, {"api": self}),
                (r"/_test/(?P<action>\w+)", _ControlHandler, {"api": self}),
            ]
        )
        sockets = bind_sockets(port, address="127.0.0.1")
        self.port = sockets[0].getsockname()[1]
        self._server = HTTPServer(app)
        self._server.add_sockets(sockets)

    async def stop(self) -> None:
        """Release waiting long polls, close connections, stop listening."""
        self._closing = True
        self._notify()
        if self._server is not None:
            self._server.stop()
            await self._server.close_all_connections()
            self._server = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/file/bot"

    @property
    def bot_user(self) -> dict[str, Any]:
        return {"id": BOT_ID, "is_bot": True, "first_name": "Reports", "username": self.username}

    # -- scripting users ----------------------------------------------------------------------

    def add_update(self, update: dict[str, Any]) -> dict[str, Any]:
        """Queue an Update object for getUpdates, numbering it if it has no update_id."""
        update = {"update_id": next(self._update_ids), **update}
        self._pending.append(update)
        self._notify()
        return update

    def user_message(
        self,
        text: str | None,
        *,
        user_id: int = 1001,
        chat_id: int | None = None,
        language_code: str = "zh-hans",
        reply_to: dict[str, Any] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """A message from a user, as the update that delivers it; private chat unless chat_id<0."""
        chat_id = user_id if chat_id is None else chat_id
        chat = (
            {"id": chat_id, "type": "private", "first_name": f"User{user_id}"}
            if chat_id > 0
            else {"id": chat_id, "type": "supergroup", "title": "Group"}
        )
        message: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": chat,
            "from": _user(user_id, language_code),
            **(extra or {}),
        }
        if text is not None:
            message["text"] = text
            if entities := text_entities(text):
                message["entities"] = entities
        if reply_to is not None:
            message["reply_to_message"] = reply_to
        return self.add_update({"message": message})

    def press(
        self, message: dict[str, Any], data: str, *, user_id: int = 1001, language_code: str = "zh"
    ) -> dict[str, Any]:
        """A user pressing the inline button with ``data`` under a message the bot sent."""
        query = {
            "id": str(next(self._query_ids)),
            "from": _user(user_id, language_code),
            "chat_instance": "1",
            "data": data,
            "message": message,
        }
        return self.add_update({"callback_query": query})

    def inline_query(
        self, query: str, *, user_id: int = 1001, language_code: str = "zh"
    ) -> dict[str, Any]:
        """A user typing ``@bot <query>`` in any chat."""
        inline = {
            "id": str(next(self._query_ids)),
            "from": _user(user_id, language_code),
            "query": query,
            "offset": "",
        }
        return self.add_update({"inline_query": inline})

    def fail(
        self, method: str, status: int, *, retry_after: int | None = None, times: int = 1
    ) -> None:
        """Answer the next ``times`` calls of ``method`` with HTTP ``status`` instead."""
        for _ in range(times):
            self._faults[method].append(Fault(status=status, retry_after=retry_after))

    def garble(self, method: str, *, times: int = 1) -> None:
        """Answer the next ``times`` calls of ``method`` with 200 and a body that is not JSON."""
        for _ in range(times):
            self._faults[method].append(Fault(garbled=True))

    def slow(self, method: str, seconds: float, *, times: int = 1) -> None:
        """Wait ``seconds`` before serving the next ``times`` calls of ``method``."""
        for _ in range(times):
            self._faults[method].append(Fault(delay=seconds))

    # -- inspecting the bot -------------------------------------------------------------------

    def calls_to(self, method: str, ok_only: bool = True) -> list[Call]:
        return [c for c in self.calls if c.method == method and (c.status == 200 or not ok_only)]

    def message(self, chat_id: int, message_id: int) -> dict[str, Any]:
        """A message the bot sent, as it stands after any edits."""
        return self._messages[(chat_id, message_id)]

    async def wait_for(
        self,
        method: str,
        predicate: Callable[[Call], bool] = lambda call: True,
        *,
        count: int = 1,
        timeout: float = 10.0,
    ) -> list[Call]:
        """Wait until ``count`` successful calls of ``method`` match ``predicate``; return them."""

        async def matching() -> list[Call]:
            while True:
                changed = self._changed
                found = [c for c in self.calls_to(method) if predicate(c)]
                if len(found) >= count:
                    return found
                await changed.wait()

        return await asyncio.wait_for(matching(), timeout)

    # -- serving ------------------------------------------------------------------------------

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def handle(self, token: str, method: str, params: dict[str, Any]) -> Any:
        """Serve one Bot API call, recording it; raises ApiError for errors."""
        call = Call(method, params)
        try:
            if self.token is not None and token != self.token:
                raise ApiError(401, "Unauthorized")
            if self._faults[method]:
                fault = self._faults[method].popleft()
                await asyncio.sleep(fault.delay)
                if fault.garbled:
                    call.status = 0
                    raise Garbled
                if fault.status is not None:
                    raise ApiError(fault.status, _describe(fault), fault.retry_after)
            serve = getattr(self, f"_api_{method}", None)
            if serve is None:
                raise ApiError(404, "Not Found")
            result = await serve(params)
            call.result = copy.deepcopy(result)
            return result
        except ApiError as error:
            call.status = error.status
            raise
        finally:
            self.calls.append(call)
            self._notify()

    async def _api_getMe(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": True,
        }

    async def _api_getUpdates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        if self.webhook:
            raise ApiError(409, "Conflict: can't use getUpdates method while webhook is active")
        offset = params.get("offset", 0)
        self._pending = [u for u in self._pending if u["update_id"] >= offset]
        deadline = time.monotonic() + params.get("timeout", 0)
        while not self._pending and not self._closing:
            changed = self._changed
            try:
                await asyncio.wait_for(changed.wait(), deadline - time.monotonic())
            except TimeoutError:
                break
        return self._pending[: params.get("limit", 100)]

    async def _api_sendMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        text = params.get("text", "")
        if not text:
            raise ApiError(400, "Bad Request: message text is empty")
        if utf16_length(text) > 4096:
            raise ApiError(400, "Bad Request: message is too long")
        chat_id = params["chat_id"]
        message = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup"},
            "from": self.bot_user,
            "text": text,
        }
        if "reply_markup" in params:
            message["reply_markup"] = params["reply_markup"]
        self._messages[(chat_id, message["message_id"])] = message
        return message

    async def _api_editMessageText(self, params: dict[str, Any]) -> dict[str, Any]:
        key = (params.get("chat_id"), params.get("message_id"))
        if key not in self._messages:
            raise ApiError(400, "Bad Request: message to edit not found")
        if utf16_length(params.get("text", "")) > 4096:
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        message = self._messages[key]
        markup = params.get("reply_markup")
        if message["text"] == params.get("text") and message.get("reply_markup") == markup:
            raise ApiError(400, "Bad Request: message is not modified")
        message["text"] = params["text"]
        message.pop("reply_markup", None)
        if markup is not None:
            message["reply_markup"] = markup
        message["edit_date"] = int(time.time())
        return message

    async def _api_answerCallbackQuery(self, params: dict[str, Any]) -> bool:
        return True

    async def _api_answerInlineQuery(self, params: dict[str, Any]) -> bool:
        return True

    async def _api_setMyCommands(self, params: dict[str, Any]) -> bool:
        return True

    async def _api_deleteWebhook(self, params: dict[str, Any]) -> bool:
        self.webhook = {}
        return True

    async def _api_setWebhook(self, params: dict[str, Any]) -> bool:
        self.webhook = dict(params)
        return True

    async def _api_getWebhookInfo(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "url": self.webhook.get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending),
        }


def _user(user_id: int, language_code: str) -> dict[str, Any]:
    return {
        "id": user_id,
        "is_bot": False,
        "first_name": f"User{user_id}",
        "language_code": language_code,
    }


def _describe(fault: Fault) -> str:
    if fault.status == 429:
        return f"Too Many Requests: retry after {fault.retry_after}"
    if fault.status == 400:
        return "Bad Request: query is too old and response timeout expired or query ID is invalid"
    return {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}.get(
        fault.status or 500, "Error"
    )


def _parameter(name: str, value: str) -> Any:
    """Decode a form field the way the Bot API does for that parameter."""
    if name in JSON_PARAMETERS:
        return json.loads(value)
    if name in INTEGER_PARAMETERS and re.fullmatch(r"-?\d+", value):
        return int(value)
    if name in BOOLEAN_PARAMETERS:
        return value.lower() == "true"
    return value


class _MethodHandler(RequestHandler):
    def initialize(self, api: FakeBotApi) -> None:
        self.api = api

    async def post(self, token: str, method: str) -> None:
        if self.request.headers.get("Content-Type", "").startswith("application/json"):
            params = json.loads(self.request.body or b"{}")
        else:
            params = {
                name: _parameter(name, values[-1].decode())
                for name, values in self.request.arguments.items()
            }
        try:
            result = await self.api.handle(token, method, params)
        except ApiError as error:
            self.set_status(error.status)
            self.write(error.body())
            return
        except Garbled:
            self.write("<html><body>502 Bad Gateway</body></html>")
            return
        self.write({"ok": True, "result": result})

    get = post


class _ControlHandler(RequestHandler):
    """The HTTP face of the scripting methods, for driving the fake from another process."""

    def initialize(self, api: FakeBotApi) -> None:
        self.api = api

    def get(self, action: str) -> None:
        if action != "calls":
            self.send_error(404)
            return
        method = self.get_query_argument("method", None)
        since = int(self.get_query_argument("since", "0"))
        calls = [
            {"index": index, **asdict(call)}
            for index, call in enumerate(self.api.calls)
            if index >= since and (method is None or call.method == method)
        ]
        self.write({"calls": calls})

    def post(self, action: str) -> None:
        body = json.loads(self.request.body or b"{}")
        if action == "updates":
            if "text" in body:
                update = self.api.user_message(
                    body["text"],
                    user_id=body.get("user_id", 1001),
                    chat_id=body.get("chat_id"),
                    language_code=body.get("language_code", "zh-hans"),
                )
            else:
                update = self.api.add_update(body)
            self.write(update)
        elif action == "faults":
            if "delay" in body:
                self.api.slow(body["method"], body["delay"], times=body.get("times", 1))
            else:
                self.api.fail(
                    body["method"],
                    body["status"],
                    retry_after=body.get("retry_after"),
                    times=body.get("times", 1),
                )
            self.write({"ok": True})
        else:
            self.send_error(404)


async def _serve(port: int, token: str | None) -> None:
    api = FakeBotApi(token=token)
    await api.start(port)
    print(f"fake Bot API listening on {api.base_url}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    await api.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description="Run the fake Telegram Bot API on 127.0.0.1.")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--token", default=None, help="the only token accepted (default: any)")
    args = parser.parse_args()
    asyncio.run(_serve(args.port, args.token))


if __name__ == "__main__":
    main()
