"""bench/index_size.py: an index folder's bytes grouped by file kind and by field."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.index_size import (
    breakdown,
    column_fields,
    extent_length,
    field_breakdown,
    file_kind,
    group_files,
    kind_group,
)

SEG = "sou_94609d68_2lal1f6vcm4ste6v"


def test_segment_files_are_grouped_by_what_follows_the_segment_id():
    assert file_kind(f"{SEG}.pst") == ".pst"
    assert file_kind(f"{SEG}._stored.col") == "._stored.col"
    assert file_kind(f"{SEG}._body_len.col") == "._body_len.col"
    assert file_kind(f"{SEG}.date.col") == ".date.col"
    assert kind_group(".pst") == "postings"
    assert kind_group(".trm") == "terms"
    assert kind_group("._stored.col") == "stored"
    assert kind_group("._title_ngram_len.col") == "lengths"
    assert kind_group(".content_hash.col") == "columns"


def test_other_files_fall_together_whatever_their_ids():
    assert file_kind("_sou_94609d68_1.toc") == file_kind("_sou_0badf00d_12.toc") == "_sou_*_*.toc"
    assert file_kind("pinyin-sou_94609d68.json") == "pinyin-sou_*.json"
    assert kind_group("pinyin-sou_*.chars.json") == "pinyin"
    assert file_kind("sou.json") == "sou.json"
    # a layout this tool has never seen still adds up, under names of its own
    assert file_kind("seg_000042.postings") == "seg_*.postings"
    assert kind_group("seg_*.postings") == "other"


def test_group_files_sums_each_kind_over_segments_largest_first():
    rows = group_files([(f"{SEG}.pst", 700), ("sou_94609d68_aaaaaaaaaaaaaaaa.pst", 300),
                        (f"{SEG}.trm", 50), ("sou.json", 2), (f"{SEG}._body_len.col", 9), (f"{SEG}.id.col", 11)])
    assert rows[0] == {"kind": ".pst", "group": "postings", "files": 2, "bytes": 1000}
    assert [r["kind"] for r in rows] == [".pst", ".trm", ".id.col", "._body_len.col", "sou.json"]
    assert column_fields(rows) == {"id": {"column_bytes": 11, "length_bytes": 0},
                                   "body": {"column_bytes": 0, "length_bytes": 9}}


def test_extent_length_accepts_a_plain_or_a_one_tuple_length():
    assert extent_length((1024, 77)) == 77
    assert extent_length((0, (36,))) == 36


def test_a_folder_that_is_no_whoosh_index_gives_kinds_and_a_reason_not_a_crash(tmp_path: Path):
    (tmp_path / "seg_000001.postings").write_bytes(b"x" * 100)
    (tmp_path / "meta.json").write_text("{}")
    report = breakdown(tmp_path, posts_bytes=50)
    assert report["index_bytes"] == 102
    assert report["ratio"] == pytest.approx(2.04)
    assert report["by_field"]["status"].startswith("n/a")
    assert field_breakdown(tmp_path)["status"].startswith("n/a")


def test_a_sou_index_adds_up_and_its_postings_split_by_field(demo_index, demo_settings):
    index_dir = Path(demo_settings.index_dir)
    report = breakdown(index_dir, posts_bytes=1)
    on_disk = sum(f.stat().st_size for f in index_dir.iterdir() if f.is_file())
    assert report["index_bytes"] == on_disk == sum(r["bytes"] for r in report["by_kind"])
    fields = report["by_field"]
    if fields["status"] != "ok":
        pytest.skip(f"per-field figures not readable for this index format: {fields['status']}")
    pst = sum(r["bytes"] for r in report["by_kind"] if r["kind"] == ".pst")
    postings = sum(f.get("postings_bytes", 0) for f in fields["fields"].values())
    assert 0 < postings <= pst                      # every posting list lies inside a .pst file
    assert fields["fields"]["body"]["terms"] > 0
    assert fields["fields"]["title"]["stored_value_bytes"] > 0
