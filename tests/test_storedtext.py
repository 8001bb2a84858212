"""Stored fields as search/storedtext.py writes them: UTF-16 text deflated with a preset
dictionary of common words, readable with the dictionaries each segment saved."""

from __future__ import annotations

import pickle
import zlib

import pytest
from helpers import EXAMPLES

from search import SearchRequest, Settings, storedtext
from search.analysis import folding_table
from search.engine import Engine
from search.indexer import reindex

SIMPLIFIED = "香港记者协会回应国安法：条文严苛涵盖广泛。记协早前向全国人大常委会提交意见书。" * 8
TRADITIONAL = "香港記者協會回應國安法：條文嚴苛涵蓋廣泛。記協早前向全國人大常委會提交意見書。" * 8


@pytest.mark.parametrize("body", [SIMPLIFIED, TRADITIONAL, "", "English only, with 123 numbers.",
                                  "emoji 🐱 and a lone surrogate \udcff kept", "混合 Mixed 文本 COVID-19"])
def test_fields_round_trip(body) -> None:
    dictionaries = storedtext.default_dictionaries()
    fields = {"title": "標題 title", "body": body, "tags": ["貓", "cat"], "url": "https://example.org/a"}
    raw = storedtext.encode(dict(fields), dictionaries, folding_table(True)[0])
    assert storedtext.decode(raw, dictionaries) == ({k: v for k, v in fields.items() if v != ""} | {"title": "標題 title"}
                                                    if body else {k: v for k, v in fields.items() if k != "body"})


def test_each_script_gets_its_dictionary_and_it_pays() -> None:
    dictionaries = storedtext.default_dictionaries()
    table = folding_table(True)[0]
    assert storedtext.encode({"body": SIMPLIFIED}, dictionaries, table)[0] == storedtext.SIMPLIFIED
    assert storedtext.encode({"body": TRADITIONAL}, dictionaries, table)[0] == storedtext.TRADITIONAL
    for body in (SIMPLIFIED, TRADITIONAL):
        whoosh_way = len(zlib.compress(pickle.dumps({"body": body}, 2), 3))
        assert len(storedtext.encode({"body": body}, dictionaries, table)) < whoosh_way


def test_an_index_reads_its_text_with_the_dictionaries_it_saved(tmp_path, jieba_cache, monkeypatch) -> None:
    """Decoding never depends on what this version of jieba or OpenCC would derive."""
    settings = Settings(index_dir=str(tmp_path / "index"), cache_dir=str(jieba_cache), workers=1)
    reindex(settings, EXAMPLES)
    monkeypatch.setattr(storedtext, "default_dictionaries", lambda: (b"other words", b"other words"))
    with Engine.open(settings) as engine:
        hit = engine.search(SearchRequest(q="領養 貓")).hits[0]
        article = engine.article(hit.id)
        assert "貓" in article.body.text and len(article.body.text) > 100


def test_the_compression_dictionaries_are_derived_once_and_then_read_from_the_cache_folder(tmp_path, monkeypatch) -> None:
    """Deriving them reads and sorts jieba's whole word list (about a second, once per build
    worker before); a damaged cache file is derived again, never trusted."""
    derived = storedtext._cached(tmp_path)
    cached = list(tmp_path.glob("stored-text-*.szd"))
    assert len(cached) == 1 and storedtext.unpack_dictionaries(cached[0].read_bytes()) == derived

    def no_derivation(*args):
        raise AssertionError("derived again instead of read from the cache")

    monkeypatch.setattr(storedtext, "_derive", no_derivation)
    assert storedtext._cached(tmp_path) == derived
    cached[0].write_bytes(b"\x00\x00")                 # truncated by a full disk, say
    monkeypatch.undo()
    assert storedtext._cached(tmp_path) == derived
    assert storedtext.unpack_dictionaries(cached[0].read_bytes()) == derived
