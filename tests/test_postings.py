"""The engine's scores must be rank_bm25's BM25Okapi scores, on any tokens, to within 1e-9."""

from __future__ import annotations

import random
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from rank_bm25 import BM25Okapi

import index.engine.postings
from index.engine.postings import Postings, top_k
from index.engine.postings_build import PostingsBuilder, build_postings, term_block


def dense_scores(postings: Postings, query: list[str]) -> np.ndarray:
    """Score every sentence through the inverted index, zero where no query term occurs."""
    counts = Counter(query)
    weighted = [
        (term_id, float(counts[term]))
        for term, term_id in zip(counts, postings.term_ids(counts))
        if term_id is not None
    ]
    candidates, scores = postings.score(weighted)
    dense = np.zeros(postings.sentence_count)
    dense[candidates] = scores
    return dense


def engine_scores(documents: list[list[str]], query: list[str]) -> np.ndarray:
    return dense_scores(build_postings(documents), query)


def random_corpus(seed: int, documents: int, vocabulary: int) -> list[list[str]]:
    rng = random.Random(seed)
    words = [f"w{i}" for i in range(vocabulary)]
    # Zipf-like: a few words in most documents (negative idf, so the epsilon floor is exercised).
    weights = [1 / (rank + 1) for rank in range(vocabulary)]
    return [rng.choices(words, weights, k=rng.randint(0, 40)) for _ in range(documents)]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_scores_equal_rank_bm25_on_a_large_random_corpus(seed: int) -> None:
    documents = random_corpus(seed, documents=5000, vocabulary=2000)
    reference = BM25Okapi(documents)
    assert min(reference.idf.values()) > 0 > min(
        np.log(len(documents) - n + 0.5) - np.log(n + 0.5)
        for n in Counter(t for d in documents for t in set(d)).values()
    ), "the corpus should have terms whose idf is floored"
    rng = random.Random(seed)
    for _ in range(40):
        query = rng.choices([f"w{i}" for i in range(2200)], k=rng.randint(1, 6))
        np.testing.assert_allclose(
            engine_scores(documents, query), reference.get_scores(query), rtol=0, atol=1e-9
        )


def test_repeated_query_terms_count_as_often_as_they_appear() -> None:
    documents = [["a", "b"], ["b", "c"], ["c", "d", "d"], ["e"]]
    query = ["d", "b", "d"]
    np.testing.assert_allclose(
        engine_scores(documents, query), BM25Okapi(documents).get_scores(query), atol=1e-12
    )


def test_only_documents_holding_a_query_term_are_candidates() -> None:
    documents = [["a"], ["b"], ["a", "c"], ["d"]]
    postings = build_postings(documents)
    (term_id,) = postings.term_ids(["a"])
    candidates, _ = postings.score([(term_id, 1.0)])
    assert candidates.tolist() == [0, 2]


def test_unknown_terms_have_no_id() -> None:
    postings = build_postings([["a", "b"]])
    assert postings.term_ids(["b", "zzz", ""]) == [1, None, None]


def test_top_k_is_best_first_with_ties_in_sentence_order() -> None:
    candidates = np.array([3, 5, 8, 9, 12])
    scores = np.array([1.0, 2.0, 2.0, 0.5, 2.0])
    assert top_k(candidates, scores, 2) == [(5, 2.0), (8, 2.0)]
    assert top_k(candidates, scores, 10) == [(5, 2.0), (8, 2.0), (12, 2.0), (3, 1.0), (9, 0.5)]
    assert top_k(candidates, scores, 0) == []


def test_an_empty_corpus_is_refused() -> None:
    with pytest.raises(ValueError):
        build_postings([])


@pytest.mark.parametrize("seed", [4, 5])
def test_idf_and_avgdl_equal_rank_bm25(seed: int) -> None:
    """To the bit, except the floor of negative idfs: a mean summed in another order (see _okapi_idf)."""
    documents = random_corpus(seed, documents=3000, vocabulary=1500)
    reference = BM25Okapi(documents)
    postings = build_postings(documents)
    assert postings.avgdl == reference.avgdl
    ours = dict(zip(postings.terms, postings.idf.tolist()))
    assert ours.keys() == reference.idf.keys()
    df = Counter(term for document in documents for term in set(document))
    floored = {term for term, n in df.items() if n > len(documents) / 2}
    assert 0 < len(floored) < len(ours) // 10
    for term, idf in reference.idf.items():
        if term in floored:
            assert ours[term] == pytest.approx(idf, rel=1e-12)
        else:
            assert ours[term] == idf


def test_postings_merged_from_blocks_equal_one_build() -> None:
    """A build merges one block per report; the split must not change anything."""
    documents = random_corpus(6, documents=2000, vocabulary=1200)
    builder = PostingsBuilder()
    for start, end in [(0, 1), (1, 700), (700, 700), (700, 1999), (1999, 2000)]:
        builder.add(term_block(documents[start:end]))
    merged, whole = builder.finish(), build_postings(documents)
    for name in ("terms", "offsets", "docs", "tfs", "idf", "doc_len"):
        np.testing.assert_array_equal(getattr(merged, name), getattr(whole, name))
    assert merged.avgdl == whole.avgdl


@pytest.fixture
def pruning(monkeypatch: pytest.MonkeyPatch) -> None:
    """Prune even these small corpora: below SCORE_ALL_BELOW postings a query scores everything."""
    monkeypatch.setattr(index.engine.postings, "SCORE_ALL_BELOW", 0)


@pytest.mark.usefixtures("pruning")
@pytest.mark.parametrize("seed", [4, 5])
def test_pruned_top_k_equals_scoring_every_candidate(seed: int) -> None:
    """MaxScore pruning may skip postings, never change the answer (ids, order or scores)."""
    documents = random_corpus(seed, documents=3000, vocabulary=500)
    postings = build_postings(documents)
    rng = random.Random(seed)
    for _ in range(60):
        query = rng.choices([f"w{i}" for i in range(520)], k=rng.randint(1, 8))
        counts = Counter(query)
        weighted = [
            (term_id, float(counts[term]) * rng.choice([1.0, 0.5]))
            for term, term_id in zip(counts, postings.term_ids(counts))
            if term_id is not None
        ]
        for k in (1, 5, 28):
            assert postings.best(weighted, k) == top_k(*postings.score(weighted), k)


@pytest.mark.parametrize("alphabet_size", [3, 2000, 60000])
def test_terms_of_any_alphabet_and_length_are_numbered_in_length_then_text_order(
    alphabet_size: int,
) -> None:
    """Small and large alphabets and terms up to 32 characters take each way of numbering terms:
    counting, sorting integers, sorting rows."""
    rng = random.Random(alphabet_size)
    alphabet = [chr(0x4E00 + i) if i < 20000 else chr(0x20000 + i) for i in range(alphabet_size)]
    words = ["".join(rng.choices(alphabet, k=rng.choice([1, 2, 3, 5, 12, 32]))) for _ in range(400)]
    documents = [rng.choices(words, k=rng.randint(1, 15)) for _ in range(300)]
    postings = build_postings(documents)
    assert postings.terms == sorted(set(words) & {t for d in documents for t in d},
                                    key=lambda term: (len(term), term))
    for term_id, term in enumerate(postings.terms):
        docs = postings.docs[postings.offsets[term_id] : postings.offsets[term_id + 1]]
        assert docs.tolist() == [i for i, d in enumerate(documents) if term in d]


@pytest.mark.usefixtures("pruning")
def test_pruned_top_k_keeps_ties_in_sentence_order() -> None:
    """Many sentences share a score here; pruning must keep the same ones as full scoring."""
    rng = random.Random(7)
    patterns = [["a", "b"], ["a", "c"], ["b", "c", "d"], ["a"], ["d", "e", "a"], ["f"]]
    documents = [list(rng.choice(patterns)) for _ in range(2000)]
    postings = build_postings(documents)
    for query in (["a"], ["a", "b"], ["c", "a", "e"], ["d", "f", "b", "a"]):
        weighted = [(term_id, 1.0) for term_id in postings.term_ids(query)]
        for k in (1, 5, 28, 400):
            assert postings.best(weighted, k) == top_k(*postings.score(weighted), k)


@pytest.mark.usefixtures("pruning")
def test_queries_running_at_once_get_the_answers_they_get_alone() -> None:
    """Queries reuse scratch buffers; ones running in parallel threads must not share them."""
    documents = random_corpus(8, documents=3000, vocabulary=400)
    postings = build_postings(documents)
    rng = random.Random(8)
    words = [f"w{i}" for i in range(400)]
    queries = [
        [(term_id, 1.0) for term_id in postings.term_ids(rng.choices(words, k=5)) if term_id is not None]
        for _ in range(40)
    ]
    alone = [postings.best(query, 10) for query in queries]
    with ThreadPoolExecutor(max_workers=4) as pool:
        for _ in range(5):
            assert list(pool.map(lambda query: postings.best(query, 10), queries)) == alone
