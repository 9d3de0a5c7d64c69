"""Turn a decoded report into clean paragraphs: glosses stripped, damaged runs marked, furniture
dropped, broken lines joined, and every paragraph labelled header, heading, body or footer.

Everything is done in code so the operator's files stay exactly as they were saved.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Literal

import opencc

from index.models import DAMAGED
from index.text.scripts import HAN

ParagraphKind = Literal["header", "heading", "body", "footer"]

_TONED = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜüńňǹḿ"
_PINYIN = f"a-z{_TONED}"
# Punctuation in both its ASCII and its full-width form. The full-width ones are written as escapes:
# as literals they were once turned into their ASCII twins unnoticed, and every rule below lost them.
COLONS = ":\uff1a"  # : ：
COMMAS = ",\uff0c"  # , ，
SEMICOLONS = ";\uff1b"  # ; ；
OPENING_PARENS = "(\uff08"  # ( （
CLOSING_PARENS = ")\uff09"  # ) ）
TERMINALS = "\u3002!?\uff01\uff1f\u2026"  # 。 ! ? ！ ？ …
"""Characters that end a sentence (the reports use ASCII ! and ? as well as the full-width ones)."""
_TERMINAL = re.compile(f"[{TERMINALS}]")
CLOSERS = "”’\"'』」]】》〕" + CLOSING_PARENS
"""Closing quotes and brackets that belong to the sentence they follow."""

_GLOSS = re.compile(rf"(?<=[{HAN}])[{OPENING_PARENS}]([{_PINYIN}]{{1,7}})[{CLOSING_PARENS}]")
_TONED_GLOSS = re.compile(rf"[{OPENING_PARENS}][{_PINYIN}]*[{_TONED}][{_PINYIN}]*[{CLOSING_PARENS}]")
_MIN_GLOSSES = 3
"""A report counts as glossed (Traditional text with pinyin after characters) from this many."""

_DAMAGE_TOKEN = re.compile(
    rf"""(?P<question>\?)
    | (?P<glossed>[{HAN}][{OPENING_PARENS}][{_PINYIN}]+[{CLOSING_PARENS}])
    | (?P<orphan>[{OPENING_PARENS}][{_PINYIN}]+[{CLOSING_PARENS}])
    | (?P<fragment>[{_PINYIN}]*[{_TONED}][{_PINYIN}]*[{CLOSING_PARENS}]?|[{_PINYIN}]+[{CLOSING_PARENS}]|[A-Za-z](?=[{OPENING_PARENS}][{_PINYIN}]+[{CLOSING_PARENS}]))
    | (?P<group>(?:[{HAN}](?![{OPENING_PARENS}]))+)""",
    re.VERBOSE,
)

CONTENT = re.compile(r"[^\W_]")
"""A letter or digit, of any script: text without one (a stray ……) is nothing to read."""
_SPACES = re.compile(r"[^\S\n]+")
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))

# Page furniture. Widget words are removed wherever they stand as a whole token; noise lines go
# wherever they are; body furniture is only ever dropped (outside the body it is metadata to read).
_WIDGETS = re.compile(
    r"^[【\[]?(分享到?|打印|打印本页|关闭|關閉|关闭窗口|纠错|糾錯|收藏|字号|字號|×|TOP↑?|返回顶部|返回頂部)"
    rf"[】\]]?[{COLONS}]?$"
)
_CLOCK = r"\d{1,2}:\d\d\s*/\s*\d{1,2}:\d\d"
"""An audio player's position and length: 00:00/03:25."""
_SCAN_WORD = r"扫一扫|掃一掃|扫码|掃碼|扫描|掃描|二维码|二維碼"
_SCAN_WIDGET_WORD = (
    rf"{_SCAN_WORD}|微信|手机|手機|分享|关注|關注|下载|下載|阅读|閱讀|打开|打開|当前页|當前頁|本页|本頁"
    r"|朋友圈|客户端|客戶端|在|用|到"
)
"""The words a scan-the-QR-code widget is made of (微信扫一扫, 扫一扫在手机打开当前页)."""
_CRUMB = rf"[^\s>›»{COMMAS}{COLONS}{TERMINALS}]{{1,15}}"
"""One step of a navigation trail: a short name."""
_NOISE_LINES = re.compile(
    rf"""^(?:
        [\d\s.、,]+                                     # lone digits, "1 1 1", "1."
      | 手机版|手機版|电脑版|電腦版|网站首页|網站首頁
      | (?=.{{1,30}}$)(?:{_SCAN_WIDGET_WORD}|\s)*(?:{_SCAN_WORD})(?:{_SCAN_WIDGET_WORD}|\s)*
      | (?:收听本文|收聽本文)(?:\s*{_CLOCK})? | {_CLOCK}  # the audio player
      | (?:(?:当前位置|當前位置|您的位置)[{COLONS}]\s*)?{_CRUMB}(?:\s*[>›»]\s*{_CRUMB})+  # navigation
    )$""",
    re.VERBOSE,
)
"""Lines that are page furniture whole: each rule matches the complete line, never prose that
merely holds one of its words (采样时间为08:00/12:00, 扫码登记)."""
_BODY_FURNITURE = re.compile(
    rf"""^[{OPENING_PARENS}]?\s*(?:
        [^\s{COMMAS}{TERMINALS}]{{0,12}}(责任编辑|責任編輯|编辑|編輯|校对|校對|审核|審核)\s*[{COLONS}]
      | (本文链接|本文鏈接|原文链接|原文鏈接|相关链接|相關鏈接|关键词|關鍵詞|关键字|關鍵字|标签|標籤)\s*[{COLONS}]
      | (来源|來源|发布时间|發布時間|發佈時間)\s*[{COLONS}]
      | https?://\S+$
    )""",
    re.VERBOSE,
)
_NUMBERED_HEADING = re.compile(
    rf"^(?:[一二三四五六七八九十]+[、.]|\d{{1,2}}[、.]|[{OPENING_PARENS}][一二三四五六七八九十\d]+[{CLOSING_PARENS}])"
)

_MARKDOWN = (
    (re.compile(r"!\[[^\]]*\]\([^)]*\)"), ""),  # images
    (re.compile(r"\[([^\]]+)\]\([^)]*\)"), r"\1"),  # links keep their text
    (re.compile(r"^\s{0,3}(?:#{1,6}|>|[-*+](?=\s))\s*"), ""),  # heading, quote and list markers
    (re.compile(r"^\s*(?:[-*_]\s*){3,}$"), ""),  # horizontal rules
    (re.compile(r"\*\*|__|`"), ""),  # emphasis and code marks
)

_METADATA_HINT = re.compile(r"https?://|\d{4}\s*[-/.年]\s*\d")

MAX_PARAGRAPH = 2000
"""No line is joined onto a paragraph this long: joining stops there (each join costs the whole
paragraph), and the sentences keep a paragraph's parts this long apart (``index.ingest.sentences``)."""
_OPEN_TAIL = 300
_HEADING_MAX = 60
_BODY_MIN = 20
_CAPTION_REPEAT_MIN = 10


@dataclass(frozen=True)
class Paragraph:
    """One cleaned paragraph. ``block`` numbers the blank-line-separated block it came from, so a
    title written over several consecutive lines can be told from the lines after a blank."""

    text: str
    kind: ParagraphKind
    block: int


@dataclass(frozen=True)
class CleanDocument:
    paragraphs: tuple[Paragraph, ...]
    dropped: tuple[str, ...]
    """Lines and paragraphs dropped as page furniture or photo captions, for the operator to see."""
    glosses: int
    """How many pinyin glosses were removed."""
    damaged: int
    """How many damaged runs were replaced by DAMAGED."""

    def of_kind(self, *kinds: ParagraphKind) -> list[Paragraph]:
        return [p for p in self.paragraphs if p.kind in kinds]


def clean(text: str, *, markdown: bool = False) -> CleanDocument:
    """The whole cleaning pipeline for one report's decoded text."""
    text = normalise_spaces(text)
    text, damaged = mark_damage(text)
    text, glosses = strip_glosses(text)
    lines = text.split("\n")
    if markdown:
        lines = [unmark(line) for line in lines]
    drafts, noise = paragraphs(lines)
    labelled, furniture = label(drafts)
    return CleanDocument(labelled, noise + furniture, glosses=glosses, damaged=damaged)


def normalise_spaces(text: str) -> str:
    """Unix newlines; every kind of space (U+00A0, U+3000, tabs...) as one ASCII space; no spaces
    at line ends; zero-width characters gone."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").translate(_INVISIBLE)
    text = _SPACES.sub(" ", text.replace("\u3000", " "))
    return "\n".join(line.strip() for line in text.split("\n"))


def strip_glosses(text: str) -> tuple[str, int]:
    """Remove the pinyin after characters (堅(jiān)決 -> 堅決) when the report is glossed at all;
    parentheses holding anything else, such as (12320) or (天水在線編輯:陶靜), stay."""
    if len(_TONED_GLOSS.findall(text)) < _MIN_GLOSSES:
        return text, 0
    return _GLOSS.subn("", text)


def mark_damage(text: str) -> tuple[str, int]:
    """Replace each run of characters lost to a bad encoding round-trip with one DAMAGED.

    A run starts at an ASCII ``?`` followed by what no sentence starts with: stray pinyin
    (``?lián)``, toned letters), a letter carrying a gloss, a gloss on the wrong character (膽(zhàn) where the report glosses
    戰 as zhàn), or characters foreign to the report's script (挂 in a Traditional report). It ends
    before the first token that reads as clean text. A ``?`` followed by ordinary text is left as
    the question mark it is."""
    if "?" not in text:  # most reports: no need to tell their script
        return text, 0
    foreign = _foreign_test(text)
    readings = _gloss_readings(text)
    out: list[str] = []
    runs = 0
    pos = 0
    for question in re.finditer(r"\?", text):
        if question.start() < pos:
            continue
        end = _damaged_end(text, question.end(), foreign, readings)
        if end is not None:
            out.append(text[pos : question.start()] + DAMAGED)
            pos = end
            runs += 1
    out.append(text[pos:])
    return "".join(out), runs


def _damaged_end(
    text: str, pos: int, foreign: Callable[[str], bool], readings: Counter
) -> int | None:
    """Where the damaged run that starts with the ``?`` just before ``pos`` ends, or None when
    that ``?`` is a real question mark."""
    end = None
    previous = "question"
    while token := _DAMAGE_TOKEN.match(text, pos):
        kind, value = token.lastgroup, token.group()
        if kind == "glossed":
            char, reading = value[0], value[2:-1]
            others = sum(n for (c, r), n in readings.items() if r == reading and c != char)
            bad = readings[(char, reading)] == 1 and others > 0
        elif kind == "group":
            bad = previous in ("question", "fragment", "orphan") and any(map(foreign, value))
        else:
            bad = True
        if not bad:
            break
        if kind != "question":
            end = token.end()
        previous, pos = kind, token.end()
    return end


def _gloss_readings(text: str) -> Counter:
    """How often each (character, reading) gloss pair occurs: a report glosses a character the
    same way throughout, so a pair seen once whose reading belongs to another character is noise."""
    pairs = re.finditer(rf"[{HAN}][{OPENING_PARENS}]([{_PINYIN}]+)[{CLOSING_PARENS}]", text)
    return Counter((m.group()[0], m.group(1)) for m in pairs)


@cache
def _converter(config: str) -> opencc.OpenCC:
    return opencc.OpenCC(config)


def _foreign_test(text: str) -> Callable[[str], bool]:
    """A test for characters of the other script: Simplified-only ones in a Traditional report,
    Traditional-only ones in a Simplified report."""
    hans = "".join(re.findall(rf"[{HAN}]", text))
    to_simplified = _converter("t2s").convert(hans)
    traditional = sum(a != b for a, b in zip(hans, to_simplified))
    to_traditional = _converter("s2t").convert(hans)
    simplified = sum(a != b for a, b in zip(hans, to_traditional))
    other = _converter("s2t" if traditional > simplified else "t2s")
    return lambda char: other.convert(char) != char


def unmark(line: str) -> str:
    """Markdown markup removed from one line of a .md report, keeping its words."""
    for pattern, replacement in _MARKDOWN:
        line = pattern.sub(replacement, line)
    return line.strip()


@dataclass
class _Draft:
    text: str
    block: int
    gap: int
    """Blank lines before this paragraph."""


def paragraphs(lines: list[str]) -> tuple[list[_Draft], tuple[str, ...]]:
    """Group lines into paragraphs: a blank line separates; a line that breaks off mid-sentence
    is joined with the next one. Widget words and noise lines are dropped on the way; the lines
    dropped whole come back beside the paragraphs."""
    drafts: list[_Draft] = []
    dropped: list[str] = []
    blanks = 0
    broken = True
    for raw in lines:
        line = " ".join(token for token in raw.split(" ") if not _WIDGETS.match(token))
        if not raw:
            blanks += 1
            continue
        if not line or _NOISE_LINES.match(line):  # only widgets, or a noise line
            dropped.append(raw)
            broken, blanks = True, 0
            continue
        if drafts and not blanks and not broken and _joinable(drafts[-1].text):
            drafts[-1].text = _join(drafts[-1].text, line)
        else:
            block = drafts[-1].block + (1 if blanks else 0) if drafts else 0
            drafts.append(_Draft(line, block, blanks if drafts else 0))
        blanks, broken = 0, False
    return drafts, tuple(dropped)


def label(drafts: list[_Draft]) -> tuple[tuple[Paragraph, ...], tuple[str, ...]]:
    """Label paragraphs: header before the body, footer after it; inside, body paragraphs,
    section headings, and furniture or photo captions which are dropped (and returned beside
    the paragraphs). A body paragraph that stops mid-sentence continues into the next one.
    The body runs from the first prose paragraph to the last, so prose without a sentence
    terminal (a whole report of it, or a last paragraph) is body, not header or footer."""
    start = 1 if drafts and _heading_like(drafts[0].text) else 0
    first_body = next(
        (i for i in range(start, len(drafts)) if _opens_body(drafts[i].text)),
        # a short report: its first sentence, however short, or its first unpunctuated prose
        next((i for i in range(start, len(drafts)) if _prose(drafts[i].text)), len(drafts)),
    )
    last_body = max((i for i, d in enumerate(drafts) if _prose(d.text)), default=first_body - 1)
    last_body = max(last_body, first_body)
    header = drafts[:first_body]
    lead_headings = []
    while header and _NUMBERED_HEADING.match(header[-1].text) and len(header) > 1:
        lead_headings.insert(0, header.pop())
    middle = lead_headings + _join_broken(drafts[first_body : last_body + 1])
    footer = drafts[last_body + 1 :]

    bodies = [d for d in middle if _body_like(d.text)]
    usual_gap = statistics.median([d.gap for d in bodies]) if bodies else 1
    labelled = [Paragraph(d.text, "header", d.block) for d in header]
    dropped = []
    for i, draft in enumerate(middle):
        last = i + 1 == len(middle)
        gap_after = 0 if last else middle[i + 1].gap
        kind = _middle_kind(draft, gap_after, usual_gap, bodies)
        if last and _prose(draft.text):
            kind = "body"  # nothing follows for it to head
        if kind:
            labelled.append(Paragraph(draft.text, kind, draft.block))
        else:
            dropped.append(draft.text)
    labelled += [Paragraph(d.text, "footer", d.block) for d in footer]
    return tuple(labelled), tuple(dropped)


def _middle_kind(draft: _Draft, gap_after: int, usual_gap: float, bodies) -> ParagraphKind | None:
    text = draft.text
    if len(text) <= _HEADING_MAX and _BODY_FURNITURE.match(text):
        return None
    if _body_like(text) or _ends(text) or len(text) > _HEADING_MAX:
        return "body"
    if not bodies and _prose(text):
        return "body"  # a report that ends no sentence: no telling its headings by punctuation
    set_apart = max(draft.gap, gap_after) > usual_gap
    repeated = len(text) >= _CAPTION_REPEAT_MIN and any(
        text in body.text for body in bodies if body is not draft
    )
    if set_apart or repeated:
        return None  # a photo caption
    if not CONTENT.search(text):
        return None
    return "heading"


def _join_broken(drafts: list[_Draft]) -> list[_Draft]:
    """Join a body paragraph that the file breaks off mid-sentence with the paragraph after it."""
    joined: list[_Draft] = []
    for draft in drafts:
        if joined and _body_like(joined[-1].text) and _open(joined[-1].text) and _body_like(draft.text):
            joined[-1] = _Draft(_join(joined[-1].text, draft.text), joined[-1].block, joined[-1].gap)
        else:
            joined.append(_Draft(draft.text, draft.block, draft.gap))
    return joined


def _join(left: str, right: str) -> str:
    glue = " " if left[-1:].isascii() and left[-1:].isalnum() and right[:1].isascii() else ""
    return left + glue + right


def _ends(text: str) -> bool:
    """Whether the text ends a sentence (closing quotes and brackets aside)."""
    stripped = text.rstrip(CLOSERS + " ")
    return bool(stripped) and stripped[-1] in TERMINALS + SEMICOLONS


def _joinable(text: str) -> bool:
    """Whether the next line continues this paragraph: it is not too long yet, and its end is
    open (judged on its last _OPEN_TAIL characters: looking at the whole paragraph again at
    each line would cost the square of its length)."""
    return len(text) < MAX_PARAGRAPH and _open(text[-_OPEN_TAIL:])


def _open(text: str) -> bool:
    """Whether the text is running prose that stops mid-sentence (a hard-wrapped line of 40 or
    more characters counts, unless it carries a URL or a date, as publication lines do)."""
    wrapped = len(text) >= 40 and not _METADATA_HINT.search(text)
    return (_body_like(text) or wrapped) and not _ends(text)


def _body_like(text: str) -> bool:
    return len(text) >= _BODY_MIN and _TERMINAL.search(text) is not None


def _opens_body(text: str) -> bool:
    """Whether the body may start at this paragraph: it holds sentences, or it is longer than any
    heading and no publication line (a link, a date)."""
    return _body_like(text) or (len(text) > _HEADING_MAX and not _METADATA_HINT.search(text))


def _prose(text: str) -> bool:
    """Whether the text is running prose, with or without a sentence terminal: it ends a
    sentence, it is longer than any heading, or it is of a sentence's length and no publication
    line (a credit, a link, a date)."""
    if _ends(text) or len(text) > _HEADING_MAX:
        return True
    return (
        len(text) >= _BODY_MIN
        and not _BODY_FURNITURE.match(text)
        and not _METADATA_HINT.search(text)
    )


def _heading_like(text: str) -> bool:
    return len(text) <= _HEADING_MAX and not _ends(text)
