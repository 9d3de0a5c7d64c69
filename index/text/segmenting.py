"""jieba's search-mode segmentation, with jieba's result, in less time.

Segmenting is nearly all of a build's time. For each run of Chinese text, jieba 0.42 first lists
the dictionary words starting at every character (a DAG), then scores the best path through them
with a generator per character. Here one backward pass does both, with the same arithmetic in the
same order, so the same path wins every tie. Runs of characters outside the dictionary still go to
jieba's own HMM, and the text around Chinese runs is split as jieba splits it: the words, their
order and their spans are jieba's (``tests/test_segmenting.py`` compares the two).
"""

from __future__ import annotations

from math import log

import jieba
from jieba import finalseg

Piece = tuple[str, int, int]
"""A word and its span, as ``jieba.Tokenizer.tokenize`` gives it."""

_HAN = jieba.re_han_default
"""What jieba segments with its dictionary: Chinese characters, letters, digits and +#&._%-."""
_SKIP = jieba.re_skip_default
"""Around those runs, whitespace is kept whole and any other character stands alone."""


class Lexicon:
    """A jieba tokenizer's dictionary as the segmenting here walks it. Make it after the last
    ``add_word``: it copies the dictionary's log probabilities."""

    def __init__(self, tokenizer: jieba.Tokenizer) -> None:
        self.freq: dict[str, int] = tokenizer.FREQ
        """Every word with its count, and every prefix of a word that is no word itself with 0."""
        self.log_total = log(tokenizer.total)
        self.word_logs = {
            word: log(count) - self.log_total if count else 0.0 for word, count in self.freq.items()
        }
        """The same keys: a word's log probability as jieba computes it (never 0.0, which marks
        a prefix), so the walk need not take a logarithm per candidate word."""


def search_pieces(lexicon: Lexicon, text: str) -> list[Piece]:
    """``list(tokenizer.tokenize(text, mode="search"))``: each word, preceded by the dictionary
    words of two and three characters inside it."""
    freq = lexicon.freq
    pieces: list[Piece] = []
    start = 0
    for word in cut(lexicon, text):
        width = len(word)
        if width > 2:
            pieces += [
                (word[i : i + 2], start + i, start + i + 2)
                for i in range(width - 1)
                if freq.get(word[i : i + 2])
            ]
        if width > 3:
            pieces += [
                (word[i : i + 3], start + i, start + i + 3)
                for i in range(width - 2)
                if freq.get(word[i : i + 3])
            ]
        pieces.append((word, start, start + width))
        start += width
    return pieces


def cut(lexicon: Lexicon, text: str) -> list[str]:
    """``tokenizer.lcut(text)``: jieba's words, with the HMM for words not in the dictionary."""
    words: list[str] = []
    for block in _HAN.split(text):
        if not block:
            continue
        if _HAN.match(block):
            _cut_block(lexicon, block, words)
        else:
            for part in _SKIP.split(block):
                if _SKIP.match(part):
                    words.append(part)
                else:
                    words.extend(part)
    return words


def _cut_block(lexicon: Lexicon, block: str, words: list[str]) -> None:
    """Append the most probable split of ``block`` into dictionary words (jieba's ``__cut_DAG``)."""
    word_logs = lexicon.word_logs
    log_total = lexicon.log_total
    n = len(block)
    score = [0.0] * (n + 1)  # log probability of the best split of block[k:]
    last = list(range(n))  # where the first word of that split ends (inclusive)
    for k in range(n - 1, -1, -1):
        best = None
        i = k
        word_log = word_logs.get(block[k])
        # The dictionary holds every prefix of its words (a prefix that is no word counts 0), so
        # the words starting at k are found by growing the fragment while it is still a prefix.
        while word_log is not None:
            if word_log:
                here = word_log + score[i + 1]
                if best is None or here >= best:  # a tie goes to the longer word, as in jieba
                    best = here
                    last[k] = i
            i += 1
            if i == n:
                break
            word_log = word_logs.get(block[k : i + 1])
        # No word starts at k: the character stands alone and counts once (log 1 = 0).
        score[k] = score[k + 1] - log_total if best is None else best
    run = 0  # start of the characters that the best path leaves on their own
    k = 0
    while k < n:
        end = last[k] + 1
        if end - k > 1:
            if run < k:
                _add_singles(lexicon, block[run:k], words)
            words.append(block[k:end])
            run = end
        k = end
    if run < n:
        _add_singles(lexicon, block[run:], words)


def _add_singles(lexicon: Lexicon, run: str, words: list[str]) -> None:
    """A run of lone characters: jieba's HMM finds the words in it, unless the run is itself a
    dictionary word (then it stays split, as jieba leaves it)."""
    if len(run) == 1:
        words.append(run)
    elif not lexicon.freq.get(run):
        hmm_cut(run, words)
    else:
        words.extend(run)


def hmm_cut(run: str, words: list[str]) -> None:
    """Append ``finalseg.cut(run)``: the Chinese characters split by jieba's HMM, the rest by its
    pattern for letters and digits."""
    for block in finalseg.re_han.split(run):
        if not block:
            continue
        if not finalseg.re_han.match(block):
            words += filter(None, finalseg.re_skip.split(block))
            continue
        begin = 0
        for i, state in enumerate(_best_states(block)):
            if state == "S" or state == "E":
                word = block[begin : i + 1]
                if word in finalseg.Force_Split_Words:
                    words.extend(word)
                else:
                    words.append(word)
                begin = i + 1
            elif state == "B":
                begin = i
        if begin < len(block):
            words.append(block[begin:])


_EMIT = {state: finalseg.emit_P[state] for state in "BMES"}
_START = finalseg.start_P
_MIN = finalseg.MIN_FLOAT
_TRANS = {pair: finalseg.trans_P[pair[0]].get(pair[1], _MIN) for pair in
          ("EB", "SB", "MM", "BM", "SS", "ES", "BE", "ME")}


def _best_states(block: str) -> str:
    """The most probable B/M/E/S state of each character: ``finalseg.viterbi`` with its sums in its
    order and its ties (between equal sums the later state letter wins), unrolled for four states."""
    emit_b, emit_m, emit_e, emit_s = _EMIT["B"], _EMIT["M"], _EMIT["E"], _EMIT["S"]
    eb, sb, mm, bm = _TRANS["EB"], _TRANS["SB"], _TRANS["MM"], _TRANS["BM"]
    ss, es, be, me = _TRANS["SS"], _TRANS["ES"], _TRANS["BE"], _TRANS["ME"]
    first = block[0]
    b = _START["B"] + emit_b.get(first, _MIN)
    m = _START["M"] + emit_m.get(first, _MIN)
    e = _START["E"] + emit_e.get(first, _MIN)
    s = _START["S"] + emit_s.get(first, _MIN)
    came_from = []  # per character after the first: the state before B, M, E and S
    for char in block[1:]:
        emit = emit_b.get(char, _MIN)
        from_e, from_s = e + eb + emit, s + sb + emit
        next_b, before_b = (from_s, "S") if from_s >= from_e else (from_e, "E")
        emit = emit_m.get(char, _MIN)
        from_m, from_b = m + mm + emit, b + bm + emit
        next_m, before_m = (from_m, "M") if from_m >= from_b else (from_b, "B")
        emit = emit_e.get(char, _MIN)
        from_b, from_m = b + be + emit, m + me + emit
        next_e, before_e = (from_m, "M") if from_m >= from_b else (from_b, "B")
        emit = emit_s.get(char, _MIN)
        from_s, from_e = s + ss + emit, e + es + emit
        next_s, before_s = (from_s, "S") if from_s >= from_e else (from_e, "E")
        b, m, e, s = next_b, next_m, next_e, next_s
        came_from.append({"B": before_b, "M": before_m, "E": before_e, "S": before_s})
    state = "S" if s >= e else "E"
    states = [state]
    for before in reversed(came_from):
        state = before[state]
        states.append(state)
    return "".join(reversed(states))
