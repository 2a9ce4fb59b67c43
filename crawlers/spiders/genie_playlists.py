"""The ``genie_playlists`` spider: finds Genie playlists and parses their detail pages.

Discovery:
1. ``/playlist/popular?sortOrd=RDD`` (newest first) gives the newest plmSeq;
   the spider walks every id above the highest id earlier runs have an
   outcome for (``-a state=PATH``, from crawlers.state) up to it, as IMGenie
   did. A first or a full crawl walks from GENIE_MIN_PLM_SEQ.
2. The retry frontier (crawlers.frontier): ids earlier runs left failed,
   quarantined or not fetched are requested again once their back-off (in
   runs) is over, up to SCENETUNE_CRAWL_MAX_ATTEMPTS tries. They are asked
   for only after the newest listing shows that the site is a Genie site.
3. A refresh (state given) also reads the listings: every page of the newest
   listing (id and song count of every playlist) and, from ``/playlist/tags``,
   every page of every tag listing (which playlists carry that tag: entries
   show only the first few tags, membership shows all of them). Once the
   listings are read (the spider is idle), a known playlist whose song count
   and indexed tags are unchanged is skipped (counted as ``unchanged``); known
   playlists that changed and listed ids never parsed before are fetched.
   A listing that failed only makes the spider fetch more, never less.

4. Song pages (``/detail/songInfo?xgnm=<songId>``: a song's genres). Once
   every playlist page is answered (the spider is idle again), the spider asks
   for the song pages of song ids no earlier run has an answer for: ids of this
   run's pages and ids earlier runs listed but did not fetch yet (the state's
   ``songs``), the most listed first, at most GENIE_MAX_SONG_PAGES
   (SCENETUNE_CRAWL_MAX_SONG_PAGES) a run; the rest wait for the next runs
   (counted in ``songs_pending``). An id whose page failed or was quarantined in
   SCENETUNE_CRAWL_MAX_ATTEMPTS runs is no longer asked for.

A detail page answered with 404 or 410, like Genie's own 200 "no such
playlist" page, is an answer (outcome ``not_found``), not a failure of the site;
the same holds for song pages.
A site on a loopback address gets LOCAL_SITE_SETTINGS (crawlers.settings.base).

The spider only parses: selectors live in crawlers.genie_selectors, typing and
validation in crawlers.pipelines, bookkeeping in crawlers.accounting.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import scrapy
from scrapy import signals
from scrapy.exceptions import DontCloseSpider
from scrapy.http import HtmlResponse, Response
from twisted.python.failure import Failure

from core import settings as scenetune_settings
from core.runs import RunPartition
from crawlers import accounting, frontier, normalize, parsing
from crawlers import genie_selectors as sel
from crawlers.items import (
    NOT_FOUND_STATUSES,
    FetchFailure,
    PlaylistPage,
    QuarantinedPage,
    SongPage,
    describe_failure,
    is_outage,
)
from crawlers.output import run_dir_of
from crawlers.settings import is_local_site
from crawlers.state import empty_songs, empty_state, read_state

# Listing pages go before detail pages (a refresh decides once every listing is read).
LISTING_PRIORITY = 100


def utc_now() -> str:
    return datetime.now(UTC).isoformat()


class GeniePlaylistsSpider(scrapy.Spider):
    name = "genie_playlists"

    def __init__(
        self,
        base_url: str | None = None,
        run_key: str | None = None,
        out_dir: str | None = None,
        state: str | None = None,
        max_playlists: str | int | None = None,
        full: str | bool | None = None,
        *args: Any,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        base_url = (base_url or scenetune_settings.load().genie_base_url).strip()
        if not base_url:
            raise ValueError("genie_playlists needs a site: -a base_url=URL (or GENIE_BASE_URL)")
        if not run_key:
            raise ValueError("genie_playlists needs -a run_key=YYYYMMDDTHHMMSSZ")
        self.base_url = base_url.rstrip("/")
        self.run_key = str(run_key)
        self.out_dir = Path(out_dir) if out_dir else run_dir_of(RunPartition.parse(self.run_key))
        self.known = read_state(state) if state else empty_state()
        # Full: walk every id and skip nothing; the state then only numbers the retries' attempts.
        self.mode = "full" if (not state or str(full).lower() in ("1", "true", "yes")) else "incremental"
        self.frontier: dict[int, dict[str, Any]] = self.known["frontier"]  # unresolved ids of earlier runs
        self.max_playlists = int(max_playlists) if max_playlists not in (None, "", "None") else None
        self.songs: dict[str, Any] = self.known.get("songs") or empty_songs()
        self.songs["resolved"] = set(self.songs["resolved"])

    @classmethod
    def from_crawler(cls, crawler, *args: Any, **kwargs: Any):
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider.spider_idle, signal=signals.spider_idle)
        local = crawler.settings.getdict("LOCAL_SITE_SETTINGS")
        if local and is_local_site(spider.base_url):
            # Settings are frozen only after from_crawler; -s (cmdline) settings still win.
            crawler.settings.setdict(local, priority="spider")
            spider.logger.info("local site %s: %s", spider.base_url, local)
        return spider

    # --- persisted between a stop and a resume (spider.state is saved in JOBDIR) -------
    def _state(self) -> dict[str, Any]:
        if not hasattr(self, "state"):
            self.state = {}
        st = self.state
        st.setdefault("detail_plm_seqs", {})  # detail pages requested: plm_seq -> why (walk, retry, new, changed)
        st.setdefault("listing_urls", set())  # listing pages requested
        st.setdefault("listed_counts", {})  # plm_seq -> song count shown in a listing
        st.setdefault("tag_members", {})  # plm_seq -> names of the tag listings it appears in
        st.setdefault("indexed_tags", set())  # tag names on the tag index
        st.setdefault("failed_tags", set())  # tag listings with a page that failed
        st.setdefault("decided", False)  # refresh decisions made
        st.setdefault("song_rows", {})  # song id -> song rows of this run's pages that list it
        st.setdefault("song_ids", {})  # song pages requested: song id -> rows listing it (its priority)
        st.setdefault("songs_decided", False)  # song pages chosen
        st.setdefault("songs_left_out", 0)  # song ids without an answer that this run did not ask for
        return st

    # --- requests --------------------------------------------------------------------
    def url(self, path: str) -> str:
        return self.base_url + path

    def listing_request(self, url: str, callback, **meta: Any) -> scrapy.Request | None:
        """One request per listing page and run (pagination links repeat on every page)."""
        seen = self._state()["listing_urls"]
        if url in seen:
            return None
        seen.add(url)
        return scrapy.Request(
            url,
            callback=callback,
            errback=self.listing_failed,
            priority=LISTING_PRIORITY,
            meta={"kind": "listing", **meta},
        )

    def detail_url(self, plm_seq: int) -> str:
        return self.url(sel.detail_path(plm_seq))

    def requested_details(self) -> dict[int, str]:
        """Every detail page this run asked for (or planned to, if it stopped first): plm_seq -> why."""
        return dict(self._state()["detail_plm_seqs"])

    def attempts_before(self, plm_seq: int) -> int:
        """Failed tries of this id in earlier runs (crawlers.frontier); 0 when it is not unresolved."""
        return int(self.frontier.get(plm_seq, {}).get("attempts", 0))

    def detail_request(self, plm_seq: int, why: str) -> scrapy.Request | None:
        """One request per playlist and run; None when already requested or over the cap."""
        requested = self._state()["detail_plm_seqs"]
        if plm_seq in requested:
            return None
        if self.max_playlists is not None and len(requested) >= self.max_playlists:
            return None
        requested[plm_seq] = why
        return scrapy.Request(
            self.detail_url(plm_seq),
            callback=self.parse_detail,
            errback=self.detail_failed,
            meta={"kind": "detail", "plm_seq": plm_seq, "why": why, "attempt": self.attempts_before(plm_seq) + 1,
                  # 404 / 410 are answers ("no such playlist"), read like Genie's 200 error page.
                  "handle_httpstatus_list": list(NOT_FOUND_STATUSES)},
        )

    def song_url(self, song_id: str) -> str:
        return self.url(sel.song_info_path(song_id))

    def requested_songs(self) -> dict[str, int]:
        """Every song page this run asked for (or planned to): song id -> rows listing it."""
        return dict(self._state()["song_ids"])

    def songs_left_out(self) -> int:
        return int(self._state()["songs_left_out"])

    def song_attempts_before(self, song_id: str) -> int:
        return int(self.songs["attempts"].get(song_id, 0))

    def song_request(self, song_id: str, rows: int) -> scrapy.Request | None:
        requested = self._state()["song_ids"]
        if song_id in requested:
            return None
        requested[song_id] = rows
        return scrapy.Request(
            self.song_url(song_id),
            callback=self.parse_song,
            errback=self.song_failed,
            meta={"kind": "song", "song_id": song_id, "attempt": self.song_attempts_before(song_id) + 1,
                  "handle_httpstatus_list": list(NOT_FOUND_STATUSES)},
        )

    def song_requests(self) -> list[scrapy.Request]:
        """Song pages to fetch now: ids without an answer, the most listed first, up to the run's bound."""
        st = self._state()
        limit = self.settings.getint("GENIE_MAX_SONG_PAGES", 0)
        max_attempts = int(self.known.get("max_attempts") or scenetune_settings.load().crawl_max_attempts)
        rows: dict[str, int] = dict(self.songs["pending"])
        for song_id, n in st["song_rows"].items():
            rows[song_id] = rows.get(song_id, 0) + n
        unanswered = [s for s in rows if s not in self.songs["resolved"] and sel.SONG_ID.match(s)]
        candidates = [s for s in unanswered
                      if s not in st["song_ids"] and self.song_attempts_before(s) < max_attempts]
        candidates.sort(key=lambda s: (-rows[s], int(s)))
        chosen = candidates[:max(0, limit - len(st["song_ids"]))]
        requests = [self.song_request(s, rows[s]) for s in chosen]
        st["songs_left_out"] = len([s for s in unanswered if s not in st["song_ids"]])
        return [r for r in requests if r is not None]

    def retry_ids(self) -> list[int]:
        """Unresolved ids of earlier runs this run asks for: due ones, or all of them in a full crawl."""
        if self.mode == "full":
            return sorted(self.frontier)
        return sorted(seq for seq, e in self.frontier.items() if e.get("status") == frontier.DUE)

    def frontier_left_out(self) -> dict[str, int]:
        """Unresolved ids this run did not request, by why: deferred (back-off) or exhausted (cap)."""
        requested = self._state()["detail_plm_seqs"]
        counts = {frontier.DEFERRED: 0, frontier.EXHAUSTED: 0}
        for seq, entry in self.frontier.items():
            if seq not in requested and entry.get("status") in counts:
                counts[entry["status"]] += 1
        return counts

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for request in self.resumed_requests():
            yield request
        first = self.listing_request(self.url(sel.NEWEST_LISTING_PATH), self.parse_newest, newest=True)
        if first is not None:
            yield first
        if self.mode == "incremental":
            index = self.listing_request(self.url(sel.TAG_INDEX_PATH), self.parse_tag_index)
            if index is not None:
                yield index

    def resumed_requests(self) -> list[scrapy.Request]:
        """A resumed job (JOBDIR) asks again for every detail page it meant to fetch.

        The job's duplicate filter drops those already queued or fetched; what
        remains are pages planned but never queued when the job stopped.
        """
        requested = self._state()["detail_plm_seqs"]
        requests = []
        for plm_seq, why in sorted(requested.items()):
            del requested[plm_seq]
            requests.append(self.detail_request(plm_seq, why))
        songs = self._state()["song_ids"]
        for song_id, rows in sorted(songs.items()):
            del songs[song_id]
            requests.append(self.song_request(song_id, rows))
        return [r for r in requests if r is not None]

    # --- listings --------------------------------------------------------------------
    def parse_newest(self, response: Response) -> Iterator[Any]:
        """Newest listing, first page: the id walk, then (refresh) the rest of the listing."""
        ids = parsing.newest_ids(response.selector.root) if isinstance(response, HtmlResponse) else []
        if not ids:
            self.crawler.stats.set_value("genie/newest_listing_failed", True)
            yield self._quarantine(response, "newest listing shows no playlist ids", kind="listing")
            return
        newest = max(ids)
        last_seen = self.known.get("max_plm_seq")
        if self.mode == "full" or last_seen is None:
            first = self.settings.getint("GENIE_MIN_PLM_SEQ", 1)
        else:
            first = last_seen + 1  # every id up to last_seen is resolved or in the frontier
        self.crawler.stats.set_value("genie/newest_plm_seq", newest)
        self.crawler.stats.set_value("genie/walk_first_plm_seq", first)
        # Build every request before yielding any: a crawl stopped while this callback's output is
        # still being consumed must still know (and book as not fetched) every id it meant to ask for.
        planned = []
        for plm_seq in self.retry_ids():  # first, so that --max-playlists keeps room for them
            planned.append(self.detail_request(plm_seq, "retry"))
        for plm_seq in range(first, newest + 1):
            planned.append(self.detail_request(plm_seq, "retry" if plm_seq in self.frontier else "walk"))
        yield from (r for r in planned if r is not None)
        if self.mode == "incremental":
            yield from self.parse_listing(response)

    def parse_tag_index(self, response: Response) -> Iterator[Any]:
        tags = parsing.parse_tag_index(response.selector.root) if isinstance(response, HtmlResponse) else []
        if not tags:
            yield self._quarantine(response, "tag index shows no tag links", kind="listing")
            return
        self.crawler.stats.set_value("genie/tags_listed", len(tags))
        self._state()["indexed_tags"].update(name for _code, name in tags)
        for code, name in tags:
            request = self.listing_request(self.url(sel.tag_listing_path(code, name)), self.parse_listing, tag=name)
            if request is not None:
                yield request

    def parse_listing(self, response: Response) -> Iterator[Any]:
        """A page of the newest or a tag listing: record what it shows, follow its pagination."""
        if not isinstance(response, HtmlResponse):
            self._listing_incomplete(response.meta)
            yield self._quarantine(response, f"listing is not an HTML page ({_content_type(response)})", kind="listing")
            return
        st = self._state()
        tag = response.meta.get("tag")
        root = response.selector.root
        for entry in parsing.parse_listing(root):
            plm_seq = entry["plm_seq"]
            if plm_seq is None:
                self.crawler.stats.inc_value("genie/listing_entries_without_id")
                continue
            count = normalize.shown_number(entry["song_count"])
            if isinstance(count, int):
                st["listed_counts"][plm_seq] = count
            if tag is not None:
                st["tag_members"].setdefault(plm_seq, set()).add(tag)
        for href in parsing.listing_page_links(root):
            found = sel.LISTING_PAGE_PARAM.search(href)
            if found and int(found.group(1)) > 1:  # page 1 is where every listing starts
                request = self.listing_request(response.urljoin(href), self.parse_listing, tag=tag)
                if request is not None:
                    yield request

    def _listing_incomplete(self, meta: dict[str, Any]) -> None:
        if meta.get("tag") is not None:
            self._state()["failed_tags"].add(meta["tag"])
        if meta.get("newest"):
            self.crawler.stats.set_value("genie/newest_listing_failed", True)

    def listing_failed(self, failure: Failure) -> Iterator[Any]:
        self._listing_incomplete(failure.request.meta)
        yield self._request_failed(failure, "listing", plm_seq=None)

    def spider_idle(self) -> None:
        """Nothing left to fetch: first (refresh) the known playlists to fetch again, then the song pages."""
        st = self._state()
        if self.mode == "incremental" and not st["decided"]:
            st["decided"] = True
            scheduled = self._schedule(self.refresh_requests())
            self.logger.info("refresh: %d listed playlists to fetch", scheduled)
            if scheduled:
                raise DontCloseSpider
        if not st["songs_decided"] and not self.crawler.stats.get_value("genie/newest_listing_failed"):
            st["songs_decided"] = True
            scheduled = self._schedule(self.song_requests())
            self.logger.info("song pages: %d to fetch, %d song ids left for later runs", scheduled,
                             st["songs_left_out"])
            if scheduled:
                raise DontCloseSpider

    def _schedule(self, requests) -> int:
        scheduled = 0
        for request in requests:
            self.crawler.engine.crawl(request)
            scheduled += 1
        return scheduled

    def refresh_requests(self) -> Iterator[scrapy.Request]:
        st = self._state()
        known = self.known["playlists"]
        tags_read = st["indexed_tags"] - st["failed_tags"]
        for plm_seq in sorted(set(st["listed_counts"]) | set(st["tag_members"])):
            if plm_seq in st["detail_plm_seqs"] or plm_seq in self.frontier:
                continue  # unresolved ids are the frontier's: asked for when their back-off is over
            record = known.get(plm_seq)
            if record is None:
                why = "new"
            else:
                listed_tags = st["tag_members"].get(plm_seq, set()) & tags_read
                known_tags = set(record.get("tags") or ()) & tags_read
                same_count = st["listed_counts"].get(plm_seq, record.get("song_count")) == record.get("song_count")
                if same_count and listed_tags == known_tags:
                    self.crawler.signals.send_catch_log(accounting.playlist_unchanged, plm_seq=plm_seq)
                    continue
                why = "changed"
            request = self.detail_request(plm_seq, why)
            if request is not None:
                yield request

    # --- detail pages ----------------------------------------------------------------
    def parse_detail(self, response: Response) -> Iterator[Any]:
        plm_seq = response.meta.get("plm_seq")
        if response.status in NOT_FOUND_STATUSES:
            yield self._not_found(response, f"not found: HTTP {response.status}")
            return
        if not isinstance(response, HtmlResponse):
            yield self._quarantine(response, f"not an HTML page ({_content_type(response)})")
            return
        try:
            parsing.check_complete(response.body)
            page = parsing.parse_detail(response.selector.root, response.url)
        except parsing.PlaylistNotFound as err:
            # The page is fine, the id just has no playlist: an answer with its reason, not a quarantine.
            yield self._not_found(response, str(err))
            return
        except parsing.PageError as err:
            yield self._quarantine(response, str(err))
            return
        except Exception as err:  # noqa: BLE001 - a parser bug must not lose the page: quarantine it with the error
            yield self._quarantine(response, f"parser error {type(err).__name__}: {err}")
            return
        song_rows = self._state()["song_rows"]
        for row in page["songs"]:
            song_id = normalize.clean_text(row.get("song_id"))
            if isinstance(song_id, str) and sel.SONG_ID.match(song_id):
                song_rows[song_id] = song_rows.get(song_id, 0) + 1
        playlist = page["playlist"]
        playlist["source_url"] = requested_url(response)
        if playlist["plm_seq"] is None:
            playlist["plm_seq"] = plm_seq
        playlist["fetched_at"] = utc_now()
        yield PlaylistPage(playlist=playlist, songs=page["songs"], http_status=response.status, body=response.body,
                           attempt=response.meta.get("attempt"))

    # --- song pages ---------------------------------------------------------------------
    def parse_song(self, response: Response) -> Iterator[Any]:
        if response.status in NOT_FOUND_STATUSES:
            yield self._not_found(response, f"not found: HTTP {response.status}", kind="song")
            return
        if not isinstance(response, HtmlResponse):
            yield self._quarantine(response, f"not an HTML page ({_content_type(response)})", kind="song")
            return
        try:
            parsing.check_complete(response.body)
            song = parsing.parse_song_info(response.selector.root, requested_url(response))
        except parsing.SongNotFound as err:
            yield self._not_found(response, str(err), kind="song")
            return
        except parsing.PageError as err:
            yield self._quarantine(response, str(err), kind="song")
            return
        except Exception as err:  # noqa: BLE001 - a parser bug must not lose the page: quarantine it with the error
            yield self._quarantine(response, f"parser error {type(err).__name__}: {err}", kind="song")
            return
        song["song_id"] = song["song_id"] or response.meta.get("song_id")
        song["fetched_at"] = utc_now()
        yield SongPage(song=song, http_status=response.status, body=response.body,
                       attempt=response.meta.get("attempt"))

    def song_failed(self, failure: Failure) -> Iterator[Any]:
        meta = failure.request.meta
        yield self._request_failed(failure, "song", plm_seq=None, attempt=meta.get("attempt"),
                                   outage=is_outage(failure), song_id=meta.get("song_id"))

    @staticmethod
    def _request_failed(failure: Failure, kind: str, **fields) -> FetchFailure:
        """A request that failed for good (after its retries): which, why, after how many retries."""
        status, reason = describe_failure(failure)
        return FetchFailure(url=requested_url(failure.request), kind=kind, http_status=status, reason=reason,
                            retries=int(failure.request.meta.get("retry_times", 0)), failed_at=utc_now(), **fields)

    def _not_found(self, response: Response, reason: str, kind: str = "detail") -> FetchFailure:
        return FetchFailure(
            url=requested_url(response),
            plm_seq=response.meta.get("plm_seq"),
            song_id=response.meta.get("song_id"),
            kind=kind,
            http_status=response.status,
            reason=reason,
            retries=int(response.meta.get("retry_times", 0)),
            failed_at=utc_now(),
            outcome="not_found",
            attempt=response.meta.get("attempt"),
        )

    def detail_failed(self, failure: Failure) -> Iterator[Any]:
        meta = failure.request.meta
        yield self._request_failed(failure, "detail", plm_seq=meta.get("plm_seq"), attempt=meta.get("attempt"),
                                   outage=is_outage(failure))

    def _quarantine(self, response: Response, reason: str, kind: str = "detail") -> QuarantinedPage:
        return QuarantinedPage(
            url=requested_url(response),
            plm_seq=response.meta.get("plm_seq"),
            http_status=response.status,
            reason=reason,
            fetched_at=utc_now(),
            body=response.body,
            kind=kind,
            attempt=response.meta.get("attempt") if kind in ("detail", "song") else None,
            song_id=response.meta.get("song_id"),
        )


def requested_url(response_or_request: Response | scrapy.Request) -> str:
    """The URL the spider asked for (outcomes are booked under it), before any redirect."""
    return (response_or_request.meta.get("redirect_urls") or [response_or_request.url])[0]


def _content_type(response: Response) -> str:
    return (response.headers.get("Content-Type") or b"no content-type").decode("latin-1")
