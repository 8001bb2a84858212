"""Word segmenters: the only module that imports jieba, its C port jieba_fast, or rjieba
(jieba-rs, the same algorithm and dictionary in Rust).

A segmenter cuts a run of CJK characters into words, in search mode also into the dictionary
words inside longer ones, and says which strings are dictionary words (the query compiler's
"unknown word" check). Each analyzer owns one, loaded with that index's user dictionary, so two
indexes with different dictionaries can be searched from one process without either seeing the
other's words.

rjieba is the default when installed: on 31,840 CJK runs of 300 corpus_zh posts it cut exactly
as jieba did (both modes), about 5x faster than jieba_fast; its dictionary lives in Rust memory
(a forked build worker shares it instead of copying a 100 MB Python dict), and it loads in
0.2 s instead of jieba's ~1 s. See bench/segmenter_diff.py for the measurement on both corpora.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from .errors import ConfigError

SEGMENTERS = ("auto", "rjieba", "jieba_fast", "jieba")

# Latin-lettered words jieba's dictionary spells with capitals; extended with a few common ones.
_EXTRA_MIXED = ("b站", "a站", "k线", "x光", "u盘", "q版", "p图", "h股", "n股", "a股", "t恤", "e人", "i人",
                "卡拉ok", "阿q")
_MIXED_RE = re.compile(r"[a-z0-9]+[\u4e00-\u9fff]+|[\u4e00-\u9fff]+[a-z]+")


def segmenter_module(choice: str = "auto"):
    """The module behind ``choice``: ``auto`` is rjieba, else jieba_fast, else jieba, the first
    one installed."""
    if choice not in SEGMENTERS:
        raise ConfigError(f"unknown segmenter {choice!r} (use one of {', '.join(SEGMENTERS)})")
    for name in ("rjieba", "jieba_fast") if choice == "auto" else (choice,):
        if name == "jieba":
            break
        try:
            return __import__(name)
        except ImportError:
            if choice != "auto":
                raise ConfigError(f"segmenter {name} is not installed (pip install {name})") from None
    import jieba

    return jieba


def segmenter_name(choice: str = "auto") -> str:
    """What an index records as the segmenter that built it (name and version)."""
    mod = segmenter_module(choice)
    version = getattr(mod, "__version__", None)
    if version is None:
        from importlib.metadata import PackageNotFoundError
        from importlib.metadata import version as dist_version

        try:
            version = dist_version(mod.__name__)
        except PackageNotFoundError:
            version = "?"
    return f"{mod.__name__} {version}"


def read_user_dict(path: str) -> Iterator[tuple[str, int | None, str | None]]:
    """Lines of `word [freq] [tag]`, as jieba reads them; blank lines and `#` comments skipped."""
    try:
        fh = open(path, encoding="utf-8-sig")
    except OSError as exc:
        raise ConfigError(f"user dictionary {path}: {exc.strerror or exc}") from None
    with fh:
        try:
            lines = fh.readlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"user dictionary {path}: cannot read it as UTF-8 text ({exc})") from None
    for line in lines:
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split()
        freq = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None
        tag = parts[2] if len(parts) > 2 else (parts[1] if len(parts) > 1 and not parts[1].isdigit() else None)
        yield parts[0], freq, tag


def check_user_dict(path: str) -> None:
    """Fail with one clear line (not a traceback deep in jieba) when the file cannot be read."""
    if path:
        for _ in read_user_dict(path):
            pass


def jieba_dictionary() -> str:
    """jieba's dictionary file (jieba-rs embeds the same one). Found without importing jieba:
    its import takes ~0.3 s (it builds its default tokenizer) and rjieba needs none of it."""
    import importlib.util

    spec = importlib.util.find_spec("jieba")
    if spec is None or spec.origin is None:
        raise ConfigError("jieba is not installed: sou reads its dictionary (pip install jieba)")
    return os.path.join(os.path.dirname(spec.origin), "dict.txt")


def jieba_entries() -> Iterator[tuple[str, int]]:
    """(word, frequency) of each line of jieba's dictionary: what the frequency table and the
    stored-text compression dictionaries (storedtext.py) are built from."""
    with open(jieba_dictionary(), encoding="utf-8") as fh:
        for line in fh:
            parts = line.split()
            if len(parts) >= 2 and parts[1].isdigit():
                yield parts[0], int(parts[1])


def _mixed_words() -> dict[str, int]:
    """Dictionary words that mix Latin letters and Han characters (B超, T恤), lower-cased: the
    analyzer folds case, so they are added in lower case to stay whole. Extended with a few
    common ones the dictionary lacks."""
    with open(jieba_dictionary(), encoding="utf-8") as fh:
        text = fh.read()
    mixed: dict[str, int] = {}
    for word, freq in re.findall(r"^([A-Za-z0-9]+[\u4e00-\u9fff]+|[\u4e00-\u9fff]+[A-Za-z]+) (\d+)", text, re.M):
        low = word.lower()
        if low != word and int(freq):
            mixed[low] = int(freq)
    for word in _EXTRA_MIXED:
        mixed.setdefault(word, 3)
    return mixed


class WordFrequencies:
    """jieba's dictionary frequencies without a 350k-entry dict: the words sorted, as one UTF-8
    blob with end offsets, found by bisection (about 6 MB instead of about 50 MB; built on first
    use, since only queries with regional words ask)."""

    def __init__(self, extra: dict[str, int]) -> None:
        self.extra = extra
        self._blob: bytes | None = None
        self._ends: Any = None
        self._freqs: Any = None
        self._lock = threading.Lock()

    def _load(self) -> None:
        import numpy as np

        pairs = sorted((word.encode("utf-8"), freq) for word, freq in jieba_entries())
        self._ends = np.cumsum([len(w) for w, _ in pairs], dtype=np.int64)
        self._freqs = np.array([f for _, f in pairs], dtype=np.int64)
        self._blob = b"".join(w for w, _ in pairs)

    def get(self, word: str, default: int = 0) -> int:
        if word in self.extra:
            return self.extra[word]
        if self._blob is None:
            with self._lock:
                if self._blob is None:
                    self._load()
        key = word.encode("utf-8")
        ends, blob = self._ends, self._blob
        lo, hi = 0, len(ends)
        while lo < hi:
            mid = (lo + hi) // 2
            start = int(ends[mid - 1]) if mid else 0
            here = blob[start:int(ends[mid])]
            if here < key:
                lo = mid + 1
            elif here > key:
                hi = mid
            else:
                return int(self._freqs[mid])
        return default


class Segmenter:
    """One segmenter with its dictionary (and the index's user dictionary)."""

    def __init__(self, choice: str, user_dict: str, cache_dir: Path | None, fold: Callable[[str], str]) -> None:
        module = segmenter_module(choice)
        self.name = segmenter_name(choice)
        self.mixed = _mixed_words()          # lower-cased Latin+Han words (b站, t恤) kept whole
        user_words = [(fold(w), f, t) for w, f, t in read_user_dict(user_dict)] if user_dict else []
        if module.__name__ == "rjieba":
            tk = module.Jieba()
            extra = dict(self.mixed)
            for word, freq, tag in user_words:
                extra[word] = tk.add_word(word, freq, tag)      # the frequency it was given
            for word, freq in self.mixed.items():
                tk.add_word(word, freq, None)
            self.cut = tk.cut                          # (run) -> list of words
            self.cut_for_search = tk.cut_for_search    # ... and the dictionary words inside them
            self.known = tk.has_word
            self.freq = WordFrequencies(extra)         # word -> dictionary frequency (0: not a word)
            return
        module.setLogLevel(logging.WARNING)
        logging.getLogger("jieba").setLevel(logging.WARNING)
        tk = module.Tokenizer()
        cache_dir = cache_dir or default_cache_dir()
        try:
            cache_dir.mkdir(parents=True, exist_ok=True)
            tk.tmp_dir = str(cache_dir)
        except OSError:
            tk.tmp_dir = None  # jieba then falls back to the system temp dir
        tk.cache_file = f"{module.__name__}.cache"
        tk.initialize()
        for word, freq, tag in user_words:
            tk.add_word(word, freq, tag)
        for word, freq in self.mixed.items():
            tk.add_word(word, freq)
        freq_table = tk.FREQ
        self.freq = freq_table
        self.cut = lambda run: list(tk.cut(run, HMM=True))
        self.cut_for_search = lambda run: list(tk.cut_for_search(run, HMM=True))
        self.known = lambda word: bool(freq_table.get(word))


def default_cache_dir() -> Path:
    """SOU_CACHE_DIR, else $XDG_CACHE_HOME/sou, else ~/.cache/sou."""
    configured = os.environ.get("SOU_CACHE_DIR")
    if configured:
        return Path(configured).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "sou"
