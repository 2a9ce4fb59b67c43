"""The ``genie_playlists`` spider: finds Genie playlists and parses their detail pages.

Discovery:
1. ``/playlist/popular?sortOrd=RDD`` (newest first) gives the newest plmSeq;
   the spider walks every id after the last one seen (``-a state=PATH``, from
   crawlers.state) up to it, as IMGenie did. A first crawl walks from
   GENIE_MIN_PLM_SEQ.
2. A refresh (state given) also reads the listings: every page of the newest
   listing (id and song count of every playlist) and, from ``/playlist/tags``,
   every page of every tag listing (which playlists carry that tag: entries
   show only the first few tags, membership shows all of them). Once the
   listings are read (the spider is idle), a known playlist whose song count
   and indexed tags are unchanged is skipped (counted as ``unchanged``); known
   playlists that changed and listed ids never parsed before are fetched.
   A listing that failed only makes the spider fetch more, never less.

The spider only parses: selectors live in crawlers.genie_selectors, typing and
validation in crawlers.pipelines, bookkeeping in crawlers.accounting.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any, AsyncIterator, Iterator

import scrapy
from scrapy import signals
from scrapy.exceptions import DontCloseSpider
from scrapy.http import HtmlResponse, Response
from twisted.python.failure import Failure

from crawlers import accounting, normalize, parsing
from crawlers import genie_selectors as sel
from crawlers.items import FetchFailure, PlaylistPage, QuarantinedPage, describe_failure
from crawlers.output import default_run_dir
from crawlers.state import empty_state, read_state
from scenetune import settings as scenetune_settings

# Listing pages go before detail pages (a refresh decides once every listing is read).
LISTING_PRIORITY = 100


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat()


class GeniePlaylistsSpider(scrapy.Spider):
    name = "genie_playlists"

    def __init__(
        self,
        base_url: str | None = None,
        run_id: str | None = None,
        out_dir: str | None = None,
        state: str | None = None,
        max_playlists: str | int | None = None,
        *args: Any,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        base_url = (base_url or scenetune_settings.load().genie_base_url).strip()
        if not base_url:
            raise ValueError("genie_playlists needs a site: -a base_url=URL (or GENIE_BASE_URL)")
        if not run_id:
            raise ValueError("genie_playlists needs -a run_id=ID")
        self.base_url = base_url.rstrip("/")
        self.run_id = str(run_id)
        self.out_dir = Path(out_dir) if out_dir else default_run_dir(self.run_id)
        self.mode = "incremental" if state else "full"
        self.known = read_state(state) if state else empty_state()
        self.max_playlists = int(max_playlists) if max_playlists not in (None, "", "None") else None

    @classmethod
    def from_crawler(cls, crawler, *args: Any, **kwargs: Any):
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider.spider_idle, signal=signals.spider_idle)
        return spider

    # --- persisted between a stop and a resume (spider.state is saved in JOBDIR) -------
    def _state(self) -> dict[str, Any]:
        if not hasattr(self, "state"):
            self.state = {}
        st = self.state
        st.setdefault("detail_plm_seqs", set())  # detail pages requested
        st.setdefault("listing_urls", set())  # listing pages requested
        st.setdefault("listed_counts", {})  # plm_seq -> song count shown in a listing
        st.setdefault("tag_members", {})  # plm_seq -> names of the tag listings it appears in
        st.setdefault("indexed_tags", set())  # tag names on the tag index
        st.setdefault("failed_tags", set())  # tag listings with a page that failed
        st.setdefault("decided", False)  # refresh decisions made
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

    def detail_request(self, plm_seq: int, why: str) -> scrapy.Request | None:
        """One request per playlist and run; None when already requested or over the cap."""
        requested = self._state()["detail_plm_seqs"]
        if plm_seq in requested:
            return None
        if self.max_playlists is not None and len(requested) >= self.max_playlists:
            return None
        requested.add(plm_seq)
        return scrapy.Request(
            self.url(sel.detail_path(plm_seq)),
            callback=self.parse_detail,
            errback=self.detail_failed,
            meta={"kind": "detail", "plm_seq": plm_seq, "why": why},
        )

    async def start(self) -> AsyncIterator[scrapy.Request]:
        self._state()
        first = self.listing_request(self.url(sel.NEWEST_LISTING_PATH), self.parse_newest, newest=True)
        if first is not None:
            yield first
        if self.mode == "incremental":
            index = self.listing_request(self.url(sel.TAG_INDEX_PATH), self.parse_tag_index)
            if index is not None:
                yield index

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
        first = last_seen + 1 if last_seen is not None else self.settings.getint("GENIE_MIN_PLM_SEQ", 1)
        self.crawler.stats.set_value("genie/newest_plm_seq", newest)
        self.crawler.stats.set_value("genie/walk_first_plm_seq", first)
        for plm_seq in range(first, newest + 1):
            request = self.detail_request(plm_seq, "walk")
            if request is not None:
                yield request
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
        request = failure.request
        status, reason = describe_failure(failure)
        self._listing_incomplete(request.meta)
        yield FetchFailure(
            url=request.url,
            plm_seq=None,
            kind="listing",
            http_status=status,
            reason=reason,
            retries=int(request.meta.get("retry_times", 0)),
            failed_at=utc_now(),
        )

    def spider_idle(self) -> None:
        """All listings read (nothing left to fetch): decide which known playlists to refetch."""
        st = self._state()
        if self.mode != "incremental" or st["decided"]:
            return
        st["decided"] = True
        scheduled = 0
        for request in self.refresh_requests():
            self.crawler.engine.crawl(request)
            scheduled += 1
        self.logger.info("refresh: %d listed playlists to fetch", scheduled)
        if scheduled:
            raise DontCloseSpider

    def refresh_requests(self) -> Iterator[scrapy.Request]:
        st = self._state()
        known = self.known["playlists"]
        tags_read = st["indexed_tags"] - st["failed_tags"]
        for plm_seq in sorted(set(st["listed_counts"]) | set(st["tag_members"])):
            if plm_seq in st["detail_plm_seqs"]:
                continue
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
        if not isinstance(response, HtmlResponse):
            yield self._quarantine(response, f"not an HTML page ({_content_type(response)})")
            return
        try:
            parsing.check_complete(response.body)
            page = parsing.parse_detail(response.selector.root, response.url)
        except parsing.PlaylistNotFound as err:
            # The page is fine, the id just has no playlist: a failure with reason, not a quarantine.
            yield FetchFailure(
                url=requested_url(response),
                plm_seq=plm_seq,
                kind="detail",
                http_status=response.status,
                reason=str(err),
                retries=int(response.meta.get("retry_times", 0)),
                failed_at=utc_now(),
            )
            return
        except parsing.PageError as err:
            yield self._quarantine(response, str(err))
            return
        except Exception as err:  # a parser bug must not lose the page: quarantine it with the error
            yield self._quarantine(response, f"parser error {type(err).__name__}: {err}")
            return
        playlist = page["playlist"]
        playlist["source_url"] = requested_url(response)
        if playlist["plm_seq"] is None:
            playlist["plm_seq"] = plm_seq
        playlist["fetched_at"] = utc_now()
        yield PlaylistPage(playlist=playlist, songs=page["songs"], http_status=response.status, body=response.body)

    def detail_failed(self, failure: Failure) -> Iterator[Any]:
        request = failure.request
        status, reason = describe_failure(failure)
        yield FetchFailure(
            url=request.url,
            plm_seq=request.meta.get("plm_seq"),
            kind="detail",
            http_status=status,
            reason=reason,
            retries=int(request.meta.get("retry_times", 0)),
            failed_at=utc_now(),
        )

    def _quarantine(self, response: Response, reason: str, kind: str = "detail") -> QuarantinedPage:
        return QuarantinedPage(
            url=requested_url(response),
            plm_seq=response.meta.get("plm_seq"),
            http_status=response.status,
            reason=reason,
            fetched_at=utc_now(),
            body=response.body,
            kind=kind,
        )


def requested_url(response: Response) -> str:
    """The URL the spider asked for (outcomes are booked under it), before any redirect."""
    return (response.meta.get("redirect_urls") or [response.url])[0]


def _content_type(response: Response) -> str:
    return (response.headers.get("Content-Type") or b"no content-type").decode("latin-1")
