"""Downloader middleware: retries with backoff that honour the server's Retry-After.

Replaces Scrapy's RetryMiddleware (same settings: RETRY_TIMES, RETRY_HTTP_CODES,
RETRY_EXCEPTIONS) and adds:
- a 429 or 503 with ``Retry-After`` (seconds or an HTTP date) waits that long
  before the retry, bounded by RETRY_AFTER_MAX_S;
- any other retry waits RETRY_BACKOFF_BASE_S * 2**(attempt-1), bounded by
  RETRY_BACKOFF_MAX_S;
- counts: ``retry/count`` (Scrapy's), ``genie/retry_after/count`` and
  ``genie/retry_after/wait_s``.
The wait holds only the request being retried, not the whole crawl.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.http import Request, Response
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.response import response_status_message

logger = logging.getLogger(__name__)

RETRY_AFTER_STATUSES = (429, 503)


def parse_retry_after(value: bytes | str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header; None when absent or unreadable."""
    if value is None:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    if not text:
        return None
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


async def _sleep(seconds: float) -> None:
    if seconds <= 0:
        return
    from twisted.internet import reactor
    from twisted.internet.task import deferLater

    await maybe_deferred_to_future(deferLater(reactor, seconds, lambda: None))


class BackoffRetryMiddleware(RetryMiddleware):
    def __init__(self, settings: Any) -> None:
        super().__init__(settings)
        self.backoff_base_s = settings.getfloat("RETRY_BACKOFF_BASE_S", 0.5)
        self.backoff_max_s = settings.getfloat("RETRY_BACKOFF_MAX_S", 30.0)
        self.retry_after_max_s = settings.getfloat("RETRY_AFTER_MAX_S", 120.0)

    def backoff(self, attempt: int) -> float:
        return min(self.backoff_max_s, self.backoff_base_s * 2 ** max(0, attempt - 1))

    async def process_response(self, request: Request, response: Response) -> Request | Response:
        if request.meta.get("dont_retry", False) or response.status not in self.retry_http_codes:
            return response
        retry = self._retry(request, response_status_message(response.status))
        if retry is None:
            return response
        stats = self.crawler.stats
        wait = None
        if response.status in RETRY_AFTER_STATUSES:
            wait = parse_retry_after(response.headers.get("Retry-After"))
        if wait is not None:
            wait = min(wait, self.retry_after_max_s)
            stats.inc_value("genie/retry_after/count")
            stats.inc_value("genie/retry_after/wait_s", wait)
            logger.debug("Retry-After %.2fs for %s (HTTP %d)", wait, request.url, response.status)
        else:
            wait = self.backoff(retry.meta["retry_times"])
        await _sleep(wait)
        return retry

    async def process_exception(self, request: Request, exception: Exception) -> Request | None:
        if request.meta.get("dont_retry", False) or not isinstance(exception, self.exceptions_to_retry):
            return None
        retry = self._retry(request, exception)
        if retry is None:
            return None
        await _sleep(self.backoff(retry.meta["retry_times"]))
        return retry
