"""The books agree: every counter of bronze.crawl_runs equals the bronze rows behind it.

Two real crawls (crawlers.run.crawl) of the tiny demo site with every planted fault, a page
without a cover and not-found ids; the second, after the faults are fixed, retries and recovers.
"""

from __future__ import annotations

import pytest

from core.runs import RunPartition
from crawlers.run import crawl
from demo_site.faults import Fault, FaultPlan
from demo_site.server import DemoSite
from schemas import bronze
from warehouse import delta

pytestmark = pytest.mark.timeout(240)

FAST = {"HTTPCACHE_ENABLED": False, "DOWNLOAD_TIMEOUT": 1.5, "RETRY_TIMES": 2, "RETRY_AFTER_MAX_S": 3}
FAULTS = {
    4: "burst_500", 5: "burst_503", 6: "rate_limit_429", 7: "truncated_html", 8: "missing_title",
    9: "missing_song_table", 10: "persistent_500", 11: Fault("timeout", delay_s=3), 12: "cover_not_image",
    13: "cover_404", 14: "redirect", 15: Fault("slow", delay_s=0.3), 16: "no_cover_meta",
}
FIRST, SECOND = RunPartition.parse("20261116T000000Z"), RunPartition.parse("20261117T000000Z")


def partition(table, run: RunPartition) -> list[dict]:
    return delta.read(table, filters=[("run_key", "=", run.run_key)]).to_pylist()


def unresolved_after(run: RunPartition) -> set[int]:
    """Ids the run left without an answer, read from its rows (not from crawl_runs)."""
    failed = {r["plm_seq"] for r in partition(bronze.CRAWL_FAILURES, run)
              if r["kind"] == "detail" and r["outcome"] != "not_found"}
    quarantined = {r["plm_seq"] for r in partition(bronze.CRAWL_QUARANTINE, run) if r["kind"] == "detail"}
    return failed | quarantined


def assert_books(run: RunPartition, retried_ids: set[int], listing_requests: int) -> dict:
    (stats,) = partition(bronze.CRAWL_RUNS, run)
    playlists = partition(bronze.PLAYLISTS, run)
    failures = partition(bronze.CRAWL_FAILURES, run)
    detail_failures = [r for r in failures if r["kind"] == "detail"]
    quarantine = [r for r in partition(bronze.CRAWL_QUARANTINE, run) if r["kind"] == "detail"]
    covers = partition(bronze.COVERS, run)
    parsed_ids = {r["plm_seq"] for r in playlists}

    assert stats["requested"] == stats["parsed"] + stats["quarantined"] + stats["failed"]
    assert stats["parsed"] == len(playlists)
    assert stats["quarantined"] == len(quarantine)
    assert stats["failed"] == len(detail_failures)
    assert stats["not_found"] == sum(1 for r in detail_failures if r["outcome"] == "not_found")
    assert stats["not_fetched"] == sum(1 for r in detail_failures if r["outcome"] == "not_fetched")
    # One outcome per requested page: no id is in two of the tables.
    ids = [r["plm_seq"] for r in playlists] + [r["plm_seq"] for r in quarantine] + [r["plm_seq"] for r in detail_failures]
    assert len(ids) == len(set(ids)) == stats["requested"]

    assert len(covers) == stats["parsed"] and {r["plm_seq"] for r in covers} == parsed_ids
    assert stats["covers_ok"] == sum(1 for r in covers if r["status"] == "ok")
    assert stats["covers_missing"] == sum(1 for r in covers if r["status"] == "missing")
    failed_covers = [r for r in covers if r["status"] in ("download_failed", "not_image")]
    assert stats["covers_failed"] == len(failed_covers)
    # each failed cover URL is one failure row (a URL several playlists share is requested once)
    assert sorted(r["url"] for r in failures if r["kind"] == "cover") == sorted({r["cover_url"] for r in failed_covers})
    assert stats["covers_ok"] + stats["covers_failed"] + stats["covers_missing"] == stats["parsed"]
    assert [r["cover_status"] for r in sorted(playlists, key=lambda r: r["plm_seq"])] == [
        r["status"] for r in sorted(covers, key=lambda r: r["plm_seq"])]

    assert stats["items_songs"] == len(partition(bronze.PLAYLIST_SONGS, run))
    assert stats["retried"] == len(retried_ids)
    assert stats["recovered"] == len(retried_ids & parsed_ids)
    assert stats["retry_deferred"] == stats["retry_exhausted"] == 0
    assert stats["listing_pages"] == listing_requests
    assert stats["retries"] >= sum(r["retries"] for r in failures)
    return stats


def test_every_crawl_runs_counter_equals_its_rows(home):
    with DemoSite(seed=7, scale="tiny", faults=FaultPlan(FAULTS, hang_seconds=3)) as site:
        crawl(FIRST, site.base_url, timeout_s=150, extra_settings=FAST)
        listings_first = site.request_log.count("/playlist/popular") + site.request_log.count("/playlist/tags")
        site.faults = FaultPlan({16: "no_cover_meta"})  # fixed, except the page that names no cover
        site.request_log.clear()
        crawl(SECOND, site.base_url, timeout_s=150, extra_settings=FAST)
        listings_second = site.request_log.count("/playlist/popular") + site.request_log.count("/playlist/tags")
        missing = site.catalogue.missing_plm_seqs

    one = assert_books(FIRST, set(), listings_first)
    # Every kind of outcome really happened, so every counter was tested with something to count.
    assert one["quarantined"] == 3 and one["not_found"] == len(missing) and one["failed"] == len(missing) + 2
    assert one["covers_missing"] == 1 and one["covers_failed"] == 2 and one["covers_ok"] > 0
    assert one["status"] == "finished" and one["mode"] == "full"

    retried = unresolved_after(FIRST)
    assert retried == {7, 8, 9, 10, 11}
    two = assert_books(SECOND, retried, listings_second)
    assert two["mode"] == "incremental" and two["recovered"] == 5 and two["unchanged"] == one["parsed"]
