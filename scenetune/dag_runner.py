"""``python -m scenetune.dag_runner DAG_ID LOGICAL_DATE [CONF_JSON]``: ``airflow dags test``, then its outcome as JSON.

Runs Airflow's own ``dags test`` command in this process, then reads the
DagRun and its task instances back from the metadata DB and writes their
states and durations to ``$SCENETUNE_DAGRUN_SUMMARY``, so the caller judges
the run by Airflow's record of it, not by its log.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

DAGS_WITH_SPARK = frozenset({"catalogue_refresh", "score_uploads"})
# The encoders' ONNX exports (the first run in an encoder folder: seconds of CPU each), made by a second
# process while the first tasks run (a crawl keeps one core of two busy), not inside the Spark tasks.
PREPARE_ENCODERS = ("from scoring.encoders import efficientnet_onnx; from spark_jobs.embeddings import onnx_file; "
                    "efficientnet_onnx(); onnx_file()")


def main(argv: list[str]) -> int:
    dag_id, logical_date, *conf = argv
    from core.process import watch_parent

    # Started by `scenetune refresh` (airflow_env.dags_test) as its own process group: when that command
    # goes, even by kill -9, this process kills the group (Spark's JVM, its Python workers, the crawl).
    watch_parent()
    from airflow.cli import cli_parser

    from spark_jobs.session import share_sessions

    # `dags test` runs every task in this process, one after another: one Spark session for all of them,
    # started while the first tasks run when the DAG has Spark stages.
    share_sessions(warm_up=dag_id in DAGS_WITH_SPARK)
    preparing = subprocess.Popen([sys.executable, "-c", PREPARE_ENCODERS], stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL) if dag_id in DAGS_WITH_SPARK else None

    args = cli_parser.get_parser().parse_args(["dags", "test", dag_id, logical_date, *(["--conf", *conf] if conf else [])])
    try:
        args.func(args)
    except SystemExit:  # "DagRun failed": the summary below says which task and how
        pass
    if preparing is not None:
        preparing.wait()  # (a failed export is the task's to report: it exports again, and says why)
    from airflow.models import DagRun, TaskInstance
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        run = session.scalars(
            select(DagRun).where(DagRun.dag_id == dag_id, DagRun.logical_date == args.logical_date)
        ).one_or_none()
        if run is None:
            return 1
        tis = session.scalars(
            select(TaskInstance).where(TaskInstance.dag_id == dag_id, TaskInstance.run_id == run.run_id)
            .order_by(TaskInstance.start_date)
        ).all()
        summary = {
            "run_id": run.run_id,
            "state": str(run.state),
            "tasks": [{"task_id": ti.task_id, "state": None if ti.state is None else str(ti.state),
                       "duration_s": ti.duration, "tries": ti.try_number} for ti in tis],
        }
    from core import files

    files.write_text(os.environ["SCENETUNE_DAGRUN_SUMMARY"], json.dumps(summary))
    return 0 if summary["state"] == "success" else 1


if __name__ == "__main__":
    from core.process import exit_now

    # Everything is committed and written; skip the interpreter's ~3 s of exit handlers
    # (Airflow's and Spark's gateway threads), which a user would wait through at every run.
    try:
        code = main(sys.argv[1:])
    except KeyboardInterrupt:  # Ctrl-C forwarded by the command: stop now (the group is stopped with it)
        code = 130
    exit_now(code, stop_spark=False)
