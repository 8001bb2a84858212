"""Index files read with positional reads (``os.pread``), never through a shared file offset.

Whoosh's ``FileStorage`` opens each segment file as an ordinary Python file and reads it with
``seek()`` then ``read()``. Two things go wrong with that once reads happen concurrently:

- processes: ``sou serve --processes N`` opens the index once in the parent, before forking,
  so the children share its pages (doc tables, term caches) copy-on-write. A forked child
  inherits the parent's open file *descriptions*, and with them ONE kernel file offset per
  file: a seek in one process moves it for all, so two processes reading at once read each
  other's positions (wrong bytes, then decoding errors);
- threads: a seek then a read is two steps, so two threads reading one file need a lock.

Here every read names its position (``pread``): the kernel offset is never used. The random
reads that searching does (``StructFile.get``: postings, term index, columns, stored fields)
go straight to ``os.pread``; the few sequential reads Whoosh does while opening a segment go
through a buffered reader whose position lives in this process's memory. Writing is
unchanged (``create_file`` is Whoosh's own).
"""

from __future__ import annotations

import io
import os
import sys
from array import array

from whoosh.filedb.filestore import FileStorage
from whoosh.filedb.structfile import StructFile

_ITEMSIZE = {code: array(code).itemsize for code in "bBhHiIlLqQfd"}


class _PreadRaw(io.RawIOBase):
    """A read-only raw file whose position is a Python attribute, read with ``os.pread``."""

    def __init__(self, path: str) -> None:
        super().__init__()
        self._fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self._fd

    def readinto(self, buffer) -> int:
        data = os.pread(self._fd, len(buffer), self._pos)
        n = len(data)
        buffer[:n] = data
        self._pos += n
        return n

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_SET:
            pos = offset
        elif whence == io.SEEK_CUR:
            pos = self._pos + offset
        elif whence == io.SEEK_END:
            pos = os.fstat(self._fd).st_size + offset
        else:
            raise ValueError(f"invalid whence {whence}")
        if pos < 0:
            raise OSError(22, "negative seek position")
        self._pos = pos
        return pos

    def tell(self) -> int:
        return self._pos

    def close(self) -> None:
        if not self.closed:
            try:
                os.close(self._fd)
            finally:
                super().close()


class PositionalFile(StructFile):
    """Whoosh's StructFile with ``get``/``get_array`` as single ``pread`` calls: safe to call
    from many threads, and from forked processes that share the descriptor."""

    def __init__(self, path: str, name: str | None = None, onclose=None) -> None:
        raw = _PreadRaw(path)
        super().__init__(io.BufferedReader(raw, buffer_size=8192), name=name, onclose=onclose)
        self._fd = raw.fileno()

    def get(self, position: int, length: int) -> bytes:
        data = os.pread(self._fd, length, position)
        if len(data) < length:           # pread may return less only at the end of the file
            data += _read_rest(self._fd, position + len(data), length - len(data))
        return data

    def get_array(self, position: int, typecode: str, length: int) -> array:
        values = array(typecode)
        values.frombytes(self.get(position, length * _ITEMSIZE[typecode]))
        if sys.byteorder == "little":    # Whoosh stores arrays big-endian
            values.byteswap()
        return values


def _read_rest(fd: int, position: int, length: int) -> bytes:
    parts = []
    while length > 0:
        chunk = os.pread(fd, length, position)
        if not chunk:
            break
        parts.append(chunk)
        position += len(chunk)
        length -= len(chunk)
    return b"".join(parts)


class PositionalStorage(FileStorage):
    """A FileStorage whose opened files are PositionalFiles (see the module docstring)."""

    def open_file(self, name: str, **kwargs) -> StructFile:
        return PositionalFile(self._fpath(name), name=name, onclose=kwargs.get("onclose"))
