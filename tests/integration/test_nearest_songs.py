"""The published file's fast paths (warehouse.features): nearest_songs is exact, songs_by_tag_genre ranks right.

A small warehouse made the way publish makes it (copied tables, then features.create), with what
trips a top-k: songs sharing a sentence, ties in playlist_count, a song without a vector, a sentence
no song has.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa
import pytest

from warehouse import features

SONGS, SENTENCES = 60, 25


def write_tables(path, vectors: np.ndarray) -> None:
    rng = np.random.default_rng(3)
    sentence_of = np.concatenate([np.arange(SENTENCES - 1), rng.integers(0, 4, SONGS - SENTENCES + 1)])
    ids = [f"{i:016x}" for i in range(SENTENCES)]  # the last one belongs to no song
    keys = [f"artist{i}|title{i}" for i in range(SONGS)]
    con = duckdb.connect(str(path))
    try:
        con.register("s", pa.table({
            "song_key": keys, "title": [f"title{i}" for i in range(SONGS)], "artist": [f"artist{i}" for i in range(SONGS)],
            "genres": [["발라드"] if i % 3 else ["발라드", "POP"] for i in range(SONGS)],
            "tags": [["비오는날", "드라이브"][: 1 + i % 2] for i in range(SONGS)],
            "playlist_count": [int(i % 5) for i in range(SONGS)],  # many ties
            "sentence_en": [f"sentence {i}" for i in sentence_of]}))
        con.execute("CREATE TABLE songs AS SELECT * FROM s")
        # the last song's sentence has no vector
        sentence_ids = [ids[i] for i in sentence_of[:-1]] + ["ffffffffffffffff"]
        con.register("e", pa.table({"song_key": keys, "sentence_id": sentence_ids}))
        con.execute("CREATE TABLE song_embeddings AS SELECT * FROM e")
        con.register("v", pa.table({
            "sentence_id": ids + ["ffffffffffffffff"], "sentence_en": [f"sentence {i}" for i in range(SENTENCES + 1)],
            "song_count": [1] * (SENTENCES + 1),
            "vector": pa.array([v.tolist() for v in vectors] + [None], pa.list_(pa.float32()))}))
        con.execute("CREATE TABLE sentence_embeddings AS SELECT * FROM v")
        features.create(con, previous=None)
        con.execute("CHECKPOINT")
    finally:
        con.close()


def unit_vectors(seed: int) -> np.ndarray:
    vectors = np.random.default_rng(seed).standard_normal((SENTENCES, features.DIMENSIONS)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    path = tmp_path_factory.mktemp("nearest") / "w.duckdb"
    write_tables(path, unit_vectors(5))
    return path


def rows(path, query: str) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(query).fetchall()


def test_nearest_songs_equal_an_exact_numpy_top_k(warehouse):
    songs = rows(warehouse, "SELECT song_key, playlist_count, embedding FROM songs WHERE embedding IS NOT NULL")
    keys = [s[0] for s in songs]
    counts = np.array([s[1] for s in songs])
    matrix = np.array([s[2] for s in songs], dtype=np.float64)
    table = rows(warehouse, "SELECT song_key, neighbour_key, similarity FROM nearest_songs ORDER BY song_key, rank")
    got: dict[str, list] = {}
    for key, neighbour, similarity in table:
        got.setdefault(key, []).append((neighbour, similarity))
    assert set(got) == set(keys) and len(keys) == SONGS - 1  # not the song without a vector
    for i, key in enumerate(keys):
        similarity = matrix @ matrix[i]
        order = sorted((j for j in range(len(keys)) if j != i), key=lambda j: (-round(similarity[j], 5), -counts[j], keys[j]))
        expected = [keys[j] for j in order[: features.NEAREST]]
        assert [n for n, _ in got[key]] == expected, key
        assert np.allclose([s for _, s in got[key]], similarity[order[: features.NEAREST]], atol=1e-5)


def test_songs_by_tag_genre_ranks_each_tag_and_genre(warehouse):
    ranked = rows(warehouse, "SELECT tag, genre, rank, song_key FROM songs_by_tag_genre ORDER BY tag, genre, rank")
    expected = rows(warehouse, """
        SELECT t.tag, g.genre, s.song_key, s.playlist_count FROM songs s, unnest(s.tags) t(tag), unnest(s.genres) g(genre)""")
    by_group: dict[tuple, list] = {}
    for tag, genre, key, count in expected:
        by_group.setdefault((tag, genre), []).append((-count, key))
    assert ranked == [(tag, genre, rank, key) for (tag, genre), group in sorted(by_group.items())
                      for rank, (_, key) in enumerate(sorted(group), start=1)]


def test_a_publish_reuses_the_search_only_for_the_same_vectors(warehouse, tmp_path):
    same, other = tmp_path / "same.duckdb", tmp_path / "other.duckdb"
    with duckdb.connect(str(same)) as con:
        con.execute(f"ATTACH '{warehouse}' AS built (READ_ONLY)")
        con.execute("CREATE TABLE songs AS SELECT * EXCLUDE (sentence_id, embedding) FROM built.songs")
        for table in ("song_embeddings", "sentence_embeddings"):
            con.execute(f"CREATE TABLE {table} AS SELECT * FROM built.{table}")
        con.execute("DETACH built")
        assert features.create(con, previous=warehouse)["nearest_reused"] == 1.0
    query = "SELECT * FROM nearest_songs ORDER BY song_key, rank"
    assert rows(same, query) == rows(warehouse, query)

    write_tables(other, unit_vectors(6))
    with duckdb.connect(str(other)) as con:
        con.execute("DROP TABLE nearest_songs")
        con.execute("DROP TABLE nearest_sentences")
        assert features.nearest(con, previous=warehouse) is False
