"""
### score_uploads

Scores the photos users queued (`scenetune submit`), every night at 02:00 UTC and whenever a
catalogue refresh publishes a new catalogue (the `catalogue_duckdb` Asset); or by hand, with
`{"path": "<folder inside SCENETUNE_UPLOAD_ROOTS>", "genres": ["발라드", "POP"]}` to submit a
folder first.

1. **submit** – with a `path`: checks it lies inside an allowed upload root and that the genres
   are Genie's (anything else fails at once, without retries, in one line), then walks the folder
   and queues its images (`ops.image_uploads`); without one: nothing (genres without a path, a
   missing folder or one outside the roots fail the same way).
2. **score** – a Spark job scores everything queued (and rows a crashed run left running): tags
   from the image model, the caption's bounded shift, both recommenders' songs
   (`gold.image_tags`, `gold.recommendations`); every claimed image ends scored or failed.
3. **publish** – copies the scoring tables into the DuckDB file beside the live catalogue
   version (which does not change); before any catalogue is live there is nothing to publish into.
4. **record_run** – after the others, whatever their outcome: writes the run's summary (state, time
   per stage, the submission, images claimed / scored / failed, the model and catalogue version, a
   failure's one paragraph) to `ops.pipeline_runs` (`scenetune runs --dag score_uploads`). A
   teardown: a failed run stays failed.

The run key comes from the logical date (an Asset-triggered run: the time it was created for), so
a retry scores under the same key and a re-run claims nothing twice. `airflow backfill create
--dag-id score_uploads --from-date … --to-date …` runs past nights (the 02:00 schedule; catchup
stays off for the scheduler): each scores what is queued when it runs, so nothing is scored twice.
A backfill starts up to its own `--max-active-runs` runs at once, not this DAG's one; the queue's
scoring lock and the warehouse's publish lock keep them to one writer at a time.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import AssetOrTimeSchedule, CronTriggerTimetable, Param, dag, task, teardown

from scenetune.assets import CATALOGUE_DUCKDB, SCORING_RESULTS
from scenetune.run_summary import on_failure


@dag(
    dag_id="score_uploads",
    schedule=AssetOrTimeSchedule(timetable=CronTriggerTimetable("0 2 * * *", timezone="UTC"),
                                 assets=[CATALOGUE_DUCKDB]),
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,  # one scoring run at a time: one writer of the queue and the DuckDB file
    default_args={"owner": "scenetune", "retries": 2, "retry_delay": timedelta(minutes=2),
                  "on_failure_callback": on_failure},  # a failure's one paragraph, for the log and the summary
    tags=["scenetune", "scoring"],
    params={
        "path": Param(None, type=["null", "string"],
                      description="A folder of photos inside SCENETUNE_UPLOAD_ROOTS to submit before scoring."),
        "genres": Param([], type="array", items={"type": "string"}, maxItems=3,
                        description="1-3 Genie genres for the submitted photos' songs, e.g. [\"발라드\", \"POP\"]."),
    },
    doc_md=__doc__,
)
def score_uploads():
    @task
    def submit(**context) -> dict:
        from core.runs import RunPartition
        from scenetune.fail_fast import fail_fast
        from scoring.uploads import check_request, submit

        run = RunPartition.from_airflow(context)
        with fail_fast():
            folder, genres = check_request(context["params"].get("path"), context["params"].get("genres"))
            if folder is None:
                return {**run.to_xcom(), "submission_id": None}
            made = submit(folder, moment=run, genres=genres, submitter="score_uploads")
        return {**run.to_xcom(), **made.as_dict()}

    @task
    def score(submitted: dict) -> dict:
        from scenetune.fail_fast import fail_fast
        from scoring.score_uploads import score

        with fail_fast():
            return score(submitted["run_key"])

    @task(outlets=[SCORING_RESULTS])
    def publish(submitted: dict, books: dict) -> dict:
        from scenetune.fail_fast import fail_fast
        from warehouse.publish import publish_scoring_if_live

        with fail_fast():
            return publish_scoring_if_live(submitted["run_key"])

    @teardown
    def record_run(**context) -> dict:
        from scenetune import run_summary
        from scenetune.fail_fast import fail_fast

        with fail_fast():
            return run_summary.record_run(context, run_summary.scoring_fields)

    submitted = submit()
    books = score(submitted)
    [submitted, books, publish(submitted, books)] >> record_run()


score_uploads()
