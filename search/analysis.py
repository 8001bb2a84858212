"""Chinese-aware analysis: normalisation, our own Latin rules, jieba words and CJK n-grams.

The only module that imports jieba. Everything here serves two promises:

* index and query sides see the same normalised text (NFKC, case-fold, Traditional and
  regional variants folded to Simplified), so 國安法 / 国安法 / ＣＯＶＩＤ find each other;
* every token's ``startchar``/``endchar`` point into the ORIGINAL text, so highlights land on
  the characters the user sees, whatever the folding did.

Word positions are word ordinals; jieba's search-mode sub-words share the position of the word
they come from, so a phrase over whole words still lines up. The n-gram field carries CJK
unigrams so a character standing alone, or a word buried inside a longer word, can still be
found, and a quoted phrase can be matched as a chain of characters whatever jieba made of it.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import threading
import unicodedata
from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np
from whoosh.analysis import Token, Tokenizer

ANALYZER_VERSION = "3"

# Characters that count as CJK for segmentation: Han (BMP + compatibility) and kana.
_CJK = "\u3005\u3007\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_HAN_RE = re.compile(f"[{_CJK}]")
_SCAN_RE = re.compile(
    r"(?P<url>(?:https?|ftp)://[^\s<>\"'`" + _CJK + r"\u3000-\u303f\uff00-\uffef]+)"
    r"|(?P<email>[a-z0-9][a-z0-9._%+\-]*@[a-z0-9\-]+(?:\.[a-z0-9\-]+)+)"
    r"|(?P<word>[^\W_" + _CJK + r"]+(?:[.\-_'’·][^\W_" + _CJK + r"]+)*(?:\+\+|#)?)"
    r"|(?P<cjk>[" + _CJK + r"]+)"
)
_URL_TRAIL = ".,;:!?)]}'\""
_PART_RE = re.compile(r"[^\W\d_]+|\d+")

# Regional and variant forms folded beyond OpenCC's Traditional->Simplified tables.
_VARIANTS = {"著": "着", "裡": "里", "裏": "里", "臺": "台", "檯": "台", "颱": "台", "綫": "线",
             "線": "线", "衞": "卫", "峯": "峰", "羣": "群", "麪": "面", "牀": "床", "爲": "为",
             "僞": "伪", "眞": "真", "説": "说", "蔴": "麻", "姊": "姐"}

# Latin-lettered words jieba's dictionary spells with capitals; extended with a few common ones.
_EXTRA_MIXED = ("b站", "a站", "k线", "x光", "u盘", "q版", "p图", "h股", "n股", "a股", "t恤", "e人", "i人",
                "卡拉ok", "阿q")

log = logging.getLogger(__name__)


SEGMENTERS = ("auto", "jieba", "jieba_fast")


def segmenter_module(choice: str = "auto"):
    """jieba, or jieba_fast (the same algorithm in C, ~3x faster, tokens differ on ~2% of
    runs) when it is installed (`pip install sou[fast]`) and not refused."""
    if choice in ("auto", "jieba_fast"):
        try:
            import jieba_fast

            return jieba_fast
        except ImportError:
            if choice == "jieba_fast":
                raise
    import jieba

    return jieba


@dataclass(frozen=True)
class AnalyzerConfig:
    """What changes the tokens an index was built with; its fingerprint is stored in the index."""

    user_dict: str = ""
    variants: bool = True
    segmenter: str = "auto"

    def segmenter_name(self) -> str:
        mod = segmenter_module(self.segmenter)
        return f"{mod.__name__} {getattr(mod, '__version__', '?')}"

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


class _Runtime:
    """Per-process state: the translate table and one jieba tokenizer, built once, lazily."""

    def __init__(self) -> None:
        # Reentrant: loading jieba with a user dictionary normalises its words, and normalize()
        # builds the folding table under this same lock (a plain Lock deadlocked right there).
        self.lock = threading.RLock()
        self.config = AnalyzerConfig()
        self.cache_dir: Path | None = None
        self._table: dict[int, str] | None = None
        self._odd: re.Pattern[str] | None = None
        self._jieba = None
        self._mixed: dict[str, int] | None = None

    def configure(self, config: AnalyzerConfig, cache_dir: Path | None = None) -> None:
        with self.lock:
            if config != self.config:
                self.config = config
                _SEGMENT_CACHE.clear()
                self._table = None
                self._jieba = None
                self._mixed = None
            if cache_dir is not None:
                self.cache_dir = cache_dir

    # -- normalisation ---------------------------------------------------------------------
    def table(self) -> tuple[dict[int, str], re.Pattern[str]]:
        if self._table is None:
            with self.lock:
                if self._table is None:
                    self._table, self._odd = _build_table(self.config.variants)
        assert self._odd is not None
        return self._table, self._odd

    # -- jieba -----------------------------------------------------------------------------
    def jieba(self):
        if self._jieba is None:
            with self.lock:
                if self._jieba is None:
                    self._jieba, self._mixed = self._load_jieba()
        return self._jieba

    def mixed(self) -> dict[str, int]:
        self.jieba()
        assert self._mixed is not None
        return self._mixed

    def _load_jieba(self):
        jieba = segmenter_module(self.config.segmenter)
        jieba.setLogLevel(logging.WARNING)
        logging.getLogger("jieba").setLevel(logging.WARNING)
        tk = jieba.Tokenizer()
        cache_dir = self.cache_dir or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "sou"
        try:
            cache_dir.mkdir(parents=True, exist_ok=True)
            tk.tmp_dir = str(cache_dir)
        except OSError:
            tk.tmp_dir = None  # jieba then falls back to the system temp dir
        tk.cache_file = f"{jieba.__name__}.cache"
        tk.initialize()
        if self.config.user_dict:
            for word, freq, tag in read_user_dict(self.config.user_dict):
                tk.add_word(normalize(word)[0], freq, tag)
        mixed = {}
        for word in list(tk.FREQ):
            low = word.lower()
            if low != word and tk.FREQ[word] and _is_mixed(low):
                mixed[low] = tk.FREQ[word]
                tk.add_word(low, tk.FREQ[word])
        for word in _EXTRA_MIXED:
            if word not in mixed:
                mixed[word] = 3
                tk.add_word(word, 3)
        return tk, mixed


RUNTIME = _Runtime()


def configure(config: AnalyzerConfig, cache_dir: Path | None = None) -> None:
    """Set the process-wide analysis options (user dictionary, variant folding)."""
    RUNTIME.configure(config, cache_dir)


def read_user_dict(path: str) -> Iterator[tuple[str, int | None, str | None]]:
    """Lines of `word [freq] [tag]`, as jieba reads them; blank lines and `#` comments skipped."""
    with open(path, encoding="utf-8-sig") as fh:
        for line in fh:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            parts = line.split()
            freq = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None
            tag = parts[2] if len(parts) > 2 else (parts[1] if len(parts) > 1 and not parts[1].isdigit() else None)
            yield parts[0], freq, tag


def _is_mixed(word: str) -> bool:
    return bool(re.fullmatch(r"[a-z0-9]+[\u4e00-\u9fff]+|[\u4e00-\u9fff]+[a-z]+", word))


def _build_table(variants: bool) -> tuple[dict[int, str], re.Pattern[str]]:
    """One translate table for NFKC + case-fold + script folding, and a regex of the characters
    whose mapping is not one-to-one (only texts containing them need an offset map)."""
    import opencc

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
    odd_re = re.compile("[" + "".join(odd) + "]") if odd else re.compile("(?!x)x")
    return table, odd_re


def normalize(text: str) -> tuple[str, list[int] | None]:
    """Fold ``text``; return it with a map from each folded character to its original index
    (``None`` when folding kept every character in place, the common case)."""
    table, odd = RUNTIME.table()
    if len(text) >= 256 and not odd.search(text):
        # Every character maps to one: an array look-up instead of str.translate's dictionary
        # look-up per character (5 ms for a 60k-character transcript).
        points = np.frombuffer(text.encode("utf-32-le"), dtype="<u4")
        mapped = np.where(points <= 0xFFFF, _table_array("single", table)[np.minimum(points, 0xFFFF)], points)
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
    sizes = np.where(points <= 0xFFFF, _table_array("sizes", table)[np.minimum(points, 0xFFFF)], 1)
    offsets = np.repeat(np.arange(len(text)), sizes).tolist()
    offsets.append(len(text))
    return folded, offsets


# Per-table arrays; each holds its table, so a new table can never be mistaken for the old one.
_ARRAYS: dict[str, tuple[dict[int, str], np.ndarray]] = {}


def _table_array(kind: str, table: dict[int, str]) -> np.ndarray:
    """Per-character arrays of a folding table, over the Basic Multilingual Plane: ``single``,
    the code point each character folds to where it folds to one; ``sizes``, the length of
    what it folds to."""
    cached = _ARRAYS.get(kind)
    if cached is None or cached[0] is not table:
        out = np.arange(0x10000, dtype=np.uint32) if kind == "single" else np.ones(0x10000, dtype=np.int64)
        for code, mapped in table.items():
            if code > 0xFFFF:
                continue
            if kind == "sizes":
                out[code] = len(mapped)
            elif len(mapped) == 1:
                out[code] = ord(mapped)
        cached = _ARRAYS[kind] = (table, out)
    return cached[1]


def fold(text: str) -> str:
    """Normalised form only (for keys, dictionary look-ups, pinyin)."""
    return normalize(text)[0]


class Tok(NamedTuple):
    """One token. A NamedTuple rather than a dataclass: millions are made per reindex."""

    text: str
    pos: int
    start: int   # into the ORIGINAL text
    end: int


def _spans(norm: str) -> Iterator[tuple[str, int, int]]:
    """(kind, start, end) of URLs, e-mails, Latin/digit words and CJK runs in folded text."""
    mixed = RUNTIME.mixed()
    pending: tuple[str, int, int] | None = None
    for m in _SCAN_RE.finditer(norm):
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


_SEGMENT_CACHE: dict[str, tuple[str, ...]] = {}
_SEGMENT_CACHE_MAX = 300_000


def _segment(run: str, tk) -> tuple[str, ...]:
    """jieba's words for one CJK run, memoised: news text repeats the same short runs (names,
    places, stock phrases) constantly, and a run always segments the same way."""
    words = _SEGMENT_CACHE.get(run)
    if words is None:
        words = tuple(tk.cut(run, HMM=True))
        if len(run) <= 24:
            if len(_SEGMENT_CACHE) >= _SEGMENT_CACHE_MAX:
                _SEGMENT_CACHE.clear()
            _SEGMENT_CACHE[run] = words
    return words


def tokenize(text: str, mode: str = "query") -> list[Tok]:
    """Word tokens of ``text``. ``mode="index"`` adds search-mode sub-words at the position
    of their word (jieba sub-words, parts of hyphenated or letter+digit identifiers)."""
    norm, offsets = normalize(text)
    return [Tok._make(t) for t in _word_tuples(norm, offsets, mode == "index")]


def ngrams(text: str) -> list[Tok]:
    """CJK characters (unigrams) plus whole Latin words; positions count characters/words and
    skip spaces and punctuation, so a phrase also matches across `，` or a space.

    Unigrams rather than bigrams: measured on the sample corpus, bigrams multiplied the number
    of distinct terms by ~14 (Whoosh pays per term and per posting at commit), while unigrams
    alone still find one-character queries and any substring (as a phrase of characters)."""
    norm, offsets = normalize(text)
    return [Tok._make(t) for t in _gram_tuples(norm, offsets)]


def analyze_for_index(text: str) -> tuple[list[tuple[str, int, int, int]], str]:
    """Index-mode word tokens of ``text`` as plain (text, pos, start, end) tuples, and the
    folded text for ``encode_ngrams``: normalising once is the hot path of a reindex."""
    norm, offsets = normalize(text)
    return _word_tuples(norm, offsets, True), norm


def _word_tuples(norm: str, offsets: list[int] | None, index: bool) -> list[tuple[str, int, int, int]]:
    tk = RUNTIME.jieba()
    freq = tk.FREQ
    out: list[tuple[str, int, int, int]] = []
    append = out.append
    pos = 0
    for kind, start, end in _spans(norm):
        if kind == "cjk":
            i = start
            for word in _segment(norm[start:end], tk):
                n = len(word)
                j = i + n
                if index and n > 2:
                    for k in range(n - 1):
                        if freq.get(word[k:k + 2]):
                            append(_orig(word[k:k + 2], pos, i + k, i + k + 2, offsets))
                    if n > 3:
                        for k in range(n - 2):
                            if freq.get(word[k:k + 3]):
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


def _orig(text: str, pos: int, a: int, b: int, offsets: list[int] | None) -> tuple[str, int, int, int]:
    """Map a span of the folded text back onto the original."""
    if offsets is None:
        return (text, pos, a, b)
    return (text, pos, offsets[a], offsets[b - 1] + 1 if b > a else offsets[a])


def _gram_tuples(norm: str, offsets: list[int] | None) -> list[tuple[str, int, int, int]]:
    out: list[tuple[str, int, int, int]] = []
    append = out.append
    pos = 0
    for m in _SCAN_RE.finditer(norm):
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


def encode_ngrams(norm: str, size: int | None = None) -> tuple[list[tuple[bytes, int, float, bytes]], int]:
    """What ``encode_positions(ngrams(text))`` gives, from the folded text, without a tuple per
    character: the n-gram field only stores positions, and bodies have thousands of characters."""
    seen: dict[str, list[int]] = {}
    pos = 0
    for m in _SCAN_RE.finditer(norm):
        start, end = m.span()
        # A CJK run gives one term per character; anything else is one term.
        for term in norm[start:end] if m.lastgroup == "cjk" else (norm[start:end],):
            places = seen.get(term)
            if places is None:
                seen[term] = [pos]
            else:
                places.append(pos)
            pos += 1
    pack = _packer(size)
    return [(word.encode("utf-8"), len(p), float(len(p)), pack(p)) for word, p in seen.items()], pos


def query_ngrams(text: str) -> list[str]:
    """The n-gram terms a phrase must match at consecutive positions."""
    return [t.text for t in ngrams(text)]


# -- pre-analysed postings, for the fast parallel index path ------------------------------------

def encode_characters(toks, size: int | None = None) -> tuple[list[tuple[bytes, int, float, bytes]], int]:
    """Postings in the CompactCharacters format (see schema.py) for (text, pos, start, end).
    ``size``: the analysed text's length, which bounds every position and offset, so one
    array type serves the whole document (saves a max() per term)."""
    seen: dict[str, list[int]] = {}
    for text, pos, start, end in toks:
        flat = seen.get(text)
        if flat is None:
            seen[text] = [pos, start, end]
        else:
            flat += (pos, start, end)
    pack = _packer(size)
    items = [(word.encode("utf-8"), len(flat) // 3, float(len(flat) // 3), pack(flat)) for word, flat in seen.items()]
    return items, len(toks)


def encode_positions(toks, size: int | None = None) -> tuple[list[tuple[bytes, int, float, bytes]], int]:
    """Postings in the CompactPositions format for (text, pos, ...) tuples."""
    seen: dict[str, list[int]] = {}
    for tok in toks:
        flat = seen.get(tok[0])
        if flat is None:
            seen[tok[0]] = [tok[1]]
        else:
            flat.append(tok[1])
    pack = _packer(size)
    items = [(word.encode("utf-8"), len(flat), float(len(flat)), pack(flat)) for word, flat in seen.items()]
    return items, len(toks)


def _packer(size: int | None):
    if size is None:
        return pack_ints
    code = "H" if size < 65536 else "I"
    prefix = code.encode("ascii")

    def pack(values: list[int]) -> bytes:
        try:
            return prefix + array(code, values).tobytes()
        except OverflowError:      # never expected: positions and offsets stay below ``size``
            return pack_ints(values)

    return pack


def pack_ints(values: list[int]) -> bytes:
    """Non-negative ints as a typecode byte + a machine array: 2 bytes each when they fit."""
    if max(values) < 65536:
        return b"H" + array("H", values).tobytes()
    return b"I" + array("I", values).tobytes()


def unpack_ints(data: bytes) -> array:
    return array(chr(data[0]), data[1:]) if data else array("I")


# -- Whoosh tokenizers ---------------------------------------------------------------------------

class _SouTokenizer(Tokenizer):
    """Honours Whoosh's contract: positions are ordinals, chars are offsets into the original."""

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
