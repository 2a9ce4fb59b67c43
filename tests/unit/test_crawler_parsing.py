"""The Genie parser on saved pages: demo-site pages of every kind and a hand-written real-markup page.

Expected values come from tests/fixtures/genie/expected.json, written from the demo
catalogue when the pages were saved (make_fixtures.py), never from the parser.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crawlers import normalize, parsing
from crawlers.items import PlaylistPage
from crawlers.pipelines import COVER_FIELDS, ValidatePipeline

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "genie"
EXPECTED = json.loads((FIXTURES / "expected.json").read_text(encoding="utf-8"))
DEMO = "http://127.0.0.1:8800"


def page(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def parse_typed(name: str, plm_seq: int, base: str = DEMO) -> tuple[dict, list[dict]]:
    """Parse a saved detail page and type it as the pipelines do."""
    body = page(name)
    parsing.check_complete(body)
    parsed = parsing.parse_detail(body, f"{base}/playlist/detailView?plmSeq={plm_seq}")
    playlist, songs = parsed["playlist"], parsed["songs"]
    playlist["fetched_at"] = "2026-01-01T00:00:00+00:00"
    normalize.normalize_page(playlist, songs, "test-run")
    return playlist, songs


def validation_error(playlist: dict, songs: list[dict]) -> str | None:
    return ValidatePipeline().check(PlaylistPage(playlist=playlist, songs=songs, http_status=200, body=b""))


def test_complete_demo_page_matches_the_catalogue():
    want = EXPECTED["complete"]
    playlist, songs = parse_typed("demo_detail_complete.html", want["plm_seq"])
    for field in ("plm_seq", "title", "subtitle", "maker_name", "maker_id", "song_count", "view_count",
                  "like_count", "tags", "cover_url"):
        assert playlist[field] == want[field], field
    got = [{k: s[k] for k in want["songs"][0]} for s in songs]
    assert got == want["songs"]
    assert playlist["content_hash"] == normalize.content_hash(want["title"], want["tags"], want["song_ids"])
    assert validation_error(playlist, songs) is None
    assert all(s["album_art_url"].startswith("http://127.0.0.1:8800/Y/IMAGE/IMG_ALBUM/") for s in songs)


@pytest.mark.parametrize(
    ("name", "field", "value"),
    [
        ("demo_detail_no_subtitle.html", "subtitle", None),
        ("demo_detail_no_tags.html", "tags", []),
        ("demo_detail_no_likes.html", "like_count", None),
        ("demo_detail_no_cover_meta.html", "cover_url", None),
    ],
)
def test_optional_parts_missing_give_empty_values_and_a_valid_item(name, field, value):
    want = EXPECTED["complete"]
    playlist, songs = parse_typed(name, want["plm_seq"])
    assert playlist[field] == value
    assert playlist["title"] == want["title"]
    assert len(songs) == want["song_count"]
    assert validation_error(playlist, songs) is None


def test_zero_song_playlist_is_a_valid_item():
    playlist, songs = parse_typed("demo_detail_zero_songs.html", EXPECTED["complete"]["plm_seq"])
    assert songs == [] and playlist["song_count"] == 0
    assert validation_error(playlist, songs) is None


def test_truncated_page_is_rejected_with_a_reason():
    with pytest.raises(parsing.PageError, match="truncated page"):
        parsing.check_complete(page("demo_detail_truncated.html"))
    # Read leniently anyway, its cut-off rows still fail validation.
    parsed = parsing.parse_detail(page("demo_detail_truncated.html"), f"{DEMO}/playlist/detailView?plmSeq=1")
    playlist, songs = parsed["playlist"], parsed["songs"]
    playlist["fetched_at"] = "2026-01-01T00:00:00+00:00"
    normalize.normalize_page(playlist, songs, "test-run")
    assert validation_error(playlist, songs) is not None


def test_missing_title_is_quarantined_with_the_selector_named():
    seq = EXPECTED["missing_title_plm_seq"]
    with pytest.raises(parsing.PageError, match=r"missing title \(\.info__title\)"):
        parsing.parse_detail(page("demo_detail_missing_title.html"), f"{DEMO}/playlist/detailView?plmSeq={seq}")


def test_missing_song_table_is_quarantined():
    seq = EXPECTED["missing_song_table_plm_seq"]
    with pytest.raises(parsing.PageError, match="no song table"):
        parsing.parse_detail(page("demo_detail_missing_song_table.html"), f"{DEMO}/playlist/detailView?plmSeq={seq}")


def test_not_found_page_is_recognised():
    seq = EXPECTED["not_found_plm_seq"]
    with pytest.raises(parsing.PlaylistNotFound):
        parsing.parse_detail(page("demo_detail_not_found.html"), f"{DEMO}/playlist/detailView?plmSeq={seq}")


def test_invalid_values_are_reported_by_the_schema():
    want = EXPECTED["complete"]
    playlist, songs = parse_typed("demo_detail_complete.html", want["plm_seq"])
    playlist["view_count"] = "많음"  # what normalize leaves when the number cannot be read
    assert validation_error(playlist, songs).startswith("invalid playlist view_count:")
    playlist, songs = parse_typed("demo_detail_complete.html", want["plm_seq"])
    songs[1]["song_title"] = None
    assert validation_error(playlist, songs).startswith("invalid song row 2 song_title:")
    playlist, songs = parse_typed("demo_detail_complete.html", want["plm_seq"])
    songs[2]["position"] = songs[0]["position"]
    assert "repeats position" in validation_error(playlist, songs)


def test_cover_fields_are_left_to_the_cover_pipeline():
    playlist, _ = parse_typed("demo_detail_complete.html", EXPECTED["complete"]["plm_seq"])
    assert not set(COVER_FIELDS) & set(playlist)


def test_handwritten_real_genie_page():
    playlist, songs = parse_typed("genie_real_detail_handwritten.html", 12345, base="https://www.genie.co.kr")
    assert playlist["title"] == "드라이브할 때 듣는 시티팝"
    assert playlist["maker_name"] == "DJ 지니" and playlist["maker_id"] == "DJ0001"
    assert (playlist["song_count"], playlist["view_count"], playlist["like_count"]) == (3, 53820, 1204)
    assert playlist["tags"] == ["드라이브", "밤", "시티팝"]
    assert playlist["cover_url"] == (
        "https://image.genie.co.kr/Y/IMAGE/Playlist/Channel/GENIE/PLAYLIST_20210317142500.JPG"
    )
    assert [s["song_id"] for s in songs] == ["89361869", "89361870", "89361871"]
    assert [s["position"] for s in songs] == [1, 2, 3]
    assert songs[0]["artist_id"] == "80012345" and songs[0]["album_id"] == "81234567"
    assert songs[2]["song_title"] == "밤의 드라이브 (Night Drive)"
    assert songs[2]["album_art_url"] == "https://www.genie.co.kr/resources/images/default_album.png"
    assert validation_error(playlist, songs) is None


def test_tag_index_lists_every_indexed_tag_once():
    got = parsing.parse_tag_index(page("demo_tag_index.html"))
    assert sorted(got) == sorted(tuple(t) for t in EXPECTED["tag_index"])


def test_tag_listing_entries():
    want = EXPECTED["tag_listing"]
    entries = parsing.parse_listing(page("demo_tag_listing.html"))
    assert [e["plm_seq"] for e in entries] == want["plm_seqs"]
    assert [normalize.shown_number(e["song_count"]) for e in entries] == want["song_counts"]
    for entry, tags in zip(entries, want["tags"]):
        shown = normalize.clean_tags(entry["tags"])
        assert shown and shown == tags[: len(shown)]  # listings show the first few tags


def test_newest_listing_page_and_its_pagination():
    body = page("demo_listing_newest_page2.html")
    assert parsing.newest_ids(body) == EXPECTED["newest_page2_ids"]
    links = parsing.listing_page_links(body)
    assert links and all("sortOrd=RDD" in href and "pg=" in href for href in links)


def test_handwritten_real_tag_listing():
    entries = parsing.parse_listing(page("genie_real_tag_listing_handwritten.html"))
    assert [(e["plm_seq"], normalize.shown_number(e["song_count"])) for e in entries] == [(12345, 3), (12290, 25)]
    assert normalize.clean_tags(entries[1]["tags"]) == ["드라이브", "출/퇴근길"]


def test_json_song_list_matches_the_html_rows():
    want = EXPECTED["complete"]
    songs = parsing.parse_song_list_json(page("demo_song_list.json"))
    assert [s["song_id"] for s in songs] == want["song_ids"]
    assert [s["song_title"] for s in songs] == [s["song_title"] for s in want["songs"]]
    assert [s["position"] for s in songs] == list(range(1, len(songs) + 1))


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"<html>", "not JSON"),
        (b'{"Result": {"RetCode": "E0001", "RetMsg": "x"}, "DataSet": []}', "RetCode E0001"),
        (b'{"Result": {"RetCode": "0"}}', "no DataSet"),
    ],
)
def test_bad_json_song_lists_say_why(body, reason):
    with pytest.raises(parsing.PageError, match=reason):
        parsing.parse_song_list_json(body)


# --- how a listing entry links to its playlist: every form real Genie listings use -------------
LINK_FORMS = json.loads((FIXTURES / "expected_link_forms.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    "name",
    [
        "demo_listing_newest_page1.html",  # cover links fnPlaylistDetail('N'), title links playlistLogNDetailView
        "listing_form_title_playlistLogNDetailView.html",  # only title links, real spacing ('N', 'V', 'TODAY')
        "listing_form_cover_fnPlaylistDetail.html",  # only cover links: fnPlaylistDetail('N')
        "listing_form_cover_goDetailView.html",  # only cover links: goDetailView(N)
        "listing_form_href_detailView.html",  # no onclick: href="/playlist/detailView?plmSeq=N"
    ],
)
def test_every_listing_link_form_gives_the_ids(name):
    body = page(name)
    want = LINK_FORMS["newest_page1_ids"]
    assert parsing.newest_ids(body) == want
    entries = parsing.parse_listing(body)
    assert [e["plm_seq"] for e in entries] == want
    assert all(e["title"] and e["song_count"] for e in entries)


def test_play_buttons_and_add_links_are_no_detail_links():
    body = b"""<html><body><div class="recom-wrap"><ul><li>
      <div class="item_cover"><a href="#" class="cover"><img src="x.jpg"></a>
        <a href="#" class="btn-listen" onclick="fnPlayPlaylist('77');return false;">play</a>
        <a href="#" class="all-play" onclick="javascript:allSongPlayNLog('77'); return false;">play all</a></div>
      <div class="item_info"><div class="title"><a href="/member/myPlaylist?plmSeq=77">add</a></div></div>
    </li></ul></div></body></html>"""
    assert [e["plm_seq"] for e in parsing.parse_listing(body)] == [None]
    assert parsing.newest_ids(body) == []
