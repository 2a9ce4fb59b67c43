"""Song keys: when two crawled rows are the same song (normalise, aliases, ids), and how that is scored."""

from __future__ import annotations

import unicodedata

import pytest

from quality.catalogue_eval import pair_scores, score_catalogue, truth_by_row
from spark_jobs.normalise import alias_form, clean, fold, learn_aliases, parse_title, song_key
from spark_jobs.song_identity import song_keys


@pytest.mark.parametrize("a, b", [
    (("IU", "밤편지"), ("ＩＵ", "밤 편지")),  # full-width letters, Genie's inconsistent spacing
    (("IU", "밤편지"), ("iu", "밤편지 (Feat. Someone)")),  # case, a featured artist
    (("Zion.T", "양화대교"), ("Zion.T", "양화대교 [ft. Crush]")),
    (("OutKast", "Hey Ya!"), ("OUTKAST", "hey  ya!")),
    (("OutKast", "Hey Ya!"), ("OutKast", "Hey Ya")),  # punctuation
    (("Queen", "Bohemian Rhapsody"), ("Queen", "Bohemian Rhapsody (2011 Remaster)")),  # the same recording
    (("Adam Levine", "Lost Stars"), ("Adam Levine", "Lost Stars (영화 비긴 어게인 OST)")),
    (("Mark Ronson", "Uptown Funk"), ("Mark Ronson", "Uptown Funk (Prod. by X)")),
])
def test_spellings_of_one_song_share_a_key(a, b):
    assert song_key(*a) == song_key(*b)


@pytest.mark.parametrize("a, b", [
    (("IU", "밤편지"), ("IU", "좋은 날")),
    (("IU", "Love poem"), ("Zion.T", "Love poem")),  # same title, another artist
    (("IU", "좋은 날"), ("IU", "좋은 날 (Live)")),  # a live version is another song
    (("Daft Punk", "One More Time"), ("Daft Punk", "One More Time (Radio Edit)")),
    (("Coldplay", "Yellow"), ("Coldplay", "Yellow (Acoustic Ver.)")),
    (("IU", "밤편지"), ("IU", "밤편지 (Inst.)")),
    (("Nat King Cole", "Unforgettable"), ("Nat King Cole", "Unforgettable (Duet with Natalie Cole)")),
])
def test_different_songs_keep_different_keys(a, b):
    assert song_key(*a) != song_key(*b)


def test_bracketed_parts_become_fields():
    t = parse_title("Ｌｏｓｔ Stars (Feat. A & B) [2014 Remastered] (Live at Seoul) (영화 비긴 어게인 OST)")
    assert t.base == "Lost Stars"
    assert t.feat == ("A", "B") and t.remaster == "2014 Remastered" and t.live == "Live at Seoul"
    assert t.ost == "영화 비긴 어게인 OST" and not t.inst and t.key == fold("Lost Stars Live at Seoul")
    nested = parse_title("말해도 돼 (Feat. 림킴 (김예림))")
    assert nested.base == "말해도 돼" and nested.feat == ("림킴 (김예림)",)
    assert parse_title("Song feat. Someone").feat == ("Someone",)
    assert parse_title("Yellow (Acoustic Ver.)").version == "Acoustic Ver."
    assert parse_title("Intro (Inst.)").inst is True
    assert parse_title("(Intro)").key == fold("(Intro)")  # all brackets: the title is its own base
    assert parse_title("광(狂 말아요").base == "광(狂 말아요"  # an unclosed bracket is plain text
    assert parse_title("Hello (Something Else)").other == ("Something Else",)  # unknown: part of the key
    assert parse_title("Hello (Something Else)").key != parse_title("Hello").key


def test_text_forms():
    assert clean("  ＩＵ\u3000 밤  편지 ") == "IU 밤 편지"
    assert fold(unicodedata.normalize("NFD", "밤편지")) == fold("밤편지") == "밤편지"
    assert fold("?!") == "?!"  # a name of punctuation only keeps it
    assert fold(None) == "" and song_key(None, "밤편지") == "|밤편지"


def test_alias_forms_are_korean_latin_pairs():
    assert alias_form("아이유 (IU)") == ("아이유", "IU")
    assert alias_form("AKMU (악뮤)") == ("AKMU", "악뮤")
    assert alias_form("윤민수(바이브)") is None  # same script: a member and a group, not an alias
    assert alias_form("형용돈죵 (정형돈 & G-DRAGON)") is None  # a list of names
    assert alias_form("IU") is None


def rows(*pairs):
    return [(artist, title, n) for artist, title, n in pairs]


def test_aliases_are_learned_from_the_forms_seen_in_the_data():
    aliases = learn_aliases(rows(("아이유 (IU)", "밤편지", 5), ("IU", "밤편지", 1), ("아이유", "밤편지", 1),
                                 ("아이유", "좋은날", 2),  # a name shown alone shares a song with the form
                                 ("AKMU (악뮤)", "200%", 3), ("악뮤", "200%", 1), ("AKMU", "200%", 1)))
    assert aliases.artist_key("아이유 (IU)") == aliases.artist_key("IU") == aliases.artist_key("아이유") == "iu"
    assert aliases.artist_key("AKMU") == aliases.artist_key("악뮤") == aliases.artist_key("AKMU (악뮤)") == "akmu"
    assert aliases.artist_key("Zion.T") == "ziont"  # no form: its own fold
    assert song_key("아이유 (IU)", "밤편지", aliases) == song_key("IU", "밤 편지", aliases)
    [iu] = [g for g in aliases.groups if g.artist_key == "iu"]
    assert iu.name == "아이유 (IU)" and iu.evidence == ("아이유 (IU)",) and iu.rows == 9


def test_ambiguous_or_contradicted_forms_teach_nothing_and_say_why():
    aliases = learn_aliases(rows(
        ("나연 (TWICE)", "pop", 2), ("TWICE (트와이스)", "tt", 5),  # TWICE paired with two names
        ("나르샤 (Brown Eyed Girls)", "나비", 2), ("Brown Eyed Girls", "abracadabra", 9),  # a group beside a member
    ))
    assert aliases.groups == ()
    assert aliases.rejected["나연 (TWICE)"].startswith("ambiguous")
    assert aliases.rejected["나르샤 (Brown Eyed Girls)"].startswith("no shared song")
    assert aliases.artist_key("Brown Eyed Girls") == "browneyedgirls"


def test_rows_sharing_a_song_id_or_a_key_are_one_song_transitively():
    keys = song_keys([
        ("1", "iu|밤편지", 5), ("7", "iu|밤편지", 1),  # a re-release: another id, the same key
        ("7", "아이유|밤편지", 1),  # an unlearned alias spelling with the re-release id
        ("3", "iu|좋은날", 2), (None, "iu|좋은날live", 1),
    ])
    assert keys["iu|밤편지"] == keys["아이유|밤편지"] == "iu|밤편지"  # the key with most rows names the song
    assert keys["iu|좋은날"] == "iu|좋은날" and keys["iu|좋은날live"] == "iu|좋은날live"


def test_pair_scores_count_pairs_of_items():
    # true songs A A A B; predicted x x y y: one right pair of 3 true, one of 2 predicted
    scores = pair_scores([("x", "A"), ("x", "A"), ("y", "A"), ("y", "B")])
    assert (scores.precision, round(scores.recall, 4)) == (0.5, 0.3333)
    assert pair_scores([("x", "A"), ("y", "B")]).precision == 1.0  # no pairs: nothing wrong


def test_catalogue_scores_over_rows_and_spellings():
    truth = truth_by_row({"rows": [{"plm_seq": 1, "position": p, "canonical_song_key": k}
                                   for p, k in ((1, "IU - 밤편지"), (2, "IU - 밤편지"), (3, "IU - 밤편지"))]})
    catalogue = [
        {"plm_seq": 1, "position": 1, "song_key": "iu|밤편지", "artist_name": "IU", "song_title": "밤편지"},
        {"plm_seq": 1, "position": 2, "song_key": "iu|밤편지", "artist_name": "IU", "song_title": "밤편지"},
        {"plm_seq": 1, "position": 3, "song_key": "아이유|밤편지", "artist_name": "아이유", "song_title": "밤편지"},
        {"plm_seq": 9, "position": 1, "song_key": "x|y", "artist_name": "x", "song_title": "y"},
    ]
    scores = score_catalogue(catalogue, truth)
    assert scores.unmatched_rows == 1 and scores.matched_rows == 3
    assert scores.rows.precision == 1.0 and round(scores.rows.recall, 4) == 0.3333
    assert scores.spellings.items == 2 and scores.spellings.recall == 0.0
    with pytest.raises(ValueError, match="no 'rows' list"):
        truth_by_row({})
