"""The crawl's books: every detail page requested ends as exactly one outcome.

``CrawlAccounting`` (a Scrapy extension) records which detail pages were
requested (``request_scheduled``), which known playlists were skipped as
unchanged (the spider's ``playlist_unchanged`` signal), how many listing pages
came back, and at the end writes the run's one ``crawl_runs`` row. Outcomes
(parsed / quarantined / failed) are read back from the run's JSONL files, so
the row describes what was really written, also across a stop and a resume
(the ledger is kept in JOBDIR).

Invariant for a finished run: requested == parsed + quarantined + failed. A
requested page with no outcome at the end (the crawl was stopped by its
error budget, or a request was dropped) is written as a failure with the
reason; only a stop that can be resumed from JOBDIR leaves pages pending
(status ``partial``).
"""

from __future__ import annotations

import json
import logging
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from scrapy import signals
from scrapy.utils.defer import deferred_from_coro
from scrapy.utils.job import job_dir

from crawlers.items import FetchFailure, PlaylistPage, QuarantinedPage
from crawlers.output import append_rows, is_resuming, read_rows, table_file, write_rows
from schemas import bronze

logger = logging.getLogger(__name__)

# Sent by the spider: a known playlist whose listing entry shows no change (kwarg plm_seq).
playlist_unchanged = object()

LEDGER_FILE = "genie_ledger.json"
STATS_FILE = "crawl_stats.json"  # Scrapy's stats of the run's last part


def _utc(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).isoformat()


class CrawlAccounting:
    def __init__(self, crawler) -> None:
        self.crawler = crawler
        self.jobdir = job_dir(crawler.settings)
        self.requested: dict[int, str] = {}
        self.unchanged: set[int] = set()
        self.listing_pages = 0
        self.carried = {"retries": 0, "bytes": 0, "duration_s": 0.0}  # from earlier parts of a resumed job
        self.started_at = time.time()
        self.part_started = time.monotonic()
        # Error budget for a site that stopped answering: this many detail pages in a row
        # failing at the HTTP or network level stop the crawl (reason "failure_budget").
        self.failure_budget = crawler.settings.getint("GENIE_FAILURE_BUDGET", 0)
        self.failures_in_a_row = 0
        self.stopping = False

    @classmethod
    def from_crawler(cls, crawler):
        ext = cls(crawler)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(ext.request_scheduled, signal=signals.request_scheduled)
        crawler.signals.connect(ext.response_received, signal=signals.response_received)
        crawler.signals.connect(ext.on_unchanged, signal=playlist_unchanged)
        crawler.signals.connect(ext.item_scraped, signal=signals.item_scraped)
        return ext

    # --- ledger kept across a stop / resume ---------------------------------------------
    @property
    def ledger_path(self) -> Path | None:
        return Path(self.jobdir) / LEDGER_FILE if self.jobdir else None

    def spider_opened(self, spider) -> None:
        if self.ledger_path and is_resuming(self.jobdir) and self.ledger_path.exists():
            saved = json.loads(self.ledger_path.read_text(encoding="utf-8"))
            self.requested = {int(k): v for k, v in saved["requested"].items()}
            self.unchanged = set(saved["unchanged"])
            self.listing_pages = saved["listing_pages"]
            self.carried = saved["carried"]
            self.started_at = saved["started_at"]
            logger.info("resuming crawl: %d detail pages requested before", len(self.requested))

    def _save_ledger(self, part: dict[str, Any]) -> None:
        if not self.ledger_path:
            return
        self.ledger_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.ledger_path.with_suffix(".tmp")
        tmp.write_text(
            json.dumps(
                {
                    "requested": {str(k): v for k, v in self.requested.items()},
                    "unchanged": sorted(self.unchanged),
                    "listing_pages": self.listing_pages,
                    "carried": part,
                    "started_at": self.started_at,
                }
            ),
            encoding="utf-8",
        )
        tmp.replace(self.ledger_path)

    # --- signals -------------------------------------------------------------------------
    def request_scheduled(self, request, spider=None) -> None:
        if request.meta.get("kind") == "detail":
            self.requested.setdefault(int(request.meta["plm_seq"]), request.url)

    def response_received(self, response, request, spider=None) -> None:
        if request.meta.get("kind") == "listing":
            self.listing_pages += 1

    def on_unchanged(self, plm_seq: int, **_: Any) -> None:
        self.unchanged.add(int(plm_seq))

    def item_scraped(self, item, spider=None, **_: Any) -> None:
        if isinstance(item, FetchFailure):
            if item.kind != "detail" or item.http_status == 200:  # a "not found" page is an answer
                return
            self.failures_in_a_row += 1
        elif isinstance(item, (PlaylistPage, QuarantinedPage)) and getattr(item, "kind", "detail") == "detail":
            self.failures_in_a_row = 0
        if self.failure_budget and self.failures_in_a_row >= self.failure_budget and not self.stopping:
            self.stopping = True
            logger.error("%d detail pages in a row failed: stopping the crawl", self.failures_in_a_row)
            self.crawler.stats.set_value("genie/failure_budget_spent", True)
            deferred_from_coro(self.crawler.engine.close_spider_async(reason="failure_budget"))

    def spider_closed(self, spider, reason: str) -> None:
        stats = self.crawler.stats
        run_dir = Path(spider.out_dir)
        outcomes = self.read_outcomes(run_dir)
        requested_urls = {url: plm_seq for plm_seq, url in self.requested.items()}
        missing = [url for url in requested_urls if url not in outcomes]
        resumable = bool(self.jobdir) and reason != "finished"
        if missing and not resumable:
            why = (
                "no outcome recorded (request dropped)"
                if reason == "finished"
                else f"not fetched: crawl stopped early ({reason})"
            )
            now = datetime.now(timezone.utc).isoformat()
            rows = [
                {
                    "crawl_run_id": spider.run_id,
                    "url": url,
                    "plm_seq": requested_urls[url],
                    "kind": "detail",
                    "http_status": None,
                    "reason": why,
                    "retries": 0,
                    "failed_at": now,
                }
                for url in missing
            ]
            append_rows(table_file(run_dir, bronze.CRAWL_FAILURES.name), rows)
            for url in missing:
                outcomes[url] = "failed"
            if reason == "finished":
                logger.error("%d requested detail pages had no outcome; recorded as failures", len(missing))
        counts = {"parsed": 0, "quarantined": 0, "failed": 0}
        for url in requested_urls:
            if url in outcomes:
                counts[outcomes[url]] += 1
        part = {
            "retries": self.carried["retries"] + int(stats.get_value("retry/count", 0)),
            "bytes": self.carried["bytes"] + int(stats.get_value("downloader/response_bytes", 0)),
            "duration_s": self.carried["duration_s"] + (time.monotonic() - self.part_started),
        }
        if reason != "finished":
            status = "partial"
        elif stats.get_value("genie/newest_listing_failed"):
            status = "failed"
        else:
            status = "finished"
        covers = self.read_covers(run_dir)
        row = {
            "crawl_run_id": spider.run_id,
            "base_url": spider.base_url,
            "mode": spider.mode,
            "status": status,
            "started_at": _utc(self.started_at),
            "finished_at": _utc(time.time()),
            "duration_s": round(part["duration_s"], 3),
            "requested": len(self.requested),
            "parsed": counts["parsed"],
            "unchanged": len(self.unchanged - set(self.requested)),
            "quarantined": counts["quarantined"],
            "failed": counts["failed"],
            "listing_pages": self.listing_pages,
            "retries": part["retries"],
            "bytes": part["bytes"],
            "covers_ok": sum(1 for s in covers.values() if s == "ok"),
            "covers_failed": sum(1 for s in covers.values() if s != "ok"),
            "items_songs": self.count_keys(run_dir, bronze.PLAYLIST_SONGS),
        }
        for key, value in row.items():
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                stats.set_value(f"genie/run/{key}", value)
        write_rows(table_file(run_dir, bronze.CRAWL_RUNS.name), [row])
        self._write_stats(run_dir, reason)
        self._save_ledger(part)
        balance = row["requested"] - row["parsed"] - row["quarantined"] - row["failed"]
        logger.info(
            "crawl %s %s: requested=%d parsed=%d quarantined=%d failed=%d unchanged=%d pending=%d",
            spider.run_id, status, row["requested"], row["parsed"], row["quarantined"],
            row["failed"], row["unchanged"], balance,
        )

    def _write_stats(self, run_dir: Path, reason: str) -> None:
        """Scrapy's stats of this part of the run, for debugging (retries by reason, Retry-After waits...)."""
        stats = {k: (v.isoformat() if isinstance(v, datetime) else v)
                 for k, v in self.crawler.stats.get_stats().items()}
        stats["finish_reason"] = reason
        tmp = run_dir / (STATS_FILE + ".tmp")
        tmp.write_text(json.dumps(stats, ensure_ascii=False, indent=1, sort_keys=True, default=str), encoding="utf-8")
        tmp.replace(run_dir / STATS_FILE)

    # --- outcomes as written ---------------------------------------------------------------
    @staticmethod
    def read_outcomes(run_dir: Path) -> dict[str, str]:
        """url -> parsed | quarantined | failed for the detail pages written so far."""
        outcomes: dict[str, str] = {}
        for row in read_rows(table_file(run_dir, bronze.CRAWL_FAILURES.name)):
            if row.get("kind") == "detail":
                outcomes[row["url"]] = "failed"
        for row in read_rows(table_file(run_dir, bronze.CRAWL_QUARANTINE.name)):
            outcomes[row["url"]] = "quarantined"
        for row in read_rows(table_file(run_dir, bronze.PLAYLISTS.name)):
            outcomes[row["source_url"]] = "parsed"
        return outcomes

    @staticmethod
    def read_covers(run_dir: Path) -> dict[int, str]:
        return {row["plm_seq"]: row["status"] for row in read_rows(table_file(run_dir, bronze.COVERS.name))}

    @staticmethod
    def count_keys(run_dir: Path, table) -> int:
        keys = {tuple(row.get(k) for k in table.key) for row in read_rows(table_file(run_dir, table.name))}
        return len(keys)
