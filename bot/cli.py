"""The `reports-bot` command: parses arguments, loads settings and calls the library. No logic of its own."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TypeVar

from pydantic import ValidationError
from tqdm import tqdm

from bot.chat import chat
from bot.render import mark_spans
from bot.settings import Settings
from bot.strings import language_of, text
from index import (
    FILE_FORMAT,
    RANKINGS,
    Analyzer,
    CorpusError,
    EmptyCorpus,
    IndexUnavailable,
    LiveIndex,
    Searcher,
    SearchResult,
    build_index,
    corpus_folder,
    evaluate,
    load_corpus,
    load_questions,
    open_searcher,
    open_serving,
    probe,
    result_to_dict,
    search_many,
    unknown_files,
)

Command = Callable[[argparse.Namespace, Settings], int]


Registrar = Callable[["argparse._SubParsersAction[argparse.ArgumentParser]"], None]
COMMANDS: list[Registrar] = []
"""Each entry adds one subcommand to the parser and sets its ``handler``."""


def subcommand(register: Registrar) -> Registrar:
    """Decorator: list a function that adds a subcommand, in the order of the help text."""
    COMMANDS.append(register)
    return register


Opened = TypeVar("Opened")


def positive_int(text: str) -> int:
    """An argparse type: a whole number of at least 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def existing_index(text: str) -> Path:
    """An argparse type for an index to read: a path that exists, so that a mistyped one is an
    error rather than the place a new index gets built."""
    path = Path(text)
    if not path.exists():
        raise argparse.ArgumentTypeError(
            f"no index at {path}: build one with `reports-bot index --index {path}`"
        )
    return path


def fail(message: str) -> int:
    """One clear line on stderr instead of a traceback; exit status 1."""
    print(f"reports-bot: {message}", file=sys.stderr)
    return 1


@subcommand
def add_corpus(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = commands.add_parser(
        "corpus", help="show what is read from each report (metadata, sentences, warnings)"
    )
    parser.add_argument("--corpus", type=Path, help="folder of reports (default: settings)")
    parser.set_defaults(handler=run_corpus)


def run_corpus(args: argparse.Namespace, settings: Settings) -> int:
    corpus_dir = corpus_folder(args.corpus or settings.corpus_dir, settings.index_path)
    try:
        corpus = load_corpus(corpus_dir)
    except CorpusError as error:
        return fail(str(error))
    for report in corpus.reports:
        meta = report.meta
        overridden = f" (set in metadata.toml: {', '.join(meta.overrides)})" if meta.overrides else ""
        print(f"{meta.file}{overridden}")
        print(f"  title:     {meta.title or '-'}")
        print(f"  date:      {meta.date or '-'} ({meta.date_provenance})")
        print(f"  source:    {meta.source or '-'}")
        print(f"  author:    {meta.author or '-'}")
        print(f"  url:       {meta.url or '-'}")
        print(f"  sentences: {len(report.sentences)}")
        for note in report.notes:
            print(f"  note:      {note}")
        for warning in report.warnings:
            print(f"  warning:   {warning}")
    for warning in corpus.warnings:
        print(f"warning: {warning}")
    print(f"{len(corpus.reports)} reports read, {len(corpus.warnings)} corpus warnings")
    return 0


@subcommand
def add_index(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = commands.add_parser("index", help="rebuild the index from the corpus folder")
    parser.add_argument("--corpus", type=Path, help="folder of reports (default: settings)")
    parser.add_argument("--index", type=Path, help="index folder (default: settings)")
    parser.set_defaults(handler=run_index)


def run_index(args: argparse.Namespace, settings: Settings) -> int:
    index_path = args.index or settings.index_path
    corpus_dir = corpus_folder(args.corpus or settings.corpus_dir, index_path)
    with tqdm(total=0, unit="report", disable=not sys.stderr.isatty(), leave=False) as bar:

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        try:
            summary = build_index(corpus_dir, index_path, analyzer_of(settings), progress)
        except (CorpusError, EmptyCorpus) as error:
            return fail(str(error))
        except OSError as error:
            return fail(f"cannot write the index at {index_path}: {error.strerror or error}")
    for warning in summary.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(
        f"indexed {summary.reports} reports, {summary.sentences} sentences, "
        f"{summary.terms} terms in {summary.seconds:.1f} s ({summary.analysed} files analysed, "
        f"{summary.kept} reports kept from the previous build) -> {index_path}"
    )
    return 0


@subcommand
def add_search(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = commands.add_parser("search", help="answer a question (or one per stdin line)")
    parser.add_argument("query", nargs="?", help="the question; omit with --json to read stdin")
    parser.add_argument("--top-k", type=positive_int, help="how many sentences (default: settings)")
    parser.add_argument("--json", action="store_true", help="print JSON objects")
    parser.add_argument("--index", type=existing_index, help="index folder (default: settings)")
    add_ranking(parser)
    parser.set_defaults(handler=run_search)


def add_ranking(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--ranking",
        choices=sorted(RANKINGS),
        help="report: weigh in each sentence's report; bm25: the sentence's BM25 alone "
        "(default: settings)",
    )


def run_search(args: argparse.Namespace, settings: Settings) -> int:
    searcher = open_or_build(args, settings)
    if searcher is None:
        return 1
    top_k = args.top_k or settings.top_k
    if args.query is not None:
        queries: Iterable[str] = [args.query]
    elif args.json:
        queries = (line.rstrip("\n") for line in sys.stdin if line.strip())
    else:
        return fail("give a QUERY, or use --json to read one query per line from stdin")
    render = json_line if args.json else format_result
    workers = 1 if args.query is not None else None  # one question: no worker to start
    for answer in search_many(searcher, queries, top_k, render, workers):
        print(answer, flush=True)
    return 0


def open_or_build(args: argparse.Namespace, settings: Settings) -> Searcher | None:
    """The index for one-off questions (``--index``, ``--ranking`` or the settings): built first
    when there is none or it cannot be served (another version, damaged files); a stale one is
    served with a note."""
    index_path = args.index or settings.index_path
    corpus_dir = corpus_folder(settings.corpus_dir, index_path)
    ranking = RANKINGS[args.ranking or settings.ranking]
    return _opened(
        lambda: open_searcher(corpus_dir, index_path, analyzer_of(settings), ranking),
        index_path,
    )


def _opened(open_index: Callable[[], tuple[Opened, list[str]]], index_path: Path) -> Opened | None:
    """What ``open_index`` opens, its notes (built, stale, rebuilt) on stderr; None after one line
    saying why the index cannot be had."""
    try:
        opened, notes = open_index()
    except (CorpusError, EmptyCorpus, IndexUnavailable) as error:
        fail(str(error))
        return None
    except OSError as error:
        fail(f"cannot use the index at {index_path}: {error.strerror or error}")
        return None
    for note in notes:
        print(note, file=sys.stderr)
    return opened


def json_line(result: SearchResult) -> str:
    return json.dumps(result_to_dict(result), ensure_ascii=False)


def format_result(result: SearchResult) -> str:
    """Readable text: words not found, whether the results are only the nearest sentences, then
    rank, score, citation, the sentence with matches in [brackets], its context."""
    lines = [f"? {result.query}"]
    if result.missing:
        lines.append(f"  not found: {', '.join(result.missing)}")
    if not result.hits:
        lines.append("  no answer in the reports")
    elif not result.confident:
        lines.append(f"  {text('nearest', 'zh')}")
    for hit in result.hits:
        marked = mark_spans(hit.sentence.text, hit.highlights, lambda words: f"[{words}]")
        meta = hit.report
        lines += [
            f"{hit.rank}. ({hit.score:.2f}) {meta.title or meta.file} | "
            f"{meta.date or 'date unknown'} ({meta.date_provenance}) | {meta.file}",
            f"   {marked}",
            f"   context: {hit.context}",
        ]
    return "\n".join(lines)


@subcommand
def add_eval(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = commands.add_parser(
        "eval",
        help="measure answer quality on labelled questions",
        description="Measure hit@1, hit@k, MRR and no-answer accuracy, overall and per category.",
        epilog=FILE_FORMAT,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("questions", type=Path, help="a JSONL file of labelled questions (below)")
    parser.add_argument("--top-k", type=positive_int, default=5)
    parser.add_argument("--index", type=existing_index, help="index folder (default: settings)")
    parser.add_argument("--verbose", action="store_true", help="list the questions missed")
    add_ranking(parser)
    parser.set_defaults(handler=run_eval)


def run_eval(args: argparse.Namespace, settings: Settings) -> int:
    try:
        questions = load_questions(args.questions)
    except (OSError, ValueError) as error:
        return fail(str(error))
    searcher = open_or_build(args, settings)
    if searcher is None:
        return 1
    unknown = unknown_files(questions, searcher)
    if unknown:
        return fail(f"{args.questions}: {unknown}")
    groups = evaluate(searcher, questions, top_k=args.top_k)
    if args.verbose:
        print("\n".join(groups["all"].failures))
    print(groups.pop("all").line("all"))
    for category in sorted(groups):
        print(groups[category].line(category))
    return 0


@subcommand
def add_health(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = commands.add_parser("health", help="check the index loads and answers (exit 0 or 1)")
    parser.add_argument("--index", type=Path, help="index folder (default: settings)")
    parser.set_defaults(handler=run_health)


def run_health(args: argparse.Namespace, settings: Settings) -> int:
    try:
        print(probe(args.index or settings.index_path, analyzer_of(settings)))
    except IndexUnavailable as error:
        print(f"unhealthy: {error}")
        return 1
    return 0


@subcommand
def add_run(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = commands.add_parser(
        "run", help="run the Telegram bot (long polling; webhook if REPORTS_BOT_WEBHOOK_URL is set)"
    )
    parser.set_defaults(handler=run_bot)


def run_bot(args: argparse.Namespace, settings: Settings) -> int:
    if settings.token is None or not settings.token.get_secret_value().strip():
        return fail(
            "no bot token: set REPORTS_BOT_TOKEN (in the environment or .env), "
            "or try the bot without one: reports-bot chat"
        )
    live = open_live_index(settings)
    if live is None:
        return 1
    from bot.app import run  # Telegram's library loads only for the commands that use it

    return run(settings, live)


@subcommand
def add_chat(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = commands.add_parser("chat", help="ask questions in the terminal, answered like the bot")
    parser.add_argument("--lang", choices=["zh", "en"], help="interface language (default: $LANG)")
    parser.set_defaults(handler=run_chat)


def run_chat(args: argparse.Namespace, settings: Settings) -> int:
    live = open_live_index(settings)
    if live is None:
        return 1
    lang = getattr(args, "lang", None) or language_of(os.environ.get("LANG"))
    chat(settings, live, lang, sys.stdin, sys.stdout)
    return 0


def open_live_index(settings: Settings) -> LiveIndex | None:
    """The index for a long session, following rebuilds; built first when there is none yet, and
    rebuilt first when the reports changed since it was built."""
    corpus_dir = corpus_folder(settings.corpus_dir, settings.index_path)
    ranking = RANKINGS[settings.ranking]
    return _opened(
        lambda: open_serving(corpus_dir, settings.index_path, analyzer_of(settings), ranking),
        settings.index_path,
    )


def analyzer_of(settings: Settings) -> Analyzer:
    """The analysis every command builds and searches with, configured by the settings."""
    return Analyzer(jieba_cache_dir=settings.jieba_cache_dir)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="reports-bot",
        description="Answer questions about a collection of reports, in Telegram or in the terminal.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for add_command in COMMANDS:
        add_command(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = Settings()
    except ValidationError as error:
        problems = "; ".join(
            f"REPORTS_BOT_{str(e['loc'][0]).upper()}: {e['msg']}" for e in error.errors()
        )
        return fail(f"bad setting: {problems} (set it in the environment or .env; "
                    "`reports-bot chat` needs no token)")
    command: Command | None = getattr(args, "handler", None)
    if command is None:
        # The main job: the bot when there is a token, otherwise the same answers in the terminal.
        has_token = settings.token is not None and settings.token.get_secret_value().strip()
        if not has_token:
            print("reports-bot: no REPORTS_BOT_TOKEN set: starting the terminal chat", file=sys.stderr)
        command = run_bot if has_token else run_chat
    try:
        return command(args, settings)
    except BrokenPipeError:
        return stop_writing()
    except KeyboardInterrupt:  # Ctrl-C: the user's way out, not an error to show a traceback for
        print(file=sys.stderr)
        return 130


def stop_writing() -> int:
    """The reader of stdout went away (`search ... | head -1`): stop quietly. Python would still
    fail to flush stdout at exit, so it is pointed at /dev/null first."""
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 1


if __name__ == "__main__":
    sys.exit(main())
