"""Regional vocabulary: Taiwan and Hong Kong words find the mainland word's articles, and the
other way round (晶片 / 芯片, 網路 / 网络, 伺服器 / 服务器, 程式碼 / 代码).

Character folding (analysis.py) makes 國安法 and 国安法 one word, but 晶片 and 芯片 are different
words: no character table can join them. OpenCC's word tables can: TWPhrases / HKPhrases and their
reverses, the ones its ``s2twp`` / ``s2hkp`` (mainland word -> regional word) and ``tw2sp`` /
``hk2sp`` (regional word -> mainland word) configurations apply. This module asks them about a
query word and returns the other region's word, compared and returned in the index's FOLDED form.

OpenCC converts whole strings, not words. Where a word starts and ends is found with OpenCC
itself: a boundary between two characters lies outside every phrase OpenCC used when converting
the two sides apart gives the same result as converting the whole; the pieces between such
boundaries whose conversion changes more than the script are the regional words.

False friends. Some regional words are everyday mainland words with another meaning: 影片 (a
film on the mainland, a video in Taiwan), 核心 (core; Taiwan's word for a kernel, 内核), 行程
(itinerary; Taiwan's process, 进程), 支援 (aid; Taiwan's 支持), 资料 (material; Taiwan's 数据).
An alternative is kept only when jieba's dictionary (mainland usage) says the regional side of
the pair is rare next to the mainland side (REGIONAL_RARE_SHARE): 晶片 is 3 % as frequent as 芯片,
网路 1 %, 程式 3.5 %; 影片, 核心, 行程, 支援 and 资料 are not rare at all. One exception: a query
typed in Traditional characters comes from a Taiwan or Hong Kong reader, whose 資料 and 檔案 mean
数据 and 文件 whatever they mean on the mainland, so their words are always read as theirs.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path

from .analysis import SCAN_RE, Analyzer, has_han
from .weights import REGIONAL_RARE_SHARE

#: OpenCC configurations reading a word as Taiwan / Hong Kong usage (-> the mainland word).
TO_MAINLAND = ("tw2sp", "hk2sp")
#: ... and reading it as mainland usage (-> the Taiwan / Hong Kong word): OpenCC's s2twp and
#: s2hkp, made light (see ``_word_config``).
TO_REGIONAL = ("s2tw-words", "s2hk-words")
_WORD_TABLES = {"s2tw-words": "TWPhrases.ocd2", "s2hk-words": "HKPhrases.ocd2"}
_CACHE_MAX = 20_000


@functools.lru_cache(maxsize=8)
def _converter(config: str, cache_dir: Path):
    """One OpenCC converter per configuration and process (each loads its dictionaries once)."""
    import opencc

    if config in _WORD_TABLES:
        path = _word_config(config, cache_dir)
        if path is not None:
            return opencc.OpenCC(str(path))
        config = {"s2tw-words": "s2twp", "s2hk-words": "s2hkp"}[config]
    return opencc.OpenCC(config)


def _word_config(name: str, cache_dir: Path) -> Path | None:
    """An OpenCC configuration that converts Simplified text character by character, then
    applies the regional word table. OpenCC's own s2twp first converts with its Simplified ->
    Traditional phrase table, 43 MB in memory per process, for nothing here: the result is
    folded back to Simplified anyway, and a character converted wrongly by itself (髮 / 發) folds
    back all the same. OpenCC looks for tables beside the configuration, so the configuration
    and copies of its two small tables (70 kB) go to a folder of sou's cache."""
    import opencc

    share = Path(opencc.__file__).parent / "clib" / "share" / "opencc"
    tables = ("STCharacters.ocd2", _WORD_TABLES[name])
    if not all((share / t).is_file() for t in tables):
        return None
    folder = cache_dir / f"opencc-{getattr(opencc, '__version__', 'x')}"
    path = folder / f"{name}.json"
    config = {
        "name": f"{name}: Simplified characters, then {tables[1]}",
        "segmentation": {"type": "mmseg", "dict": {"type": "ocd2", "file": tables[1]}},
        "conversion_chain": [
            {"dict": {"type": "ocd2", "file": tables[0]}},
            {"dict": {"type": "ocd2", "file": tables[1]}},
        ],
    }
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for table in tables:
            if not (folder / table).is_file():
                tmp = folder / f"{table}.{os.getpid()}.tmp"
                shutil.copyfile(share / table, tmp)
                os.replace(tmp, folder / table)
        tmp = folder / f"{name}.{os.getpid()}.tmp"
        tmp.write_text(json.dumps(config, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        return None
    return path


@dataclass(frozen=True)
class Swap:
    """One regional word of a query and the other region's word, both folded."""

    start: int             # in the folded query word
    end: int
    typed: str             # the word as the user typed it
    other: str
    word: str = ""         # the word typed, folded


@dataclass(frozen=True)
class Alternative:
    """The query word written with the other region's words (folded), and what was swapped."""

    text: str
    swaps: tuple[Swap, ...]

    def note(self) -> str:
        return "also searched " + ", ".join(f"{s.other} for {s.typed}" for s in self.swaps)


class RegionalWords:
    """Word-level regional alternatives for one analyzer (its folding and its dictionary)."""

    def __init__(self, analyzer: Analyzer) -> None:
        self.analyzer = analyzer
        self._cache: dict[str, Alternative | None] = {}
        self._lock = threading.Lock()

    def load(self) -> RegionalWords:
        """Load OpenCC's tables now (about half a second), not on the first Chinese query."""
        for config in (*TO_MAINLAND, *TO_REGIONAL):
            _converter(config, self.analyzer.cache_dir)
        return self

    def alternative(self, text: str) -> Alternative | None:
        """``text`` (one query word as typed) with its regional words replaced by the other
        region's, or None when it has none."""
        with self._lock:
            if text in self._cache:
                return self._cache[text]
        found = self._alternative(text)
        with self._lock:
            if len(self._cache) >= _CACHE_MAX:
                self._cache.clear()
            self._cache[text] = found
        return found

    def _alternative(self, text: str) -> Alternative | None:
        folded = self.analyzer.fold(text)
        if not has_han(folded):
            return None
        original = text if len(text) == len(folded) else folded      # one character per character
        swaps: list[Swap] = []
        for m in SCAN_RE.finditer(folded):
            if m.lastgroup == "cjk" and m.end() - m.start() >= 2:
                swaps += self._run_swaps(folded, original, m.start(), m.end())
        if not swaps:
            return None
        swaps.sort(key=lambda s: (s.start, -s.end))
        chosen: list[Swap] = []
        for swap in swaps:                      # overlapping answers of two tables: first wins
            if not chosen or swap.start >= chosen[-1].end:
                chosen.append(swap)
        out, pos = [], 0
        for swap in chosen:
            out += [folded[pos:swap.start], swap.other]
            pos = swap.end
        out.append(folded[pos:])
        return Alternative("".join(out), tuple(chosen))

    def _run_swaps(self, folded: str, original: str, start: int, end: int) -> list[Swap]:
        run = folded[start:end]
        out: list[Swap] = []
        for config in (*TO_MAINLAND, *TO_REGIONAL):
            to_mainland = config in TO_MAINLAND
            # Taiwan's tables are keyed by Traditional words: read the word as it was typed (a
            # Taiwan word typed in Simplified characters is rare, and converting every query
            # to Traditional first would cost OpenCC's 20 MB phrase table).
            source = original[start:end] if to_mainland else run
            convert = _converter(config, self.analyzer.cache_dir).convert
            for a, b, other in self._words(run, source, convert):
                typed = original[start + a:start + b]
                if self._kept(run[a:b], other, to_mainland, typed):
                    out.append(Swap(start + a, start + b, typed, other, run[a:b]))
        return out

    def _words(self, run: str, source: str, convert) -> list[tuple[int, int, str]]:
        """(start, end, other word) of each word of ``run`` that OpenCC changes beyond its
        script. A word is a piece between boundaries no phrase crosses, or a few such pieces
        that together make one dictionary word (資料|庫 are two pieces, 资料库 one word)."""
        known = self.analyzer.known
        fold = self.analyzer.fold
        cuts = _cuts(source, convert)
        out = []
        i = 0
        while i < len(cuts) - 1:
            for j in range(min(len(cuts) - 1, i + 4), i, -1):
                a, b = cuts[i], cuts[j]
                if b - a < 2 or (j > i + 1 and not known(run[a:b])):
                    continue
                other = fold(convert(source[a:b]))
                if other != run[a:b] and has_han(other):
                    out.append((a, b, other))
                    i = j
                    break
            else:
                i += 1
        return out

    def _kept(self, word: str, other: str, to_mainland: bool, typed: str) -> bool:
        """False friends out: the regional side of the pair must be rare in mainland usage,
        unless the word was typed in Traditional characters and is read as the reader's own."""
        if to_mainland and any(has_han(ch) and self.analyzer.fold(ch) != ch for ch in typed):
            return True
        freq = self.analyzer.frequency
        regional, mainland = (word, other) if to_mainland else (other, word)
        return freq(regional) < REGIONAL_RARE_SHARE * freq(mainland)


def _cuts(source: str, convert) -> list[int]:
    """Boundaries of ``source`` that no OpenCC phrase crosses: converting the two sides apart
    gives what converting the whole gives."""
    whole = convert(source)
    cuts = [0]
    for k in range(1, len(source)):
        if convert(source[:k]) + convert(source[k:]) == whole:
            cuts.append(k)
    cuts.append(len(source))
    return cuts
