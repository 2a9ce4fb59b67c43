"""Build the catalogue from bronze: silver playlists and song rows, gold songs and tags.

Runs inside an Airflow task (``build(build_id)``) or on its own:

    spark-submit spark_jobs/build_catalogue.py --build-id 20261121T000000Z

Every output table is replaced whole by one Delta commit, so re-running a
build gives the same contents.
"""

import argparse
import logging

import pandas as pd

from schemas import bronze, gold, silver
from scenetune import settings
from spark_jobs.io import read_delta, write_table
from spark_jobs.session import get_spark
from warehouse import delta

log = logging.getLogger(__name__)


def _song_key_udf():
    from pyspark.sql.functions import pandas_udf

    from spark_jobs.normalise import song_key

    @pandas_udf("string")
    def song_key_udf(artist: pd.Series, title: pd.Series) -> pd.Series:
        return pd.Series([song_key(a, t) for a, t in zip(artist, title)])

    return song_key_udf


def transform(bronze_playlists, bronze_songs, build_id: str) -> dict:
    """Pure DataFrame transform: bronze frames in, silver and gold frames out."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    # A playlist's current state is the newest crawl that fetched it
    # (incremental crawls only carry new and changed playlists).
    newest = Window.partitionBy("plm_seq").orderBy(F.desc("fetched_at"), F.desc("crawl_run_id"))
    latest = (
        bronze_playlists.withColumn("_rank", F.row_number().over(newest))
        .filter(F.col("_rank") == 1)
        .drop("_rank")
    )
    rows = bronze_songs.join(latest.select("plm_seq", "crawl_run_id"), ["plm_seq", "crawl_run_id"])
    rows = rows.withColumn("song_key", _song_key_udf()(F.col("artist_name"), F.col("song_title")))
    silver_songs = rows.select(
        "plm_seq", "position", "song_key", "song_id", "song_title", "artist_name", "album_title",
        "crawl_run_id", F.lit(build_id).alias("build_id"),
    )
    listed = rows.groupBy("plm_seq").agg(F.count("*").alias("_listed"))
    silver_playlists = (
        latest.join(listed, "plm_seq", "left")
        .withColumn("song_count", F.coalesce(F.col("_listed"), F.lit(0)).cast("bigint"))
        .withColumn("tags", F.array_distinct(F.col("tags")))
        .withColumn("build_id", F.lit(build_id))
        .select(*silver.PLAYLISTS.column_names)
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
            F.countDistinct("plm_seq").alias("playlist_count"),
        )
        .join(song_tags, "song_key", "left")
        .withColumn("tags", F.coalesce(F.col("tags"), F.array().cast("array<string>")))
        .withColumn("build_id", F.lit(build_id))
        .select(*gold.SONGS.column_names)
    )
    playlist_tags = silver_playlists.select("plm_seq", F.explode("tags").alias("tag"))
    gold_tags = (
        playlist_tags.join(silver_songs.select("plm_seq", "song_key"), "plm_seq", "left")
        .groupBy("tag")
        .agg(
            F.countDistinct("plm_seq").alias("playlist_count"),
            F.countDistinct("song_key").alias("song_count"),
        )
        .withColumn("build_id", F.lit(build_id))
        .select(*gold.TAGS.column_names)
    )
    return {
        silver.PLAYLISTS: silver_playlists,
        silver.PLAYLIST_SONGS: silver_songs,
        gold.SONGS: gold_songs,
        gold.TAGS: gold_tags,
    }


def build(build_id: str, spark=None) -> dict[str, dict]:
    """Build every silver and gold table for ``build_id``; return rows and Delta version per table."""
    spark = spark or get_spark("scenetune-build-catalogue")
    outputs = transform(read_delta(spark, bronze.PLAYLISTS), read_delta(spark, bronze.PLAYLIST_SONGS), build_id)
    result = {}
    for table, df in outputs.items():
        version = write_table(df, table, build_id)
        rows = delta.count_rows(settings.load().delta_path(table.layer, table.name))
        result[table.qualified_name] = {"rows": rows, "delta_version": version}
        log.info("%s: %d rows, Delta version %s", table.qualified_name, rows, version)
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build-id", required=True, help="id of this build (the refresh run's key)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    for name, info in build(args.build_id).items():
        print(f"{name}\t{info['rows']} rows\tversion {info['delta_version']}")


if __name__ == "__main__":
    main()
