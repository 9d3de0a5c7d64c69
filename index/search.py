"""Answering a question: the sentences that answer it, best first, each ready to cite."""

from __future__ import annotations

from pathlib import Path

from index.analysis import Analyzer
from index.models import Hit, IndexInfo, ReportSummary, SearchResult, Sentence
from index.query import QueryPlan, numeral_variants, plan_query, synonyms_of
from index.storage import StoredIndex, open_live

DUPLICATE_OVERLAP = 0.8
"""Share of the shorter sentence's character bigrams that another, better sentence must hold for
the shorter one to count as a repeat (a caption repeating the body, one slogan in two reports)."""

_PASSAGE_WINDOW = 40


class Searcher:
    """Searches one loaded index build. Cheap to query many times; holds no per-question state."""

    def __init__(self, stored: StoredIndex, analyzer: Analyzer) -> None:
        self._stored = stored
        self._analyzer = analyzer
        self.info: IndexInfo = stored.info
        self.reports: tuple[ReportSummary, ...] = tuple(
            ReportSummary(r.meta, r.sentence_count) for r in stored.reports
        )
        self._first_sentence = {r.meta.file: r.first_sentence for r in stored.reports}

    @classmethod
    def open(cls, index_path: Path, analyzer: Analyzer | None = None) -> Searcher:
        """Open the live build at ``index_path``; IndexUnavailable says why it can't be served."""
        analyzer = analyzer or Analyzer()
        return cls(open_live(index_path, analyzer.settings), analyzer)

    @property
    def analyzer(self) -> Analyzer:
        return self._analyzer

    @property
    def build_dir(self) -> Path:
        return self._stored.build_dir

    def search(self, query: str, top_k: int = 5) -> SearchResult:
        """The best ``top_k`` sentences for ``query``; none when no word of it means anything here."""
        plan = plan_query(query, self._analyzer)
        missing = self._missing_words(plan)
        if top_k < 1 or len(missing) == len(_top_level(plan.words)):
            return SearchResult(query=query, hits=(), missing=tuple(missing))
        postings = self._stored.postings
        term_ids = postings.term_ids(term for term, _ in plan.terms)
        weighted = [(tid, w) for tid, (_, w) in zip(term_ids, plan.terms) if tid is not None]
        # A few more than asked for, so that repeats can be dropped and top_k still remain.
        ranked = postings.best(weighted, top_k * 4 + 8)
        ranked = _best_distinct(self._stored, self._analyzer, ranked, top_k)
        hits = tuple(
            self._hit(rank, sentence_id, score, plan)
            for rank, (sentence_id, score) in enumerate(ranked, start=1)
        )
        return SearchResult(query=query, hits=hits, missing=tuple(missing))

    def sample_question(self) -> str:
        """Something the index must answer: its first sentence."""
        return self._stored.sentence(0).text

    def passage(self, sentence: Sentence) -> str:
        """The whole paragraph ``sentence`` stands in."""
        sentence_id = self._sentence_id(sentence)
        window = self._stored.sentences(
            max(0, sentence_id - _PASSAGE_WINDOW), sentence_id + _PASSAGE_WINDOW
        )
        return "".join(
            s.text for s in window if s.file == sentence.file and s.paragraph == sentence.paragraph
        )

    def _sentence_id(self, sentence: Sentence) -> int:
        return self._first_sentence[sentence.file] + sentence.position

    def _missing_words(self, plan: QueryPlan) -> list[str]:
        """The question's words that no sentence holds, whole words only (广东省, not also 广东).

        A word counts as held when all its terms are (so a name jieba never met is found through
        its characters), or when one of its synonyms or numeral rewrites (十四家 -> 14家) is."""
        return [
            word
            for word in _top_level(plan.words)
            if not any(
                self._holds(form)
                for form in [word, *numeral_variants(word), *synonyms_of(word)]
            )
        ]

    def _holds(self, text: str) -> bool:
        terms = self._analyzer.terms(text)
        return bool(terms) and None not in self._stored.postings.term_ids(terms)

    def _hit(self, rank: int, sentence_id: int, score: float, plan: QueryPlan) -> Hit:
        stored = self._stored
        report = stored.report_of(sentence_id)
        first = report.first_sentence
        last = first + report.sentence_count - 1
        around = stored.sentences(max(first, sentence_id - 1), min(last, sentence_id + 1))
        sentence = next(s for s in around if s.position == sentence_id - first)
        before = [s for s in around if s.position < sentence.position and s.paragraph == sentence.paragraph]
        after = [s for s in around if s.position > sentence.position and s.paragraph == sentence.paragraph]
        return Hit(
            rank=rank,
            score=score,
            report=report.meta,
            sentence=sentence,
            highlights=highlight_spans(sentence.text, plan, self._analyzer),
            context_before="".join(s.text for s in before),
            context_after="".join(s.text for s in after),
        )


def _best_distinct(
    stored: StoredIndex, analyzer: Analyzer, ranked: list[tuple[int, float]], k: int
) -> list[tuple[int, float]]:
    """Walk the ranking and skip any sentence that repeats one already kept."""
    kept: list[tuple[int, float]] = []
    kept_pairs: list[set[str]] = []
    for sentence_id, score in ranked:
        pairs = _char_pairs(analyzer.fold(stored.sentence(sentence_id).text))
        if any(_is_repeat(pairs, other) for other in kept_pairs):
            continue
        kept.append((sentence_id, score))
        kept_pairs.append(pairs)
        if len(kept) == k:
            break
    return kept


def _char_pairs(text: str) -> set[str]:
    return {text[i : i + 2] for i in range(len(text) - 1) if not text[i : i + 2].isspace()}


def _is_repeat(pairs: set[str], other: set[str]) -> bool:
    shorter = min(len(pairs), len(other))
    return shorter > 0 and len(pairs & other) / shorter >= DUPLICATE_OVERLAP


def _top_level(words: list[str] | tuple[str, ...]) -> list[str]:
    """Drop words that stand inside a longer word of the same list."""
    return [w for w in words if not any(w != other and w in other for other in words)]


def highlight_spans(text: str, plan: QueryPlan, analyzer: Analyzer) -> tuple[tuple[int, int], ...]:
    """Where the question's words (and their expansions) occur in ``text``, merged and sorted."""
    folded = analyzer.fold(text)
    if len(folded) != len(text):
        folded = "".join(analyzer.fold(char)[:1] or " " for char in text)
    needles = [w for w in plan.words if len(w) > 1] or list(plan.words)
    needles += [e for e in plan.expansions if len(e) > 1]
    spans = []
    for needle in needles:
        start = folded.find(needle)
        while start != -1:
            spans.append((start, start + len(needle)))
            start = folded.find(needle, start + 1)
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return tuple(merged)
