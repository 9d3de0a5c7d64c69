"""Answering a question: the sentences that answer it, best first, each ready to cite."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import lru_cache, partial
from pathlib import Path

from index.text.analyzer import Analyzer, cjk_pairs, is_cjk
from index.models import Hit, IndexInfo, ReportSummary, SearchResult, Sentence
from index.text.query import Concept, QueryPlan, numeral_variants, plan_query, synonyms_of
from index.engine.ranking import REPORT_AWARE, Ranked, Ranker, RankingWeights, ReportLayout, leaves_out
from index.store.sentence_table import SentenceTable
from index.store.storage import StoredIndex, open_live

DUPLICATE_OVERLAP = 0.8
"""Share of the shorter sentence's character bigrams that another, better sentence must hold for
the shorter one to count as a repeat (a caption repeating the body, one slogan in two reports)."""

_PASSAGE_WINDOW = 40


class Searcher:
    """Searches one loaded index build. Cheap to query many times; holds no per-question state."""

    def __init__(
        self, stored: StoredIndex, analyzer: Analyzer, ranking: RankingWeights = REPORT_AWARE
    ) -> None:
        self._stored = stored
        self._analyzer = analyzer
        self.info: IndexInfo = stored.info
        self.reports: tuple[ReportSummary, ...] = tuple(
            ReportSummary(r.meta, r.sentence_count) for r in stored.reports
        )
        self._first_sentence = {r.meta.file: r.first_sentence for r in stored.reports}
        self._ranker = Ranker(
            stored.postings,
            ReportLayout.of([r.first_sentence for r in stored.reports], stored.postings),
            [r.title_terms for r in stored.reports],  # a few terms each: a tuple is searched fast
            stored.table.text_of,
            ranking,
        )
        self._folded_heading = lru_cache(maxsize=4096)(analyzer.fold)
        # A question's words recur across questions; looking one up is a binary search. (The
        # caches hold no reference to the searcher: a replaced index is freed at once.)
        self._term_id = lru_cache(maxsize=1 << 16)(
            lambda term: stored.postings.term_ids([term])[0]
        )
        self._found = lru_cache(maxsize=1 << 14)(partial(_held_anywhere, self._term_id))

    @classmethod
    def open(
        cls,
        index_path: Path,
        analyzer: Analyzer | None = None,
        ranking: RankingWeights = REPORT_AWARE,
    ) -> Searcher:
        """Open the live build at ``index_path``; IndexUnavailable says why it can't be served."""
        analyzer = analyzer or Analyzer()
        return cls(open_live(index_path, analyzer.settings), analyzer, ranking)

    @property
    def analyzer(self) -> Analyzer:
        return self._analyzer

    @property
    def build_dir(self) -> Path:
        return self._stored.build_dir

    def search(self, query: str, top_k: int = 5) -> SearchResult:
        """The best ``top_k`` sentences for ``query``; none when no word of it means anything here."""
        plan = plan_query(query, self._analyzer)
        content = _content_words(plan)
        absent = [c for c in content if not self._found(c.word)]
        missing = [c for c in absent if self._reportable(c.word)]
        shown_missing = tuple(_as_written(query, self._analyzer, c) for c in missing)
        if top_k < 1 or len(missing) == len(content):
            return SearchResult(query=query, hits=(), missing=shown_missing)
        found = [(term, self._term_id(term), weight) for term, weight in plan.terms]
        terms = [(term, term_id, weight) for term, term_id, weight in found if term_id is not None]
        # A few more than asked for, so that repeats can be dropped and top_k still remain.
        ranked = self._ranker.rank(terms, plan.concepts, plan.answer_type, top_k * 4 + 8)
        folded = _Folded(self._analyzer, self._stored.table)
        folded.fold_all(found.sentence for found in ranked[:top_k])
        ranked = _best_distinct(folded, ranked, top_k)
        hits = tuple(
            self._hit(rank, found, plan, folded, bool(absent))
            for rank, found in enumerate(ranked, start=1)
        )
        return SearchResult(query=query, hits=hits, missing=shown_missing)

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

    def _reportable(self, word: str) -> bool:
        """Whether a word may be named as missing: a word of the dictionaries, a number or a
        Latin word, not one that jieba's HMM made of characters it could not place (基是 in
        其基是什么), which would read as nonsense; its characters are searched all the same."""
        return self._analyzer.is_known_word(word) or not any(map(is_cjk, word))

    def _neighbours(self, sentence_id: int) -> range:
        """The sentence and those beside it in its report: its context, where in its paragraph."""
        report = self._stored.report_of(sentence_id)
        first, last = report.first_sentence, report.first_sentence + report.sentence_count - 1
        return range(max(first, sentence_id - 1), min(last, sentence_id + 1) + 1)

    def _hit(
        self, rank: int, found: Ranked, plan: QueryPlan, folded: _Folded, lacking: bool
    ) -> Hit:
        """One result; ``lacking``: the question has a word no sentence holds, so no sentence can
        answer all of it."""
        stored = self._stored
        sentence_id = found.sentence
        report = stored.report_of(sentence_id)
        sentence = stored.table.sentence(
            sentence_id, report.meta.file, sentence_id - report.first_sentence, report.sections
        )
        context = [i for i in self._neighbours(sentence_id)
                   if stored.table.paragraph_of(i) == sentence.paragraph]

        def passage() -> str:
            headings = [self._folded_heading(h) for h in (report.meta.title, sentence.section) if h]
            return " ".join(headings + [folded[i] for i in context])

        return Hit(
            rank=rank,
            score=found.score,
            bm25=found.bm25,
            report=report.meta,
            sentence=sentence,
            highlights=highlight_spans(sentence.text, plan, self._analyzer, folded[sentence_id]),
            context_before="".join(stored.table.text_of(i) for i in context if i < sentence_id),
            context_after="".join(stored.table.text_of(i) for i in context if i > sentence_id),
            partial=lacking or leaves_out(plan.concepts, plan.answer_type, passage, sentence.text),
        )


class _Folded(dict[int, str]):
    """Sentences' folded text by id, each folded once while one question is answered."""

    def __init__(self, analyzer: Analyzer, table: SentenceTable) -> None:
        super().__init__()
        self._analyzer = analyzer
        self._table = table

    def fold_all(self, sentence_ids: Iterable[int]) -> None:
        """Fold the sentences not folded yet, in one conversion (see ``Analyzer.fold_many``)."""
        todo = [i for i in dict.fromkeys(sentence_ids) if i not in self]
        texts = [self._table.text_of(i) for i in todo]
        self.update(zip(todo, self._analyzer.fold_many(texts)))

    def __missing__(self, sentence_id: int) -> str:
        text = self[sentence_id] = self._analyzer.fold(self._table.text_of(sentence_id))
        return text


def _held_anywhere(term_id: Callable[[str], int | None], word: str) -> bool:
    """Whether some sentence holds the word (广东省, not just 广东), one of its synonyms or
    numeral rewrites (十四家 -> 14家), or the pairs of its characters: a name that jieba cuts one
    way in the question and another in the reports (张定宇) is still found."""
    for form in [word, *numeral_variants(word), *synonyms_of(word)]:
        pairs = cjk_pairs(form)
        if term_id(form) is not None or (pairs and all(term_id(p) is not None for p in pairs)):
            return True
    return False


def _content_words(plan: QueryPlan) -> list[Concept]:
    """The question's words that can be missing: those that stand in no longer word, and of
    those the ones of two or more characters (a lone character is mostly a function word: 到, 做,
    给), unless the question has no other."""
    longer = [c for c in plan.concepts if len(c.word) > 1]
    return longer or list(plan.concepts)


def _as_written(question: str, analyzer: Analyzer, concept: Concept) -> str:
    """A word of the question as the user wrote it, in their script and case (folded where
    folding changed the question's length, so that positions no longer match)."""
    if len(analyzer.fold(question)) != len(question):
        return concept.word
    return question[concept.start : concept.end]


def _best_distinct(folded: _Folded, ranked: list[Ranked], k: int) -> list[Ranked]:
    """Walk the ranking and skip any sentence that repeats one already kept."""
    kept: list[Ranked] = []
    kept_pairs: list[set[str]] = []
    for found in ranked:
        pairs = _char_pairs(folded[found.sentence])
        if any(_is_repeat(pairs, other) for other in kept_pairs):
            continue
        kept.append(found)
        kept_pairs.append(pairs)
        if len(kept) == k:
            break
    return kept


def _char_pairs(text: str) -> set[str]:
    pairs = set(map(str.__add__, text, text[1:]))
    return {pair for pair in pairs if not pair.isspace()} if " " in text else pairs


def _is_repeat(pairs: set[str], other: set[str]) -> bool:
    shorter = min(len(pairs), len(other))
    return shorter > 0 and len(pairs & other) / shorter >= DUPLICATE_OVERLAP


def highlight_spans(
    text: str, plan: QueryPlan, analyzer: Analyzer, folded: str | None = None
) -> tuple[tuple[int, int], ...]:
    """Where the question's words (and their expansions) occur in ``text`` (``folded``: the text
    folded, when the caller has it), merged and sorted."""
    folded = analyzer.fold(text) if folded is None else folded
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
