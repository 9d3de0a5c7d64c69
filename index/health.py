"""A health probe for orchestrators: does the live index load and answer a question?"""

from __future__ import annotations

import time
from pathlib import Path

from index.search import Searcher
from index.text.analyzer import Analyzer
from index.store.storage import IndexUnavailable


def probe(index_path: Path, analyzer: Analyzer | None = None) -> str:
    """Open the live index and ask it a question it must answer (its first sentence). Returns one
    line for the log; raises IndexUnavailable saying what failed."""
    started = time.perf_counter()
    searcher = Searcher.open(index_path, analyzer)
    result = searcher.search(searcher.sample_question(), top_k=1)
    if not result.hits:
        raise IndexUnavailable("the index loads but answered nothing to the probe question")
    info = searcher.info
    elapsed_ms = (time.perf_counter() - started) * 1000
    return (
        f"healthy: {info.reports} reports, {info.sentences} sentences, built {info.built_at}; "
        f"loaded and answered in {elapsed_ms:.0f} ms"
    )
