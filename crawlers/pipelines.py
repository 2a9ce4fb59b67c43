"""Item pipelines: normalise, validate, download covers, write the run's JSONL.

Order (crawlers.settings.base.ITEM_PIPELINES):
1. NormalizePipeline - text as shown -> typed values (crawlers.normalize), content hash.
2. ValidatePipeline  - every row against the JSON schema of its bronze table
   (compiled with fastjsonschema); an invalid page becomes a QuarantinedPage
   with the reason (never dropped).
3. CoverPipeline     - Scrapy FilesPipeline: downloads the cover, checks it is
   an image, stores it content-hashed under settings.covers_dir; a missing,
   broken or non-image cover is recorded, the playlist kept with its cover_status
   (a broken or non-image cover is also a crawl_failures row of kind cover).
4. RunWriterPipeline - one JSONL file per bronze table in the run folder.
"""

from __future__ import annotations

import hashlib
import logging
import re
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path
from typing import Any

import fastjsonschema
from jsonschema import Draft202012Validator
from PIL import Image
from scrapy import Request
from scrapy.http.request import NO_CALLBACK
from scrapy.pipelines.files import FilesPipeline
from scrapy.pipelines.media import FileException
from scrapy.utils.job import job_dir

from core import files
from crawlers import normalize
from crawlers.items import FetchFailure, PlaylistPage, QuarantinedPage, SongPage, describe_failure
from crawlers.output import RunWriter, home_relative, is_resuming
from schemas import bronze

logger = logging.getLogger(__name__)

COVER_FIELDS = ("cover_sha1", "cover_status")


def _utc_now() -> str:
    return datetime.now(UTC).isoformat()


class NormalizePipeline:
    """Strip text, drop '#', read '16곡' / '53,820', make URLs absolute, compute content_hash."""

    def __init__(self, crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_item(self, item: Any) -> Any:
        if isinstance(item, SongPage):
            normalize.normalize_song_info(item.song, self.crawler.spider.run_key)
        elif isinstance(item, PlaylistPage):
            normalize.normalize_page(item.playlist, item.songs, self.crawler.spider.run_key)
        return item


class RowValidator:
    """One bronze table's JSON schema, compiled once with fastjsonschema.

    The compiled validator decides (a few microseconds a row; jsonschema would
    cost about a millisecond and be the crawler's bottleneck). Only a row it
    rejects - rare - is handed to jsonschema for the wording of the reason,
    which names the value; when jsonschema words nothing (it does not check
    ``format``), fastjsonschema's own message is used.
    """

    def __init__(self, schema: dict[str, Any]) -> None:
        self.check = fastjsonschema.compile(schema)
        self.validator = Draft202012Validator(schema)

    def error(self, row: dict[str, Any]) -> str | None:
        """None when the row is valid, else one line: '<field>: <what is wrong>'."""
        try:
            self.check(row)
            return None
        except fastjsonschema.JsonSchemaValueException as err:
            rejected = err
        error = next(iter(self.validator.iter_errors(row)), None)
        if error is not None:
            where = ".".join(str(p) for p in error.absolute_path) or "row"
            message = error.message
        else:
            where = ".".join(str(p) for p in rejected.path[1:]) or "row"  # path[0] is "data"
            message = rejected.message.removeprefix(str(rejected.name)).strip()
        return " ".join(f"{where}: {message}".split())[:300]


class ValidatePipeline:
    """Check each row against its bronze table's JSON schema; quarantine the page otherwise."""

    def __init__(self) -> None:
        # Cover fields are filled by CoverPipeline, after validation.
        self.playlist = RowValidator(bronze.PLAYLISTS.json_schema(exclude=COVER_FIELDS))
        self.song = RowValidator(bronze.PLAYLIST_SONGS.json_schema())
        self.song_info = RowValidator(bronze.SONGS_INFO.json_schema())

    def process_item(self, item: Any) -> Any:
        if isinstance(item, SongPage):
            error = self.song_info.error(item.song)
            if error is None:
                return item
            return QuarantinedPage(url=item.url, plm_seq=None, http_status=item.http_status,
                                   reason=f"invalid song page {error}", fetched_at=item.song.get("fetched_at") or _utc_now(),
                                   body=item.body, kind="song", attempt=item.attempt, song_id=item.song_id)
        if not isinstance(item, PlaylistPage):
            return item
        reason = self.check(item)
        if reason is None:
            return item
        return QuarantinedPage(
            url=item.url,
            plm_seq=item.plm_seq if isinstance(item.plm_seq, int) else None,
            http_status=item.http_status,
            reason=reason,
            fetched_at=item.playlist.get("fetched_at") or _utc_now(),
            body=item.body,
            attempt=item.attempt,
        )

    def check(self, item: PlaylistPage) -> str | None:
        row = {k: v for k, v in item.playlist.items() if k not in COVER_FIELDS}
        error = self.playlist.error(row)
        if error:
            return f"invalid playlist {error}"
        positions = set()
        for index, song in enumerate(item.songs, 1):
            error = self.song.error(song)
            if error:
                return f"invalid song row {index} {error}"
            if song["position"] in positions:
                return f"song row {index} repeats position {song['position']}"
            positions.add(song["position"])
        declared = item.playlist.get("song_count")
        if declared is not None and declared != len(item.songs):
            return f"page declares {declared} songs but lists {len(item.songs)}"
        return None


class CoverProblem(FileException):
    status = "download_failed"

    def __init__(self, message: str, http_status: int | None = None, retries: int = 0) -> None:
        super().__init__(message)
        self.http_status = http_status
        self.retries = retries


class CoverNotImage(CoverProblem):
    status = "not_image"


class CoverDownloadFailed(CoverProblem):
    status = "download_failed"


_IMAGE_SUFFIX = {"JPEG": ".jpg", "PNG": ".png", "GIF": ".gif", "WEBP": ".webp"}


def _cover_problem(request, status: str, message: str, http_status: int | None, retries: int) -> dict[str, Any]:
    problem = (CoverNotImage if status == "not_image" else CoverDownloadFailed)(message, http_status, retries)
    return {"url": request.url, "path": None, "checksum": None, "status": status, "problem": problem}


_OBJECT_REPR = re.compile(r"\s*<[^<>]* at 0x[0-9a-fA-F]+>")


# A whole file ends with these (a cut-off download does not); other formats are decoded to check.
_IMAGE_TRAILERS = {"JPEG": (b"\xff\xd9",), "PNG": (b"IEND\xaeB`\x82",)}


def inspect_image(body: bytes) -> tuple[int, int, str]:
    """(width, height, suffix) of an image; CoverNotImage when the bytes are not a whole image.

    Reading the header and checking the trailer is ~30x cheaper than decoding a 600x600 JPEG.
    """
    try:
        with Image.open(BytesIO(body)) as img:
            width, height, fmt = img.width, img.height, img.format
            trailers = _IMAGE_TRAILERS.get(fmt or "")
            if trailers is None:
                img.load()
            else:
                img.verify()
                tail = body.rstrip(b"\x00\r\n ")[-16:]
                if not any(tail.endswith(t) for t in trailers):
                    raise ValueError(f"{fmt} data is cut off (no end marker)")
    except Exception as err:  # noqa: BLE001 - Pillow raises many types for bad input
        message = _OBJECT_REPR.sub("", " ".join(str(err).split()))  # no memory addresses in data
        raise CoverNotImage(f"not an image: {message[:200]}") from None
    return width, height, _IMAGE_SUFFIX.get(fmt or "", ".img")


class CoverPipeline(FilesPipeline):
    """Download each playlist's cover once, store it as <sha1[:2]>/<sha1>.<ext> (content-addressed)."""

    LOG_FAILED_RESULTS = False  # failures are recorded in the covers table instead

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.store_dir = Path(self.crawler.settings["FILES_STORE"])
        self._inspected: dict[str, tuple[int, int, int, str]] = {}  # sha1 -> width, height, bytes, path

    def get_media_requests(self, item: Any, info: Any) -> list[Request]:
        if isinstance(item, PlaylistPage) and item.playlist.get("cover_url"):
            url = item.playlist["cover_url"]
            return [Request(url, callback=NO_CALLBACK, meta={"kind": "cover", "plm_seq": item.plm_seq})]
        return []

    def media_to_download(self, request: Request, info: Any, *, item: Any = None) -> None:
        return None  # the file name is the hash of the bytes: always download

    async def media_downloaded(self, response, request, info, *, item=None):
        # A bad cover is an outcome, not an error: return it as a result with its status
        # (raising here would make Scrapy log a traceback for every broken cover).
        retries = int(getattr(response, "request", request).meta.get("retry_times", 0))
        after = f" after {retries} retries" if retries else ""
        if response.status != 200:
            return _cover_problem(request, "download_failed", f"HTTP {response.status}{after}", response.status, retries)
        if not response.body:
            return _cover_problem(request, "not_image", "empty response body", response.status, retries)
        try:
            checksum = self.file_downloaded(response, request, info, item=item)
        except CoverNotImage as err:
            content_type = (response.headers.get("Content-Type") or b"no content-type").decode("latin-1")
            return _cover_problem(request, "not_image", f"{err} ({content_type})", response.status, retries)
        self.inc_stats("downloaded")
        return {"url": request.url, "path": self._inspected[checksum][3], "checksum": checksum, "status": "downloaded"}

    def media_failed(self, failure, request, info):
        # Network errors after retries (timeouts, refused connections): Scrapy wants an exception.
        if getattr(failure, "request", None) is None:
            failure.request = request
        status, reason = describe_failure(failure)
        raise CoverDownloadFailed(reason, status, int(failure.request.meta.get("retry_times", 0)))

    def file_path(self, request, response=None, info=None, *, item=None) -> str:
        if response is None:  # only asked before download, by media_to_download (overridden)
            return "pending/" + hashlib.sha1(request.url.encode()).hexdigest()
        digest = hashlib.sha1(response.body).hexdigest()
        return f"{digest[:2]}/{digest}"

    def file_downloaded(self, response, request, info, *, item=None) -> str:
        width, height, suffix = inspect_image(response.body)
        digest = hashlib.sha1(response.body).hexdigest()
        path = f"{digest[:2]}/{digest}{suffix}"
        target = self.store_dir / path
        if not target.exists():  # same bytes, same name: written once (atomically: crawls may share the store)
            files.write_bytes(target, response.body)
        self._inspected[digest] = (width, height, len(response.body), path)
        return digest

    def item_completed(self, results, item, info):
        if not isinstance(item, PlaylistPage):
            return item
        p = item.playlist
        cover = {
            "run_key": p["run_key"],
            "plm_seq": p["plm_seq"],
            "cover_url": p.get("cover_url"),
            "cover_sha1": None,
            "path": None,
            "width": None,
            "height": None,
            "bytes": None,
            "status": "missing",
            "error": "no og:image:secure_url on the page",
        }
        if results:
            ok, value = results[0]
            if ok and value.get("problem") is None:
                digest = value["checksum"]
                width, height, size, path = self._inspected[digest]
                cover.update(cover_sha1=digest, path=home_relative(self.store_dir / path),
                             width=width, height=height, bytes=size, status="ok", error=None)
            else:
                problem = value["problem"] if ok else value.value
                if not isinstance(problem, CoverProblem):
                    problem = CoverDownloadFailed(str(problem))
                cover.update(status=problem.status, error=str(problem)[:300])
                # Not downloaded, or not an image: the cover URL gave nothing usable (a failure row);
                # a page without a cover URL is "missing", which is no failure.
                if problem.status in ("download_failed", "not_image"):
                    item.cover_failure = FetchFailure(
                        url=cover["cover_url"],
                        plm_seq=p["plm_seq"],
                        kind="cover",
                        http_status=problem.http_status,
                        reason=str(problem)[:300],
                        retries=problem.retries,
                        failed_at=_utc_now(),
                    )
        p["cover_sha1"] = cover["cover_sha1"]
        p["cover_status"] = cover["status"]
        item.cover = cover
        return item


class RunWriterPipeline:
    """Writes every item to the run's JSONL files (crawlers.output)."""

    def __init__(self, crawler) -> None:
        self.crawler = crawler
        self.writer: RunWriter | None = None

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def open_spider(self) -> None:
        spider = self.crawler.spider
        self.writer = RunWriter(spider.out_dir, append=is_resuming(job_dir(self.crawler.settings)))
        self.writer.open()

    def close_spider(self) -> None:
        if self.writer is not None:
            self.writer.close()

    def process_item(self, item: Any) -> Any:
        writer = self.writer
        assert writer is not None
        run_key = self.crawler.spider.run_key
        if isinstance(item, PlaylistPage):
            writer.write(bronze.PLAYLISTS.name, item.playlist)
            for song in item.songs:
                writer.write(bronze.PLAYLIST_SONGS.name, song)
            if item.cover is not None:
                writer.write(bronze.COVERS.name, item.cover)
            if item.cover_failure is not None:
                writer.write(bronze.CRAWL_FAILURES.name, _failure_row(run_key, item.cover_failure))
            self.crawler.stats.inc_value("genie/items_written")
        elif isinstance(item, SongPage):
            writer.write(bronze.SONGS_INFO.name, item.song)
            self.crawler.stats.inc_value("genie/song_pages_written")
        elif isinstance(item, QuarantinedPage):
            raw_path = home_relative(writer.keep_raw(item.body)) if item.body else None
            writer.write(
                bronze.CRAWL_QUARANTINE.name,
                {
                    "run_key": run_key,
                    "url": item.url,
                    "plm_seq": item.plm_seq,
                    "song_id": item.song_id,
                    "kind": item.kind,
                    "http_status": item.http_status,
                    "reason": item.reason,
                    "attempt": item.attempt,
                    "raw_path": raw_path,
                    "fetched_at": item.fetched_at,
                },
            )
            self.crawler.stats.inc_value(f"genie/quarantined/{item.kind}")
        elif isinstance(item, FetchFailure):
            writer.write(bronze.CRAWL_FAILURES.name, _failure_row(run_key, item))
            self.crawler.stats.inc_value(f"genie/failed/{item.kind}")
        else:
            raise TypeError(f"unexpected item {type(item).__name__}")
        writer.flush()  # a killed crawl leaves whole items behind
        # Nothing downstream needs the page body any more.
        if isinstance(item, (PlaylistPage, SongPage, QuarantinedPage)):
            item.body = b""
        return item


def _failure_row(run_key: str, failure: FetchFailure) -> dict[str, Any]:
    return {
        "run_key": run_key,
        "url": failure.url,
        "plm_seq": failure.plm_seq,
        "song_id": failure.song_id,
        "kind": failure.kind,
        "outcome": failure.outcome,
        "http_status": failure.http_status,
        "reason": failure.reason,
        "retries": failure.retries,
        "attempt": failure.attempt,
        "failed_at": failure.failed_at,
    }
