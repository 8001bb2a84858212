"""Hits -> highlight ranges and snippets.

The query's words and phrases are found again in each hit's text, as folded and ignoring the
spaces and punctuation between their characters (the text is never segmented again, and the
index keeps no character offsets). The search runs over the text as stored, each character of
a word standing for every character that folds to it, so the ten bodies of a page of hits are
never folded or copied; a text holding a character that folds to several letters is folded
and mapped back instead. Snippets are cut at sentence boundaries around the passages with the
most distinct matches. HTML is made only by
``Marked.to_html()``, which escapes.
"""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Callable, Iterable

import numpy as np

from . import analysis
from .models import Marked

# A sentence that holds more than spaces (the look-ahead refuses blank ones, and so every
# suffix of one: the scan moves on to the next sentence).
_SENTENCE_RE = re.compile(r"(?![^\S\n]*(?:\n|$))[^。！？；!?;\n]*(?:[。！？；!?;]+[」』”’)）]*|\n|$)")
_SPACE_RUN_RE = re.compile(r"[ \n\t]{2,}")
_SPACE_RE = re.compile(r"[ \n\t]+")
_SKIP_RE = re.compile(r"[\s\u3000-\u303f\uff00-\uff0f\uff1a-\uff20\u2000-\u206f!-/:-@\[-`{-~]+")


def exact_ranges(text: str, needles: Iterable[str], analyzer: analysis.Analyzer | None = None) -> list[tuple[int, int]]:
    """Where ``needles`` occur in ``text`` after folding (by the index's ``analyzer``), ignoring
    spaces and punctuation between characters (so "五大訴求 缺一不可" lights up 五大訴求，缺一不可)."""
    needles = [n for n in needles if n and n.strip()]
    if not needles or not text:
        return []
    analyzer = analyzer or analysis.Analyzer.default()
    keys = [key for key in (_SKIP_RE.sub("", analyzer.fold(n)) for n in needles) if key]
    if not keys:
        return []
    spelled = _Spelled.of(analyzer)
    if not spelled.rules_out.search(text):
        return _unfolded_ranges(text, keys, analyzer, spelled)
    return _folded_ranges(text, keys, analyzer)


def _unfolded_ranges(text: str, keys: list[str], analyzer: analysis.Analyzer, spelled: _Spelled) -> list[tuple[int, int]]:
    """The common case: each key becomes a pattern over the UNFOLDED text (every character
    that folds to the key's, skipped characters allowed between them), so a hit's body is
    neither folded nor squeezed (a third of a search's time went there when every hit's whole
    body was)."""
    out: list[tuple[int, int]] = []
    fold = analyzer.fold
    for key in keys:
        latin = key.isascii()
        for m in spelled.pattern(key).finditer(text):
            a, b = m.span()
            if not latin or _word_bounded(_folded_neighbour(text, a - 1, -1, fold), _folded_neighbour(text, b, 1, fold)):
                out.append((a, b))
    return out


def _folded_neighbour(text: str, i: int, step: int, fold: Callable[[str], str]) -> str:
    """The folded character next to a match, walking past characters that fold to nothing."""
    while 0 <= i < len(text):
        folded = fold(text[i])
        if folded:
            return folded[-1] if step < 0 else folded[0]
        i += step
    return ""


class _Spelled:
    """One analyzer's folding turned around, for searching text that was never folded: which
    characters fold to each folded one, which fold to nothing but skipped characters (spaces,
    punctuation, "…" -> "..."), and which rule the search out (those folding to several
    characters that matter, such as "ﬁ" -> "fi": such texts are folded and squeezed instead)."""

    def __init__(self, analyzer: analysis.Analyzer) -> None:
        self.analyzer = analyzer
        skipped = "".join(analyzer.sources(chr(code)) for code in np.flatnonzero(_skip_table()).tolist())
        several = [(chr(code), mapped) for code, mapped in analyzer.table.items() if len(mapped) != 1]
        skipped += "".join(ch for ch, mapped in several if _SKIP_RE.fullmatch(mapped) or not mapped)
        hard = "".join(ch for ch, mapped in several if mapped and not _SKIP_RE.fullmatch(mapped))
        self.skip = f"[{_class_escape(skipped)}]*"
        self.rules_out = re.compile(f"[{_class_escape(hard)}]" if hard else "(?!)")
        self.pattern = functools.lru_cache(maxsize=4096)(self._pattern)

    @staticmethod
    @functools.lru_cache(maxsize=8)
    def of(analyzer: analysis.Analyzer) -> _Spelled:
        """The analyzer's (analyzers are shared and never change)."""
        return _Spelled(analyzer)

    def _pattern(self, key: str) -> re.Pattern[str]:
        # A folded character nothing folds to (it folds further) never occurs in folded text.
        return re.compile(self.skip.join(f"[{_class_escape(sources)}]" if (sources := self.analyzer.sources(ch))
                                         else "(?!)" for ch in key))


def _class_escape(chars: str) -> str:
    return "".join("\\" + ch if ch in "\\]^-[" else ch for ch in chars)


def _folded_ranges(text: str, keys: list[str], analyzer: analysis.Analyzer) -> list[tuple[int, int]]:
    """Texts holding a character that folds to several that matter ("ﬁ" -> "fi"): search the
    folded text with the skipped characters removed, then map back through the offsets."""
    folded, offsets = analyzer.normalize(text)
    squeezed = _SKIP_RE.sub("", folded)
    present = [(key, key.isascii()) for key in keys if key in squeezed]
    if not present:
        return []
    place = _Unsqueeze(folded)
    out: list[tuple[int, int]] = []
    for key, latin in present:
        start = squeezed.find(key)
        while start != -1:
            a, b = place(start), place(start + len(key) - 1) + 1
            if not latin or _word_bounded(folded[a - 1:a], folded[b:b + 1]):
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


def _word_bounded(before: str, after: str) -> bool:
    """Whether a Latin match is a whole word: the folded characters around it ("" at an end)
    are not ASCII letters or digits."""
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
    if not ranges:
        end = _cut_end(text, 0, size)
        return (Marked(_clean(text[:end]), ()),)
    sentences = [m.span() for m in _SENTENCE_RE.finditer(text)]
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
    runs = [m.span() for m in _SPACE_RUN_RE.finditer(text)]   # each keeps its first character

    def moved(i: int) -> int:
        return i - sum(b - a - 1 for a, b in runs if b <= i)

    out = []
    for s, e in ranges:
        first, last = s, e - 1
        for a, b in runs:
            if a < first < b:
                first = b
            if a < last < b:
                last = a
        if first <= last:
            out.append((moved(first), moved(last) + 1))
    return Marked(_SPACE_RE.sub(" ", text), tuple(out))


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
