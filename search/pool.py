"""The postings of one segment being written, gathered as arrays and written a batch of terms at
a time.

A build worker used to keep every posting as a Python tuple in a dict of lists (about 120 bytes
a posting: a 2 GB worker for the 49k-post corpus) and to write each term through Whoosh's
per-term calls. Here each field keeps (term id, document, frequency or position) arrays; past a
memory budget they are sorted by term and spilled to a temporary file (a "run"), and the
segment is written at the end by merging the runs term range by term range, encoding whole
batches of posting lists with numpy (codec.encode_lists) and writing the terms file the same
way (``BatchTermsWriter``). Documents arrive in increasing order and every sort is stable, so
each term's postings come out in document order without sorting documents.

Term ids: a string term gets an id from the field's vocabulary (from ``STRING_BASE`` up); in
n-gram fields a CJK character's id is its code point, so characters need no dictionary look-up.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import os
import shutil
import struct
import tempfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from whoosh import fields
from whoosh.filedb import filetables
from whoosh.system import pack_ushort

from .arrays import sorted_unique
from .codec import EncodedLists, blocked_list, encode_lists, tfs_of_values

STRING_BASE = 0x110000              # ids below this are Unicode code points (n-gram characters)
_TUPLE_OVERHEAD = 150               # a (term, doc, value) tuple of ints in a list
BATCH_OCCURRENCES = 100_000         # postings (or positions) encoded at once: bounds memory
SPILL_PREFIX = "sou-pool-"          # a writer's folder of spilled runs, in the index folder
_LENGTHS = struct.Struct("!ii")
#: (field name, a batch of its terms as written (bytes, in order), their document frequencies)
TermsObserver = Callable[[str, list[bytes], np.ndarray], None]


@dataclass
class _Run:
    """One field's spilled postings, sorted by term id: three int32 files of ``size`` values
    (term ids, or term ranks once ``rank_sorted``; documents; frequencies or positions)."""

    stem: str
    size: int
    cuts: np.ndarray | None = None      # where each write batch starts, once rank-sorted

    def path(self, part: str) -> str:
        return f"{self.stem}.{part}"

    def load(self, part: str) -> np.ndarray:
        return np.fromfile(self.path(part), dtype=np.int32)

    def read(self, part: str, start: int, stop: int) -> np.ndarray:
        """A slice, read from the file (no memory map: mapped pages would count as this
        process's memory until the kernel drops them)."""
        with open(self.path(part), "rb") as fh:
            fh.seek(4 * start)
            return np.fromfile(fh, dtype=np.int32, count=stop - start)

    def save(self, terms: np.ndarray, docs: np.ndarray, values: np.ndarray) -> None:
        for part, arr in (("terms", terms), ("docs", docs), ("values", values)):
            arr.astype(np.int32).tofile(self.path(part))

    def remove(self) -> None:
        for part in ("terms", "docs", "values"):
            with contextlib.suppress(OSError):
                os.remove(self.path(part))


@dataclass
class FieldPool:
    """One field's postings of this segment.

    Postings go into three int32 buffers that grow by doubling and are reused after each
    spill: per-document arrays (three small numpy objects a field a document) fragmented the
    heap so that a worker kept growing although the pool itself stayed within its budget."""

    name: str
    positional: bool
    textual: bool = True           # terms are text (else raw bytes: dates, numbers)
    vocab: dict = field(default_factory=dict)       # str (or bytes) -> term id
    words: list = field(default_factory=list)
    buffer: np.ndarray = field(default_factory=lambda: np.empty((0, 3), dtype=np.int32))  # term, doc, value
    size: int = 0                  # rows of buffer in use
    runs: list[_Run] = field(default_factory=list)
    pending: list[tuple[int, int, int]] = field(default_factory=list)   # one-posting adds, batched

    @property
    def nbytes(self) -> int:
        return self.buffer.nbytes + _TUPLE_OVERHEAD * len(self.pending)

    def ids(self, words: list[str]) -> list[int]:
        """Term ids of ``words`` (new words get new ids)."""
        get = self.vocab.get
        ids = [get(w) for w in words]
        if None in ids:
            vocab, known = self.vocab, self.words
            for i, w in enumerate(words):
                if ids[i] is None:
                    found = vocab.get(w)
                    if found is None:
                        found = vocab[w] = STRING_BASE + len(known)
                        known.append(w)
                    ids[i] = found
        return ids

    def append(self, terms, docs, values) -> None:
        n = len(terms)
        end = self.size + n
        if end > len(self.buffer):
            grown = np.empty((max(end, 2 * len(self.buffer), 4096), 3), dtype=np.int32)
            grown[:self.size] = self.buffer[:self.size]
            self.buffer = grown
        rows = self.buffer[self.size:end]
        rows[:, 0] = terms
        rows[:, 1] = docs
        rows[:, 2] = values
        self.size = end

    def append_one(self, term: int, doc: int, value: int) -> None:
        """One posting (keyword fields, merges): kept in a list and added in thousands."""
        self.pending.append((term, doc, value))
        if len(self.pending) >= 4096:
            self.flush_pending()

    def flush_pending(self) -> None:
        if self.pending:
            block = np.array(self.pending, dtype=np.int64)
            self.pending = []
            self.append(block[:, 0], block[:, 1], block[:, 2])

    def spill(self, folder: str) -> None:
        """Sort what is in memory by term (stable: documents stay in order) into a run file;
        the buffer is kept for what comes next."""
        self.flush_pending()
        if not self.size:
            return
        used = self.buffer[:self.size]
        run = _Run(os.path.join(folder, f"{self.name}-{len(self.runs)}"), self.size)
        order = np.argsort(used[:, 0], kind="stable")
        for column, part in enumerate(("terms", "docs", "values")):
            used[order, column].tofile(run.path(part))
        self.runs.append(run)
        self.size = 0
        del used, order
        release_free_memory()

    def release(self) -> None:
        self.buffer = np.empty((0, 3), dtype=np.int32)
        self.size = 0

    def term_key(self, term_id: int) -> str | bytes:
        """The term as this field holds it: text (code points below ``STRING_BASE``), or the raw
        bytes of a non-textual field."""
        if term_id < STRING_BASE:
            return chr(term_id)
        return self.words[term_id - STRING_BASE]


class PostingPool:
    """The postings of one segment. ``add_*`` take one document's terms; ``write`` writes the
    segment's terms and postings files."""

    def __init__(self, schema, budget_bytes: int = 48 * 1024 * 1024, tempdir: str | None = None,
                 on_terms: TermsObserver | None = None) -> None:
        self.schema = schema
        self.budget = budget_bytes
        self.on_terms = on_terms    # told each batch of terms written, with their document frequencies
        self.fields: dict[str, FieldPool] = {}
        self._tempdir = tempdir
        self._folder: str | None = None
        self.count = 0              # postings added (occurrences for positional fields)
        self._since = 0

    # -- adding ---------------------------------------------------------------------------------
    def _field(self, name: str) -> FieldPool:
        pool = self.fields.get(name)
        if pool is None:
            fieldobj = self.schema[name]
            fmt = fieldobj.format
            pool = self.fields[name] = FieldPool(name, bool(fmt and fmt.supports("positions")),
                                                 isinstance(fieldobj, (fields.TEXT, fields.KEYWORD, fields.ID)))
        return pool

    def add_words(self, name: str, docnum: int, words: list[str]) -> None:
        """A frequency field: every occurrence of every word of one document."""
        if not words:
            return
        pool = self._field(name)
        ids, counts = np.unique(np.array(pool.ids(words), dtype=np.int64), return_counts=True)
        pool.append(ids, docnum, counts)
        self._added(len(ids))

    def add_positions(self, name: str, docnum: int, terms: np.ndarray | list, positions: np.ndarray | list) -> None:
        """A positional field: term ids (from ``ids`` or code points) and their positions."""
        terms = np.asarray(terms, dtype=np.int64)
        if not len(terms):
            return
        pool = self._field(name)
        pool.append(terms, docnum, positions)
        self._added(len(terms))

    def add(self, item: tuple[str, bytes, int, float, bytes]) -> None:
        """Whoosh's pool interface, one posting at a time (keyword fields, merges)."""
        name, tbytes, docnum, _weight, vbytes = item
        pool = self._field(name)
        term = pool.ids([tbytes.decode("utf-8") if pool.textual else tbytes])[0]
        tfs, positions = tfs_of_values(self.schema[name].format, [vbytes or b""])
        if pool.positional:
            for p in positions[0] if positions else []:
                pool.append_one(term, docnum, p)
        else:
            pool.append_one(term, docnum, int(tfs[0]))
        self._added(1)

    def _added(self, n: int) -> None:
        self.count += n
        self._since += n
        # Checking the budget costs a sum over the fields: every few thousand postings is enough.
        if self._since >= 4096:
            self._since = 0
            if self.budget and sum(p.size * 12 + len(p.pending) * _TUPLE_OVERHEAD
                                   for p in self.fields.values()) > self.budget:
                folder = self.folder()
                for pool in self.fields.values():
                    pool.spill(folder)

    def folder(self) -> str:
        if self._folder is None:
            self._folder = tempfile.mkdtemp(prefix=SPILL_PREFIX, dir=self._tempdir)
        return self._folder

    @property
    def fieldnames(self) -> set[str]:
        return set(self.fields)

    # -- writing --------------------------------------------------------------------------------
    def write(self, fieldwriter) -> None:
        """Write every field's terms and postings through Whoosh's field writer ``fieldwriter``
        (its postings and terms files), field by field in name order, terms in byte order."""
        terms_out = BatchTermsWriter.replace(fieldwriter)
        postfile = fieldwriter._postfile
        for pool in self.fields.values():       # no more terms come: ids are final
            pool.vocab = {}
        for name in sorted(self.fields):
            pool = self.fields[name]
            pool.spill(self.folder())
            pool.release()
            release_free_memory()
            if not pool.runs:
                continue
            fieldwriter.start_field(name, self.schema[name])
            prefix = pack_ushort(fieldwriter._fieldid)
            observe = functools.partial(self.on_terms, name) if self.on_terms is not None else None
            _write_field(pool, postfile, terms_out, prefix, observe)
            fieldwriter.finish_field()
            for run in pool.runs:
                run.remove()
            pool.runs = []
            pool.words = []

    def cleanup(self) -> None:
        self.fields.clear()
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None


def _write_field(pool: FieldPool, postfile, terms_out: BatchTermsWriter, prefix: bytes,
                 observe: Callable[[list[bytes], np.ndarray], None] | None = None) -> None:
    """Merge the field's runs in term order, a batch of terms at a time, in bounded memory:
    (1) rank the terms by their bytes and count each term's occurrences, (2) rewrite each run
    sorted by rank and note where each batch starts in it, (3) read each batch's slice of every
    run, encode it and write it."""
    used = sorted_unique(np.concatenate([sorted_unique(run.load("terms")) for run in pool.runs]))
    # Terms are ranked as the strings the field already holds (code point order is UTF-8 byte
    # order) and encoded a batch at a time: a bytes copy of every term at once was a fifth of a
    # build process's memory peak.
    keys = [pool.term_key(t) for t in used.tolist()]
    order = np.array(sorted(range(len(keys)), key=keys.__getitem__), dtype=np.int64)
    keys = [keys[i] for i in order.tolist()]            # in rank (byte) order
    first_id = int(used[0])                             # string ids start at STRING_BASE, not 0
    rank = np.zeros(int(used[-1]) + 1 - first_id, dtype=np.int32)
    rank[used[order] - first_id] = np.arange(len(order), dtype=np.int32)
    del used
    sizes = np.zeros(len(order), dtype=np.int64)
    for run in pool.runs:
        sizes += np.bincount(rank[run.load("terms") - first_id], minlength=len(order))
    batches = _batches(sizes, BATCH_OCCURRENCES)
    edges = np.array([lo for lo, _ in batches] + [len(order)], dtype=np.int64)
    del sizes
    for run in pool.runs:
        ranks = rank[run.load("terms") - first_id]
        by_rank = np.argsort(ranks, kind="stable")
        ranks = ranks[by_rank]
        ranks.tofile(run.path("terms"))
        run.cuts = np.searchsorted(ranks, edges)
        del ranks
        for part in ("docs", "values"):           # one array at a time: bounded copies
            run.load(part)[by_rank].tofile(run.path(part))
        del by_rank
    for b, (lo, hi) in enumerate(batches):
        if hi - lo == 1 and sum(int(run.cuts[b + 1] - run.cuts[b]) for run in pool.runs) > BATCH_OCCURRENCES:
            encoded = _blocked_term(pool, b)           # one huge term: encoded block by block
        else:
            parts = [(run.read("terms", run.cuts[b], run.cuts[b + 1]), run.read("docs", run.cuts[b], run.cuts[b + 1]),
                      run.read("values", run.cuts[b], run.cuts[b + 1]))
                     for run in pool.runs if run.cuts[b + 1] > run.cuts[b]]
            ranks = np.concatenate([p[0] for p in parts]).astype(np.int64)
            docs = np.concatenate([p[1] for p in parts]).astype(np.int64)
            values = np.concatenate([p[2] for p in parts]).astype(np.int64)
            several = len(parts) > 1
            del parts
            if several and hi - lo > 1:    # runs are in document order: a stable sort by term keeps it
                by_rank = np.argsort(ranks, kind="stable")
                ranks, docs, values = ranks[by_rank], docs[by_rank], values[by_rank]
            p_ranks, p_docs, tfs, positions = _postings(ranks, docs, values, pool.positional)
            term_starts = np.flatnonzero(np.concatenate(([True], p_ranks[1:] != p_ranks[:-1])))
            encoded = encode_lists(np.append(term_starts, len(p_ranks)), p_docs, tfs, positions)
        base = postfile.tell()
        postfile.write(encoded.blob)
        written = [key.encode("utf-8") for key in keys[lo:hi]] if pool.textual else keys[lo:hi]
        terms_out.add_many([prefix + t for t in written], *encoded.terminfo_bytes(base))
        if observe is not None:
            observe(written, encoded.df)


def _postings(ranks: np.ndarray, docs: np.ndarray, values: np.ndarray, positional: bool):
    """Rows (term rank, document, frequency or position), sorted, as postings: their terms,
    documents, frequencies and (positional fields) positions."""
    if not positional:
        return ranks, docs, values, None
    new_posting = np.ones(len(ranks), dtype=bool)
    new_posting[1:] = (ranks[1:] != ranks[:-1]) | (docs[1:] != docs[:-1])
    starts = np.flatnonzero(new_posting)
    return ranks[starts], docs[starts], np.diff(np.append(starts, len(ranks))), values


def _blocked_term(pool: FieldPool, b: int) -> EncodedLists:
    """The list of batch ``b``'s one term, too long to encode at once, as blocks of at most
    ``BATCH_OCCURRENCES`` rows, filled from the runs in turn (runs follow document order, and a
    document's occurrences are never split between runs), cut at posting boundaries. A block
    spans runs: one block per run made a common character's list hundreds of blocks in a big
    build (a worker spills a run every 12 MB), and each block costs a query a decoding step."""
    blocks: list[tuple[int, int, bytes]] = []
    pending: list[tuple[np.ndarray, np.ndarray]] = []
    stats = {"df": 0, "weight": 0, "maxweight": 0, "last": 0}

    def flush() -> None:
        docs = np.concatenate([d for d, _ in pending])
        values = np.concatenate([v for _, v in pending])
        pending.clear()
        _, p_docs, tfs, positions = _postings(np.zeros(len(docs), np.int64), docs, values, pool.positional)
        one = encode_lists(np.array([0, len(p_docs)]), p_docs, tfs, positions)
        blocks.append((len(p_docs), int(p_docs[0]), one.blob))
        stats["df"] += len(p_docs)
        stats["weight"] += int(tfs.sum())
        stats["maxweight"] = max(stats["maxweight"], int(tfs.max()))
        stats["last"] = int(p_docs[-1])

    for run in pool.runs:
        start, stop = int(run.cuts[b]), int(run.cuts[b + 1])
        while start < stop:
            room = BATCH_OCCURRENCES - sum(len(d) for d, _ in pending)
            end = min(stop, start + room)
            if end < stop:        # do not cut a posting: end where a document ends
                docs = run.read("docs", start, end + 1)         # one row more: is ``end`` a boundary?
                cut = np.flatnonzero(docs[1:] != docs[:-1])
                if len(cut):
                    end = start + int(cut[-1]) + 1
                elif pending:     # the next document does not fit: close this block first
                    flush()
                    continue
                else:             # one document fills the block: take all of its rows
                    rest = run.read("docs", start, stop)
                    other = np.flatnonzero(rest != rest[0])
                    end = start + int(other[0]) if len(other) else stop
            pending.append((run.read("docs", start, end).astype(np.int64), run.read("values", start, end).astype(np.int64)))
            start = end
            if sum(len(d) for d, _ in pending) >= BATCH_OCCURRENCES:
                flush()
    if pending:
        flush()
    df, weight, maxweight, last = stats["df"], stats["weight"], stats["maxweight"], stats["last"]
    blob = blocked_list(blocks)
    return EncodedLists(blob, np.zeros(1, np.int64), np.array([len(blob)]), np.array([df]), np.array([float(weight)]),
                        np.array([float(maxweight)]), np.array([blocks[0][1]]), np.array([last]))


def release_free_memory() -> None:
    """Give the heap's free pages back to the system (glibc's malloc_trim): a build worker frees
    a run's worth of arrays at every spill, and without this its resident size only grows."""
    if _LIBC is not None:
        _LIBC.malloc_trim(0)


def _load_libc():
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.malloc_trim.argtypes = [ctypes.c_size_t]
        return libc
    except (OSError, AttributeError):      # not glibc: nothing to trim
        return None


_LIBC = _load_libc()


def _batches(sizes: np.ndarray, limit: int) -> list[tuple[int, int]]:
    """Consecutive term ranges of about ``limit`` occurrences (a bigger term is alone)."""
    out, lo, total = [], 0, 0
    for i, size in enumerate(sizes.tolist()):
        if total and total + size > limit:
            out.append((lo, i))
            lo, total = i, 0
        total += size
    if lo < len(sizes):
        out.append((lo, len(sizes)))
    return out


class BatchTermsWriter(filetables.OrderedHashWriter):
    """Whoosh's ordered hash file (the terms index a segment reader opens), written a batch of
    keys at a time: records with one join, CRC-32 hashes (the file names its hash function) and
    the hash tables laid out with numpy instead of a Python loop per term. Tables have 1.5
    slots per key instead of Whoosh's 2 (a look-up that misses probes ~2.5 slots more, at
    12 bytes a slot: the tables were a third of the terms file)."""

    @classmethod
    def replace(cls, fieldwriter) -> BatchTermsWriter:
        """Take over the terms file of a Whoosh field writer (its header is already written)."""
        old = fieldwriter._tindex
        new = cls.__new__(cls)
        new.dbfile = old.dbfile
        new.hashtype = 1
        new.hashfn = filetables.crc_hash
        new.extras = old.extras
        new.startoffset = old.startoffset
        new.directory = []
        new.lastkey = b""
        new._hashes, new._positions = [], []
        # The header's hash-type byte follows the 4-byte magic: rewrite it for CRC-32.
        here = new.dbfile.tell()
        new.dbfile.seek(new.startoffset + 4)
        new.dbfile.write_byte(1)
        new.dbfile.seek(here)
        fieldwriter._tindex = new
        return new

    def add(self, key: bytes, value: bytes) -> None:
        self.add_many([key], value, np.array([len(value)]))

    def add_many(self, keys: list[bytes], values: bytes, ends: np.ndarray) -> None:
        """Keys in increasing order; key i's value is ``values[ends[i - 1]:ends[i]]``."""
        if not keys:
            return
        if keys[0] <= self.lastkey:
            raise ValueError(f"keys must increase: {self.lastkey!r}..{keys[0]!r}")
        start = self.dbfile.tell()
        records = []
        positions = np.empty(len(keys), dtype=np.int64)
        at = start
        pack = _LENGTHS.pack
        begin = 0
        for i, (key, end) in enumerate(zip(keys, ends.tolist(), strict=True)):
            records.append(pack(len(key), end - begin))
            records.append(key)
            records.append(values[begin:end])
            positions[i] = at
            at += 8 + len(key) + end - begin
            begin = end
        self.dbfile.write(b"".join(records))
        self._hashes.append(np.array([zlib.crc32(k) & 0xFFFFFFFF for k in keys], dtype=np.int64))
        self._positions.append(positions)
        self.lastkey = keys[-1]

    def _write_hashes(self) -> None:
        dbfile = self.dbfile
        hashes = np.concatenate(self._hashes) if self._hashes else np.zeros(0, np.int64)
        positions = np.concatenate(self._positions) if self._positions else np.zeros(0, np.int64)
        buckets = hashes & 255
        by_bucket = np.argsort(buckets, kind="stable")
        bounds = np.searchsorted(buckets[by_bucket], np.arange(257))
        pointer = np.dtype([("hash", ">u4"), ("pos", ">i8")])
        for b in range(256):
            members = by_bucket[bounds[b]:bounds[b + 1]]
            numslots = (3 * len(members) + 1) // 2     # Whoosh uses 2 slots a key; 1.5 keeps probes short
            self.directory.append((dbfile.tell(), numslots))
            if not numslots:
                continue
            table = np.zeros(numslots, dtype=pointer)
            slots = _probe(hashes[members], numslots)
            table["hash"][slots] = hashes[members]
            table["pos"][slots] = positions[members]
            dbfile.write(table.tobytes())

    def _write_extras(self) -> None:
        positions = np.concatenate(self._positions) if self._positions else np.zeros(0, np.int64)
        biggest = int(positions.max()) if len(positions) else 0
        code = "H" if biggest < 2**16 else "i" if biggest < 2**31 else "I" if biggest < 2**32 else "q"
        self.extras["indextype"] = code
        self.extras["indexlen"] = len(positions)
        self.dbfile.write_pickle(self.extras)
        self.dbfile.write(positions.astype(np.dtype(code).newbyteorder(">")).tobytes())


def _probe(hashes: np.ndarray, numslots: int) -> np.ndarray:
    """The slots Whoosh's HashWriter would give these keys (linear probing from
    ``(hash >> 8) % numslots``), for keys inserted in order of home slot: each key goes to the
    first free slot at or after its home, wrapping around. Readers probe the same way, and any
    placement where nothing empty lies between a key's home and its slot finds every key."""
    home = (hashes >> 8) % numslots
    order = np.argsort(home, kind="stable")
    sorted_home = home[order]
    idx = np.arange(len(order))
    placed = np.maximum.accumulate(sorted_home - idx) + idx      # first free slot >= home, no wrap
    slots = np.empty(len(order), dtype=np.int64)
    over = placed >= numslots
    slots[order[~over]] = placed[~over]
    if over.any():                                              # wrap past the end: first free slots
        taken = np.zeros(numslots, dtype=bool)
        taken[placed[~over]] = True
        free = iter(np.flatnonzero(~taken).tolist())
        for i in np.flatnonzero(over).tolist():
            slots[order[i]] = next(free)
    return slots
