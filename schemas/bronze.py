"""Bronze: rows as crawled from Genie or imported from the Melon dataset, one partition per refresh run
(``run_key``); the shared tables say which with ``source``."""

from schemas.table import Column as C
from schemas.table import Table

RUN = C("run_key", "string", False, "run whose crawl fetched the row")
ATTEMPT_DOC = ("detail pages: how many runs have now tried this plm_seq without an answer, this one included "
               "(a page not fetched is no try); song pages: the same for the song id; null for other kinds")
SONG_ID_DOC = "song pages: the Genie song id (xgnm) of the page"
GENIE, MELON = "genie", "melon"
SOURCES = (GENIE, MELON)
COVER_SOURCE = GENIE  # the only source whose playlists have covers (Melon's dataset has none)
SOURCE = C("source", "string", False,
           "genie (the crawl of Genie's site) | melon (the Kakao Arena Melon dataset, imported by importers.melon)")

PLAYLISTS = Table(
    name="playlists",
    layer="bronze",
    grain="one row per playlist detail page parsed in a crawl run (Melon: per new or changed playlist record imported)",
    key=("run_key", "source", "plm_seq"),
    partition_by=("run_key",),
    doc=("A run replaces its own rows of one source (the crawl: genie, the import: melon); ids are the"
         " source's own, so a playlist is (source, plm_seq)."),
    columns=(
        RUN,
        SOURCE,
        C("plm_seq", "int64", False, "the source's playlist id: Genie plmSeq, Melon id"),
        C("title", "string", False, "playlist title (.info__title)"),
        C("subtitle", "string", True, "subtitle / description (.info__title--sub)"),
        C("maker_name", "string", True, "curator shown in the data block"),
        C("maker_id", "string", True, "curator id (DJ + 4 digits) when linked"),
        C("song_count", "int64", True, "declared song count ('16곡')"),
        C("view_count", "int64", True, "view count"),
        C("like_count", "int64", True, "like count (#emLikeCount; Melon like_cnt)"),
        C("tags", "list<string>", False, "tags without '#', page order; may be empty (Melon: free-form user tags)"),
        C("cover_url", "string", True, "og:image:secure_url, absolute"),
        C("cover_sha1", "string", True, "sha1 of the downloaded cover bytes"),
        C("cover_status", "string", False, "ok | missing | not_image | download_failed (Melon: missing, it has none)"),
        C("content_hash", "string", False, "sha1 of title, tags and song ids: detects changes"),
        C("updated_at", "timestamp", True, "when the source last changed the playlist (Melon updt_date); null for Genie"),
        C("source_url", "string", False, "detail page URL (Melon: the file and record, 'train.json#61281')"),
        C("fetched_at", "timestamp", False, "when the page was fetched (UTC; Melon: when the import run started)"),
    ),
)

PLAYLIST_SONGS = Table(
    name="playlist_songs",
    layer="bronze",
    grain="one row per song row of a playlist detail page in a crawl run (Melon: of an imported playlist)",
    key=("run_key", "source", "plm_seq", "position"),
    partition_by=("run_key",),
    columns=(
        RUN,
        SOURCE,
        C("plm_seq", "int64", False, "playlist id in its source"),
        C("position", "int32", False, "1-based row number in the playlist"),
        C("song_id", "string", True, "the source's song id: Genie xgnm from fnViewSongInfo, Melon song_meta id"),
        C("song_title", "string", False, "song title as shown"),
        C("artist_id", "string", True, "Genie artist id (Melon: artist_id_basket joined with ',')"),
        C("artist_name", "string", False, "artist as shown (Melon: artist_name_basket joined with ', ')"),
        C("album_id", "string", True, "the source's album id"),
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
        C("site", "string", True,
          "what later crawls learn this run's state under: the base URL (lower case, no trailing /), or "
          "'demo-site <scale> seed <n>' for the embedded demo site, whose port changes from run to run; "
          "null in older rows (then base_url)"),
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
    grain="one row per song page (/detail/songInfo?xgnm=<songId>) parsed in a crawl run (Melon: per new or "
          "changed song_meta record imported)",
    key=("run_key", "source", "song_id"),
    partition_by=("run_key",),
    doc=("Song pages are fetched once per song id, for ids no earlier run has a page for, the most listed"
         " first and at most SCENETUNE_CRAWL_MAX_SONG_PAGES a run; the rest wait for later runs. Melon's"
         " song_meta records land here too, their genre codes named by genre_gn_all.json."),
    columns=(
        RUN,
        SOURCE,
        C("song_id", "string", False, "the source's song id (Genie xgnm, Melon id)"),
        C("title", "string", True, "song title as the page shows it (h2.name)"),
        C("artist_name", "string", True, "artist as the page shows it"),
        C("artist_id", "string", True, "Genie artist id"),
        C("album_title", "string", True, "album as the page shows it"),
        C("album_id", "string", True, "Genie album id"),
        C("genre_text", "string", True,
          "the 장르/스타일 item as shown, e.g. '가요 / 발라드'; null when the page has none (Melon: the codes, "
          "'GN0100 GN0105')"),
        C("genres", "list<string>", False,
          "genre_text split on '/' as a set, page order ('가요', '발라드'); may be empty (Melon: the names of "
          "song_gn_gnr_basket's codes)"),
        C("release_date", "string", True,
          "release date as far as the source knows it: YYYY-MM-DD, YYYY-MM or YYYY (Melon issue_date); null "
          "for Genie"),
        C("content_hash", "string", True, "Melon: sha1 of the record as loaded, detects changes; null for Genie"),
        C("source_url", "string", False, "song page URL (Melon: 'song_meta.json#<id>')"),
        C("fetched_at", "timestamp", False, "when the page was fetched (UTC)"),
    ),
)

IMPORT_QUARANTINE = Table(
    name="import_quarantine",
    layer="bronze",
    grain="one row per dataset record (or file) an import set aside, whole or in part, per kind of fault",
    key=("run_key", "source", "file", "record", "kind"),
    partition_by=("run_key",),
    doc=("Written by importers.melon. A record of kind playlist or song was not loaded; of kind song_ref,"
         " genre_code or release_date it was loaded without the values named in `reason`; of kind file the"
         " file could not be read (to its end: the records before the fault are loaded)."),
    columns=(
        RUN,
        SOURCE,
        C("file", "string", False, "dataset file: train.json, val.json, test.json, song_meta.json, genre_gn_all.json"),
        C("record", "int64", False, "0-based index of the record in the file (-1 for the file itself)"),
        C("record_id", "string", True, "the record's id when it has one"),
        C("kind", "string", False, "file | playlist | song (record not loaded) | song_ref | genre_code | release_date "
                                   "(values dropped from a loaded record)"),
        C("reason", "string", False, "one line: what was wrong"),
        C("dropped", "int64", False, "records (1) or values set aside"),
        C("raw", "string", True, "the record as JSON, cut at 2,000 characters"),
    ),
)

IMPORT_RUNS = Table(
    name="import_runs",
    layer="bronze",
    grain="one row per import run of a dataset (the crawl_runs of an import)",
    key=("run_key", "source"),
    partition_by=("run_key",),
    doc=("Books of importers.melon: for playlists and songs, read = loaded + unchanged + quarantined; a"
         " record is unchanged when an earlier run loaded the same content under its id (only what changed"
         " is loaded again)."),
    columns=(
        RUN,
        SOURCE,
        C("directory", "string", False, "the dataset folder as given"),
        C("status", "string", False,
          "finished | partial (a file missing, truncated or not JSON: see stop_reason; the rest was loaded)"),
        C("stop_reason", "string", True, "one line per file fault, '; '-separated; null when finished"),
        C("started_at", "timestamp", False, "UTC"),
        C("finished_at", "timestamp", False, "UTC"),
        C("duration_s", "float64", False, "wall seconds"),
        C("bytes", "int64", False, "bytes of the dataset files read"),
        C("files_read", "int64", False, "dataset files read to their end"),
        C("files_failed", "int64", False, "optional files missing, or files truncated or not JSON (import_quarantine kind file)"),
        C("playlists_read", "int64", False, "playlist records read; = loaded + unchanged + quarantined"),
        C("playlists_loaded", "int64", False, "new or changed playlists (bronze.playlists rows)"),
        C("playlists_unchanged", "int64", False, "playlists an earlier run loaded with the same content"),
        C("playlists_quarantined", "int64", False, "playlist records not loaded (import_quarantine kind playlist)"),
        C("playlist_songs_loaded", "int64", False, "song rows of the loaded playlists (bronze.playlist_songs rows)"),
        C("song_refs_dropped", "int64", False, "song ids of loaded playlists absent from song_meta (kind song_ref)"),
        C("songs_read", "int64", False, "song_meta records read; = loaded + unchanged + quarantined"),
        C("songs_loaded", "int64", False, "new or changed songs (bronze.songs_info rows)"),
        C("songs_unchanged", "int64", False, "songs an earlier run loaded with the same content"),
        C("songs_quarantined", "int64", False, "song records not loaded (import_quarantine kind song)"),
        C("genre_codes_dropped", "int64", False, "genre codes absent from genre_gn_all.json (kind genre_code)"),
        C("release_dates_dropped", "int64", False, "issue_date values that are no date (kind release_date)"),
    ),
)

TABLES = (PLAYLISTS, PLAYLIST_SONGS, SONGS_INFO, COVERS, CRAWL_QUARANTINE, CRAWL_FAILURES, CRAWL_RUNS,
          IMPORT_QUARANTINE, IMPORT_RUNS)
# The tables a crawl writes (each run replaces its own rows of source genie in the shared ones).
CRAWL_TABLES = (PLAYLISTS, PLAYLIST_SONGS, SONGS_INFO, COVERS, CRAWL_QUARANTINE, CRAWL_FAILURES, CRAWL_RUNS)
# The tables both the crawl and an import write.
SHARED_TABLES = (PLAYLISTS, PLAYLIST_SONGS, SONGS_INFO)
