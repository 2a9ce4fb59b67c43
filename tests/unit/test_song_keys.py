"""Song keys: when two crawled rows are the same song."""

from __future__ import annotations

import pytest

from spark_jobs.normalise import normalise_text, song_key


@pytest.mark.parametrize("a, b", [
    (("IU", "밤편지"), ("ＩＵ", "밤 편지")),  # full-width letters, Genie's inconsistent spacing
    (("IU", "밤편지"), ("iu", "밤편지 (Feat. Someone)")),  # case, a featured artist
    (("Zion.T", "양화대교"), ("Zion.T", "양화대교 [ft. Crush]")),
    (("OutKast", "Hey Ya!"), ("OUTKAST", "hey  ya!")),
])
def test_spellings_of_one_song_share_a_key(a, b):
    assert song_key(*a) == song_key(*b)


@pytest.mark.parametrize("a, b", [
    (("IU", "밤편지"), ("IU", "좋은 날")),
    (("IU", "Love poem"), ("Zion.T", "Love poem")),  # same title, another artist
])
def test_different_songs_keep_different_keys(a, b):
    assert song_key(*a) != song_key(*b)


def test_missing_parts_give_an_empty_side_not_an_error():
    assert normalise_text(None) == "" and normalise_text("") == ""
    assert song_key(None, "밤편지") == "|밤편지"


def test_composed_and_decomposed_hangul_are_one_spelling():
    import unicodedata

    decomposed = unicodedata.normalize("NFD", "밤편지")
    assert decomposed != "밤편지"
    assert normalise_text(decomposed) == normalise_text("밤편지")
