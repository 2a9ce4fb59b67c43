"""
### catalogue_refresh

Refreshes the song catalogue from Genie playlists, once a week (`SCENETUNE_REFRESH_SCHEDULE`):

1. **preflight** – settings, Java, a writable `SCENETUNE_HOME`, a free demo-site
   port; derives the run's partition (`run_key`, `run_date`) once, from the
   logical date (or, for an Asset-triggered run, the time it was created for).
   A wrong setting fails here, at once, without retries.
2. **crawl** – Scrapy crawls new, changed and previously failed playlists (the
   embedded demo site unless `GENIE_BASE_URL` is set) into the run's bronze
   partitions; returns the bronze Delta versions it committed.
3. **import_melon** – when `SCENETUNE_MELON_DIR` names a Kakao Arena Melon
   dataset folder, imports what changed in it into the same bronze tables
   (`source = 'melon'`, books in `bronze.import_runs`); otherwise does nothing.
4. **clean_covers** – Spark judges every Genie playlist's cover (Melon's have none) (text, ad, Genie
   template, duplicate or a scene: keep / crop / drop / unreadable, with its
   reason and evidence) and keeps the cleaned images; covers judged before with
   the same rules are not analysed again.
5. **build_catalogue** – Spark reads exactly those bronze versions and cover
   verdicts and builds silver playlists and song rows, gold songs
   (deduplicated, with genres and tags by category), tags, artist aliases, song
   lineage, tag co-occurrence and merges, song sentences and their embeddings;
   returns the Delta version of each table it committed (or reused: when its
   inputs and code are those of an earlier build; `force_build` rebuilds).
6. **train_tag_head** and **quality_gate**, side by side (neither reads the
   other's output; under a parallel executor they run at the same time):
   - train_tag_head trains the image model's tag head on the cleaned covers and
     the merged labels of their playlists (`ops.tag_models`, keyed by this
     run's `run_key`); reports its held-out mAP.
   - quality_gate audits exactly the built versions against `schemas/` and
     records the verdicts; a failing gate fails the run here.
7. **publish** – waits for both, then copies exactly the audited versions into
   the DuckDB file, swapped in atomically. Nothing unaudited is ever published,
   and the catalogue version goes live together with the head trained on it:
   scoring uses the head of the live version's run (`scoring.models`), so a
   rejected refresh's head is never used, and a rollback restores its head too.
8. **record_run** – after every other task, whatever its outcome: writes the
   run's summary (state, time per stage, row counts, quality result, crawl
   books, catalogue version, and a failure's one paragraph) to
   `ops.pipeline_runs` (`scenetune runs`). A teardown: it leaves the run's
   state to the stages, so a failed gate still fails the run.

Every task writes the partition of this run's `run_key`, so a retry or a
re-run replaces what it wrote before.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import Param, dag, task, teardown

from core.settings import refresh_schedule
from scenetune.assets import BRONZE_CRAWL, CATALOGUE_AUDITED, CATALOGUE_DUCKDB
from scenetune.run_summary import on_failure


@dag(
    dag_id="catalogue_refresh",
    schedule=refresh_schedule(),  # SCENETUNE_REFRESH_SCHEDULE, default @weekly
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,  # one writer of the Delta tables and the DuckDB file
    default_args={"owner": "scenetune", "retries": 2, "retry_delay": timedelta(minutes=2),
                  "on_failure_callback": on_failure},  # a failure's one paragraph, for the log and the summary
    tags=["scenetune", "catalogue"],
    params={"force_build": Param(False, type="boolean",
                                 description="Clean the covers and rebuild even when the inputs and code are those "
                                             "of an earlier run.")},
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
        from scenetune.site import genie_site, site_key

        with fail_fast(), genie_site() as base_url:
            crawled = crawl(RunPartition.from_xcom(run), base_url, site=site_key(base_url))
        return {"bronze_versions": crawled.bronze_versions, "stats": crawled.stats}

    @task(outlets=[BRONZE_CRAWL])
    def import_melon(run: dict, crawled: dict) -> dict:
        from core.runs import RunPartition
        from importers.melon import import_configured
        from scenetune.fail_fast import fail_fast

        with fail_fast():  # after the crawl: one writer of the shared bronze tables at a time
            return import_configured(RunPartition.from_xcom(run))

    @task
    def clean_covers(run: dict, crawled: dict, **context) -> dict:
        from scenetune.fail_fast import fail_fast
        from spark_jobs.clean_covers import clean_covers

        with fail_fast():
            return clean_covers(run["run_key"], crawled["bronze_versions"], force=context["params"]["force_build"])

    @task
    def build_catalogue(run: dict, crawled: dict, imported: dict, cleaned: dict, **context) -> dict:
        from scenetune.fail_fast import fail_fast
        from spark_jobs.build_catalogue import build

        with fail_fast():
            return build(run["run_key"], {**crawled["bronze_versions"], **imported["bronze_versions"], **cleaned},
                         force=context["params"]["force_build"])

    @task
    def train_tag_head(run: dict, crawled: dict, cleaned: dict, built: dict) -> dict:
        from scenetune.fail_fast import fail_fast
        from scoring.labels import from_gold_tag_map
        from scoring.tag_head import NoTrainingData, train_tag_head

        with fail_fast():
            try:
                trained = train_tag_head(run["run_key"], {**crawled["bronze_versions"], **cleaned, **built},
                                         label_map=from_gold_tag_map(built["gold.tag_map"]))
            except NoTrainingData as err:  # a catalogue too small to learn from: scoring keeps the previous head
                return {"model_version": None, "not_trained": str(err)}
        return {k: trained[k] for k in ("model_version", "train_images", "heldout_images", "heldout_map", "prior_map")}

    @task(outlets=[CATALOGUE_AUDITED])
    def quality_gate(run: dict, crawled: dict, imported: dict, cleaned: dict, built: dict) -> dict:
        from quality.checks import gate
        from scenetune.fail_fast import fail_fast
        from warehouse.publish import bronze_published

        versions = {**built, **cleaned,
                    **bronze_published({**crawled["bronze_versions"], **imported["bronze_versions"]})}
        with fail_fast():
            gate(run["run_key"], versions)
        return versions

    @task(outlets=[CATALOGUE_DUCKDB])
    def publish(run: dict, audited: dict, trained: dict) -> dict:
        from scenetune.fail_fast import fail_fast
        from warehouse.publish import publish

        with fail_fast():
            published = publish(run["run_key"], audited)
        return {"path": str(published.path), "versions": published.versions, "rows": published.rows,
                "model_version": trained["model_version"]}

    @teardown
    def record_run(**context) -> dict:
        from scenetune import run_summary
        from scenetune.fail_fast import fail_fast

        with fail_fast():  # a run failed by a wrong setting cannot be recorded either: no retries
            return run_summary.record_run(context, run_summary.catalogue_fields)

    run = preflight()
    crawled = crawl(run)
    imported = import_melon(run, crawled)
    cleaned = clean_covers(run, crawled)
    built = build_catalogue(run, crawled, imported, cleaned)
    trained = train_tag_head(run, crawled, cleaned, built)  # these two in parallel:
    audited = quality_gate(run, crawled, imported, cleaned, built)  # neither reads the other
    published = publish(run, audited, trained)  # goes live with the head trained on it
    [run, crawled, imported, cleaned, built, trained, audited, published] >> record_run()


catalogue_refresh()
