"""Serving the newest good index while `reports-bot index` rebuilds it underneath a running bot."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from index.text.analyzer import Analyzer
from index.engine.ranking import REPORT_AWARE, RankingWeights
from index.search import Searcher
from index.store.storage import IndexUnavailable, LiveManifest, live_build, open_live

__all__ = ["IndexUnavailable", "LiveIndex"]

log = logging.getLogger(__name__)


Signature = tuple[tuple[str, int, int], ...] | None


def _signature(build_dir: Path) -> Signature:
    """Name, size and modification time of each file of a build; None when it cannot be listed."""
    try:
        return tuple(
            sorted((p.name, st.st_size, st.st_mtime_ns) for p in build_dir.iterdir() for st in [p.stat()])
        )
    except OSError:
        return None


class LiveIndex:
    """Hands out a Searcher for the live build, switching to a new build on the next question after
    it is published. A new build that fails to open is logged once and the old one kept. A build is
    held in memory once opened, so when the files of the build being served are damaged on disk it
    goes on answering from its copy and logs the damage once."""

    def __init__(
        self,
        index_path: Path,
        analyzer: Analyzer | None = None,
        ranking: RankingWeights = REPORT_AWARE,
        *,
        known: LiveManifest | None = None,
    ) -> None:
        """Open the live build (``known``: its manifest, when already read)."""
        self.index_path = index_path
        self._analyzer = analyzer or Analyzer()
        self._ranking = ranking
        # Load jieba's dictionary (Python, on one core) while the build is read and checksummed
        # (which leaves the GIL), so that neither the start nor the first question waits for both.
        warming = threading.Thread(target=self._analyzer.warm_up, name="warm-up", daemon=True)
        warming.start()
        try:
            self._searcher = self._open(known)
        finally:
            warming.join()
        self._loaded = _signature(self._searcher.build_dir)
        self._damage_logged: Signature = self._loaded
        self._refused: Path | None = None
        self._switching = threading.Lock()

    def _open(self, known: LiveManifest | None) -> Searcher:
        stored = open_live(self.index_path, self._analyzer.settings, known)
        return Searcher(stored, self._analyzer, self._ranking)

    def current(self) -> Searcher:
        """The searcher for the live build; costs a readlink and a listing when nothing changed.
        Safe to call from worker threads (the bot does, so that loading a new build never holds up
        its event loop); one thread loads a new build while the others wait for it."""
        with self._switching:
            return self._current()

    def _current(self) -> Searcher:
        try:
            build = live_build(self.index_path)
        except IndexUnavailable as error:
            self._log_refusal(None, str(error))
            return self._searcher
        if build != self._searcher.build_dir and build != self._refused:
            try:
                searcher = self._open(None)
            except IndexUnavailable as error:
                self._log_refusal(build, str(error))
            else:
                log.info("now serving the index built at %s", searcher.info.built_at)
                self._searcher = searcher
                self._loaded = self._damage_logged = _signature(searcher.build_dir)
                self._refused = None
        elif build == self._searcher.build_dir:
            self._check_files()
        return self._searcher

    def _check_files(self) -> None:
        on_disk = _signature(self._searcher.build_dir)
        if on_disk != self._loaded and on_disk != self._damage_logged:
            log.error(
                "the files of the index being served (%s) changed on disk since it was loaded: "
                "answering from the copy in memory; rebuild it with `reports-bot index`",
                self._searcher.build_dir,
            )
        self._damage_logged = on_disk

    def _log_refusal(self, build: Path | None, reason: str) -> None:
        if build is None or build != self._refused:
            log.error("keeping the index built at %s: %s", self._searcher.info.built_at, reason)
        self._refused = build
