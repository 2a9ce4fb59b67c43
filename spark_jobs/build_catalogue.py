"""Build the catalogue from bronze: silver playlists and song rows; gold songs, tags, artist aliases, lineage,
tag co-occurrence and merges, song sentences and their embeddings.

Runs inside an Airflow task (``build(run_key, input_versions)``) or on its own:

    spark-submit spark_jobs/build_catalogue.py --run-key 20261121T000000Z

Song rows are normalised (spark_jobs.normalise: vectorised pandas UDFs over
each distinct title), artist aliases are learned from the `A (B)` forms of the
whole data and rows are merged into songs by shared Genie song id or
normalised artist|title (spark_jobs.song_identity; a small step on the driver
over the distinct spellings). Songs take their genres from bronze.songs_info,
else from their playlists' genre tags; tags are split into Genie's six
categories (schemas/taxonomy.json). Tags that co-occur on playlists are merged into labels
(spark_jobs.tag_merge; a heatmap of P(B|A) is drawn under reports/<run_key>/), each song gets a
sentence of its labels (spark_jobs.sentences), and each distinct sentence is embedded once, from
a cache kept across refreshes (spark_jobs.embeddings), all in the one Spark session.

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
import time
from collections import Counter
from pathlib import Path

import pandas as pd

from core import files
from core.errors import ConfigurationError
from core.process import exit_now
from core.runs import RunPartition
from schemas import bronze, gold, silver
from schemas.bronze import GENIE, MELON
from schemas.taxonomy import OTHER
from spark_jobs import song_identity, tag_merge
from spark_jobs.io import read_delta, remove_staging, write_table
from spark_jobs.session import spark_session
from warehouse import builds, delta

log = logging.getLogger(__name__)


TITLE_FIELDS = ("title_clean string, title_key string, title_loose_key string, title_gloss_key string, "
                "title_base_key string, title_version_key string, title_base string, feat array<string>, credit string, "
                "remaster string, live string, inst boolean, remix string, version string, ost string, gloss string")


def _source_id(column: str):
    """A song or album id as song identity compares it: Genie's as is, another source's prefixed with it."""
    from pyspark.sql import functions as F

    return F.when(F.col("source") == GENIE, F.col(column)).otherwise(F.concat_ws(":", "source", column))


def _of_category(category: str):
    """An element predicate for ``F.filter`` (one parameter: a second one would be bound to the index)."""
    from pyspark.sql import functions as F

    return lambda tag: tag.getField("category") == F.lit(category)


def _parse_titles_udf():
    """Vectorised spark_jobs.normalise.parse_title: one title column in, its fields out."""
    from pyspark.sql.functions import pandas_udf

    from spark_jobs.normalise import clean, parse_title

    @pandas_udf(TITLE_FIELDS)
    def parse_titles(titles: pd.Series) -> pd.DataFrame:
        parsed = [parse_title(t) for t in titles]
        return pd.DataFrame({
            "title_clean": [clean(t) for t in titles],
            "title_key": [p.key for p in parsed],
            "title_loose_key": [p.loose_key for p in parsed],
            "title_gloss_key": [p.gloss_key for p in parsed],
            "title_base_key": [p.base_key for p in parsed],
            "title_version_key": [p.version_key for p in parsed],
            "title_base": [p.base for p in parsed],
            "feat": [list(p.feat) for p in parsed],
            "credit": [p.credit for p in parsed],
            "remaster": [p.remaster for p in parsed],
            "live": [p.live for p in parsed],
            "inst": [p.inst for p in parsed],
            "remix": [p.remix for p in parsed],
            "version": [p.version for p in parsed],
            "ost": [p.ost for p in parsed],
            "gloss": [p.gloss for p in parsed],
        })

    return parse_titles


def _clean_tags_udf():
    """Tags in the form the taxonomy matches them: NFKC, spaces trimmed, empties dropped, order kept."""
    from pyspark.sql.functions import pandas_udf

    from schemas.taxonomy import clean_tag

    @pandas_udf("array<string>")
    def clean_tags(tags: pd.Series) -> pd.Series:
        out = []
        for values in tags:
            cleaned = [clean_tag(t) for t in (values if values is not None else ())]
            out.append(list(dict.fromkeys(t for t in cleaned if t)))
        return pd.Series(out)

    return clean_tags


def _sentences_udf(label_of: dict[str, tuple[str, str]]):
    """A song's tags (most frequent first) -> its English and Korean sentences (spark_jobs.sentences)."""
    from pyspark.sql.functions import pandas_udf

    from spark_jobs.sentences import song_sentence

    @pandas_udf("sentence_en string, sentence_ko string")
    def sentences(tags: pd.Series) -> pd.DataFrame:
        made = [song_sentence(t, label_of) for t in tags]
        return pd.DataFrame({"sentence_en": [m.english if m else None for m in made],
                             "sentence_ko": [m.korean if m else None for m in made]})

    return sentences


def transform(bronze_playlists, bronze_songs, bronze_songs_info, run_key: str,
              merge_rule: tag_merge.MergeRule | None = None, cover_quality=None) -> dict:
    """Bronze frames in, silver and gold frames out (small driver steps: aliases and song identity, tag merges).

    ``cover_quality`` (silver.cover_quality, when covers were cleaned) gives each playlist its cover
    verdict. Everything but the embeddings (:func:`embedding_tables`: they need the model and the cache)."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    from schemas.taxonomy import clean_tag, tag_categories
    from schemas.taxonomy import genres as genre_names
    from spark_jobs.normalise import clean

    spark = bronze_playlists.sparkSession
    # A playlist's current state is the newest crawl that fetched it
    # (incremental crawls only carry new and changed playlists).
    newest = Window.partitionBy("source", "plm_seq").orderBy(F.desc("fetched_at"), F.desc("run_key"))
    latest = (
        bronze_playlists.withColumn("_rank", F.row_number().over(newest))
        .filter(F.col("_rank") == 1)
        .drop("_rank")
        .withColumn("tags", _clean_tags_udf()(F.col("tags")))
        .localCheckpoint()  # computed once (its UDF too): silver.playlists and every tag count read it
    )
    bronze_rows = bronze_songs.join(latest.select("source", "plm_seq", "run_key"),
                                    ["source", "plm_seq", "run_key"]).persist()
    # Song and album ids are the sources' own: namespaced for identity, so a Melon id never meets a Genie one.
    rows = bronze_rows.withColumn("_song_id", _source_id("song_id")).withColumn("_album_id", _source_id("album_id"))
    # Parse each distinct title once (a popular song is listed hundreds of times).
    titles = rows.select("song_title").distinct()
    titles = titles.select("song_title", _parse_titles_udf()(F.col("song_title")).alias("t")).select(
        "song_title", "t.*").localCheckpoint()  # the UDF runs once; the spellings and the rows both read it
    rows = rows.join(titles, "song_title")

    identity_columns = {"song_id": "_song_id", "album_id": "_album_id"}
    spellings = (rows.groupBy(*[F.col(identity_columns.get(c, c)).alias(c)
                                for c in song_identity.SPELLING_COLUMNS if c != "rows"])
                 .agg(F.count("*").alias("rows")).toPandas())
    started = time.perf_counter()
    identity = song_identity.identify(spellings)
    log.info("song identity: %d spellings -> %d songs; evidence merges %s (%.1f s)", len(spellings),
             identity.mapping["song_key"].nunique(), dict(Counter(link.reason for link in identity.links)),
             time.perf_counter() - started)
    mapping, alias_rows = identity.mapping.copy(), identity.aliases
    mapping["artist_clean"] = [clean(a) for a in mapping["artist_name"]]
    mapping_df = spark.createDataFrame(mapping, "artist_name string, title_key string, artist_key string, "
                                                "song_key string, reason string, evidence string, "
                                                "artist_clean string")
    rows = rows.join(F.broadcast(mapping_df), ["artist_name", "title_key"])
    # Computed once here: every gold table reads it (a local checkpoint, not recomputed from bronze per table).
    # Why a row is in its song, for gold.song_lineage: the spelling's merges, and a gloss its title dropped.
    row_reason = F.concat_ws(", ", "reason", F.when(F.col("gloss").isNotNull(), F.lit("gloss")))
    row_evidence = F.concat_ws("; ", "evidence", F.when(F.col("gloss").isNotNull(), F.concat(F.lit("gloss: "), "gloss")))
    silver_songs = rows.select(
        *[c for c in silver.PLAYLIST_SONGS.column_names if c not in ("crawl_run_key", "run_key")],
        "title_clean", "artist_clean",
        F.when(row_reason != "", row_reason).alias("merge_reason"),
        F.when(row_evidence != "", row_evidence).alias("merge_evidence"),
        F.col("run_key").alias("crawl_run_key"), F.lit(run_key).alias("run_key"),
    ).localCheckpoint()
    bronze_rows.unpersist()
    listed = silver_songs.groupBy("source", "plm_seq").agg(F.count("*").alias("_listed"))
    if cover_quality is None:
        verdicts = spark.createDataFrame([], "plm_seq bigint, cover_verdict string, cover_kind string")
    else:
        verdicts = cover_quality.select("plm_seq", F.col("verdict").alias("cover_verdict"), "cover_kind")
    verdicts = verdicts.withColumn("source", F.lit(GENIE))  # covers are Genie's: Melon playlists have none
    silver_playlists = (
        latest.withColumnRenamed("run_key", "crawl_run_key")
        .join(listed, ["source", "plm_seq"], "left")
        .join(verdicts, ["source", "plm_seq"], "left")
        .withColumn("song_count", F.coalesce(F.col("_listed"), F.lit(0)).cast("bigint"))
        .withColumn("run_key", F.lit(run_key))
        .select(*silver.PLAYLISTS.column_names)
    )

    # Whole-tag match against the taxonomy (a small broadcast table); genre tags are marked for the fallback.
    taxonomy_rows = {tag: (category, False) for tag, category in tag_categories().items()}
    taxonomy_rows.update({clean_tag(g): (taxonomy_rows.get(clean_tag(g), (OTHER,))[0], True) for g in genre_names()})
    categories = spark.createDataFrame([(t, c, g) for t, (c, g) in sorted(taxonomy_rows.items())],
                                       "tag string, category string, is_genre boolean")
    playlist_tags = (silver_playlists.select("source", "plm_seq", F.explode("tags").alias("tag"))
                     .join(F.broadcast(categories), "tag", "left")
                     .withColumn("category", F.coalesce("category", F.lit(OTHER)))
                     .withColumn("is_genre", F.coalesce("is_genre", F.lit(False)))
                     .localCheckpoint())  # small (a tag on a playlist: 663k rows at Melon scale), read three times
    # Broadcast: one row per tag on a playlist is far smaller than the song rows it meets (7M at Melon scale),
    # which then stay where they are instead of being shuffled for a sort-merge join.
    song_tag_counts = (
        silver_songs.select("song_key", "source", "plm_seq").distinct()
        .join(F.broadcast(playlist_tags), ["source", "plm_seq"])
        .groupBy("song_key", "tag", "category", "is_genre")
        .agg(F.count("*").alias("n"))
        .localCheckpoint()  # the songs' tags and gold.tags' song counts both read it
    )
    # One sorted list per song (most frequent first, then by tag); each category's list is filtered from it
    # in the JVM (one collect and sort per song, not one per category).
    by_frequency = F.sort_array(F.collect_list(F.struct((-F.col("n")).alias("neg"), "tag", "category", "is_genre")))
    song_tags = (
        song_tag_counts.groupBy("song_key").agg(by_frequency.alias("_all"))
        .select("song_key", F.col("_all.tag").alias("tags"),
                *[F.filter("_all", _of_category(c))["tag"].alias(f"tags_{c}")
                  for c in (*gold.TAG_CATEGORIES, OTHER)],
                F.array_sort(F.filter("_all", lambda t: t.getField("is_genre"))["tag"]).alias("_tag_genres"))
    )

    # Genres from the newest song page (Melon: song record) of each song id; a song takes the genres of
    # all its ids' pages, Genie's first.
    newest_page = Window.partitionBy("source", "song_id").orderBy(F.desc("fetched_at"), F.desc("run_key"))
    page_genres = (
        bronze_songs_info.withColumn("_rank", F.row_number().over(newest_page)).filter(F.col("_rank") == 1)
        .select("source", "song_id", F.explode("genres").alias("genre"))
    )
    song_page_genres = (
        silver_songs.select("song_key", "source", "song_id").distinct()
        .join(page_genres, ["source", "song_id"])
        .groupBy("song_key").agg(
            F.array_sort(F.collect_set(F.when(F.col("source") == GENIE, F.col("genre")))).alias("_page_genres"),
            F.array_sort(F.collect_set(F.when(F.col("source") == MELON, F.col("genre")))).alias("_melon_genres"))
    )
    empty = F.array().cast("array<string>")
    has = lambda c: F.size(F.coalesce(F.col(c), empty)) > 0  # noqa: E731 - a one-line predicate
    gold_songs = (
        silver_songs.groupBy("song_key")
        .agg(
            F.mode("title_clean", True).alias("title"),
            F.mode("artist_clean", True).alias("artist"),
            F.mode("artist_key", True).alias("artist_key"),
            F.sort_array(F.collect_set(F.when(F.col("source") == GENIE, F.col("song_id")))).alias("song_ids"),
            F.sort_array(F.collect_set(F.when(F.col("source") == MELON, F.col("song_id")))).alias("melon_song_ids"),
            F.sort_array(F.collect_set("source")).alias("sources"),
            # size(collect_set) counts distinct values like countDistinct, without the Expand plan
            # Spark needs to mix a distinct aggregate with others (3x slower here).
            F.size(F.collect_set(F.struct("source", "plm_seq"))).cast("bigint").alias("playlist_count"),
            F.count("*").cast("bigint").alias("row_count"),
            F.size(F.collect_set(F.struct("artist_name", "song_title"))).cast("bigint").alias("spellings"),
        )
        .join(song_tags, "song_key", "left")
        .join(song_page_genres, "song_key", "left")
        .withColumn("genres", F.when(has("_page_genres"), F.col("_page_genres"))
                    .when(has("_melon_genres"), F.col("_melon_genres"))
                    .when(has("_tag_genres"), F.col("_tag_genres")).otherwise(empty))
        .withColumn("genre_source", F.when(has("_page_genres"), F.lit("song_page"))
                    .when(has("_melon_genres"), F.lit("melon"))
                    .when(has("_tag_genres"), F.lit("playlist_tags")).otherwise(F.lit("none")))
    )
    for column in ("tags", *(f"tags_{c}" for c in (*gold.TAG_CATEGORIES, OTHER))):
        gold_songs = gold_songs.withColumn(column, F.coalesce(F.col(column), empty))
    # Tag co-occurrence and merges: a driver step over at most (tags)² pairs.
    rule = merge_rule or tag_merge.MergeRule.from_settings()
    started = time.perf_counter()
    tag_playlists, pairs, tagged = tag_merge.count_cooccurrence(silver_playlists.select("source", "plm_seq", "tags"))
    tag_map_rows = tag_merge.merge_tags(tag_playlists, pairs, rule)
    log.info("tag co-occurrence: %d tags, %d ordered pairs over %d tagged playlists; %d tags merged (%.1f s)",
             len(tag_playlists), len(pairs), tagged, sum(r["merged"] for r in tag_map_rows),
             time.perf_counter() - started)
    no_english = sorted({r["label"] for r in tag_map_rows if r["category"] != OTHER and not r["label_en"]})
    if no_english:
        log.warning("labels without an English glossary entry (kept in Korean in sentences): %s", no_english)
    coverage = glossary_coverage(tag_map_rows, tag_playlists)
    log.info("glossary: %d of %d tag occurrences (%.1f%%) have no English label (free-form tags of no category: "
             "kept in tags_other, not in sentences); e.g. %s", coverage["untranslated_occurrences"],
             coverage["occurrences"], 100 * coverage["untranslated_share"], coverage["top_untranslated"][:5])
    files.write_text(tag_merge.heatmap_path(run_key).parent / GLOSSARY_REPORT, json.dumps(coverage, ensure_ascii=False))
    gold_tag_map = (spark.createDataFrame(pd.DataFrame(tag_map_rows, columns=gold.TAG_MAP.column_names[:-1]),
                                          _ddl(gold.TAG_MAP, without=("run_key",)))
                    .withColumn("run_key", F.lit(run_key)))
    gold_cooccurrence = (spark.createDataFrame(pd.DataFrame(tag_merge.cooccurrence_rows(pairs),
                                                            columns=gold.TAG_COOCCURRENCE.column_names[:-1]),
                                               _ddl(gold.TAG_COOCCURRENCE, without=("run_key",)))
                         .withColumn("run_key", F.lit(run_key)))
    label_of = {r["tag"]: (r["label"], r["category"]) for r in tag_map_rows}

    gold_songs = (gold_songs.withColumn("no_tags", F.size("tags") == 0)
                  .withColumn("_sentence", _sentences_udf(label_of)(F.col("tags")))
                  .withColumn("sentence_en", F.col("_sentence.sentence_en"))
                  .withColumn("sentence_ko", F.col("_sentence.sentence_ko"))
                  .withColumn("run_key", F.lit(run_key))
                  .select(*gold.SONGS.column_names)
                  .localCheckpoint())  # computed once: the songs table and both embedding tables read it

    gold_tags = (
        playlist_tags.groupBy("tag", "category")
        .agg(F.size(F.collect_set(F.struct("source", "plm_seq"))).cast("bigint").alias("playlist_count"))
        .join(song_tag_counts.groupBy("tag").agg(F.count("*").cast("bigint").alias("song_count")), "tag", "left")
        .withColumn("song_count", F.coalesce("song_count", F.lit(0).cast("bigint")))  # a tag on songless playlists
        .withColumn("run_key", F.lit(run_key))
        .select(*gold.TAGS.column_names)
    )
    gold_aliases = (spark.createDataFrame(alias_rows, "alias string, artist_key string, artist_name string, "
                                                      "evidence array<string>, row_count bigint, used boolean, "
                                                      "reason string")
                    .withColumn("run_key", F.lit(run_key)).select(*gold.ARTIST_ALIASES.column_names))
    gold_lineage = silver_songs.select(*gold.SONG_LINEAGE.column_names)
    return {
        silver.PLAYLISTS: silver_playlists,
        silver.PLAYLIST_SONGS: silver_songs.select(*silver.PLAYLIST_SONGS.column_names),
        gold.SONGS: gold_songs,
        gold.TAGS: gold_tags,
        gold.ARTIST_ALIASES: gold_aliases,
        gold.SONG_LINEAGE: gold_lineage,
        gold.TAG_COOCCURRENCE: gold_cooccurrence,
        gold.TAG_MAP: gold_tag_map,
    }


def glossary_coverage(tag_map_rows: list[dict], tag_playlists: dict[str, int]) -> dict:
    """How much of the tagging the sentences can say in English: tag occurrences (a tag on a playlist)
    whose tag maps to a label with an English glossary entry, and the most frequent ones that do not."""
    english = {r["tag"] for r in tag_map_rows if r["label_en"]}
    occurrences = sum(tag_playlists.values())
    untranslated = {t: n for t, n in tag_playlists.items() if t not in english}
    top = sorted(untranslated, key=lambda t: (-untranslated[t], t))[:20]
    return {"occurrences": occurrences, "untranslated_occurrences": sum(untranslated.values()),
            "untranslated_share": round(sum(untranslated.values()) / occurrences, 4) if occurrences else 0.0,
            "tags": len(tag_playlists), "untranslated_tags": len(untranslated), "top_untranslated": top}


def _ddl(table, without: tuple[str, ...] = ()) -> str:
    from pyspark.sql.types import StructType

    schema = StructType.fromDDL(table.spark_ddl())
    return StructType([f for f in schema.fields if f.name not in without]).simpleString()


def embedding_tables(gold_songs, run_key: str) -> tuple[dict, dict]:
    """gold.sentence_embeddings and gold.song_embeddings from the songs' sentences (each distinct sentence
    embedded once, from the cache when it can be: spark_jobs.embeddings). Returns (frames, stats)."""
    from pyspark.sql import functions as F

    from spark_jobs import embeddings

    songs = gold_songs.select("song_key", "sentence_en", "sentence_ko").withColumn(
        "sentence_id", F.substring(F.sha2(F.col("sentence_en"), 256), 1, 16))  # = spark_jobs.sentences.sentence_id
    sentences = (songs.where(F.col("sentence_en").isNotNull())
                 .groupBy("sentence_id", "sentence_en")
                 .agg(F.min("sentence_ko").alias("sentence_ko"), F.count("*").cast("bigint").alias("song_count")))
    vectors, stats = embeddings.sentence_vectors(sentences, run_key)
    sentence_table = (sentences.join(vectors, "sentence_en", "left")
                      .withColumn("model", F.lit(stats["model"]))
                      .withColumn("error", F.when(F.col("vector").isNull(),
                                                  F.coalesce("error", F.lit("no vector was returned"))))
                      .withColumn("run_key", F.lit(run_key))
                      .select(*gold.SENTENCE_EMBEDDINGS.column_names)
                      .localCheckpoint())  # the gold table and the songs' rows both read it
    song_table = (songs.join(sentence_table.select("sentence_id", "error", F.col("vector").isNotNull().alias("_has")),
                             "sentence_id", "left")
                  .withColumn("has_vector", F.coalesce("_has", F.lit(False)))
                  .withColumn("reason", F.when(F.col("sentence_id").isNull(),
                                               F.lit("no sentence: no tag of the six categories"))
                              .when(~F.col("has_vector"), F.concat(F.lit("its sentence failed to embed: "), "error")))
                  .withColumn("run_key", F.lit(run_key))
                  .select(*gold.SONG_EMBEDDINGS.column_names))
    return {gold.SENTENCE_EMBEDDINGS: sentence_table, gold.SONG_EMBEDDINGS: song_table}, stats


GLOSSARY_REPORT = "glossary_coverage.json"  # beside the heatmap: tag occurrences the sentences cannot say
BRONZE_INPUTS = (bronze.PLAYLISTS, bronze.PLAYLIST_SONGS, bronze.SONGS_INFO)
# Written by spark_jobs.clean_covers; read for each playlist's cover verdict (optional: absent, they are null).
COVER_VERDICTS = silver.COVER_QUALITY
# What this build writes.
OUTPUTS = (silver.PLAYLISTS, silver.PLAYLIST_SONGS, *gold.TABLES)


def code_texts() -> list[str]:
    """What decides the build's output besides its inputs: the Spark jobs and schemas (code and data
    files), the Spark version, the Delta writer, the tag merge thresholds and the sentence model's weights.
    A change to any of them means rebuilding."""
    import pyspark

    from core import settings
    from spark_jobs import embeddings

    root = Path(__file__).resolve().parent.parent
    sources = sorted(p for folder in ("spark_jobs", "schemas") for p in (root / folder).rglob("*")
                     if p.suffix in (".py", ".json") and "covers" not in p.relative_to(root).parts)
    return [f"pyspark {pyspark.__version__}", f"writer {settings.load().delta_writer}",
            f"tag merges {tag_merge.MergeRule.from_settings().describe()}", f"sentence model {embeddings.model_id()}",
            *(f"{p.relative_to(root)}\n{p.read_text(encoding='utf-8')}" for p in sources)]


def _pinned_inputs(input_versions: dict[str, int]) -> dict:
    """Every input at the version asked for (default: the latest; silver.cover_quality only when it
    exists); a name that is no input or a version the table does not have fails in one line."""
    inputs = (*BRONZE_INPUTS, COVER_VERDICTS)
    unknown = sorted(set(input_versions) - {t.qualified_name for t in (*bronze.TABLES, COVER_VERDICTS)})
    if unknown:  # versions of other bronze tables (the crawl passes all it wrote) are simply not read
        raise ConfigurationError(f"input versions given for tables the build does not read: {unknown}")
    pinned = {}
    for table in inputs:
        latest = delta.version(table)
        version = input_versions.get(table.qualified_name, latest)
        if version is not None and (latest is None or not 0 <= version <= latest):
            raise ConfigurationError(f"{table.qualified_name} has no version {version} (latest: {latest})")
        pinned[table] = version
    return pinned


def build(run_key: str, input_versions: dict[str, int] | None = None, spark=None, force: bool = False) -> dict[str, int]:
    """Build every silver and gold table for ``run_key`` from the given bronze (and cover verdict) versions.

    Returns ``{"layer.table": delta_version}`` of the catalogue this run uses.
    When an earlier run built from the same bronze files with the same code,
    its versions are reused (no Spark job; ``ops.catalogue_builds`` says so),
    unless ``force``.
    """
    RunPartition.parse(run_key)  # a malformed key fails here, before Spark starts
    pinned = _pinned_inputs(input_versions or {})
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
        verdicts = read_delta(session, COVER_VERDICTS, pinned[COVER_VERDICTS]) if pinned[COVER_VERDICTS] is not None else None
        outputs = transform(*(read_delta(session, t, pinned[t]) for t in BRONZE_INPUTS), run_key,
                            cover_quality=verdicts)
        started = time.perf_counter()
        embedded, stats = embedding_tables(outputs[gold.SONGS], run_key)
        outputs.update(embedded)
        log.info("sentences: %d encoded now (%d failed; %.1f s), the rest from the cache (%s); %.1f s in all",
                 stats["embedded"], stats["failed"], stats["encode_s"], stats["model"], time.perf_counter() - started)
        started = time.perf_counter()
        # Drawn before any commit: a build that cannot draw it fails before writing anything.
        heatmap = tag_merge.draw_heatmap(
            [r.asDict() for r in outputs[gold.TAG_COOCCURRENCE].collect()],
            [r.asDict() for r in outputs[gold.TAG_MAP].collect()],
            tag_merge.heatmap_path(run_key), f"Tag co-occurrence P(column | row), catalogue build {run_key}")
        log.info("tag co-occurrence heatmap: %s (%.1f s)", heatmap, time.perf_counter() - started)
        # Gold is derived from silver: keep the playlists in memory once computed (Spark matches the cached
        # plan inside the gold queries; the song rows are a local checkpoint already).
        cached = [outputs[silver.PLAYLISTS].persist()]
        for table, df in outputs.items():
            version = write_table(df, table, run_key)
            committed[table.qualified_name] = version
            log.info("%s: Delta version %s (%d rows)", table.qualified_name, version, delta.count_rows(table, version))
        for df in cached:
            df.unpersist()
    remove_staging(run_key)
    return committed


def reports(run_key: str) -> dict[str, Path]:
    """Figures of the catalogue ``run_key`` uses, for its run summary: those drawn by the build that wrote
    its versions (a reused build points to the earlier run's)."""
    built = builds.of_run(run_key)
    built_by = built[gold.TAG_MAP.qualified_name]["built_by"] if gold.TAG_MAP.qualified_name in built else run_key
    folder = tag_merge.heatmap_path(built_by).parent
    found = {"tag_cooccurrence_heatmap": folder / tag_merge.HEATMAP_NAME, "glossary_coverage": folder / GLOSSARY_REPORT}
    return {name: path for name, path in found.items() if path.is_file()}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run-key", required=True, help="the refresh run's key, e.g. 20261121T000000Z")
    parser.add_argument("--input-versions", "--bronze-versions", type=json.loads, default=None,
                        help='versions of the bronze tables and silver.cover_quality to read, '
                             'e.g. \'{"bronze.playlists": 3}\' (default: latest)')
    parser.add_argument("--force", action="store_true",
                        help="rebuild even when an earlier build read the same bronze files with the same code")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    print(json.dumps(build(args.run_key, args.input_versions, force=args.force)))


if __name__ == "__main__":
    main()
    exit_now(0)  # printed and committed: skip a teardown native threads can abort
