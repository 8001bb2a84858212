"""Where an index's bytes go: per file kind, per field, and against the posts' own bytes.

Issue 14 wants sou's index ≤ 2× the bytes of the posts it indexes and a before/after report of
bytes per file kind and per field. The index format is being rewritten while this tool is in
use, so it relies on as little as possible:

- per file kind: only file *names*. A segment file ``<index>_<16-char segment id>.<kind>`` is
  grouped by what follows the segment id (``.pst`` postings, ``.trm`` terms, ``._stored.col``
  stored fields, ``._body_len.col`` field lengths, ``.date.col`` a column…); any other file by its
  name with hex ids and numbers replaced by ``*`` (``pinyin-sou_*.json``). A new layout therefore
  still adds up to the folder's size, under names of its own.
- per field: the index is opened read-only with Whoosh and each segment's terms are walked
  (``iter(segment_reader)`` gives (field, term) and the term info, whose ``extent()`` is where
  that term's posting list lies in the postings file), and each document's stored values are
  measured. Whatever of this fails (another format, a missing class) is reported as "n/a" with
  the reason instead of stopping the benchmark.

    python -m bench.index_size INDEX_DIR [--posts DIR | --corpus corpus] [--no-fields] [--json]
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # `python bench/index_size.py` works as well as `-m`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import MB, dump_json, print_table

#: ``sou_94609d68_2lal1f6vcm4ste6v.pst``: Whoosh names segment files <index>_<16-char id>.<kind>.
SEGMENT_RE = re.compile(r"^(?P<index>.+)_(?P<segment>[a-z0-9]{16})\.(?P<kind>.+)$")
#: ``_sou_94609d68_3.toc``: the table of contents names the index and its generation.
TOC_RE = re.compile(r"^_(?P<index>.+)_(?P<generation>\d+)\.toc$")
_ID_RE = re.compile(r"[0-9a-f]{8,}|\d+")
#: Length columns Whoosh writes per scored field: ``._<field>_len.col``.
LENGTHS_RE = re.compile(r"^\._(?P<field>.+)_len\.col$")
COLUMN_RE = re.compile(r"^\.(?P<field>[^._][^.]*)\.col$")


def file_kind(name: str) -> str:
    """The kind a file of an index folder belongs to, from its name alone.

    Segment files give the part after the segment id with its dot (``.pst``, ``._stored.col``);
    every other file its name with hex ids and numbers starred, so that the files of one kind
    in different generations or indexes fall together.
    """
    m = SEGMENT_RE.match(name)
    if m:
        return "." + m["kind"]
    return _ID_RE.sub("*", name)


def kind_group(kind: str) -> str:
    """A coarse label for a kind: postings, terms, stored, lengths, columns, toc, pinyin, other."""
    if kind == ".pst":
        return "postings"
    if kind == ".trm":
        return "terms"
    if kind == "._stored.col":
        return "stored"
    if LENGTHS_RE.match(kind):
        return "lengths"
    if COLUMN_RE.match(kind):
        return "columns"
    if kind.endswith(".toc"):
        return "toc"
    if "pinyin" in kind:
        return "pinyin"
    return "other"


def group_files(sizes: Iterable[tuple[str, int]]) -> list[dict[str, Any]]:
    """(name, bytes) pairs -> one row per kind (files, bytes, group), largest first."""
    files: Counter[str] = Counter()
    total: Counter[str] = Counter()
    for name, size in sizes:
        kind = file_kind(name)
        files[kind] += 1
        total[kind] += size
    rows = [{"kind": k, "group": kind_group(k), "files": files[k], "bytes": total[k]} for k in total]
    rows.sort(key=lambda r: (-r["bytes"], r["kind"]))
    return rows


def folder_sizes(index_dir: Path) -> list[tuple[str, int]]:
    """(name, bytes) of the regular files directly in `index_dir` (sizes only; nothing is read)."""
    out = []
    for entry in os.scandir(index_dir):
        try:
            if entry.is_file(follow_symlinks=False):
                out.append((entry.name, entry.stat(follow_symlinks=False).st_size))
        except FileNotFoundError:   # a file replaced by a concurrent commit
            continue
    return out


def column_fields(rows: list[dict[str, Any]]) -> dict[str, dict[str, int]]:
    """Bytes of per-field column files (values and field lengths) from the kind rows."""
    out: dict[str, dict[str, int]] = defaultdict(lambda: {"column_bytes": 0, "length_bytes": 0})
    for row in rows:
        m = LENGTHS_RE.match(row["kind"])
        if m:
            out[m["field"]]["length_bytes"] += row["bytes"]
            continue
        m = COLUMN_RE.match(row["kind"])
        if m:
            out[m["field"]]["column_bytes"] += row["bytes"]
    return dict(out)


def extent_length(extent: Any) -> int:
    """The byte length in a term info's ``extent()``: (offset, length), where Whoosh's
    writers have also left length as a 1-tuple."""
    length = extent[1]
    if isinstance(length, tuple | list):
        return int(sum(length))
    return int(length)


def _value_bytes(value: Any) -> int:
    if value is None:
        return 0
    if isinstance(value, bytes):
        return len(value)
    if isinstance(value, list | tuple):
        return sum(_value_bytes(v) for v in value)
    return len(str(value).encode("utf-8"))


def whoosh_index_name(index_dir: Path) -> str | None:
    """The index name of the newest table of contents in the folder, if any."""
    best: tuple[int, str] | None = None
    for name, _ in folder_sizes(index_dir):
        m = TOC_RE.match(name)
        if m and (best is None or int(m["generation"]) > best[0]):
            best = (int(m["generation"]), m["index"])
    return best[1] if best else None


def field_breakdown(index_dir: Path, stored: bool = True) -> dict[str, Any]:
    """Per field: terms, term text bytes, posting-list bytes (from term extents), inlined terms,
    stored value bytes (UTF-8 of each stored value, before any compression).

    Returns ``{"status": "ok", "fields": {...}}`` or ``{"status": "n/a: <why>"}``; never raises
    for a format it does not know.
    """
    started = time.perf_counter()
    try:
        name = whoosh_index_name(index_dir)
        if name is None:
            return {"status": "n/a: no Whoosh table of contents (_<name>_<gen>.toc) in the folder"}
        from whoosh import index

        ix = index.open_dir(str(index_dir), indexname=name, readonly=True)
        fields: dict[str, Counter[str]] = defaultdict(Counter)
        reader = ix.reader()
        try:
            for sub, _offset in reader.leaf_readers():
                for (fieldname, text), info in sub:
                    f = fields[fieldname]
                    f["terms"] += 1
                    f["term_text_bytes"] += len(text)
                    if info.is_inlined():
                        f["inlined_terms"] += 1
                    else:
                        f["postings_bytes"] += extent_length(info.extent())
                if stored:
                    for doc in sub.all_stored_fields():
                        for key, value in doc.items():
                            fields[key]["stored_value_bytes"] += _value_bytes(value)
            docs = reader.doc_count()
        finally:
            reader.close()
            ix.close()
    except Exception as exc:  # noqa: BLE001 - a new format must not stop the benchmark
        return {"status": f"n/a: {type(exc).__name__}: {exc}"[:300]}
    return {"status": "ok", "index_name": name, "documents": docs,
            "seconds": round(time.perf_counter() - started, 2),
            "fields": {k: dict(v) for k, v in sorted(fields.items())}}


def breakdown(index_dir: Path, posts_bytes: int | None = None, per_field: bool = True,
              stored: bool = True) -> dict[str, Any]:
    """Bytes per file kind and group, per field when readable, and the index/posts ratio."""
    index_dir = Path(index_dir)
    sizes = folder_sizes(index_dir)
    rows = group_files(sizes)
    total = sum(size for _, size in sizes)
    groups: Counter[str] = Counter()
    for row in rows:
        groups[row["group"]] += row["bytes"]
    report: dict[str, Any] = {
        "index_dir": str(index_dir),
        "files": len(sizes),
        "index_bytes": total,
        "index_mb": round(total / MB, 2),
        "posts_bytes": posts_bytes,
        "ratio": round(total / posts_bytes, 3) if posts_bytes else None,
        "by_kind": rows,
        "by_group": dict(groups.most_common()),
    }
    if per_field:
        fields = field_breakdown(index_dir, stored=stored)
        columns = column_fields(rows)
        if fields.get("status") == "ok":
            for name, extra in columns.items():
                fields["fields"].setdefault(name, {}).update(extra)
        else:
            fields["columns"] = columns
        report["by_field"] = fields
    return report


def field_rows(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Per-field rows for a table (MB), largest postings first; [] when not readable."""
    fields = report.get("by_field", {}).get("fields")
    if not fields:
        return []
    total = report["index_bytes"] or 1
    rows = []
    for name, f in fields.items():
        on_disk = f.get("postings_bytes", 0) + f.get("column_bytes", 0) + f.get("length_bytes", 0)
        rows.append({
            "field": name,
            "terms": f.get("terms", 0),
            "postings_mb": round(f.get("postings_bytes", 0) / MB, 2),
            "term_text_mb": round(f.get("term_text_bytes", 0) / MB, 2),
            "column_mb": round((f.get("column_bytes", 0) + f.get("length_bytes", 0)) / MB, 2),
            "stored_value_mb": round(f.get("stored_value_bytes", 0) / MB, 2),
            "share_%": round(100 * on_disk / total, 1),
        })
    rows.sort(key=lambda r: (-r["postings_mb"], -r["column_mb"], r["field"]))
    return rows


def print_breakdown(report: dict[str, Any], title: str) -> None:
    """Kinds, then fields (or the reason they are n/a), then the ratio."""
    total = report["index_bytes"] or 1
    kinds = [{"kind": r["kind"], "group": r["group"], "files": r["files"], "mb": round(r["bytes"] / MB, 2),
              "share_%": round(100 * r["bytes"] / total, 1)} for r in report["by_kind"]]
    print_table(kinds, ["kind", "group", "files", "mb", "share_%"], f"{title}: bytes per file kind")
    by_field = report.get("by_field")
    if by_field is not None:
        rows = field_rows(report)
        if rows:
            print_table(rows, ["field", "terms", "postings_mb", "term_text_mb", "column_mb", "stored_value_mb",
                               "share_%"], f"{title}: per field (stored_value_mb: UTF-8 before compression)")
        else:
            print(f"{title}: per field {by_field.get('status')}")
    ratio = report.get("ratio")
    posts = report.get("posts_bytes")
    print(f"{title}: index {report['index_mb']:,.1f} MB" +
          (f" / posts {posts / MB:,.1f} MB = {ratio:.2f}x (target <= 2.0x)" if ratio else ""), flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("index_dir", type=Path)
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--posts", type=Path, help="folder of the posts the index was built from")
    source.add_argument("--corpus", choices=["corpus", "corpus_zh"], help="a shared corpus (whole)")
    parser.add_argument("--no-fields", action="store_true", help="file kinds only (reads nothing but sizes)")
    parser.add_argument("--no-stored", action="store_true", help="skip reading stored values per field")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    posts_bytes = None
    if args.posts or args.corpus:
        from bench.common import corpus_paths, find_corpus, total_bytes

        root = args.posts or find_corpus(args.corpus)
        posts_bytes = total_bytes(p.resolve() for p in corpus_paths(root))
    report = breakdown(args.index_dir, posts_bytes, per_field=not args.no_fields, stored=not args.no_stored)
    if args.json:
        dump_json(report)
    else:
        print_breakdown(report, str(args.index_dir))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
