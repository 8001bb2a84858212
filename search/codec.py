"""How posting blocks are laid out on disk, and how whole posting lists are read into arrays.

Whoosh's W3 codec pickles every block (protocol 2) as a tuple of Python ints, floats and, for
positional fields, one ``bytes`` object per posting, which protocol 2 stores as a call to
``_codecs.encode``. Reading a 32k-posting list of 香港 that way took 30-50 ms, a third of it in
``pickle.loads``; writing it cost as much at build time. Here a block is a fixed struct header
followed by machine arrays (document numbers, weights, value lengths, one blob of values), so
``search.scoring`` can read a whole posting list with one file read and ``numpy.frombuffer``,
while Whoosh's own matcher interface keeps working over the same blocks (highlighting, related
articles and spelling still use it).
"""

from __future__ import annotations

import struct
from array import array
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from whoosh.codec.whoosh3 import WHOOSH3_HEADER_MAGIC, W3Codec, W3LeafMatcher, W3PostingsWriter
from whoosh.matching import ListMatcher
from whoosh.system import IS_LITTLE
from whoosh.util.numeric import byte_to_length, length_to_byte

# length (negative on the last block), postings, last id, max weight, min/max length bytes
_INFO = struct.Struct("<iIIfBB")
_MODES = struct.Struct("<BB")          # weights mode, values mode
_W_ONES, _W_ARRAY = 0, 2
_V_NONE, _V_BLOB = 0, 1


def _encode_block(ids, weights, values, maxweight: float, last: bool, lengths: tuple[int, int] = (0, 0)) -> bytes:
    """One block: the info header, then ids, weights (unless all 1.0) and values (if any)."""
    n = len(ids)
    ones = weights.count(1.0) == n
    parts = [_MODES.pack(_W_ONES if ones else _W_ARRAY, _V_BLOB if values else _V_NONE),
             _native(array("I", ids)).tobytes()]
    if not ones:
        parts.append(_native(array("f", weights)).tobytes())
    if values:
        parts.append(_native(array("I", map(len, values))).tobytes())
        parts.append(b"".join(values))
    data = b"".join(parts)
    length = _INFO.size - 4 + len(data)
    return _INFO.pack(-length if last else length, n, ids[-1], maxweight, *lengths) + data


class SouPostingsWriter(W3PostingsWriter):
    def _write_block(self, last: bool = False) -> None:
        if self._byteids:           # term vectors (unused by sou) keep Whoosh's pickled layout
            return super()._write_block(last)
        if not self._blockcount:
            self._postfile.write(WHOOSH3_HEADER_MAGIC)
        self._terminfo.add_block(self)
        lengths = (length_to_byte(self._minlength), length_to_byte(self._maxlength))
        self._postfile.write(_encode_block(self._ids, self._weights, self._values, self._maxweight, last, lengths))
        self._blockcount += 1
        self._new_block()

    def write_list(self, format_, terminfo, postings: list[tuple[int, float, bytes]]):
        """One term's whole posting list (document order), block by block, in one write and
        without the per-posting bookkeeping of ``add_posting``; returns the finished term info."""
        docnums, weights, values = zip(*postings, strict=True)
        with_values = any(values)
        n = len(docnums)
        limit = self._blocklimit
        parts = [WHOOSH3_HEADER_MAGIC]
        for a in range(0, n, limit):
            b = min(n, a + limit)
            w = weights[a:b]
            parts.append(_encode_block(docnums[a:b], w, values[a:b] if with_values else (), max(w), b == n))
        blob = b"".join(parts)
        start = self._postfile.tell()
        self._postfile.write(blob)
        terminfo._weight += sum(weights)
        terminfo._df += n
        terminfo._maxweight = max(terminfo._maxweight, max(weights))
        if terminfo._minid is None:
            terminfo._minid = docnums[0]
        terminfo._maxid = docnums[-1]
        terminfo.set_extent(start, len(blob))
        return terminfo


def _native(a: array) -> array:
    """Blocks are little-endian on disk whatever the machine."""
    if not IS_LITTLE:
        a = array(a.typecode, a)
        a.byteswap()
    return a


class SouLeafMatcher(W3LeafMatcher):
    """Whoosh's block matcher over the layout above."""

    def _goto(self, position: int) -> None:
        postfile = self._postfile
        self._data = None
        self._ids = None
        self._weights = None
        self._values = None
        self._i = 0
        head = postfile.get(position, _INFO.size)
        length, n, maxid, maxweight, mnlen, mxlen = _INFO.unpack(head)
        self._lastblock = length < 0
        self._nextoffset = position + 4 + abs(length)
        self._dataoffset = position + _INFO.size
        self._blocklength, self._maxid, self._maxweight, self._compression = n, maxid, maxweight, 0
        self._minlength = byte_to_length(mnlen)
        self._maxlength = byte_to_length(mxlen)

    def _read_data(self) -> None:
        raw = self._postfile.get(self._dataoffset, self._nextoffset - self._dataoffset)
        self._data = _parse_block(raw, self._blocklength)

    def _read_ids(self) -> None:
        if self._data is None:
            self._read_data()
        self._ids = self._data[0]

    def _read_values(self) -> None:
        if self._data is None:
            self._read_data()
        self._values = self._data[2] if self._data[2] is not None else (None,) * self._blocklength


def _parse_block(raw: bytes, n: int):
    wmode, vmode = _MODES.unpack_from(raw, 0)
    at = _MODES.size
    ids = _native(array("I", raw[at:at + 4 * n]))
    at += 4 * n
    weights = None
    if wmode == _W_ARRAY:
        weights = _native(array("f", raw[at:at + 4 * n]))
        at += 4 * n
    values = None
    if vmode == _V_BLOB:
        lengths = _native(array("I", raw[at:at + 4 * n]))
        at += 4 * n
        out = []
        for size in lengths:
            out.append(raw[at:at + size])
            at += size
        values = tuple(out)
    return ids, weights, values


class SouCodec(W3Codec):
    """Whoosh's codec with the block layout above, without per-block length statistics (they
    cost a column look-up per posting at commit and only tighten block skipping) and without
    zlib (it cost more to write and to read than the disk it saved)."""

    length_stats = False

    def __init__(self, blocklimit: int = 128, compression: int = 0, inlinelimit: int = 1) -> None:
        super().__init__(blocklimit=blocklimit, compression=compression, inlinelimit=inlinelimit)

    def postings_writer(self, dbfile, byteids: bool = False):
        return SouPostingsWriter(dbfile, blocklimit=self._blocklimit, byteids=byteids,
                                 compression=0, inlinelimit=self._inlinelimit)

    def postings_reader(self, dbfile, terminfo, format_, term=None, scorer=None):
        if terminfo.is_inlined():
            ids, weights, values = terminfo.inlined_postings()
            return ListMatcher(ids, weights, values, format_, scorer=scorer, term=term, terminfo=terminfo)
        offset, length = terminfo.extent()
        return SouLeafMatcher(dbfile, offset, length, format_, term=term, scorer=scorer)


# -- one document's postings, pre-encoded in the build workers ------------------------------------

Posting = tuple[bytes, int, float, bytes]        # term bytes, frequency, weight, encoded value


def encode_characters(toks: Iterable[tuple[str, int, int, int]], size: int | None = None) -> tuple[list[Posting], int]:
    """Postings in the CompactCharacters format (see schema.py) for (text, pos, start, end).
    ``size``: the analysed text's length, which bounds every position and offset, so one
    array type serves the whole document (saves a max() per term)."""
    seen: dict[str, list[int]] = {}
    count = 0
    for text, pos, start, end in toks:
        count += 1
        flat = seen.get(text)
        if flat is None:
            seen[text] = [pos, start, end]
        else:
            flat += (pos, start, end)
    pack = _packer(size)
    items = [(word.encode("utf-8"), len(flat) // 3, float(len(flat) // 3), pack(flat)) for word, flat in seen.items()]
    return items, count


def encode_positions(toks: Iterable[tuple], size: int | None = None) -> tuple[list[Posting], int]:
    """Postings in the CompactPositions format for (text, pos, ...) tuples."""
    seen: dict[str, list[int]] = {}
    count = 0
    for tok in toks:
        count += 1
        flat = seen.get(tok[0])
        if flat is None:
            seen[tok[0]] = [tok[1]]
        else:
            flat.append(tok[1])
    return encode_position_lists(seen, size), count


def encode_position_lists(positions: dict[str, list[int]], size: int | None = None) -> list[Posting]:
    """Postings in the CompactPositions format from term -> positions."""
    pack = _packer(size)
    return [(word.encode("utf-8"), len(p), float(len(p)), pack(p)) for word, p in positions.items()]


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


# -- whole posting lists as arrays --------------------------------------------------------------

@dataclass(frozen=True)
class RawPostings:
    """One term's postings in one segment: local document numbers, weights (term frequency
    times the field boost), and the values' lengths and bytes when the field stores values."""

    ids: np.ndarray            # uint32, ascending
    weights: np.ndarray        # float32
    value_lengths: np.ndarray | None
    values: bytes | None


def read_postings(postfile, terminfo) -> RawPostings:
    """Every block of one posting list from a single read."""
    if terminfo.is_inlined():
        ids, weights, values = terminfo.inlined_postings()
        lengths = np.array([len(v) for v in values], dtype="<u4") if values else None
        return RawPostings(np.array(ids, dtype="<u4"), np.array(weights, dtype="<f4"), lengths,
                           b"".join(values) if values else None)
    offset, length = terminfo.extent()
    if isinstance(length, tuple):       # W3TermInfo.from_bytes leaves the length in a 1-tuple
        length = length[0]
    raw = postfile.get(offset, length)
    if raw[:4] != WHOOSH3_HEADER_MAGIC:
        raise ValueError("not a sou posting list (index written by another codec): run `sou reindex --full`")
    at = 4
    ids: list[bytes] = []
    weights: list[bytes] = []
    lengths: list[bytes] = []
    blobs: list[bytes] = []
    view = memoryview(raw)
    end = len(raw)
    while at < end:
        size, n = _INFO.unpack_from(raw, at)[:2]
        block_end = at + 4 + abs(size)
        at += _INFO.size
        wmode, vmode = _MODES.unpack_from(raw, at)
        at += _MODES.size
        ids.append(view[at:at + 4 * n])
        at += 4 * n
        if wmode == _W_ARRAY:
            weights.append(view[at:at + 4 * n])
            at += 4 * n
        else:
            weights.append(_ONES[:4 * n] if n <= _ONES_N else memoryview(np.ones(n, "<f4").tobytes()))
        if vmode == _V_BLOB:
            lengths.append(view[at:at + 4 * n])
            at += 4 * n
            blobs.append(view[at:block_end])
        at = block_end
        if size < 0:
            break
    id_array = np.frombuffer(b"".join(ids), dtype="<u4")
    weight_array = np.frombuffer(b"".join(weights), dtype="<f4")
    if lengths:
        return RawPostings(id_array, weight_array, np.frombuffer(b"".join(lengths), dtype="<u4"), b"".join(blobs))
    return RawPostings(id_array, weight_array, None, None)


_ONES_N = 1024
_ONES = memoryview(np.ones(_ONES_N, "<f4").tobytes())


def decode_positions(lengths: np.ndarray, blob: bytes, stride: int) -> tuple[np.ndarray, np.ndarray]:
    """(positions per posting, all positions) from values packed by ``pack_ints``:
    a typecode byte (H or I) and a machine array; ``stride`` 3 for (position, start, end)."""
    if len(lengths) == 0 or not blob:
        return np.zeros(len(lengths), np.int64), np.zeros(0, np.int64)
    data = np.frombuffer(blob, dtype=np.uint8)
    lens = lengths.astype(np.int64)
    starts = np.concatenate(([0], np.cumsum(lens)[:-1]))
    codes = data[starts]
    if np.all(codes == ord("H")):
        keep = np.ones(len(data), dtype=bool)
        keep[starts] = False
        ints = data[keep].view("<u2")
        counts = (lens - 1) // 2
    else:
        chunks = [np.frombuffer(blob[s + 1:s + n], dtype="<u2" if c == ord("H") else "<u4")
                  for s, n, c in zip(starts.tolist(), lens.tolist(), codes.tolist(), strict=True)]
        ints = np.concatenate([c.astype(np.uint32) for c in chunks])
        counts = np.array([len(c) for c in chunks], dtype=np.int64)
    if stride > 1:
        ints = ints[0::stride]
        counts = counts // stride
    return counts, ints.astype(np.int64)
