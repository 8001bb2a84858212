"""The jieba + tantivy baseline: the pipeline a user might pick instead of sou.

Issue 14 measures sou's build against what someone would write with well-known parts: jieba's
search mode (``jieba.cut_for_search``) in two worker processes, feeding tantivy (Rust, through
tantivy-py) with two writer threads. This module is that program. It runs as a process of its
own (``python -m bench.tantivy_baseline --paths-file F --index-dir D``), and index_bench times it
from outside as a *whole process* (interpreter start, imports, jieba's dictionary in each worker,
commit) and samples the memory of its process tree, exactly as it does ``sou reindex``.

Choices, and why:

- Parsing (``--parser``). ``sou`` (the default) reads each post with sou's own article parser
  (``search.articles.parse_bytes``: BOM, broken front matter, HTML and Markdown to text), so both
  engines index the *same* documents and the *same* title and body text and the comparison is
  about segmenting and indexing, not about which parser gives up on more files or indexes HTML
  tags as words. ``frontmatter`` is the simple way a user would write it (python-frontmatter,
  the raw body, files whose YAML does not parse skipped): reported too, as a second bar.
- Tokens: tantivy-py has no jieba tokenizer and calling back into Python per token would make
  the baseline slower than a user's. So each worker joins ``cut_for_search``'s tokens with
  spaces and the fields are analysed by tantivy's ``whitespace`` tokenizer with the filters of
  tantivy's default analyzer (lower-case, tokens over 40 bytes dropped). Search-mode sub-words
  take consecutive positions, which is what such a pipeline gives.
- Schema: ``id`` (raw, stored); ``title`` and ``body`` indexed with positions from the token
  strings; the parsed title and body text stored beside them (``title_text``/``body_text``,
  stored-only UTF-8 bytes: a tantivy text field stores what it indexes, and what a search page
  shows is the text, not the tokens).
- Writer: ``Index.writer(heap, num_threads=2)`` with tantivy-py's default heap (128 MB, split
  between the threads); one commit at the end.

The result line (see bench/runner.py) has the in-process split (pool wall, commit) and the
index's bytes; the whole-process figures come from the measuring parent.
"""

from __future__ import annotations

import argparse
import json
import logging
import multiprocessing
import shutil
import sys
import time
import warnings
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # `python bench/tantivy_baseline.py` works as well as `-m`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

PARSERS = ("sou", "frontmatter")
TOKENIZER = "jieba_ws"
DEFAULT_HEAP = 128_000_000   # tantivy-py's default, split between the writer threads
CHUNKSIZE = 16

_PARSER = "sou"


def _init_worker(parser: str, cache_dir: str) -> None:
    """Load jieba's dictionary once per worker (what every jieba user pays per process)."""
    global _PARSER
    _PARSER = parser
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # jieba's pkg_resources import on some setuptools
        import jieba
    jieba.setLogLevel(logging.WARNING)
    Path(cache_dir).mkdir(parents=True, exist_ok=True)
    jieba.dt.tmp_dir = cache_dir
    jieba.initialize()


def parse_post(path: str, parser: str) -> tuple[str, str] | None:
    """(title, body) of one post, or None when the parser gives up on it."""
    data = Path(path).read_bytes()
    if parser == "sou":
        from search.articles import parse_bytes
        from search.errors import ArticleError

        try:
            article = parse_bytes(data, Path(path).name)
        except ArticleError:
            return None
        return article.title, article.body
    import frontmatter

    try:
        post = frontmatter.loads(data.decode("utf-8"))
    except Exception:  # noqa: BLE001 - the simple pipeline's only error handling is "skip it"
        return None
    title = post.get("title")
    return ("" if title is None else str(title)), str(post.content)


def _segment(path: str) -> tuple[str, str, str, str, str] | None:
    """Worker: parse one post and cut title and body in search mode, tokens joined by spaces."""
    import jieba

    parsed = parse_post(path, _PARSER)
    if parsed is None:
        return None
    title, body = parsed
    return Path(path).name, title, body, " ".join(jieba.cut_for_search(title)), " ".join(jieba.cut_for_search(body))


def build_schema(tantivy):
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("id", stored=True, tokenizer_name="raw")
    builder.add_text_field("title", tokenizer_name=TOKENIZER, index_option="position")
    builder.add_text_field("body", tokenizer_name=TOKENIZER, index_option="position")
    builder.add_bytes_field("title_text", stored=True)
    builder.add_bytes_field("body_text", stored=True)
    return builder.build()


def jieba_analyzer(tantivy):
    """Whitespace over pre-cut tokens, then tantivy's default filters."""
    return (tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.whitespace())
            .filter(tantivy.Filter.remove_long(40))
            .filter(tantivy.Filter.lowercase())
            .build())


def build_index(paths: list[str], index_dir: Path, *, procs: int = 2, threads: int = 2, parser: str = "sou",
                heap: int = DEFAULT_HEAP, cache_dir: Path | None = None) -> dict[str, Any]:
    """Index `paths` into a fresh tantivy index at `index_dir`; return the in-process figures."""
    import tantivy

    if parser not in PARSERS:
        raise ValueError(f"unknown parser {parser!r}; expected one of {PARSERS}")
    index_dir = Path(index_dir)
    if index_dir.exists():
        if any(index_dir.iterdir()) and not (index_dir / "meta.json").exists():
            raise ValueError(f"{index_dir} is not empty and holds no tantivy index; not wiping it")
        shutil.rmtree(index_dir)
    index_dir.mkdir(parents=True)
    if cache_dir is None:
        from bench.common import data_dir

        cache_dir = data_dir() / "jieba-cache"

    started = time.perf_counter()
    index = tantivy.Index(build_schema(tantivy), path=str(index_dir))
    index.register_tokenizer(TOKENIZER, jieba_analyzer(tantivy))
    writer = index.writer(heap, threads)
    docs = failed = 0
    ctx = multiprocessing.get_context("fork" if sys.platform.startswith("linux") else "spawn")
    with ctx.Pool(procs, initializer=_init_worker, initargs=(parser, str(cache_dir))) as pool:
        for item in pool.imap(_segment, paths, chunksize=CHUNKSIZE):
            if item is None:
                failed += 1
                continue
            name, title, body, cut_title, cut_body = item
            doc = tantivy.Document()
            doc.add_text("id", name)
            doc.add_text("title", cut_title)
            doc.add_text("body", cut_body)
            doc.add_bytes("title_text", title.encode("utf-8"))
            doc.add_bytes("body_text", body.encode("utf-8"))
            writer.add_document(doc)
            docs += 1
    pooled = time.perf_counter() - started
    commit_started = time.perf_counter()
    writer.commit()
    writer.wait_merging_threads()
    commit_s = time.perf_counter() - commit_started
    index.reload()
    indexed = index.searcher().num_docs
    return {
        "files": len(paths),
        "docs": indexed,
        "failed": failed,
        "lost_docs": docs - indexed,
        "parser": parser,
        "procs": procs,
        "threads": threads,
        "heap_bytes": heap,
        "seconds": round(time.perf_counter() - started, 3),
        "pool_s": round(pooled, 3),
        "commit_s": round(commit_s, 3),
        "index_bytes": sum(f.stat().st_size for f in index_dir.rglob("*") if f.is_file()),
        "tantivy": getattr(tantivy, "__version__", "?"),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--paths-file", type=Path, required=True, help="JSON list of post paths")
    parser.add_argument("--index-dir", type=Path, required=True)
    parser.add_argument("--procs", type=int, default=2, help="jieba worker processes")
    parser.add_argument("--threads", type=int, default=2, help="tantivy writer threads")
    parser.add_argument("--parser", choices=PARSERS, default="sou")
    parser.add_argument("--heap", type=int, default=DEFAULT_HEAP, help="writer heap in bytes")
    args = parser.parse_args(argv)
    paths = json.loads(args.paths_file.read_text(encoding="utf-8"))
    result = build_index(paths, args.index_dir, procs=args.procs, threads=args.threads, parser=args.parser,
                         heap=args.heap)
    from bench.runner import RESULT_MARK

    print(RESULT_MARK + json.dumps(result, ensure_ascii=False), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
