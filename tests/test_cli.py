"""The `sou` command through click's runner: exit codes, JSON output, one-line errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import EXAMPLES

from search.articles import discover
from search.cli import main

SUMMARY_KEYS = {"root", "index_dir", "full", "reason", "indexed", "updated", "deleted", "unchanged", "kept",
                "skipped", "skipped_by_reason", "skips", "warnings", "documents", "seconds"}
RESULT_KEYS = {"query", "total", "page", "per_page", "took_ms", "hits", "facets", "suggestion", "warnings"}
HIT_KEYS = {"id", "title", "title_html", "url", "date", "author", "categories", "tags", "score", "snippets", "versions"}
N_EXAMPLES = sum(1 for _ in discover(EXAMPLES))


@pytest.fixture(autouse=True)
def _in_tmp_cwd(tmp_path: Path, monkeypatch) -> None:
    """The CLI reads sou.toml from the working directory: give it an empty one."""
    monkeypatch.chdir(tmp_path)


@pytest.fixture(scope="module")
def cli_index(tmp_path_factory) -> Path:
    index = tmp_path_factory.mktemp("cli-index") / "index"
    result = CliRunner().invoke(main, ["reindex", str(EXAMPLES), "--index", str(index), "--json"])
    assert result.exit_code == 0, result.output
    return index


def run(runner: CliRunner, *args: str, **kwargs):
    return runner.invoke(main, list(args), catch_exceptions=False, **kwargs)


def test_reindex_json_summary(runner: CliRunner, tmp_path: Path) -> None:
    index = tmp_path / "ix"
    result = run(runner, "reindex", str(EXAMPLES), "--index", str(index), "--json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert SUMMARY_KEYS <= set(data)
    assert data["full"] is True and data["indexed"] == data["documents"] == N_EXAMPLES
    assert data["skipped"] == 0 and data["skips"] == []
    again = json.loads(run(runner, "reindex", str(EXAMPLES), "--index", str(index), "--json").stdout)
    assert again["full"] is False and again["unchanged"] == N_EXAMPLES


def test_reindex_plain_summary(runner: CliRunner, tmp_path: Path) -> None:
    result = run(runner, "reindex", str(EXAMPLES), "--index", str(tmp_path / "ix"))
    assert result.exit_code == 0
    assert f"{N_EXAMPLES} indexed" in result.stdout and "0 skipped" in result.stdout


@pytest.fixture
def folder_with_a_bad_file(tmp_path: Path) -> Path:
    root = tmp_path / "articles"
    shutil.copytree(EXAMPLES / "notes", root)
    (root / "bad.md").write_bytes(b"---\ntitle: \x80\xff\n---\n\xff\xfe\x80")
    return root


def test_strict_exits_1_when_a_file_is_skipped(runner: CliRunner, tmp_path: Path, folder_with_a_bad_file: Path) -> None:
    lenient = run(runner, "reindex", str(folder_with_a_bad_file), "--index", str(tmp_path / "a"), "--json")
    assert lenient.exit_code == 0
    data = json.loads(lenient.stdout)
    assert data["skipped"] == 1 and data["skipped_by_reason"] == {"bad_encoding": 1}
    assert data["skips"][0]["path"] == "bad.md"

    strict = run(runner, "reindex", str(folder_with_a_bad_file), "--index", str(tmp_path / "b"), "--json", "--strict")
    assert strict.exit_code == 1
    assert json.loads(strict.stdout)["indexed"] == data["indexed"]     # the summary is still printed


def test_plain_reindex_reports_skips_grouped_by_reason(runner: CliRunner, tmp_path: Path,
                                                       folder_with_a_bad_file: Path) -> None:
    result = run(runner, "reindex", str(folder_with_a_bad_file), "--index", str(tmp_path / "a"))
    assert result.exit_code == 0
    assert "skipped by reason: bad_encoding 1" in result.stdout
    assert "bad.md" in result.stderr


def test_stats_json(runner: CliRunner, cli_index: Path) -> None:
    result = run(runner, "stats", "--index", str(cli_index), "--json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert {"index_dir", "root", "documents", "groups", "terms", "disk_mb", "built_at", "updated_at",
            "schema_version", "analyzer_version"} <= set(data)
    assert data["documents"] == N_EXAMPLES
    assert data["root"] == str(EXAMPLES.resolve())


def test_stats_plain(runner: CliRunner, cli_index: Path) -> None:
    result = run(runner, "stats", "--index", str(cli_index))
    assert result.exit_code == 0
    assert f"documents        {N_EXAMPLES}" in result.stdout


def test_search_json_is_to_dict(runner: CliRunner, cli_index: Path) -> None:
    result = run(runner, "search", "貓", "--index", str(cli_index), "--json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert RESULT_KEYS <= set(data)
    assert data["query"] == "貓" and data["total"] >= 2
    ids = [h["id"] for h in data["hits"]]
    assert {"hk-news/article_1811.md", "blog/2019-06-16-adopting-a-ginger-cat.markdown"} <= set(ids)
    for hit in data["hits"]:
        assert HIT_KEYS <= set(hit)


def test_search_plain_output_marks_the_matches(runner: CliRunner, cli_index: Path) -> None:
    result = run(runner, "search", "貓", "--index", str(cli_index))
    assert result.exit_code == 0
    first = result.stdout.splitlines()[0]
    assert first.startswith("2 results for '貓'")
    assert "[貓]" in result.stdout and "[猫]" in result.stdout      # highlighted terms, no colour when piped
    assert "hk-news/article_1811.md" in result.stdout
    assert "\x1b[" not in result.stdout


def test_search_with_a_category_filter(runner: CliRunner, cli_index: Path) -> None:
    data = json.loads(run(runner, "search", "記者", "--index", str(cli_index), "--category", "港聞", "--json").stdout)
    assert data["hits"] and all("港聞" in h["categories"] for h in data["hits"])
    everything = json.loads(run(runner, "search", "記者", "--index", str(cli_index), "--json", "--limit", "50").stdout)
    assert data["total"] < everything["total"]
    assert data["filters"] == {"category": ["港聞"]}


def test_search_sort_limit_and_page(runner: CliRunner, cli_index: Path) -> None:
    first = json.loads(run(runner, "search", "", "--index", str(cli_index), "--json", "--limit", "3",
                           "--sort", "oldest").stdout)
    second = json.loads(run(runner, "search", "", "--index", str(cli_index), "--json", "--limit", "3",
                            "--sort", "oldest", "--page", "2").stdout)
    assert first["per_page"] == 3 and len(first["hits"]) == 3 and second["page"] == 2
    dates = [h["date"] for h in first["hits"] + second["hits"]]
    assert dates == sorted(dates)


def test_search_warns_on_odd_syntax(runner: CliRunner, cli_index: Path) -> None:
    result = run(runner, "search", '"火警', "--index", str(cli_index))
    assert result.exit_code == 0
    assert "note: missing closing quote" in result.stdout


def test_group_level_index_option(runner: CliRunner, cli_index: Path) -> None:
    result = run(runner, "--index", str(cli_index), "stats", "--json")
    assert result.exit_code == 0 and json.loads(result.stdout)["documents"] == N_EXAMPLES


def test_settings_come_from_sou_toml_and_the_environment(runner: CliRunner, cli_index: Path, tmp_path: Path) -> None:
    (tmp_path / "sou.toml").write_text(f"index_dir = {json.dumps(str(cli_index))}\n", encoding="utf-8")
    assert json.loads(run(runner, "stats", "--json").stdout)["documents"] == N_EXAMPLES
    (tmp_path / "sou.toml").unlink()
    result = run(runner, "stats", "--json", env={"SOU_INDEX_DIR": str(cli_index)})
    assert json.loads(result.stdout)["documents"] == N_EXAMPLES


def _one_line_error(result, code: int, needle: str) -> None:
    assert result.exit_code == code, result.output
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("sou: error:") and needle in lines[0]
    assert "Traceback" not in result.output


def test_a_missing_index_is_a_one_line_error_with_exit_code_3(runner: CliRunner, tmp_path: Path) -> None:
    for args in (["search", "貓"], ["stats"], ["search", "貓", "--json"]):
        result = run(runner, *args, "--index", str(tmp_path / "nothing-here"))
        _one_line_error(result, 3, "sou reindex")


def test_bad_paging_is_a_one_line_error(runner: CliRunner, cli_index: Path) -> None:
    result = run(runner, "search", "貓", "--index", str(cli_index), "--limit", "1000")
    _one_line_error(result, 2, "per_page")


def test_a_missing_articles_folder_is_a_one_line_error(runner: CliRunner, tmp_path: Path) -> None:
    result = run(runner, "reindex", str(tmp_path / "no-such-folder"), "--index", str(tmp_path / "ix"))
    _one_line_error(result, 1, "no-such-folder")


def test_a_bad_setting_value_is_a_one_line_error(runner: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "sou.toml").write_text("workers = 'many'\n", encoding="utf-8")
    _one_line_error(run(runner, "stats"), 2, "workers")


def test_an_unknown_setting_in_sou_toml_is_a_one_line_error(runner: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "sou.toml").write_text("colour = 'red'\n", encoding="utf-8")
    _one_line_error(run(runner, "stats"), 2, "colour")


def test_an_outdated_index_says_to_run_reindex_full(runner: CliRunner, tmp_path: Path) -> None:
    index = tmp_path / "ix"
    assert run(runner, "reindex", str(EXAMPLES / "notes"), "--index", str(index)).exit_code == 0
    userdict = tmp_path / "userdict.txt"
    userdict.write_text("零信任架构 10 n\n", encoding="utf-8")
    result = run(runner, "search", "貓", "--index", str(index), env={"SOU_USER_DICT": str(userdict)})
    _one_line_error(result, 5, "sou reindex --full")


def test_version_and_help(runner: CliRunner) -> None:
    assert run(runner, "--version").exit_code == 0
    result = run(runner, "--help")
    for command in ("reindex", "search", "stats", "serve"):
        assert command in result.stdout


# -- what the newcomer audit found (issue 11) -----------------------------------------------------

@pytest.fixture
def folder_with_warnings(tmp_path: Path) -> Path:
    """Eight articles that index with a warning: three kinds, more than the five shown."""
    root = tmp_path / "warned"
    root.mkdir()
    (root / "gbk.md").write_bytes("---\ntitle: 简体中文编码\n---\n\n这篇文章用国标编码保存。\n".encode("gb18030"))
    (root / "draft.md").write_text("---\ntitle: 草稿\ndraft: true\n---\n\n还没写完。\n", encoding="utf-8")
    for i in range(6):
        (root / f"yaml{i}.md").write_text(f'---\ntitle: "第{i}篇\ntags: [a, b\n---\n\n正文第{i}段。\n', encoding="utf-8")
    return root


def test_plain_reindex_shows_warning_counts_and_the_first_few(runner: CliRunner, tmp_path: Path,
                                                             folder_with_warnings: Path) -> None:
    result = run(runner, "reindex", str(folder_with_warnings), "--index", str(tmp_path / "ix"))
    assert result.exit_code == 0
    assert "warnings by kind: front_matter 6, draft 1, gb18030 1" in result.stdout
    shown = [line for line in result.stderr.splitlines() if line.startswith("  warning: ")]
    assert len(shown) == 5
    assert "… and 3 more (use --json for all)" in result.stderr
    data = json.loads(run(runner, "reindex", str(folder_with_warnings), "--index", str(tmp_path / "j"),
                          "--json").stdout)
    assert len(data["warnings"]) == 8
    assert data["warnings_by_kind"] == {"front_matter": 6, "draft": 1, "gb18030": 1}


def test_the_readme_promise_of_a_gb18030_warning_holds_without_json(runner: CliRunner, tmp_path: Path,
                                                                    folder_with_warnings: Path) -> None:
    (folder_with_warnings / "draft.md").unlink()
    for extra in folder_with_warnings.glob("yaml*.md"):
        extra.unlink()
    result = run(runner, "reindex", str(folder_with_warnings), "--index", str(tmp_path / "ix"))
    assert "warnings by kind: gb18030 1" in result.stdout
    assert "gbk.md: decoded as GB18030" in result.stderr


@pytest.mark.parametrize("workers", ["-3", "0", "two"])
def test_workers_below_one_is_a_usage_error(runner: CliRunner, tmp_path: Path, workers: str) -> None:
    result = runner.invoke(main, ["reindex", str(EXAMPLES), "--index", str(tmp_path / "ix"), "--workers", workers])
    assert result.exit_code == 2 and "--workers" in result.stderr
    assert not (tmp_path / "ix").exists()


def test_stats_names_the_segmenter_that_built_the_index(runner: CliRunner, cli_index: Path) -> None:
    data = json.loads(run(runner, "stats", "--index", str(cli_index), "--json").stdout)
    assert data["segmenter"].split()[0] in ("rjieba", "jieba", "jieba_fast")      # with its version
    assert f"segmenter        {data['segmenter']}" in run(runner, "stats", "--index", str(cli_index)).stdout
