"""Which characters belong to which scripts, for every rule that asks: the reading of reports
(pinyin glosses follow a Chinese character) and the analysis (which characters are terms alone
and in pairs)."""

from __future__ import annotations

HAN_RANGES = ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0x20000, 0x3134F))
"""CJK ideographs: Extension A, the unified ideographs, the compatibility ideographs, and
Extensions B to G (rare characters, many of them in names)."""

UNSPACED_RANGES = tuple(sorted(HAN_RANGES + ((0x3040, 0x30FF), (0xAC00, 0xD7A3))))
"""Scripts written without spaces between words, or gluing particles onto them: Chinese
characters, kana and Hangul syllables. Their single characters and pairs are terms."""

HAN = "".join(f"{chr(first)}-{chr(last)}" for first, last in HAN_RANGES)
"""``HAN_RANGES`` for a regular expression's character class."""
