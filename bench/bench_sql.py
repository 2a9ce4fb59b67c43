"""SQL latency of the two typical queries, through the connection `scenetune sql` opens.

A full-scale warehouse file is built the way publish builds it (warehouse.features on copied
tables): 127k songs with tags and genres, 40k distinct sentence vectors (the full-scale build has
39,924; synthetic random unit vectors here, so the build's Spark job is not part of this bench).
Each query runs 100 times on one locked-down connection (warehouse.query.open_warehouse), the
design and its baseline interleaved (so load from other processes falls on both alike):

- tag: top-10 songs by tag and genre (docs/QUERIES.md #1: ``rank <= 10`` of ``songs_by_tag_genre``).
  Baseline: the previous design, ``songs_by_tag`` sorted by tag, ``list_contains(genres, $genre)``,
  ORDER BY playlist_count LIMIT 10.
- vector: nearest-10 songs to a song (docs/QUERIES.md #2: an index lookup in ``nearest_songs``, which the
  publish computes exactly: FAISS flat inner product over the distinct sentence vectors). Baseline: the
  previous design, an exact scan of the distinct sentence vectors at query time, then their songs.

index_build_s: the nearest-song tables and indexes inside the publish (warehouse.features), part of
features_build_s. recall@10 compares the vector query's songs with the exact top-10 computed in numpy
(float64) for 100 songs.
"""

from __future__ import annotations

import os
import re
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.runner import Measurement

DEFAULT_SCALE = "full"
# (songs, distinct sentences): the Genie full build; Genie full + Melon full (bench_build_melon: 708,931 songs,
# 86k distinct sentences of four labels each); a tenth of the first.
SCALES = {"full": (127_000, 40_000), "melon": (709_000, 86_000), "demo": (12_700, 4_000)}
RUNS = 100
DOC = Path(__file__).resolve().parent.parent / "docs" / "QUERIES.md"


def doc_query(number: int) -> str:
    text = DOC.read_text(encoding="utf-8")
    section = text.split(f"### {number}. ", 1)[1]
    return re.search(r"```sql\n(.*?)```", section, re.S).group(1)


def build(path: Path, songs: int, sentences: int, seed: int = 7) -> dict:
    import duckdb
    import pyarrow as pa

    from schemas import taxonomy
    from warehouse import features

    rng = np.random.default_rng(seed)
    vectors = rng.standard_normal((sentences, features.DIMENSIONS)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    tags = sorted({t for ts in taxonomy.categories().values() for t in ts})
    genres = list(taxonomy.genres()) or ["발라드", "POP"]
    # Zipf-like popularity: a few tags and sentences are on many songs, as in Genie's catalogue.
    tag_p = 1 / np.arange(1, len(tags) + 1)
    tag_p /= tag_p.sum()
    # every sentence has a song (gold.sentence_embeddings holds the sentences of songs), many have several
    sentence_of = np.concatenate([np.arange(sentences), rng.zipf(1.3, songs - sentences) % sentences])
    keys = [f"artist{i}|title{i}" for i in range(songs)]
    song_tags = [list(dict.fromkeys(rng.choice(tags, size=rng.integers(1, 12), p=tag_p).tolist())) for _ in range(songs)]
    song_genres = [sorted(set(rng.choice(genres, size=rng.integers(1, 3)).tolist())) for _ in range(songs)]
    ids = [f"{i:016x}" for i in range(sentences)]
    con = duckdb.connect(str(path))
    try:
        con.register("s", pa.table({
            "song_key": keys, "title": [f"title{i}" for i in range(songs)], "artist": [f"artist{i}" for i in range(songs)],
            "genres": song_genres, "tags": song_tags, "playlist_count": rng.zipf(1.6, songs).astype(np.int64),
            "sentence_en": [f"sentence {i}" for i in sentence_of]}))
        con.execute("CREATE TABLE songs AS SELECT * FROM s")
        con.register("e", pa.table({"song_key": keys, "sentence_id": [ids[i] for i in sentence_of]}))
        con.execute("CREATE TABLE song_embeddings AS SELECT * FROM e")
        con.register("v", pa.table({
            "sentence_id": ids, "sentence_en": [f"sentence {i}" for i in range(sentences)],
            "song_count": np.bincount(sentence_of, minlength=sentences).astype(np.int64),
            "vector": pa.FixedSizeListArray.from_arrays(pa.array(vectors.ravel()), features.DIMENSIONS)}))
        con.execute("CREATE TABLE sentence_embeddings AS SELECT * FROM v")
        started = time.perf_counter()
        stats = features.create(con)
        con.execute("CHECKPOINT")
        features_s = time.perf_counter() - started
    finally:
        con.close()
    popular_tag = tags[0]
    return {"vectors": vectors, "sentence_of": sentence_of, "keys": keys, "features_s": features_s,
            "index_s": stats.get("nearest_s", 0.0), "tag": popular_tag, "genre": genres[0]}


PREVIOUS_TAG = """
    SELECT title, artist, playlist_count, genres FROM songs_by_tag
    WHERE tag = $tag AND list_contains(genres, $genre)
    ORDER BY playlist_count DESC, song_key LIMIT 10"""
PREVIOUS_VECTOR = """
    WITH q AS (SELECT embedding FROM songs WHERE song_key = $song),
    near AS (
      SELECT v.sentence_id, array_cosine_similarity(v.vector, q.embedding) AS similarity
      FROM sentence_vectors v, q ORDER BY similarity DESC LIMIT 11)
    SELECT s.title, s.artist, round(n.similarity, 3) AS similarity, s.sentence_en
    FROM near n JOIN songs s USING (sentence_id)
    WHERE s.song_key <> $song
    ORDER BY n.similarity DESC, s.playlist_count DESC, s.song_key LIMIT 10"""


def interleaved(con, queries: dict[str, str], params: list[dict]) -> tuple[dict[str, list[float]], dict[str, list]]:
    """Run every query once per params, in turn: milliseconds and rows of each, per run."""
    times: dict[str, list[float]] = {name: [] for name in queries}
    rows: dict[str, list] = {name: [] for name in queries}
    for p in params:
        for name, query in queries.items():
            started = time.perf_counter()
            rows[name].append(con.execute(query, p).fetchall())
            times[name].append((time.perf_counter() - started) * 1000)
    return times, rows


def exact_similarities(built: dict, probe: int) -> np.ndarray:
    """The 10 highest cosines of other songs to song ``probe``, in numpy (float64)."""
    vectors = built["vectors"].astype(np.float64)
    per_song = (vectors @ vectors[built["sentence_of"][probe]])[built["sentence_of"]]
    per_song[probe] = -np.inf
    return np.sort(per_song)[::-1][:10]


def run(scale: str) -> Measurement:
    from warehouse.query import open_warehouse

    songs, sentences = SCALES[scale]
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="bench-sql-") as tmp:
        home = Path(tmp) / "home"
        os.environ["SCENETUNE_HOME"] = str(home)
        from core import settings

        path = settings.load().duckdb_path
        path.parent.mkdir(parents=True, exist_ok=True)
        built = build(path, songs, sentences)
        probes = np.random.default_rng(11).integers(0, songs, size=RUNS)
        with open_warehouse() as con:
            tag_params = [{"tag": built["tag"], "genre": built["genre"]}] * RUNS
            tag_ms, tag_rows = interleaved(con, {"design": doc_query(1), "baseline": PREVIOUS_TAG}, tag_params)
            assert tag_rows["design"] == tag_rows["baseline"], "the tag query and its baseline disagree"
            song_params = [{"song": built["keys"][int(p)]} for p in probes]
            vector_ms, vector_rows = interleaved(con, {"design": doc_query(2), "baseline": PREVIOUS_VECTOR}, song_params)
        size_mb = path.stat().st_size / 2**20
    hits = 0
    for probe, found, previous in zip(probes, vector_rows["design"], vector_rows["baseline"]):
        got = [r[2] for r in found]
        assert np.allclose(got, [r[2] for r in previous], atol=1.5e-3), "the vector query and its baseline disagree"
        # ties (songs sharing a sentence) make the exact top-10 a set of similarities, not of songs
        hits += sum(1 for a, b in zip(got, np.round(exact_similarities(built, int(probe)), 3)) if abs(a - b) < 1e-3)
    load_after = os.getloadavg()[0]

    def p(values, q):
        return round(float(np.percentile(values, q)), 2)

    extra = {
        "p50_tag_ms": p(tag_ms["design"], 50), "p95_tag_ms": p(tag_ms["design"], 95),
        "p50_vector_ms": p(vector_ms["design"], 50), "p95_vector_ms": p(vector_ms["design"], 95),
        "baseline_p50_tag_ms": p(tag_ms["baseline"], 50), "baseline_p95_tag_ms": p(tag_ms["baseline"], 95),
        "baseline_p50_vector_ms": p(vector_ms["baseline"], 50), "baseline_p95_vector_ms": p(vector_ms["baseline"], 95),
        "recall_at_10": round(hits / (10 * len(probes)), 3),
        "index_build_s": round(built["index_s"], 2), "features_build_s": round(built["features_s"], 2),
        "songs": songs, "distinct_sentences": sentences, "warehouse_mb": round(size_mb, 1), "runs": RUNS,
        "load_avg_1m_before": round(load_before, 2), "load_avg_1m_after": round(load_after, 2),
    }
    notes = (f"Synthetic catalogue (random unit vectors, Zipf tags) of {songs:,} songs and {sentences:,} distinct "
             f"sentences ({scale} scale); one connection, {RUNS} "
             "runs of each query, design and baseline interleaved, the vector query for 100 different songs. "
             "Vector: `nearest_songs` (each song's exact 10 nearest, computed in the publish with FAISS "
             "IndexFlatIP over the distinct sentence vectors, then an ART index on song_key) vs the previous "
             "exact scan of `sentence_vectors` per query. Tag: `songs_by_tag_genre` stored by (tag, genre, "
             "rank), `rank <= 10`, vs the previous `songs_by_tag` + `list_contains(genres)`. index_build_s is "
             "the nearest-song build inside the publish (a publish whose sentence vectors are unchanged copies "
             "it from the live file). HNSW (duckdb-extension-vss) was rejected: ~110-280 s to build on 40k "
             "vectors and its index is used only for a constant query vector. 1-minute load average "
             f"{load_before:.1f} before, {load_after:.1f} after (2 cores).")
    return Measurement(
        metric=f"nearest-10 songs p50, {scale}-scale warehouse through `scenetune sql`'s connection "
               "(precomputed exact nearest_songs vs scanning the distinct sentence vectors per query)",
        unit="ms", value=extra["p50_vector_ms"], baseline=extra["baseline_p50_vector_ms"], scale=scale,
        higher_is_better=False, notes=notes, extra=extra)
