"""`reports-bot chat`: the bot's answers in the terminal, so anyone can try it without a token."""

from __future__ import annotations

from typing import TextIO

from bot import render
from bot.handlers import IndexSource
from bot.render import PLAIN
from bot.settings import Settings
from bot.strings import Lang, text
from index.models import SearchResult


def chat(
    settings: Settings, index: IndexSource, lang: Lang, stdin: TextIO, stdout: TextIO
) -> None:
    """Answer each line of ``stdin`` like the bot would; an empty line shows the next page."""
    interactive = stdin.isatty()
    if interactive:
        print(text("chat_intro", lang), file=stdout)
    page_size = settings.page_size
    limit = settings.max_question_chars
    last: tuple[SearchResult, int | None] | None = None
    page = 0
    while True:
        if interactive:
            print("> ", end="", file=stdout, flush=True)
        line = stdin.readline()
        if not line:
            break
        question = line.strip()
        searcher = index.current()
        if question == "/sources":
            reply = render.render_sources(searcher.reports, lang, markup=PLAIN)
        elif question == "/about":
            reply = render.render_about(searcher.info, lang, markup=PLAIN)
        elif not question:
            if last is None or page + 1 >= render.page_count(last[0], page_size):
                reply = text("chat_no_more", lang)
            else:
                page += 1
                reply = render.render_page(
                    last[0], page, page_size, lang, markup=PLAIN, query_cut_at=last[1]
                )
        else:
            cut_at = limit if len(question) > limit else None
            last = (searcher.search(question[:limit], top_k=settings.top_k), cut_at)
            page = 0
            reply = render.render_page(
                last[0], 0, page_size, lang, markup=PLAIN, query_cut_at=cut_at
            )
        print(reply, end="\n\n", file=stdout, flush=True)
