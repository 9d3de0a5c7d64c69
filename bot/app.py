"""Wiring: build the Application with every handler in one place, and run it until a signal."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import signal
from collections import Counter
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from functools import partial
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit

from telegram import BotCommand, Update
from telegram.error import BadRequest, InvalidToken, NetworkError, TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    BaseUpdateProcessor,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    InlineQueryHandler,
    MessageHandler,
    TypeHandler,
    filters,
)
from telegram.request import HTTPXRequest

from bot import buttons, handlers
from bot.handlers import SERVICES, BotContext
from bot.rate_limit import RateLimiter
from bot.result_store import ResultStore
from bot.services import IndexSource, Services
from bot.settings import Settings
from bot.strings import COMMANDS

log = logging.getLogger(__name__)

REDACTED = "[TOKEN]"
PTB_BOT_LOGGER = "telegram.ext.ExtBot"
"""The logger of the bot ``Application.builder()`` creates: it logs the Bot API URLs, token and
all, at DEBUG. (The error handler's logger, ``handlers.log``, logs whatever a handler met.)"""
BOOTSTRAP_RETRIES = 5
"""Retries of deleteWebhook/setWebhook at start-up, for a Bot API that is briefly unreachable."""
WEBHOOK_MAX_BODY_BYTES = 1 << 20
"""Telegram's updates are a few KB; the webhook server refuses a longer body before reading it."""
NETWORK_ATTEMPTS = 5
FIRST_BACKOFF_SECONDS = 0.2
"""Back-off before the 2nd attempt, doubling after: 0.2 + 0.4 + 0.8 + 1.6 = 3 s at most in all."""

CONCURRENT_UPDATES = 64
"""Updates handled at once; those of a busy chat waiting their turn count too."""

ApiResult = bool | dict[str, Any] | list[dict[str, Any]]
"""What a Bot API call returns, as the rate limiter passes it on."""

TOKEN_REJECTED = "token_rejected"
"""bot_data key of the asyncio.Event set when Telegram rejects the token while polling."""


def build_application(settings: Settings, index: IndexSource) -> Application:
    """The bot: Bot API connection, shared services and the whole conversation, top to bottom."""
    if settings.token is None:
        raise ValueError("no bot token")
    redact(settings.token.get_secret_value())
    application = (
        Application.builder()
        .token(settings.token.get_secret_value())
        .base_url(settings.api_base_url)
        .base_file_url(_file_url(settings.api_base_url))
        .rate_limiter(RetryingRateLimiter(max_retries=settings.api_max_retries))
        .concurrent_updates(PerChatUpdateProcessor(CONCURRENT_UPDATES))
        .get_updates_request(TokenWatch(token_rejected := asyncio.Event()))
        .context_types(ContextTypes(context=BotContext))
        .build()
    )
    application.bot_data[TOKEN_REJECTED] = token_rejected
    application.bot_data[SERVICES] = Services(
        settings=settings,
        index=index,
        answers=ResultStore(settings.answer_store_size, settings.answer_ttl_seconds),
        limiter=RateLimiter(settings.rate_limit_per_minute),
    )

    # Groups -2 and -1 run first: strangers, then floods, are stopped before any handler below.
    application.add_handler(TypeHandler(Update, handlers.allow_list_gate), group=-2)
    application.add_handler(TypeHandler(Update, handlers.rate_limit_gate), group=-1)

    application.add_handler(CommandHandler("start", handlers.start))
    application.add_handler(CommandHandler("help", handlers.help_command))
    application.add_handler(CommandHandler("sources", handlers.sources))
    application.add_handler(CommandHandler("about", handlers.about))
    application.add_handler(CommandHandler("search", handlers.search_command))

    # Text the user sent through inline mode is a passage being shared, not a question.
    new_text = filters.UpdateType.MESSAGE & filters.TEXT & ~filters.COMMAND & ~filters.VIA_BOT
    private = filters.ChatType.PRIVATE
    application.add_handler(MessageHandler(private & new_text, handlers.private_question))
    application.add_handler(
        MessageHandler(
            filters.ChatType.GROUPS & new_text & handlers.ADDRESSED_TO_BOT,
            handlers.group_question,
        )
    )
    application.add_handler(MessageHandler(private & filters.COMMAND, handlers.unknown_command))
    application.add_handler(
        MessageHandler(private & filters.UpdateType.MESSAGE & ~filters.TEXT, handlers.not_text)
    )

    # A press that carries no data reaches every handler with a pattern: the first takes it.
    application.add_handler(CallbackQueryHandler(handlers.stale_button, pattern=buttons.NO_DATA))
    application.add_handler(CallbackQueryHandler(handlers.example_button, pattern=buttons.EXAMPLE))
    application.add_handler(CallbackQueryHandler(handlers.page_button, pattern=buttons.PAGE))
    application.add_handler(CallbackQueryHandler(handlers.passage_button, pattern=buttons.PASSAGE))
    application.add_handler(CallbackQueryHandler(handlers.stale_button))  # any other data
    application.add_handler(InlineQueryHandler(handlers.inline_query))

    application.add_error_handler(handlers.error_handler)
    return application


class PerChatUpdateProcessor(BaseUpdateProcessor):
    """Handles updates of different chats at once, and those of one chat one after the other.

    One slow reply (a retry's back-off, a response held back) then holds up only its own chat,
    while a user's answers still come in the order the questions were asked. Updates with no chat
    (inline queries) are ordered per user.
    """

    def __init__(self, max_concurrent_updates: int) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[int | None, asyncio.Lock] = {}
        self._holders: Counter[int | None] = Counter()
        """Updates running or waiting per chat, so that a chat's lock goes when it falls idle."""

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = _chat_key(update)
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._holders[key] += 1
        try:
            async with lock:
                await coroutine
        finally:
            self._holders[key] -= 1
            if not self._holders[key]:
                del self._holders[key], self._locks[key]

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release: the Application waits for the updates in flight."""


def _chat_key(update: object) -> int | None:
    """The chat an update belongs to, or its user's id when it has no chat."""
    if not isinstance(update, Update):
        return None
    place = update.effective_chat or update.effective_user
    return place.id if place else None


class RetryingRateLimiter(AIORateLimiter):
    """AIORateLimiter (which waits out 429s) that also retries calls failing on the way there.

    A 5xx answer, a timeout or a cut connection surfaces from PTB as ``NetworkError``, and a reply
    that is not JSON as a ``TelegramError``; such a call is tried up to NETWORK_ATTEMPTS times with
    a doubling back-off. ``BadRequest`` is a
    ``NetworkError`` too but would fail the same way again, so it is raised at once, as are
    ``Forbidden``, ``InvalidToken``, ``Conflict`` and ``RetryAfter`` (not ``NetworkError``s).

    The trade-off: Telegram offers no idempotency key, so when a connection is cut or times out
    after Telegram already sent the message, the retry sends it a second time. No client can tell
    that from a cut before the message was sent, where not retrying loses the answer; a rare
    duplicate does less harm than a question left unanswered.
    """

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, ApiResult]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> ApiResult:
        attempt_call = partial(
            super().process_request, callback, args, kwargs, endpoint, data, rate_limit_args
        )
        # ExtBot sends getUpdates around the rate limiter today; should that change, its polling
        # loop still retries it with its own back-off, so it is tried once here.
        attempts = 1 if endpoint == "getUpdates" else NETWORK_ATTEMPTS
        for attempt in range(1, attempts):
            try:
                return await attempt_call()
            except BadRequest:
                raise
            except TelegramError as error:
                if not _failed_on_the_way(error):
                    raise
                log.info("%s failed (%s) on attempt %d; retrying", endpoint, error, attempt)
                await asyncio.sleep(FIRST_BACKOFF_SECONDS * 2 ** (attempt - 1))
        return await attempt_call()


def _failed_on_the_way(error: TelegramError) -> bool:
    """A 5xx, timeout or cut connection (NetworkError), or a reply that is not JSON (a proxy's
    error page: PTB raises a plain TelegramError from the ValueError decoding it)."""
    return isinstance(error, NetworkError) or isinstance(error.__cause__, ValueError)


async def register_commands(application: Application) -> None:
    """Fill the command menu, per language; a failure here is logged, never fatal."""
    for lang, commands in COMMANDS.items():
        try:
            await application.bot.set_my_commands(
                [BotCommand(name, description) for name, description in commands],
                language_code=None if lang == "zh" else lang,
            )
        except TelegramError as error:
            log.warning("could not register the %s command menu: %s", lang, error)


@contextlib.contextmanager
def _webhook_body_cap() -> Iterator[None]:
    """python-telegram-bot makes its webhook server with tornado's default body limit (100 MB)
    and reads a body whole before checking the secret, so anyone could make the process hold
    hundreds of MB. A tornado server made meanwhile refuses a longer body from its
    Content-Length."""
    from tornado.httpserver import HTTPServer

    HTTPServer.configure(None, max_body_size=WEBHOOK_MAX_BODY_BYTES)
    try:
        yield
    finally:
        HTTPServer.configure(None)


async def serve(application: Application, settings: Settings, stop: asyncio.Event) -> None:
    """Run the bot until ``stop`` is set: by webhook if a webhook URL is set, else by polling."""
    async with application:
        await register_commands(application)
        await application.start()
        updater = application.updater
        try:
            if settings.webhook_url:
                secret = (
                    settings.webhook_secret.get_secret_value()
                    if settings.webhook_secret
                    else secrets.token_urlsafe(32)
                )
                redact(secret)  # PTB logs setWebhook's parameters at DEBUG
                with _webhook_body_cap():
                    await updater.start_webhook(
                        listen=settings.webhook_listen,
                        port=settings.webhook_port,
                        url_path=urlsplit(settings.webhook_url).path.lstrip("/"),
                        webhook_url=settings.webhook_url,
                        secret_token=secret,
                        allowed_updates=Update.ALL_TYPES,
                        bootstrap_retries=BOOTSTRAP_RETRIES,
                    )
                log.info("receiving updates by webhook on port %d", settings.webhook_port)
            else:
                await updater.start_polling(
                    poll_interval=0,
                    timeout=settings.poll_timeout_seconds,
                    allowed_updates=Update.ALL_TYPES,
                    bootstrap_retries=BOOTSTRAP_RETRIES,
                )
                log.info("receiving updates by long polling")
            rejected = application.bot_data[TOKEN_REJECTED]
            await _first_set(stop, rejected)
            if rejected.is_set():
                raise InvalidToken("Telegram rejected the token while polling")
        finally:
            if updater.running:
                # Stopping re-raises what ended the polling loop: a rejected token, seen above.
                with contextlib.suppress(InvalidToken):
                    await updater.stop()
            await application.stop()
    log.info("stopped")


async def _first_set(*events: asyncio.Event) -> None:
    """Return as soon as any of ``events`` is set."""
    waits = [asyncio.create_task(event.wait()) for event in events]
    try:
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiting in waits:
            waiting.cancel()


class TokenWatch(HTTPXRequest):
    """The getUpdates connection, setting ``rejected`` when Telegram answers 401 (the token was
    revoked). PTB's polling loop stops for good then but leaves the process running and polling
    nothing, which no health check sees; ``serve`` stops the bot instead."""

    def __init__(self, rejected: asyncio.Event) -> None:
        super().__init__(connection_pool_size=1)  # what PTB gives getUpdates by default
        self.rejected = rejected

    async def do_request(self, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        status, payload = await super().do_request(*args, **kwargs)
        if status == HTTPStatus.UNAUTHORIZED:
            self.rejected.set()
        return status, payload


def run(settings: Settings, index: IndexSource) -> int:
    """Serve until SIGINT or SIGTERM, then shut down cleanly: exit status 0. A token Telegram
    rejects (at start or later) and a Bot API that cannot be reached at start end it with one
    line saying so, no traceback and no secret: exit status 1."""
    configure_logging(settings)
    application = build_application(settings, index)

    async def until_signalled() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await serve(application, settings, stop)

    try:
        asyncio.run(until_signalled())
    except InvalidToken:
        log.error("Telegram rejected the bot token: check REPORTS_BOT_TOKEN (a revoked token "
                  "needs the new one from @BotFather)")
        return 1
    except NetworkError as error:  # after the retries RetryingRateLimiter makes
        log.error("cannot reach the Telegram Bot API at %s: %s",
                  urlsplit(settings.api_base_url).netloc, error)
        return 1
    return 0


def redact(secret: str) -> None:
    """Keep ``secret`` (the token, the webhook secret) out of the logs of the loggers that can be
    handed it: redacting on the loggers, not only on the handlers configure_logging knows, keeps
    it from every handler anyone attaches."""
    redactor = TokenRedactor(secret)
    for logger in (logging.getLogger(PTB_BOT_LOGGER), handlers.log):
        logger.addFilter(redactor)


def configure_logging(settings: Settings) -> None:
    """Log to stderr at the configured level, with the token and the webhook secret redacted
    from every record."""
    logging.basicConfig(
        format="%(asctime)s %(levelname)s %(name)s: %(message)s", level=settings.log_level.upper()
    )
    # httpx logs every request URL at INFO, and Bot API URLs contain the token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    for secret in (settings.token, settings.webhook_secret):
        if secret is not None:
            redactor = TokenRedactor(secret.get_secret_value())
            for handler in logging.getLogger().handlers:
                handler.addFilter(redactor)


class TokenRedactor(logging.Filter):
    """Replaces the bot token in a record's message and traceback before any handler formats it."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self._token = token

    # Equal for the same token, so adding a second one (each build_application does) is a no-op:
    # Filterer.addFilter skips a filter equal to one it has.
    def __eq__(self, other: object) -> bool:
        return isinstance(other, TokenRedactor) and other._token == self._token

    def __hash__(self) -> int:
        return hash(self._token)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if self._token in message:
            record.msg, record.args = message.replace(self._token, REDACTED), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = record.exc_text.replace(self._token, REDACTED)
        return True


def _file_url(base_url: str) -> str:
    """The file download URL that goes with a Bot API URL: ``.../bot`` -> ``.../file/bot``."""
    root = base_url.removesuffix("/").removesuffix("/bot")
    return f"{root}/file/bot"
