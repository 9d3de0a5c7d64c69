"""Serving the newest good index while `reports-bot index` rebuilds it underneath a running bot."""

from __future__ import annotations

import logging
from pathlib import Path

from index.analysis import Analyzer
from index.search import Searcher
from index.storage import IndexUnavailable, live_build

__all__ = ["IndexUnavailable", "LiveIndex"]

log = logging.getLogger(__name__)


class LiveIndex:
    """Hands out a Searcher for the live build, switching to a new build on the next question after
    it is published. A new build that fails to open is logged once and the old one kept."""

    def __init__(self, index_path: Path, analyzer: Analyzer | None = None) -> None:
        self.index_path = index_path
        self._analyzer = analyzer or Analyzer()
        self._searcher = Searcher.open(index_path, self._analyzer)
        self._refused: Path | None = None
        self._analyzer.warm_up()  # so that the first question does not wait for jieba

    def current(self) -> Searcher:
        """The searcher for the live build; costs one readlink when nothing changed."""
        try:
            build = live_build(self.index_path)
        except IndexUnavailable as error:
            self._log_refusal(None, str(error))
            return self._searcher
        if build != self._searcher.build_dir and build != self._refused:
            try:
                searcher = Searcher.open(self.index_path, self._analyzer)
            except IndexUnavailable as error:
                self._log_refusal(build, str(error))
            else:
                log.info("now serving the index built at %s", searcher.info.built_at)
                self._searcher = searcher
                self._refused = None
        return self._searcher

    def _log_refusal(self, build: Path | None, reason: str) -> None:
        if build is None or build != self._refused:
            log.error("keeping the index built at %s: %s", self._searcher.info.built_at, reason)
        self._refused = build
