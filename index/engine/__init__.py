"""The BM25 engine: postings and rank_bm25's scores over them, building and updating them, and
the ranking that weighs in each sentence's report."""
