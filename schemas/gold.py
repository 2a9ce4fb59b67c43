"""Gold: the features users query (published to DuckDB)."""

from schemas.table import RUN_KEY as BUILT_BY
from schemas.table import Column as C
from schemas.table import Table

SONGS = Table(
    name="songs",
    layer="gold",
    grain="one row per distinct song (normalised artist and title)",
    key=("song_key",),
    columns=(
        C("song_key", "string", False, "normalised 'artist|title'"),
        C("title", "string", False, "most common title spelling"),
        C("artist", "string", False, "most common artist spelling"),
        C("song_ids", "list<string>", False, "Genie song ids seen for this song"),
        C("playlist_count", "int64", False, "playlists that list the song"),
        C("tags", "list<string>", False, "tags of those playlists, most frequent first"),
        BUILT_BY,
    ),
)

TAGS = Table(
    name="tags",
    layer="gold",
    grain="one row per playlist tag",
    key=("tag",),
    columns=(
        C("tag", "string", False, "tag text without '#'"),
        C("playlist_count", "int64", False, "playlists carrying the tag"),
        C("song_count", "int64", False, "distinct songs in those playlists"),
        BUILT_BY,
    ),
)

TABLES = (SONGS, TAGS)
