"""`reports-bot chat`: the bot's answers in the terminal, so anyone can try it without a token."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TextIO

from bot import render
from bot.render import PLAIN, TERMINAL, Markup
from bot.services import IndexSource, clip_question
from bot.settings import Settings
from bot.strings import Lang, text
from index import SearchResult

CONTEXT_CHARS = 60
"""Characters of context shown on each side of a sentence: enough to read it in, short enough
that the answers, not their paragraphs, fill the screen."""
PROMPT = "> "


def chat(
    settings: Settings, index: IndexSource, lang: Lang, stdin: TextIO, stdout: TextIO
) -> None:
    """Answer each line of ``stdin`` like the bot would; an empty line shows the next page."""
    interactive = stdin.isatty()
    if interactive:
        print(text("chat_intro", lang), file=stdout)
    markup = TERMINAL if stdout.isatty() else PLAIN
    page_size = settings.page_size
    last: tuple[SearchResult, int | None] | None = None
    page = 0
    for line in _lines(stdin, stdout, interactive):
        question = line.strip()
        searcher = index.current()
        if question in ("/help", "/start"):
            reply = text("chat_intro", lang)
        elif question == "/sources":
            reply = render.render_sources(searcher.reports, lang, markup=markup)
        elif question == "/about":
            reply = render.render_about(searcher.info, lang, markup=markup)
        elif question.startswith("/"):
            reply = text("unknown_command", lang)
        elif not question:
            if last is None or page + 1 >= render.page_count(last[0], page_size):
                reply = text("chat_no_more", lang)
            else:
                page += 1
                reply = _page(last[0], page, page_size, lang, markup, last[1])
        else:
            asked, cut_at = clip_question(question, settings.max_question_chars)
            last = (searcher.search(asked, top_k=settings.top_k), cut_at)
            page = 0
            reply = _page(last[0], 0, page_size, lang, markup, cut_at)
        print(reply, end="\n\n", file=stdout, flush=True)


def _page(
    result: SearchResult, page: int, page_size: int, lang: Lang, markup: Markup, cut_at: int | None
) -> str:
    """A page as the bot renders it, with the short context a terminal wants."""
    return render.render_page(
        result, page, page_size, lang, markup=markup, query_cut_at=cut_at,
        most_context=CONTEXT_CHARS,
    )


def _lines(stdin: TextIO, stdout: TextIO, interactive: bool) -> Iterator[str]:
    """The user's lines until end of input (Ctrl-D). At a terminal they are read with ``input``,
    which ``readline``, where there is one, gives line editing (arrow keys) and history."""
    if not interactive:
        yield from stdin
        return
    try:
        import readline  # noqa: F401  (importing it is what makes input() edit lines)
    except ImportError:  # not every platform has it; lines are then read without editing
        pass
    while True:
        try:
            yield input(PROMPT)
        except EOFError:
            print(file=stdout)
            return
