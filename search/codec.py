"""How posting lists are laid out on disk, and how they are encoded and decoded as whole arrays.

A term's posting list in one segment is one run of bytes:

    [codes: 1 byte] [document gaps] [term frequencies] [position deltas]

* document numbers are stored as gaps from the previous one (the first is the term info's
  ``minid``), each gap in 1, 2 or 4 bytes, the width chosen per list from its largest gap;
* term frequencies in 1, 2 or 4 bytes, or not at all when every one is 1 (most lists);
* positions (positional fields only), per posting, as gaps from the previous position of the
  same posting (the first one absolute), again in the narrowest width that holds them all;
* ``codes`` says which widths were used.

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

from array import array
from dataclasses import dataclass

import numpy as np
from whoosh import formats
from whoosh.codec.whoosh3 import W3Codec, W3PostingsWriter
from whoosh.matching import ListMatcher
from whoosh.system import pack_uint, unpack_uint

WIDTHS = np.array([1, 2, 4], dtype=np.int64)             # width of a gap class
TF_WIDTHS = np.array([0, 1, 2, 4], dtype=np.int64)       # class 0: every frequency is 1
_DTYPES = {1: np.dtype("<u1"), 2: np.dtype("<u2"), 4: np.dtype("<u4")}
HAS_POSITIONS = 0x40

# W3TermInfo's layout (see whoosh.codec.whoosh3): flags, total weight, document frequency, min and
# max length bytes, max weight, first and last id, then the list's offset and length.
TERMINFO_DTYPE = np.dtype([("flags", "u1"), ("weight", ">f4"), ("df", ">u4"), ("minlen", "u1"),
                           ("maxlen", "u1"), ("maxweight", ">f4"), ("minid", ">u4"), ("maxid", ">u4"),
                           ("offset", ">i8"), ("length", ">i4")])


def _width_class(largest: np.ndarray) -> np.ndarray:
    return (largest >= 256).astype(np.int64) + (largest >= 65536)


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

    def terminfo_bytes(self, base: int) -> bytes:
        """The W3TermInfo bytes of every list (lists written at ``base`` in the postings file),
        concatenated: each is ``TERMINFO_DTYPE.itemsize`` bytes."""
        info = np.zeros(len(self.df), dtype=TERMINFO_DTYPE)
        info["weight"] = self.weight
        info["df"] = self.df
        info["maxweight"] = self.maxweight
        info["minid"] = self.minid
        info["maxid"] = self.maxid
        info["offset"] = self.offsets + base
        info["length"] = self.lengths
        return info.tobytes()


def _scatter(out: np.ndarray, dest: np.ndarray, values: np.ndarray, classes: np.ndarray, widths: np.ndarray) -> None:
    """Write each value little-endian at ``out[dest:]`` in the width of its class."""
    for c in np.unique(classes).tolist():
        width = int(widths[c])
        if width == 0:
            continue
        sel = classes == c
        raw = values[sel].astype(_DTYPES[width]).view(np.uint8).reshape(-1, width)
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
        positions = np.asarray(positions, dtype=np.int64)
        npos = np.add.reduceat(tfs, first)
        posting_first = np.cumsum(tfs) - tfs
        deltas = np.empty(len(positions), dtype=np.int64)
        if len(positions):
            deltas[1:] = positions[1:] - positions[:-1]
            deltas[posting_first] = positions[posting_first]
        pos_first = np.cumsum(npos) - npos
        pos_class = _width_class(np.maximum.reduceat(deltas, pos_first))
        wpos = WIDTHS[pos_class]
        codes = codes | (pos_class << 4) | HAS_POSITIONS
        lengths = lengths + npos * wpos
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
        posting_of = np.repeat(np.arange(len(docs)), tfs)
        pt = term_of[posting_of]
        j = np.arange(len(positions)) - pos_first[pt]
        _scatter(out, tf_start[pt] + df[pt] * wtf[pt] + j * wpos[pt], deltas, pos_class[pt], WIDTHS)
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
    def nbytes(self) -> int:
        return self.ids.nbytes + self.weights.nbytes + len(self.raw)

    def positions(self) -> tuple[np.ndarray, np.ndarray]:
        """(positions per posting, every posting's positions in posting order)."""
        tfs = self.weights.astype(np.int64)
        if not self.has_positions:
            return tfs, np.zeros(0, dtype=np.int64)
        wpos = int(WIDTHS[(self.raw[0] >> 4) & 3])
        deltas = np.frombuffer(self.raw, dtype=_DTYPES[wpos], count=int(tfs.sum()),
                               offset=self.positions_at).astype(np.int64)
        running = np.cumsum(deltas)
        starts = np.cumsum(tfs) - tfs
        return tfs, running - np.repeat(running[starts] - deltas[starts], tfs)


def decode_list(raw: bytes, df: int, minid: int) -> RawPostings:
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
    if not codes & HAS_POSITIONS:
        return RawPostings(ids, tfs)
    return RawPostings(ids, tfs, raw, at)


def read_postings(postfile, terminfo) -> RawPostings:
    """A term's whole posting list in one segment, from one read."""
    offset, length = terminfo.extent()
    if isinstance(length, tuple):       # W3TermInfo.from_bytes leaves the length in a 1-tuple
        length = length[0]
    raw = postfile.get(offset, length)
    if not raw or raw[0] & 0x80 or raw[0] & 3 == 3:
        raise ValueError("not a sou posting list (index written by another version): run `sou reindex --full`")
    return decode_list(raw, terminfo.doc_frequency(), terminfo.min_id())


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


class SouCodec(W3Codec):
    """Whoosh's W3 codec with the posting-list layout above (never inlined in the terms file,
    no per-block length statistics)."""

    length_stats = False

    def __init__(self, blocklimit: int = 128, compression: int = 0, inlinelimit: int = 0) -> None:
        super().__init__(blocklimit=blocklimit, compression=compression, inlinelimit=0)

    def postings_writer(self, dbfile, byteids: bool = False):
        return SouPostingsWriter(dbfile, blocklimit=self._blocklimit, byteids=byteids, compression=0, inlinelimit=0)

    def postings_reader(self, dbfile, terminfo, format_, term=None, scorer=None):
        postings = read_postings(dbfile, terminfo)
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

