"""The crawl benchmark's baseline crawler really crawls: a tiny demo site, checked against its catalogue."""

from __future__ import annotations

import time

import pytest

from bench import baseline_crawler
from demo_site.server import DemoSite

pytestmark = pytest.mark.timeout(60)

PAGES = 12  # tiny, seed 7: id 3 is a gap (a not-found page)


def test_baseline_crawler_parses_pages_and_fetches_covers():
    with DemoSite(seed=7, scale="tiny", port=0) as site:
        result = baseline_crawler.crawl(site.base_url, PAGES)
        catalogue = site.catalogue
        expected = [seq for seq in range(1, PAGES + 1) if catalogue.get(seq) is not None]
        # The server logs a request just after sending it: give the last one a moment.
        deadline = time.monotonic() + 5
        while site.request_log.count("/Y/IMAGE/Playlist/") < len(expected) and time.monotonic() < deadline:
            time.sleep(0.01)
        cover_requests = site.request_log.count("/Y/IMAGE/Playlist/", status=200)
        detail_requests = site.request_log.count("/playlist/detailView", status=200)

    gaps = [seq for seq in range(1, PAGES + 1) if catalogue.get(seq) is None]
    assert gaps, "the range should include a not-found id"
    assert result.pages == detail_requests == PAGES
    assert [p["plm_seq"] for p in result.playlists] == expected
    assert result.problems == [(seq, "no playlist on the page") for seq in gaps]
    assert cover_requests == len(expected) and result.cover_bytes > 0

    for playlist in result.playlists:
        truth = catalogue.get(playlist["plm_seq"])
        assert playlist["title"] == truth.title
        assert playlist["tags"] == list(truth.tags)
        assert playlist["cover_url"].endswith(truth.cover_path)
        assert len(playlist["songs"]) == truth.song_count
        assert [s["title"] for s in playlist["songs"]] == [r.title for r in truth.rows]
        assert [s["artist"] for s in playlist["songs"]] == [r.artist for r in truth.rows]
        assert [(s["song_id"], s["artist_id"], s["album_id"]) for s in playlist["songs"]] == [
            (r.song_id, r.artist_id, r.album_id) for r in truth.rows
        ]
