"""Writing segments: Whoosh's segment writer over an in-memory posting pool, and the writer an
incremental reindex opens.

A full build writes each worker's documents into segments of their own; the postings of one
segment are gathered in memory, grouped by field and term, and handed to the codec one whole
posting list at a time (see codec.SouPostingsWriter.write_list).
"""

from __future__ import annotations

from typing import Any

from whoosh.codec.whoosh3 import W3TermInfo
from whoosh.system import pack_ushort
from whoosh.util.filelock import try_for
from whoosh.writing import SegmentWriter

from .codec import SouCodec
from .errors import IndexLocked
from .schema import PreAnalyzed


class MemoryPool:
    """A drop-in for Whoosh's PostingPool that keeps postings grouped by field and term in
    memory. Whoosh's pool sorts every posting tuple and spills pickled runs to disk (4.7 GB of
    runs for the 49k-post corpus) before merging them back; here documents arrive in docnum
    order, so each term's postings are already sorted and only the distinct terms are sorted."""

    def __init__(self) -> None:
        self.fields: dict[str, dict[bytes, list[tuple[int, float, bytes]]]] = {}
        self.fieldnames: set[str] = set()
        self.count = 0

    def add(self, item: tuple[str, bytes, int, float, bytes]) -> None:
        fieldname, tbytes, docnum, weight, vbytes = item
        terms = self.fields.get(fieldname)
        if terms is None:
            terms = self.fields[fieldname] = {}
            self.fieldnames.add(fieldname)
        postings = terms.get(tbytes)
        if postings is None:
            terms[tbytes] = [(docnum, weight, vbytes)]
        else:
            postings.append((docnum, weight, vbytes))
        self.count += 1

    def iter_postings(self):
        for fieldname in sorted(self.fields):
            terms = self.fields[fieldname]
            for tbytes in sorted(terms):
                for docnum, weight, vbytes in terms[tbytes]:
                    yield fieldname, tbytes, docnum, weight, vbytes

    def cleanup(self) -> None:
        self.fields.clear()


SEGMENT_POSTINGS = 6_000_000     # start a new segment past this many postings (bounds memory)


class PoolWriter(SegmentWriter):
    """A segment writer over a MemoryPool that hands each term's postings to the codec in one
    loop, instead of Whoosh's generic one-posting-at-a-time merge loop (about a third of the
    time of a build went there)."""

    def __init__(self, ix) -> None:
        super().__init__(ix, _lk=False, codec=SouCodec(), compound=False)
        self.pool = MemoryPool()

    def add_document(self, **fields) -> None:
        """Whoosh's add_document, with pre-analysed fields' postings appended straight to the
        pool's lists (Whoosh makes a tuple and a call per posting; there are ~40M of them in a
        build of the 49k-post corpus). Other fields, stored values and columns go the usual way."""
        pool_fields = self.pool.fields
        docnum = self.docnum
        plain: dict[str, Any] = {}
        lengths: dict[str, int] = {}
        for name, value in fields.items():
            if not isinstance(value, PreAnalyzed):
                plain[name] = value
                continue
            terms = pool_fields.get(name)
            if terms is None:
                terms = pool_fields[name] = {}
                self.pool.fieldnames.add(name)
            for tbytes, _freq, weight, vbytes in value.items:
                postings = terms.get(tbytes)
                if postings is None:
                    terms[tbytes] = [(docnum, weight, vbytes)]
                else:
                    postings.append((docnum, weight, vbytes))
            self.pool.count += len(value.items)
            lengths[name] = value.length
        if not lengths:
            return super().add_document(**fields)
        perdoc = self.perdocwriter
        schema = self.schema
        perdoc.start_doc(docnum)
        try:
            for name, length in lengths.items():
                field = schema[name]
                stored = fields.get(f"_stored_{name}") if field.stored else None
                perdoc.add_field(name, field, stored, length if field.scorable else 0)
            self._add_plain(docnum, plain)
        except Exception:
            perdoc.cancel_doc()
            raise
        perdoc.finish_doc()
        self._added = True
        self.docnum += 1

    def _add_plain(self, docnum: int, fields: dict[str, Any]) -> None:
        """The rest of Whoosh's add_document loop, for ordinary (not pre-analysed) fields."""
        perdoc, schema, add_post = self.perdocwriter, self.schema, self.pool.add
        for name in sorted(n for n in fields if not n.startswith("_")):
            value = fields[name]
            if value is None:
                continue
            field = schema[name]
            length = 0
            if field.indexed:
                for tbytes, freq, weight, vbytes in field.index(value):
                    if field.scorable:
                        length += freq
                    add_post((name, tbytes, docnum, weight, vbytes))
            custom = fields.get(f"_stored_{name}", value)
            perdoc.add_field(name, field, custom if field.stored else None, length)
            column = field.column_type
            if column and custom is not None:
                perdoc.add_column_value(name, column, field.to_column_value(custom))

    def _flush_segment(self) -> None:
        self.perdocwriter.close()
        fw = self.fieldwriter
        for fieldname in sorted(self.pool.fields):
            terms = self.pool.fields[fieldname]
            fw.start_field(fieldname, self.schema[fieldname])
            pw, fmt, fieldid, tindex = fw._postwriter, fw._format, pack_ushort(fw._fieldid), fw._tindex
            for tbytes in sorted(terms):
                terminfo = pw.write_list(fmt, W3TermInfo(), terms[tbytes])
                tindex.add(fieldid + tbytes, terminfo.to_bytes())
            fw.finish_field()
        fw.close()


def open_writer(ix, lock_timeout: float) -> SegmentWriter:
    """``ix.writer()``, but Whoosh's write lock is released when the writer cannot be built:
    SegmentWriter writes the new segment's first bytes in its constructor, and on a full disk
    it raised there with the lock still held (until the garbage collector found the half-built
    writer), so the next reindex in the same process died with a raw LockError (issue 5)."""
    lock = ix.lock("WRITELOCK")
    if not try_for(lock.acquire, timeout=lock_timeout, delay=0.1):
        raise IndexLocked(f"another writer holds the Whoosh lock of {ix.storage.folder}; "
                          "wait for it to finish or raise --lock-timeout")
    try:
        writer = SegmentWriter(ix, _lk=False, limitmb=128, codec=SouCodec(), compound=False)
    except BaseException:
        lock.release()
        raise
    writer.writelock = lock          # released by commit() / cancel() as usual
    return writer


def cancel_writer(writer) -> None:
    """Cancel a failed writer and always release Whoosh's write lock. On a full disk cancel()
    fails too (closing the segment files writes), which left the lock held: every later
    incremental reindex in the same process then died with a raw whoosh LockError (issue 5)."""
    try:
        writer.cancel()
    except OSError:
        if writer.writelock is not None and not writer.is_closed:
            writer.writelock.release()
            writer.is_closed = True
