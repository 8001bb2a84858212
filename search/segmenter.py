"""Word segmenters: the only module that imports jieba (or its C port, jieba_fast).

A segmenter cuts a run of CJK characters into words and says which strings are dictionary
words (search-mode sub-words and the query compiler's "unknown word" check need that). Each
analyzer owns one, loaded with that index's user dictionary, so two indexes with different
dictionaries can be searched from one process without either seeing the other's words.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path

from .errors import ConfigError

SEGMENTERS = ("auto", "jieba", "jieba_fast")

# Latin-lettered words jieba's dictionary spells with capitals; extended with a few common ones.
_EXTRA_MIXED = ("b站", "a站", "k线", "x光", "u盘", "q版", "p图", "h股", "n股", "a股", "t恤", "e人", "i人",
                "卡拉ok", "阿q")
_MIXED_RE = re.compile(r"[a-z0-9]+[\u4e00-\u9fff]+|[\u4e00-\u9fff]+[a-z]+")


def segmenter_module(choice: str = "auto"):
    """jieba, or jieba_fast (the same algorithm in C, ~3x faster, tokens differ on ~2% of
    runs) when it is installed (`pip install sou[fast]`) and not refused."""
    if choice not in SEGMENTERS:
        raise ConfigError(f"unknown segmenter {choice!r} (use one of {', '.join(SEGMENTERS)})")
    if choice in ("auto", "jieba_fast"):
        try:
            import jieba_fast

            return jieba_fast
        except ImportError:
            if choice == "jieba_fast":
                raise ConfigError("segmenter jieba_fast is not installed (pip install 'sou[fast]')") from None
    import jieba

    return jieba


def segmenter_name(choice: str = "auto") -> str:
    """What an index records as the segmenter that built it (name and version)."""
    mod = segmenter_module(choice)
    return f"{mod.__name__} {getattr(mod, '__version__', '?')}"


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


class Segmenter:
    """One jieba tokenizer with its dictionary; ``freq`` is its word -> frequency table."""

    def __init__(self, choice: str, user_dict: str, cache_dir: Path | None, fold: Callable[[str], str]) -> None:
        module = segmenter_module(choice)
        self.name = f"{module.__name__} {getattr(module, '__version__', '?')}"
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
        if user_dict:
            for word, freq, tag in read_user_dict(user_dict):
                tk.add_word(fold(word), freq, tag)
        mixed: dict[str, int] = {}
        for word in list(tk.FREQ):
            low = word.lower()
            if low != word and tk.FREQ[word] and _MIXED_RE.fullmatch(low):
                mixed[low] = tk.FREQ[word]
                tk.add_word(low, tk.FREQ[word])
        for word in _EXTRA_MIXED:
            if word not in mixed:
                mixed[word] = 3
                tk.add_word(word, 3)
        self._tk = tk
        self.freq: dict[str, int] = tk.FREQ
        self.mixed = mixed           # lower-cased Latin+Han words (b站, t恤) kept whole

    def cut(self, run: str) -> list[str]:
        return list(self._tk.cut(run, HMM=True))


def default_cache_dir() -> Path:
    """SOU_CACHE_DIR, else $XDG_CACHE_HOME/sou, else ~/.cache/sou."""
    configured = os.environ.get("SOU_CACHE_DIR")
    if configured:
        return Path(configured).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "sou"
