"""Silver: the current, cleaned state of each playlist and its song rows."""

from schemas.table import RUN_KEY as BUILT_BY
from schemas.table import Column as C
from schemas.table import Table

PLAYLISTS = Table(
    name="playlists",
    layer="silver",
    grain="one row per playlist, as of the latest crawl that fetched it",
    key=("plm_seq",),
    columns=(
        C("plm_seq", "int64", False, "Genie playlist id"),
        C("title", "string", False, "playlist title"),
        C("subtitle", "string", True, "subtitle / description"),
        C("maker_name", "string", True, "curator"),
        C("song_count", "int64", False, "song rows actually listed"),
        C("view_count", "int64", True, "views"),
        C("like_count", "int64", True, "likes"),
        C("tags", "list<string>", False, "tags, deduplicated, page order"),
        C("cover_sha1", "string", True, "cover file in the cover store"),
        C("cover_status", "string", False, "ok | missing | not_image | download_failed"),
        C("content_hash", "string", False, "change detector from the crawl"),
        C("crawl_run_key", "string", False, "run whose crawl this state comes from"),
        C("fetched_at", "timestamp", False, "when that crawl fetched it"),
        BUILT_BY,
    ),
)

PLAYLIST_SONGS = Table(
    name="playlist_songs",
    layer="silver",
    grain="one row per song row of a playlist's current state",
    key=("plm_seq", "position"),
    columns=(
        C("plm_seq", "int64", False, "playlist id"),
        C("position", "int32", False, "1-based row number"),
        C("song_key", "string", False, "normalised 'artist|title': the song's identity"),
        C("song_id", "string", True, "Genie song id"),
        C("song_title", "string", False, "title as crawled"),
        C("artist_name", "string", False, "artist as crawled"),
        C("album_title", "string", True, "album as crawled"),
        C("crawl_run_key", "string", False, "run whose crawl the row comes from"),
        BUILT_BY,
    ),
)

TABLES = (PLAYLISTS, PLAYLIST_SONGS)
