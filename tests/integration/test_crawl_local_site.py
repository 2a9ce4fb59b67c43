"""A crawl of a site on 127.0.0.1 runs at full speed: the planted slow and hanging pages cost seconds,
not minutes (no AutoThrottle, short timeouts), with the project's own settings (no test overrides)."""

from __future__ import annotations

import time

import pytest

from core.runs import RunPartition
from crawlers.output import read_rows, table_file
from crawlers.run import crawl
from demo_site.faults import Fault, FaultPlan
from demo_site.server import DemoSite
from schemas import bronze

pytestmark = pytest.mark.timeout(120)


def test_a_loopback_site_is_crawled_without_politeness_delays(home):
    # Two pages that hang for 30 s (as on the demo site) and three slow ones.
    faults = FaultPlan({11: "timeout", 30: "timeout", 15: Fault("slow", delay_s=1.5), 16: Fault("slow", delay_s=1.5),
                        17: Fault("slow", delay_s=1.5)})
    with DemoSite(seed=7, scale="tiny", faults=faults) as site:
        started = time.monotonic()
        crawled = crawl(RunPartition.parse("20261116T000000Z"), site.base_url, timeout_s=110)
        seconds = time.monotonic() - started
        truth = site.ground_truth()
        base_url = site.base_url
    # Before: a 30 s download timeout, 3 retries and AutoThrottle made this take minutes.
    assert seconds < 30, seconds
    stats = crawled.stats
    parsed = {p["plm_seq"] for p in truth["playlists"] if p["expected_outcome"] == "item"}
    assert stats["parsed"] == len(parsed) and stats["failed"] == len(truth["missing_plm_seqs"]["plm_seqs"]) + 2
    run_dir = crawled.log_path.parent
    failures = {r["plm_seq"]: r["reason"] for r in read_rows(table_file(run_dir, bronze.CRAWL_FAILURES.name))}
    assert failures[11].startswith("timeout after 2 retries") and failures[30].startswith("timeout after 2 retries")
    log = crawled.log_path.read_text(encoding="utf-8")
    assert f"local site {base_url}" in log and "'AUTOTHROTTLE_ENABLED': False" in log
