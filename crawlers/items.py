"""What the spider yields: one parsed page, one quarantined page, or one failed request.

Each item maps onto bronze rows (schemas/bronze.py). A detail page travels as
one ``PlaylistPage`` (playlist row + song rows) so that it is validated,
written or quarantined as a whole.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from twisted.python.failure import Failure


@dataclass
class PlaylistPage:
    """A parsed playlist detail page; fields raw until NormalizePipeline types them."""

    playlist: dict[str, Any]  # bronze.playlists columns
    songs: list[dict[str, Any]]  # bronze.playlist_songs columns
    http_status: int
    body: bytes = field(repr=False)  # kept so that an invalid item can be quarantined with its page
    attempt: int | None = None  # the id's try number (crawlers.frontier), for a quarantine row
    cover: dict[str, Any] | None = None  # bronze.covers row, set by CoverPipeline
    cover_failure: FetchFailure | None = None  # set by CoverPipeline when the cover is not usable

    @property
    def plm_seq(self) -> Any:
        return self.playlist.get("plm_seq")

    @property
    def url(self) -> str:
        return self.playlist["source_url"]


@dataclass
class SongPage:
    """A parsed song page (bronze.songs_info row); raw until NormalizePipeline types it."""

    song: dict[str, Any]  # bronze.songs_info columns
    http_status: int
    body: bytes = field(repr=False)  # kept so that an invalid item can be quarantined with its page
    attempt: int | None = None  # the song id's try number

    @property
    def song_id(self) -> Any:
        return self.song.get("song_id")

    @property
    def url(self) -> str:
        return self.song["source_url"]


@dataclass
class QuarantinedPage:
    """A fetched page that could not be read into a valid item (bronze.crawl_quarantine)."""

    url: str
    plm_seq: int | None
    http_status: int | None
    reason: str
    fetched_at: str
    body: bytes = field(repr=False, default=b"")
    kind: str = "detail"  # detail | listing | song | json
    attempt: int | None = None  # detail and song pages: the id's try number (crawlers.frontier)
    song_id: str | None = None  # song pages


@dataclass
class FetchFailure:
    """A request that never gave a usable response (bronze.crawl_failures)."""

    url: str
    plm_seq: int | None
    kind: str  # detail | listing | song | cover | json
    http_status: int | None
    reason: str
    retries: int
    failed_at: str
    outcome: str = "error"  # error | not_found (an answer: the site has no such playlist) | not_fetched
    attempt: int | None = None  # detail pages: the id's try number (crawlers.frontier)
    outage: bool = False  # a sign that the site is down: counts toward the failure budget
    song_id: str | None = None  # song pages


# An answer with one of these says the page is not there (Genie's own error page answers 200).
NOT_FOUND_STATUSES = (404, 410)
# Besides 5xx, statuses that say the site cannot or will not serve us now.
OUTAGE_STATUSES = frozenset({403, 408, 429})


def is_outage(failure: Failure) -> bool:
    """Is this failed request (after retries) a sign of an outage: 5xx, timeout, refused, DNS ...?

    A page the site answered (404, 410, other 4xx) or a request we dropped
    ourselves (robots.txt) says nothing about the site being down.
    """
    from scrapy import exceptions as sx
    from scrapy.spidermiddlewares.httperror import HttpError

    exc = failure.value
    if isinstance(exc, HttpError):
        status = exc.response.status
        return status >= 500 or status in OUTAGE_STATUSES
    return not isinstance(exc, sx.IgnoreRequest)


def describe_failure(failure: Failure) -> tuple[int | None, str]:
    """(last HTTP status or None, one-line reason) of a request that failed for good."""
    from scrapy import exceptions as sx
    from scrapy.spidermiddlewares.httperror import HttpError
    from twisted.internet import error as tx

    exc = failure.value
    request = getattr(failure, "request", None)
    retries = int(request.meta.get("retry_times", 0)) if request is not None else 0
    after = f" after {retries} retries" if retries else ""
    if isinstance(exc, HttpError):
        status = exc.response.status
        return status, f"HTTP {status}{after}"
    kinds = (
        ((sx.DownloadTimeoutError, tx.TimeoutError, TimeoutError), "timeout"),
        ((sx.CannotResolveHostError, tx.DNSLookupError), "DNS lookup failed"),
        ((sx.DownloadConnectionRefusedError, tx.ConnectionRefusedError), "connection refused"),
        ((sx.ResponseDataLossError,), "response cut off"),
        ((tx.ConnectionLost, tx.ConnectionDone), "connection lost"),
        ((sx.IgnoreRequest,), "request ignored"),
    )
    for types, label in kinds:
        if isinstance(exc, types):
            return None, f"{label}{after}: {one_line(exc)}"
    return None, f"{type(exc).__name__}{after}: {one_line(exc)}"


def one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text[:300] or type(exc).__name__
