"""What the published DuckDB file adds over the copied tables: song vectors in place, and views.

Run inside the publish, on the file being built (never on the live one):

- ``songs.embedding`` FLOAT[384]: the song's sentence vector (gold.song_embeddings →
  gold.sentence_embeddings), null when it has none; ``songs.sentence_id`` names the sentence.
- ``sentence_vectors``: one row per distinct sentence with a vector (songs share far fewer sentences
  than there are songs): what a nearest-song search scans.
- ``songs_by_tag`` (one row per song and tag, sorted by tag); views: ``playlist_cards`` (a playlist with its cover
  verdict and first songs), ``live_version`` (the catalogue version the file holds).
"""

from __future__ import annotations

from schemas import gold

DIMENSIONS = gold.EMBEDDING_DIMENSIONS
VECTOR = f"FLOAT[{DIMENSIONS}]"


def _tables(con, schema: str = "main") -> set[str]:
    return {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() WHERE schema_name = $s "
                                      "UNION ALL SELECT view_name FROM duckdb_views() WHERE schema_name = $s",
                                      {"s": schema}).fetchall()}


def extension_path(name: str):
    """The DuckDB extension shipped in the ``duckdb-extension-<name>`` package (LOAD by path: nothing is
    downloaded, and the version always matches the installed DuckDB)."""
    import importlib
    from pathlib import Path

    import duckdb

    package = importlib.import_module(f"duckdb_extension_{name}")
    return Path(package.__file__).parent / "extensions" / f"v{duckdb.__version__}" / f"{name}.duckdb_extension"


def create(con, pinned: str | None = None) -> None:
    """Add the vectors and views. ``pinned``: the schema holding views over pinned Delta versions
    (``scenetune sql --version``): then everything is a view in ``main``, else tables are rebuilt in place."""
    tables = _tables(con, pinned or "main")
    if pinned:
        for name in sorted(tables - {"songs"}):
            con.execute(f'CREATE VIEW "{name}" AS SELECT * FROM {pinned}."{name}"')
    src = f"{pinned}." if pinned else ""
    kind = "VIEW" if pinned else "TABLE"
    if {"songs", "song_embeddings", "sentence_embeddings"} <= tables:
        con.execute(f"""
            CREATE {kind} sentence_vectors AS
            SELECT sentence_id, sentence_en, song_count, vector::{VECTOR} AS vector
            FROM {src}sentence_embeddings WHERE vector IS NOT NULL ORDER BY sentence_id""")
        con.execute(f"""
            CREATE {kind} songs_with_vectors AS
            SELECT s.*, e.sentence_id, v.vector::{VECTOR} AS embedding
            FROM {src}songs s
            LEFT JOIN {src}song_embeddings e USING (song_key)
            LEFT JOIN {src}sentence_embeddings v ON v.sentence_id = e.sentence_id AND v.vector IS NOT NULL
            ORDER BY s.song_key""")
        if not pinned:
            con.execute("DROP TABLE songs")
        con.execute(f"ALTER {kind} songs_with_vectors RENAME TO songs")
    elif pinned and "songs" in tables:
        con.execute(f"CREATE VIEW songs AS SELECT * FROM {pinned}.songs")
    tables = _tables(con)
    if "songs" in tables:
        # A table in the published file, sorted by tag: a tag's rows sit together and the scan skips the
        # rest (zone maps); a view over the pinned versions.
        order = "" if pinned else " ORDER BY tag, playlist_count DESC, song_key"
        con.execute(f"""
            CREATE {kind} songs_by_tag AS
            SELECT t.tag, s.song_key, s.title, s.artist, s.genres, s.playlist_count
            FROM songs s, unnest(s.tags) AS t(tag){order}""")
    if {"playlists", "playlist_songs"} <= tables:
        verdict = "c.verdict AS cover_verdict, c.reason AS cover_reason" if "cover_quality" in tables else \
            "p.cover_verdict, NULL AS cover_reason"
        join = "LEFT JOIN cover_quality c USING (plm_seq)" if "cover_quality" in tables else ""
        con.execute(f"""
            CREATE VIEW playlist_cards AS
            SELECT p.plm_seq, p.title, p.tags, p.song_count, p.like_count, {verdict},
                   (SELECT list(ps.artist_name || ' - ' || ps.song_title ORDER BY ps.position)[1:5]
                    FROM playlist_songs ps WHERE ps.plm_seq = p.plm_seq) AS first_songs
            FROM playlists p {join}""")
    if "catalogue_versions" in tables:
        con.execute("""
            CREATE VIEW live_version AS
            SELECT * FROM catalogue_versions WHERE status IN ('published', 'rolled back')
            ORDER BY version DESC LIMIT 1""")
