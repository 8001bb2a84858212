"""The `sou` command: thin click wrappers that build Settings, call one library function and
turn any SouError into a one-line message and a non-zero exit code."""

from __future__ import annotations

import atexit
import functools
import json
import os
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from .config import Settings
from .errors import SouError
from .models import SearchRequest


def _settings(ctx: click.Context, **overrides: Any) -> Settings:
    base = ctx.obj if isinstance(ctx.obj, dict) else {}
    merged = {**base, **{k: v for k, v in overrides.items() if v is not None}}
    return Settings.load(merged)


def handle_errors(func: Callable) -> Callable:
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except SouError as exc:
            click.echo(f"sou: error: {exc}", err=True)
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("sou: interrupted; the index is unchanged", err=True)
            sys.exit(130)
    return wrapper


def _dump(obj: Any) -> None:
    click.echo(json.dumps(obj, ensure_ascii=False, indent=2, default=str))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--index", "index_dir", help="Index folder (default: ./index, or SOU_INDEX_DIR / sou.toml).")
@click.version_option(package_name="sou")
@click.pass_context
def main(ctx: click.Context, index_dir: str | None) -> None:
    """sou (搜): Chinese-aware full-text search for folders of Markdown articles."""
    ctx.obj = {"index_dir": index_dir} if index_dir else {}


def index_option(func: Callable) -> Callable:
    return click.option("--index", "index_dir", help="Index folder (default: ./index).")(func)


@main.command()
@click.argument("path", required=False, type=click.Path(file_okay=False))
@index_option
@click.option("--full", is_flag=True, help="Rebuild from scratch instead of updating changed files.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.option("--strict", is_flag=True, help="Exit 1 if any file was skipped.")
@click.option("--drafts", is_flag=True, default=None, help="Also index _drafts folders and draft posts.")
@click.option("--workers", type=click.IntRange(min=1), help="Processes for a full build (default 2).")
@click.option("--timezone", help="Zone for dates without one (default UTC).")
@click.option("--user-dict", help="jieba user dictionary file.")
@click.option("--lock-timeout", type=click.FloatRange(min=0), help="Seconds to wait for another reindex (default 10).")
@click.pass_context
@handle_errors
def reindex(ctx, path, index_dir, full, as_json, strict, drafts, workers, timezone, user_dict, lock_timeout):
    """Index the Markdown articles under PATH (incremental unless --full)."""
    from .indexer import reindex as run

    settings = _settings(ctx, index_dir=index_dir, drafts=drafts, workers=workers, timezone=timezone,
                         user_dict=user_dict, lock_timeout=lock_timeout)
    progress, finish = _progress_bar(as_json)
    try:
        summary = run(settings, path, full=full, progress=progress)
    finally:
        finish()
    if as_json:
        _dump(summary.to_dict())
    else:
        _print_summary(summary)
    if strict and summary.skipped:
        sys.exit(1)


def _progress_bar(quiet: bool):
    """A rich progress bar on a terminal; nothing when piped or asked for JSON."""
    if quiet or not sys.stderr.isatty():
        return None, lambda: None
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    bar = Progress("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
                   TimeRemainingColumn(), transient=True)
    task = bar.add_task("indexing", total=None)
    bar.start()

    def update(done: int, total: int) -> None:
        bar.update(task, completed=done, total=total)

    return update, bar.stop


WARNINGS_SHOWN = 5      # the first few warnings in the human summary; --json has them all


def _print_summary(summary) -> None:
    if summary.reason:
        click.echo(f"full rebuild: {summary.reason}")
    click.echo(
        f"{'rebuilt' if summary.full else 'updated'} {summary.index_dir} from {summary.root} in {summary.seconds:.1f} s: "
        f"{summary.indexed} indexed, {summary.updated} updated, {summary.deleted} deleted, "
        f"{summary.unchanged} unchanged, {len(summary.skipped)} skipped; {summary.documents} documents"
    )
    if summary.skipped:
        reasons = ", ".join(f"{kind} {n}" for kind, n in summary.skipped_by_reason().items())
        click.echo(f"skipped by reason: {reasons}")
        for s in summary.skipped[:20]:
            click.echo(f"  skipped {s.path}: {s.reason}", err=True)
        if len(summary.skipped) > 20:
            click.echo(f"  … and {len(summary.skipped) - 20} more (use --json for all)", err=True)
    if summary.kept:
        click.echo(f"{summary.kept} broken file(s) kept their previous version in the index")
    if summary.warnings:
        kinds = ", ".join(f"{kind} {n}" for kind, n in summary.warnings_by_kind().items())
        click.echo(f"warnings by kind: {kinds}")
        for w in summary.warnings[:WARNINGS_SHOWN]:
            click.echo(f"  warning: {w}", err=True)
        if len(summary.warnings) > WARNINGS_SHOWN:
            click.echo(f"  … and {len(summary.warnings) - WARNINGS_SHOWN} more (use --json for all)", err=True)


@main.command()
@click.argument("query", required=False, default="")
@index_option
@click.option("--limit", "-n", type=int, default=10, show_default=True, help="Hits per page.")
@click.option("--page", type=int, default=1, show_default=True)
@click.option("--category", multiple=True, help="Filter by category (repeatable).")
@click.option("--tag", multiple=True, help="Filter by tag (repeatable).")
@click.option("--author", multiple=True, help="Filter by author (repeatable).")
@click.option("--year", multiple=True, help="Filter by year (repeatable).")
@click.option("--from", "date_from", help="Only articles dated on or after (2021, 2021-03, 2021-03-05).")
@click.option("--to", "date_to", help="Only articles dated on or before.")
@click.option("--sort", type=click.Choice(["relevance", "newest", "oldest"]), default="relevance", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print SearchResults.to_dict() as JSON.")
@click.option("--explain", is_flag=True, help="Show how the query was understood.")
@click.pass_context
@handle_errors
def search(ctx, query, index_dir, limit, page, category, tag, author, year, date_from, date_to, sort, as_json, explain):
    """Search the index and print the hits."""
    from .engine import Engine

    settings = _settings(ctx, index_dir=index_dir)
    engine = Engine.open(settings)
    filters = {k: list(v) for k, v in (("category", category), ("tag", tag), ("author", author), ("year", year)) if v}
    results = engine.search(SearchRequest(q=query, page=page, per_page=limit, filters=filters, sort=sort,
                                          date_from=date_from, date_to=date_to, explain=explain))
    if as_json:
        _dump(results.to_dict())
        return
    _print_results(results, explain)


def _print_results(results, explain: bool) -> None:
    color = sys.stdout.isatty()

    def marked(m) -> str:
        if not color:
            out, pos = [], 0
            for a, b in m.ranges:
                out += [m.text[pos:a], "[", m.text[a:b], "]"]
                pos = b
            return "".join(out + [m.text[pos:]])
        out, pos = [], 0
        for a, b in m.ranges:
            out += [m.text[pos:a], click.style(m.text[a:b], fg="yellow", bold=True)]
            pos = b
        return "".join(out + [m.text[pos:]])

    click.echo(f"{results.total} results for {results.query!r} ({results.took_ms:.0f} ms), page {results.page}/{results.pages}")
    for w in results.warnings:
        click.echo(f"note: {w}")
    for e in results.expanded:
        click.echo(f"note: {e}")
    if results.suggestion:
        click.echo(f"did you mean: {results.suggestion}")
    for i, hit in enumerate(results.hits, (results.page - 1) * results.per_page + 1):
        date = hit.date.date().isoformat() if hit.date else "no date"
        versions = f" · {hit.versions} versions" if hit.versions > 1 else ""
        click.echo(f"\n{i}. {marked(hit.title)}")
        click.echo(f"   {hit.id} · {date}{' · ' + hit.author if hit.author else ''}{versions}")
        for s in hit.snippets:
            click.echo(f"   {marked(s)}")
    if explain and results.explain:
        click.echo("\nexplain:")
        _dump(results.explain)


@main.command()
@index_option
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@click.pass_context
@handle_errors
def stats(ctx, index_dir, as_json):
    """Show what the index holds and how it was built."""
    from .indexer import stats as run

    data = run(_settings(ctx, index_dir=index_dir))
    if as_json:
        _dump(data)
        return
    for key in ("index_dir", "root", "documents", "groups", "disk_mb", "built_at", "updated_at",
                "schema_version", "analyzer_version", "segmenter", "user_dict"):
        click.echo(f"{key:16} {data[key]}")
    click.echo(f"{'terms':16} " + ", ".join(f"{k} {v}" for k, v in data["terms"].items()))


@main.command()
@index_option
@click.option("--host", help="Address to bind (default 127.0.0.1).")
@click.option("--port", type=click.IntRange(0, 65535), help="Port (default 5000; 0 = any free port).")
@click.option("--processes", type=click.IntRange(min=1),
              help="Server processes sharing the address (default: one per CPU core).")
@click.option("--threads", type=click.IntRange(min=1), help="Threads per process (default 8).")
@click.option("--watch", is_flag=True, help="Also keep the index current as the articles folder changes.")
@click.pass_context
@handle_errors
def serve(ctx, index_dir, host, port, processes, threads, watch):
    """Serve the search page and JSON API with a production WSGI server (waitress)."""
    from web.server import serve as run

    settings = _settings(ctx, index_dir=index_dir, host=host, port=port, threads=threads, processes=processes)
    try:
        run(settings, watch=watch, echo=click.echo)
    except KeyboardInterrupt:          # Ctrl-C before the server was up
        click.echo("sou: stopped")


@main.command("watch")
@click.argument("path", required=False, type=click.Path(file_okay=False))
@index_option
@click.option("--drafts", is_flag=True, default=None, help="Also index _drafts folders and draft posts.")
@click.option("--timezone", help="Zone for dates without one (default UTC).")
@click.pass_context
@handle_errors
def watch_cmd(ctx, path, index_dir, drafts, timezone):
    """Keep the index current while files under PATH change, until Ctrl-C (builds it first if needed)."""
    import time

    from .watch import articles_root, describe
    from .watch import watch as run

    settings = _settings(ctx, index_dir=index_dir, drafts=drafts, timezone=timezone)
    root = articles_root(settings, path)
    click.echo(f"sou: watching {root} (index {settings.index_dir}); Ctrl-C stops")

    def report(summary) -> None:
        click.echo(f"sou: {time.strftime('%H:%M:%S')} {describe(summary)}")

    signal.signal(signal.SIGTERM, _interrupt)      # `kill` stops it as cleanly as Ctrl-C
    try:
        run(settings, root, on_update=report)
    except KeyboardInterrupt:
        click.echo("sou: stopped watching")


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


@main.command("eval")
@index_option
@click.option("--topics", required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--qrels", required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--groups", type=click.Path(exists=True, dir_okay=False), help="docid<TAB>group file.")
@click.option("--run-out", type=click.Path(dir_okay=False), help="Write the TREC run here.")
@click.option("--tag", default="sou", show_default=True)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
@handle_errors
def eval_cmd(ctx, index_dir, topics, qrels, groups, run_out, tag, as_json):
    """Score the engine on judged queries (nDCG@10, MRR@10, P@10, Recall@100, judged@10)."""
    from .engine import Engine
    from .evaluation import evaluate, format_run, load_groups, load_qrels, load_topics, unjudged_top10

    engine = Engine.open(_settings(ctx, index_dir=index_dir))
    topic_list = load_topics(topics)
    runs: dict[str, list[str]] = {}
    lines: list[str] = []
    for topic in topic_list:
        ranked = run_topic(engine, topic.query)
        runs[topic.qid] = [doc for doc, _ in ranked]
        lines += format_run(topic.qid, ranked, tag)
    if run_out:
        Path(run_out).write_text("\n".join(lines) + "\n", encoding="utf-8")
    group_map = load_groups(groups) if groups else {}
    qrel_map = load_qrels(qrels)
    report = evaluate(runs, qrel_map, group_map, topic_list)
    if as_json:
        data = report.to_dict()
        data["unjudged_top10"] = unjudged_top10(runs, qrel_map, group_map)
        _dump(data)
    else:
        click.echo(report.table())


def run_topic(engine, query: str, depth: int = 100) -> list[tuple[str, float]]:
    """Top ``depth`` documents for one query through the same Engine.search the web uses; doc
    ids are file names (the judged corpora are flat folders)."""
    ranked: list[tuple[str, float]] = []
    page = 1
    while len(ranked) < depth:
        res = engine.search(SearchRequest(q=query, page=page, per_page=100, highlight=False, facets=False))
        ranked += [(hit.id.rsplit("/", 1)[-1], hit.score) for hit in res.hits]
        if page * 100 >= res.total or not res.hits:
            break
        page += 1
    return ranked[:depth]


def entry() -> None:
    """The ``sou`` command as a process: ``main`` and then an exit that skips the interpreter's
    teardown. A reindex leaves millions of small objects behind (pypinyin's phrase table, the
    word counts); freeing them one by one at exit took 0.3-0.45 s of a 3.8 s build of 2,000 posts,
    and nothing a user waits for happens there. Exit handlers (logging, multiprocessing's
    finalizers) still run and output is flushed; with other threads still running (none should
    be) the normal exit waits for them."""
    try:
        main()
        code: object = 0
    except SystemExit as exc:
        code = exc.code
    if threading.active_count() > 1:
        sys.exit(code)
    if code is None:
        code = 0
    elif not isinstance(code, int):      # sys.exit("message"): printed, exit status 1
        print(code, file=sys.stderr)
        code = 1
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):      # a closed pipe (`sou search … | head`): nothing to add
            pass
    os._exit(code)


if __name__ == "__main__":  # pragma: no cover
    entry()
