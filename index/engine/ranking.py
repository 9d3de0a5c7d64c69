"""Ranking sentences with what a sentence-level index loses: the report each sentence stands in.

BM25 (``index.engine.postings``, exactly rank_bm25's) scores a sentence on its own words. But a report names
its subject in its title and first sentences and then writes about it without naming it again, and
a question's answer is a sentence in the report that is about the question. Measured on public
reading-comprehension sets (see the README), the answer sentence usually sits at rank 2 in the
right report under BM25, beneath a short sentence that only names the subject. So the final score
of a candidate sentence s of report r is

    (bm25(s) + title(s) + PRIOR * report(r)) * coverage(s) * answer_type(s)

- title(s): a question term that s lacks but r's title holds counts as if s held it once, at the
  average sentence length: the title names what every sentence of the report is about.
- report(r): BM25 over reports, a prior for the report as a whole: term frequency is how many of
  r's sentences hold the term, length is r's length in terms, idf is Lucene's (never negative)
  over how many reports hold the term.
- coverage(s): the share of the question's words (weighted by idf) that s or r's title holds; a
  word held only in part (a sub-word, a character pair) counts PART. BM25 adds up what matches,
  so a sentence repeating the subject's name can outscore one holding the rest of the question.
- answer_type(s): when the question asks for a year, a date or a number and s writes none, it
  counts less: it cannot be the answer.

Candidates are the best sentences by BM25 and every sentence of the reports whose prior is highest
(a sentence that does not repeat the subject has a low BM25 but may be the answer).
"""

from __future__ import annotations

import bisect
import operator
import re
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from functools import reduce
from typing import NamedTuple

import numpy as np

from index.engine.postings import K1, Postings, term_score
from index.text.query import AnswerType, Concept

_WRITES = {
    "year": re.compile(r"[0-9０-９]{2,4}\s*年|[〇零一二三四五六七八九十百千]+年|[0-9０-９]{3,4}|年代|世[纪紀]"),
    "time": re.compile(
        r"[0-9０-９]+\s*[年月日号號]|[〇零一二三四五六七八九十]+[年月日]|[0-9０-９]{3,4}|年代|世[纪紀]"
        r"|[前后後初末中]期|朝|[时時]期|[时時]代"
    ),
    "money": re.compile(
        r"[0-9０-９一二三四五六七八九十百千万萬亿億两兩]\s*(?:[万萬亿億千百])?(?:元|块|塊|美元|港元|欧元|歐元|英镑|英鎊|日元)|[¥￥$]"
    ),
    "number": re.compile(
        r"[0-9０-９]|[一二三四五六七八九十百千万萬两兩]+"
        r"(?:[个個名人家种種次座所条條位项項年倍成岁歲米亿億万萬千百十]|公里)"
    ),
}
"""What a sentence that can answer each kind of question writes (in either script)."""
_NUMBER = re.compile(r"[0-9]|[一二三四五六七八九十百千万两]{2,}|[十百千万]")


@dataclass(frozen=True)
class RankingWeights:
    """How much each signal counts; ``BM25_ONLY`` turns them all off (BM25 alone decides)."""

    title: float = 1.0
    prior: float = 1.0
    coverage: bool = True
    part: float = 0.7
    answer_type: float = 0.3
    """How much less a sentence counts when it writes no date or number the question asks for."""
    year: float = 0.7
    """The same for a question asking for a year (哪一年) and a sentence writing no year."""
    prior_k1: float = 2.0
    prior_b: float = 0.75
    whole_reports: int = 2
    """How many of the best reports (by prior) have all their sentences ranked."""
    first_stage: int = 32
    """How many sentences BM25 proposes."""

    @property
    def report_aware(self) -> bool:
        return bool(self.title or self.prior or self.coverage or self.answer_type)


BM25_ONLY = RankingWeights(
    title=0.0, prior=0.0, coverage=False, answer_type=0.0, year=0.0, whole_reports=0
)
REPORT_AWARE = RankingWeights()
RANKINGS = {"report": REPORT_AWARE, "bm25": BM25_ONLY}
"""The rankings by the names the settings and the command line use."""


class Ranked(NamedTuple):
    """One ranked sentence: its final score and its BM25 score."""

    sentence: int
    score: float
    bm25: float


@dataclass(frozen=True)
class ReportLayout:
    """Where each report's sentences are (``starts``, ascending) and how long it is in terms."""

    starts: np.ndarray
    ends: np.ndarray
    lengths: np.ndarray

    @classmethod
    def of(cls, starts: Sequence[int], postings: Postings) -> ReportLayout:
        starts_array = np.asarray(starts, dtype=np.int64)
        ends = np.append(starts_array[1:], postings.sentence_count)
        lengths = np.add.reduceat(postings.doc_len.astype(np.int64), starts_array) if len(
            starts_array) else np.empty(0, dtype=np.int64)
        return cls(starts_array, ends, lengths.astype(np.float64))

    def report_of(self, sentences: np.ndarray) -> np.ndarray:
        return np.searchsorted(self.starts, sentences, side="right") - 1


class Ranker:
    """Ranks candidate sentences of one build. ``titles[report]`` are the terms of a report's
    title; ``text_of(sentence)`` a sentence's text."""

    def __init__(
        self,
        postings: Postings,
        layout: ReportLayout,
        titles: Sequence[Collection[str]],
        text_of: Callable[[int], str],
        weights: RankingWeights,
    ) -> None:
        self._postings = postings
        self._layout = layout
        self._titles = titles
        self._text_of = text_of
        self.weights = weights
        self._mean_report_length = float(layout.lengths.mean()) if len(layout.lengths) else 1.0

    def rank(
        self,
        terms: Sequence[tuple[str, int, float]],
        concepts: Sequence[Concept],
        answer_type: AnswerType | None,
        k: int,
    ) -> list[Ranked]:
        """The k best sentences for ``terms`` (text, term id, weight), best first; equal scores in
        sentence order."""
        postings, weights = self._postings, self.weights
        weighted = [(term_id, weight) for _, term_id, weight in terms]
        if not weights.report_aware:
            return [Ranked(s, score, score) for s, score in postings.best(weighted, k)]
        first = postings.best(weighted, max(k, weights.first_stage))
        if not first:
            return []
        proposed = np.fromiter((s for s, _ in first), dtype=np.int64, count=len(first))
        reports = np.unique(self._layout.report_of(proposed))
        prior = self._report_scores(weighted, reports)
        whole = reports[np.argsort(-prior, kind="stable")[: weights.whole_reports]].tolist()
        layout = self._layout
        candidates = np.union1d(
            proposed, np.concatenate([np.arange(layout.starts[r], layout.ends[r]) for r in whole]
                                     + [proposed[:0]]),
        )
        held, parts = self._parts(weighted, candidates)
        bm25 = np.zeros(len(candidates))
        for row in parts:  # in query order, as rank_bm25 adds them
            bm25 += row
        of = np.searchsorted(reports, layout.report_of(candidates))  # into ``reports``
        in_title = self._in_title([text for text, _, _ in terms], reports)[:, of]
        holds_some = (held | in_title).any(axis=0)  # a sentence of a good report that is off topic: out
        score = np.where(holds_some, bm25 + self._title_credit(weighted, parts, in_title), 0.0)
        score += weights.prior * prior[of] * holds_some
        if weights.coverage:
            score *= coverage(concepts, [t for t, _, _ in terms], held | in_title, self._idf(terms),
                              weights.part)
        if answer_type and weights.answer_type:
            return self._best_of_type(answer_type, candidates, score, bm25, k)
        order = np.lexsort((candidates, -score))[:k]
        order = order[score[order] > 0]
        return list(map(Ranked, candidates[order].tolist(), score[order].tolist(),
                        bm25[order].tolist()))

    def _best_of_type(
        self,
        answer_type: AnswerType,
        candidates: np.ndarray,
        score: np.ndarray,
        bm25: np.ndarray,
        k: int,
    ) -> list[Ranked]:
        """The k best once sentences that write no answer of the type asked for count less.
        Reading a sentence's text costs, so they are read best first, and only until the k-th
        best adjusted score is known to beat what any unread one could reach."""
        writes = _WRITES[answer_type]
        lower = 1 - (self.weights.year if answer_type == "year" else self.weights.answer_type)
        adjusted: list[tuple[float, int, int]] = []  # (-score, sentence, position), best first
        for i in np.lexsort((candidates, -score)).tolist():
            if score[i] <= 0 or (len(adjusted) >= k and adjusted[k - 1][0] < -score[i]):
                break  # from here on no sentence can reach the k-th best
            factor = 1.0 if writes.search(self._text_of(int(candidates[i]))) else lower
            bisect.insort(adjusted, (-score[i] * factor, int(candidates[i]), i))
        return [Ranked(sentence, -negative, float(bm25[i])) for negative, sentence, i in adjusted[:k]]

    def _parts(
        self, weighted: Sequence[tuple[int, float]], candidates: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Per query term and candidate: whether the candidate holds the term, and what the term
        adds to its BM25 score (a term frequency of 0 adds 0, as in rank_bm25)."""
        postings = self._postings
        tf = np.zeros((len(weighted), len(candidates)))
        for row, (term_id, _) in enumerate(weighted):
            slot, found = postings.find(term_id, candidates)
            tf[row, slot] = found
        ids = [term_id for term_id, _ in weighted]
        weights = np.asarray([weight for _, weight in weighted])
        parts = term_score(postings.idf[ids][:, None], weights[:, None], tf,
                           postings.length_norm[candidates])
        return tf > 0, parts

    def _in_title(self, texts: Sequence[str], reports: np.ndarray) -> np.ndarray:
        """Per query term and report of ``reports``: whether the report's title holds it."""
        titles = [self._titles[report] for report in reports.tolist()]
        holds = [[text in title for title in titles] for text in texts]
        return np.asarray(holds, dtype=bool).reshape(len(texts), len(titles))

    def _title_credit(
        self, weighted: Sequence[tuple[int, float]], parts: np.ndarray, in_title: np.ndarray
    ) -> np.ndarray:
        """What the title adds: each term the title holds counts at least as much as one
        occurrence in a sentence of average length (length norm k1)."""
        if not self.weights.title:
            return np.zeros(parts.shape[1])
        idf = self._postings.idf[[term_id for term_id, _ in weighted]]
        once = self.weights.title * idf * np.asarray([w for _, w in weighted]) * (K1 + 1) / (1 + K1)
        return np.maximum(once[:, None] * in_title - parts, 0).sum(axis=0)

    def _report_scores(self, weighted: Sequence[tuple[int, float]], reports: np.ndarray) -> np.ndarray:
        """The report-level BM25 of ``reports`` (ascending)."""
        postings, layout, w = self._postings, self._layout, self.weights
        bounds = np.concatenate([layout.starts[reports], layout.ends[reports]])
        tf = np.empty((len(weighted), len(reports)))
        for row, (term_id, _) in enumerate(weighted):
            docs = postings.docs[postings.offsets[term_id] : postings.offsets[term_id + 1]]
            at = np.searchsorted(docs, bounds)
            tf[row] = at[len(reports):] - at[: len(reports)]
        ids = [term_id for term_id, _ in weighted]
        held = postings.report_df[ids].astype(np.float64)
        idf = np.log(1 + (len(layout.starts) - held + 0.5) / (held + 0.5))
        weight = np.asarray([weight for _, weight in weighted]) * idf
        length_norm = w.prior_k1 * (
            1 - w.prior_b + w.prior_b * layout.lengths[reports] / self._mean_report_length
        )
        return weight @ (tf * (w.prior_k1 + 1) / (tf + length_norm))

    def _idf(self, terms: Sequence[tuple[str, int, float]]) -> np.ndarray:
        return self._postings.idf[[term_id for _, term_id, _ in terms]]


def coverage(
    concepts: Sequence[Concept],
    terms: Sequence[str],
    held: np.ndarray,
    idf: np.ndarray,
    part_credit: float,
) -> np.ndarray:
    """Per candidate (a column of ``held``, one row per term of ``terms``): the idf-weighted share
    of the concepts it holds, a concept held in part counting ``part_credit``; at least 0.001, so
    that a sentence holding none still ranks below those that hold some."""
    row = {term: i for i, term in enumerate(terms)}
    idf_of = idf.tolist()
    total = np.zeros(held.shape[1])
    weight_sum = 0.0
    for concept in concepts:
        rows = [row[t] for t in concept.forms[0] + concept.parts if t in row]
        weight = max(idf_of[r] for r in rows) if rows else 0.0
        if weight <= 0:
            continue  # found nowhere: named as missing, not counted here
        whole = np.zeros(held.shape[1], dtype=bool)
        for form in concept.forms:
            if all(t in row for t in form):
                whole |= reduce(operator.and_, (held[row[t]] for t in form))
        parts = [row[t] for t in concept.parts if t in row]
        in_part = held[parts].any(axis=0) if parts else np.zeros_like(whole)
        total += weight * np.where(whole, 1.0, np.where(in_part, part_credit, 0.0))
        weight_sum += weight
    if weight_sum == 0:
        return np.ones(held.shape[1])
    return np.maximum(total / weight_sum, 0.001)


def leaves_out(
    concepts: Sequence[Concept],
    answer_type: AnswerType | None,
    passage: Callable[[], str],
    sentence: str,
) -> bool:
    """Whether a sentence is only the nearest one, not an answer: the question names a number or
    a date (2月10日, 12320) that its ``passage()`` (folded: the report's title, the section
    heading, the sentence with its neighbours; read only for such a question) does not write,
    or asks for a year, a date, a number or a sum of money and the sentence writes none. (A question's other words are often paraphrased
    by the answer; a word no report holds at all is named as missing.)"""
    numbers = [concept for concept in concepts if _NUMBER.search(concept.word)]
    if numbers:
        text = passage()
        if any(not any(s in text for s in concept.spellings) for concept in numbers):
            return True
    return answer_type is not None and not _WRITES[answer_type].search(sentence)
