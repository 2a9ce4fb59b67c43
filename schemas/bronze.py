"""Bronze: rows as crawled from Genie, one partition per refresh run (``run_key``)."""

from schemas.table import Column as C
from schemas.table import Table

RUN = C("run_key", "string", False, "run whose crawl fetched the row")
ATTEMPT_DOC = ("detail pages: how many runs have now tried this plm_seq without an answer, this one included "
               "(a page not fetched is no try); song pages: the same for the song id; null for other kinds")
SONG_ID_DOC = "song pages: the Genie song id (xgnm) of the page"

PLAYLISTS = Table(
    name="playlists",
    layer="bronze",
    grain="one row per playlist detail page parsed in a crawl run",
    key=("run_key", "plm_seq"),
    partition_by=("run_key",),
    columns=(
        RUN,
        C("plm_seq", "int64", False, "Genie playlist id (plmSeq)"),
        C("title", "string", False, "playlist title (.info__title)"),
        C("subtitle", "string", True, "subtitle / description (.info__title--sub)"),
        C("maker_name", "string", True, "curator shown in the data block"),
        C("maker_id", "string", True, "curator id (DJ + 4 digits) when linked"),
        C("song_count", "int64", True, "declared song count ('16곡')"),
        C("view_count", "int64", True, "view count"),
        C("like_count", "int64", True, "like count (#emLikeCount)"),
        C("tags", "list<string>", False, "tags without '#', page order; may be empty"),
        C("cover_url", "string", True, "og:image:secure_url, absolute"),
        C("cover_sha1", "string", True, "sha1 of the downloaded cover bytes"),
        C("cover_status", "string", False, "ok | missing | not_image | download_failed"),
        C("content_hash", "string", False, "sha1 of title, tags and song ids: detects changes"),
        C("source_url", "string", False, "detail page URL"),
        C("fetched_at", "timestamp", False, "when the page was fetched (UTC)"),
    ),
)

PLAYLIST_SONGS = Table(
    name="playlist_songs",
    layer="bronze",
    grain="one row per song row of a playlist detail page in a crawl run",
    key=("run_key", "plm_seq", "position"),
    partition_by=("run_key",),
    columns=(
        RUN,
        C("plm_seq", "int64", False, "playlist id"),
        C("position", "int32", False, "1-based row number in the playlist"),
        C("song_id", "string", True, "Genie song id (xgnm) from fnViewSongInfo"),
        C("song_title", "string", False, "song title as shown"),
        C("artist_id", "string", True, "Genie artist id"),
        C("artist_name", "string", False, "artist as shown"),
        C("album_id", "string", True, "Genie album id"),
        C("album_title", "string", True, "album as shown"),
        C("album_art_url", "string", True, "album art thumbnail URL"),
    ),
)

COVERS = Table(
    name="covers",
    layer="bronze",
    grain="one row per playlist cover download attempt in a crawl run",
    key=("run_key", "plm_seq"),
    partition_by=("run_key",),
    columns=(
        RUN,
        C("plm_seq", "int64", False, "playlist id"),
        C("cover_url", "string", True, "cover URL requested"),
        C("cover_sha1", "string", True, "sha1 of the bytes; the file name in the cover store"),
        C("path", "string", True, "file path relative to SCENETUNE_HOME"),
        C("width", "int32", True, "pixels"),
        C("height", "int32", True, "pixels"),
        C("bytes", "int64", True, "size of the file"),
        C("status", "string", False, "ok | missing | not_image | download_failed"),
        C("error", "string", True, "why the cover is not ok"),
    ),
)

CRAWL_QUARANTINE = Table(
    name="crawl_quarantine",
    layer="bronze",
    grain="one row per fetched page that could not be parsed into a valid item",
    key=("run_key", "url"),
    partition_by=("run_key",),
    columns=(
        RUN,
        C("url", "string", False, "page URL"),
        C("plm_seq", "int64", True, "playlist id when known"),
        C("song_id", "string", True, SONG_ID_DOC),
        C("kind", "string", False, "detail | listing | song"),
        C("http_status", "int32", True, "HTTP status of the response"),
        C("reason", "string", False, "one line: what was wrong"),
        C("attempt", "int32", True, ATTEMPT_DOC),
        C("raw_path", "string", True, "raw body kept, relative to SCENETUNE_HOME"),
        C("fetched_at", "timestamp", False, "when (UTC)"),
    ),
)

CRAWL_FAILURES = Table(
    name="crawl_failures",
    layer="bronze",
    grain="one row per requested URL that never gave a usable response (a cover URL several playlists share: once)",
    key=("run_key", "url"),
    partition_by=("run_key",),
    columns=(
        RUN,
        C("url", "string", False, "requested URL"),
        C("plm_seq", "int64", True, "playlist id when known"),
        C("song_id", "string", True, SONG_ID_DOC),
        C("kind", "string", False, "detail | listing | song | cover | json"),
        C("outcome", "string", False,
          "error (retried by later runs) | not_found (the site has no such playlist or song: an answer, never "
          "retried) | not_fetched (never asked: the crawl stopped early; retried by later runs)"),
        C("http_status", "int32", True, "last HTTP status, null on network errors"),
        C("reason", "string", False, "one line: last error after retries"),
        C("retries", "int32", False, "retries spent"),
        C("attempt", "int32", True, ATTEMPT_DOC),
        C("failed_at", "timestamp", False, "when (UTC)"),
    ),
)

CRAWL_RUNS = Table(
    name="crawl_runs",
    layer="bronze",
    grain="one row per crawl run",
    key=("run_key",),
    partition_by=("run_key",),
    columns=(
        RUN,
        C("base_url", "string", False, "site crawled"),
        C("mode", "string", False, "full | incremental"),
        C("status", "string", False,
          "finished | partial (stopped early, see stop_reason) | failed (the newest listing could not be read)"),
        C("stop_reason", "string", True, "one line: why the run did not finish; null when finished"),
        C("started_at", "timestamp", False, "UTC"),
        C("finished_at", "timestamp", False, "UTC"),
        C("duration_s", "float64", False, "wall seconds"),
        C("requested", "int64", False, "detail pages requested; = parsed + quarantined + failed"),
        C("parsed", "int64", False, "detail pages parsed into items (bronze.playlists rows)"),
        C("unchanged", "int64", False, "known playlists skipped: listing shows no change"),
        C("quarantined", "int64", False, "detail pages quarantined (crawl_quarantine rows of kind detail)"),
        C("failed", "int64", False, "detail pages without an item (crawl_failures rows of kind detail)"),
        C("not_found", "int64", False, "of failed: the site has no such playlist (200 error page, HTTP 404/410)"),
        C("not_fetched", "int64", False, "of failed: never asked because the crawl stopped early"),
        C("retried", "int64", False,
          "detail pages requested because earlier runs left them failed, quarantined or not fetched"),
        C("recovered", "int64", False, "of retried: parsed in this run"),
        C("retry_deferred", "int64", False, "unresolved ids not requested: waiting out their back-off (in runs)"),
        C("retry_exhausted", "int64", False,
          "unresolved ids not requested: SCENETUNE_CRAWL_MAX_ATTEMPTS reached (a --full crawl tries them again)"),
        C("listing_pages", "int64", False, "listing / index pages fetched"),
        C("retries", "int64", False, "retries of any request"),
        C("bytes", "int64", False, "response bytes received"),
        C("covers_ok", "int64", False, "covers stored (covers rows with status ok)"),
        C("covers_failed", "int64", False, "playlists whose cover did not download or is no image (covers rows)"),
        C("covers_missing", "int64", False, "parsed playlists whose page names no cover (covers rows with status missing)"),
        C("items_songs", "int64", False, "playlist song rows emitted (bronze.playlist_songs rows)"),
        C("songs_requested", "int64", False,
          "song pages requested; = songs_parsed + songs_quarantined + songs_failed"),
        C("songs_parsed", "int64", False, "song pages parsed (bronze.songs_info rows)"),
        C("songs_quarantined", "int64", False, "song pages quarantined (crawl_quarantine rows of kind song)"),
        C("songs_failed", "int64", False, "song pages without a row (crawl_failures rows of kind song)"),
        C("songs_not_found", "int64", False, "of songs_failed: the site has no such song"),
        C("songs_pending", "int64", False,
          "song ids seen in playlists with no page yet that this run did not ask for "
          "(SCENETUNE_CRAWL_MAX_SONG_PAGES reached, or their tries used up): later runs fetch them"),
    ),
)

SONGS_INFO = Table(
    name="songs_info",
    layer="bronze",
    grain="one row per song page (/detail/songInfo?xgnm=<songId>) parsed in a crawl run",
    key=("run_key", "song_id"),
    partition_by=("run_key",),
    doc=("Song pages are fetched once per song id, for ids no earlier run has a page for, the most listed"
         " first and at most SCENETUNE_CRAWL_MAX_SONG_PAGES a run; the rest wait for later runs."),
    columns=(
        RUN,
        C("song_id", "string", False, "Genie song id (xgnm)"),
        C("title", "string", True, "song title as the page shows it (h2.name)"),
        C("artist_name", "string", True, "artist as the page shows it"),
        C("artist_id", "string", True, "Genie artist id"),
        C("album_title", "string", True, "album as the page shows it"),
        C("album_id", "string", True, "Genie album id"),
        C("genre_text", "string", True, "the 장르/스타일 item as shown, e.g. '가요 / 발라드'; null when the page has none"),
        C("genres", "list<string>", False, "genre_text split on '/' as a set, page order ('가요', '발라드'); may be empty"),
        C("source_url", "string", False, "song page URL"),
        C("fetched_at", "timestamp", False, "when the page was fetched (UTC)"),
    ),
)

TABLES = (PLAYLISTS, PLAYLIST_SONGS, SONGS_INFO, COVERS, CRAWL_QUARANTINE, CRAWL_FAILURES, CRAWL_RUNS)
