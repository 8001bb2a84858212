"""Ingestion: every corpus quirk in tests/data/quirks parses to what expected.json says, and
the building blocks (discovery, decoding, dates, HTML to text, revision keys) behave."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from helpers import QUIRKS
from hypothesis import given, settings
from hypothesis import strategies as st

from search.articles import (
    DraftSkipped,
    SourceFile,
    body_key,
    decode,
    discover,
    group_key,
    html_to_text,
    markdown_to_text,
    parse_bytes,
    parse_date,
    parse_file,
)
from search.errors import ArticleError

EXPECTED: dict[str, dict] = json.loads((QUIRKS / "expected.json").read_text(encoding="utf-8"))
VISIBLE = sorted(name for name, e in EXPECTED.items() if not e.get("hidden"))
HIDDEN = sorted(name for name, e in EXPECTED.items() if e.get("hidden"))
UTC = dt.UTC


def source(path: Path, root: Path = QUIRKS) -> SourceFile:
    st = path.stat()
    return SourceFile(path.relative_to(root).as_posix(), str(path), st.st_size, st.st_mtime)


def parse_quirk(name: str, **kwargs):
    return parse_file(source(QUIRKS / name), **kwargs)


def squash(text: str) -> str:
    return " ".join(text.split())


# -- every fixture ---------------------------------------------------------------------------

def test_expected_json_covers_every_fixture() -> None:
    on_disk = {p.relative_to(QUIRKS).as_posix() for p in QUIRKS.rglob("*") if p.suffix in (".md", ".markdown")}
    assert on_disk == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_quirk_parses_as_expected(name: str) -> None:
    expected = EXPECTED[name]
    if expected.get("skip") == "bad_encoding":
        with pytest.raises(ArticleError) as info:
            parse_quirk(name)
        assert info.value.kind == "bad_encoding"
        assert info.value.path == name
        return

    article = parse_quirk(name, drafts=True)
    assert article.id == name
    note = expected.get("note", "")

    if "title" in expected:
        title = squash(article.title)
        if name == "title-multiline-unquoted.md":      # note: joined with or without a space
            assert title.startswith("一个被拆成") and "两行的标题" in title.replace(" ", "")
        elif name == "title-quote-not-closed.md":      # note: any title containing 之后还有字
            assert "之后还有字" in title
        else:
            assert title == expected["title"]
    assert article.title == article.title.strip()
    assert not any(ord(ch) < 32 for ch in article.title)

    if "date" in expected:
        if name == "date-only-updated.md":             # note: `updated` or null are both fine
            assert article.date in (None, dt.datetime(2021, 12, 24, 9, 30, tzinfo=UTC))
        elif expected["date"] is None:
            assert article.date is None
        else:
            want = dt.datetime.fromisoformat(expected["date"])
            assert article.date is not None and article.date.tzinfo is not None
            assert article.date == want
    if "categories" in expected:
        assert list(article.categories) == expected["categories"]
    if "tags" in expected:
        assert list(article.tags) == expected["tags"]
    if "author" in expected:
        assert article.author == expected["author"]
    elif "source" in expected:                          # sou reads `source` as the author
        assert article.author == expected["source"]

    if expected.get("skip") == "empty_body":
        # Placeholder pages are indexed as EMPTY articles, never skipped and never a crash.
        assert article.body == ""
    for needle in expected.get("body_contains", []):
        assert needle in article.body, f"{needle!r} missing from the body ({note})"
    for needle in expected.get("body_excludes", []):
        assert needle not in article.body, f"{needle!r} must not be in the body ({note})"
    assert not any(ord(ch) < 32 and ch != "\n" for ch in article.body)
    assert article.content_hash and article.group


def test_mojibake_file_is_indexed_without_crashing() -> None:
    article = parse_quirk("mojibake-ptcp154.md")
    assert article.title
    assert article.title.encode("ptcp154").decode("utf-8") == "關於我們的網站"


# -- discovery --------------------------------------------------------------------------------

def test_discover_returns_every_visible_fixture_and_no_hidden_one() -> None:
    found = [s.id for s in discover(QUIRKS)]
    assert found == sorted(found)
    assert set(found) == set(VISIBLE)
    assert not set(found) & set(HIDDEN)


def test_discover_includes_drafts_only_when_asked() -> None:
    found = {s.id for s in discover(QUIRKS, drafts=True)}
    assert "_drafts/unfinished-post.md" in found
    assert ".hidden/secret-note.md" not in found   # hidden folders stay hidden even then


def test_discover_reads_both_extensions_and_ignores_other_files(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("# A\n", encoding="utf-8")
    (tmp_path / "b.markdown").write_text("# B\n", encoding="utf-8")
    (tmp_path / "C.MD").write_text("# C\n", encoding="utf-8")
    (tmp_path / "notes.txt").write_text("not an article", encoding="utf-8")
    (tmp_path / "deep" / "deeper").mkdir(parents=True)
    (tmp_path / "deep" / "deeper" / "d.md").write_text("# D\n", encoding="utf-8")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "e.md").write_text("# E\n", encoding="utf-8")
    (tmp_path / ".hidden.md").write_text("# F\n", encoding="utf-8")
    (tmp_path / "_drafts").mkdir()
    (tmp_path / "_drafts" / "g.md").write_text("# G\n", encoding="utf-8")
    found = [s.id for s in discover(tmp_path)]
    assert found == ["C.MD", "a.md", "b.markdown", "deep/deeper/d.md"]
    assert "_drafts/g.md" in [s.id for s in discover(tmp_path, drafts=True)]


def test_discovered_ids_are_posix_paths_relative_to_the_root() -> None:
    by_id = {s.id: s for s in discover(QUIRKS)}
    assert "file name with spaces.md" in by_id
    assert "猫咪日记 🐱.md" in by_id
    entry = by_id["file name with spaces.md"]
    assert entry.path == str(QUIRKS / "file name with spaces.md")
    assert entry.size == os.stat(entry.path).st_size


def test_a_draft_front_matter_is_skipped_unless_drafts_are_wanted() -> None:
    data = "---\ntitle: 草稿\npublished: false\n---\n\n还没写完。\n".encode()
    with pytest.raises(DraftSkipped) as info:
        parse_bytes(data, "draft.md", drafts=False)
    assert info.value.kind == "draft"
    assert parse_bytes(data, "draft.md", drafts=True).title == "草稿"


# -- decoding ---------------------------------------------------------------------------------

def test_utf8_with_and_without_bom_decodes_silently() -> None:
    assert decode("標題".encode(), "a.md") == ("標題", [])
    assert decode(b"\xef\xbb\xbf" + "標題".encode(), "a.md") == ("標題", [])


def test_gb18030_decodes_with_a_warning() -> None:
    text, warnings = decode("简体中文的内容".encode("gb18030"), "gb.md")
    assert text == "简体中文的内容"
    assert len(warnings) == 1 and "GB18030" in warnings[0]
    article = parse_quirk("gb18030-encoded.md")
    assert any("GB18030" in w for w in article.warnings)


def test_undecodable_bytes_raise_a_bad_encoding_error_naming_the_file() -> None:
    with pytest.raises(ArticleError) as info:
        decode(b"title \x80\xff\x80\xff", "dir/bad.md")
    assert info.value.kind == "bad_encoding"
    assert "dir/bad.md" in str(info.value)


def test_a_bom_does_not_hide_the_front_matter() -> None:
    article = parse_bytes(b"\xef\xbb\xbf---\ntitle: BOM\ndate: 2020-05-06\n---\n\nbody text\n", "bom.md")
    assert article.title == "BOM"
    assert article.date == dt.datetime(2020, 5, 6, tzinfo=UTC)
    assert "title:" not in article.body and "\ufeff" not in article.body


def test_parse_file_turns_an_unreadable_path_into_an_article_error(tmp_path: Path) -> None:
    missing = SourceFile("gone.md", str(tmp_path / "gone.md"), 10, 0.0)
    with pytest.raises(ArticleError) as info:
        parse_file(missing)
    assert info.value.kind == "unreadable"


# -- dates ------------------------------------------------------------------------------------

HK = ZoneInfo("Asia/Hong_Kong")


@pytest.mark.parametrize(("value", "expected"), [
    ("Sat, 30 Apr 2022 04:19:20 GMT", dt.datetime(2022, 4, 30, 4, 19, 20, tzinfo=UTC)),
    ("Mon, 22 Nov 2021 07:15:00 +0800", dt.datetime(2021, 11, 21, 23, 15, tzinfo=UTC)),
    ("2021-03-05T10:20:30Z", dt.datetime(2021, 3, 5, 10, 20, 30, tzinfo=UTC)),
    ("2021-03-05T10:20:30.123Z", dt.datetime(2021, 3, 5, 10, 20, 30, 123000, tzinfo=UTC)),
    ("2021-03-05T10:20:30+08:00", dt.datetime(2021, 3, 5, 2, 20, 30, tzinfo=UTC)),
    ("2018-01-20 14:10:00 +0800", dt.datetime(2018, 1, 20, 6, 10, tzinfo=UTC)),
    ("2018-05-19  +0800", dt.datetime(2018, 5, 18, 16, 0, tzinfo=UTC)),
    ("2021-03-05", dt.datetime(2021, 3, 5, tzinfo=UTC)),
    ("2021-3-5", dt.datetime(2021, 3, 5, tzinfo=UTC)),
    ("2021-03-05 10:20", dt.datetime(2021, 3, 5, 10, 20, tzinfo=UTC)),
    (dt.date(2020, 2, 29), dt.datetime(2020, 2, 29, tzinfo=UTC)),
    (dt.datetime(2020, 2, 29, 12, 0), dt.datetime(2020, 2, 29, 12, 0, tzinfo=UTC)),
    (dt.datetime(2020, 2, 29, 12, 0, tzinfo=dt.timezone(dt.timedelta(hours=8))), dt.datetime(2020, 2, 29, 4, 0, tzinfo=UTC)),
    (20210305, dt.datetime(2021, 3, 5, tzinfo=UTC)),
    ("", None),
    (None, None),
    ("not a date", None),
    ("0001-01-01", None),
    (True, None),
])
def test_parse_date_shapes(value, expected) -> None:
    parsed = parse_date(value)
    assert parsed == expected
    if parsed is not None:
        assert parsed.utcoffset() == dt.timedelta(0)


@pytest.mark.parametrize(("value", "expected"), [
    ("2021-03-05 10:20:00", dt.datetime(2021, 3, 5, 2, 20, tzinfo=UTC)),
    ("2021-03-05", dt.datetime(2021, 3, 4, 16, 0, tzinfo=UTC)),
    (dt.date(2021, 3, 5), dt.datetime(2021, 3, 4, 16, 0, tzinfo=UTC)),
    (dt.datetime(2021, 3, 5, 10, 20), dt.datetime(2021, 3, 5, 2, 20, tzinfo=UTC)),
    # an explicit zone wins over the configured one
    ("2021-03-05T10:20:00Z", dt.datetime(2021, 3, 5, 10, 20, tzinfo=UTC)),
    ("Sat, 30 Apr 2022 04:19:20 GMT", dt.datetime(2022, 4, 30, 4, 19, 20, tzinfo=UTC)),
])
def test_naive_dates_are_read_in_the_configured_zone(value, expected) -> None:
    assert parse_date(value, HK) == expected


def test_the_configured_zone_reaches_parse_file() -> None:
    naive = parse_quirk("date-naive-datetime-unquoted.md")
    in_hk = parse_quirk("date-naive-datetime-unquoted.md", tz=HK)
    assert naive.date is not None and in_hk.date is not None
    assert naive.date - in_hk.date == dt.timedelta(hours=8)


def test_updated_never_replaces_a_present_date() -> None:
    for name in ("date-with-updated.md", "date-with-last-updated.md"):
        article = parse_quirk(name)
        assert article.date == dt.datetime.fromisoformat(EXPECTED[name]["date"])
        assert article.updated is not None and article.updated > article.date


def test_jekyll_file_name_date_is_used_when_front_matter_has_none() -> None:
    article = parse_bytes("---\ntitle: 旧文章\n---\n\n内容。\n".encode(), "blog/2019-04-04-old-post.md")
    assert article.date == dt.datetime(2019, 4, 4, tzinfo=UTC)


# -- HTML and Markdown to text ----------------------------------------------------------------

def test_html_to_text_keeps_paragraph_breaks() -> None:
    text = html_to_text("<div><p>第一段。</p><p>第二段。</p><ul><li>甲</li><li>乙</li></ul></div>")
    assert text.split("\n\n")[:2] == ["第一段。", "第二段。"]
    assert "甲\n乙" in text


@pytest.mark.parametrize("markup", [
    "<p>前</p><script>var leak = 1;</script><p>后</p>",
    "<p>前</p><style>.leak { color: red }</style><p>后</p>",
    '<p>前</p><iframe src="https://leak.example.com/x"></iframe><p>后</p>',
    '<p>前</p><img src="https://leak.example.com/x.png" alt="leak"><p>后</p>',
    "<p>前</p><!-- leak --><p>后</p>",
])
def test_html_to_text_drops_scripts_styles_embeds_images_and_comments(markup: str) -> None:
    text = html_to_text(markup)
    assert "前" in text and "后" in text
    assert "leak" not in text and "<" not in text


def test_html_to_text_decodes_entities_and_odd_spaces() -> None:
    text = html_to_text("<p>a&#123;b&#125; Tom &amp; Jerry&nbsp;x\u3000y&lt;tag&gt;</p>")
    assert text == "a{b} Tom & Jerry x y<tag>"


def test_markdown_to_text_keeps_text_and_drops_markup() -> None:
    md = (
        "# 标题\n\n第一段有一个[链接](https://link.example.com/page)和**粗体**。\n\n"
        "![图片说明](https://img.example.com/a.png)\n\n"
        "<script>alert('x')</script>\n\n"
        "<div><style>p { margin: 0 }</style><p>HTML 段落</p></div>\n\n"
        "> 引用的话\n\n最后一段。\n"
    )
    text = markdown_to_text(md)
    paragraphs = text.split("\n\n")
    assert paragraphs[0] == "标题"
    assert "第一段有一个链接和粗体。" in paragraphs
    assert "HTML 段落" in text and "引用的话" in text and text.endswith("最后一段。")
    for leak in ("link.example.com", "img.example.com", "alert", "margin", "**", "<"):
        assert leak not in text


def test_invisible_characters_inside_words_vanish() -> None:
    text = html_to_text("<p>咖\u200b啡\u200c馆\u200d\ufeff\u2060</p>")
    assert text == "咖啡馆"


# -- revisions ----------------------------------------------------------------------------------

def test_revisions_share_a_group_key() -> None:
    rev1 = parse_quirk("live-story-rev1.md")
    rev2 = parse_quirk("live-story-rev2.md")
    assert rev1.title == rev2.title and rev1.date == rev2.date
    assert rev1.body != rev2.body
    assert rev1.group == rev2.group


def test_different_articles_have_different_group_keys() -> None:
    groups = {parse_quirk(name).group for name in ("live-story-rev1.md", "same-body-title-a.md",
                                                     "same-body-title-b.md", "bom-utf8.md")}
    assert len(groups) == 4


def test_group_key_depends_on_title_and_date() -> None:
    assert group_key("Same  title", "2020-01-01", "a.md") == group_key("Same title", "2020-01-01", "b.md")
    assert group_key("Same title", "2020-01-01", "a.md") != group_key("Same title", "2020-01-02", "a.md")
    assert group_key("Same title", "2020-01-01", "a.md") != group_key("Other title", "2020-01-01", "a.md")
    # untitled files never group together
    assert group_key("", "2020-01-01", "a.md") != group_key("", "2020-01-01", "b.md")


def test_identical_bodies_share_a_body_key() -> None:
    a = parse_quirk("same-body-title-a.md")
    b = parse_quirk("same-body-title-b.md")
    assert a.title != b.title and a.group != b.group
    long_body = a.body * 5   # the fixtures are short: body_key ignores bodies under 50 characters
    assert body_key(long_body) and body_key(long_body) == body_key(long_body.replace("\n\n", "\n \n"))
    assert body_key(long_body) != body_key(long_body + "多一句。")
    assert body_key("太短") == ""


def test_placeholder_pages_parse_to_empty_articles() -> None:
    for name in ("placeholder-farewell.md", "placeholder-temporarily-offline.md", "empty-title-and-body.md"):
        article = parse_quirk(name)
        assert article.body == ""
        assert article.title          # a title from front matter, heading or file name


def test_title_falls_back_to_heading_then_file_name(tmp_path: Path) -> None:
    assert parse_bytes("正文第一行。\n".encode(), "notes/my-first_note.md").title == "my first note"
    assert parse_bytes("# 一级标题\n\n正文。\n".encode(), "x.md").title == "一级标题"
    article = parse_bytes("---\ntitle: 标题\n---\n\n# 标题\n\n正文。\n".encode(), "x.md")
    assert article.body == "正文。"   # an H1 repeating the title is not body text


def test_parse_never_raises_anything_but_article_error(tmp_path: Path) -> None:
    cases = {
        "nul.md": b"\x00" * 100,
        "yaml.md": b"---\n: : :\n  - [\n---\nbody\n",
        "deep.md": b"> " * 5000 + b"x\n",
        "toml.md": b"+++\ntitle = \n+++\nbody\n",
    }
    for name, data in cases.items():
        path = tmp_path / name
        path.write_bytes(data)
        try:
            article = parse_file(source(path, tmp_path))
        except ArticleError as exc:
            assert exc.path == name and exc.kind
        else:
            assert article.id == name


# -- Markdown rendering without leaks ------------------------------------------------------------

def _rss_kb() -> int:
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


_LEAK_SAMPLE = ("# 標題\n\n" + "一段**粗體**和 [連結](https://example.org) 的文字，<b>HTML</b> 也在。\n\n" * 40
                + "| a | b |\n|---|---|\n| 1 | 2 |\n\n- [x] 已完成\n- [ ] 未完成\n")


def test_markdown_renders_like_cmarkgfm_and_frees_what_it_allocates() -> None:
    """cmarkgfm's own wrapper leaks each parse tree and rendered string (~30 kB an article, GBs
    over a large folder); search.markdown renders the same HTML and frees both."""
    import cmarkgfm
    from cmarkgfm.cmark import Options

    from search.markdown import EXTENSIONS, OPTIONS, to_html

    assert Options.CMARK_OPT_UNSAFE & OPTIONS
    expected = cmarkgfm.markdown_to_html_with_extensions(_LEAK_SAMPLE, options=OPTIONS, extensions=list(EXTENSIONS))
    assert to_html(_LEAK_SAMPLE) == expected
    assert "<table>" in expected and "checkbox" in expected
    for _ in range(200):                      # warm the allocator
        to_html(_LEAK_SAMPLE)
    before = _rss_kb()
    for _ in range(3000):
        to_html(_LEAK_SAMPLE)
    assert _rss_kb() - before < 8 * 1024, "rendering 3,000 articles kept their memory"


_HEADING_CHARS = st.sampled_from(list("香港電台，。「」！：Ab9 .)(*_`[]<>&\\!~|#+-=@/") + ["1. ", "    ", "www.", "&amp;"])


@settings(max_examples=400, deadline=None)
@given(st.lists(_HEADING_CHARS, min_size=1, max_size=12).map("".join))
def test_a_title_taken_from_the_first_heading_is_its_markdown_text(heading: str) -> None:
    """Plain headings skip the Markdown parser; whatever the heading holds, the title is the
    text the parser would give it."""
    article = parse_bytes(f"# {heading}\n\n正文第一段。\n".encode(), "posts/untitled.md")
    expected = markdown_to_text(heading.rstrip(" \t#") or heading[:1]).strip()
    assert article.title == (expected or "untitled")
