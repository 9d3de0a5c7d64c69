"""A strict checker for the HTML subset Telegram's ``parse_mode=HTML`` accepts.

Telegram rejects a whole message (400 "can't parse entities") for one unknown tag, one unclosed
tag or one bare ``<`` or ``&``, so the bot's every reply is checked against its rules here rather
than trusted: only the documented tags, properly nested and closed, and every ``&``, ``<`` and
``>`` in text written as an entity.
"""

from __future__ import annotations

import re

from bot.render import MAX_MESSAGE_LENGTH, message_length

ALLOWED_TAGS: dict[str, frozenset[str]] = {
    "b": frozenset(),
    "strong": frozenset(),
    "i": frozenset(),
    "em": frozenset(),
    "u": frozenset(),
    "ins": frozenset(),
    "s": frozenset(),
    "strike": frozenset(),
    "del": frozenset(),
    "a": frozenset({"href"}),
    "code": frozenset({"class"}),
    "pre": frozenset(),
    "blockquote": frozenset({"expandable"}),
    "tg-spoiler": frozenset(),
    "span": frozenset({"class"}),
}
"""Tags Telegram's HTML style knows, with the attributes each may carry."""

_ENTITY = re.compile(r"&(?:lt|gt|amp|quot|#[0-9]{1,7}|#x[0-9a-fA-F]{1,6});")
_TAG = re.compile(r"<(/?)([a-z][a-z-]*)((?:\s+[a-z-]+(?:=\"[^\"<>]*\")?)*)\s*>")
_ATTRIBUTE = re.compile(r"([a-z-]+)(?:=\"([^\"<>]*)\")?")


class InvalidTelegramHtml(AssertionError):
    """The message would be refused by Telegram; the text says where and why."""


def check_telegram_html(message: str, *, limit: int = MAX_MESSAGE_LENGTH) -> str:
    """Raise InvalidTelegramHtml unless ``message`` is valid Telegram HTML within ``limit``
    UTF-16 units; return the text a user would see (tags dropped, entities decoded)."""
    if message_length(message) > limit:
        raise InvalidTelegramHtml(f"{message_length(message)} UTF-16 units, over {limit}")
    if not message.strip():
        raise InvalidTelegramHtml("empty message")
    open_tags: list[str] = []
    visible: list[str] = []
    position = 0
    while position < len(message):
        char = message[position]
        if char == "<":
            tag = _TAG.match(message, position)
            if tag is None:
                raise InvalidTelegramHtml(f"bare or malformed '<' at {position}: {_around(message, position)}")
            _check_tag(tag, open_tags, position)
            position = tag.end()
        elif char == "&":
            entity = _ENTITY.match(message, position)
            if entity is None:
                raise InvalidTelegramHtml(f"bare '&' at {position}: {_around(message, position)}")
            visible.append(_decode(entity.group()))
            position = entity.end()
        elif char == ">":
            raise InvalidTelegramHtml(f"bare '>' at {position}: {_around(message, position)}")
        else:
            visible.append(char)
            position += 1
    if open_tags:
        raise InvalidTelegramHtml(f"unclosed tags: {open_tags}")
    return "".join(visible)


def _check_tag(tag: re.Match[str], open_tags: list[str], position: int) -> None:
    closing, name, attributes = tag.group(1), tag.group(2), tag.group(3)
    if name not in ALLOWED_TAGS:
        raise InvalidTelegramHtml(f"tag <{name}> at {position} is not one Telegram allows")
    if closing:
        if attributes.strip():
            raise InvalidTelegramHtml(f"closing tag </{name}> with attributes at {position}")
        if not open_tags or open_tags[-1] != name:
            raise InvalidTelegramHtml(f"</{name}> at {position} closes {open_tags[-1:] or 'nothing'}")
        open_tags.pop()
        return
    given = dict(_ATTRIBUTE.findall(attributes))
    unknown = set(given) - ALLOWED_TAGS[name]
    if unknown:
        raise InvalidTelegramHtml(f"<{name}> at {position} has attributes {sorted(unknown)}")
    if name == "a" and "href" not in given:
        raise InvalidTelegramHtml(f"<a> without href at {position}")
    if name == "span" and given.get("class") != "tg-spoiler":
        raise InvalidTelegramHtml(f"<span> at {position} is not a tg-spoiler")
    open_tags.append(name)


def _decode(entity: str) -> str:
    named = {"&lt;": "<", "&gt;": ">", "&amp;": "&", "&quot;": '"'}
    if entity in named:
        return named[entity]
    number = entity[2:-1]
    code = int(number[1:], 16) if number.startswith("x") else int(number)
    if not 0 < code <= 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        raise InvalidTelegramHtml(f"entity {entity} is no character")
    return chr(code)


def _around(message: str, position: int) -> str:
    return repr(message[max(0, position - 20) : position + 20])
