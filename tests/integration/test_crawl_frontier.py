"""A crawl that never loses a playlist: real crawls (crawlers.run.crawl, Scrapy subprocess, bronze) of the
tiny demo site on 127.0.0.1.

- a 404-heavy site is not an outage (no failure_budget stop);
- ids a stopped crawl never fetched are retried by the next run and recovered;
- failed and quarantined ids are retried with attempts counted, back-off in runs and a cap.
"""

from __future__ import annotations

import pytest

from core.runs import RunPartition
from crawlers.run import CrawlIncomplete, crawl
from crawlers.state import build_state
from demo_site.faults import FaultPlan
from demo_site.server import DemoSite
from schemas import bronze
from warehouse import delta

pytestmark = pytest.mark.timeout(240)

ONE_AT_A_TIME = {"CONCURRENT_REQUESTS": 1, "CONCURRENT_REQUESTS_PER_DOMAIN": 1}
FAST = {"HTTPCACHE_ENABLED": False, "DOWNLOAD_TIMEOUT": 1.5, "RETRY_TIMES": 0}


def run_key(day: int, hour: int = 0) -> RunPartition:
    return RunPartition.parse(f"202611{day:02d}T{hour:02d}0000Z")


def rows(table, partition: RunPartition) -> list[dict]:
    return delta.read(table, filters=[("run_key", "=", partition.run_key)]).to_pylist()


def detail_failures(partition: RunPartition) -> dict[int, dict]:
    return {r["plm_seq"]: r for r in rows(bronze.CRAWL_FAILURES, partition) if r["kind"] == "detail"}


def detail_requests(site: DemoSite) -> list[int]:
    return [int(p.rsplit("=", 1)[1]) for p in site.request_log.paths("/playlist/detailView")]


@pytest.mark.parametrize("status", [404, 410])
def test_a_site_whose_low_ids_answer_404_is_not_down(home, status):
    below = 40
    with DemoSite(seed=7, scale="tiny", faults=FaultPlan.not_found_heavy(below, status=status)) as site:
        # A budget of 5 and one request at a time: before, the 5th 404 in a row stopped the crawl.
        crawled = crawl(run_key(16), site.base_url, timeout_s=120,
                        extra_settings={**FAST, **ONE_AT_A_TIME, "GENIE_FAILURE_BUDGET": 5})
        truth = site.ground_truth()
    stats = crawled.stats
    assert stats["status"] == "finished" and stats["stop_reason"] is None
    gone = set(range(1, below)) | set(truth["missing_plm_seqs"]["plm_seqs"])
    assert stats["requested"] == truth["counts"]["max_plm_seq"]
    assert stats["not_found"] == stats["failed"] == len(gone) and stats["not_fetched"] == 0
    assert stats["parsed"] == len([p for p in truth["playlists"] if p["plm_seq"] >= below])
    failures = detail_failures(run_key(16))
    assert set(failures) == gone
    assert {(r["outcome"], r["http_status"], r["reason"]) for r in failures.values()
            if r["plm_seq"] < below} == {("not_found", status, f"not found: HTTP {status}")}
    # Answers are not frontier: the next run asks for none of them again.
    state = build_state()
    assert state["frontier"] == {} and state["max_plm_seq"] == truth["counts"]["max_plm_seq"]


def test_ids_a_stopped_crawl_never_fetched_are_retried_and_recovered_by_the_next_run(home):
    first, second = run_key(16), run_key(17)
    # The walk is served newest first (one at a time): 52 ... 45 are parsed, then 44 ... 40 fail
    # and spend the budget of 5; everything below was never asked for.
    down = FaultPlan({seq: "persistent_500" for seq in range(38, 45)})
    with DemoSite(seed=7, scale="tiny", faults=down) as site:
        base_url = site.base_url
        with pytest.raises(CrawlIncomplete) as stopped:
            crawl(first, site.base_url, timeout_s=120,
                  extra_settings={**FAST, **ONE_AT_A_TIME, "GENIE_FAILURE_BUDGET": 5})
        first_requested = set(detail_requests(site))
        site.faults = FaultPlan.none()  # the site is back
        site.request_log.clear()
        again = crawl(second, site.base_url, timeout_s=120, extra_settings=FAST)
        second_requested = detail_requests(site)
        playlists = set(site.catalogue.playlists)
        max_plm_seq = site.catalogue.max_plm_seq

    (run_one,) = rows(bronze.CRAWL_RUNS, first)
    assert run_one["status"] == "partial" and run_one["stop_reason"].startswith(
        "failure_budget: 5 detail pages in a row failed, last: HTTP 500")
    assert str(stopped.value).startswith(f"crawl {first.run_key} of {base_url} stopped early (failure_budget: 5")
    assert f"{run_one['not_fetched']:,} playlists not fetched will be retried by the next run" in str(stopped.value)
    failures = detail_failures(first)
    not_fetched = {seq for seq, r in failures.items() if r["outcome"] == "not_fetched"}
    errors = {seq for seq, r in failures.items() if r["outcome"] == "error"}
    assert not_fetched and errors and run_one["parsed"] > 0
    assert not_fetched.isdisjoint(first_requested)  # really never asked
    assert all(r["attempt"] == 0 for seq, r in failures.items() if seq in not_fetched)  # no try
    assert all(r["attempt"] == 1 for seq, r in failures.items() if seq in errors)
    assert run_one["requested"] == run_one["parsed"] + run_one["failed"] == max_plm_seq

    # The next run asks for every unresolved id once, and nothing else (no walk: nothing is newer).
    stats = again.stats
    unresolved = not_fetched | errors
    assert stats["status"] == "finished" and stats["mode"] == "incremental"
    assert sorted(second_requested) == sorted(unresolved)
    assert stats["retried"] == len(unresolved) == stats["requested"]
    assert stats["recovered"] == len(unresolved & playlists) == stats["parsed"]
    parsed = {r["plm_seq"] for r in rows(bronze.PLAYLISTS, first)} | {r["plm_seq"] for r in rows(bronze.PLAYLISTS, second)}
    assert parsed == playlists  # no playlist lost
    assert build_state()["frontier"] == {}


def test_failed_and_quarantined_ids_are_retried_with_back_off_up_to_the_cap(home, monkeypatch):
    monkeypatch.setenv("SCENETUNE_CRAWL_MAX_ATTEMPTS", "3")
    faulty = {10: "persistent_500", 8: "missing_title"}  # an error and a quarantined page
    runs = [run_key(16 + i) for i in range(6)]
    seen: list[tuple[dict, list[int]]] = []
    with DemoSite(seed=7, scale="tiny", faults=FaultPlan(faulty)) as site:
        for i, partition in enumerate(runs):
            full = i == len(runs) - 1
            if full:
                site.faults = FaultPlan.none()  # fixed: the full crawl recovers the parked ids
            site.request_log.clear()
            stats = crawl(partition, site.base_url, full=full, timeout_s=120, extra_settings=FAST).stats
            seen.append((stats, [s for s in detail_requests(site) if s in faulty]))

    def attempts(partition: RunPartition) -> dict[int, int]:
        failed = {seq: r["attempt"] for seq, r in detail_failures(partition).items() if seq in faulty}
        quarantined = {r["plm_seq"]: r["attempt"] for r in rows(bronze.CRAWL_QUARANTINE, partition)}
        return {**failed, **quarantined}

    # run: 0 first try | 1 retry (attempt 2) | 2 back-off: waits one run | 3 attempt 3 = the cap
    #      4 parked: not asked, counted | 5 --full asks again and recovers
    assert [sorted(ids) for _, ids in seen] == [[8, 10], [8, 10], [], [8, 10], [], [8, 10]]
    assert [attempts(r) for r in runs[:4]] == [{8: 1, 10: 1}, {8: 2, 10: 2}, {}, {8: 3, 10: 3}]
    assert [s["retried"] for s, _ in seen] == [0, 2, 0, 2, 0, 2]
    assert [s["retry_deferred"] for s, _ in seen] == [0, 0, 2, 0, 0, 0]
    assert [s["retry_exhausted"] for s, _ in seen] == [0, 0, 0, 0, 2, 0]
    assert [s["recovered"] for s, _ in seen] == [0, 0, 0, 0, 0, 2]
    assert all(s["status"] == "finished" for s, _ in seen)
    assert seen[4][0]["requested"] == 0 and seen[4][0]["mode"] == "incremental"
    assert detail_failures(runs[3])[10]["reason"] == "HTTP 500"
    assert build_state()["frontier"] == {}
