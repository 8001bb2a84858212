"""The analyzer's contract: every token's offsets point into the ORIGINAL text (whatever the
folding did), positions are word ordinals shared by sub-words, Latin words stay whole, and the
query side is consistent with the index side."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from search import analysis
from search.analysis import NgramTokenizer, Tok, WordTokenizer, fold, ngrams, normalize, tokenize

SAMPLES = [
    "国家安全法",
    "國家安全法實施後，記者會上的提問少了。",
    "國安法 国安法",
    "臺北捷運環狀線通車週年",
    "台灣高鐵連假加開班次　南下車票開賣一小時售罄",
    "ＡＢＣ１２３ ｉＰｈｏｎｅ１３　Ｂ站",
    "COVID-19 疫苗第三针接种率突破七成",
    "把 Python 3.5 升级到 3.6.3，用上 f-string",
    "iPhone13 和 iPhone 13 都支持 5G，B站UP主说",
    "访问 https://example.com/path?q=1&x=2。 或者写信到 someone.name@example.org 。",
    "全角空格\u3000不换行空格\u00a0零宽空格\u200b字节顺序\ufeff标记",
    "今天心情不错😀，带猫🐱去看病👨\u200d👩\u200d👧",
    "㈱会社とstraße、ﬁle ﬂow Ⅻ ½ ℃ ㎞",
    "中华人民共和国国务院新闻办公室",
    "a b c 一 二 三 x",
    "C++ 和 C# 的区别；Node.js、Vue.js 与 O'Reilly",
    "",
    "   ",
    "，。！？",
    "Hello, World! It's 2023.",
    "这个页面没有 front matter，标题取自第一行的一级标题。",
    "裏面 裡面 里面 著作 着作",
]

# Characters whose folding changes the length (NFKC + case-fold): a token can then cover only
# part of what one original character became.
def _expands(text: str) -> bool:
    return any(len(fold(ch)) not in (0, 1) for ch in text)


def check_offsets(text: str, toks: list[Tok]) -> None:
    for t in toks:
        assert 0 <= t.start < t.end <= len(text), (t, text)
        original = text[t.start:t.end]
        folded = normalize(original)[0]
        if _expands(original):
            assert t.text in folded, (t, original, folded)
        else:
            assert folded == t.text, (t, original, folded)


def check_word_positions(toks: list[Tok]) -> None:
    """Positions are 0, 1, 2, ... in order; every sub-word lies inside the word at its position."""
    positions = [t.pos for t in toks]
    assert positions == sorted(positions)
    assert sorted(set(positions)) == list(range(len(set(positions))))
    for pos in set(positions):
        at = [t for t in toks if t.pos == pos]
        word = max(at, key=lambda t: (t.end - t.start, len(t.text)))
        for sub in at:
            assert word.start <= sub.start and sub.end <= word.end, (sub, word)
            assert sub.text in word.text, (sub, word)


def word_of_each_position(toks: list[Tok]) -> list[Tok]:
    words: dict[int, Tok] = {}
    for t in toks:
        best = words.get(t.pos)
        if best is None or (t.end - t.start, len(t.text)) > (best.end - best.start, len(best.text)):
            words[t.pos] = t
    return [words[p] for p in sorted(words)]


@pytest.mark.parametrize("text", SAMPLES)
@pytest.mark.parametrize("mode", ["index", "query"])
def test_word_offsets_point_into_the_original_text(text: str, mode: str) -> None:
    toks = tokenize(text, mode)
    check_offsets(text, toks)
    check_word_positions(toks)


@pytest.mark.parametrize("text", SAMPLES)
def test_ngram_offsets_and_positions(text: str) -> None:
    toks = ngrams(text)
    check_offsets(text, toks)
    assert [t.pos for t in toks] == list(range(len(toks)))
    assert [t.start for t in toks] == sorted(t.start for t in toks)


@pytest.mark.parametrize("text", SAMPLES)
def test_query_mode_is_the_index_mode_without_sub_words(text: str) -> None:
    index = tokenize(text, "index")
    query = tokenize(text, "query")
    assert [t.pos for t in query] == list(range(len(query)))
    index_set = {(t.text, t.pos, t.start, t.end) for t in index}
    for t in query:
        assert (t.text, t.pos, t.start, t.end) in index_set
    assert word_of_each_position(index) == query


def texts(toks: list[Tok]) -> list[str]:
    return [t.text for t in toks]


@pytest.mark.parametrize(("text", "whole"), [
    ("COVID-19", "covid-19"),
    ("Python 3.6.3", "3.6.3"),
    ("iPhone13", "iphone13"),
    ("5G 网络", "5g"),
    ("B站 视频", "b站"),
    ("用B站看", "b站"),
    ("C++ 入门", "c++"),
    ("see https://example.com/a/b?c=1.", "https://example.com/a/b?c=1"),
    ("mail someone.name@example.org now", "someone.name@example.org"),
    ("ｉＰｈｏｎｅ", "iphone"),
    ("ＣＯＶＩＤ－１９", "covid-19"),
])
def test_latin_words_versions_urls_and_emails_stay_whole(text: str, whole: str) -> None:
    query = texts(tokenize(text, "query"))
    assert whole in query
    assert whole in texts(tokenize(text, "index"))
    # never exploded into letters
    assert not any(len(t) == 1 and t.isascii() and t.isalpha() for t in query if t in whole)


def test_identifier_parts_are_indexed_as_sub_words() -> None:
    index = tokenize("COVID-19 iPhone13", "index")
    at0 = {t.text for t in index if t.pos == 0}
    at1 = {t.text for t in index if t.pos == 1}
    assert at0 == {"covid-19", "covid", "19"}
    assert at1 == {"iphone13", "iphone", "13"}


def test_one_letter_and_one_digit_tokens_are_kept() -> None:
    assert texts(tokenize("a b c x 7", "query")) == ["a", "b", "c", "x", "7"]


def test_traditional_and_simplified_give_the_same_tokens() -> None:
    for trad, simp in [("國安法", "国安法"), ("臺北捷運", "台北捷运"), ("記者會", "记者会"),
                       ("軟件開發", "软件开发"), ("裡面", "里面")]:
        for mode in ("index", "query"):
            assert texts(tokenize(trad, mode)) == texts(tokenize(simp, mode))
        assert texts(ngrams(trad)) == texts(ngrams(simp))


def test_full_width_and_case_fold_to_half_width_lower_case() -> None:
    assert texts(tokenize("ＡＢＣ１２３", "query")) == texts(tokenize("abc123", "query")) == ["abc123"]
    assert fold("ＩＰＨＯＮＥ") == "iphone"


def test_spaces_and_invisible_characters() -> None:
    assert fold("a\u3000b\u00a0c") == "a b c"
    assert fold("咖\u200b啡\ufeff馆") == "咖啡馆"
    toks = tokenize("咖\u200b啡馆", "query")
    assert all(t.text for t in toks)
    assert "".join(texts(toks)) == "咖啡馆"


def test_search_mode_sub_words_share_the_position_of_their_word() -> None:
    index = tokenize("中华人民共和国国务院", "index")
    assert {t.pos for t in index} == {0}
    subs = set(texts(index))
    assert {"中华", "人民", "共和国", "国务院", "中华人民共和国国务院"} <= subs


def test_a_word_inside_a_longer_word_is_an_index_sub_word_or_ngram_phrase() -> None:
    index = set(texts(tokenize("开店工具安装简单", "index")))
    grams = texts(ngrams("开店工具安装简单"))
    assert "简单" in index or "简单" in "".join(grams)
    assert grams == list("开店工具安装简单")


def test_ngrams_skip_punctuation_and_spaces_in_positions() -> None:
    toks = ngrams("五大訴求，缺一不可 COVID-19")
    assert texts(toks) == ["五", "大", "诉", "求", "缺", "一", "不", "可", "covid-19"]
    assert [t.pos for t in toks] == list(range(9))


# -- property test ----------------------------------------------------------------------------

_ALPHABET = st.sampled_from(
    list("国家安全法记者会台北软件开发简单的了是")           # simplified
    + list("國家安全法記者會臺北軟體開發簡單裡著")           # traditional + variants
    + list("abcXYZé") + list("0123456789")                  # Latin, digits
    + list(".,-_@/:'#+!?;()[]\"") + list("，。！？；：「」、（）")   # punctuation
    + list("ＡＢＣａｂｃ１２３＠．")                         # full-width
    + [" ", "\t", "\n", "\u3000", "\u00a0", "\u200b", "\ufeff", "\u200d"]   # spaces, invisible
    + list("㈱ßﬁ½Ⅻİŉ😀🐱")                                    # folding changes length
)
_TEXT = st.lists(_ALPHABET, max_size=60).map("".join) | st.text(max_size=40)


@settings(max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(_TEXT)
def test_offsets_invariant_holds_for_random_text(text: str) -> None:
    for mode in ("index", "query"):
        toks = tokenize(text, mode)
        check_offsets(text, toks)
        check_word_positions(toks)
    grams = ngrams(text)
    check_offsets(text, grams)
    assert [t.pos for t in grams] == list(range(len(grams)))


@settings(max_examples=100, deadline=None, database=None)
@given(_TEXT)
def test_normalize_offset_map_is_monotonic_and_in_bounds(text: str) -> None:
    folded, offsets = normalize(text)
    if offsets is None:
        assert len(folded) == len(text)
        return
    assert len(offsets) == len(folded) + 1
    assert offsets == sorted(offsets)
    assert all(0 <= o <= len(text) for o in offsets)
    assert offsets[-1] == len(text)
    # every folded character comes from the original character it maps to
    for i, ch in enumerate(folded):
        assert ch in normalize(text[offsets[i]])[0]


def test_normalize_is_nfkc_casefold_on_ascii_and_latin() -> None:
    for text in ("Straße", "ÉCOLE", "ﬁne", "Ｈｅｌｌｏ"):
        assert fold(text) == unicodedata.normalize("NFKC", text).casefold()


# -- the Whoosh way ---------------------------------------------------------------------------

def run_whoosh(tokenizer, text: str, mode: str, **kwargs) -> list[tuple]:
    return [(t.text, t.pos, t.startchar, t.endchar)
            for t in tokenizer(text, positions=True, chars=True, mode=mode, **kwargs)]


@pytest.mark.parametrize("text", [s for s in SAMPLES if s.strip()])
def test_word_tokenizer_honours_whoosh_positions_and_chars(text: str) -> None:
    for mode in ("index", "query"):
        got = run_whoosh(WordTokenizer(), text, mode)
        assert got == [(t.text, t.pos, t.start, t.end) for t in tokenize(text, mode)]
        for word, _pos, start, end in got:
            assert word in fold(text[start:end])


@pytest.mark.parametrize("text", [s for s in SAMPLES if s.strip()])
def test_ngram_tokenizer_honours_whoosh_positions_and_chars(text: str) -> None:
    got = run_whoosh(NgramTokenizer(), text, "index")
    assert got == [(t.text, t.pos, t.start, t.end) for t in ngrams(text)]


def test_whoosh_start_pos_and_start_char_shift_tokens() -> None:
    base = run_whoosh(WordTokenizer(), "國安法 記者", "query")
    shifted = run_whoosh(WordTokenizer(), "國安法 記者", "query", start_pos=10, start_char=100)
    assert shifted == [(w, p + 10, s + 100, e + 100) for w, p, s, e in base]


def test_whoosh_keeporiginal_gives_the_original_characters() -> None:
    originals = [t.original for t in WordTokenizer()("國安法 ＣＯＶＩＤ", keeporiginal=True, chars=True)]
    assert originals == ["國安法", "ＣＯＶＩＤ"]


def test_whoosh_analyzer_chain_in_the_schema_matches_our_tokens() -> None:
    from search.schema import build_schema

    schema = build_schema()
    body = [(t.text, t.pos, t.startchar, t.endchar)
            for t in schema["body"].analyzer("臺北市 COVID-19", positions=True, chars=True, mode="index")]
    assert body == [(t.text, t.pos, t.start, t.end) for t in tokenize("臺北市 COVID-19", "index")]
    terms = list(schema["body"].process_text("臺北市", mode="query"))
    assert terms == texts(tokenize("臺北市", "query"))


# -- user dictionary --------------------------------------------------------------------------

def test_a_user_dictionary_word_stays_whole(tmp_path) -> None:
    """Run in a fresh process: loading jieba with a user dictionary before anything built the
    folding table used to deadlock on the runtime's lock (a hang, so a timeout guards it)."""
    import subprocess
    import sys

    userdict = tmp_path / "userdict.txt"
    userdict.write_text("# product names\n扫码即用 20 n\n小橘猫咖啡\n", encoding="utf-8")
    code = (
        "from pathlib import Path\n"
        "from search import analysis\n"
        f"a = analysis.Analyzer.for_config(analysis.AnalyzerConfig(user_dict={str(userdict)!r}), Path({str(tmp_path / 'cache')!r}))\n"
        "a.load()\n"
        "print('|'.join(t.text for t in a.tokenize('自助洗衣店扫码即用，楼下是小橘貓咖啡', 'query')))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    words = done.stdout.strip().split("|")
    assert "扫码即用" in words
    assert "小橘猫咖啡" in words          # user words are folded like the text (貓 -> 猫)


_LONG_ALPHABET = st.sampled_from(list("國語臺灣裡面著名ＡＢＣ１２３abcXYZ 　，。！\n香港电台") + ["①", "ﬁ", "\u200b", "㈱", "𠮷", "Ⅻ"])


@settings(max_examples=150, deadline=None)
@given(st.text(_LONG_ALPHABET, min_size=200, max_size=900))
def test_long_texts_fold_like_the_translate_table(text):
    """Bodies take an array path (no str.translate); it must fold and map offsets the same."""
    table = analysis.Analyzer.default().table
    folded, offsets = analysis.normalize(text)
    assert folded == text.translate(table)
    if offsets is None:
        assert len(folded) == len(text)
    else:
        expected = [i for i, ch in enumerate(text) for _ in table.get(ord(ch), ch)] + [len(text)]
        assert offsets == expected


@settings(max_examples=150, deadline=None)
@given(st.text(_LONG_ALPHABET, max_size=400))
def test_ngram_postings_for_the_index_are_those_of_the_ngram_tokens(text):
    """The build takes n-grams from arrays of the folded text; they must be the n-gram tokens
    (term and position) that queries are matched against."""
    grams = analysis.gram_arrays(analysis.fold(text))
    got = sorted([(chr(c), p) for c, p in zip(grams.chars.tolist(), grams.char_positions.tolist(), strict=True)]
                 + list(zip(grams.words, grams.word_positions, strict=True)))
    expected = sorted((t.text, t.pos) for t in ngrams(text))
    assert got == expected
    assert grams.count == len(expected)


@settings(max_examples=150, deadline=None)
@given(st.text(_LONG_ALPHABET, max_size=400))
def test_index_words_are_the_index_tokens(text):
    """The build's word lists (no offsets, no tuples) are those of the index-mode tokens."""
    analyzer = analysis.Analyzer.default()
    tokens = analyzer.tokenize(text, "index")
    norm = analyzer.fold(text)
    assert analyzer.index_words(norm) == [t.text for t in tokens]
    assert analyzer.index_positioned(norm) == ([t.text for t in tokens], [t.pos for t in tokens])


def test_the_folding_table_read_from_the_cache_is_the_one_derived() -> None:
    """Every process reads the folding table from the cache folder; it must be exactly the table
    the folding code derives now (a stale or damaged file would fold differently from the index)."""
    import opencc

    from search.analysis import _derive_folding, folding_table

    for variants in (True, False):
        table, odd = folding_table(variants)
        derived, derived_odd = _derive_folding(variants, opencc)
        assert table == derived and odd.pattern == derived_odd
    table, _ = folding_table(True)
    assert "臺灣".translate(table) == "台湾" and "ＡＢＣ".translate(table) == "abc"
