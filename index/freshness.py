"""Is the index still a picture of the corpus folder? Which reports were added, changed or removed?"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from index.text.analyzer import Analyzer
from index.build import build_index, file_hashes
from index.errors import CorpusError
from index.live import LiveIndex
from index.engine.ranking import REPORT_AWARE, RankingWeights
from index.search import Searcher
from index.store.storage import (
    IndexUnavailable,
    LiveManifest,
    fingerprint,
    live_build,
    live_manifest,
    open_live,
    read_manifest,
)


Opened = TypeVar("Opened")

DEFAULT_CORPUS = Path("corpus")
"""The corpus folder when none is chosen and no index records one."""
REBUILD_RETRY_SECONDS = 300.0
"""How often a rebuild that could not be written (a full disk, a read-only folder) is tried
again while the index as it was built keeps serving."""

logger = logging.getLogger(__name__)


def built_from(index_path: Path) -> Path | None:
    """The corpus folder the live build was made from, as its manifest records it (None when there
    is no build, or it predates the record)."""
    try:
        folder = read_manifest(live_build(index_path)).get("corpus_dir")
    except IndexUnavailable:
        return None
    return Path(folder) if isinstance(folder, str) else None


def corpus_folder(chosen: Path | None, index_path: Path) -> Path:
    """The corpus folder to read: the one chosen (a flag or setting), else the one the index was
    built from, so that `index --corpus DIR` is not undone by the next command, else ``corpus``."""
    return chosen or built_from(index_path) or DEFAULT_CORPUS


@dataclass(frozen=True)
class CorpusChanges:
    """Files of the corpus folder that differ from what the index was built from."""

    added: tuple[str, ...]
    changed: tuple[str, ...]
    removed: tuple[str, ...]

    def __bool__(self) -> bool:
        return bool(self.added or self.changed or self.removed)

    def describe(self) -> str:
        parts = [
            f"{label}: {', '.join(names)}"
            for label, names in (("added", self.added), ("changed", self.changed),
                                 ("removed", self.removed))
            if names
        ]
        return "; ".join(parts) or "no changes"


def corpus_changes(corpus_dir: Path, manifest: dict[str, object]) -> CorpusChanges:
    """Compare the corpus folder now with the file hashes an index manifest recorded."""
    now = file_hashes(corpus_dir)
    built = manifest.get("corpus_files")
    if not isinstance(built, dict):
        built = {}
    if fingerprint(now) == manifest.get("corpus_fingerprint"):
        return CorpusChanges((), (), ())
    return CorpusChanges(
        added=tuple(sorted(set(now) - set(built))),
        changed=tuple(sorted(n for n in set(now) & set(built) if now[n] != built[n])),
        removed=tuple(sorted(set(built) - set(now))),
    )


def prepare_index(
    corpus_dir: Path, index_path: Path, rebuild_if_stale: bool, analyzer: Analyzer | None = None
) -> list[str]:
    """Make sure there is an index this program can serve: build it when there is none or when the
    one there cannot be served (another format or analysis, unfinished); when the corpus has changed
    since the build, rebuild it (``rebuild_if_stale``) or say so. Returns what happened, for the
    log. Only the manifest is read: arrays damaged on disk are found when the index is opened.

    Raises CorpusError or EmptyCorpus when no index can be built."""
    try:
        live = live_manifest(index_path, (analyzer or Analyzer()).settings)
    except IndexUnavailable as unusable:
        return _build_unservable(unusable, corpus_dir, index_path, analyzer)
    return _refresh(live.manifest, corpus_dir, index_path, rebuild_if_stale, analyzer)


def _build_unservable(
    unusable: IndexUnavailable, corpus_dir: Path, index_path: Path, analyzer: Analyzer | None
) -> list[str]:
    """Build the index that is missing or cannot be served (``unusable`` says why)."""
    if not corpus_dir.is_dir():
        raise _nothing_to_build_from(unusable, corpus_dir, index_path) from None
    if (index_path / "current").exists():
        notes = [f"{unusable}; rebuilding it from {corpus_dir}"]
    else:
        notes = [f"no index at {index_path} yet: building it from {corpus_dir}"]
    build_index(corpus_dir, index_path, analyzer)
    return notes


def _refresh(
    manifest: dict[str, object],
    corpus_dir: Path,
    index_path: Path,
    rebuild_if_stale: bool,
    analyzer: Analyzer | None,
) -> list[str]:
    """Compare a servable index (its ``manifest``) with the corpus folder, and rebuild it when it
    is stale and ``rebuild_if_stale``, or say so."""
    notes: list[str] = []
    if not corpus_dir.is_dir():
        notes.append(f"corpus folder {corpus_dir} not found: serving the index as it was built")
        return notes
    built = manifest.get("corpus_dir")
    if isinstance(built, str) and Path(built) != corpus_dir.resolve():
        # Another folder is a choice the user made: rebuild from it when serving, never silently.
        if not rebuild_if_stale:
            notes.append(f"the index was built from {built}, not {corpus_dir}: "
                         f"run `reports-bot index --corpus {corpus_dir}`")
            return notes
        notes.append(f"the index was built from {built}: rebuilding it from {corpus_dir}")
        return notes + _rebuild_or_keep(corpus_dir, index_path, analyzer)
    changes = corpus_changes(corpus_dir, manifest)
    if not changes:
        return notes
    if not rebuild_if_stale:
        notes.append(f"the index is stale ({changes.describe()}): run `reports-bot index`")
        return notes
    notes.append(f"the corpus changed since the index was built ({changes.describe()}): rebuilding")
    return notes + _rebuild_or_keep(corpus_dir, index_path, analyzer)


def _rebuild_or_keep(corpus_dir: Path, index_path: Path, analyzer: Analyzer) -> list[str]:
    """Rebuild a stale index; when the new one cannot be written, the stale one is still a good
    index: it keeps serving and the rebuild is tried again in the background until it works."""
    try:
        build_index(corpus_dir, index_path, analyzer)
    except OSError as error:
        retry = threading.Thread(target=_retry_rebuild, args=(corpus_dir, index_path, analyzer),
                                 name="rebuild-retry", daemon=True)
        retry.start()
        return [f"the new index could not be written ({error.strerror or error}): serving the index "
                f"as it was built, trying again every {REBUILD_RETRY_SECONDS:g} s"]
    return []


def _retry_rebuild(corpus_dir: Path, index_path: Path, analyzer: Analyzer) -> None:
    """Try the rebuild every REBUILD_RETRY_SECONDS until it is written; a LiveIndex serving the
    old build switches to it at its next question."""
    while True:
        time.sleep(REBUILD_RETRY_SECONDS)
        try:
            build_index(corpus_dir, index_path, analyzer)
        except OSError as error:
            logger.warning("the index still cannot be written: %s", error.strerror or error)
        else:
            logger.info("the index was rebuilt from %s", corpus_dir)
            return


def _nothing_to_build_from(
    unusable: IndexUnavailable, corpus_dir: Path, index_path: Path
) -> CorpusError:
    """Why there is no index and none can be built: said before anything is written, so that a
    command run in the wrong folder leaves no empty index folder behind."""
    problem = str(unusable) if (index_path / "current").exists() else f"no index at {index_path}"
    return CorpusError(
        f"{problem}, and no corpus folder {corpus_dir} to build one from: "
        "run `reports-bot index --corpus DIR`"
    )


def open_serving(
    corpus_dir: Path,
    index_path: Path,
    analyzer: Analyzer | None = None,
    ranking: RankingWeights = REPORT_AWARE,
) -> tuple[LiveIndex, list[str]]:
    """The index for a long session (the bot, the terminal chat), rebuilt first when the corpus
    changed; a rebuild made while it loaded is switched to before the first question."""
    analyzer = analyzer or Analyzer()
    live, notes = _open_fresh(
        lambda known: LiveIndex(index_path, analyzer, ranking, known=known),
        corpus_dir, index_path, True, analyzer,
    )
    live.current()
    return live, notes


def open_searcher(
    corpus_dir: Path,
    index_path: Path,
    analyzer: Analyzer | None = None,
    ranking: RankingWeights = REPORT_AWARE,
) -> tuple[Searcher, list[str]]:
    """The index for one-off questions (`search`, `eval`): a stale one is served as it is, with a
    note saying so."""
    analyzer = analyzer or Analyzer()

    def open_index(known: LiveManifest | None) -> Searcher:
        return Searcher(open_live(index_path, analyzer.settings, known), analyzer, ranking)

    return _open_fresh(open_index, corpus_dir, index_path, False, analyzer)


def _open_fresh(
    open_index: Callable[[LiveManifest | None], Opened],
    corpus_dir: Path,
    index_path: Path,
    rebuild_if_stale: bool,
    analyzer: Analyzer,
) -> tuple[Opened, list[str]]:
    """``prepare_index``, then ``open_index``; an index whose files turn out damaged is rebuilt.

    The live manifest is read once, both to tell whether the index is stale and to open it. When
    the index can be served, it is loaded while the corpus folder is hashed to tell whether it is
    stale (both mostly outside the GIL), since it nearly always is not."""
    try:
        live = live_manifest(index_path, analyzer.settings)
    except IndexUnavailable as unusable:
        notes = _build_unservable(unusable, corpus_dir, index_path, analyzer)
        return _open_or_rebuild(open_index, None, corpus_dir, index_path, analyzer, notes)
    with ThreadPoolExecutor(1) as pool:
        checking = pool.submit(
            _refresh, live.manifest, corpus_dir, index_path, rebuild_if_stale, analyzer
        )
        opened, notes = _open_or_rebuild(open_index, live, corpus_dir, index_path, analyzer, [])
        return opened, checking.result() + notes


def _open_or_rebuild(
    open_index: Callable[[LiveManifest | None], Opened],
    known: LiveManifest | None,
    corpus_dir: Path,
    index_path: Path,
    analyzer: Analyzer,
    notes: list[str],
) -> tuple[Opened, list[str]]:
    """``open_index(known)``; when its files turn out damaged, rebuild it and open the new one."""
    try:
        return open_index(known), notes
    except IndexUnavailable as damaged:
        notes.append(f"{damaged}; rebuilding it from {corpus_dir}")
        build_index(corpus_dir, index_path, analyzer)
        return open_index(None), notes
