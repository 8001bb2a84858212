"""Hits -> highlight ranges and snippets.

Word matches come from the character offsets stored in the postings (the text is never
segmented again); exact-character matches (quoted phrases, n-gram fallbacks) come from a search
of the folded text, which maps one-to-one onto the original. Snippets are cut at sentence
boundaries around the passages with the most distinct matches. HTML is made only by
``Marked.to_html()``, which escapes.
"""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Iterable

import numpy as np

from . import analysis
from .models import Marked

_SENTENCE_RE = re.compile(r"[^。！？；!?;\n]*(?:[。！？；!?;]+[」』”’)）]*|\n|$)")
_SKIP_RE = re.compile(r"[\s\u3000-\u303f\uff00-\uff0f\uff1a-\uff20\u2000-\u206f!-/:-@\[-`{-~]+")


def exact_ranges(text: str, needles: Iterable[str], analyzer: analysis.Analyzer | None = None) -> list[tuple[int, int]]:
    """Where ``needles`` occur in ``text`` after folding (by the index's ``analyzer``), ignoring
    spaces and punctuation between characters (so "五大訴求 缺一不可" lights up 五大訴求，缺一不可)."""
    needles = [n for n in needles if n and n.strip()]
    if not needles or not text:
        return []
    analyzer = analyzer or analysis.Analyzer.default()
    folded, offsets = analyzer.normalize(text)
    squeezed = _SKIP_RE.sub("", folded)
    keys = [(key, key.isascii()) for key in (_SKIP_RE.sub("", analyzer.fold(n)) for n in needles)
            if key and key in squeezed]
    if not keys:
        return []
    place = _Unsqueeze(folded)
    out: list[tuple[int, int]] = []
    for key, latin in keys:
        start = squeezed.find(key)
        while start != -1:
            a, b = place(start), place(start + len(key) - 1) + 1
            if not latin or _word_bounded(folded, a, b):
                if offsets is not None:
                    a, b = offsets[a], offsets[b - 1] + 1
                out.append((a, b))
            start = squeezed.find(key, start + len(key))
    return out


class _Unsqueeze:
    """Maps an index of the text without the skipped runs back to the text, through an array
    of the kept characters' places (built with numpy: bodies of long transcripts have tens of
    thousands of characters, and this runs for every hit shown)."""

    def __init__(self, folded: str) -> None:
        points = np.frombuffer(folded.encode("utf-32-le"), dtype="<u4")
        skipped = _skip_table()[np.minimum(points, 0xFFFF)] & (points <= 0xFFFF)
        self.kept = np.flatnonzero(~skipped)

    def __call__(self, index: int) -> int:
        return int(self.kept[index])


@functools.cache
def _skip_table() -> np.ndarray:
    """Which Basic Multilingual Plane characters _SKIP_RE skips (none beyond it)."""
    table = np.zeros(0x10000, dtype=bool)
    every = "".join("a" if 0xD800 <= ch <= 0xDFFF else chr(ch) for ch in range(0x10000))
    for m in _SKIP_RE.finditer(every):
        table[m.start():m.end()] = True
    return table


def _word_bounded(text: str, a: int, b: int) -> bool:
    before = text[a - 1] if a > 0 else " "
    after = text[b] if b < len(text) else " "
    return not (before.isalnum() and before.isascii()) and not (after.isalnum() and after.isascii())


def merge(ranges: Iterable[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    """Sorted, with overlapping or touching ranges merged."""
    merged: list[list[int]] = []
    for start, end in sorted(ranges):
        if end <= start:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return tuple((a, b) for a, b in merged)


def snippets(text: str, ranges: tuple[tuple[int, int], ...], count: int = 2, size: int = 120) -> tuple[Marked, ...]:
    """Up to ``count`` passages of about ``size`` characters, cut at sentence boundaries,
    around the sentences with the most distinct matched words; the opening if nothing matched."""
    if not text:
        return ()
    sentences = [(m.start(), m.end()) for m in _SENTENCE_RE.finditer(text) if m.end() > m.start() and text[m.start():m.end()].strip()]
    if not ranges:
        end = _cut_end(text, 0, size)
        return (Marked(_clean(text[:end]), ()),)
    starts = [a for a, _ in sentences]
    per_sentence: dict[int, list[tuple[int, int]]] = {}
    for s, e in ranges:        # sentences do not overlap: a range lies in the last one starting before it
        idx = bisect.bisect_right(starts, s) - 1
        if idx >= 0 and e <= sentences[idx][1]:
            per_sentence.setdefault(idx, []).append((s, e))
    scored = []
    for idx, inside in per_sentence.items():
        distinct = len({text[s:e].casefold() for s, e in inside})
        scored.append((distinct * 10 + len(inside), -idx, idx))
    scored.sort(reverse=True)
    chosen: list[tuple[int, int]] = []
    for _, _, idx in scored:
        a, b = sentences[idx]
        # grow the passage with following sentences while it stays short
        j = idx + 1
        while b - a < size * 0.6 and j < len(sentences) and sentences[j][1] - a <= size:
            b = sentences[j][1]
            j += 1
        if b - a > size:
            first = next(s for s, e in ranges if s >= a)
            a = max(a, first - size // 3)
            b = min(b, a + size)
        if any(not (b <= ca or a >= cb) for ca, cb in chosen):
            continue
        chosen.append((a, b))
        if len(chosen) >= count:
            break
    chosen.sort()
    out = []
    for a, b in chosen:
        piece_ranges = tuple((max(s, a) - a, min(e, b) - a) for s, e in ranges if e > a and s < b)
        piece = text[a:b]
        lead = len(piece) - len(piece.lstrip())
        piece = piece.strip()
        piece_ranges = tuple((s - lead, e - lead) for s, e in piece_ranges if e - lead > 0 and s - lead < len(piece))
        piece_ranges = tuple((max(0, s), min(len(piece), e)) for s, e in piece_ranges)
        prefix = "…" if a > 0 and text[a - 1] not in "\n。！？；!?;" else ""
        suffix = "…" if b < len(text) and text[b - 1] not in "\n。！？；!?;" else ""
        shifted = tuple((s + len(prefix), e + len(prefix)) for s, e in piece_ranges)
        out.append(_one_line(prefix + piece + suffix, shifted))
    return tuple(out)


def _one_line(text: str, ranges: tuple[tuple[int, int], ...]) -> Marked:
    """Paragraph breaks and runs of spaces become one space; ranges follow the characters."""
    keep: list[int] = []            # new index -> old index
    chars: list[str] = []
    for i, ch in enumerate(text):
        if ch in " \n\t":
            if chars and chars[-1] == " ":
                continue
            ch = " "
        chars.append(ch)
        keep.append(i)
    new_of = {old: new for new, old in enumerate(keep)}
    moved = []
    for s, e in ranges:
        starts = [new_of[i] for i in range(s, e) if i in new_of]
        if starts:
            moved.append((starts[0], starts[-1] + 1))
    return Marked("".join(chars), tuple(moved))


def _cut_end(text: str, start: int, size: int) -> int:
    end = min(len(text), start + size)
    window = text[start:end]
    best = max(window.rfind(ch) for ch in "。！？；.!?\n")
    return start + best + 1 if best > size // 3 else end


def _clean(text: str) -> str:
    return text.replace("\n", " ").strip()


_BREAKS = ("\n\n", "\n", "。", "！", "？", ". ")


def part_bounds(text: str, offset: int, limit: int) -> tuple[int, int]:
    """[start, end) of the part of a long text to show from ``offset``: at most ``limit``
    characters, ending at a paragraph break (else a line or sentence end) in the part's second
    half, so one huge article never ties up a server thread and the next part starts cleanly."""
    start = min(max(0, offset), len(text))
    end = min(len(text), start + max(1, limit))
    if end < len(text):
        floor = start + (end - start) // 2
        for mark in _BREAKS:
            cut = text.rfind(mark, floor, end)
            if cut != -1:
                end = cut + len(mark)
                break
    return start, end
