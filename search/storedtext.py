"""Stored fields: an article's text, compressed for a corpus of short Chinese documents.

Whoosh pickles each document's stored fields (UTF-8 inside) and deflates them alone, which
leaves Chinese text at ~64 % of its size: 3 bytes a character, and documents too short for
deflate to learn their vocabulary. Here the body is stored as UTF-16 (2 bytes a character)
and deflated with a preset dictionary of the language's most common words (zlib's ``zdict``),
in Simplified or Traditional script as the document is written: on 2,000 corpus posts, 16 %
smaller than Whoosh's encoding, the same decompression speed. The dictionaries are derived from
jieba's word list and saved with each segment (``DICT_EXT``), so what a segment holds can always
be read back, whatever later versions of jieba or OpenCC would derive.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
import struct
import threading
import zlib
from pathlib import Path
from typing import Any

from .segmenter import default_cache_dir, jieba_dictionary, jieba_entries

DICT_EXT = ".szd"
DICT_BYTES = 32 * 1024          # the most a zlib preset dictionary uses
SIMPLIFIED, TRADITIONAL = 1, 2
_META = struct.Struct("<I")


_FORMAT = "1"                    # bump when the derivation below changes
_derived: tuple[bytes, bytes] | None = None
_derive_lock = threading.Lock()


def default_dictionaries(cache_dir: Path | None = None) -> tuple[bytes, bytes]:
    """(Simplified, Traditional) preset dictionaries: jieba's most frequent words of two or
    more characters, the most frequent last (deflate reaches the end of a dictionary best).

    Derived once per machine and kept in the cache folder (``cache_dir``, else sou's default):
    reading and sorting jieba's 350k-word list took about a second, which every build worker
    paid before writing its first document. The indexer loads them before it forks its workers."""
    global _derived
    with _derive_lock:
        if _derived is None:
            _derived = _cached(cache_dir or default_cache_dir())
        return _derived


def _cached(cache_dir: Path) -> tuple[bytes, bytes]:
    import opencc

    source = jieba_dictionary()
    stat = os.stat(source)
    key = hashlib.sha256(f"{_FORMAT}:{DICT_BYTES}:{source}:{stat.st_size}:{stat.st_mtime_ns}:"
                         f"{getattr(opencc, '__version__', 'x')}".encode()).hexdigest()[:16]
    path = cache_dir / f"stored-text-{key}{DICT_EXT}"
    with contextlib.suppress(OSError, struct.error):
        simplified, traditional = unpack_dictionaries(path.read_bytes())
        if 0 < len(simplified) <= DICT_BYTES and 0 < len(traditional) <= DICT_BYTES:
            return simplified, traditional
    dictionaries = _derive(opencc)
    with contextlib.suppress(OSError):       # a read-only cache folder only costs the second
        cache_dir.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        partial.write_bytes(pack_dictionaries(dictionaries))
        os.replace(partial, path)
    return dictionaries


def _derive(opencc) -> tuple[bytes, bytes]:
    ranked = sorted(((freq, word) for word, freq in jieba_entries() if len(word) >= 2), reverse=True)
    words = "".join(w for _, w in reversed(ranked[:10_000]))
    simplified = words.encode("utf-16-le")[-DICT_BYTES:]
    traditional = opencc.OpenCC("s2t").convert(words).encode("utf-16-le")[-DICT_BYTES:]
    return simplified, traditional


def _traditional(text: str, table: dict[int, str]) -> bool:
    """Whether ``text`` reads as Traditional script: among its first CJK characters, a few
    that fold to another character (the folding table maps Traditional to Simplified)."""
    sample = [ch for ch in text[:600] if "\u4e00" <= ch <= "\u9fff"][:300]
    changed = sum(1 for ch in sample if ord(ch) in table)
    return bool(sample) and changed * 20 >= len(sample)


def encode(fields: dict[str, Any], dictionaries: tuple[bytes, bytes], table: dict[int, str]) -> bytes:
    """One document's stored fields: [script byte][deflate(meta length, pickled rest, UTF-16 body)]."""
    body = fields.get("body") or ""
    rest = {k: v for k, v in fields.items() if k != "body"}
    meta = pickle.dumps(rest, protocol=4)
    script = TRADITIONAL if _traditional(body, table) else SIMPLIFIED
    packer = zlib.compressobj(6, zdict=dictionaries[script - 1])
    payload = _META.pack(len(meta)) + meta + body.encode("utf-16-le", "surrogatepass")
    return bytes([script]) + packer.compress(payload) + packer.flush()


def decode(raw: bytes, dictionaries: tuple[bytes, bytes]) -> dict[str, Any]:
    if not raw:
        return {}
    unpacker = zlib.decompressobj(zdict=dictionaries[raw[0] - 1])
    payload = unpacker.decompress(raw[1:]) + unpacker.flush()
    (size,) = _META.unpack_from(payload)
    fields = pickle.loads(payload[_META.size:_META.size + size])
    body = payload[_META.size + size:]
    if body:
        fields["body"] = body.decode("utf-16-le", "surrogatepass")
    return fields


def pack_dictionaries(dictionaries: tuple[bytes, bytes]) -> bytes:
    simplified, traditional = dictionaries
    return _META.pack(len(simplified)) + simplified + traditional


def unpack_dictionaries(data: bytes) -> tuple[bytes, bytes]:
    (size,) = _META.unpack_from(data)
    return data[_META.size:_META.size + size], data[_META.size + size:]
