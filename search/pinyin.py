"""Pinyin over the index's vocabulary: `douyin` / `dou yin` / `dy` find 抖音, and the input-method
homophone 抖因 is corrected to 抖音.

The vocabulary (Chinese words of titles, tags, categories, and frequent body words, with their
document frequencies) is turned into pinyin once per reindex and saved next to the index, so a
query only does dictionary look-ups. Readings come from pypinyin's data: its phrase table for
words it knows (so 重庆 is chongqing), else each character's first reading.
"""

from __future__ import annotations

import array
import contextlib
import functools
import gzip
import hashlib
import importlib.util
import itertools
import json
import marshal
import math
import os
import re
import threading
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .segmenter import default_cache_dir
from .weights import (
    HOMOPHONE_MIN_WEIGHT,
    PINYIN_ALTERNATIVE_SHARE,
    PINYIN_BODY_MIN_DF,
    PINYIN_CHAR_CHOICES,
    PINYIN_FULL_INDEX_DOCS,
    PINYIN_INITIALS_CHOICES,
    PINYIN_TITLE_WEIGHT,
)

_HAN_WORD_RE = re.compile(r"^[\u4e00-\u9fff]{2,8}$")
_LETTERS_RE = re.compile(r"^[a-z ]+$")
_INITIALS_RE = re.compile(r"^[bcdfghjklmnpqrstwxyz]{2,5}$")
#: Letters that start a syllable's pinyin (zh/ch/sh give z/c/s; 安 恩 欧 start with a vowel).
_INITIAL_LETTERS_RE = re.compile(r"^[bpmfdtnlgkhjqxzcsrywaeo]{2,10}$")
_VOWEL_RE = re.compile(r"[aeo]")
MAX_KEY = 30
MAX_INITIALS_KEYS = 3


@functools.lru_cache(maxsize=4096)     # ~1,500 distinct syllables with tones; a build asks 20k times
def _tone_free(syllable: str) -> str:
    text = unicodedata.normalize("NFD", syllable)
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Mn")
    return text.replace("ü", "v").replace("u\u0308", "v").lower()


class _Readings:
    """Tone-free readings from pypinyin's tables: each character's first reading, and each
    phrase's syllables. Derived once per machine and kept in the cache folder: importing pypinyin
    and its two JSON tables took 0.3-0.45 s of every full build (the CPU of a tenth of a 2,000-post
    build on two cores); the derived tables load in about 30 ms."""

    def __init__(self, cache_dir: Path | None = None) -> None:
        self.chars, self.phrases = _tables(cache_dir or default_cache_dir())

    def char(self, ch: str) -> str:
        return self.chars.get(ord(ch), "")

    def word(self, word: str) -> list[str]:
        known = self.phrases.get(word)
        if known:
            return list(known)
        return [self.char(ch) for ch in word]


_TABLES_FORMAT = 1


def _tables(cache_dir: Path) -> tuple[dict[int, str], dict[str, tuple[str, ...]]]:
    """(code point -> reading, phrase -> syllables), from the cache when pypinyin's data files are
    the ones it was derived from (found without importing pypinyin), else derived and cached."""
    spec = importlib.util.find_spec("pypinyin")
    folder = Path(spec.origin).parent if spec is not None and spec.origin else None
    stamp = [_TABLES_FORMAT]
    for name in ("pinyin_dict.json", "phrases_dict.json"):
        with contextlib.suppress(OSError, TypeError):
            st = os.stat(folder / name)
            stamp += [name, st.st_size, st.st_mtime_ns]
    key = hashlib.sha256(repr((str(folder), stamp)).encode()).hexdigest()[:16]
    path = cache_dir / f"pinyin-readings-{key}.marshal"
    with contextlib.suppress(OSError, ValueError, EOFError, TypeError):
        chars, phrases = marshal.loads(path.read_bytes())
        if isinstance(chars, dict) and isinstance(phrases, dict) and chars:
            return chars, phrases
    from pypinyin.phrases_dict import phrases_dict
    from pypinyin.pinyin_dict import pinyin_dict

    chars = {code: _tone_free(raw.split(",")[0]) for code, raw in pinyin_dict.items() if raw}
    phrases = {word: tuple(_tone_free(options[0]) for options in known)
               for word, known in phrases_dict.items() if known}
    with contextlib.suppress(OSError):       # a read-only cache folder only costs the next build
        cache_dir.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        partial.write_bytes(marshal.dumps((chars, phrases)))
        os.replace(partial, path)
    return chars, phrases


_READINGS: _Readings | None = None
_READINGS_LOCK = threading.Lock()


def readings(cache_dir: Path | None = None) -> _Readings:
    """The readings, loaded once per process (``cache_dir``: the first caller's cache folder)."""
    global _READINGS
    with _READINGS_LOCK:
        if _READINGS is None:
            _READINGS = _Readings(cache_dir)
        return _READINGS


def preload(cache_dir: Path | None = None) -> None:
    """Load the readings now, e.g. in a thread while a build's workers run, so the pinyin step
    after them does not start with it."""
    readings(cache_dir)


@dataclass
class PinyinVocabulary:
    full: dict[str, list[tuple[str, int]]] = field(default_factory=dict)      # "douyin" -> [(抖音, weight)]
    initials: dict[str, list[tuple[str, int]]] = field(default_factory=dict)  # "dy" -> [(抖音, weight)]
    syllables: set[str] = field(default_factory=set)
    chars: dict[str, str] = field(default_factory=dict)   # 音 -> yin, so queries never import pypinyin

    # -- building (at reindex time) -------------------------------------------------------
    @classmethod
    def from_counts(cls, counts: WordCounts) -> PinyinVocabulary:
        vocab = cls()
        vocab.update(counts)
        return vocab

    def update(self, counts: WordCounts, sounds=None) -> None:
        """Add words (with document frequencies) seen by a reindex. Body words count when they
        occur in a few documents (see ``body_min_df``); title, tag and category words always, and
        they feed initials. ``sounds`` maps a word to its syllables (default: pypinyin's tables)."""
        r = readings() if sounds is None else None
        word_sounds = sounds or r.word
        weights: dict[str, int] = {}
        min_df = body_min_df(counts.documents)
        for word, df in counts.titles.items():
            weights[word] = weights.get(word, 0) + PINYIN_TITLE_WEIGHT * df
        for word, df in counts.body_counts().items():
            if df >= min_df or word in counts.titles:
                weights[word] = weights.get(word, 0) + df
        for word, weight in weights.items():
            sylls = word_sounds(word)
            if not all(sylls):
                continue
            self.syllables.update(sylls)
            _add(self.full, "".join(sylls), word, weight)
            if word in counts.titles and len(word) <= 5:
                _add(self.initials, "".join(s[0] for s in sylls), word, counts.titles[word])
        if r is not None:
            for ch in counts.chars:
                if ch not in self.chars:
                    reading = r.char(ch)
                    if reading:
                        self.chars[ch] = reading

    def merge(self, other: PinyinVocabulary) -> None:
        """Fold an incremental reindex's additions into this vocabulary. A key's entries are
        replaced by a new list, never changed in place, so a copy made by ``merged`` leaves the
        vocabulary it was copied from as it was."""
        self.__dict__.pop("_total", None)
        self.__dict__.pop("_by_sound", None)
        for mine, theirs in ((self.full, other.full), (self.initials, other.initials)):
            for key, entries in theirs.items():
                mine[key] = list(mine.get(key, ()))
                for word, weight in entries:
                    _add(mine, key, word, weight)
        self.syllables |= other.syllables
        for ch, reading in other.chars.items():
            self.chars.setdefault(ch, reading)

    def merged(self, other: PinyinVocabulary) -> PinyinVocabulary:
        """A new vocabulary: this one plus ``other``'s additions; this one is left unchanged."""
        out = PinyinVocabulary(dict(self.full), dict(self.initials), set(self.syllables), dict(self.chars))
        out.merge(other)
        return out

    def sound_of(self, word: str) -> list[str]:
        """Syllables from the saved character readings (no pypinyin needed)."""
        return [self.chars.get(ch, "") for ch in word]

    def save(self, path: Path) -> None:
        """JSON, gzip-compressed (a fifth of the size: the vocabulary was 8 % of a small index)."""
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        data = json.dumps({"full": self.full, "initials": self.initials, "syllables": sorted(self.syllables),
                           "chars": self.chars}, ensure_ascii=False).encode("utf-8")
        tmp.write_bytes(gzip.compress(data, compresslevel=6, mtime=0))
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: Path) -> PinyinVocabulary | None:
        try:
            data = json.loads(gzip.decompress(path.read_bytes()).decode("utf-8"))
        except (OSError, ValueError, EOFError):
            return None
        # Entries stay the [word, weight] lists JSON gives: they unpack and sort like the
        # tuples ``_add`` makes, and converting 140k of them took half the load (0.5 s at 130k posts).
        return cls(data.get("full", {}), data.get("initials", {}),
                   set(data.get("syllables", [])), dict(data.get("chars", {})))

    # -- querying ---------------------------------------------------------------------------
    def expand(self, text: str, together: Callable[[list[str]], int] | None = None,
               char_weight: Callable[[str], int] | None = None) -> list[list[str]] | None:
        """Chinese words for a Latin query that reads as pinyin: one list of alternatives per
        clause, best first; None when it is not pinyin of words this index has.

        Full pinyin is read first (douyin, dou yin, shuju xielou). Otherwise each typed word is
        full pinyin or the initials of index words (sjxl fangfan: 数据泄露 防范); initials are
        ambiguous (sj is 数据, 事件, 世界 ...), so ``together(words)``, the number of articles
        that hold all of ``words``, picks the reading the index supports. Last, a syllable may
        stand for one character that the segmenter keeps apart from its word (ling xinren:
        零 + 信任, 零信任); ``char_weight`` (how common a character is) ranks the candidates, and
        ``together`` keeps the one the index has in a row."""
        letters = text.strip().lower()
        if not letters or not _LETTERS_RE.match(letters):
            return None
        compact = letters.replace(" ", "")
        if len(compact) < 2:
            return None
        tokens = letters.split()
        bounds = frozenset(itertools.accumulate(len(t) for t in tokens[:-1]))
        best = self._segment(compact, bounds=bounds)
        if best is not None and (together is None or self._runs_found(tokens, best, together)):
            return best
        if _INITIALS_RE.match(compact) and compact in self.initials:
            return [[w for w, _ in self.initials[compact][:3]]]
        mixed = self._mixed(tokens, together)
        if mixed is not None or together is None or char_weight is None:
            return mixed
        return self._with_characters(compact, together, char_weight)

    def _runs_found(self, tokens: list[str], clauses: list[list[str]], together: Callable[[list[str]], int]) -> bool:
        """Whether the words read from each typed word stand in a row somewhere in the index:
        `qukuailian` typed as one word is 区块链, not 区块 + 立案 (li'an) found apart."""
        sounds = [self.sound_of(options[0]) for options in clauses]
        ends, pos = [], 0
        for token in tokens:
            pos += len(token)
            ends.append(pos)
        at, i = 0, 0
        for end in ends:
            run = []
            while i < len(clauses) and at + len("".join(sounds[i])) <= end:
                at += len("".join(sounds[i]))
                run.append(clauses[i][0])
                i += 1
            if len(run) > 1 and not together(["".join(run)]):
                return False
        return True

    def _mixed(self, tokens: list[str], together: Callable[[list[str]], int] | None) -> list[list[str]] | None:
        clauses: list[list[str]] = []          # full pinyin: alternatives of one word
        initials: list[tuple[int, list[list[str]]]] = []   # clause index, candidates per key
        i = 0
        while i < len(tokens):
            for j in range(len(tokens), i, -1):     # the longest run of words that is full pinyin
                full = self._segment("".join(tokens[i:j]))
                if full is not None and (together is None or self._runs_found(tokens[i:j], full, together)):
                    clauses += full
                    i = j
                    break
            else:
                keys = self._initials(tokens[i])
                if keys is None:
                    return None
                initials.append((len(clauses), [[w for w, _ in self.initials[k][:PINYIN_INITIALS_CHOICES]]
                                                for k in keys]))
                clauses.append([])
                i += 1
        if not initials:
            return clauses or None
        fixed = [options[0] for options in clauses if options]
        slots = [candidates for _, per_key in initials for candidates in per_key]
        combos = list(itertools.product(*slots))
        counts = [together(fixed + list(combo)) if together is not None else 1 for combo in combos]
        for i in sorted(range(len(combos)), key=lambda i: -counts[i])[:3]:
            if not counts[i]:
                break
            picks = iter(combos[i])
            chosen = [(at, "".join(next(picks) for _ in per_key), len(per_key)) for at, per_key in initials]
            # Several words read from one typed word must stand in a row somewhere (sjxl: 数据泄露),
            # not merely in the same article (如同 ... 黑客 for `rthk`).
            phrases = [text for _, text, keys in chosen if keys > 1]
            if phrases and together is not None and not together(fixed + phrases):
                continue
            for at, text, _ in chosen:
                clauses[at] = [text]
            return clauses
        return None

    def _initials(self, token: str) -> list[str] | None:
        """``token`` as initials of one to three index words (sjxl: sj + xl), fewest words first.

        Never a token shaped like pinyin syllables (hang, seng: a word of full pinyin the index
        lacks); and only one word for a token with a vowel (xxaq: 信息安全), or English words
        made of initial letters (deep, fake) would read as strings of words."""
        if not _INITIAL_LETTERS_RE.match(token) or self._syllables_only(token):
            return None
        if _VOWEL_RE.search(token):
            return [token] if token in self.initials else None
        n = len(token)
        best: list[tuple[float, list[str]] | None] = [None] * (n + 1)
        best[0] = (0.0, [])
        for i in range(n):
            if best[i] is None or len(best[i][1]) >= MAX_INITIALS_KEYS:
                continue
            for j in range(i + 2, min(n, i + 5) + 1):
                options = self.initials.get(token[i:j])
                if not options:
                    continue
                score = best[i][0] + math.log(1 + options[0][1]) - self._log_total()
                if best[j] is None or score > best[j][0]:
                    best[j] = (score, best[i][1] + [token[i:j]])
        return best[n][1] if best[n] is not None else None

    def _segment(self, compact: str, bounds: frozenset[int] = frozenset()) -> list[list[str]] | None:
        """The most probable reading of ``compact`` as index words (a unigram model: each word
        costs the log of its share of the vocabulary's weight, so 供应链 beats 供应 + 立案 for
        gongyinglian; a word across a space the user typed (``bounds``) costs one word more, so
        `heike gongji` is 黑客 + 攻击 while `dou yin` is still 抖音)."""
        n = len(compact)
        cost = self._log_total()
        best: list[tuple[float, list[str]] | None] = [None] * (n + 1)
        best[0] = (0.0, [])
        for i in range(n):
            if best[i] is None:
                continue
            score_i, keys_i = best[i]
            for j in range(i + 2, min(n, i + MAX_KEY) + 1):
                key = compact[i:j]
                options = self.full.get(key)
                if not options:
                    continue
                score = score_i + math.log(1 + options[0][1]) - cost
                if any(i < b < j for b in bounds):
                    score -= cost
                if best[j] is None or score > best[j][0]:
                    best[j] = (score, keys_i + [key])
        if best[n] is None:
            return None
        out = []
        for key in best[n][1]:
            options = self.full[key]
            top = options[0][1]
            out.append([w for w, weight in options[:3] if weight >= top * PINYIN_ALTERNATIVE_SHARE])
        return out

    def _log_total(self) -> float:
        total = getattr(self, "_total", None)
        if total is None:
            total = self._total = math.log(1 + sum(entries[0][1] for entries in self.full.values() if entries))
        return total

    def _sound_chars(self) -> dict[str, list[str]]:
        """Syllable -> the index's characters with that reading."""
        table = getattr(self, "_by_sound", None)
        if table is None:
            table = {}
            for ch, reading in self.chars.items():
                table.setdefault(reading, []).append(ch)
            self._by_sound = table
        return table

    def _with_characters(self, compact: str, together: Callable[[list[str]], int],
                         char_weight: Callable[[str], int]) -> list[list[str]] | None:
        """A reading with one lone syllable (qukuailian: 区块 + lian, yuanyuzhou: yuan + 宇宙):
        for each place a syllable could stand alone, the words on either side by their own
        reading, the syllable as each of the index's commonest characters of that sound, joined
        to the word beside it; the candidate the index has in a row in most articles wins."""
        sounds = self._sound_chars()
        best, best_count = None, 0
        for i in range(len(compact)):
            for j in range(i + 1, min(len(compact), i + 6) + 1):
                sound = compact[i:j]
                if not sounds.get(sound):
                    continue
                left = self._segment(compact[:i]) if i else []
                right = self._segment(compact[j:]) if j < len(compact) else []
                if left is None or right is None or not (left or right):
                    continue
                chars = sorted(sounds[sound], key=lambda c: -char_weight(c))[:PINYIN_CHAR_CHOICES]
                for ch in chars:
                    # the character joins the word after it, or the word before it at the end
                    if right:
                        clauses = left + [[ch + right[0][0]]] + right[1:]
                        joined = clauses[len(left)][0]
                    else:
                        clauses = left[:-1] + [[left[-1][0] + ch]]
                        joined = clauses[-1][0]
                    count = together([joined])
                    if count > best_count:
                        best, best_count = clauses, count
        return best

    def _syllables_only(self, token: str) -> bool:
        n = len(token)
        ok = [True] + [False] * n
        for j in range(1, n + 1):
            ok[j] = any(ok[i] and token[i:j] in self.syllables for i in range(max(0, j - 6), j))
        return ok[n]

    def homophone(self, word: str) -> str | None:
        """The most frequent word of the index that sounds like ``word`` (抖因 -> 抖音)."""
        if not _HAN_WORD_RE.match(word):
            return None
        # A typo is typed sound by sound; a character the index never uses is read from
        # pypinyin's character table (small; its phrase table stays unloaded).
        sounds = [self.chars.get(ch) or readings().char(ch) for ch in word]
        if not all(sounds):
            return None
        key = "".join(sounds)
        for candidate, weight in self.full.get(key, []):
            if candidate != word and weight >= HOMOPHONE_MIN_WEIGHT:
                return candidate
        return None


def _is_han_char(term: str) -> bool:
    """A single CJK Unified Ideograph: the characters that get a reading."""
    return len(term) == 1 and "\u4e00" <= term <= "\u9fff"


def _add(table: dict[str, list[tuple[str, int]]], key: str, word: str, weight: int) -> None:
    """Keep the 8 heaviest words per key (ties by the word, so the vocabulary does not depend on
    the order the build's workers counted in); a word seen again adds to its weight."""
    entries = table.setdefault(key, [])
    for i, (known, w) in enumerate(entries):
        if known == word:
            entries[i] = (known, w + weight)
            break
    else:
        entries.append((word, weight))
    entries.sort(key=lambda item: (-item[1], item[0]))
    del entries[8:]


@dataclass
class WordCounts:
    """Document frequencies of the Chinese words a reindex wrote, gathered from its postings."""

    titles: dict[str, int] = field(default_factory=dict)   # title, tag, category words
    bodies: dict[str, int] = field(default_factory=dict)
    chars: set[str] = field(default_factory=set)
    documents: int = 0
    # A full build's body words as the segment writer hands them over: newline-joined UTF-8 and
    # their document frequencies, a sixth of a dict's memory (a build process held a 16 MB dict
    # at 8,000 posts at its memory peak, and pickled all of it to the parent). Folded by `body_counts`.
    body_batches: list[tuple[bytes, array.array]] = field(default_factory=list)

    def add_document(self, title_terms, meta_terms, body_terms, char_terms) -> None:
        self.documents += 1
        for term in set(title_terms) | set(meta_terms):
            if _HAN_WORD_RE.match(term):
                self.titles[term] = self.titles.get(term, 0) + 1
        for term in body_terms:
            if _HAN_WORD_RE.match(term):
                self.bodies[term] = self.bodies.get(term, 0) + 1
        self.chars.update(c for c in char_terms if _is_han_char(c))

    def add_terms(self, fieldname: str, terms: list[bytes], dfs) -> None:
        """Words of a segment as its build writes them (``pool.TermsObserver``): a full build
        counts from its terms and their document frequencies, not document by document (reading
        them back from the finished index took 0.7 s of a 5 s build of 2,000 posts). A word both
        in a document's title and its tags counts twice: a document of its own, as far as the
        weights go."""
        if fieldname in ("title", "meta"):
            for raw, df in zip(terms, dfs.tolist(), strict=True):
                word = raw.decode("utf-8")
                if _HAN_WORD_RE.match(word):
                    self.titles[word] = self.titles.get(word, 0) + df
        elif fieldname == "body":
            kept = [(raw, df) for raw, df in zip(terms, dfs.tolist(), strict=True)
                    if _HAN_WORD_RE.match(raw.decode("utf-8"))]
            if kept:
                self.body_batches.append((b"\n".join(raw for raw, _ in kept), array.array("l", (df for _, df in kept))))
        elif fieldname in ("ngram", "title_ngram"):      # a character only ever in titles too
            self.chars.update(c for c in (raw.decode("utf-8") for raw in terms) if _is_han_char(c))

    def body_counts(self) -> dict[str, int]:
        """Body words and their document frequencies, summed over every build process."""
        bodies = self.bodies
        for blob, dfs in self.body_batches:
            for word, df in zip(blob.decode("utf-8").split("\n"), dfs, strict=True):
                bodies[word] = bodies.get(word, 0) + df
        self.body_batches = []
        return self.bodies

    def merge(self, other: WordCounts) -> None:
        for mine, theirs in ((self.titles, other.titles), (self.bodies, other.bodies)):
            for word, df in theirs.items():
                mine[word] = mine.get(word, 0) + df
        self.body_batches.extend(other.body_batches)
        self.chars |= other.chars
        self.documents += other.documents


def body_min_df(documents: int) -> int:
    """How many documents a body word needs for a pinyin reading: PINYIN_BODY_MIN_DF in a large
    index (where rarer words are mostly segmentation noise), fewer in a small one, where a real
    word may well be in one or two articles (抖音 in two of the 163-post sample's)."""
    return max(1, min(PINYIN_BODY_MIN_DF, 1 + documents // PINYIN_FULL_INDEX_DOCS))


def vocabulary_path(index_dir: Path, index_name: str) -> Path:
    return index_dir / f"pinyin-{index_name}.json.gz"


def delta_path(index_dir: Path, index_name: str) -> Path:
    """Additions by incremental reindexes: small, so a one-file reindex never rewrites (or even
    reads) the whole vocabulary, and never imports pypinyin."""
    return index_dir / f"pinyin-{index_name}.delta.json.gz"


def chars_path(index_dir: Path, index_name: str) -> Path:
    return index_dir / f"pinyin-{index_name}.chars.json.gz"


def _file_signature(path: Path) -> tuple[int, int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)


class VocabularyLoader:
    """Loads an index's pinyin vocabulary for each searcher snapshot, re-reading only what
    changed: an incremental update rewrites the small delta file, not the whole vocabulary
    (whose parse is ~1 s at 130k posts), so a reopen after a save merges the new delta into a
    copy of the base it already holds. Vocabularies handed out are never changed afterwards: a
    snapshot still in use may hold one. Not thread-safe: snapshots open one at a time."""

    def __init__(self, index_dir: Path) -> None:
        self.index_dir = index_dir
        self._base: tuple[tuple, PinyinVocabulary | None] | None = None
        self._merged: tuple[tuple, PinyinVocabulary | None] | None = None

    def load(self, index_name: str) -> PinyinVocabulary | None:
        base_path, more_path = vocabulary_path(self.index_dir, index_name), delta_path(self.index_dir, index_name)
        base_key = (index_name, _file_signature(base_path))
        key = (base_key, _file_signature(more_path))
        if self._merged is not None and self._merged[0] == key:
            return self._merged[1]
        if self._base is None or self._base[0] != base_key:
            self._base = (base_key, PinyinVocabulary.load(base_path))
        base = self._base[1]
        delta = PinyinVocabulary.load(more_path) if base is not None and key[1] is not None else None
        vocab = base.merged(delta) if base is not None and delta is not None else base
        self._merged = (key, vocab)
        return vocab
