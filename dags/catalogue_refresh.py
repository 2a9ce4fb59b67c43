"""
### catalogue_refresh

Refreshes the song catalogue from Genie playlists, once a week:

1. **crawl** – Scrapy crawls new and changed playlists (the embedded demo site
   unless `GENIE_BASE_URL` is set) into bronze Delta tables.
2. **build_catalogue** – Spark builds silver playlists and song rows and gold
   songs and tags (`spark_jobs/build_catalogue.py`).
3. **quality_gate** – the build must honour the keys and not-null columns
   stated in `schemas/`; nothing is published otherwise.
4. **publish** – gold and silver tables are copied into the DuckDB file,
   swapped in atomically.

Every task writes the partition of this run's logical date, so a retry or a
re-run replaces what it wrote before.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import dag, task

from scenetune.assets import BRONZE_CRAWL, CATALOGUE_BUILD, CATALOGUE_DUCKDB


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
    @task(outlets=[BRONZE_CRAWL])
    def crawl(**context) -> dict:
        from scenetune import refresh, runs

        result = refresh.crawl(runs.key_from_context(context))
        return {"run_key": result["run_key"], "stats": result["stats"]}

    @task(outlets=[CATALOGUE_BUILD])
    def build_catalogue(crawled: dict) -> dict:
        from scenetune import refresh

        return refresh.build(crawled["run_key"])

    @task
    def quality_gate(crawled: dict, built: dict) -> list:
        from scenetune import refresh

        return refresh.gate(crawled["run_key"])

    @task(outlets=[CATALOGUE_DUCKDB])
    def publish(crawled: dict, checked: list) -> dict:
        from scenetune import refresh

        return refresh.publish(crawled["run_key"])

    crawled = crawl()
    built = build_catalogue(crawled)
    checked = quality_gate(crawled, built)
    publish(crawled, checked)


catalogue_refresh()
