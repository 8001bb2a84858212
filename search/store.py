"""The on-disk index folder: which Whoosh index is current, how it was built, and the writer lock.

``sou.json`` names the current Whoosh index inside the folder. A full rebuild writes a NEW
Whoosh index beside the old one and then replaces ``sou.json`` atomically, so searchers keep
the old index until the new one is complete, and a crash or Ctrl-C at any moment leaves a
usable index behind. Files of indexes that ``sou.json`` does not name are leftovers and are
removed by the next writer.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import secrets
import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh.filedb.filestore import FileStorage
from whoosh.filedb.structfile import StructFile
from whoosh.system import IS_LITTLE

from . import analysis, lifeline
from .config import Settings
from .errors import IndexLocked, IndexMissing, IndexOutdated, IndexUnwritable
from .pool import SPILL_PREFIX
from .schema import SCHEMA_VERSION

META_FILE = "sou.json"
LOCK_FILE = "sou.lock"


@dataclass
class IndexMeta:
    index_name: str
    schema_version: int
    analyzer_version: str
    analyzer_fingerprint: str
    root: str
    built_at: str
    updated_at: str
    documents: int = 0
    segmenter: str = "jieba"
    user_dict: str = ""
    variants: bool = True
    history: list[dict] = field(default_factory=list)

    def outdated_reason(self, settings: Settings) -> str:
        """Why this index cannot serve ``settings`` (empty string when it can)."""
        if self.schema_version != SCHEMA_VERSION:
            return f"the index has schema version {self.schema_version}, this sou writes {SCHEMA_VERSION}"
        if self.analyzer_version != analysis.ANALYZER_VERSION:
            return f"the index was built by analyzer version {self.analyzer_version}, this sou has {analysis.ANALYZER_VERSION}"
        if self.analyzer_fingerprint != analyzer_config(settings).fingerprint():
            if (self.user_dict or "") != (settings.user_dict or ""):
                return f"the user dictionary changed ({self.user_dict or 'none'} -> {settings.user_dict or 'none'})"
            if self.variants != settings.variants:
                return "the variant-character setting changed"
            current = analyzer_config(settings).segmenter_name()
            if self.segmenter != current:
                return f"the index was segmented by {self.segmenter}, this sou uses {current}"
            return "the user dictionary's contents changed"
        return ""


def analyzer_config(settings: Settings) -> analysis.AnalyzerConfig:
    return analysis.AnalyzerConfig(user_dict=settings.user_dict or "", variants=settings.variants,
                                   segmenter=settings.segmenter)


def index_analyzer(settings: Settings) -> analysis.Analyzer:
    """The analyzer an index built with ``settings`` uses (shared by every engine and reindex of
    this process with the same analysis settings; nothing global is reconfigured)."""
    return analysis.Analyzer.for_config(analyzer_config(settings), settings.jieba_cache_dir)


def now_iso() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


class PositionalFile(StructFile):
    """A read-only segment file where every read is positional (``os.pread``) and each thread
    has its own file position, so Whoosh's seek-then-read code paths (term look-ups, stored
    fields, columns) are safe from any number of threads at once, and from forked processes:
    ``sou serve --processes N`` opens the index before forking, and a forked child inherits the
    parent's open file descriptions, with ONE kernel file offset each: with Whoosh's own
    seek-then-read, a seek in one process moved the others' reads (wrong bytes, then decoding
    errors; tests/test_filestore.py)."""

    def __init__(self, fileobj, name=None, onclose=None) -> None:
        super().__init__(fileobj, name=name, onclose=onclose)
        self._fd = fileobj.fileno()
        self._size = os.fstat(self._fd).st_size
        self._where = threading.local()
        self.is_real = False      # read_array must go through read(), not the file object

    def get(self, position: int, length: int) -> bytes:
        data = os.pread(self._fd, length, position)
        while len(data) < length:          # pread may return less on a signal
            more = os.pread(self._fd, length - len(data), position + len(data))
            if not more:
                break
            data += more
        return data

    def get_array(self, position: int, typecode: str, length: int):
        from array import array

        a = array(typecode)
        a.frombytes(self.get(position, length * a.itemsize))
        if IS_LITTLE:          # Whoosh stores these arrays big-endian
            a.byteswap()
        return a

    def tell(self) -> int:
        return getattr(self._where, "pos", 0)

    def seek(self, offset: int, whence: int = 0) -> int:
        base = 0 if whence == 0 else self.tell() if whence == 1 else self._size
        self._where.pos = base + offset
        return self._where.pos

    def read(self, size: int = -1) -> bytes:
        pos = self.tell()
        if size is None or size < 0:
            size = max(0, self._size - pos)
        data = self.get(pos, size)
        self._where.pos = pos + len(data)
        return data

    def read_pickle(self):
        """A pickle at this thread's position (Whoosh reads it from the raw file object)."""
        import io
        import pickle

        start = self.tell()
        stream = io.BytesIO(self.get(start, self._size - start))
        value = pickle.load(stream)
        self._where.pos = start + stream.tell()
        return value

    def readline(self, *args, **kwargs):
        raise NotImplementedError("segment files are not read by lines")

    def __iter__(self):
        raise NotImplementedError("segment files are not read by lines")

    def subset(self, offset, length, name=None):
        raise NotImplementedError("sou writes no compound segments")


class PositionalStorage(FileStorage):
    """Whoosh's file storage, opening files for positional reads."""

    def open_file(self, name, **kwargs):
        return PositionalFile(open(self._fpath(name), "rb"), name=name, **kwargs)


class IndexStore:
    """One index folder. Cheap to create; nothing is opened until asked."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.dir = Path(settings.index_dir)

    # -- metadata ----------------------------------------------------------------------------
    def read_meta(self) -> IndexMeta | None:
        try:
            data = json.loads((self.dir / META_FILE).read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise IndexOutdated(f"{self.dir / META_FILE} is unreadable ({exc}): run `sou reindex --full`") from None
        known = {k: v for k, v in data.items() if k in IndexMeta.__dataclass_fields__}
        try:
            return IndexMeta(**known)
        except TypeError:
            raise IndexOutdated(f"{self.dir / META_FILE} is from another version of sou: run `sou reindex --full`") from None

    def write_meta(self, meta: IndexMeta) -> None:
        tmp = self.dir / f".{META_FILE}.{os.getpid()}.tmp"
        tmp.write_text(json.dumps(asdict(meta), ensure_ascii=False, indent=2), encoding="utf-8")
        os.replace(tmp, self.dir / META_FILE)

    def new_index_name(self) -> str:
        return "sou_" + secrets.token_hex(4)

    # -- opening -----------------------------------------------------------------------------
    def require_meta(self) -> IndexMeta:
        meta = self.read_meta()
        if meta is None:
            raise IndexMissing(f"no index in {self.dir}: run `sou reindex PATH` first")
        reason = meta.outdated_reason(self.settings)
        if reason:
            raise IndexOutdated(f"{reason}: run `sou reindex --full`")
        return meta

    def open(self, meta: IndexMeta | None = None):
        """Open the current Whoosh index; retries while a rebuild swaps ``sou.json``."""
        for attempt in range(5):
            meta = meta if (meta is not None and attempt == 0) else self.require_meta()
            try:
                return meta, PositionalStorage(str(self.dir)).open_index(meta.index_name)
            except (FileNotFoundError, whoosh_index.EmptyIndexError):
                meta = None
                time.sleep(0.05 * (attempt + 1))
        raise IndexMissing(f"the index in {self.dir} is incomplete: run `sou reindex --full`")

    def create(self, name: str, schema):
        self.ensure_dir()
        return FileStorage(str(self.dir)).create_index(schema, indexname=name)

    def ensure_dir(self) -> None:
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise IndexUnwritable(f"cannot create the index folder {self.dir}: {exc.strerror}") from None
        if not os.access(self.dir, os.W_OK | os.X_OK):
            raise IndexUnwritable(f"the index folder {self.dir} is not writable: fix its permissions or pass --index DIR")

    def remove_other_indexes(self, keep: str) -> None:
        """Delete files of Whoosh indexes other than ``keep`` (finished or abandoned builds)."""
        for entry in os.scandir(self.dir):
            name = entry.name
            if not name.startswith(("sou_", "_sou_", "pinyin-sou_")):
                continue
            if name.startswith((keep + "_", "_" + keep + "_", keep + ".", f"pinyin-{keep}.")):
                continue
            with contextlib.suppress(OSError):
                if entry.is_dir(follow_symlinks=False):
                    shutil.rmtree(entry.path, ignore_errors=True)
                else:
                    os.remove(entry.path)

    def disk_bytes(self) -> int:
        total = 0
        with contextlib.suppress(OSError):
            for entry in os.scandir(self.dir):
                with contextlib.suppress(OSError):
                    if entry.is_file():
                        total += entry.stat().st_size
        return total

    def remove_leftovers(self, keep: str) -> None:
        """What a killed reindex left behind: other indexes' files (a dead full build doubled
        the folder), the kept index's Whoosh temp folder, its writers' spilled postings and
        half-written metadata. Called under the writer lock at the start of every reindex, so
        nothing is writing them."""
        self.remove_other_indexes(keep)
        if keep:
            shutil.rmtree(self.dir / f"{keep}.tmp", ignore_errors=True)
        self.remove_spills()
        for entry in os.scandir(self.dir):
            if entry.name.startswith(f".{META_FILE}.") and entry.name.endswith(".tmp"):
                with contextlib.suppress(OSError):
                    os.remove(entry.path)

    def remove_spills(self) -> None:
        """The folders of postings that build writers spilled to disk: a build interrupted or
        killed mid-way left them (tens of MB each) for good. Only under the writer lock, with
        no writer of this process still running."""
        for entry in os.scandir(self.dir):
            if entry.name.startswith(SPILL_PREFIX) and entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path, ignore_errors=True)

    # -- the one-writer lock -----------------------------------------------------------------
    @contextlib.contextmanager
    def writer_lock(self, timeout: float | None = None) -> Iterator[None]:
        """Held for a whole reindex. flock locks die with their process, and forked workers let
        go of them (search/lifeline.py), so a kill -9 never leaves a stale lock behind. A lock
        file (and index folder) this call created is removed again when the reindex fails, so a
        failed first reindex leaves nothing behind."""
        created_dir = not self.dir.exists()
        self.ensure_dir()
        timeout = self.settings.lock_timeout if timeout is None else timeout
        path = self.dir / LOCK_FILE
        created = not path.exists()
        deadline = time.monotonic() + timeout
        fh = self._lock_file(path)
        try:
            while True:
                try:
                    fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                except OSError as exc:
                    if exc.errno not in (errno.EAGAIN, errno.EACCES):
                        raise
                    if time.monotonic() >= deadline:
                        raise IndexLocked(
                            f"another reindex is writing {self.dir} (waited {timeout:g} s); "
                            "wait for it to finish or raise --lock-timeout") from None
                    time.sleep(0.1)
                    continue
                if _same_file(fh, path):
                    break
                # the holder removed the lock file as we waited (its first reindex failed): a
                # lock on the removed file excludes nobody, so lock the file that is there now
                fh.close()
                fh = self._lock_file(path)
            lifeline.hold(fh.fileno())
            fh.seek(0)
            fh.truncate()
            fh.write(f"{os.getpid()}\n")
            fh.flush()
            try:
                yield
            except BaseException:
                if created:
                    with contextlib.suppress(OSError):
                        path.unlink()
                    if created_dir:
                        with contextlib.suppress(OSError):
                            self.dir.rmdir()        # only if empty: nothing else was written
                raise
        finally:
            lifeline.release(fh.fileno())
            with contextlib.suppress(OSError):
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
            fh.close()

    def _lock_file(self, path: Path):
        try:
            return open(path, "a+")
        except OSError as exc:
            raise IndexUnwritable(f"cannot write in the index folder {self.dir}: {exc.strerror}") from None


def _same_file(fh, path: Path) -> bool:
    try:
        return os.fstat(fh.fileno()).st_ino == os.stat(path).st_ino
    except OSError:
        return False
