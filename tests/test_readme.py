"""README.md does not promise what sou cannot do: every command line it shows exists with
those options, every setting is documented with its real default, and every query example
in the syntax table parses without a warning."""

from __future__ import annotations

import re
import shlex

import click
import cmarkgfm
import pytest
from helpers import ROOT
from selectolax.lexbor import LexborHTMLParser

from search.cli import main
from search.config import OPTIONS
from search.query import parse

README = ROOT / "README.md"
MAKEFILE = ROOT / "Makefile"


def readme() -> str:
    if not README.is_file():
        pytest.fail("README.md is missing")
    return README.read_text(encoding="utf-8")


def code_block_lines() -> list[str]:
    text = readme()
    lines: list[str] = []
    for block in re.findall(r"^```[^\n]*\n(.*?)^```", text, re.S | re.M):
        lines += [line.strip() for line in block.splitlines() if line.strip()]
    return lines


def inline_commands() -> list[str]:
    """`sou ...` commands quoted in the prose."""
    return [m for m in re.findall(r"`(sou [^`]+)`", readme())]


def sou_lines() -> list[str]:
    return [line for line in code_block_lines() if line.startswith("sou ")] + inline_commands()


def make_lines() -> list[str]:
    return [line for line in code_block_lines() if line.startswith("make ")]


def _words(line: str) -> list[str]:
    line = line.split("  #")[0].split(" # ")[0]
    try:
        return shlex.split(line)
    except ValueError:
        return line.split()


def _options(tokens: list[str]) -> list[str]:
    """Option names in a usage line such as `[--index DIR] [--sort newest] [--port=5000]`."""
    out = []
    for tok in tokens:
        tok = tok.strip("[]|,")
        if tok.startswith("-") and len(tok) > 1:
            out.append(tok.split("=", 1)[0])
    return out


def _param_opts(command: click.Command) -> set[str]:
    names: set[str] = set()
    for param in command.params:
        names.update(getattr(param, "opts", []))
        names.update(getattr(param, "secondary_opts", []))
    return names | {"-h", "--help"}


def test_readme_shows_sou_and_make_commands() -> None:
    assert len(sou_lines()) >= 4
    assert {"make run", "make test"} <= {" ".join(_words(line)[:2]) for line in make_lines()}


def test_every_sou_command_line_in_the_readme_exists() -> None:
    group_opts = _param_opts(main)
    problems = []
    for line in sou_lines():
        tokens = _words(line)[1:]
        # global options may come before the subcommand
        while tokens and tokens[0].startswith("-"):
            opt = tokens.pop(0).split("=", 1)[0]
            if opt not in group_opts:
                problems.append(f"{line!r}: unknown global option {opt}")
            elif opt == "--index" and tokens:
                tokens.pop(0)
        if not tokens:
            continue
        name = tokens[0]
        command = main.commands.get(name)
        if command is None:
            problems.append(f"{line!r}: no subcommand {name!r}")
            continue
        known = _param_opts(command)
        for opt in _options(tokens[1:]):
            if opt not in known:
                problems.append(f"{line!r}: `sou {name}` has no option {opt}")
        # and --help really lists what the README uses
        help_text = click.testing.CliRunner().invoke(main, [name, "--help"]).output
        for opt in _options(tokens[1:]):
            if opt in known and opt not in ("-h", "--help"):
                assert opt in help_text, (line, opt)
    assert problems == []


def test_every_make_command_in_the_readme_is_a_target() -> None:
    targets = set(re.findall(r"^([A-Za-z][\w-]*)\s*:(?!=)", MAKEFILE.read_text(encoding="utf-8"), re.M))
    readme_targets = set(re.findall(r"`make (\w+)`", readme()))
    readme_targets |= {_words(line)[1] for line in make_lines() if len(_words(line)) > 1}
    assert readme_targets and readme_targets <= targets, readme_targets - targets


def _settings_rows() -> dict[str, list[str]]:
    rows = {}
    for table in _tables():
        for cells in table:
            if cells and re.fullmatch(r"`\w+`", cells[0]) and any(c.startswith("`SOU_") for c in cells):
                rows[cells[0].strip("`")] = cells
    return rows


def _shown_default(value) -> str:
    if value == "":
        return "(empty)"
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


@pytest.mark.parametrize("option", OPTIONS, ids=lambda o: o.name)
def test_every_setting_is_documented_with_its_default(option) -> None:
    rows = _settings_rows()
    assert option.name in rows, f"setting {option.name} is missing from the README's settings table"
    cells = rows[option.name]
    assert f"SOU_{option.name.upper()}" in " ".join(cells)
    assert _shown_default(option.default) in [c.strip("`") for c in cells], (option.name, cells)


def test_the_readme_documents_no_setting_that_does_not_exist() -> None:
    names = {o.name for o in OPTIONS}
    documented = set(_settings_rows())
    assert documented and documented <= names, documented - names


def _tables() -> list[list[list[str]]]:
    """The README's tables as GitHub renders them: rows of cells (text, code spans kept as `x`)."""
    rendered = cmarkgfm.github_flavored_markdown_to_html(readme())
    tables = []
    for table in LexborHTMLParser(rendered).css("table"):
        rows = []
        for tr in table.css("tr"):
            cells = []
            for cell in tr.css("th, td"):
                for code in cell.css("code"):
                    code.replace_with("`" + code.text() + "`")
                cells.append(cell.text().strip())
            rows.append(cells)
        tables.append(rows)
    return tables


def test_readme_tables_render_as_written() -> None:
    """A `|` inside a code span still splits a GitHub table cell unless escaped as `\\|`."""
    for rows in _tables():
        width = len(rows[0])
        for cells in rows:
            assert len(cells) == width, cells
            for cell in cells:
                assert cell.count("`") % 2 == 0, f"broken code span in README table cell {cell!r}"


def _syntax_examples() -> list[str]:
    for rows in _tables():
        if rows[0][:2] == ["you type", "it finds"]:
            return [example for cells in rows[1:] for example in re.findall(r"`([^`]+)`", cells[0])]
    pytest.fail("the README has no query syntax table (| you type | it finds |)")


def test_every_query_syntax_example_parses_without_warnings() -> None:
    examples = _syntax_examples()
    assert len(examples) >= 10
    for example in examples:
        parsed = parse(example)
        assert parsed.warnings == [], (example, parsed.warnings)
        assert parsed.node is not None or parsed.dates, example
