"""Reading reports, analysing their sentences and answering questions with a BM25 index.

Nothing here knows about Telegram: the bot and the CLI render what this package returns, and
import it only from here. The subpackages, in the order a report travels through them:

- ``ingest``: report files to sentences with their report's title, source and date;
- ``text``: sentences and questions to terms (the same analyzer for both);
- ``engine``: terms to postings, and a question's terms to ranked sentences;
- ``store``: a build on disk, published atomically, and the analysis cache that makes rebuilds
  quick.

On top of them: ``build`` (corpus folder to live index), ``search`` (question to cited answers),
``live`` and ``freshness`` (serving an index that follows its corpus), ``batch``, ``health`` and
``evaluation``.
"""

from index.batch import search_many
from index.build import EmptyCorpus, build_index
from index.engine.ranking import RANKINGS
from index.errors import CorpusError
from index.evaluation import FILE_FORMAT, evaluate, load_questions, unknown_files
from index.freshness import corpus_folder, open_searcher, open_serving
from index.health import probe
from index.ingest.pipeline import load_corpus
from index.live import LiveIndex
from index.models import Hit, IndexInfo, ReportMeta, ReportSummary, SearchResult, result_to_dict
from index.search import Searcher
from index.store.storage import IndexUnavailable
from index.text.analyzer import Analyzer

__all__ = [
    "FILE_FORMAT", "RANKINGS", "Analyzer", "CorpusError", "EmptyCorpus", "Hit", "IndexInfo",
    "IndexUnavailable", "LiveIndex", "ReportMeta", "ReportSummary", "SearchResult", "Searcher",
    "build_index", "corpus_folder", "evaluate", "load_corpus", "load_questions", "open_searcher",
    "open_serving", "probe", "result_to_dict", "search_many", "unknown_files",
]
