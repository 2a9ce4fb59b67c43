"""What the published DuckDB file adds over the copied tables: song vectors in place, and views.

Run inside the publish, on the file being built (never on the live one):

- ``songs.embedding`` FLOAT[384]: the song's sentence vector (gold.song_embeddings →
  gold.sentence_embeddings), null when it has none; ``songs.sentence_id`` names the sentence.
- ``sentence_vectors``: one row per distinct sentence with a vector (songs share far fewer sentences
  than there are songs): what an exact scan for a vector of one's own reads.
- ``nearest_songs``: each song's 10 nearest other songs by cosine of their vectors (ties: more playlists,
  then song_key), exact, computed here so a query is an index lookup (:func:`nearest`); built from
  ``nearest_sentences`` (each sentence's 11 nearest sentences, FAISS exact inner product), which a
  publish copies from the live file when the sentence vectors are the same (the table comment holds their
  sha256). ``songs`` gets an index on song_key (a song's row is a lookup, not a scan).
- ``songs_by_tag`` (one row per song and tag, sorted by tag), ``songs_by_tag_genre`` (one row per song,
  tag and genre with the song's ``rank`` there, sorted by tag, genre, rank: a top-N is a few rows);
  views: ``playlist_cards`` (a playlist with its cover verdict and first songs), ``live_version`` (the
  catalogue version the file holds).

Over pinned versions (``scenetune sql --version``) each of these but ``nearest_sentences`` is a view
computed at query time.
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

from schemas import gold

DIMENSIONS = gold.EMBEDDING_DIMENSIONS
VECTOR = f"FLOAT[{DIMENSIONS}]"
NEAREST = 10  # nearest_songs per song


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


def create(con, pinned: str | None = None, previous: Path | None = None) -> dict[str, float]:
    """Add the vectors and views. ``pinned``: the schema holding views over pinned Delta versions
    (``scenetune sql --version``): then everything is a view in ``main``, else tables are rebuilt in place.
    ``previous``: the live warehouse file, whose ``nearest_sentences`` is reused when the vectors are the
    same. Returns build seconds (``nearest_s``: the nearest-song tables and their indexes)."""
    stats: dict[str, float] = {}
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
        # Top songs for a tag within a genre: `rank <= 10` of one (tag, genre) is a few adjacent rows.
        order = "" if pinned else " ORDER BY tag, genre, rank"
        con.execute(f"""
            CREATE {kind} songs_by_tag_genre AS
            SELECT t.tag, g.genre, row_number() OVER (PARTITION BY t.tag, g.genre
                                                      ORDER BY s.playlist_count DESC, s.song_key)::INTEGER AS rank,
                   s.song_key, s.title, s.artist, s.genres, s.playlist_count
            FROM songs s, unnest(list_distinct(s.tags)) AS t(tag), unnest(list_distinct(s.genres)) AS g(genre){order}""")
        if "embedding" in _columns(con, "songs"):
            if pinned:
                _nearest_view(con)
            else:
                started = time.perf_counter()
                stats["nearest_reused"] = float(nearest(con, previous))
                con.execute("CREATE INDEX songs_song_key ON songs (song_key)")
                stats["nearest_s"] = round(time.perf_counter() - started, 3)
    if {"playlists", "playlist_songs"} <= tables:
        verdict = "c.verdict AS cover_verdict, c.reason AS cover_reason" if "cover_quality" in tables else \
            "p.cover_verdict, NULL AS cover_reason"
        # covers are Genie's: a Melon playlist has no cover verdict
        join = ("LEFT JOIN cover_quality c ON c.plm_seq = p.plm_seq AND p.source = 'genie'"
                if "cover_quality" in tables else "")
        con.execute(f"""
            CREATE VIEW playlist_cards AS
            SELECT p.source, p.plm_seq, p.title, p.tags, p.song_count, p.like_count, {verdict},
                   (SELECT list(ps.artist_name || ' - ' || ps.song_title ORDER BY ps.position)[1:5]
                    FROM playlist_songs ps WHERE ps.source = p.source AND ps.plm_seq = p.plm_seq) AS first_songs
            FROM playlists p {join}""")
    if "catalogue_versions" in tables:
        con.execute("""
            CREATE VIEW live_version AS
            SELECT * FROM catalogue_versions WHERE status IN ('published', 'rolled back')
            ORDER BY version DESC LIMIT 1""")
    return stats


def _columns(con, table: str) -> set[str]:
    return {r[0] for r in con.execute("SELECT column_name FROM duckdb_columns() WHERE schema_name = 'main' "
                                      "AND table_name = $t", {"t": table}).fetchall()}


def nearest(con, previous: Path | None = None) -> bool:
    """Create ``nearest_sentences`` and ``nearest_songs`` (indexed by song_key) from ``songs``' vectors.

    Exact: every distinct sentence of a song is searched against all of them (FAISS ``IndexFlatIP``
    over the unit vectors: cosine), keeping its 11 nearest (itself first). Every such sentence has a
    song, so the 11 nearest sentences hold a song's 10 nearest other songs; of each sentence only its
    11 songs with the most playlists can be among them. Returns whether ``nearest_sentences`` was
    copied from ``previous`` (same vectors: the comment holds their sha256) rather than searched.
    """
    import numpy as np

    data = con.execute("""
        SELECT sentence_id, vector FROM sentence_vectors
        WHERE sentence_id IN (SELECT sentence_id FROM songs WHERE embedding IS NOT NULL)
        ORDER BY sentence_id""").to_arrow_table()
    ids = np.asarray(data.column("sentence_id").to_pylist(), dtype=object)
    vectors = data.column("vector").combine_chunks()
    matrix = (vectors.values.to_numpy(zero_copy_only=False).astype(np.float32).reshape(len(ids), DIMENSIONS)
              if len(ids) else np.zeros((0, DIMENSIONS), np.float32))
    k = min(NEAREST + 1, len(ids))
    digest = hashlib.sha256()
    digest.update(f"{k}\n{chr(10).join(ids)}\n".encode())
    digest.update(np.ascontiguousarray(matrix).tobytes())
    comment = f"sha256:{digest.hexdigest()}"
    reused = _reuse_nearest_sentences(con, previous, comment)
    if not reused:
        _search_nearest_sentences(con, ids, matrix, k)
    con.execute(f"COMMENT ON TABLE nearest_sentences IS '{comment}'")
    keep = NEAREST + 1  # a sentence's songs that can be anyone's nearest: one may be the song asked about
    con.execute(f"""
        CREATE TABLE nearest_songs AS
        WITH top AS (
            SELECT sentence_id, song_key, playlist_count FROM songs WHERE embedding IS NOT NULL
            QUALIFY row_number() OVER (PARTITION BY sentence_id ORDER BY playlist_count DESC, song_key) <= {keep}),
        candidates AS (
            SELECT n.sentence_id, t.song_key, n.similarity, t.playlist_count
            FROM nearest_sentences n JOIN top t ON t.sentence_id = n.neighbour_id
            QUALIFY row_number() OVER (PARTITION BY n.sentence_id
                                       ORDER BY n.similarity DESC, t.playlist_count DESC, t.song_key) <= {keep}),
        ranked AS (
            SELECT s.song_key, c.song_key AS neighbour_key, c.similarity,
                   row_number() OVER (PARTITION BY s.song_key
                                      ORDER BY c.similarity DESC, c.playlist_count DESC, c.song_key) AS rank
            FROM songs s JOIN candidates c ON c.sentence_id = s.sentence_id AND c.song_key <> s.song_key
            WHERE s.embedding IS NOT NULL)
        SELECT r.song_key, r.rank::TINYINT AS rank, r.neighbour_key, s.title, s.artist, r.similarity::DOUBLE AS similarity
        FROM ranked r JOIN songs s ON s.song_key = r.neighbour_key
        WHERE r.rank <= {NEAREST}
        ORDER BY r.song_key, r.rank""")
    con.execute("CREATE INDEX nearest_songs_song_key ON nearest_songs (song_key)")
    return reused


def _search_nearest_sentences(con, ids, matrix, k: int) -> None:
    import faiss
    import numpy as np
    import pyarrow as pa

    if k:
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        unit = np.ascontiguousarray(matrix / np.where(norms == 0, 1, norms), dtype=np.float32)
        index = faiss.IndexFlatIP(DIMENSIONS)
        index.add(unit)
        similarity, neighbour = index.search(unit, k)
    else:
        similarity, neighbour = np.zeros((0, 0), np.float32), np.zeros((0, 0), np.int64)
    incoming = pa.table({
        "sentence_id": pa.array(np.repeat(ids, k).tolist(), pa.string()),
        "neighbour_id": pa.array(ids[neighbour.ravel()].tolist() if k else [], pa.string()),
        "similarity": pa.array(np.clip(similarity.ravel(), -1.0, 1.0), pa.float32()),
    })
    con.register("incoming_nearest", incoming)
    # rank by similarity, ties by id: the same vectors give the same table
    con.execute("""
        CREATE TABLE nearest_sentences AS
        SELECT sentence_id,
               row_number() OVER (PARTITION BY sentence_id ORDER BY similarity DESC, neighbour_id)::TINYINT AS rank,
               neighbour_id, similarity
        FROM incoming_nearest ORDER BY sentence_id, rank""")
    con.unregister("incoming_nearest")


def _reuse_nearest_sentences(con, previous: Path | None, comment: str) -> bool:
    """Copy ``nearest_sentences`` from the live file when it was made from the same vectors."""
    import duckdb

    if previous is None or not Path(previous).exists():
        return False
    try:
        con.execute(f"ATTACH '{str(previous).replace(chr(39), chr(39) * 2)}' AS previous_file (READ_ONLY)")
    except duckdb.Error:
        return False
    try:
        found = con.execute("SELECT comment FROM duckdb_tables() WHERE database_name = 'previous_file' "
                            "AND schema_name = 'main' AND table_name = 'nearest_sentences'").fetchall()
        if found != [(comment,)]:
            return False
        con.execute("CREATE TABLE nearest_sentences AS SELECT * FROM previous_file.nearest_sentences "
                    "ORDER BY sentence_id, rank")
        return True
    except duckdb.Error:
        return False
    finally:
        con.execute("DETACH previous_file")


def _nearest_view(con) -> None:
    """``nearest_songs`` over pinned versions: the same rows, by an exact scan for each song asked about."""
    con.execute(f"""
        CREATE VIEW nearest_songs AS
        SELECT q.song_key,
               row_number() OVER (PARTITION BY q.song_key
                                  ORDER BY n.similarity DESC, n.playlist_count DESC, n.neighbour_key)::TINYINT AS rank,
               n.neighbour_key, n.title, n.artist, n.similarity
        FROM songs q, LATERAL (
            SELECT s.song_key AS neighbour_key, s.title, s.artist, s.playlist_count,
                   array_cosine_similarity(s.embedding, q.embedding)::DOUBLE AS similarity
            FROM songs s
            WHERE s.embedding IS NOT NULL AND s.song_key <> q.song_key
            ORDER BY similarity DESC, s.playlist_count DESC, s.song_key
            LIMIT {NEAREST}) n
        WHERE q.embedding IS NOT NULL""")
