"""The catalogue build as it was before issue #8, kept here (never in the product) as the build bench's baseline.

Its transform is the first build's, verbatim but for names: fold case and spaces, drop "(Feat. X)",
key songs on the normalised (artist, title) only; silver playlists and song rows, gold songs and tags.
Only the bench runs it, on the same bronze, to time it and to score its song identity.
"""

from __future__ import annotations

import re
import unicodedata

import pandas as pd

_FEAT = re.compile(r"[\(\[]\s*(feat|ft|with|prod)\b\.?[^\)\]]*[\)\]]", re.IGNORECASE)
_SPACE = re.compile(r"\s+")


def normalise_text(text: str | None) -> str:
    if not text:
        return ""
    text = unicodedata.normalize("NFKC", text)  # full-width → ASCII, composed Hangul
    text = _FEAT.sub(" ", text)
    text = text.casefold()
    return _SPACE.sub("", text)  # Genie's spacing is inconsistent; drop it entirely


def song_key(artist: str | None, title: str | None) -> str:
    return f"{normalise_text(artist)}|{normalise_text(title)}"


_PLAYLIST_COLUMNS = ("plm_seq", "title", "subtitle", "maker_name", "song_count", "view_count", "like_count", "tags",
                     "cover_sha1", "cover_status", "content_hash", "crawl_run_key", "fetched_at", "run_key")


def _song_key_udf():
    from pyspark.sql.functions import pandas_udf

    @pandas_udf("string")
    def song_key_udf(artist: pd.Series, title: pd.Series) -> pd.Series:
        return pd.Series([song_key(a, t) for a, t in zip(artist, title)])

    return song_key_udf


def transform(bronze_playlists, bronze_songs, run_key: str) -> dict:
    """Pure DataFrame transform: bronze frames in, silver and gold frames out."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    # A playlist's current state is the newest crawl that fetched it
    # (incremental crawls only carry new and changed playlists).
    newest = Window.partitionBy("plm_seq").orderBy(F.desc("fetched_at"), F.desc("run_key"))
    latest = (
        bronze_playlists.withColumn("_rank", F.row_number().over(newest))
        .filter(F.col("_rank") == 1)
        .drop("_rank")
    )
    rows = bronze_songs.join(latest.select("plm_seq", "run_key"), ["plm_seq", "run_key"])
    rows = rows.withColumn("song_key", _song_key_udf()(F.col("artist_name"), F.col("song_title")))
    silver_songs = rows.select(
        "plm_seq", "position", "song_key", "song_id", "song_title", "artist_name", "album_title",
        F.col("run_key").alias("crawl_run_key"), F.lit(run_key).alias("run_key"),
    )
    listed = rows.groupBy("plm_seq").agg(F.count("*").alias("_listed"))
    silver_playlists = (
        latest.withColumnRenamed("run_key", "crawl_run_key")
        .join(listed, "plm_seq", "left")
        .withColumn("song_count", F.coalesce(F.col("_listed"), F.lit(0)).cast("bigint"))
        .withColumn("tags", F.array_distinct(F.col("tags")))
        .withColumn("run_key", F.lit(run_key))
        .select(*_PLAYLIST_COLUMNS)
    )

    song_tags = (
        silver_songs.select("song_key", "plm_seq")
        .distinct()
        .join(silver_playlists.select("plm_seq", F.explode("tags").alias("tag")), "plm_seq")
        .groupBy("song_key", "tag")
        .agg(F.count("*").alias("n"))
        .groupBy("song_key")
        .agg(F.sort_array(F.collect_list(F.struct((-F.col("n")).alias("neg"), "tag"))).alias("_t"))
        .select("song_key", F.transform("_t", lambda s: s["tag"]).alias("tags"))
    )
    gold_songs = (
        silver_songs.groupBy("song_key")
        .agg(
            F.mode("song_title").alias("title"),
            F.mode("artist_name").alias("artist"),
            F.sort_array(F.collect_set("song_id")).alias("song_ids"),
            # size(collect_set) counts distinct values like countDistinct, without the Expand plan
            # Spark needs to mix a distinct aggregate with others (3x slower here).
            F.size(F.collect_set("plm_seq")).cast("bigint").alias("playlist_count"),
        )
        .join(song_tags, "song_key", "left")
        .withColumn("tags", F.coalesce(F.col("tags"), F.array().cast("array<string>")))
        .withColumn("run_key", F.lit(run_key))
        .select("song_key", "title", "artist", "song_ids", "playlist_count", "tags", "run_key")
    )
    playlist_tags = silver_playlists.select("plm_seq", F.explode("tags").alias("tag"))
    gold_tags = (
        playlist_tags.join(silver_songs.select("plm_seq", "song_key"), "plm_seq", "left")
        .groupBy("tag")
        .agg(
            F.size(F.collect_set("plm_seq")).cast("bigint").alias("playlist_count"),
            F.size(F.collect_set("song_key")).cast("bigint").alias("song_count"),
        )
        .withColumn("run_key", F.lit(run_key))
        .select("tag", "playlist_count", "song_count", "run_key")
    )
    return {
        "silver.playlists": silver_playlists,
        "silver.playlist_songs": silver_songs,
        "gold.songs": gold_songs,
        "gold.tags": gold_tags,
    }

