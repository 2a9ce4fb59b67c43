"""Clean the playlist covers: a verdict for every playlist's cover, and the cleaned images to train on.

Runs inside an Airflow task (``clean_covers(run_key, bronze_versions)``, between the crawl and the
catalogue build) or on its own:

    spark-submit spark_jobs/clean_covers.py --run-key 20261122T000000Z

It reads exactly the bronze versions it is given (``bronze.playlists`` and ``bronze.covers``; the
latest when run by hand), takes each playlist's latest crawled state, analyses in Spark
(``mapInPandas``: templates and one Tesseract process per batch, cheap stages first; see
``spark_jobs/covers``) every cover content it has not analysed before with the same rules, and
writes ``silver.cover_quality`` as one new Delta version (one row per playlist). Returns
``{"silver.cover_quality": delta_version}``.

Cache: the previous version of ``silver.cover_quality`` holds each analysed cover's evidence with
the rules version; a refresh analyses only cover hashes missing there (or whose cleaned image is
gone), so a re-run of the same run gives the same table, and changing a threshold analyses
everything once. When the bronze files, the code and the rules are those of an earlier clean,
its version is reused without starting Spark (``ops.catalogue_builds`` records which run wrote it).
"""

from __future__ import annotations

import argparse
import json
import logging
from dataclasses import asdict
from pathlib import Path

import pyarrow as pa

from core import settings
from core.process import exit_now
from core.runs import RunPartition
from schemas import bronze, silver
from spark_jobs.covers import rules as cover_rules
from spark_jobs.covers.classify import ANALYSIS_COLUMNS
from spark_jobs.io import read_delta, remove_staging, write_table
from spark_jobs.session import spark_session
from warehouse import builds, delta

log = logging.getLogger(__name__)

BRONZE_INPUTS = (bronze.PLAYLISTS, bronze.COVERS)
OUTPUT = silver.COVER_QUALITY
COVERS_PER_TASK = 40  # one Spark task, one Tesseract process: small enough to spread over the cores


def code_texts(rules: cover_rules.Rules) -> list[str]:
    """The code and rules that decide the output: a change to any means cleaning again."""
    package = Path(__file__).resolve().parent / "covers"
    texts = [Path(__file__).read_text(encoding="utf-8")]
    texts += [p.read_text(encoding="utf-8") for p in sorted(package.glob("*.py"))]
    texts += [p.read_bytes().hex() for p in sorted((package / "templates").glob("*.jpg"))]
    return texts + [json.dumps(asdict(rules), sort_keys=True)]


def clean_covers(run_key: str, bronze_versions: dict[str, int] | None = None, spark=None,
                 force: bool = False) -> dict[str, int]:
    """Judge every playlist's cover for ``run_key`` from the given bronze versions; return the version written."""
    from spark_jobs.covers import text

    RunPartition.parse(run_key)  # a malformed key fails here, before Spark starts
    rules = cover_rules.from_settings()
    text.require_tesseract()
    pinned = {t: (bronze_versions or {}).get(t.qualified_name, delta.version(t)) for t in BRONZE_INPUTS}
    inputs_fingerprint = builds.fingerprint(code_texts(rules), pinned)
    earlier = None if force else builds.reusable(inputs_fingerprint, (OUTPUT,), exclude_run_key=run_key)
    if earlier is not None:
        built_by, committed = earlier
        log.info("bronze inputs, code and rules unchanged since run %s: reusing %s", built_by, committed)
    else:
        built_by, committed = run_key, _clean_with_spark(run_key, pinned, rules, spark)
    builds.record(run_key, committed, built_by, inputs_fingerprint)
    return committed


def recorded_verdicts(run_key: str) -> int | None:
    """The silver.cover_quality version ``run_key``'s own cleaning recorded, when every verdict in it was
    made with today's rules (else None: clean again). What ``scenetune evaluate covers`` scores: the
    verdicts the refresh used, without a Spark job."""
    recorded = builds.of_run(run_key).get(OUTPUT.qualified_name)
    if recorded is None:
        return None
    try:
        used = delta.read(OUTPUT, version=recorded["delta_version"], columns=("rules_version",)).column("rules_version")
    except Exception:  # noqa: BLE001 - a version that cannot be read (vacuumed) is cleaned again
        return None
    return recorded["delta_version"] if set(used.to_pylist()) == {cover_rules.from_settings().version} else None


def latest_playlists(session, pinned: dict):
    """Each playlist's newest crawled state with its cover row (the same rule as build_catalogue)."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    # Covers are Genie's: an imported source (Melon) has none.
    playlists = read_delta(session, bronze.PLAYLISTS, pinned[bronze.PLAYLISTS]).where(F.col("source") == bronze.COVER_SOURCE)
    covers = read_delta(session, bronze.COVERS, pinned[bronze.COVERS])
    newest = Window.partitionBy("plm_seq").orderBy(F.desc("fetched_at"), F.desc("run_key"))
    latest = (playlists.withColumn("_rank", F.row_number().over(newest)).filter(F.col("_rank") == 1)
              .select("plm_seq", F.col("run_key").alias("crawl_run_key"), "title", "maker_name", "tags",
                      "cover_sha1", "cover_status"))
    cover_rows = covers.select("plm_seq", F.col("run_key").alias("crawl_run_key"), "path",
                               F.col("error").alias("cover_error"))
    return latest.join(cover_rows, ["plm_seq", "crawl_run_key"], "left")


def cached_analyses(rules: cover_rules.Rules, home: Path) -> dict[str, dict]:
    """Analyses of the previous silver.cover_quality version made with these rules (cleaned images present)."""
    names = [name for name, _ in ANALYSIS_COLUMNS] + ["analysed_by", "rules_version"]
    try:
        previous = delta.read_or_empty(OUTPUT, columns=names).to_pylist()
    except Exception as err:  # noqa: BLE001 - a table from another scenetune version: analyse afresh
        log.warning("previous %s unreadable as a cache (%s): analysing every cover", OUTPUT.qualified_name, err)
        return {}
    out = {}
    for row in previous:
        if row["rules_version"] != rules.version or not row["cover_sha1"] or row["image_kind"] is None:
            continue
        if row["cleaned_path"] and not (home / row["cleaned_path"]).is_file():
            continue  # its cleaned image was removed: analyse (and write) it again
        out[row["cover_sha1"]] = {k: row[k] for k in names if k != "rules_version"}
    return out


def _analysis_schema() -> str:
    ddl = {"string": "STRING", "int32": "INT", "float32": "FLOAT"}
    return ", ".join(f"`{name}` {ddl[kind]}" for name, kind in ANALYSIS_COLUMNS)


def analyse_in_spark(session, todo: list[tuple[str, str]], rules: cover_rules.Rules, home: Path,
                     cleaned_dir: Path) -> list[dict]:
    """Analyse ``(cover_sha1, path under home)`` pairs with mapInPandas; rows of ANALYSIS_COLUMNS."""
    import pandas as pd

    from spark_jobs.covers.classify import analyse_frames

    if not todo:
        return []
    frame = pd.DataFrame(todo, columns=["cover_sha1", "path"])
    tasks = max(1, min(len(todo) // COVERS_PER_TASK + 1, 64))
    df = session.createDataFrame(frame, "cover_sha1 STRING, path STRING").repartition(tasks, "cover_sha1")
    home_s, cleaned_s = str(home), str(cleaned_dir)

    def analyse_partition(frames):
        return analyse_frames(frames, rules, home_s, cleaned_s, batch=COVERS_PER_TASK)

    return df.mapInPandas(analyse_partition, schema=_analysis_schema()).toArrow().to_pylist()


def _thumbnail_loader(paths: dict[str, str], home: Path):
    from spark_jobs.covers import duplicates

    def load(sha1: str):
        rel = paths.get(sha1)
        try:
            return duplicates.thumbnail(home / rel) if rel else None
        except Exception:  # noqa: BLE001 - decoded once already; a file gone since is just no pair
            return None

    return load


def _clean_with_spark(run_key: str, pinned: dict, rules: cover_rules.Rules, spark) -> dict[str, int]:
    from spark_jobs.covers import verdicts

    s = settings.load()
    with spark_session("scenetune-clean-covers", spark) as session:
        playlists = latest_playlists(session, pinned).toArrow().to_pylist()
        cache = cached_analyses(rules, s.home)
        paths = {p["cover_sha1"]: p["path"] for p in playlists if p["cover_status"] == "ok" and p["cover_sha1"]}
        todo = sorted((sha1, path) for sha1, path in paths.items() if sha1 not in cache)
        log.info("%d distinct covers: %d analysed before with rules %s, %d to analyse",
                 len(paths), len(paths) - len(todo), rules.version, len(todo))
        analyses = {sha1: cache[sha1] for sha1 in paths if sha1 in cache}
        for row in analyse_in_spark(session, todo, rules, s.home, s.cleaned_covers_dir):
            analyses[row["cover_sha1"]] = {**row, "analysed_by": run_key}
        rows = verdicts.decide(playlists, analyses, rules, run_key, _thumbnail_loader(paths, s.home))
        data = session.createDataFrame(pa.Table.from_pylist(rows, schema=OUTPUT.arrow_schema()))
        version = write_table(data.coalesce(1), OUTPUT, run_key)
        log.info("%s: Delta version %s (%d rows, %d covers analysed now)", OUTPUT.qualified_name, version,
                 len(rows), len(todo))
    remove_staging(run_key)
    return {OUTPUT.qualified_name: version}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run-key", required=True, help="the refresh run's key, e.g. 20261122T000000Z")
    parser.add_argument("--bronze-versions", type=json.loads, default=None,
                        help='bronze versions to read, e.g. \'{"bronze.covers": 3}\' (default: latest)')
    parser.add_argument("--force", action="store_true",
                        help="clean again even when an earlier clean read the same bronze files with the same code")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    print(json.dumps(clean_covers(args.run_key, args.bronze_versions, force=args.force)))


if __name__ == "__main__":
    main()
    exit_now(0)  # printed and committed: skip a teardown native threads can abort
