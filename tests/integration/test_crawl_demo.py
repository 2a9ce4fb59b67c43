"""Real crawls (Scrapy subprocess) of the tiny demo site: faults, refresh, resume, bronze loading.

Each test starts its own demo site on a free port, crawls it with crawlers.run.run_crawl
(the Scrapy subprocess that crawlers.run.crawl, the CLI and Airflow run) and checks the result
against the site's ground truth.
"""

from __future__ import annotations

import json
import signal
import socket
import time
from pathlib import Path

import pytest

from core import settings
from core.runs import RunPartition
from crawlers.bronze import load_run
from crawlers.output import read_rows
from crawlers.run import run_crawl, start_crawl
from crawlers.state import build_state, write_state
from demo_site.faults import Fault, FaultPlan
from demo_site.server import DemoSite
from schemas import bronze
from warehouse import delta

pytestmark = pytest.mark.timeout(180)

# Fast and deterministic for a local site: no cache, no throttling, short timeouts.
FAST = {
    "HTTPCACHE_ENABLED": False,
    "AUTOTHROTTLE_ENABLED": False,
    "DOWNLOAD_TIMEOUT": 1.5,
    "RETRY_TIMES": 2,
    "RETRY_BACKOFF_BASE_S": 0.05,
    "RETRY_AFTER_MAX_S": 5,
    "LOG_LEVEL": "INFO",
}
# Every fault the demo site can plant, each on one playlist (tiny, seed 7: ids 3 and 20 are gaps).
FAULTS = {
    4: "burst_500", 5: "burst_503", 6: Fault("rate_limit_429", failures=1, retry_after=2), 7: "truncated_html",
    8: "missing_title", 9: "missing_song_table", 10: "persistent_500", 11: Fault("timeout", delay_s=4),
    12: "cover_not_image", 13: "cover_404", 14: "redirect", 15: Fault("slow", delay_s=0.5),
}
PARSED_OUTCOMES = {"item", "item_after_retry", "item_bad_cover"}
FAULTS_RUN = RunPartition.parse("20261116T000000Z")
REV0, REV1 = RunPartition.parse("20261116T000000Z"), RunPartition.parse("20261117T000000Z")
RESUMED = RunPartition.parse("20261116T010000Z")
IDEM = RunPartition.parse("20261116T020000Z")
DOWN = RunPartition.parse("20261116T030000Z")
UNREACHABLE = RunPartition.parse("20261116T040000Z")


def rows(run_dir: Path, table) -> list[dict]:
    return list(read_rows(run_dir / f"{table.name}.jsonl"))


def outcomes_by_plm_seq(run_dir: Path) -> dict[int, str]:
    out: dict[int, str] = {}
    for r in rows(run_dir, bronze.CRAWL_FAILURES):
        if r["kind"] == "detail":
            out[r["plm_seq"]] = "failed"
    for r in rows(run_dir, bronze.CRAWL_QUARANTINE):
        out[r["plm_seq"]] = "quarantine"
    for r in rows(run_dir, bronze.PLAYLISTS):
        out[r["plm_seq"]] = "parsed"
    return out


def assert_books_balance(stats: dict) -> None:
    assert stats["requested"] == stats["parsed"] + stats["quarantined"] + stats["failed"]


def partition_rows(table, partition: RunPartition) -> int:
    """Rows of one run's partition of a bronze table (what load_run loaded)."""
    return delta.read(table, filters=[("run_key", "=", partition.run_key)]).num_rows


def test_fault_injected_crawl_matches_ground_truth(home):
    with DemoSite(seed=7, scale="tiny", faults=FaultPlan(FAULTS, hang_seconds=4), port=0) as site:
        result = run_crawl(site.base_url, FAULTS_RUN, extra_settings=FAST, timeout_s=150)
        truth = site.ground_truth()
        served = site.request_log.paths()
    # robots.txt was read and obeyed (the maker links point into Disallow: /search/).
    assert "/robots.txt" in served
    assert not [p for p in served if p.startswith(tuple(truth["robots"]["disallowed_prefixes"]))]
    stats = result.stats
    assert stats["status"] == "finished" and stats["mode"] == "full"
    assert_books_balance(stats)
    assert stats["requested"] == truth["counts"]["max_plm_seq"]  # the id walk asks for every id once

    got = outcomes_by_plm_seq(result.run_dir)
    assert len(got) == stats["requested"]  # exactly one outcome per requested page
    for playlist in truth["playlists"]:
        expected = playlist["expected_outcome"]
        want = "parsed" if expected in PARSED_OUTCOMES else expected
        assert got[playlist["plm_seq"]] == want, (playlist["plm_seq"], playlist["fault"])
    failures = {r["plm_seq"]: r for r in rows(result.run_dir, bronze.CRAWL_FAILURES) if r["kind"] == "detail"}
    for gap in truth["missing_plm_seqs"]["plm_seqs"]:
        assert failures[gap]["reason"].startswith("not found")
    assert failures[10]["http_status"] == 500 and failures[10]["retries"] == 2
    assert failures[11]["reason"].startswith("timeout")

    # Quarantined pages keep their raw body, with a one-line reason.
    quarantine = {r["plm_seq"]: r for r in rows(result.run_dir, bronze.CRAWL_QUARANTINE)}
    assert quarantine[7]["reason"].startswith("truncated page")
    assert quarantine[8]["reason"].startswith("missing title")
    assert quarantine[9]["reason"].startswith("no song table")
    for r in quarantine.values():
        assert (home / r["raw_path"]).read_bytes().startswith(b"<!DOCTYPE html>")

    # Bad covers are recorded and their playlists kept with the cover status.
    covers = {r["plm_seq"]: r for r in rows(result.run_dir, bronze.COVERS)}
    playlists = {r["plm_seq"]: r for r in rows(result.run_dir, bronze.PLAYLISTS)}
    assert covers[12]["status"] == "not_image" and "not an image" in covers[12]["error"]
    assert covers[13]["status"] == "download_failed" and covers[13]["error"] == "HTTP 404"
    assert playlists[12]["cover_status"] == "not_image" and playlists[13]["cover_status"] == "download_failed"
    ok = [c for c in covers.values() if c["status"] == "ok"]
    assert len(ok) == stats["covers_ok"] == len(covers) - 2
    for c in ok[:5]:
        stored = home / c["path"]
        assert stored.name.startswith(c["cover_sha1"]) and stored.stat().st_size == c["bytes"]
    assert any(r["kind"] == "cover" and r["plm_seq"] == 13 for r in rows(result.run_dir, bronze.CRAWL_FAILURES))

    # The redirected page is booked under the URL that was asked for.
    assert playlists[14]["source_url"].endswith("detailView?plmSeq=14")
    # 429 answered with Retry-After: 2 was waited out (by the middleware's count, not by a clock).
    scrapy_stats = json.loads((result.run_dir / "crawl_stats.json").read_text())
    assert scrapy_stats["genie/retry_after/count"] >= 1
    assert scrapy_stats["genie/retry_after/wait_s"] >= 2
    assert stats["retries"] >= 2 + 2 + 1 + 2 + 2  # bursts, 429, persistent 500, timeout


def test_refresh_fetches_only_new_and_changed_playlists_and_lands_in_bronze(home):
    s = settings.load()
    with DemoSite(seed=7, scale="tiny", port=0) as site:
        first = run_crawl(site.base_url, REV0, extra_settings=FAST, timeout_s=120)
        assert first.stats["status"] == "finished"
        load_run(first.run_dir, REV0.run_key)
        state_path = write_state(build_state(), s.crawl_state_dir / "state.json")

        site.set_revision(1)
        site.request_log.clear()
        second = run_crawl(site.base_url, REV1, state_path=state_path, extra_settings=FAST, timeout_s=120)
        revision = site.ground_truth()["revisions"]["1"]
        fetched = {int(p.rsplit("=", 1)[1]) for p in site.request_log.paths("/playlist/detailView")}

    stats = second.stats
    assert stats["mode"] == "incremental" and stats["status"] == "finished"
    assert fetched == set(revision["new"]) | set(revision["changed"])
    assert stats["requested"] == stats["parsed"] == len(fetched)
    assert stats["unchanged"] == first.stats["parsed"] - len(revision["changed"])
    assert_books_balance(stats)

    loaded = load_run(second.run_dir, REV1.run_key)
    assert "bronze.playlists" in loaded and partition_rows(bronze.PLAYLISTS, REV1) == len(fetched)
    table = delta.read(s.delta_path("bronze", "playlists"))
    by_run: dict[str, set[int]] = {}
    for row in table.select(["run_key", "plm_seq"]).to_pylist():
        by_run.setdefault(row["run_key"], set()).add(row["plm_seq"])
    assert by_run[REV1.run_key] == fetched
    assert len(by_run[REV0.run_key]) == first.stats["parsed"]
    # A changed playlist's new content replaces nothing in rev0: each run keeps its own partition.
    changed = revision["changed"][0]
    hashes = {r["run_key"]: r["content_hash"] for r in table.to_pylist() if r["plm_seq"] == changed}
    assert hashes[REV0.run_key] != hashes[REV1.run_key]
    runs = delta.read(s.delta_path("bronze", "crawl_runs")).to_pylist()
    assert {r["run_key"]: r["mode"] for r in runs} == {REV0.run_key: "full", REV1.run_key: "incremental"}


def test_stopped_crawl_resumes_to_the_full_set(home, tmp_path):
    jobdir = tmp_path / "job"
    slow = {**FAST, "CONCURRENT_REQUESTS": 2, "CONCURRENT_REQUESTS_PER_DOMAIN": 2}
    with DemoSite(seed=7, scale="tiny", port=0, latency_ms=80) as site:
        proc, run_dir = start_crawl(site.base_url, RESUMED, jobdir=jobdir, extra_settings=slow)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            if site.request_log.count("/playlist/detailView", status=200) >= 10:
                break
            time.sleep(0.05)
        assert proc.poll() is None, "the crawl ended before it could be stopped"
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=60) == 0
        stopped = json.loads((run_dir / "crawl_runs.jsonl").read_text())
        part_one = {r["plm_seq"] for r in rows(run_dir, bronze.PLAYLISTS)}

        resumed = run_crawl(site.base_url, RESUMED, jobdir=jobdir, extra_settings=slow, timeout_s=120)
        detail_paths = site.request_log.paths("/playlist/detailView")
        expected = set(site.catalogue.playlists)

    assert stopped["status"] == "partial" and 0 < len(part_one) < len(expected)
    assert resumed.run_dir == run_dir and resumed.stats["status"] == "finished"
    union = [r["plm_seq"] for r in rows(run_dir, bronze.PLAYLISTS)]
    assert set(union) == expected
    assert len(detail_paths) == len(set(detail_paths))  # nothing fetched twice across the stop
    assert resumed.stats["parsed"] == len(expected)
    assert_books_balance(resumed.stats)


def _partition_counts(partition: RunPartition) -> dict[str, int]:
    return {table.name: partition_rows(table, partition) for table in bronze.CRAWL_TABLES}


def _bronze_snapshot(drop: tuple[str, ...] = ()) -> dict[str, list[dict]]:
    s = settings.load()
    out = {}
    for table in bronze.CRAWL_TABLES:
        data = delta.read(s.delta_path("bronze", table.name)).sort_by([(k, "ascending") for k in table.key])
        out[table.name] = [{k: v for k, v in r.items() if k not in drop} for r in data.to_pylist()]
    return out


def test_loading_a_run_twice_and_recrawling_it_change_nothing(home):
    with DemoSite(seed=7, scale="tiny", port=0) as site:
        result = run_crawl(site.base_url, IDEM, max_playlists=12, extra_settings=FAST, timeout_s=120)
        load_run(result.run_dir, IDEM.run_key)
        first = _partition_counts(IDEM)
        after_first = _bronze_snapshot()
        load_run(result.run_dir, IDEM.run_key)
        second = _partition_counts(IDEM)
        after_second = _bronze_snapshot()
        # Re-running the same run key without JOBDIR replaces that run's output.
        again = run_crawl(site.base_url, IDEM, max_playlists=12, extra_settings=FAST, timeout_s=120)
        load_run(again.run_dir, IDEM.run_key)
        third = _partition_counts(IDEM)

    assert result.stats["requested"] == 12
    assert first == second == third
    assert first["playlists"] > 0 and first["playlist_songs"] > first["playlists"]
    assert after_first == after_second
    for table in bronze.CRAWL_TABLES:
        keys = [tuple(r[k] for k in table.key) for r in after_second[table.name]]
        assert len(keys) == len(set(keys)), f"duplicate keys in {table.name}"
    # The re-crawl gives the same rows; only the clock columns differ.
    clock = ("fetched_at", "failed_at", "started_at", "finished_at", "duration_s", "bytes", "retries")
    recrawled = _bronze_snapshot(drop=clock)
    assert recrawled == {name: [{k: v for k, v in r.items() if k not in clock} for r in table_rows]
                         for name, table_rows in after_second.items()}
    assert len(list(settings.load().crawl_dir.glob(f"dt=*/run_key={IDEM.run_key}"))) == 1


def test_a_site_that_stops_answering_spends_the_failure_budget(home):
    plan = FaultPlan(rate=1.0, seed=7, weights={"persistent_500": 1.0})
    with DemoSite(seed=7, scale="tiny", faults=plan, port=0) as site:
        # One request at a time: the budget must run out while most pages are still queued
        # (with many in flight, a tiny site could be served whole before the spider closes).
        one_at_a_time = {"CONCURRENT_REQUESTS": 1, "CONCURRENT_REQUESTS_PER_DOMAIN": 1}
        result = run_crawl(site.base_url, DOWN,
                           extra_settings={**FAST, **one_at_a_time, "RETRY_TIMES": 0, "GENIE_FAILURE_BUDGET": 5},
                           timeout_s=120)
        served = site.request_log.count("/playlist/detailView")
    stats = result.stats
    assert stats["status"] == "partial" and stats["parsed"] == 0
    assert_books_balance(stats)
    failures = [r for r in rows(result.run_dir, bronze.CRAWL_FAILURES) if r["kind"] == "detail"]
    stopped = [r for r in failures if r["reason"].startswith("not fetched: crawl stopped early (failure_budget)")]
    assert stopped and served < stats["requested"]  # the rest was never asked for, and says so


def test_an_unreachable_site_gives_a_failed_run_with_the_reason(home):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = run_crawl(f"http://127.0.0.1:{port}", UNREACHABLE, extra_settings={**FAST, "RETRY_TIMES": 1},
                       timeout_s=60)
    assert result.stats["status"] == "failed" and result.stats["requested"] == 0
    (failure,) = rows(result.run_dir, bronze.CRAWL_FAILURES)
    assert failure["kind"] == "listing" and failure["reason"].startswith("connection refused after 1 retries")
    load_run(result.run_dir, UNREACHABLE.run_key)
    assert partition_rows(bronze.CRAWL_FAILURES, UNREACHABLE) == 1
