"""Deterministic synthetic corpora: report files of Chinese-looking sentences.

Words are drawn from jieba's own dictionary in proportion to their frequency, and sentence lengths
from the sentences of the bundled reports, so segmentation and term statistics look like real text
at any size while staying reproducible from the seed alone.
"""

from __future__ import annotations

import os
from pathlib import Path

import jieba
import numpy as np

SENTENCES_PER_REPORT = 100
SENTENCES_PER_PARAGRAPH = 5
FALLBACK_LENGTHS = (12, 20, 28, 36, 46, 58, 75, 96)
"""Sentence lengths (characters) used when the bundled corpus cannot be read."""


def dictionary() -> tuple[list[str], np.ndarray]:
    """jieba's dictionary words and their probabilities (by frequency)."""
    words, freqs = [], []
    path = Path(jieba.__file__).with_name("dict.txt")
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[1].isdigit():
            words.append(parts[0])
            freqs.append(int(parts[1]))
    weights = np.asarray(freqs, dtype=np.float64)
    return words, weights / weights.sum()


def real_sentence_lengths(corpus_dir: Path) -> np.ndarray:
    """Character lengths of the bundled reports' sentences (their distribution is what is copied)."""
    from index.ingest.pipeline import load_corpus

    try:
        corpus = load_corpus(corpus_dir)
    except Exception:  # the benchmark still runs from an installed package without the corpus
        return np.asarray(FALLBACK_LENGTHS)
    lengths = [len(s.text) for r in corpus.reports for s in r.sentences]
    return np.asarray(lengths or FALLBACK_LENGTHS)


def generate(out_dir: Path, sentences: int, seed: int, corpus_dir: Path) -> Path:
    """Write ``sentences`` sentences as report files under ``out_dir/<sentences>``, once.

    A folder that already holds a complete corpus (marked by a ``.complete`` file) is reused."""
    target = out_dir / str(sentences)
    marker = target / ".complete"
    if marker.exists():
        return target
    target.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    words, probabilities = dictionary()
    cumulative = np.cumsum(probabilities)
    lengths = real_sentence_lengths(corpus_dir)
    draw = iter(())

    def next_word() -> str:
        nonlocal draw
        word = next(draw, None)
        if word is None:
            picks = np.searchsorted(cumulative, rng.random(65536) * cumulative[-1])
            draw = iter([words[i] for i in np.minimum(picks, len(words) - 1)])
            word = next(draw)
        return word

    def sentence(length: int) -> str:
        parts, size = [], 0
        while size < length - 1:
            parts.append(next_word())
            size += len(parts[-1])
        return "".join(parts) + "。"

    reports = -(-sentences // SENTENCES_PER_REPORT)
    for number in range(reports):
        count = min(SENTENCES_PER_REPORT, sentences - number * SENTENCES_PER_REPORT)
        body = [sentence(int(n)) for n in rng.choice(lengths, size=count)]
        paragraphs = [
            "".join(body[i : i + SENTENCES_PER_PARAGRAPH])
            for i in range(0, count, SENTENCES_PER_PARAGRAPH)
        ]
        day = 1 + number % 28
        text = "\n\n".join(
            [sentence(14)[:-1], f"来源: 合成语料 2020-02-{day:02d}", *paragraphs]
        )
        path = target / f"{number // 1000:03d}" / f"report_{number:06d}.txt"
        path.parent.mkdir(exist_ok=True)
        path.write_text(text + "\n", encoding="utf-8")
    marker.write_text(f"{sentences} sentences, seed {seed}\n", encoding="utf-8")
    os.sync()
    return target
