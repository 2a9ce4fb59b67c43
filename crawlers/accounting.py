"""The crawl's books: every detail page requested ends as exactly one outcome.

``CrawlAccounting`` (a Scrapy extension) watches the crawl (listing pages
fetched, known playlists skipped as unchanged via the spider's
``playlist_unchanged`` signal, the failure budget) and at the end writes the
run's one ``crawl_runs`` row. Which detail pages were requested, and why, is
the spider's persisted state; outcomes (parsed / quarantined / failed) are read
back from the run's JSONL files, so every counter is the count of the rows
behind it, also across a stop and a resume (JOBDIR keeps the spider state and
this extension's ledger):

    requested = parsed + quarantined + failed          (detail pages)
    failed    = crawl_failures rows of kind detail     (not_found and not_fetched are parts of it)
    covers_ok / covers_missing = covers rows with status ok / missing
    covers_failed = covers rows whose download failed or is no image (a page without a cover URL is
                    missing, not failed); each failed cover URL is also one crawl_failures row of kind cover
    items_songs = playlist_songs rows
    retried   = requested ids that earlier runs left unresolved; recovered = those parsed now
    songs_requested = songs_parsed + songs_quarantined + songs_failed   (song pages, the same way:
              songs_info rows, crawl_quarantine / crawl_failures rows of kind song)
    songs_pending = song ids without an answer this run did not ask for (the bound, or tries used up)

A requested page (detail or song) with no outcome at the end (the crawl stopped early, or a
request was dropped) is written as a failure with outcome ``not_fetched`` and
the reason, always: the next run's frontier (crawlers.frontier) asks for it
again, and a resumed run (JOBDIR) replaces those rows with what it fetched.

The failure budget stops a crawl of a site that is down: GENIE_FAILURE_BUDGET
detail or song pages in a row failing with a sign of an outage (crawlers.items.is_outage).
A page the site answered (parsed, quarantined, not found) ends the streak.
"""

from __future__ import annotations

import json
import logging
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from scrapy import signals
from scrapy.utils.defer import deferred_from_coro
from scrapy.utils.job import job_dir

from core import files
from crawlers import genie_selectors as sel
from crawlers.items import FetchFailure, PlaylistPage, QuarantinedPage, SongPage
from crawlers.output import is_resuming, read_rows, table_file, write_rows
from schemas import bronze

logger = logging.getLogger(__name__)

# Sent by the spider: a known playlist whose listing entry shows no change (kwarg plm_seq).
playlist_unchanged = object()

PAGE_KINDS = ("detail", "song")  # pages whose every request ends as one outcome
LEDGER_FILE = "genie_ledger.json"
STATS_FILE = "crawl_stats.json"  # Scrapy's stats of the run's last part
# Finish reasons of Scrapy, said in words for crawl_runs.stop_reason.
STOP_REASONS = {
    "shutdown": "shutdown: the crawl was interrupted (Ctrl-C / SIGTERM)",
    "closespider_errorcount": "closespider_errorcount: too many errors in the spider's callbacks (see the log)",
    "closespider_timeout": "closespider_timeout: the crawl ran out of time",
}


def _utc(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat()


def short_reason(reason: str) -> str:
    """'connection refused after 3 retries: Connection was refused ...' -> 'connection refused after 3 retries'."""
    return reason.split(":", 1)[0].strip()


FAILED_COVER_STATUSES = ("download_failed", "not_image")


class CrawlAccounting:
    def __init__(self, crawler) -> None:
        self.crawler = crawler
        self.jobdir = job_dir(crawler.settings)
        self.unchanged: set[int] = set()
        self.listing_pages = 0
        self.carried = {"retries": 0, "bytes": 0, "duration_s": 0.0}  # from earlier parts of a resumed job
        self.started_at = time.time()
        self.part_started = time.monotonic()
        self.failure_budget = crawler.settings.getint("GENIE_FAILURE_BUDGET", 0)
        self.failures_in_a_row = 0
        self.last_outage = ""
        self.last_outage_kind = "detail"
        self.stop_reason: str | None = None

    @classmethod
    def from_crawler(cls, crawler):
        ext = cls(crawler)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
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
            self.unchanged = set(saved["unchanged"])
            self.listing_pages = saved["listing_pages"]
            self.carried = saved["carried"]
            self.started_at = saved["started_at"]
            logger.info("resuming crawl: %d detail pages requested before", len(spider.requested_details()))

    def _save_ledger(self, part: dict[str, Any]) -> None:
        if not self.ledger_path:
            return
        files.write_text(self.ledger_path, json.dumps({
            "unchanged": sorted(self.unchanged),
            "listing_pages": self.listing_pages,
            "carried": part,
            "started_at": self.started_at,
        }))

    # --- signals -------------------------------------------------------------------------
    def response_received(self, response, request, spider=None) -> None:
        if request.meta.get("kind") == "listing":
            self.listing_pages += 1

    def on_unchanged(self, plm_seq: int, **_: Any) -> None:
        self.unchanged.add(int(plm_seq))

    def item_scraped(self, item, spider=None, **_: Any) -> None:
        if isinstance(item, FetchFailure):
            if item.kind not in PAGE_KINDS:
                return
            if not item.outage:  # the site answered (not found, a 4xx): it is up
                self.failures_in_a_row = 0
                return
            self.failures_in_a_row += 1
            self.last_outage = item.reason
            self.last_outage_kind = item.kind
        elif isinstance(item, (PlaylistPage, SongPage, QuarantinedPage)) and getattr(item, "kind", "detail") in PAGE_KINDS:
            self.failures_in_a_row = 0
        if self.failure_budget and self.failures_in_a_row >= self.failure_budget and self.stop_reason is None:
            self.stop_reason = (f"failure_budget: {self.failures_in_a_row} {self.last_outage_kind} pages in a row failed, "
                                f"last: {short_reason(self.last_outage)}")
            logger.error("%s: stopping the crawl", self.stop_reason)
            self.crawler.stats.set_value("genie/failure_budget_spent", True)
            deferred_from_coro(self.crawler.engine.close_spider_async(reason="failure_budget"))

    # --- the run's row ---------------------------------------------------------------------
    def spider_closed(self, spider, reason: str) -> None:
        stats = self.crawler.stats
        run_dir = Path(spider.out_dir)
        requested = spider.requested_details()  # plm_seq -> why
        urls = {plm_seq: spider.detail_url(plm_seq) for plm_seq in requested}
        if reason == "finished":
            why_missing = "not fetched: no outcome recorded (request dropped)"
        else:
            why_missing = f"not fetched: crawl stopped early ({reason})"
        songs = spider.requested_songs()  # song id -> rows listing it
        song_urls = {song_id: spider.song_url(song_id) for song_id in songs}
        planned = [("detail", plm_seq, url, spider.attempts_before(plm_seq)) for plm_seq, url in sorted(urls.items())]
        planned += [("song", song_id, url, spider.song_attempts_before(song_id))
                    for song_id, url in sorted(song_urls.items())]
        not_fetched = self.book_not_fetched(run_dir, spider.run_key, planned, why_missing)
        if not_fetched and reason == "finished":
            logger.error("%d requested pages had no outcome; recorded as not fetched", not_fetched)

        books = self.read_books(run_dir)
        by_url = books["detail"]
        counts = {"parsed": 0, "quarantined": 0, "failed": 0, "not_found": 0, "not_fetched": 0}
        for url in urls.values():
            outcome, failure = by_url.get(url, ("failed", "not_fetched"))
            counts[outcome] += 1
            if outcome == "failed" and failure in ("not_found", "not_fetched"):
                counts[failure] += 1
        song_counts = {"parsed": 0, "quarantined": 0, "failed": 0, "not_found": 0}
        for url in song_urls.values():
            outcome, failure = books["song"].get(url, ("failed", "not_fetched"))
            song_counts[outcome] += 1
            if outcome == "failed" and failure == "not_found":
                song_counts["not_found"] += 1
        retried = [seq for seq, why in requested.items() if why == "retry"]
        left_out = spider.frontier_left_out()
        part = {
            "retries": self.carried["retries"] + int(stats.get_value("retry/count", 0)),
            "bytes": self.carried["bytes"] + int(stats.get_value("downloader/response_bytes", 0)),
            "duration_s": self.carried["duration_s"] + (time.monotonic() - self.part_started),
        }
        if reason != "finished":
            status = "partial"
            stop_reason = self.stop_reason or STOP_REASONS.get(reason, reason)
        elif stats.get_value("genie/newest_listing_failed"):
            status = "failed"
            stop_reason = self.listing_problem(run_dir, spider)
        else:
            status, stop_reason = "finished", None
        row = {
            "run_key": spider.run_key,
            "base_url": spider.base_url,
            "mode": spider.mode,
            "status": status,
            "stop_reason": stop_reason,
            "started_at": _utc(self.started_at),
            "finished_at": _utc(time.time()),
            "duration_s": round(part["duration_s"], 3),
            "requested": len(requested),
            "parsed": counts["parsed"],
            "unchanged": len(self.unchanged - set(requested)),
            "quarantined": counts["quarantined"],
            "failed": counts["failed"],
            "not_found": counts["not_found"],
            "not_fetched": counts["not_fetched"],
            "retried": len(retried),
            "recovered": sum(1 for seq in retried if by_url.get(urls[seq], ("",))[0] == "parsed"),
            "retry_deferred": left_out["deferred"],
            "retry_exhausted": left_out["exhausted"],
            "listing_pages": self.listing_pages,
            "retries": part["retries"],
            "bytes": part["bytes"],
            "covers_ok": books["covers"].get("ok", 0),
            "covers_failed": sum(books["covers"].get(s, 0) for s in FAILED_COVER_STATUSES),
            "covers_missing": books["covers"].get("missing", 0),
            "items_songs": books["songs"],
            "songs_requested": len(song_urls),
            "songs_parsed": song_counts["parsed"],
            "songs_quarantined": song_counts["quarantined"],
            "songs_failed": song_counts["failed"],
            "songs_not_found": song_counts["not_found"],
            "songs_pending": spider.songs_left_out(),
        }
        for key, value in row.items():
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                stats.set_value(f"genie/run/{key}", value)
        write_rows(table_file(run_dir, bronze.CRAWL_RUNS.name), [row])
        self._write_stats(run_dir, reason)
        self._save_ledger(part)
        logger.info(
            "crawl %s %s: requested=%d parsed=%d quarantined=%d failed=%d (not found %d, not fetched %d) "
            "unchanged=%d retried=%d recovered=%d deferred=%d exhausted=%d; song pages requested=%d parsed=%d "
            "quarantined=%d failed=%d pending=%d%s",
            spider.run_key, status, row["requested"], row["parsed"], row["quarantined"], row["failed"],
            row["not_found"], row["not_fetched"], row["unchanged"], row["retried"], row["recovered"],
            row["retry_deferred"], row["retry_exhausted"], row["songs_requested"], row["songs_parsed"],
            row["songs_quarantined"], row["songs_failed"], row["songs_pending"],
            f" ({stop_reason})" if stop_reason else "",
        )
        if row["retry_exhausted"]:
            logger.warning("%d playlist ids reached SCENETUNE_CRAWL_MAX_ATTEMPTS and were not requested "
                           "(crawl_runs.retry_exhausted; `scenetune crawl --full` tries them again)",
                           row["retry_exhausted"])

    def book_not_fetched(self, run_dir: Path, run_key: str, planned: list[tuple[str, Any, str, int]],
                         reason: str) -> int:
        """Write a ``not_fetched`` failure for every requested page without an outcome; returns how many.

        ``planned``: (kind, plm_seq or song id, url, attempts before this run) of every page asked for.
        Rewrites the run's crawl_failures file: ``not_fetched`` rows of an earlier
        part of a resumed run are replaced by what is true now.
        """
        path = table_file(run_dir, bronze.CRAWL_FAILURES.name)
        written = list(read_rows(path))
        kept = [r for r in written if r.get("outcome") != "not_fetched"]
        answered = {r["url"] for r in kept if r["kind"] in PAGE_KINDS}
        answered |= {r["url"] for r in read_rows(table_file(run_dir, bronze.CRAWL_QUARANTINE.name))
                     if r["kind"] in PAGE_KINDS}
        answered |= {r["source_url"] for r in read_rows(table_file(run_dir, bronze.PLAYLISTS.name))}
        answered |= {r["source_url"] for r in read_rows(table_file(run_dir, bronze.SONGS_INFO.name))}
        now = datetime.now(UTC).isoformat()
        missing = [
            {
                "run_key": run_key,
                "url": url,
                "plm_seq": key if kind == "detail" else None,
                "song_id": key if kind == "song" else None,
                "kind": kind,
                "outcome": "not_fetched",
                "http_status": None,
                "reason": reason,
                "retries": 0,
                "attempt": attempts,  # not fetched is no try
                "failed_at": now,
            }
            for kind, key, url, attempts in planned
            if url not in answered
        ]
        if missing or len(kept) != len(written):
            write_rows(path, kept + missing)
        return len(missing)

    @staticmethod
    def listing_problem(run_dir: Path, spider) -> str:
        """Why the newest listing gave no ids, from the run's listing failure / quarantine rows."""
        newest = spider.url(sel.NEWEST_LISTING_PATH)
        rows = [r for r in read_rows(table_file(run_dir, bronze.CRAWL_FAILURES.name)) if r["kind"] == "listing"]
        rows += [r for r in read_rows(table_file(run_dir, bronze.CRAWL_QUARANTINE.name)) if r["kind"] == "listing"]
        rows.sort(key=lambda r: r["url"] != newest)  # the newest listing's own row first
        if not rows:
            return f"newest listing {newest}: no playlist ids (no failure recorded)"
        first = rows[0]
        status = f" (HTTP {first['http_status']})" if first.get("http_status") and "HTTP" not in first["reason"] else ""
        return f"newest listing {first['url']}: {first['reason']}{status}"

    def _write_stats(self, run_dir: Path, reason: str) -> None:
        """Scrapy's stats of this part of the run, for debugging (retries by reason, Retry-After waits...)."""
        stats = {k: (v.isoformat() if isinstance(v, datetime) else v)
                 for k, v in self.crawler.stats.get_stats().items()}
        stats["finish_reason"] = reason
        files.write_text(run_dir / STATS_FILE, json.dumps(stats, ensure_ascii=False, indent=1, sort_keys=True, default=str))

    # --- outcomes as written ---------------------------------------------------------------
    @staticmethod
    def read_books(run_dir: Path) -> dict[str, Any]:
        """What the run's files hold: detail outcomes by URL, covers by status, song rows.

        ``detail``: url -> (parsed | quarantined | failed, failure outcome or None);
        a page parsed after an earlier failure (resumed run) counts as parsed.
        """
        pages: dict[str, dict[str, tuple[str, str | None]]] = {kind: {} for kind in PAGE_KINDS}
        detail = pages["detail"]
        for row in read_rows(table_file(run_dir, bronze.CRAWL_FAILURES.name)):
            if row.get("kind") in PAGE_KINDS:
                pages[row["kind"]][row["url"]] = ("failed", row.get("outcome"))
        for row in read_rows(table_file(run_dir, bronze.CRAWL_QUARANTINE.name)):
            if row.get("kind") in PAGE_KINDS:
                pages[row["kind"]][row["url"]] = ("quarantined", None)
        for row in read_rows(table_file(run_dir, bronze.PLAYLISTS.name)):
            detail[row["source_url"]] = ("parsed", None)
        for row in read_rows(table_file(run_dir, bronze.SONGS_INFO.name)):
            pages["song"][row["source_url"]] = ("parsed", None)
        covers: dict[int, str] = {row["plm_seq"]: row["status"]
                                  for row in read_rows(table_file(run_dir, bronze.COVERS.name))}
        by_status: dict[str, int] = {}
        for status in covers.values():
            by_status[status] = by_status.get(status, 0) + 1
        songs = {(r["plm_seq"], r["position"]) for r in read_rows(table_file(run_dir, bronze.PLAYLIST_SONGS.name))}
        return {"detail": detail, "song": pages["song"], "covers": by_status,
                "songs": len(songs)}
