"""
### warehouse_maintenance

Keeps the warehouse's Delta tables from growing without bound, after each published catalogue:

1. **retention** – keeps the last `SCENETUNE_KEEP_VERSIONS` catalogue versions readable
   (`scenetune sql --version N`, `scenetune rollback N`) and vacuums every Delta file of the
   published tables that none of them, nor the tables' latest versions, reads
   (`warehouse.maintenance`: vacuum by the versions kept, never by age alone; the Delta log is
   kept for a year so checkpoints never cut time travel short). Files written in the last hour
   are left alone, in case a refresh is writing. Spark scratch that killed runs left under
   `SCENETUNE_HOME/spark/tmp` (older than `SCENETUNE_SPARK_SCRATCH_MAX_AGE_HOURS`) is removed.

2. **record_run** – after it, whatever its outcome: writes the run's summary (state, time, the
   versions kept and dropped, files deleted per table, a failure's one paragraph) to
   `ops.pipeline_runs` (`scenetune runs --dag warehouse_maintenance`). A teardown: a failed run
   stays failed.

Runs when the catalogue is published (the `catalogue_duckdb` Asset) and can be triggered by hand;
running it twice deletes nothing the second time.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import dag, task, teardown

from scenetune.assets import CATALOGUE_DUCKDB
from scenetune.run_summary import on_failure


@dag(
    dag_id="warehouse_maintenance",
    schedule=[CATALOGUE_DUCKDB],
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,  # one vacuum at a time
    default_args={"owner": "scenetune", "retries": 2, "retry_delay": timedelta(minutes=5),
                  "on_failure_callback": on_failure},  # a failure's one paragraph, for the log and the summary
    tags=["scenetune", "warehouse"],
    doc_md=__doc__,
)
def warehouse_maintenance():
    @task
    def retention() -> dict:
        from scenetune.fail_fast import fail_fast
        from warehouse import maintenance

        with fail_fast():
            done = maintenance.apply()
        return {"kept_versions": done.kept_versions, "dropped_versions": done.dropped_versions,
                "deleted_files": done.deleted_files, "scratch_removed": len(done.scratch_removed)}

    @teardown
    def record_run(**context) -> dict:
        from scenetune import run_summary
        from scenetune.fail_fast import fail_fast

        with fail_fast():
            return run_summary.record_run(context, run_summary.maintenance_fields)

    retention() >> record_run()


warehouse_maintenance()
