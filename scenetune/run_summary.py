"""Run summaries: one ``ops.pipeline_runs`` row per DAG run, written by the run's last task.

A DAG ends with a ``record_run`` teardown task: it runs once every other task
is done, whatever their outcome, and (being a teardown) leaves the run's state
to the others, so a failed quality gate still fails the run. It reads what the
run did through the Task SDK only — the states and durations of its task
instances (``get_task_states``, ``get_task_breadcrumbs``), the stages' XComs —
plus what the stages recorded in Delta (the gate's audits, the catalogue
version), and replaces the run's row (merge on ``dag_id, run_key``).

A failing task leaves one paragraph in its log and in an XCom
(:func:`on_failure`, the DAGs' ``on_failure_callback``), which the summary
quotes as the run's failure.

A run ``scenetune`` starts is recorded ``running`` before it runs (:func:`start_run`). A run killed
before its ``record_run`` (``kill -9`` of its command or of its runner's process group, the OOM
killer) is closed as ``killed`` by the command, the next run or ``scenetune runs``
(:func:`close_run`, :func:`close_dead`), with what Airflow's own record of it says — read from the
metadata DB once nothing runs it any more, never from a task: the stages it finished, their
durations, and the stage it was killed in (``failed_stage``).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

FAILURE_KEY = "failure"  # XCom key of a failed task's paragraph
RECORD_TASK = "record_run"
FAILED_STATES = ("failed", "upstream_failed")
RUNNING_RUN_ID = "scenetune-pid-"  # run_id of a `running` row until the run records itself (Airflow names it then)
MAX_ERROR_CHARS = 800


def _one_line(text: object) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= MAX_ERROR_CHARS else line[: MAX_ERROR_CHARS - 1] + "…"


def failure_paragraph(context: Mapping[str, Any]) -> str:
    """What failed, with which error, and whether a retry was tried: one paragraph for the log and the summary."""
    ti = context["ti"]
    error = context.get("exception")
    kind = type(error).__name__ if error is not None else "an unknown error"
    if kind == "AirflowFailException":  # scenetune.fail_fast: the message names the scenetune error
        what = _one_line(error)
        retried = "It was not retried: trying again cannot fix it (a setting, a prerequisite or data that failed its audit)."
    else:
        what = f"{kind}: {_one_line(error)}" if error is not None else kind
        tries = getattr(ti, "try_number", None)
        total = (getattr(ti, "max_tries", 0) or 0) + 1
        retried = (f"It failed on try {tries} of {total}; its retries are spent." if tries
                   else "Its retries are spent.")
    # The error first: a one-line report of the run (scenetune.airflow_env) quotes the start of this line.
    return (f"stage {ti.task_id} failed: {what.rstrip('.')}. {retried} The stages after it did not run "
            f"({ti.dag_id} run {context.get('run_id', ti.run_id)}; its summary: `scenetune runs`).")


def on_failure(context: Mapping[str, Any]) -> None:
    """``on_failure_callback``: the paragraph goes to the task log and to an XCom the summary reads."""
    paragraph = failure_paragraph(context)
    log.error("%s", paragraph)
    context["ti"].xcom_push(key=FAILURE_KEY, value=paragraph)


def _pull(ti, task_id: str, key: str | None = None) -> Any:
    try:
        return ti.xcom_pull(task_ids=task_id, key=key) if key else ti.xcom_pull(task_ids=task_id)
    except Exception:  # noqa: BLE001 - a stage that never ran has nothing to say
        return None


def _stages(context: Mapping[str, Any]) -> tuple[list[str], dict[str, str], dict[str, float]]:
    """Stage ids in DAG order, their states and the durations of those that ran (the SDK's view of the run)."""
    ti, run_id = context["ti"], context["run_id"]
    dag = context.get("dag")
    order = [t for t in (dag.task_ids if dag is not None else []) if t != ti.task_id]
    states = {k: (None if v is None else str(v)) for k, v in
              ti.get_task_states(dag_id=ti.dag_id, run_ids=[run_id]).get(run_id, {}).items() if k != ti.task_id}
    durations = {c["task_id"]: round(float(c["duration"]), 3) for c in
                 ti.get_task_breadcrumbs(dag_id=ti.dag_id, run_id=run_id)
                 if c["task_id"] != ti.task_id and c.get("duration") is not None and c["state"] != "upstream_failed"}
    order += sorted(set(states) - set(order))
    return order, states, durations


def _row_counts(run_key: str, audits: dict[str, dict], versions: dict[str, int]) -> dict[str, int]:
    """Rows of what the gate audited; else (no gate ran) of the versions the stages committed."""
    if audits:
        return {name: int(a["row_count"]) for name, a in sorted(audits.items())}
    import schemas
    from warehouse import delta

    counts = {}
    for name, version in sorted(versions.items()):
        table = schemas.TABLES.get(name)
        if table is None or not isinstance(version, int):
            continue
        try:
            counts[name] = delta.count_rows(table, version)
        except Exception:  # noqa: BLE001 - a version gone since (vacuumed, table deleted) is just not counted
            log.warning("run %s: could not count %s v%s", run_key, name, version)
    return counts


def _catalogue_version(run_key: str) -> tuple[int | None, str | None]:
    """The catalogue version row the run got, if ops.catalogue_versions exists and has one."""
    try:
        from schemas import ops
        from warehouse import delta

        rows = [r for r in delta.read_or_empty(ops.CATALOGUE_VERSIONS, filters=[("run_key", "=", run_key)]).to_pylist()
                if r.get("rolled_back_to") is None]
    except Exception as err:  # noqa: BLE001 - no versions table (yet), or another layout: no version to name
        log.info("run %s: no catalogue version read (%s)", run_key, err)
        return None, None
    if not rows:
        return None, None
    row = max(rows, key=lambda r: r["version"])
    return row["version"], row["status"]


Fields = Callable[[Any, str, dict[str, str]], dict]  # (ti, run_key, stage states) -> the DAG's own columns


def catalogue_fields(ti, run_key: str, states: dict[str, str]) -> dict:
    """catalogue_refresh's columns: rows audited (else built), the gate's verdict, crawl books, version, head."""
    from warehouse import audits as gate_audits

    crawled = _pull(ti, "crawl") or {}
    imported = _pull(ti, "import_melon") or {}
    trained = _pull(ti, "train_tag_head") or {}
    versions: dict[str, int] = {}
    for task_id in ("crawl", "import_melon", "clean_covers", "build_catalogue", "quality_gate"):
        value = _pull(ti, task_id) or {}
        value = value.get("bronze_versions", value) if task_id in ("crawl", "import_melon") else value
        versions.update({k: v for k, v in value.items() if isinstance(v, int)})
    audits = gate_audits.of_run(run_key) if "quality_gate" in states else {}
    catalogue_version, catalogue_status = _catalogue_version(run_key) if "quality_gate" in states else (None, None)
    return {
        "row_counts": json.dumps(_row_counts(run_key, audits, versions), sort_keys=True),
        "quality_passed": all(a["passed"] for a in audits.values()) if audits else None,
        "quality_failures": [f"{name}: {f}" for name, a in sorted(audits.items()) for f in a["failures"]],
        "crawl_books": json.dumps(crawled["stats"], sort_keys=True, default=str) if crawled.get("stats") else None,
        "catalogue_version": catalogue_version,
        "catalogue_status": catalogue_status,
        "model_version": trained.get("model_version"),
        # The Melon import's books, and why its playlists have no cover verdicts (a note, not a failure).
        "details": json.dumps({k: imported[k] for k in ("stats", "note", "skipped") if imported.get(k)},
                              sort_keys=True, ensure_ascii=False, default=str),
    }


def _live_version() -> tuple[int | None, str | None]:
    try:
        from warehouse import versions

        live = versions.live()
    except Exception as err:  # noqa: BLE001 - no versions table yet: nothing is live
        log.info("no live catalogue version read (%s)", err)
        return None, None
    return (live["version"], live["status"]) if live else (None, None)


def scoring_fields(ti, run_key: str, states: dict[str, str]) -> dict:
    """score_uploads' columns: the submission, images claimed/scored/failed, the model and catalogue used."""
    submitted = _pull(ti, "submit") or {}
    books = _pull(ti, "score") or {}
    published = _pull(ti, "publish") or {}
    version, status = _live_version() if books.get("catalogue_version") else (None, None)
    details = {"submission_id": submitted.get("submission_id"), "submitted": submitted.get("counts") or {}}
    details.update({k: books[k] for k in ("claimed", "scored", "failed", "reclaimed", "poisoned", "recovered",
                                          "duplicates_resolved", "recommendations", "catalogue_version")
                    if k in books})
    if "catalogue_version" in details:
        details["catalogue_run"] = details.pop("catalogue_version")  # the run that wrote the songs scored against
    details["published"] = published.get("published")
    return {"row_counts": json.dumps(published.get("rows") or {}, sort_keys=True),
            "catalogue_version": version, "catalogue_status": status,
            "model_version": books.get("model_version") or None,
            "details": json.dumps(details, sort_keys=True, ensure_ascii=False, default=str)}


def maintenance_fields(ti, run_key: str, states: dict[str, str]) -> dict:
    """warehouse_maintenance's columns: catalogue versions kept readable and dropped, files deleted per table."""
    done = _pull(ti, "retention") or {}
    return {"details": json.dumps({k: done[k] for k in ("kept_versions", "dropped_versions", "deleted_files",
                                                        "scratch_removed") if k in done}, sort_keys=True)}


def run_started(dag_run) -> datetime | None:
    """When the DAG run started: its ``start_date``, unless that is before the run was even due
    (``run_after``). ``dags test`` (``scenetune refresh``) sets ``start_date`` to the logical date, so a
    refresh run for last Monday would otherwise have lasted a week."""
    started, due = getattr(dag_run, "start_date", None), getattr(dag_run, "run_after", None)
    return max(started, due) if started is not None and due is not None else started or due


def summarise(context: Mapping[str, Any], fields: Fields | None = None) -> dict:
    """The ``ops.pipeline_runs`` row of the run ``context`` belongs to (read while its last task runs).

    What every DAG has (state, time per stage, the failure's paragraph) comes from the run;
    ``fields`` adds the DAG's own columns from its stages' XComs (:func:`catalogue_fields`, ...).
    """
    from core.runs import RunPartition

    ti, run_id = context["ti"], context["run_id"]
    run_key = RunPartition.from_airflow(context).run_key
    order, states, durations = _stages(context)
    failed = [t for t in order if states.get(t) == "failed"]
    broken = failed or [t for t in order if states.get(t) in FAILED_STATES]
    failure = None
    if broken:
        failure = _pull(ti, broken[0], FAILURE_KEY) or (
            f"{ti.dag_id} run {run_id}: stage {broken[0]} ended {states[broken[0]]} (no error was recorded for it).")

    started = run_started(context.get("dag_run"))
    recorded = datetime.now(timezone.utc)
    row = {
        "dag_id": ti.dag_id,
        "run_key": run_key,
        "run_id": run_id,
        "state": "failed" if broken else "success",
        "started_at": started,
        "recorded_at": recorded,
        "duration_s": round((recorded - started).total_seconds(), 3) if started else None,
        "stage_states": json.dumps({t: states.get(t) for t in order}),
        "stage_durations": json.dumps({t: durations[t] for t in order if t in durations}),
        "failed_stage": broken[0] if broken else None,
        "failure": failure,
        "row_counts": "{}", "quality_passed": None, "quality_failures": [], "crawl_books": None,
        "catalogue_version": None, "catalogue_status": None, "model_version": None, "details": "{}",
    }
    if fields is not None:
        row.update(fields(ti, run_key, states))
    return row


def write(row: dict) -> None:
    """Replace the run's row (merge on dag_id, run_key): recording a run again never duplicates it.

    Runs end at the same time (a backfill's runs, the DAGs a catalogue publish triggers): one merge at
    a time, so no two commits of the table conflict.
    """
    import pyarrow as pa

    from core import files, settings
    from schemas import ops
    from warehouse import delta

    with files.exclusive_lock(settings.load().home / "state" / "pipeline_runs.lock"):
        delta.merge(ops.PIPELINE_RUNS, pa.Table.from_pylist([row], schema=ops.PIPELINE_RUNS.arrow_schema()))


def record_run(context: Mapping[str, Any], fields: Fields | None = None) -> dict:
    """The ``record_run`` task of every DAG: summarise the run (``fields``: the DAG's own columns, e.g.
    :func:`scoring_fields`), write its row, log one line; returns its state.

    A run stopped by a wrong setting is not recorded: the settings say where the row would go, and
    the failed stage's own paragraph already names the setting.
    """
    from core import settings
    from core.errors import ConfigurationError

    try:
        settings.load()
    except ConfigurationError as err:
        log.warning("run summary not written: the settings are wrong (%s)", err)
        return {"recorded": False}
    row = summarise(context, fields)
    write(row)
    log.info("run %s of %s: %s%s", row["run_key"], row["dag_id"], row["state"],
             f" at {row['failed_stage']}" if row["failed_stage"] else "")
    return {"run_key": row["run_key"], "state": row["state"], "failed_stage": row["failed_stage"]}


def _empty_row(dag_id: str, run_key: str, run_id: str, state: str, started: datetime | None) -> dict:
    return {"dag_id": dag_id, "run_key": run_key, "run_id": run_id, "state": state, "started_at": started,
            "recorded_at": datetime.now(timezone.utc), "duration_s": None, "stage_states": "{}",
            "stage_durations": "{}", "failed_stage": None, "failure": None, "row_counts": "{}",
            "quality_passed": None, "quality_failures": [], "crawl_books": None, "catalogue_version": None,
            "catalogue_status": None, "model_version": None, "details": "{}"}


def start_run(dag_id: str, run_key: str, lock, log_path: str) -> dict:
    """Record a run started by ``scenetune`` (``airflow_env.dags_test``) as ``running`` before it runs.

    ``lock`` (a ``core.locks.RunLock``) names the holder: a later run, or ``scenetune runs``, closes the
    row as ``killed`` once that holder is gone (:func:`close_dead`). The run's ``record_run`` replaces it.
    """
    row = _empty_row(dag_id, run_key, f"{RUNNING_RUN_ID}{lock.holder.pid}", "running", datetime.now(timezone.utc))
    row["details"] = json.dumps({"holder_pid": lock.holder.pid, "holder_started": lock.holder.started,
                                 "lock": str(lock.path), "log": log_path}, sort_keys=True)
    write(row)
    return row


def _holder_gone(row: dict) -> bool:
    from core import locks

    details = json.loads(row["details"] or "{}")
    pid, lock = details.get("holder_pid"), details.get("lock")
    if not isinstance(pid, int) or not lock:
        return True
    return not locks.alive(pid, details.get("holder_started")) or not locks.held(lock)


UNFINISHED_RUN = ("running", "queued")  # DagRun states of a run nobody finished
# TaskInstance states of a stage that started and did not end (the one a kill cut short)
UNFINISHED_STAGE = ("running", "up_for_retry", "up_for_reschedule", "restarting", "deferred", "queued", "scheduled")


def _utc(value) -> datetime | None:
    """A timestamp of Airflow's metadata DB (SQLite gives text, Postgres datetimes) as an aware UTC datetime."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def _airflow_engine():
    """A read-only connection to the metadata DB of the Airflow scenetune runs its DAGs with, or None."""
    import sqlalchemy

    from scenetune import airflow_env

    url = sqlalchemy.engine.make_url(airflow_env.environ()["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"])
    if url.get_backend_name() == "sqlite":
        if not url.database or not Path(url.database).is_file():
            return None  # no run ever started: nothing to read (and no empty DB created by looking)
        import sqlite3
        from urllib.parse import quote

        uri = f"file:{quote(str(Path(url.database).absolute()))}?mode=ro"
        return sqlalchemy.create_engine("sqlite://", creator=lambda: sqlite3.connect(uri, uri=True))
    return sqlalchemy.create_engine(url, connect_args={"connect_timeout": 5} if url.get_backend_name() ==
                                    "postgresql" else {})


def airflow_record(dag_id: str, run_key: str, since: datetime | None = None) -> dict | None:
    """Airflow's own record of the run of ``dag_id`` for ``run_key``: its DagRun's state and each task
    instance's, from the metadata DB (the DagRun created last, at or after ``since``); None where there is
    none to read (no DB, no such run, another schema).

    Read only for a run scenetune started and whose runner is gone (:func:`close_run`): a killed runner
    leaves its DagRun and the stage it was in ``running`` there. Never from inside a task.
    """
    from sqlalchemy import text

    from core.runs import RUN_KEY_FORMAT

    moment = datetime.strptime(run_key, RUN_KEY_FORMAT).replace(tzinfo=timezone.utc)  # the run's logical date
    try:
        engine = _airflow_engine()
        if engine is None:
            return None
        with engine.connect() as db:
            runs = [r for r in db.execute(text("SELECT run_id, state, logical_date, created_at FROM dag_run "
                                               "WHERE dag_id = :dag_id"), {"dag_id": dag_id}).mappings()
                    if _utc(r["logical_date"]) == moment and (since is None or _utc(r["created_at"]) >= since)]
            if not runs:
                return None
            run = max(runs, key=lambda r: _utc(r["created_at"]))
            tasks = [dict(t) for t in db.execute(text(
                "SELECT task_id, state, start_date, end_date, duration FROM task_instance "
                "WHERE dag_id = :dag_id AND run_id = :run_id"), {"dag_id": dag_id, "run_id": run["run_id"]}).mappings()]
        engine.dispose()
    except Exception as err:  # noqa: BLE001 - Airflow's record is a bonus: without it the row says less
        log.info("run %s of %s: Airflow's record not read (%s)", run_key, dag_id, " ".join(str(err).split())[:200])
        return None
    for t in tasks:
        t["start_date"], t["end_date"] = _utc(t["start_date"]), _utc(t["end_date"])
    tasks.sort(key=lambda t: (t["start_date"] is None, t["start_date"] or moment, t["task_id"]))
    return {"run_id": run["run_id"], "state": run["state"], "tasks": tasks}


def _cut_short(record: dict | None) -> tuple[str | None, list[str]]:
    """The stage a run was in when it stopped (None: between stages, or no record) and the stages it had done."""
    if record is None:
        return None, []
    stages = [t for t in record["tasks"] if t["task_id"] != RECORD_TASK]
    cut = next((t["task_id"] for t in stages if t["state"] == "running"), None) or next(
        (t["task_id"] for t in stages if t["state"] in UNFINISHED_STAGE), None)
    return cut, [t["task_id"] for t in stages if t["state"] == "success"]


def _killed_reason(row: dict, record: dict | None, how: str) -> str:
    details = json.loads(row["details"] or "{}")
    stage, done = _cut_short(record)
    return (f"{row['dag_id']} run {row['run_key']} was killed{f' during {stage}' if stage else ''}: {how}."
            + (f" Stages done before: {', '.join(done)}." if done else "") + f" Its log: {details.get('log', '-')}")


def _runner_died(row: dict, record: dict | None) -> str:
    return _killed_reason(row, record, "its Airflow runner (python -m scenetune.dag_runner, with Spark's JVM) ended "
                                       "before the run could finish or record itself, killed by a signal (kill -9, "
                                       "the out-of-memory killer) or crashed; the log's last lines say which")


def _with_record(row: dict, record: dict | None, ended: datetime) -> None:
    """Fill a closed row's stage columns from Airflow's record; its duration ends at the last sign of life."""
    details = json.loads(row["details"] or "{}")
    seen = [t[k] for t in (record or {}).get("tasks", []) for k in ("start_date", "end_date") if t[k] is not None]
    try:  # the runner writes its log until it dies (a run of the same date started later rewrites it)
        seen.append(datetime.fromtimestamp(Path(details["log"]).stat().st_mtime, timezone.utc))
    except (KeyError, OSError, TypeError):
        pass
    started = row["started_at"]
    last = max([t for t in seen if started is None or t >= started], default=ended)
    row["recorded_at"] = ended
    row["duration_s"] = round((min(last, ended) - started).total_seconds(), 3) if started else None
    if record is None:
        return
    stages = [t for t in record["tasks"] if t["task_id"] != RECORD_TASK]
    stage, _ = _cut_short(record)
    row.update(run_id=record["run_id"], failed_stage=stage,
               stage_states=json.dumps({t["task_id"]: t["state"] for t in stages}),
               stage_durations=json.dumps({t["task_id"]: round(float(t["duration"]), 3) for t in stages
                                           if t["duration"] is not None and t["state"] not in UNFINISHED_STAGE}))


def close_run(dag_id: str, run_key: str, state: str, reason, only_if=None) -> str | None:
    """Close a ``running`` row as ``state`` (killed | failed) with ``reason`` (a text, or a function of the row
    and Airflow's record giving one) and return the failure recorded; None if it is not running (its run
    recorded itself) or ``only_if(row)`` says no. Read and replaced under the table's lock, so a row its run has just recorded
    is never overwritten.

    Called once the run's runner is gone. Airflow's record of the run (:func:`airflow_record`) fills in
    the stages it did, and the stage it was in as ``failed_stage``; a run closed as ``failed`` whose DagRun
    Airflow still has running was cut off, not failed (its runner was killed mid-stage): ``killed``.
    """
    import pyarrow as pa

    from core import files, settings
    from schemas import ops
    from warehouse import delta

    filters = [("dag_id", "=", dag_id), ("run_key", "=", run_key), ("state", "=", "running")]
    with files.exclusive_lock(settings.load().home / "state" / "pipeline_runs.lock"):
        found = delta.read_or_empty(ops.PIPELINE_RUNS, filters=filters).to_pylist()
        if not found or (only_if is not None and not only_if(found[0])):
            return None
        row = found[0]
        record = airflow_record(dag_id, run_key, row["started_at"])
        if state == "failed" and record is not None and record["state"] in UNFINISHED_RUN:
            state, reason = "killed", _runner_died
        text_ = reason(row, record) if callable(reason) else reason
        _with_record(row, record, datetime.now(timezone.utc))
        row.update(state=state, failure=_one_line(text_))
        delta.merge(ops.PIPELINE_RUNS, pa.Table.from_pylist([row], schema=ops.PIPELINE_RUNS.arrow_schema()))
    return row["failure"]


def close_dead(dag_id: str | None = None) -> list[str]:
    """Close every ``running`` row whose holder is gone (its pid, or its lock, no longer held) as ``killed``.

    Returns the run keys closed. Called by each run scenetune starts and by ``scenetune runs``.
    """
    from schemas import ops
    from warehouse import delta

    filters = [("state", "=", "running")] + ([("dag_id", "=", dag_id)] if dag_id else [])
    closed = []
    for row in delta.read_or_empty(ops.PIPELINE_RUNS, filters=filters).to_pylist():
        if not _holder_gone(row):
            continue
        pid = json.loads(row["details"] or "{}").get("holder_pid")

        def reason(row: dict, record: dict | None, pid=pid) -> str:
            return _killed_reason(row, record, f"its command (pid {pid}) ended before the run could record "
                                               "itself, and its process tree was stopped with it")

        said = close_run(row["dag_id"], row["run_key"], "killed", reason, only_if=_holder_gone)
        if said:
            log.warning("%s", said)
            closed.append(row["run_key"])
    return closed


def killed_by(dag_id: str, run_key: str, pid: int) -> str | None:
    """Why the run of ``dag_id`` for ``run_key`` that process ``pid`` started was killed, if it was recorded so."""
    from schemas import ops
    from warehouse import delta

    rows = delta.read_or_empty(ops.PIPELINE_RUNS, filters=[("dag_id", "=", dag_id), ("run_key", "=", run_key)])
    for row in rows.to_pylist():
        if row["state"] == "killed" and json.loads(row["details"] or "{}").get("holder_pid") == pid:
            return row["failure"]
    return None


def runs(dag_id: str | None = None, limit: int | None = None) -> list[dict]:
    """Recorded runs, newest first, JSON columns read back."""
    from schemas import ops
    from warehouse import delta

    filters = [("dag_id", "=", dag_id)] if dag_id else None
    rows = sorted(delta.read_or_empty(ops.PIPELINE_RUNS, filters=filters).to_pylist(),
                  key=lambda r: (r["recorded_at"], r["run_key"]), reverse=True)
    for row in rows:
        for column in ("stage_states", "stage_durations", "row_counts", "crawl_books", "details"):
            row[column] = json.loads(row[column]) if row[column] else {}
    return rows[:limit] if limit else rows


def last(dag_id: str | None = None) -> dict | None:
    found = runs(dag_id, limit=1)
    return found[0] if found else None


def quality_text(row: dict) -> str:
    if row["quality_passed"] is None:
        return "no gate ran"
    if row["quality_passed"]:
        return "passed"
    failures = row["quality_failures"]
    return f"{len(failures)} failed: {failures[0]}" if failures else "failed"


def outcome(row: dict) -> str:
    """What the run produced, in a few words: songs built, images scored, files vacuumed."""
    details, counts = row["details"], row["row_counts"]
    if row["state"] in ("running", "killed"):
        return "-"
    if row["dag_id"] == "score_uploads":
        if not details.get("claimed"):
            return "nothing queued" + (f" (submission {details['submission_id']})" if details.get("submission_id") else "")
        return f"{details.get('scored', 0)} scored, {details.get('failed', 0)} failed of {details['claimed']} images"
    if row["dag_id"] == "warehouse_maintenance":
        if "kept_versions" not in details:
            return "-"
        return (f"kept {details['kept_versions']}, dropped {details['dropped_versions']}, "
                f"{sum(details['deleted_files'].values())} files deleted"
                + (f", {details['scratch_removed']} Spark scratch folders removed" if details.get("scratch_removed")
                   else ""))
    return f"{counts['gold.songs']} songs" if "gold.songs" in counts else "-"


def describe(row: dict) -> str:
    """A run's summary in a few lines, for the end of ``scenetune demo``."""
    seconds = f" in {row['duration_s']:.0f}s" if row["duration_s"] is not None else ""
    lines = [f"Run summary (ops.pipeline_runs): {row['dag_id']} {row['run_key']} {row['state']}{seconds}"]
    lines.append("  stages: " + "  ".join(f"{t} {d:.0f}s" for t, d in row["stage_durations"].items()))
    if row["failed_stage"]:
        lines.append(f"  failed at {row['failed_stage']}: {row['failure']}")
    books = row["crawl_books"]
    if books:
        shown = {k: books[k] for k in ("requested", "parsed", "unchanged", "quarantined", "failed") if k in books}
        lines.append("  crawl: " + ", ".join(f"{k} {v}" for k, v in shown.items()))
    counts = row["row_counts"]
    if counts:
        shown = {k: counts[k] for k in ("silver.playlists", "gold.songs", "gold.tag_map") if k in counts} or counts
        lines.append("  rows: " + ", ".join(f"{k} {v}" for k, v in shown.items()))
    version = (f"version {row['catalogue_version']} ({row['catalogue_status']})" if row["catalogue_version"] is not None
               else "no version recorded")
    lines.append(f"  quality: {quality_text(row)}; catalogue {version}; tag head {row['model_version'] or '-'}")
    return "\n".join(lines)
