"""
### catalogue_refresh

Refreshes the song catalogue from Genie playlists, once a week:

1. **preflight** – settings, Java, a writable `SCENETUNE_HOME`, a free demo-site
   port; derives the run's partition (`run_key`, `run_date`) once, from the
   logical date (or, for an Asset-triggered run, the time it was created for).
   A wrong setting fails here, at once, without retries.
2. **crawl** – Scrapy crawls new, changed and previously failed playlists (the
   embedded demo site unless `GENIE_BASE_URL` is set) into the run's bronze
   partitions; returns the bronze Delta versions it committed.
3. **build_catalogue** – Spark reads exactly those bronze versions and builds
   silver playlists and song rows, gold songs and tags; returns the Delta
   version of each table it committed.
4. **quality_gate** – audits exactly those versions against `schemas/` and
   records the verdicts; a failing gate fails the run here.
5. **publish** – copies exactly the audited versions into the DuckDB file,
   swapped in atomically. Nothing unaudited is ever published.

Every task writes the partition of this run's `run_key`, so a retry or a
re-run replaces what it wrote before.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import dag, task

from scenetune.assets import BRONZE_CRAWL, CATALOGUE_AUDITED, CATALOGUE_DUCKDB


@dag(
    dag_id="catalogue_refresh",
    schedule="@weekly",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,  # one writer of the Delta tables and the DuckDB file
    default_args={"owner": "scenetune", "retries": 2, "retry_delay": timedelta(minutes=2)},
    tags=["scenetune", "catalogue"],
    doc_md=__doc__,
)
def catalogue_refresh():
    @task
    def preflight(**context) -> dict:
        from core.runs import RunPartition
        from scenetune import preflight
        from scenetune.fail_fast import fail_fast

        with fail_fast():
            preflight.before_refresh()
        return RunPartition.from_airflow(context).to_xcom()

    @task(outlets=[BRONZE_CRAWL])
    def crawl(run: dict) -> dict:
        from core.runs import RunPartition
        from crawlers.run import crawl
        from scenetune.fail_fast import fail_fast
        from scenetune.site import genie_site

        with fail_fast(), genie_site() as base_url:
            crawled = crawl(RunPartition.from_xcom(run), base_url)
        return {"bronze_versions": crawled.bronze_versions, "stats": crawled.stats}

    @task
    def build_catalogue(run: dict, crawled: dict) -> dict:
        from spark_jobs.build_catalogue import build

        return build(run["run_key"], crawled["bronze_versions"])

    @task(outlets=[CATALOGUE_AUDITED])
    def quality_gate(run: dict, crawled: dict, built: dict) -> dict:
        from quality.checks import gate
        from scenetune.fail_fast import fail_fast
        from warehouse.publish import bronze_published

        versions = {**built, **bronze_published(crawled["bronze_versions"])}
        with fail_fast():
            gate(run["run_key"], versions)
        return versions

    @task(outlets=[CATALOGUE_DUCKDB])
    def publish(run: dict, audited: dict) -> dict:
        from scenetune.fail_fast import fail_fast
        from warehouse.publish import publish

        with fail_fast():
            published = publish(run["run_key"], audited)
        return {"path": str(published.path), "versions": published.versions, "rows": published.rows}

    run = preflight()
    crawled = crawl(run)
    built = build_catalogue(run, crawled)
    publish(run, quality_gate(run, crawled, built))


catalogue_refresh()
