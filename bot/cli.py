"""The `reports-bot` command: parses arguments, loads settings and calls the library. No logic of its own."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from bot.settings import Settings

Command = Callable[[argparse.Namespace, Settings], int]


COMMANDS: list[Callable[[argparse._SubParsersAction], None]] = []
"""Each entry adds one subcommand to the parser and sets its ``handler``."""


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
    settings = Settings()
    command: Command | None = getattr(args, "handler", None)
    if command is None:
        parser.print_help()
        return 2
    return command(args, settings)


if __name__ == "__main__":
    sys.exit(main())
