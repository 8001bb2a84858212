"""Writing segments: Whoosh's segment writer over sou's posting pool, used by full builds (each
worker writes one segment) and by incremental reindexes alike.

Whoosh keeps doing what it is good at here: stored fields, columns, field lengths, deletions,
the table of contents and merging small segments. Postings go to ``pool.PostingPool`` (arrays,
spilled to disk past a memory budget, written a batch of terms at a time), and every segment
gets its documents' facts file (doctable.FactsWriter) so searchers open without walking it.
"""

from __future__ import annotations

from typing import Any

from whoosh.util.filelock import try_for
from whoosh.writing import SegmentWriter

from .codec import SouCodec
from .doctable import FactsWriter, SegmentFacts
from .errors import IndexLocked
from .pool import PostingPool, TermsObserver
from .schema import PreAnalyzed

POOL_BUDGET = 12 * 1024 * 1024     # bytes of posting arrays a writer holds before spilling a run


class PoolWriter(SegmentWriter):
    """A segment writer whose postings go to a PostingPool."""

    def __init__(self, ix, *, budget: int = POOL_BUDGET, on_terms: TermsObserver | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("_lk", False)
        super().__init__(ix, codec=SouCodec(), compound=False, **kwargs)
        self.pool = PostingPool(self.schema, budget, tempdir=ix.storage.folder, on_terms=on_terms)
        self.facts = FactsWriter()

    def add_document(self, **fields) -> None:
        """Whoosh's add_document, with pre-analysed fields' postings handed to the pool whole
        (Whoosh makes a tuple and a call per posting; a build of the 49k-post corpus has ~100M
        occurrences). Other fields, stored values and columns go the usual way."""
        docnum = self.docnum
        plain: dict[str, Any] = {}
        lengths: dict[str, int] = {}
        pool = self.pool
        for name, value in fields.items():
            if not isinstance(value, PreAnalyzed):
                plain[name] = value
                continue
            if value.positions is None:
                pool.add_words(name, docnum, value.words)
            else:
                if value.words:
                    pool.add_positions(name, docnum, pool._field(name).ids(value.words), value.positions)
                if value.chars is not None and len(value.chars):
                    pool.add_positions(name, docnum, value.chars, value.char_positions)
            lengths[name] = value.length
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
        title = fields.get("title")
        self.facts.add(fields, lengths, title.words if isinstance(title, PreAnalyzed) else [])
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

    def add_reader(self, reader) -> None:
        """A merge: Whoosh copies the live documents; their facts are copied alongside."""
        facts = SegmentFacts.load(reader._storage, reader.segment())
        live = [d for d in range(reader.doc_count_all()) if not reader.is_deleted(d)]
        super().add_reader(reader)
        self.facts.extend(facts, live)

    def _flush_segment(self) -> None:
        self.perdocwriter.close()
        self.pool.write(self.fieldwriter)
        self.fieldwriter.close()
        self.facts.write(self.storage, self.get_segment())


def open_writer(ix, lock_timeout: float) -> PoolWriter:
    """The writer of an incremental reindex, holding Whoosh's write lock; the lock is released
    when the writer cannot be built: SegmentWriter writes the new segment's first bytes in its
    constructor, and on a full disk it raised there with the lock still held (until the garbage
    collector found the half-built writer), so the next reindex in the same process died with a
    raw LockError (issue 5)."""
    lock = ix.lock("WRITELOCK")
    if not try_for(lock.acquire, timeout=lock_timeout, delay=0.1):
        raise IndexLocked(f"another writer holds the Whoosh lock of {ix.storage.folder}; "
                          "wait for it to finish or raise --lock-timeout")
    try:
        writer = PoolWriter(ix)
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
