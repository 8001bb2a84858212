"""Chinese-aware analysis: normalisation, our own Latin rules, jieba words and CJK n-grams.

Everything here serves two promises:

* index and query sides see the same normalised text (NFKC, case-fold, Traditional and
  regional variants folded to Simplified), so 國安法 / 国安法 / ＣＯＶＩＤ find each other;
* every token's ``startchar``/``endchar`` point into the ORIGINAL text, so highlights land on
  the characters the user sees, whatever the folding did.

Word positions are word ordinals; jieba's search-mode sub-words share the position of the word
they come from, so a phrase over whole words still lines up. The n-gram field carries CJK
unigrams so a character standing alone, or a word buried inside a longer word, can still be
found, and a quoted phrase can be matched as a chain of characters whatever jieba made of it.

An ``Analyzer`` is one index's analysis (its user dictionary, variant folding and segmenter).
Analyzers are immutable once built and shared between engines with the same configuration, so
opening a second index with other settings never changes the answers of the first. The
module-level functions (``fold``, ``tokenize``, ...) use the default configuration; the engine
and the indexer always use their index's own analyzer.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import marshal
import os
import re
import threading
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np
from whoosh.analysis import Token, Tokenizer

from .segmenter import SEGMENTERS, Segmenter, check_user_dict, default_cache_dir, segmenter_name

ANALYZER_VERSION = "3"

# Characters that count as CJK for segmentation: Han (BMP + compatibility) and kana.
CJK_CLASS = "\u3005\u3007\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
HAN_RE = re.compile(f"[{CJK_CLASS}]")
#: URLs, e-mail addresses, Latin/digit words (with inner . - _ ' ·) and CJK runs, in folded text.
SCAN_RE = re.compile(
    r"(?P<url>(?:https?|ftp)://[^\s<>\"'`" + CJK_CLASS + r"\u3000-\u303f\uff00-\uffef]+)"
    r"|(?P<email>[a-z0-9][a-z0-9._%+\-]*@[a-z0-9\-]+(?:\.[a-z0-9\-]+)+)"
    r"|(?P<word>[^\W_" + CJK_CLASS + r"]+(?:[.\-_'’·][^\W_" + CJK_CLASS + r"]+)*(?:\+\+|#)?)"
    r"|(?P<cjk>[" + CJK_CLASS + r"]+)"
)
#: The same non-CJK tokens as SCAN_RE, without the CJK runs (n-grams take characters from arrays).
LATIN_RE = re.compile(SCAN_RE.pattern.rsplit("|(?P<cjk>", 1)[0])
_CJK_MASK = np.zeros(0x10000, dtype=bool)
for _lo, _hi in ((0x3005, 0x3005), (0x3007, 0x3007), (0x3040, 0x30FF), (0x3400, 0x4DBF), (0x4E00, 0x9FFF),
                 (0xF900, 0xFAFF)):
    _CJK_MASK[_lo:_hi + 1] = True
_URL_TRAIL = ".,;:!?)]}'\""
_PART_RE = re.compile(r"[^\W\d_]+|\d+")

# Regional and variant forms folded beyond OpenCC's Traditional->Simplified tables.
_VARIANTS = {"著": "着", "裡": "里", "裏": "里", "臺": "台", "檯": "台", "颱": "台", "綫": "线",
             "線": "线", "衞": "卫", "峯": "峰", "羣": "群", "麪": "面", "牀": "床", "爲": "为",
             "僞": "伪", "眞": "真", "説": "说", "蔴": "麻", "姊": "姐"}

_SEGMENT_CACHE_MAX = 300_000


def has_han(text: str) -> bool:
    """Whether ``text`` holds a CJK character (Han or kana)."""
    return HAN_RE.search(text) is not None


@dataclass(frozen=True)
class AnalyzerConfig:
    """What changes the tokens an index was built with; its fingerprint is stored in the index."""

    user_dict: str = ""
    variants: bool = True
    segmenter: str = "auto"

    def __post_init__(self) -> None:
        if self.segmenter not in SEGMENTERS:
            from .errors import ConfigError

            raise ConfigError(f"unknown segmenter {self.segmenter!r} (use one of {', '.join(SEGMENTERS)})")

    def segmenter_name(self) -> str:
        return segmenter_name(self.segmenter)

    def fingerprint(self) -> str:
        digest = hashlib.sha256()
        digest.update(f"analyzer={ANALYZER_VERSION};variants={self.variants};".encode())
        digest.update(f"segmenter={self.segmenter_name()};".encode())
        if self.user_dict:
            try:
                digest.update(Path(self.user_dict).read_bytes())
            except OSError:
                digest.update(b"<missing user dictionary>")
        return digest.hexdigest()[:16]

    def check(self) -> None:
        """Raise ConfigError (one clear line) for a user dictionary that cannot be read."""
        check_user_dict(self.user_dict)


class Tok(NamedTuple):
    """One token. A NamedTuple rather than a dataclass: millions are made per reindex."""

    text: str
    pos: int
    start: int   # into the ORIGINAL text
    end: int


class Analyzer:
    """Normalising, folding and segmenting for one index configuration. Thread-safe: the
    folding table is built once, the segmenter is loaded once under a lock, and the segment
    cache only ever gains entries that do not depend on who asked."""

    _registry: dict[tuple[AnalyzerConfig, Path], Analyzer] = {}
    _registry_lock = threading.Lock()

    def __init__(self, config: AnalyzerConfig, cache_dir: Path | None = None) -> None:
        self.config = config
        self.cache_dir = cache_dir or default_cache_dir()
        self._lock = threading.Lock()
        self._segmenter: Segmenter | None = None
        self._segment_cache: dict[str, tuple[str, ...]] = {}
        self.table, self._odd = folding_table(config.variants)
        self._single, self._sizes = table_arrays(config.variants)

    @classmethod
    def for_config(cls, config: AnalyzerConfig, cache_dir: Path | None = None) -> Analyzer:
        """The shared analyzer of ``config`` (built on first use)."""
        key = (config, cache_dir or default_cache_dir())
        with cls._registry_lock:
            found = cls._registry.get(key)
            if found is None:
                found = cls._registry[key] = cls(config, key[1])
            return found

    @classmethod
    def default(cls) -> Analyzer:
        return cls.for_config(AnalyzerConfig())

    # -- the segmenter -------------------------------------------------------------------------
    @property
    def segmenter(self) -> Segmenter:
        seg = self._segmenter
        if seg is None:
            with self._lock:
                if self._segmenter is None:
                    self._segmenter = Segmenter(self.config.segmenter, self.config.user_dict, self.cache_dir,
                                                self.fold)
                seg = self._segmenter
        return seg

    def load(self) -> Analyzer:
        """Load the dictionary now (about 0.5 s), not on the first query."""
        _ = self.segmenter
        return self

    def known(self, word: str) -> bool:
        """Whether ``word`` is in the segmenter's dictionary (or the index's user dictionary)."""
        return self.segmenter.known(word)

    def frequency(self, word: str) -> int:
        """``word``'s frequency in the segmenter's dictionary (0: not a word)."""
        return self.segmenter.freq.get(word, 0)

    def _segment(self, run: str, seg: Segmenter) -> tuple[str, ...]:
        """jieba's words for one CJK run, memoised: news text repeats the same short runs (names,
        places, stock phrases) constantly, and a run always segments the same way."""
        cache = self._segment_cache
        words = cache.get(run)
        if words is None:
            words = tuple(seg.cut(run))
            if len(run) <= 24:
                if len(cache) >= _SEGMENT_CACHE_MAX:
                    cache.clear()
                cache[run] = words
        return words



    # -- normalisation -----------------------------------------------------------------------
    def normalize(self, text: str) -> tuple[str, list[int] | None]:
        """Fold ``text``; return it with a map from each folded character to its original index
        (``None`` when folding kept every character in place, the common case)."""
        table, odd = self.table, self._odd
        if len(text) >= 256 and not odd.search(text):
            # Every character maps to one: an array look-up instead of str.translate's dictionary
            # look-up per character (5 ms for a 60k-character transcript).
            points = np.frombuffer(text.encode("utf-32-le"), dtype="<u4")
            mapped = np.where(points <= 0xFFFF, self._single[np.minimum(points, 0xFFFF)], points)
            return mapped.astype("<u4").tobytes().decode("utf-32-le"), None
        folded = text.translate(table)
        if len(folded) == len(text) and not odd.search(text):
            return folded, None
        if len(text) < 64:
            offsets: list[int] = []
            for i, ch in enumerate(text):
                offsets.extend([i] * len(table.get(ord(ch), ch)))
            offsets.append(len(text))
            return folded, offsets
        # Long texts (article bodies): each character's mapped length from an array, repeated.
        points = np.frombuffer(text.encode("utf-32-le"), dtype="<u4")
        sizes = np.where(points <= 0xFFFF, self._sizes[np.minimum(points, 0xFFFF)], 1)
        offsets = np.repeat(np.arange(len(text)), sizes).tolist()
        offsets.append(len(text))
        return folded, offsets

    @functools.cached_property
    def _sources(self) -> dict[int, str]:
        """Folded code point -> every Basic Multilingual Plane character that folds to it alone,
        for the 5k or so that other characters fold to (all of them: 9 MB in every process)."""
        ones = np.flatnonzero(self._sizes == 1)
        targets = self._single[ones]
        order = np.argsort(targets, kind="stable")
        ones, targets = ones[order], targets[order]
        cuts = np.flatnonzero(np.diff(targets)) + 1
        groups = zip(np.split(ones, cuts), np.split(targets, cuts), strict=True)
        return {int(target[0]): "".join(map(chr, group.tolist()))
                for group, target in groups if len(group) > 1 or group[0] != target[0]}

    def sources(self, ch: str) -> str:
        """Every character that folds to ``ch`` alone (``ch`` itself when it folds to itself):
        what a search of UNFOLDED text must accept to find the folded ``ch``."""
        code = ord(ch)
        if code > 0xFFFF:
            return ch
        found = self._sources.get(code)
        if found is not None:
            return found
        return ch if self._sizes[code] == 1 and self._single[code] == code else ""

    def fold(self, text: str) -> str:
        """Normalised form only (for keys, dictionary look-ups, pinyin): ``normalize`` without
        the offset map, which a text holding a character that folds to two costs to build."""
        if len(text) >= 256 and not self._odd.search(text):
            return self.normalize(text)[0]
        return text.translate(self.table)

    # -- tokens ------------------------------------------------------------------------------
    def tokenize(self, text: str, mode: str = "query") -> list[Tok]:
        """Word tokens of ``text``. ``mode="index"`` adds search-mode sub-words at the position
        of their word (jieba sub-words, parts of hyphenated or letter+digit identifiers)."""
        norm, offsets = self.normalize(text)
        return [Tok._make(t) for t in self._word_tuples(norm, offsets, mode == "index")]

    def index_words(self, norm: str) -> list[str]:
        """Every index-mode word of folded text (search-mode sub-words included), without
        positions or offsets: what a frequency-only field (the body) needs, built without a tuple
        per word."""
        seg = self.segmenter
        out: list[str] = []
        extend, append = out.extend, out.append
        for kind, start, end in self._spans(norm):
            if kind == "cjk":
                extend(seg.cut_for_search(norm[start:end]))
            else:
                word = norm[start:end]
                append(word)
                if kind == "word" and not word.isalpha():
                    for m in _PART_RE.finditer(word):
                        if m.end() - m.start() < len(word) and not (word[0].isdigit() and "." in word):
                            append(m.group())
        return out

    def index_positioned(self, norm: str) -> tuple[list[str], list[int]]:
        """Index-mode words of folded text with their positions (titles, tags)."""
        toks = self._word_tuples(norm, None, True)
        return [t[0] for t in toks], [t[1] for t in toks]

    def ngrams(self, text: str) -> list[Tok]:
        """CJK characters (unigrams) plus whole Latin words; positions count characters/words and
        skip spaces and punctuation, so a phrase also matches across `，` or a space.

        Unigrams rather than bigrams: measured on the sample corpus, bigrams multiplied the number
        of distinct terms by ~14 (Whoosh pays per term and per posting at commit), while unigrams
        alone still find one-character queries and any substring (as a phrase of characters)."""
        norm, offsets = self.normalize(text)
        return [Tok._make(t) for t in _gram_tuples(norm, offsets)]

    def query_ngrams(self, text: str) -> list[str]:
        """The n-gram terms a phrase must match at consecutive positions."""
        return [t.text for t in self.ngrams(text)]

    def searchable(self, text: str) -> bool:
        """Whether ``text`` has a letter, digit or CJK character to search for."""
        return SCAN_RE.search(self.fold(text)) is not None

    def _spans(self, norm: str) -> Iterator[tuple[str, int, int]]:
        """(kind, start, end) of URLs, e-mails, Latin/digit words and CJK runs in folded text."""
        mixed = self.segmenter.mixed
        pending: tuple[str, int, int] | None = None
        for m in SCAN_RE.finditer(norm):
            kind = m.lastgroup or "word"
            start, end = m.span()
            if kind == "url":
                while end > start and norm[end - 1] in _URL_TRAIL:
                    end -= 1
            if pending is not None:
                pkind, pstart, pend = pending
                if pkind == "word" and kind == "cjk" and pend == start and pend - pstart <= 4:
                    joined = None
                    for k in (2, 1):
                        if end - start >= k and norm[pstart:start + k] in mixed:
                            joined = start + k
                            break
                    if joined is not None:
                        yield ("word", pstart, joined)
                        pending = None
                        if joined < end:
                            pending = ("cjk", joined, end)
                        continue
                yield pending
            pending = (kind, start, end)
        if pending is not None:
            yield pending

    def _word_tuples(self, norm: str, offsets: list[int] | None, index: bool) -> list[tuple[str, int, int, int]]:
        seg = self.segmenter
        known = seg.known
        out: list[tuple[str, int, int, int]] = []
        append = out.append
        pos = 0
        for kind, start, end in self._spans(norm):
            if kind == "cjk":
                i = start
                for word in self._segment(norm[start:end], seg):
                    n = len(word)
                    j = i + n
                    if index and n > 2:
                        for k in range(n - 1):
                            if known(word[k:k + 2]):
                                append(_orig(word[k:k + 2], pos, i + k, i + k + 2, offsets))
                        if n > 3:
                            for k in range(n - 2):
                                if known(word[k:k + 3]):
                                    append(_orig(word[k:k + 3], pos, i + k, i + k + 3, offsets))
                    append(_orig(word, pos, i, j, offsets))
                    pos += 1
                    i = j
            else:
                word = norm[start:end]
                append(_orig(word, pos, start, end, offsets))
                if index and kind == "word" and not word.isalpha():
                    for m in _PART_RE.finditer(word):
                        if m.end() - m.start() < len(word) and not (word[0].isdigit() and "." in word):
                            append(_orig(m.group(), pos, start + m.start(), start + m.end(), offsets))
                pos += 1
        return out


@functools.lru_cache(maxsize=2)
def folding_table(variants: bool) -> tuple[dict[int, str], re.Pattern[str]]:
    """One translate table for NFKC + case-fold + script folding, and a regex of the characters
    whose mapping is not one-to-one (only texts containing them need an offset map). Built once
    per process for each ``variants`` value and never changed afterwards; derived once per machine
    into the cache folder, because building it (opencc over every Han character, NFKC over the
    BMP) took 0.1-0.2 s of every build's single-core start and of every index open."""
    import opencc

    key = hashlib.sha256(repr((ANALYZER_VERSION, variants, sorted(_VARIANTS.items()), unicodedata.unidata_version,
                               getattr(opencc, "__version__", "x"), opencc.__file__)).encode()).hexdigest()[:16]
    path = default_cache_dir() / f"folding-{key}.marshal"
    with contextlib.suppress(OSError, ValueError, EOFError, TypeError, re.error):
        table, odd = marshal.loads(path.read_bytes())
        if isinstance(table, dict) and table and isinstance(odd, str):
            return table, re.compile(odd)
    table, odd = _derive_folding(variants, opencc)
    with contextlib.suppress(OSError):       # a read-only cache folder only costs the next process
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        partial.write_bytes(marshal.dumps((table, odd)))
        os.replace(partial, path)
    return table, re.compile(odd)


def _derive_folding(variants: bool, opencc) -> tuple[dict[int, str], str]:
    table: dict[int, str] = {}
    odd: list[str] = []
    for code in range(0x10000):
        if 0xD800 <= code <= 0xDFFF:
            continue
        ch = chr(code)
        mapped = unicodedata.normalize("NFKC", ch).casefold()
        if mapped != ch:
            table[code] = mapped
    han = [chr(c) for c in range(0x3400, 0xA000)] + [chr(c) for c in range(0xF900, 0xFB00)]
    sources = [table.get(ord(c), c) for c in han]
    joined = "\n".join(sources)
    # Regional tables first, so a later one only fills characters the earlier ones kept.
    converted = list(sources)
    for cfg in ("hk2s", "tw2s", "t2s"):
        out = opencc.OpenCC(cfg).convert(joined).split("\n")
        converted = [o if c == src and o != src else c for o, c, src in zip(out, converted, sources, strict=True)]
    for ch, folded in zip(han, converted, strict=True):
        if variants:
            folded = "".join(_VARIANTS.get(f, f) for f in folded)
        if folded != ch:
            table[ord(ch)] = folded
    # Spaces, controls and invisible joiners: whitespace keeps length, joiners vanish.
    for code in list(range(0x00, 0x20)) + [0x7F]:
        table[code] = " " if chr(code) not in "\t\n\r" else chr(code)
    for code in (0x00A0, 0x3000, 0x2028, 0x2029, 0x202F, 0x205F, 0x1680) + tuple(range(0x2000, 0x200B)):
        table[code] = " "
    for code in (0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF, 0x00AD):
        table[code] = ""
    for code, mapped in table.items():
        if len(mapped) != 1:
            odd.append(re.escape(chr(code)))
    return table, ("[" + "".join(odd) + "]") if odd else "(?!x)x"


@functools.lru_cache(maxsize=2)
def table_arrays(variants: bool) -> tuple[np.ndarray, np.ndarray]:
    """The folding table over the Basic Multilingual Plane as two arrays: the code point each
    character folds to where it folds to one, and the length of what it folds to."""
    table, _ = folding_table(variants)
    single = np.arange(0x10000, dtype=np.uint32)
    sizes = np.ones(0x10000, dtype=np.int64)
    for code, mapped in table.items():
        if code > 0xFFFF:
            continue
        sizes[code] = len(mapped)
        if len(mapped) == 1:
            single[code] = ord(mapped)
    return single, sizes


def _orig(text: str, pos: int, a: int, b: int, offsets: list[int] | None) -> tuple[str, int, int, int]:
    """Map a span of the folded text back onto the original."""
    if offsets is None:
        return (text, pos, a, b)
    return (text, pos, offsets[a], offsets[b - 1] + 1 if b > a else offsets[a])


def _gram_tuples(norm: str, offsets: list[int] | None) -> list[tuple[str, int, int, int]]:
    out: list[tuple[str, int, int, int]] = []
    append = out.append
    pos = 0
    for m in SCAN_RE.finditer(norm):
        start, end = m.span()
        if m.lastgroup == "cjk":
            if offsets is None:
                for i in range(start, end):
                    append((norm[i], pos, i, i + 1))
                    pos += 1
            else:
                for i in range(start, end):
                    append(_orig(norm[i], pos, i, i + 1, offsets))
                    pos += 1
        else:
            append(_orig(norm[start:end], pos, start, end, offsets))
            pos += 1
    return out


@dataclass(frozen=True)
class GramArrays:
    """The n-gram terms of a folded text: CJK characters as code points with their positions,
    and the other tokens (Latin words, numbers, URLs) as strings with theirs."""

    chars: np.ndarray            # uint32 code points
    char_positions: np.ndarray   # int64
    words: list[str]
    word_positions: list[int]
    count: int                   # positions in all


def gram_arrays(norm: str) -> GramArrays:
    """What ``ngrams`` gives, computed with arrays: one entry per CJK character (bodies have
    thousands) costs no Python; only the few Latin tokens are matched by a regex."""
    points = np.frombuffer(norm.encode("utf-32-le"), dtype="<u4")
    cjk = np.flatnonzero(_CJK_MASK[np.minimum(points, 0xFFFF)] & (points <= 0xFFFF))
    latin = [(m.start(), m.group()) for m in LATIN_RE.finditer(norm)]
    if latin:
        starts = np.array([a for a, _ in latin], dtype=np.int64)
        where = np.concatenate((cjk, starts))
        rank = np.empty(len(where), dtype=np.int64)
        rank[np.argsort(where, kind="stable")] = np.arange(len(where))
        char_positions, word_positions = rank[:len(cjk)], rank[len(cjk):].tolist()
    else:
        char_positions, word_positions = np.arange(len(cjk), dtype=np.int64), []
    return GramArrays(points[cjk], char_positions, [w for _, w in latin], word_positions, len(cjk) + len(latin))


# -- the default configuration, for code without an index at hand --------------------------------

def fold(text: str) -> str:
    return Analyzer.default().fold(text)


def normalize(text: str) -> tuple[str, list[int] | None]:
    return Analyzer.default().normalize(text)


def tokenize(text: str, mode: str = "query") -> list[Tok]:
    return Analyzer.default().tokenize(text, mode)


def ngrams(text: str) -> list[Tok]:
    return Analyzer.default().ngrams(text)


def query_ngrams(text: str) -> list[str]:
    return Analyzer.default().query_ngrams(text)


# -- Whoosh tokenizers ---------------------------------------------------------------------------

class _SouTokenizer(Tokenizer):
    """Honours Whoosh's contract: positions are ordinals, chars are offsets into the original.
    The schema pickles these, so they hold no analyzer: they use the default configuration and
    serve only Whoosh's own code paths (sou analyses text itself with the index's analyzer)."""

    def _toks(self, value: str, mode: str) -> list[Tok]:
        raise NotImplementedError

    def __call__(self, value, positions=False, chars=False, keeporiginal=False, removestops=True,
                 start_pos=0, start_char=0, tokenize=True, mode="", **kwargs):
        t = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        if not tokenize:
            t.original = t.text = value
            t.boost = 1.0
            if positions:
                t.pos = start_pos
            if chars:
                t.startchar, t.endchar = start_char, start_char + len(value)
            yield t
            return
        for tok in self._toks(value, mode):
            t.text = tok.text
            t.boost = 1.0
            if keeporiginal:
                t.original = value[tok.start:tok.end]
            t.stopped = False
            if positions:
                t.pos = start_pos + tok.pos
            if chars:
                t.startchar = start_char + tok.start
                t.endchar = start_char + tok.end
            yield t

    def __eq__(self, other):
        return type(self) is type(other)

    def __hash__(self):
        return hash(type(self).__name__)


class WordTokenizer(_SouTokenizer):
    def _toks(self, value: str, mode: str) -> list[Tok]:
        return tokenize(value, "index" if mode == "index" else "query")


class NgramTokenizer(_SouTokenizer):
    def _toks(self, value: str, mode: str) -> list[Tok]:
        return ngrams(value)


def word_analyzer() -> WordTokenizer:
    return WordTokenizer()


def ngram_analyzer() -> NgramTokenizer:
    return NgramTokenizer()
