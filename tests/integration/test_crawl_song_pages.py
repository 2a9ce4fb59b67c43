"""Song pages in real crawls of the tiny demo site: bounded per run, most listed first, books balanced,
the rest fetched by later runs, nothing fetched twice."""

from __future__ import annotations

from collections import Counter

import pytest

from core.runs import RunPartition
from crawlers.run import crawl
from demo_site.server import DemoSite
from schemas import bronze
from warehouse import delta

pytestmark = pytest.mark.timeout(240)

FAST = {"HTTPCACHE_ENABLED": False, "AUTOTHROTTLE_ENABLED": False, "DOWNLOAD_TIMEOUT": 3}
FIRST, SECOND = RunPartition.parse("20261116T000000Z"), RunPartition.parse("20261117T000000Z")
BOUND = 150


def partition(table, run: RunPartition) -> list[dict]:
    return delta.read(table, filters=[("run_key", "=", run.run_key)]).to_pylist()


def test_song_pages_are_bounded_per_run_most_listed_first_and_later_runs_fill_in(home):
    with DemoSite(seed=7, scale="tiny", port=0) as site:
        first = crawl(FIRST, site.base_url, extra_settings={**FAST, "GENIE_MAX_SONG_PAGES": BOUND}, timeout_s=200)
        listed = Counter(r["song_id"] for r in partition(bronze.PLAYLIST_SONGS, FIRST))
        stats = first.stats
        assert stats["songs_requested"] == BOUND
        assert stats["songs_requested"] == stats["songs_parsed"] + stats["songs_quarantined"] + stats["songs_failed"]
        assert stats["songs_parsed"] == BOUND  # no faults planted: every page parsed
        assert stats["songs_pending"] == len(listed) - BOUND
        pages = partition(bronze.SONGS_INFO, FIRST)
        assert len(pages) == stats["songs_parsed"]
        fetched = {p["song_id"] for p in pages}
        least_fetched = min(listed[s] for s in fetched)
        assert all(listed[s] <= least_fetched for s in set(listed) - fetched)  # the most listed went first
        truth = site.catalogue
        for page in pages[:20]:  # genres as the site shows them, split into a set
            shown = truth.pool.genie_genre(truth.song_index_for_id(page["song_id"]))
            assert page["genre_text"] == shown and page["genres"] and "/" not in page["genres"][0]

        second = crawl(SECOND, site.base_url, extra_settings={**FAST, "GENIE_MAX_SONG_PAGES": 100_000}, timeout_s=200)
    assert second.stats["mode"] == "incremental"
    again = {p["song_id"] for p in partition(bronze.SONGS_INFO, SECOND)}
    assert again == set(listed) - fetched  # the rest, and nothing twice
    assert second.stats["songs_pending"] == 0 and second.stats["songs_parsed"] == len(listed) - BOUND
