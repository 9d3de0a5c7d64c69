"""The conversation: one small async handler per thing a user can do.

Handlers find what they share (index, stored answers, rate limiter, settings) in
``context.services``: ``bot.app.build_application`` makes their context a ``BotContext`` and
puts the services there. What a button carries, and the pattern that routes its press to its
handler, is in ``bot.buttons``.
"""

from __future__ import annotations

import logging
import time

from telegram import (
    CallbackQuery,
    Chat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputTextMessageContent,
    Message,
    MessageEntity,
    ReplyParameters,
    Update,
    User,
)
from telegram.constants import ChatType, ParseMode
from telegram.error import BadRequest, TelegramError
from telegram.ext import ApplicationHandlerStop, CallbackContext, ExtBot, filters

from bot import buttons, render
from bot.result_store import Owner, StoredAnswer
from bot.services import Services, clip_question
from bot.strings import EXAMPLE_QUESTIONS, Lang, language_of, text

log = logging.getLogger(__name__)

INLINE_TITLE_LENGTH = 100
INLINE_CACHE_SECONDS = 60
PRIVATE_INLINE_CACHE_SECONDS = 5
"""How long Telegram may reuse inline results for the same user when an allow-list is set."""

SERVICES = "services"
"""bot_data key of the ``Services``; ``bot.app.build_application`` puts them there."""


class BotContext(CallbackContext[ExtBot, dict, dict, dict]):
    """The context every handler gets: python-telegram-bot's, plus this Application's services."""

    @property
    def services(self) -> Services:
        return self.bot_data[SERVICES]


class _AddressedToBot(filters.MessageFilter):
    """Messages that mention the bot by @username or reply to one of its messages."""

    def filter(self, message: Message) -> bool:
        bot = message.get_bot()
        replied = message.reply_to_message
        if replied and replied.from_user and replied.from_user.id == bot.id:
            return True
        return _mention(bot.username) in _mentions(message)


ADDRESSED_TO_BOT = _AddressedToBot()


def _mention(username: str) -> str:
    return f"@{username}".lower()


def _mentions(message: Message) -> set[str]:
    return {m.lower() for m in message.parse_entities([MessageEntity.MENTION]).values()}


def _owner(chat: Chat, user: User | None) -> Owner:
    """Whose an answer is, or a button press: the chat, and in a private chat the user too."""
    return Owner(chat.id, user.id if user and chat.type == ChatType.PRIVATE else None)


def _lang(update: Update) -> Lang:
    user = update.effective_user
    return language_of(user.language_code if user else None)


# -- gate ---------------------------------------------------------------------------------------


async def allow_list_gate(update: object, context: BotContext) -> None:
    """Strangers to a private deployment get a polite refusal, at most one a minute each, and
    nothing from the reports."""
    services = context.services
    settings = services.settings
    if not isinstance(update, Update) or not (settings.allowed_users or settings.allowed_chats):
        return
    user, chat = update.effective_user, update.effective_chat
    if (user and user.id in settings.allowed_users) or (
        chat and chat.id in settings.allowed_chats
    ):
        return
    sender = user or chat
    if sender and _expects_reply(update) and services.strangers.check(sender.id) == "allow":
        await _refuse(update, text("not_allowed", _lang(update)))
    raise ApplicationHandlerStop


async def rate_limit_gate(update: object, context: BotContext) -> None:
    """Every update the bot would reply to counts against its user's limit, not only questions:
    a flood of presses or commands holds up everyone's replies as surely. The first update over
    the limit gets a note, the rest nothing."""
    if not isinstance(update, Update) or not update.effective_user or not _expects_reply(update):
        return
    verdict = context.services.limiter.check(update.effective_user.id)
    if verdict == "allow":
        return
    if verdict == "warn":
        await _refuse(update, text("rate_limited", _lang(update)))
    raise ApplicationHandlerStop


async def _refuse(update: Update, note: str) -> None:
    """Say ``note`` as the update allows: an alert on a button, no inline results, a reply."""
    if update.callback_query:
        await _acknowledge(update.callback_query, note)
    elif update.inline_query:
        await update.inline_query.answer([], cache_time=0, is_personal=True)
    elif update.message:
        await update.message.reply_text(note)


def _expects_reply(update: Update) -> bool:
    """Button presses, inline queries, and of messages those in private chats, commands and
    those addressed to the bot; not group chatter, nor edits."""
    if update.callback_query or update.inline_query:
        return True
    message = update.message
    return message is not None and (
        message.chat.type == ChatType.PRIVATE
        or (message.text or "").startswith("/")
        or ADDRESSED_TO_BOT.filter(message)
    )


# -- commands -----------------------------------------------------------------------------------


async def start(update: Update, context: BotContext) -> None:
    """Greets and offers example questions as buttons."""
    lang = _lang(update)
    examples = [
        [InlineKeyboardButton(question, callback_data=buttons.example(n))]
        for n, question in enumerate(EXAMPLE_QUESTIONS[lang])
    ]
    await update.effective_message.reply_text(
        text("greeting", lang), reply_markup=InlineKeyboardMarkup(examples)
    )


async def help_command(update: Update, context: BotContext) -> None:
    """Explains what the bot knows and how to ask."""
    searcher = context.services.index.current()
    message = text(
        "help", _lang(update), reports=len(searcher.reports), username=context.bot.username
    )
    await update.effective_message.reply_text(message)


async def sources(update: Update, context: BotContext) -> None:
    """Lists the reports: title, date with provenance, sentence count, file."""
    searcher = context.services.index.current()
    await update.effective_message.reply_html(
        render.render_sources(searcher.reports, _lang(update))
    )


async def about(update: Update, context: BotContext) -> None:
    """Shows facts about the index: reports, sentences, build time."""
    searcher = context.services.index.current()
    await update.effective_message.reply_html(render.render_about(searcher.info, _lang(update)))


async def search_command(update: Update, context: BotContext) -> None:
    """Answers `/search question`, or explains how to use it."""
    question = " ".join(context.args or ())
    if not question.strip():
        await update.effective_message.reply_text(text("search_usage", _lang(update)))
        return
    await _answer(update, context, question)


async def unknown_command(update: Update, context: BotContext) -> None:
    """Points to /help."""
    await update.effective_message.reply_text(text("unknown_command", _lang(update)))


# -- questions ----------------------------------------------------------------------------------


async def private_question(update: Update, context: BotContext) -> None:
    """Answers any text sent in a private chat."""
    await _answer(update, context, update.effective_message.text)


async def group_question(update: Update, context: BotContext) -> None:
    """Answers a group message that mentions the bot or replies to it."""
    message = update.effective_message
    mention = _mention(context.bot.username)
    question = message.text
    for mentioned in message.parse_entities([MessageEntity.MENTION]).values():
        if mentioned.lower() == mention:
            question = question.replace(mentioned, " ")
    if not question.strip():  # only the mention: say how to ask, as /search alone does
        await message.reply_text(text("search_usage", _lang(update)))
        return
    await _answer(update, context, question)


async def not_text(update: Update, context: BotContext) -> None:
    """Stickers, photos, voice and the like get a one-line hint to type instead."""
    await update.effective_message.reply_text(text("not_text", _lang(update)))


async def _answer(update: Update, context: BotContext, question: str) -> None:
    """Reply to ``question`` with the first page of results and their buttons."""
    started = time.perf_counter()
    services = context.services
    lang = _lang(update)
    message = update.effective_message
    user_id = update.effective_user.id
    question = question.strip()
    asked, cut_at = clip_question(question, services.settings.max_question_chars)
    answer = await services.look_up(asked, cut_at)
    answer_id = services.answers.put(answer, _owner(message.chat, update.effective_user))
    await message.reply_html(
        render.render_page(
            answer.result, 0, services.settings.page_size, lang, query_cut_at=cut_at
        ),
        reply_markup=_keyboard(answer_id, answer, 0, services.settings.page_size, lang),
    )
    _log_answer(services, user_id, question, len(answer.result.hits), started)


def _log_answer(
    services: Services, user_id: int, question: str, results: int, started: float
) -> None:
    user = services.anonymise(user_id)
    latency_ms = round((time.perf_counter() - started) * 1000)
    log.info("answered user=%s results=%d latency_ms=%d", user, results, latency_ms)
    log.debug("question from user=%s: %r", user, question)


def _keyboard(
    answer_id: str, answer: StoredAnswer, page: int, page_size: int, lang: Lang
) -> InlineKeyboardMarkup | None:
    """A passage button per hit on the page, then previous/next page buttons as needed."""
    hits = answer.result.hits
    first = page * page_size
    rows = []
    passages = [
        InlineKeyboardButton(
            text("passage_button", lang, n=hits[n].rank),
            callback_data=buttons.passage(answer_id, n),
        )
        for n in range(first, min(first + page_size, len(hits)))
    ]
    if passages:
        rows.append(passages)
    navigation = []
    if page > 0:
        navigation.append(
            InlineKeyboardButton(
                text("previous", lang), callback_data=buttons.page(answer_id, page - 1)
            )
        )
    if page < render.page_count(answer.result, page_size) - 1:
        navigation.append(
            InlineKeyboardButton(
                text("next", lang), callback_data=buttons.page(answer_id, page + 1)
            )
        )
    if navigation:
        rows.append(navigation)
    return InlineKeyboardMarkup(rows) if rows else None


# -- buttons ------------------------------------------------------------------------------------


async def example_button(update: Update, context: BotContext) -> None:
    """Asks the example question pressed under the greeting."""
    await _acknowledge(update.callback_query)
    examples = EXAMPLE_QUESTIONS[_lang(update)]
    number = buttons.example_number(context.match)
    await _answer(update, context, examples[number % len(examples)])


async def page_button(update: Update, context: BotContext) -> None:
    """Shows another page of an answer, in place of the one shown."""
    query = update.callback_query
    answer_id, page = buttons.answer_button(context.match)
    answer = await _pressed_answer(update, context, answer_id)
    if answer is None:
        return
    lang = _lang(update)
    page_size = context.services.settings.page_size
    page = min(page, render.page_count(answer.result, page_size) - 1)
    try:
        await query.edit_message_text(
            render.render_page(
                answer.result, page, page_size, lang, query_cut_at=answer.query_cut_at
            ),
            parse_mode=ParseMode.HTML,
            reply_markup=_keyboard(answer_id, answer, page, page_size, lang),
        )
    except BadRequest as error:
        # A double press asks for the page already shown; Telegram refuses the no-op edit.
        if "not modified" not in error.message:
            raise


async def passage_button(update: Update, context: BotContext) -> None:
    """Sends the paragraph around one hit of an answer, as a reply to the answer."""
    query = update.callback_query
    answer_id, number = buttons.answer_button(context.match)
    answer = await _pressed_answer(update, context, answer_id)
    if answer is None or query.message is None or number >= len(answer.result.hits):
        return
    await context.bot.send_message(
        query.message.chat.id,
        render.render_passage(answer.result.hits[number], answer.passages[number], _lang(update)),
        parse_mode=ParseMode.HTML,
        reply_parameters=ReplyParameters(query.message.message_id),
    )


async def stale_button(update: Update, context: BotContext) -> None:
    """Any other press (an old answer's button, data that is not ours) says the answer expired."""
    await _acknowledge(update.callback_query, text("expired", _lang(update)))


async def _pressed_answer(
    update: Update, context: BotContext, answer_id: str
) -> StoredAnswer | None:
    """The stored answer a pressed button belongs to, the press acknowledged; None, once the
    presser has been told it expired, when it is gone or not the presser's."""
    query = update.callback_query
    # A press under an inline-mode message comes with no chat: no stored answer is its (inline
    # answers are not stored). Another chat's or user's answer gets the same alert as an expired
    # one, so a replayed button learns nothing.
    presser = _owner(query.message.chat, query.from_user) if query.message else None
    answer = context.services.answers.get(answer_id, presser)
    if answer is None:
        await stale_button(update, context)
        return None
    await _acknowledge(query)
    return answer


async def _acknowledge(query: CallbackQuery, alert: str | None = None) -> None:
    """Answer a button press (Telegram wants every one answered), with ``alert`` if given.

    Telegram refuses the answer when the press is too old (after a restart, under load); the
    press is acted on all the same, since the acknowledgement only stops the button's spinner."""
    try:
        await query.answer(alert, show_alert=alert is not None)
    except TelegramError as error:
        log.info("could not acknowledge a button press (%s); acting on it anyway", error)


# -- inline mode --------------------------------------------------------------------------------


async def inline_query(update: Update, context: BotContext) -> None:
    """Offers the top results as articles; choosing one sends its passage with the citation."""
    started = time.perf_counter()
    query = update.inline_query
    services = context.services
    question, _ = clip_question(query.query, services.settings.max_question_chars)
    if not question:
        await query.answer([], cache_time=0, is_personal=True)
        return
    lang = _lang(update)
    answer = await services.look_up(question)
    results = [
        InlineQueryResultArticle(
            id=str(n),
            title=render.clip(hit.sentence.text, INLINE_TITLE_LENGTH),
            description=render.citation(hit.report, lang),
            input_message_content=InputTextMessageContent(
                render.render_passage(hit, passage, lang), parse_mode=ParseMode.HTML
            ),
        )
        for n, (hit, passage) in enumerate(zip(answer.result.hits, answer.passages, strict=True))
    ]
    settings = services.settings
    if settings.allowed_users or settings.allowed_chats:
        # Unmarked, cached results may be served to anyone typing the same query.
        await query.answer(results, cache_time=PRIVATE_INLINE_CACHE_SECONDS, is_personal=True)
    else:
        await query.answer(results, cache_time=INLINE_CACHE_SECONDS)
    _log_answer(services, query.from_user.id, question, len(results), started)


# -- errors -------------------------------------------------------------------------------------


async def error_handler(update: object, context: BotContext) -> None:
    """Logs the failure and tells the user, briefly, that something went wrong."""
    log.error("Exception while handling an update", exc_info=context.error)
    if isinstance(update, Update) and update.effective_message:
        await update.effective_message.reply_text(text("error", _lang(update)))
