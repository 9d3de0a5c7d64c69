"""Every piece of text the bot shows: Simplified Chinese by default, English for English users.

Strings are plain text with ``str.format`` fields; whoever renders them as HTML escapes them.
"""

from __future__ import annotations

from typing import Literal

Lang = Literal["zh", "en"]

EXAMPLE_QUESTIONS: dict[Lang, tuple[str, ...]] = {
    "zh": ("党员先锋模范作用", "如何做好防控物资保障", "上海教卫系统如何抗疫"),
    "en": ("党员先锋模范作用", "防控物资", "上海教卫系统"),
}
"""Tap-to-ask questions under /start; the reports are Chinese, so the questions are too."""

COMMANDS: dict[Lang, tuple[tuple[str, str], ...]] = {
    "zh": (
        ("start", "开始，并看几个示例问题"),
        ("help", "我知道什么，怎么提问"),
        ("search", "提问（群组里用）：/search 问题"),
        ("sources", "列出所有报告"),
        ("about", "索引信息"),
    ),
    "en": (
        ("start", "Start, with a few example questions"),
        ("help", "What I know and how to ask"),
        ("search", "Ask (in groups): /search question"),
        ("sources", "List the reports"),
        ("about", "Facts about the index"),
    ),
}
"""The command menu registered with setMyCommands, per language."""

_STRINGS: dict[str, dict[Lang, str]] = {
    "greeting": {
        "zh": "你好！我能回答关于各省卫生健康委 2020-2021 年疫情防控报告的问题，"
        "并给出原文句子和出处。直接发问题给我，或者点下面的示例：",
        "en": "Hello! I answer questions about reports of provincial health commissions on "
        "epidemic prevention (2020-2021) with the sentences that answer them, each cited. "
        "Send me a question (the reports are in Chinese), or tap an example:",
    },
    "help": {
        "zh": "我收录了 {reports} 份报告（/sources 查看），内容是各省卫生健康委 2020-2021 年"
        "疫情防控与党建工作。\n\n"
        "提问方法：直接发送关键词或问题，例如“党员先锋模范作用”。简体、繁体都可以。\n"
        "每条回答给出最相关的句子、上下文和出处（标题 · 日期 · 文件）。"
        "用按钮翻页，或查看整段原文。\n\n"
        "群组里：用 /search 问题、@我 或回复我的消息来提问。\n"
        "任何聊天里：输入 @{username} 问题，可以直接引用原文。",
        "en": "I hold {reports} reports (see /sources) on epidemic prevention and Party work "
        "by provincial health commissions, 2020-2021.\n\n"
        "How to ask: send keywords or a question, best in Chinese, e.g. 党员先锋模范作用. "
        "Simplified and Traditional characters both work.\n"
        "Each answer shows the best sentences with context and a citation "
        "(title · date · file). Use the buttons to page or to read the whole passage.\n\n"
        "In groups: ask with /search question, mention me, or reply to my message.\n"
        "In any chat: type @{username} question to quote the reports inline.",
    },
    "sources_header": {"zh": "共 {count} 份报告：", "en": "{count} reports:"},
    "sources_more": {"zh": "……另有 {count} 份未列出。", "en": "… and {count} more."},
    "sentence_count": {"zh": "{count} 句", "en": "{count} sentences"},
    "about": {
        "zh": "索引：{reports} 份报告，{sentences} 个句子，{terms} 个词项。\n构建时间：{built_at}",
        "en": "Index: {reports} reports, {sentences} sentences, {terms} terms.\nBuilt: {built_at}",
    },
    "missing": {"zh": "未找到: {terms}", "en": "Not found: {terms}"},
    "no_results": {
        "zh": "没有找到相关内容。试试换个说法：用更短的关键词（如“核酸检测”“党员”），"
        "或者省份、机构的名称。",
        "en": "Nothing found. Try rephrasing: shorter keywords in Chinese (e.g. 核酸检测, 党员), "
        "or the name of a province or an institution.",
    },
    "nearest": {
        "zh": "没有直接回答这个问题的句子，最接近的是：",
        "en": "No sentence answers this question directly; the nearest are:",
    },
    "page": {"zh": "第 {page}/{pages} 页", "en": "Page {page}/{pages}"},
    "previous": {"zh": "◀ 上一页", "en": "◀ Previous"},
    "next": {"zh": "下一页 ▶", "en": "Next ▶"},
    "passage_button": {"zh": "📖 {n} 原文", "en": "📖 {n} passage"},
    "expired": {
        "zh": "这条回答已过期，请重新提问。",
        "en": "This answer has expired, please ask again.",
    },
    "query_cut": {
        "zh": "问题太长，只用了前 {limit} 个字。",
        "en": "Your question was long; I used its first {limit} characters.",
    },
    "rate_limited": {
        "zh": "提问太快了，请稍等一分钟再问。",
        "en": "That's a lot of questions at once; please wait a minute and ask again.",
    },
    "not_text": {
        "zh": "我只能读文字，请用文字提问。",
        "en": "I can only read text; please type your question.",
    },
    "unknown_command": {
        "zh": "没有这个命令。/help 看看怎么用。",
        "en": "I don't know that command. See /help.",
    },
    "search_usage": {
        "zh": "用法：/search 问题，例如 /search 党员先锋模范作用",
        "en": "Usage: /search question, e.g. /search 党员先锋模范作用",
    },
    "not_allowed": {
        "zh": "抱歉，这个机器人仅供特定用户使用。",
        "en": "Sorry, this bot is private.",
    },
    "error": {
        "zh": "出了点问题，请稍后再试。",
        "en": "Something went wrong; please try again later.",
    },
    "no_title": {"zh": "（无标题）", "en": "(untitled)"},
    "date_unknown": {"zh": "日期不详", "en": "date unknown"},
    "date_inferred": {"zh": "约 {date}", "en": "c. {date}"},
    "date_provenance": {
        "zh": "（{provenance}）",
        "en": " ({provenance})",
    },
    "provenance_explicit": {"zh": "原文注明", "en": "stated"},
    "provenance_inferred": {"zh": "推断", "en": "inferred"},
    "provenance_override": {"zh": "人工校订", "en": "corrected by hand"},
    "provenance_unknown": {"zh": "不详", "en": "unknown"},
    "chat_intro": {
        "zh": "输入问题后回车；空行看下一页，/sources 列出报告，/about 索引信息，/help 显示本说明，"
        "Ctrl-D 退出。",
        "en": "Type a question and press Enter; an empty line shows the next page, /sources lists "
        "the reports, /about shows the index, /help shows this, Ctrl-D quits.",
    },
    "chat_no_more": {"zh": "没有更多结果了。", "en": "No more results."},
}


def language_of(language_code: str | None) -> Lang:
    """English for users whose Telegram language is English, Simplified Chinese for the rest."""
    return "en" if language_code and language_code.lower().startswith("en") else "zh"


def text(key: str, lang: Lang, **fields: object) -> str:
    """The string ``key`` in ``lang`` with ``fields`` filled in."""
    template = _STRINGS[key][lang]
    return template.format(**fields) if fields else template
