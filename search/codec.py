"""How posting lists are laid out on disk, and how they are encoded and decoded as whole arrays.

A term's posting list in one segment is one run of bytes:

    [codes: 1 byte] [document gaps] [term frequencies] [positions: controls, bytes]

* document numbers are stored as gaps from the previous one (the first is the term info's
  ``minid``), each gap in 1, 2 or 4 bytes, the width chosen per list from its largest gap;
* term frequencies in 1, 2 or 4 bytes, or not at all when every one is 1 (most lists);
* positions (positional fields only), posting by posting: its first position, then the gaps
  to its next ones, each number in 1 to 4 bytes of its own, with a 2-bit width per number in a
  control section before them ("Stream VByte"): a character's positions mix large numbers
  (where an article first uses it) and small ones (its later uses), and a width per list spent
  2 bytes on every one of them;
* ``codes`` says which widths the first two sections use.

A list too long to encode at once (a common character of a big corpus: a million positions in
one segment) is written as blocks, each encoded like a list of its own: its ``codes`` byte has
``BLOCKED`` set and is followed by the block count and, per block, its document frequency,
first document and byte length. Encoding memory is then bounded by a block, not by a term.

Each list's term info (``SouTermInfo``, in the segment's terms file) is five LEB128 varints:
document frequency, first id, total frequency, list length and offset (about 10 bytes for a rare
word, against 24 with fixed widths; terms were half of a 2,000-post slice's index).

Common words have small gaps, so most numbers take one byte: the 49k-post corpus's postings
went from 1,024 MB (4-byte ids, 4-byte value lengths, a typecode and 6-byte (position, start,
end) triples per occurrence) to a fraction of that. Encoding and decoding are numpy operations
over a whole batch of terms (encode) or a whole list (decode): no per-posting Python at build
time, one ``numpy.frombuffer`` per section at query time.

Whoosh still reads these lists through ``SouCodec.postings_reader`` (its own matchers serve
merges, wildcard look-ups and the tests' reference ranking), which decodes the list and hands
Whoosh an in-memory ``ListMatcher`` with values in the field format's own encoding.
"""

from __future__ import annotations

import struct
import threading
from array import array
from dataclasses import dataclass

import numpy as np
from whoosh import columns, formats
from whoosh.codec.whoosh3 import (
    W3Codec,
    W3FieldCursor,
    W3FieldWriter,
    W3PerDocReader,
    W3PerDocWriter,
    W3PostingsWriter,
    W3TermInfo,
    W3TermsReader,
)
from whoosh.matching import ListMatcher
from whoosh.reading import TermNotFound
from whoosh.system import pack_uint, unpack_uint

from . import storedtext

WIDTHS = np.array([1, 2, 4], dtype=np.int64)             # width of a gap class
TF_WIDTHS = np.array([0, 1, 2, 4], dtype=np.int64)       # class 0: every frequency is 1
_DTYPES = {1: np.dtype("<u1"), 2: np.dtype("<u2"), 4: np.dtype("<u4")}
BLOCKED = 0x80
_BLOCK = struct.Struct("<III")          # document frequency, first document, byte length

_LEB_GROUPS = 10                 # 7-bit groups of a 64-bit number


def varints(columns: list[np.ndarray]) -> tuple[bytes, np.ndarray]:
    """Row i's numbers from each column, as consecutive LEB128 varints (7 bits a byte, high bit:
    more follow), for every row at once: the concatenated bytes and each row's end in them."""
    values = np.stack([np.asarray(c, dtype=np.uint64) for c in columns], axis=1)     # rows x columns
    sizes = np.maximum(1, _groups_needed(values))
    widest = int(sizes.max()) if sizes.size else 1
    out = np.empty(values.shape + (widest,), dtype=np.uint8)       # a byte per group, not 8
    for g in range(widest):
        out[:, :, g] = ((values >> np.uint64(7 * g)) & np.uint64(0x7F)).astype(np.uint8)
        out[:, :, g] |= (sizes - 1 > g).astype(np.uint8) << 7
    return out[np.arange(widest) < sizes[:, :, None]].tobytes(), np.cumsum(sizes.sum(axis=1))


def _groups_needed(values: np.ndarray) -> np.ndarray:
    """7-bit groups each number needs (0 for 0; the caller makes that 1)."""
    need = np.zeros(values.shape, dtype=np.int64)
    for g in range(_LEB_GROUPS):
        need += values >= (np.uint64(1) << np.uint64(7 * g))
    return need


def write_varints(numbers: list[int]) -> bytes:
    """One row of ``varints``, in plain Python: for a single term info, where building NumPy
    arrays cost 146 us a term (Whoosh writes some fields' terms one at a time)."""
    out = bytearray()
    for n in numbers:
        while n >= 0x80:
            out.append((n & 0x7F) | 0x80)
            n >>= 7
        out.append(n)
    return bytes(out)


def read_varints(data: bytes, count: int) -> list[int]:
    """The first ``count`` LEB128 numbers of ``data``."""
    out: list[int] = []
    value = shift = 0
    for byte in data:
        value |= (byte & 0x7F) << shift
        if byte & 0x80:
            shift += 7
            continue
        out.append(value)
        if len(out) == count:
            break
        value = shift = 0
    if len(out) < count:
        raise ValueError("truncated term info")
    return out


def _width_class(largest: np.ndarray) -> np.ndarray:
    return (largest >= 256).astype(np.int64) + (largest >= 65536)


def _width_class_4(values: np.ndarray) -> np.ndarray:
    """0..3 for numbers that fit in 1..4 bytes."""
    return (values >= 1 << 8).astype(np.int64) + (values >= 1 << 16) + (values >= 1 << 24)


def _position_numbers(positions: np.ndarray, tfs: np.ndarray) -> np.ndarray:
    """The numbers a list stores for its positions, in posting order: each posting's first
    position, then the gaps to its next ones."""
    values = np.empty(len(positions), dtype=np.int64)
    values[0:1] = positions[0:1]
    np.subtract(positions[1:], positions[:-1], out=values[1:])
    starts = np.cumsum(tfs) - tfs
    values[starts] = positions[starts]
    return values


@dataclass
class EncodedLists:
    """A batch of encoded posting lists, in term order: one blob and each list's place in it."""

    blob: bytes
    offsets: np.ndarray           # int64, into blob
    lengths: np.ndarray           # int64
    df: np.ndarray                # int64
    weight: np.ndarray            # float64: sum of frequencies
    maxweight: np.ndarray         # float64
    minid: np.ndarray             # int64
    maxid: np.ndarray             # int64

    def terminfo_bytes(self, base: int) -> tuple[bytes, np.ndarray]:
        """The term info of every list (lists written at ``base`` in the postings file), as
        ``SouTermInfo`` writes it: the concatenated bytes and each list's end in them."""
        return varints([self.df, self.minid, np.rint(self.weight), self.lengths, self.offsets + base])


def _scatter(out: np.ndarray, dest: np.ndarray, values: np.ndarray, classes: np.ndarray, widths: np.ndarray) -> None:
    """Write each value little-endian at ``out[dest:]`` in the width of its class."""
    for c in np.unique(classes).tolist():
        width = int(widths[c])
        if width == 0:
            continue
        sel = classes == c
        store = 4 if width == 3 else width              # 3-byte numbers: the low bytes of 4
        raw = values[sel].astype(_DTYPES[store]).view(np.uint8).reshape(-1, store)[:, :width]
        out[dest[sel, None] + np.arange(width)] = raw


def encode_lists(bounds: np.ndarray, docs: np.ndarray, tfs: np.ndarray,
                 positions: np.ndarray | None = None) -> EncodedLists:
    """Encode the posting lists of a batch of terms.

    ``bounds`` (T+1): where each term's postings start in ``docs``/``tfs`` (every term has at
    least one); ``docs`` ascending within a term; ``positions``: every posting's positions in
    posting order, ascending within a posting (``tfs`` of them each), or None."""
    bounds = np.asarray(bounds, dtype=np.int64)
    docs = np.asarray(docs, dtype=np.int64)
    tfs = np.asarray(tfs, dtype=np.int64)
    n_terms = len(bounds) - 1
    df = np.diff(bounds)
    first = bounds[:-1]
    term_of = np.repeat(np.arange(n_terms), df)
    gaps = np.zeros(len(docs), dtype=np.int64)
    gaps[1:] = docs[1:] - docs[:-1]
    gaps[first] = 0
    id_class = _width_class(np.maximum.reduceat(gaps, first))
    tf_max = np.maximum.reduceat(tfs, first)
    tf_class = np.where(tf_max <= 1, 0, 1 + _width_class(tf_max))
    wid, wtf = WIDTHS[id_class], TF_WIDTHS[tf_class]
    codes = id_class | (tf_class << 2)
    lengths = 1 + (df - 1) * wid + df * wtf
    if positions is not None:
        stream = _position_numbers(np.asarray(positions, dtype=np.int64), tfs)
        value_class = _width_class_4(stream).astype(np.int8)
        npos = np.add.reduceat(tfs, first)
        pos_first = np.cumsum(npos) - npos               # where each term's numbers start
        ctrl_len = (npos + 3) // 4
        data_len = np.add.reduceat(value_class.astype(np.int64), pos_first) + npos
        lengths = lengths + ctrl_len + data_len
    offsets = np.cumsum(lengths) - lengths
    out = np.zeros(int(lengths.sum()), dtype=np.uint8)
    out[offsets] = codes
    # document gaps (all but each term's first posting)
    k = np.arange(len(docs))
    rest = np.ones(len(docs), dtype=bool)
    rest[first] = False
    t = term_of[rest]
    dest = offsets[t] + 1 + (k[rest] - first[t] - 1) * wid[t]
    _scatter(out, dest, gaps[rest], id_class[t], WIDTHS)
    # frequencies
    tf_start = offsets + 1 + (df - 1) * wid
    _scatter(out, tf_start[term_of] + (k - first[term_of]) * wtf[term_of], tfs, tf_class[term_of], TF_WIDTHS)
    if positions is not None:
        ctrl_start = tf_start + df * wtf
        value_term = np.repeat(np.arange(n_terms, dtype=np.int32), npos)
        i = np.arange(len(stream)) - pos_first[value_term]          # index within its term
        np.bitwise_or.at(out, ctrl_start[value_term] + i // 4,
                         (value_class.astype(np.uint8) << (2 * (i % 4)).astype(np.uint8)))
        del i
        width_end = np.cumsum(value_class, dtype=np.int64) + np.arange(1, len(stream) + 1)
        dest = width_end - (value_class + 1)                          # bytes before it, all terms
        dest -= dest[pos_first][value_term]                           # ... within its term
        dest += (ctrl_start + ctrl_len)[value_term]
        del width_end, value_term
        _scatter(out, dest, stream, value_class, np.arange(1, 5))
    return EncodedLists(out.tobytes(), offsets, lengths, df, np.add.reduceat(tfs, first).astype(np.float64),
                        tf_max.astype(np.float64), docs[first], docs[bounds[1:] - 1])


@dataclass(frozen=True)
class RawPostings:
    """One term's postings in one segment: local document numbers and frequencies (the posting
    weights: every sou field has boost 1); positions, for positional fields, are decoded from
    the list's bytes only when asked (most queries never need them)."""

    ids: np.ndarray               # int64, ascending
    weights: np.ndarray           # float64 (term frequencies)
    raw: bytes = b""
    positions_at: int = -1        # where the position deltas start in raw; -1: no positions

    @property
    def has_positions(self) -> bool:
        return self.positions_at >= 0

    @property
    def raw_size(self) -> int:
        """Bytes of the encoded list kept for decoding positions later."""
        return len(self.raw)

    @property
    def nbytes(self) -> int:
        return self.ids.nbytes + self.weights.nbytes + self.raw_size

    def positional_view(self, weights: np.ndarray) -> RawPostings:
        """These postings for decoding positions only: no document numbers, and ``weights``
        (the same frequencies, e.g. a slice of a longer array) instead of their own, so a cache
        that keeps both does not hold the decoded arrays twice."""
        return RawPostings(_NO_IDS, weights, self.raw, self.positions_at)

    def positions(self) -> tuple[np.ndarray, np.ndarray]:
        """(positions per posting, every posting's positions in posting order)."""
        tfs = self.weights.astype(np.int64)
        if not self.has_positions:
            return tfs, np.zeros(0, dtype=np.int64)
        deltas = _read_stream(self.raw, self.positions_at, int(tfs.sum()))
        starts = np.cumsum(tfs) - tfs
        running = np.cumsum(deltas)
        return tfs, running - np.repeat(running[starts] - deltas[starts], tfs)


_NO_IDS = np.zeros(0, dtype=np.int64)
_SHIFTS = np.array([0, 2, 4, 6], dtype=np.uint8)


def _read_stream(raw: bytes, at: int, n: int) -> np.ndarray:
    """``n`` numbers stored as 2-bit widths (4 per control byte) followed by their bytes."""
    buf = np.frombuffer(raw, dtype=np.uint8)
    ctrl = buf[at:at + (n + 3) // 4]
    widths = ((ctrl[:, None] >> _SHIFTS) & 3).reshape(-1)[:n].astype(np.int64) + 1
    starts = at + len(ctrl) + np.cumsum(widths) - widths
    values = buf[starts].astype(np.int64)
    for b in (1, 2, 3):
        wide = np.flatnonzero(widths > b)
        if not len(wide):
            break
        values[wide] |= buf[starts[wide] + b].astype(np.int64) << (8 * b)
    return values


def decode_list(raw: bytes, df: int, minid: int, positional: bool = False) -> RawPostings:
    """One encoded posting list (see the module docstring) as arrays."""
    codes = raw[0]
    wid = int(WIDTHS[codes & 3])
    wtf = int(TF_WIDTHS[(codes >> 2) & 3])
    at = 1
    ids = np.empty(df, dtype=np.int64)
    ids[0] = minid
    if df > 1:
        gaps = np.frombuffer(raw, dtype=_DTYPES[wid], count=df - 1, offset=at)
        np.cumsum(gaps, out=ids[1:])
        ids[1:] += minid
    at += (df - 1) * wid
    if wtf:
        tfs = np.frombuffer(raw, dtype=_DTYPES[wtf], count=df, offset=at).astype(np.float64)
        at += df * wtf
    else:
        tfs = np.ones(df, dtype=np.float64)
    if not positional:
        return RawPostings(ids, tfs)
    return RawPostings(ids, tfs, raw, at)


def blocked_list(blocks: list[tuple[int, int, bytes]]) -> bytes:
    """One list made of separately encoded blocks: (document frequency, first document,
    encoded bytes) each, in document order."""
    header = [bytes([BLOCKED]), struct.pack("<I", len(blocks))]
    header += [_BLOCK.pack(df, first, len(blob)) for df, first, blob in blocks]
    return b"".join(header + [blob for _, _, blob in blocks])


class BlockedPostings(RawPostings):
    """The postings of a blocked list: its blocks' postings end to end."""

    def __init__(self, blocks: list[RawPostings], ids: np.ndarray | None = None,
                 weights: np.ndarray | None = None) -> None:
        super().__init__(np.concatenate([b.ids for b in blocks]) if ids is None else ids,
                         np.concatenate([b.weights for b in blocks]) if weights is None else weights,
                         b"", 0 if blocks[0].has_positions else -1)
        object.__setattr__(self, "blocks", blocks)

    def positional_view(self, weights: np.ndarray) -> RawPostings:
        views, at = [], 0
        for block in self.blocks:
            n = len(block.weights)
            views.append(block.positional_view(weights[at:at + n]))
            at += n
        return BlockedPostings(views, _NO_IDS, weights)

    @property
    def raw_size(self) -> int:
        return sum(len(b.raw) for b in self.blocks)

    def positions(self) -> tuple[np.ndarray, np.ndarray]:
        parts = [b.positions() for b in self.blocks]
        return np.concatenate([c for c, _ in parts]), np.concatenate([p for _, p in parts])


def decode_any(raw: bytes, df: int, minid: int, positional: bool = False) -> RawPostings:
    """A list, blocked or not."""
    if not raw[0] & BLOCKED:
        return decode_list(raw, df, minid, positional)
    (count,) = struct.unpack_from("<I", raw, 1)
    at = 5 + count * _BLOCK.size
    blocks = []
    for i in range(count):
        bdf, first, size = _BLOCK.unpack_from(raw, 5 + i * _BLOCK.size)
        blocks.append(decode_list(memoryview(raw)[at:at + size], bdf, first, positional))
        at += size
    return BlockedPostings(blocks)


def read_postings(postfile, terminfo, positional: bool = False) -> RawPostings:
    """A term's whole posting list in one segment, from one read."""
    offset, length = terminfo.extent()
    if isinstance(length, tuple):       # W3TermInfo.from_bytes leaves the length in a 1-tuple
        length = length[0]
    raw = postfile.get(offset, length)
    if not raw or raw[0] & 3 == 3 or (raw[0] & 0x70):
        raise ValueError("not a sou posting list (index written by another version): run `sou reindex --full`")
    return decode_any(raw, terminfo.doc_frequency(), terminfo.min_id(), positional)


def value_bytes(format_, postings: RawPostings) -> list[bytes]:
    """Each posting's value in the field format's own encoding (what Whoosh's matchers return):
    positions for positional fields, the frequency for Frequency fields, nothing otherwise."""
    if postings.has_positions:
        counts, flat = (a.tolist() for a in postings.positions())
        out, at = [], 0
        for n in counts:
            out.append(pack_ints(flat[at:at + n]))
            at += n
        return out
    if isinstance(format_, formats.Existence) or not format_.supports("frequency"):
        return [b""] * len(postings.ids)
    return [pack_uint(int(tf)) for tf in postings.weights.tolist()]


def tfs_of_values(format_, values: list[bytes]) -> tuple[np.ndarray, list[list[int]] | None]:
    """The inverse of ``value_bytes``: frequencies and (positional fields) positions."""
    if format_.supports("positions"):
        lists = [list(unpack_ints(v)) for v in values]
        return np.array([len(p) for p in lists], dtype=np.int64), lists
    if isinstance(format_, formats.Existence) or not format_.supports("frequency"):
        return np.ones(len(values), dtype=np.int64), None
    return np.array([unpack_uint(v)[0] if v else 1 for v in values], dtype=np.int64), None


class SouTermInfo(W3TermInfo):
    """A term's entry in the terms file: document frequency, first id, total weight (a count:
    every sou field has boost 1), list length and offset as varints, instead of Whoosh's 36
    fixed bytes. Whoosh's statistics that sou never reads (length bounds, last id, largest
    weight) are given safe bounds: the largest weight is at most the total, lengths at least 1."""

    def to_bytes(self) -> bytes:
        minid = 0 if self._minid is None else self._minid
        return write_varints([self._df, minid, round(self._weight), self._length, self._offset])

    @classmethod
    def from_bytes(cls, s: bytes) -> SouTermInfo:
        info = cls()
        df, minid, weight, length, offset = read_varints(s, 5)
        info._df, info._minid, info._maxid = df, minid, 0xFFFFFFFE
        info._weight = info._maxweight = float(weight)
        info._minlength, info._maxlength = 1, 1 << 30
        info._offset, info._length = offset, length
        return info


class SouTermsReader(W3TermsReader):
    """Whoosh's terms reader over SouTermInfo entries."""

    def items(self):
        decode = self._keydecoder
        return ((decode(k), SouTermInfo.from_bytes(v)) for k, v in self._tindex.items())

    def items_from(self, fieldname, prefix):
        decode = self._keydecoder
        return ((decode(k), SouTermInfo.from_bytes(v))
                for k, v in self._tindex.items_from(self._keycoder(fieldname, prefix)))

    def term_info(self, fieldname, tbytes):
        try:
            return SouTermInfo.from_bytes(self._tindex[self._keycoder(fieldname, tbytes)])
        except KeyError:
            raise TermNotFound(f"No term {fieldname}:{tbytes!r}") from None

    def frequency(self, fieldname, tbytes):
        return float(read_varints(self._dbfile.get(*self._range_for_key(fieldname, tbytes)), 3)[2])

    def doc_frequency(self, fieldname, tbytes):
        return read_varints(self._dbfile.get(*self._range_for_key(fieldname, tbytes)), 1)[0]

    def cursor(self, fieldname, fieldobj):
        return SouFieldCursor(self._tindex, fieldname, self._keycoder, self._keydecoder, fieldobj)


class SouFieldCursor(W3FieldCursor):
    def term_info(self):
        if self._pos is None:
            return None
        return SouTermInfo.from_bytes(self._tindex.dbfile.get(self._datapos, self._datalen))


class SouFieldWriter(W3FieldWriter):
    """Whoosh's field writer with SouTermInfo entries (sou's own writers use pool.py)."""

    def start_term(self, btext):
        self._btext = btext
        self._postwriter.start_postings(self._fieldobj.format, SouTermInfo())


class SouPostingsWriter(W3PostingsWriter):
    """Whoosh's one-posting-at-a-time writing interface over the layout above. sou's own
    writers encode whole batches (search/pool.py); this serves any Whoosh code path that writes
    postings itself."""

    def start_postings(self, format_, terminfo) -> None:
        self._format = format_
        self._terminfo = terminfo
        self._buffer: list[tuple[int, bytes | None]] = []

    def add_posting(self, id_, weight, vbytes, length=None) -> None:
        self._buffer.append((id_, vbytes))

    def finish_postings(self):
        ids = np.array([i for i, _ in self._buffer], dtype=np.int64)
        tfs, positions = tfs_of_values(self._format, [v or b"" for _, v in self._buffer])
        flat = np.array([p for ps in positions for p in ps], dtype=np.int64) if positions is not None else None
        encoded = encode_lists(np.array([0, len(ids)]), ids, tfs, flat)
        start = self._postfile.tell()
        self._postfile.write(encoded.blob)
        info = self._terminfo
        info._weight, info._df = float(encoded.weight[0]), int(encoded.df[0])
        info._maxweight = float(encoded.maxweight[0])
        info._minid, info._maxid = int(encoded.minid[0]), int(encoded.maxid[0])
        info.set_extent(start, len(encoded.blob))
        self._buffer = []
        return info

    def written(self) -> bool:
        return True


STORED_COLUMN = columns.VarBytesColumn()      # storedtext.encode's bytes, as they are


class SouPerDocWriter(W3PerDocWriter):
    """Whoosh's per-document writer with stored fields encoded by search/storedtext.py."""

    def __init__(self, codec, storage, segment) -> None:
        from .analysis import folding_table

        self._dictionaries = storedtext.default_dictionaries()
        self._table = folding_table(True)[0]
        super().__init__(codec, storage, segment)

    def _create_column(self, fieldname, column):
        super()._create_column(fieldname, STORED_COLUMN if fieldname == "_stored" else column)

    def finish_doc(self) -> None:
        fields = self._storedfields
        if fields:
            self.add_column_value("_stored", STORED_COLUMN, storedtext.encode(fields, self._dictionaries, self._table))
            fields.clear()
        self._indoc = False

    def close(self) -> None:
        super().close()
        with self._segment.create_file(self._storage, storedtext.DICT_EXT) as fh:
            fh.write(storedtext.pack_dictionaries(self._dictionaries))


class SouPerDocReader(W3PerDocReader):
    """Reads stored fields written by SouPerDocWriter, with the segment's own dictionaries.

    Whoosh opens a column's file on its first read. The first reads of a new snapshot come from
    several requests at once, and Whoosh's check-then-open let each open its own copy: all but
    the last stored were never closed (a leaked descriptor per refresh, then a ResourceWarning at
    some later collection). Opening a column is therefore done under a lock; cached reads take none.
    """

    _dictionaries: tuple[bytes, bytes] | None = None

    def __init__(self, storage, segment) -> None:
        super().__init__(storage, segment)
        self._open_lock = threading.Lock()

    def column_reader(self, fieldname, column):
        with self._open_lock:
            return super().column_reader(fieldname, column)

    def _cached_reader(self, fieldname, column):
        reader = self._readers.get(fieldname)
        if reader is not None:
            return reader
        with self._open_lock:
            if fieldname not in self._readers:
                if not self.has_column(fieldname):
                    return None
                self._readers[fieldname] = W3PerDocReader.column_reader(self, fieldname, column)
            return self._readers[fieldname]

    def close(self) -> None:
        with self._open_lock:
            super().close()

    def stored_fields(self, docnum: int) -> dict:
        raw = self._cached_reader("_stored", STORED_COLUMN)[docnum]
        if self._dictionaries is None:
            with self._storage.open_file(self._segment.make_filename(storedtext.DICT_EXT)) as fh:
                self._dictionaries = storedtext.unpack_dictionaries(fh.read())
        return storedtext.decode(raw, self._dictionaries)


class SouCodec(W3Codec):
    """Whoosh's W3 codec with the posting-list layout above (never inlined in the terms file,
    no per-block length statistics) and compact stored fields (search/storedtext.py)."""

    length_stats = False

    def __init__(self, blocklimit: int = 128, compression: int = 0, inlinelimit: int = 0) -> None:
        super().__init__(blocklimit=blocklimit, compression=compression, inlinelimit=0)

    def postings_writer(self, dbfile, byteids: bool = False):
        return SouPostingsWriter(dbfile, blocklimit=self._blocklimit, byteids=byteids, compression=0, inlinelimit=0)

    def field_writer(self, storage, segment):
        return SouFieldWriter(self, storage, segment)

    def per_document_writer(self, storage, segment):
        return SouPerDocWriter(self, storage, segment)

    def per_document_reader(self, storage, segment):
        return SouPerDocReader(storage, segment)

    def terms_reader(self, storage, segment):
        tiname = segment.make_filename(self.TERMS_EXT)
        return SouTermsReader(self, storage.open_file(tiname), storage.file_length(tiname),
                              segment.open_file(storage, self.POSTS_EXT))

    def postings_reader(self, dbfile, terminfo, format_, term=None, scorer=None):
        postings = read_postings(dbfile, terminfo, bool(format_.supports("positions")))
        return ListMatcher(postings.ids.tolist(), postings.weights.tolist(), value_bytes(format_, postings),
                           format_, scorer=scorer, term=term, terminfo=terminfo)


# -- small integer lists (positional fields' Whoosh-side values) ---------------------------------

def pack_ints(values: list[int]) -> bytes:
    """Non-negative ints as a typecode byte + a machine array: 2 bytes each when they fit."""
    if not values or max(values) < 65536:
        return b"H" + array("H", values).tobytes()
    return b"I" + array("I", values).tobytes()


def unpack_ints(data: bytes) -> array:
    return array(chr(data[0]), data[1:]) if data else array("I")

