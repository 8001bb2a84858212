"""Exact-character highlights: where a phrase sits in the original text, whatever spaces,
punctuation, width or script lie between its characters."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from search import analysis
from search.highlight import _SKIP_RE, exact_ranges


def _reference(text: str, needles: list[str]) -> list[tuple[int, int]]:
    """The straightforward per-character version the fast one replaced."""
    folded, offsets = analysis.normalize(text)
    kept = [i for i, ch in enumerate(folded) if not _SKIP_RE.fullmatch(ch)]
    squeezed = "".join(folded[i] for i in kept)
    out = []
    for needle in needles:
        key = _SKIP_RE.sub("", analysis.fold(needle))
        if not key:
            continue
        start = squeezed.find(key)
        while start != -1:
            a, b = kept[start], kept[start + len(key) - 1] + 1
            before = folded[a - 1] if a > 0 else " "
            after = folded[b] if b < len(folded) else " "
            bounded = not (before.isalnum() and before.isascii()) and not (after.isalnum() and after.isascii())
            if not key.isascii() or bounded:
                if offsets is not None:
                    a, b = offsets[a], offsets[b - 1] + 1
                out.append((a, b))
            start = squeezed.find(key, start + len(key))
    return out


def test_a_phrase_is_found_across_punctuation_and_script():
    text = "遊行人士高呼「五大訴求，缺一不可」。其後，五大诉求 缺一不可的口號再次響起。"
    ranges = exact_ranges(text, ["五大訴求 缺一不可"])
    assert [text[a:b] for a, b in ranges] == ["五大訴求，缺一不可", "五大诉求 缺一不可"]


def test_latin_needles_match_whole_words_only():
    text = "Apple released the iPhone; an apple a day. Pineapple is not it."
    assert [text[a:b] for a, b in exact_ranges(text, ["apple"])] == ["Apple", "apple"]


def test_full_width_text_maps_back_to_the_original_characters():
    text = "ＣＯＶＩＤ－１９ 疫苗，第三針"
    assert [text[a:b] for a, b in exact_ranges(text, ["covid-19疫苗"])] == ["ＣＯＶＩＤ－１９ 疫苗"]


# "…" and "︰" fold to dots and the zero-width space to nothing (searched like punctuation);
# "ﬁ" folds to two letters (the text is folded and squeezed instead).
_ALPHABET = st.sampled_from(list("香港電台记者，。 「」abc AB-1２ＣＤ\n　、…︰\u200bﬁ") + ["臺", "裡", "着"])


@settings(max_examples=300, deadline=None)
@given(st.text(_ALPHABET, max_size=60), st.lists(st.text(_ALPHABET, min_size=1, max_size=4), max_size=3))
def test_fast_highlights_equal_the_per_character_version(text, needles):
    assert exact_ranges(text, needles) == _reference(text, needles)


def test_characters_that_fold_to_punctuation_or_nothing_sit_between_a_phrase():
    text = "記者……香港\u200b電台報道：ﬁnal"
    assert [text[a:b] for a, b in exact_ranges(text, ["記者香港電台"])] == ["記者……香港\u200b電台"]
    assert [text[a:b] for a, b in exact_ranges(text, ["final"])] == ["ﬁnal"]
    assert exact_ranges("x\u200bapple", ["apple"]) == []          # still inside the word "xapple"
