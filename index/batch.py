"""Answering a stream of questions on every core: a script that pipes in thousands of questions
waits for the slowest part of a question (Python, one core at a time), not for the machine.

Workers are forked once the index is loaded, so they share its arrays with the parent page for
page; each answers whole questions, and the answers come back in the order the questions came."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

from index.models import SearchResult
from index.search import Searcher

Rendered = TypeVar("Rendered")

_work: Callable[[str], object] | None = None
"""What a forked worker does with a question: answer it and render the answer."""


def search_many(
    searcher: Searcher,
    questions: Iterable[str],
    top_k: int,
    render: Callable[[SearchResult], Rendered],
    workers: int | None = None,
) -> Iterator[Rendered]:
    """``render(searcher.search(question, top_k))`` of each question, in order, on ``workers``
    processes (default: every core); rendering in the worker keeps what travels back small.
    Questions are read as they come, one at a time, so a caller that waits for each answer
    before it writes the next question gets it."""
    def work(question: str) -> Rendered:
        return render(searcher.search(question, top_k))

    workers = workers or available_cores()
    if workers < 2 or "fork" not in multiprocessing.get_all_start_methods():
        yield from map(work, questions)
        return
    global _work
    _work = work
    try:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            yield from pool.imap(_in_worker, questions)
    finally:
        _work = None


def available_cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _in_worker(question: str) -> object:
    assert _work is not None, "only a forked worker answers"
    return _work(question)
