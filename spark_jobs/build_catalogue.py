"""Build the catalogue from bronze: silver playlists and song rows, gold songs and tags.

Runs inside an Airflow task (``build(run_key, bronze_versions)``) or on its own:

    spark-submit spark_jobs/build_catalogue.py --run-key 20261121T000000Z

It reads exactly the bronze versions it is given (the ones the run's crawl
committed; the latest when run by hand) and returns the Delta version it
committed for every output table, which the quality gate then audits and
publish copies. Every output table is replaced whole by one Delta commit,
so re-running a build gives the same contents. When the bronze files and
the code are those of an earlier build, that build's versions are reused
(``warehouse.builds``): a refresh that crawled nothing new runs no Spark job.
"""

import argparse
import json
import logging
import sys
from pathlib import Path

import pandas as pd

from core.runs import RunPartition
from schemas import bronze, gold, silver
from spark_jobs.io import read_delta, remove_staging, write_table
from spark_jobs.session import spark_session
from warehouse import builds, delta

log = logging.getLogger(__name__)


def _song_key_udf():
    from pyspark.sql.functions import pandas_udf

    from spark_jobs.normalise import song_key

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
            # size(collect_set) counts distinct values like countDistinct, without the Expand plan
            # Spark needs to mix a distinct aggregate with others (3x slower here).
            F.size(F.collect_set("plm_seq")).cast("bigint").alias("playlist_count"),
        )
        .join(song_tags, "song_key", "left")
        .withColumn("tags", F.coalesce(F.col("tags"), F.array().cast("array<string>")))
        .withColumn("run_key", F.lit(run_key))
        .select(*gold.SONGS.column_names)
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
        .select(*gold.TAGS.column_names)
    )
    return {
        silver.PLAYLISTS: silver_playlists,
        silver.PLAYLIST_SONGS: silver_songs,
        gold.SONGS: gold_songs,
        gold.TAGS: gold_tags,
    }


BRONZE_INPUTS = (bronze.PLAYLISTS, bronze.PLAYLIST_SONGS)
OUTPUTS = (*silver.TABLES, *gold.TABLES)


def code_texts() -> list[str]:
    """The code that decides the build's output: a change to it means rebuilding."""
    from spark_jobs import normalise

    return [Path(module.__file__).read_text(encoding="utf-8") for module in (sys.modules[__name__], normalise)]


def build(run_key: str, bronze_versions: dict[str, int] | None = None, spark=None, force: bool = False) -> dict[str, int]:
    """Build every silver and gold table for ``run_key`` from the given bronze versions.

    Returns ``{"layer.table": delta_version}`` of the catalogue this run uses.
    When an earlier run built from the same bronze files with the same code,
    its versions are reused (no Spark job; ``ops.catalogue_builds`` says so),
    unless ``force``.
    """
    RunPartition.parse(run_key)  # a malformed key fails here, before Spark starts
    pinned = {t: (bronze_versions or {}).get(t.qualified_name, delta.version(t)) for t in BRONZE_INPUTS}
    inputs_fingerprint = builds.fingerprint(code_texts(), pinned)
    earlier = None if force else builds.reusable(inputs_fingerprint, OUTPUTS, exclude_run_key=run_key)
    if earlier is not None:
        built_by, committed = earlier
        log.info("bronze inputs and code unchanged since run %s: reusing its versions %s", built_by, committed)
    else:
        built_by, committed = run_key, _build_with_spark(run_key, pinned, spark)
    builds.record(run_key, committed, built_by, inputs_fingerprint)
    return committed


def _build_with_spark(run_key: str, pinned: dict, spark) -> dict[str, int]:
    committed = {}
    with spark_session("scenetune-build-catalogue", spark) as session:
        outputs = transform(*(read_delta(session, t, pinned[t]) for t in BRONZE_INPUTS), run_key)
        # Gold is derived from silver: keep silver in memory once computed (Spark matches the cached
        # plans inside the gold queries), instead of recomputing it from bronze for every table.
        cached = [outputs[t].persist() for t in silver.TABLES]
        for table, df in outputs.items():
            version = write_table(df, table, run_key)
            committed[table.qualified_name] = version
            log.info("%s: Delta version %s (%d rows)", table.qualified_name, version, delta.count_rows(table, version))
        for df in cached:
            df.unpersist()
    remove_staging(run_key)
    return committed


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run-key", required=True, help="the refresh run's key, e.g. 20261121T000000Z")
    parser.add_argument("--bronze-versions", type=json.loads, default=None,
                        help='bronze versions to read, e.g. \'{"bronze.playlists": 3}\' (default: latest)')
    parser.add_argument("--force", action="store_true",
                        help="rebuild even when an earlier build read the same bronze files with the same code")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    print(json.dumps(build(args.run_key, args.bronze_versions, force=args.force)))


if __name__ == "__main__":
    main()
