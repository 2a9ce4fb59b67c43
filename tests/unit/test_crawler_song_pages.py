"""Song pages (/detail/songInfo) on saved pages: fields, the genre set, and every way a page can be wrong.

Expected values come from tests/fixtures/genie/expected_songs.json, written from the demo
catalogue when the pages were saved (make_song_fixtures.py), never from the parser.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crawlers import normalize, parsing
from crawlers.items import SongPage
from crawlers.pipelines import ValidatePipeline

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "genie"
EXPECTED = json.loads((FIXTURES / "expected_songs.json").read_text(encoding="utf-8"))
DEMO = "http://127.0.0.1:8800"


def parse_typed(name: str, song_id: str) -> dict:
    body = (FIXTURES / name).read_bytes()
    parsing.check_complete(body)
    song = parsing.parse_song_info(body, f"{DEMO}/detail/songInfo?xgnm={song_id}")
    song["fetched_at"] = "2026-01-01T00:00:00+00:00"
    normalize.normalize_song_info(song, "test-run")
    return song


@pytest.mark.parametrize("name", ["demo_song_info.html", "demo_song_info_pop.html"])
def test_a_song_page_gives_its_fields_and_genres_as_a_set(name):
    want = EXPECTED[name]
    song = parse_typed(name, want["song_id"])
    for field in ("song_id", "title", "artist_name", "artist_id", "album_title", "album_id", "genre_text"):
        assert song[field] == want[field], field
    levels = [part.strip() for part in want["genre_text"].split(" / ")]
    assert song["genres"] == levels  # split on Genie's ' / ', a name like 블루스/포크 kept whole
    assert ValidatePipeline().process_item(SongPage(song=song, http_status=200, body=b"")).song is song


def test_a_genre_name_with_a_slash_stays_whole_and_the_levels_split():
    song = parse_typed("demo_song_info.html", EXPECTED["demo_song_info.html"]["song_id"])
    assert song["genre_text"] == "POP / 블루스/포크" and song["genres"] == ["POP", "블루스/포크"]


def test_a_page_without_a_genre_item_is_an_answer_with_no_genres():
    want = EXPECTED["demo_song_info.html"]
    song = parse_typed("demo_song_info_no_genre.html", want["song_id"])
    assert song["genre_text"] is None and song["genres"] == []
    assert song["title"] == want["title"]


def test_a_truncated_song_page_is_rejected_with_a_reason():
    with pytest.raises(parsing.PageError, match="truncated page"):
        parse_typed("demo_song_info_truncated.html", "1")


def test_genies_no_such_song_page_is_not_found_not_a_quarantine():
    with pytest.raises(parsing.SongNotFound, match="not found"):
        parse_typed("demo_song_not_found.html", "1")


def test_a_page_of_another_shape_is_quarantined_with_the_missing_selector():
    with pytest.raises(parsing.PageError, match="no song info block"):
        parsing.parse_song_info(b"<html><body><h2 class='name'>x</h2></body></html>", f"{DEMO}/detail/songInfo?xgnm=1")


def test_an_invalid_song_row_becomes_a_quarantined_song_page():
    song = parse_typed("demo_song_info_pop.html", EXPECTED["demo_song_info_pop.html"]["song_id"])
    song["song_id"] = None  # the schema requires it
    out = ValidatePipeline().process_item(SongPage(song=song, http_status=200, body=b"<html/>", attempt=1))
    assert out.kind == "song" and out.reason.startswith("invalid song page song_id")
