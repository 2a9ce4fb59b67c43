"""Crawl throughput: our Scrapy crawl vs a sequential requests + BeautifulSoup crawler, same site, same run.

Both crawlers fetch detail pages plus their covers from one DemoSite (no faults)
that adds a simulated network round trip to every response (SCENETUNE_BENCH_LATENCY_MS,
default 30 ms). Politeness delays are off for both. Covers are
rendered by the demo server on first request (server CPU the real Genie spends on a
CDN long before we ask), so the covers both crawlers will fetch are rendered before
the clocks start. Ours runs as production runs it: ``crawlers.run.run_crawl`` in a
subprocess at the project's default concurrency, timed wall clock including process
start-up, writing into a throwaway SCENETUNE_HOME. The demo site is on 127.0.0.1, so the
crawl also gets LOCAL_SITE_SETTINGS (crawlers.settings.base); the download timeout stays the
production one, so that a loaded machine never turns a slow page into a failure.
"""

from __future__ import annotations

import os
import resource
import tempfile
import time
from dataclasses import dataclass

from bench import baseline_crawler
from bench.runner import Measurement
from core import settings
from core.runs import RunPartition
from crawlers.output import read_rows, table_file
from crawlers.run import run_crawl
from crawlers.settings import base as crawl_settings
from demo_site.server import DemoSite

DEFAULT_SCALE = "full"
SEED = 7
# Detail pages per scale: (ours, baseline), sized so each side runs ~15-40 s at 30 ms latency.
PAGES = {"full": (2500, 200), "demo": (1000, 100), "tiny": (50, 20)}
# Politeness off (the comparison is of crawl machinery), no HTTP cache (every page really fetched).
# Song pages off: the figure is detail pages (page + cover) per second, as the baseline crawler fetches.
NO_POLITENESS = {"AUTOTHROTTLE_ENABLED": False, "DOWNLOAD_DELAY": 0, "HTTPCACHE_ENABLED": False,
                 "DOWNLOAD_TIMEOUT": crawl_settings.DOWNLOAD_TIMEOUT, "GENIE_MAX_SONG_PAGES": 0}
# Fixed run keys: each bench crawl replaces its own partition of the throwaway home.
OURS = RunPartition.parse("20000101T000000Z")
OURS_NO_LATENCY = RunPartition.parse("20000101T000100Z")
CRAWL_TIMEOUT_S = 900


@dataclass(frozen=True)
class Timed:
    pages: int
    seconds: float
    crawler_cpu_s: float  # CPU of the crawler (child process for ours, this process for the baseline)
    server_cpu_s: float  # CPU of the demo site (threads of this process; for the baseline shared with it)

    @property
    def pages_per_s(self) -> float:
        return self.pages / self.seconds


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def warm_covers(site: DemoSite, last_plm_seq: int) -> int:
    """Render (or load from the disk cache) every cover of ids 1..last_plm_seq; returns how many."""
    warmed = 0
    for plm_seq in range(1, last_plm_seq + 1):
        playlist = site.catalogue.get(plm_seq)
        if playlist is not None:
            site.covers.cover(playlist, site.catalogue.get)
            warmed += 1
    return warmed


def crawl_ours(site: DemoSite, partition: RunPartition, pages: int) -> tuple[Timed, set[int]]:
    cpu_child, cpu_self = _children_cpu_s(), time.process_time()
    started = time.perf_counter()
    result = run_crawl(site.base_url, partition, max_playlists=pages, extra_settings=NO_POLITENESS,
                       timeout_s=CRAWL_TIMEOUT_S)
    seconds = time.perf_counter() - started
    timed = Timed(int(result.stats["requested"]), seconds,
                  _children_cpu_s() - cpu_child, time.process_time() - cpu_self)
    # Not-found ids count as failed detail pages; anything else means the figure is not a clean crawl.
    not_found = sum(1 for seq in range(1, pages + 1) if site.catalogue.get(seq) is None)
    stats = result.stats
    if (result.status != "finished" or stats["requested"] != pages or stats["failed"] != not_found
            or stats["quarantined"] or stats["covers_failed"]):
        raise RuntimeError(f"bench crawl {partition.run_key} did not run clean: {stats} (log {result.log_path})")
    fetched = {row["plm_seq"] for row in read_rows(table_file(result.run_dir, "playlists"))}
    return timed, fetched


def crawl_baseline(site: DemoSite, pages: int) -> tuple[Timed, set[int]]:
    cpu_self = time.process_time()
    started = time.perf_counter()
    result = baseline_crawler.crawl(site.base_url, pages)
    seconds = time.perf_counter() - started
    cpu = time.process_time() - cpu_self
    unexpected = [(seq, why) for seq, why in result.problems if site.catalogue.get(seq) is not None]
    if unexpected:
        raise RuntimeError(f"baseline crawl failed on existing playlists: {unexpected[:5]}")
    return Timed(result.pages, seconds, cpu, cpu), {p["plm_seq"] for p in result.playlists}


def run(scale: str) -> Measurement:
    if scale not in PAGES:
        raise SystemExit(f"bench crawl: scale must be one of {', '.join(PAGES)}, got {scale!r}")
    ours_pages, baseline_pages = PAGES[scale]
    latency = settings.load().bench_latency_ms
    s = settings.load()  # before SCENETUNE_HOME moves: the cover cache stays put between runs
    concurrency = s.crawl_concurrency
    old_home = os.environ.get("SCENETUNE_HOME")
    with tempfile.TemporaryDirectory(prefix="scenetune-bench-crawl-") as home, \
            DemoSite(seed=SEED, scale=scale, faults=None, cache_dir=s.demo_site_cache_dir,
                     latency_ms=latency) as site:
        os.environ["SCENETUNE_HOME"] = home
        try:
            warm_started = time.perf_counter()
            warmed = warm_covers(site, max(ours_pages, baseline_pages))
            warm_s = time.perf_counter() - warm_started

            ours, ours_fetched = crawl_ours(site, OURS, ours_pages)
            baseline, baseline_fetched = crawl_baseline(site, baseline_pages)
            cold = (ours_fetched | baseline_fetched) - set(range(1, max(ours_pages, baseline_pages) + 1))
            if cold:
                raise RuntimeError(f"crawlers fetched covers that were not warmed: {sorted(cold)[:10]}")

            # Same crawlers without the simulated round trip (the site reads latency_ms per response).
            site.latency_ms = 0.0
            ours_0, _ = crawl_ours(site, OURS_NO_LATENCY, ours_pages)
            baseline_0, _ = crawl_baseline(site, baseline_pages)
        finally:
            if old_home is None:
                os.environ.pop("SCENETUNE_HOME", None)
            else:
                os.environ["SCENETUNE_HOME"] = old_home

    notes = (
        f"{latency:g} ms simulated round trip on every response (SCENETUNE_BENCH_LATENCY_MS), server sockets TCP_NODELAY; "
        f"ours: crawlers.run.run_crawl subprocess at concurrency {concurrency} (SCENETUNE_CRAWL_CONCURRENCY), "
        f"AutoThrottle/DOWNLOAD_DELAY/HTTP cache off, {ours.pages} detail pages (ids 1-{ours_pages}, ~6% are "
        f"not-found ids) + covers in {ours.seconds:.1f} s wall incl. process start-up "
        f"(crawler {ours.crawler_cpu_s:.1f} CPU-s, demo server {ours.server_cpu_s:.1f} CPU-s, 2 cores shared); "
        f"baseline: sequential requests.Session + BeautifulSoup(html.parser), {baseline.pages} detail pages "
        f"+ covers in {baseline.seconds:.1f} s ({baseline.crawler_cpu_s:.1f} CPU-s crawler and server together); "
        f"{warmed} covers pre-rendered untimed ({warm_s:.0f} s) so neither pays the server's render time. "
        f"At 0 ms latency: ours {ours_0.pages_per_s:.1f} pages/s, baseline {baseline_0.pages_per_s:.1f} pages/s "
        f"({ours_0.pages_per_s / baseline_0.pages_per_s:.1f}×)."
    )
    return Measurement(
        metric=f"detail pages per second (page + cover), {scale}-scale demo site, {latency:g} ms simulated latency",
        unit="pages/s",
        value=ours.pages_per_s,
        baseline=baseline.pages_per_s,
        scale=scale,
        notes=notes,
    )
