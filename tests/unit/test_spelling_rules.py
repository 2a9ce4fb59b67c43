"""Real-world spellings: each rule of spark_jobs.normalise / song_identity, and each negative it must keep apart.

Every case is two rows that alone make the whole data, as a new user's first crawl would."""

from __future__ import annotations

import pytest

from spark_jobs.normalise import artist_parts, learn_aliases, parse_title, scripts
from spark_jobs.song_identity import identify, identify_rows, spellings_of_rows


def row(artist, title, song_id=None, album_id=None, album_title=None):
    return {"artist_name": artist, "song_title": title, "song_id": song_id, "album_id": album_id,
            "album_title": album_title}


def same(a, b) -> bool:
    first, second = identify_rows([a, b])
    return first == second


# --------------------------------------------------------------------------- glosses
@pytest.mark.parametrize("a, b", [
    (row("임영웅", "모든 날 모든 순간 (Every day Every Moment)"), row("임영웅", "모든 날 모든 순간")),
    (row("김원준", "언제나"), row("김원준", "언제나 (Always)")),  # either side
    (row("걸", "Aspirin (아스피린)"), row("걸", "Aspirin")),  # a Latin title, its Hangul transcription
    (row("서태지와 아이들", "하여가(何如歌)"), row("서태지와 아이들", "하여가")),  # Hanja
    (row("김건모", "Show Your Smile (핑계)"), row("김건모", "Show Your Smile")),
    (row("걸", "Aspirin (아스피린) (12 String Guitar Ver.)"), row("걸", "Aspirin (12 String Guitar Ver.)")),
])
def test_a_bracket_in_another_script_is_a_gloss_of_the_same_title(a, b):
    assert same(a, b)


def test_a_title_shown_only_as_its_gloss_is_the_same_song_of_the_same_artist():
    glossed = row("폴킴", "모든 날, 모든 순간 (Every day, Every Moment)")
    assert same(row("폴킴", "Every day, Every Moment"), glossed)
    assert not same(row("성시경", "Every day, Every Moment"), glossed)


def test_a_gloss_is_a_field_and_leaves_the_key():
    t = parse_title("모든 날 모든 순간 (Every day Every Moment)")
    assert t.gloss == "Every day Every Moment" and t.other == () and t.key == parse_title("모든 날 모든 순간").key
    assert scripts("하여가 何如歌 Love あい") == {"hangul", "han", "latin", "kana"}
    # The same script is no gloss: a subtitle in Hangul stays in the key (and merges only with evidence).
    assert parse_title("정 (위험한 이별)").other == ("위험한 이별",)
    # A title in two scripts: nothing in brackets is "another" script.
    assert parse_title("Love 사랑 (Forever)").other == ("Forever",)


@pytest.mark.parametrize("bracket", ["Japanese", "Korean Ver.", "English Version", "Remake", "Intro", "Sped Up",
                                     "Slowed + Reverb", "Demo", "Part 2", "Inst.", "Live", "Acoustic", "Remix"])
def test_a_version_word_in_another_script_is_no_gloss(bracket):
    assert not same(row("방탄소년단", "봄날"), row("방탄소년단", f"봄날 ({bracket})"))


def test_an_ost_part_note_is_a_soundtrack_note_not_a_part():
    t = parse_title("눈의 꽃 (드라마 미안하다 사랑한다 OST Part.1)")
    assert t.ost and t.key == parse_title("눈의 꽃").key
    assert parse_title('Let It Go (From "Frozen"/Soundtrack Version)').key == parse_title("Let It Go").key
    # An end title is another recording of the film's song.
    assert parse_title('Can You Feel the Love Tonight (End Title/ From "The Lion King")').version


def test_a_one_letter_language_mark_is_a_version_not_a_work_title():
    assert not same(row("박재범", "All I Wanna Do (K) (Feat. Hoody, Loco)", "1", "5"),
                    row("박재범", "All I Wanna Do (Feat. Hoody, Loco)", "2", "5"))


# --------------------------------------------------------------------------- work titles (evidence)
def test_a_work_title_merges_when_one_album_shows_it_with_and_without():
    bracketed = row("Post Malone", "Sunflower (Spider-Man: Into the Spider-Verse)", "1", "500")
    plain = row("Post Malone", "Sunflower", "2", "500")
    assert same(bracketed, plain)
    assert same(dict(bracketed, album_id=None, album_title="Spider-Man (Soundtrack)"),
                dict(plain, album_id=None, album_title="Spider-Man (Soundtrack) [Deluxe]"))
    identity = identify(spellings_of_rows([bracketed, plain]))
    reasons = dict(zip(identity.mapping["title_key"], identity.mapping["evidence"]))
    assert reasons[parse_title(bracketed["song_title"]).key] == "work_title: album 500"


def test_a_work_title_without_shared_evidence_stays_apart():
    assert not same(row("Post Malone", "Sunflower (Spider-Man: Into the Spider-Verse)", "1", "500"),
                    row("Post Malone", "Sunflower", "2", "501"))


# --------------------------------------------------------------------------- collaborations
@pytest.mark.parametrize("b", ["Coldplay & BTS", "BTS X Coldplay", "Coldplay x BTS", "BTS, Coldplay",
                               "Coldplay with BTS", "BTS and Coldplay", "Coldplay + BTS", "Coldplay × BTS"])
def test_collaboration_separators_and_order_do_not_matter(b):
    assert same(row("Coldplay X BTS", "My Universe"), row(b, "My Universe"))


def test_artist_parts_split_outside_brackets_only():
    assert artist_parts("형용돈죵 (정형돈 & G-DRAGON)") == ("형용돈죵 (정형돈 & G-DRAGON)",)
    assert artist_parts("IU with 성시경") == ("IU", "성시경")
    assert artist_parts("Jaxon") == ("Jaxon",)  # an x inside a word is no separator
    aliases = learn_aliases([("투모로우바이투게더 (TOMORROW X TOGETHER)", "t", 2), ("TOMORROW X TOGETHER", "t", 1)])
    # A learned alias wins over splitting: the group's name is one artist.
    assert aliases.artist_key("TOMORROW X TOGETHER") == aliases.artist_key("투모로우바이투게더")


def test_a_collaboration_resolves_each_name_through_its_aliases():
    rows = [row("아이유 (IU)", "밤편지"), row("IU", "밤편지"),
            row("아이유 & 성시경", "그대네요"), row("성시경 X IU", "그대네요")]
    keys = identify_rows(rows)
    assert keys[2] == keys[3]


# --------------------------------------------------------------------------- one-off aliases
@pytest.mark.parametrize("a, b", [
    (row("아이유 (IU)", "밤 편지"), row("IU", "밤편지")),
    (row("아이유 (IU)", "좋은 날!"), row("아이유", "좋은날")),
    (row("AKMU (악뮤)", "어떻게 이별까지 사랑하겠어, 널 사랑하는 거지"), row("악뮤", "어떻게 이별까지 사랑하겠어 널 사랑하는 거지")),
])
def test_an_alias_seen_once_with_spacing_or_punctuation_in_the_title(a, b):
    assert same(a, b)


# --------------------------------------------------------------------------- renamed artists (evidence)
def test_a_renamed_artist_merges_only_on_a_shared_album():
    assert same(row("소녀시대-태티서", "Twinkle", "11", "700"), row("TTS", "Twinkle", "12", "700"))
    assert same(row("Old Band", "Song", "11"), row("New Band", "Song", "11"))  # a shared song id
    assert not same(row("소녀시대-태티서", "Twinkle", "11", "700"), row("TTS", "Twinkle", "12", "701"))


def test_an_album_of_many_artists_is_no_evidence_of_a_rename():
    rows = [row("A", "Song", "1", "9"), row("B", "Song", "2", "9"), row("C", "Other", "3", "9")]
    keys = identify_rows(rows)
    assert keys[0] != keys[1]
    # A soundtrack has many singers of one title, even when a crawl shows only two of them.
    assert not same(row("Idina Menzel", "Let It Go", "1", "9", "Frozen (Original Motion Picture Soundtrack)"),
                    row("Demi Lovato", "Let It Go", "2", "9", "Frozen (Original Motion Picture Soundtrack)"))


# --------------------------------------------------------------------------- near titles (evidence)
def test_a_near_title_merges_on_a_shared_album_only():
    assert same(row("IU", "Everyday Moment", "1", "5"), row("IU", "Everyday Momnet", "2", "5"))
    assert not same(row("IU", "Everyday Moment", "1", "5"), row("IU", "Everyday Momnet", "2", "6"))
    assert not same(row("IU", "Love Song Part 1", "1", "5"), row("IU", "Love Song Part 2", "2", "5"))
    assert not same(row("IU", "Everyday Moment (Live)", "1", "5"), row("IU", "Everyday Momnet", "2", "5"))


# --------------------------------------------------------------------------- negatives
@pytest.mark.parametrize("a, b", [
    (row("아이유", "좋은 날"), row("아이유", "좋은 날 (Live)")),
    (row("Daft Punk", "One More Time"), row("Daft Punk", "One More Time (Radio Edit)")),
    (row("아이유", "밤편지"), row("아이유", "밤편지 (Inst.)")),
    (row("Coldplay", "Yellow"), row("Coldplay", "Yellow (Acoustic Ver.)")),
    (row("NewJeans", "Super Shy"), row("NewJeans", "Super Shy (Sped Up)")),
    (row("방탄소년단", "봄날"), row("방탄소년단", "봄날 (Japanese Ver.)")),
    (row("아이유", "좋은 날", "1", "5"), row("아이유 & 성시경", "좋은 날", "2", "5")),  # solo vs duet, one album
    (row("이문세", "옛사랑"), row("성시경", "옛사랑")),  # another artist's cover
    (row("Nat King Cole", "Unforgettable"), row("Nat King Cole", "Unforgettable (Duet with Natalie Cole)")),
])
def test_other_versions_and_covers_stay_apart(a, b):
    assert not same(a, b)


def test_lineage_reasons_name_each_merge():
    rows = [row("Coldplay X BTS", "My Universe", "1", "5"), row("BTS & Coldplay", "My Universe", "1", "5"),
            row("Coldplay X BTS", "My Universe", "3", "6")]
    mapping = identify(spellings_of_rows(rows)).mapping.set_index("artist_name")
    assert mapping.loc["BTS & Coldplay", "reason"] == "collaboration"
    assert mapping.loc["BTS & Coldplay", "evidence"] == "collaboration: BTS & Coldplay"
