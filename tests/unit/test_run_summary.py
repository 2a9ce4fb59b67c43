"""Run summaries: one ops.pipeline_runs row per run, replaced on a re-run, listed by `scenetune runs`."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from click.testing import CliRunner

from scenetune import run_summary
from scenetune.cli import cli

STARTED = datetime(2026, 11, 16, 0, 0, 5, tzinfo=timezone.utc)


def _row(run_key: str, **changes) -> dict:
    row = {
        "dag_id": "catalogue_refresh", "run_key": run_key, "run_id": f"scheduled__{run_key}", "state": "success",
        "started_at": STARTED, "recorded_at": STARTED + timedelta(seconds=95), "duration_s": 95.0,
        "stage_states": json.dumps({"preflight": "success", "crawl": "success", "publish": "success"}),
        "stage_durations": json.dumps({"preflight": 2.0, "crawl": 61.5, "publish": 4.2}),
        "failed_stage": None, "failure": None,
        "row_counts": json.dumps({"gold.songs": 812, "silver.playlists": 50}),
        "quality_passed": True, "quality_failures": [],
        "crawl_books": json.dumps({"requested": 50, "parsed": 50, "failed": 0}),
        "catalogue_version": 1, "catalogue_status": "published", "model_version": "head-1", "details": "{}",
    }
    return {**row, **changes}


def test_a_rerun_replaces_its_row_and_runs_lists_newest_first(home):
    run_summary.write(_row("20261116T000000Z"))
    failed = _row("20261123T000000Z", state="failed", failed_stage="quality_gate", quality_passed=False,
                  quality_failures=["gold.songs: no songs"], catalogue_version=2, catalogue_status="rejected",
                  failure="stage quality_gate failed: ConfigurationError: no songs. It was not retried.",
                  recorded_at=STARTED + timedelta(days=7), stage_durations=json.dumps({"crawl": 3.0}))
    run_summary.write(failed)
    run_summary.write({**failed, "run_id": "manual__again"})  # the same run recorded again

    rows = run_summary.runs()
    assert [(r["run_key"], r["run_id"]) for r in rows] == [("20261123T000000Z", "manual__again"),
                                                            ("20261116T000000Z", "scheduled__20261116T000000Z")]
    assert rows[1]["stage_durations"] == {"preflight": 2.0, "crawl": 61.5, "publish": 4.2}
    assert run_summary.last("catalogue_refresh")["run_key"] == "20261123T000000Z"
    assert run_summary.runs("score_uploads") == []
    run_summary.write(_row("20261117T020000Z", dag_id="score_uploads", row_counts="{}", quality_passed=None,
                           crawl_books=None, recorded_at=STARTED + timedelta(days=1),
                           details=json.dumps({"submission_id": "s1", "claimed": 3, "scored": 2, "failed": 1})))
    scored = run_summary.runs("score_uploads")
    assert [r["run_key"] for r in scored] == ["20261117T020000Z"] and scored[0]["details"]["claimed"] == 3
    assert run_summary.outcome(scored[0]) == "2 scored, 1 failed of 3 images"

    text = run_summary.describe(rows[1])
    assert "catalogue_refresh 20261116T000000Z success in 95s" in text
    assert "crawl 62s" in text and "gold.songs 812" in text and "version 1 (published)" in text
    assert "failed at quality_gate: stage quality_gate failed" in run_summary.describe(rows[0])

    listed = CliRunner().invoke(cli, ["runs"])
    assert listed.exit_code == 0, listed.output
    lines = listed.output.splitlines()
    first = next(i for i, line in enumerate(lines) if "20261123T000000Z" in line)
    second = next(i for i, line in enumerate(lines) if "20261116T000000Z" in line)
    assert first < second
    assert "failed at quality_gate" in lines[first] and "1 failed: gold.songs: no songs" in lines[first]
    assert "crawl 62s" in lines[second] and "812 songs" in lines[second] and "1 published" in lines[second]
    assert "2 scored, 1 failed of 3 images" in listed.output
    only = CliRunner().invoke(cli, ["runs", "--dag", "score_uploads"]).output
    assert "20261117T020000Z" in only and "20261116T000000Z" not in only
    as_json = json.loads(CliRunner().invoke(cli, ["runs", "--json", "--limit", "1"]).output)
    assert [r["run_key"] for r in as_json] == ["20261123T000000Z"]


def test_runs_before_any_run_says_what_to_do(home):
    done = CliRunner().invoke(cli, ["runs"])
    assert done.exit_code == 0 and "no runs recorded yet" in done.output


HOLD_LOCK = ("import sys, time\n"
             "from core import locks\n"
             "lock = locks.acquire(sys.argv[1], 'a refresh')\n"
             "print(lock.holder.started, flush=True)\n"
             "time.sleep(600)\n")


def _holding(path):
    """A real process holding the run lock at ``path``, and the RunLock-like view of it start_run takes."""
    import subprocess
    import sys
    from types import SimpleNamespace

    from core import locks

    proc = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(path)], stdout=subprocess.PIPE, text=True)
    started = int(proc.stdout.readline())
    return proc, SimpleNamespace(path=path, holder=locks.Holder(proc.pid, started, "", ""))


def test_a_run_is_running_until_it_records_itself_and_killed_once_its_holder_is_gone(home):
    live, live_lock = _holding(home / "locks" / "score_uploads.lock")
    dead, dead_lock = _holding(home / "locks" / "catalogue_refresh.lock")
    try:
        run_summary.start_run("catalogue_refresh", "20261116T000000Z", dead_lock, "/logs/refresh.log")
        run_summary.start_run("score_uploads", "20261117T020000Z", live_lock, "/logs/score.log")
        run_summary.start_run("catalogue_refresh", "20261123T000000Z", live_lock, "/logs/recorded.log")
        run_summary.write(_row("20261123T000000Z"))  # this one recorded itself: it is not running any more
        assert {(r["run_key"], r["state"]) for r in run_summary.runs()} == {
            ("20261116T000000Z", "running"), ("20261117T020000Z", "running"), ("20261123T000000Z", "success")}
        assert run_summary.close_dead() == []  # both holders alive, holding their locks

        dead.kill()
        dead.wait()
        listed = CliRunner().invoke(cli, ["runs"])  # `scenetune runs` finds the dead holder and closes its run
        assert listed.exit_code == 0, listed.output
        killed_line = next(line for line in listed.output.splitlines() if "20261116T000000Z" in line)
        assert "killed" in killed_line
        rows = {r["run_key"]: r for r in run_summary.runs()}
        killed = rows["20261116T000000Z"]
        assert killed["state"] == "killed" and f"its command (pid {dead.pid})" in killed["failure"]
        assert "/logs/refresh.log" in killed["failure"] and killed["duration_s"] is not None
        assert rows["20261117T020000Z"]["state"] == "running" and rows["20261123T000000Z"]["state"] == "success"
        # Closing only ever closes a running row: a recorded run keeps its own state.
        assert not run_summary.close_run("catalogue_refresh", "20261123T000000Z", "killed", "no")
        assert run_summary.close_dead() == []
    finally:
        live.kill()
        live.wait()
    assert run_summary.close_dead() == ["20261117T020000Z"]


def _airflow_db(path, runs: list[tuple], tasks: list[tuple]) -> None:
    """A metadata DB with the columns of Airflow's dag_run and task_instance that a killed run is read from
    (timestamps as Airflow writes them to SQLite: naive UTC text)."""
    import sqlite3

    db = sqlite3.connect(path)
    db.execute("CREATE TABLE dag_run (id INTEGER PRIMARY KEY, dag_id TEXT, run_id TEXT, state TEXT, "
               "logical_date TEXT, created_at TEXT)")
    db.execute("CREATE TABLE task_instance (dag_id TEXT, run_id TEXT, task_id TEXT, map_index INTEGER, state TEXT, "
               "start_date TEXT, end_date TEXT, duration REAL)")
    db.executemany("INSERT INTO dag_run (dag_id, run_id, state, logical_date, created_at) VALUES (?, ?, ?, ?, ?)", runs)
    db.executemany("INSERT INTO task_instance VALUES (?, ?, ?, -1, ?, ?, ?, ?)", tasks)
    db.commit()
    db.close()


def _at(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).replace(tzinfo=None).isoformat(sep=" ")


def _killed_mid_build(run_id: str, created: datetime) -> tuple[list, list]:
    """What a runner killed during build_catalogue leaves in Airflow: the run and that stage `running`."""
    t = created + timedelta(seconds=2)
    tasks = [("preflight", "success", t, 10.2), ("crawl", "success", t + timedelta(seconds=11), 7.5),
             ("clean_covers", "success", t + timedelta(seconds=19), 7.7),
             ("build_catalogue", "running", t + timedelta(seconds=27), None),
             ("quality_gate", None, None, None), ("publish", None, None, None), ("record_run", None, None, None)]
    rows = [("catalogue_refresh", run_id, task, state, _at(start) if start else None,
             _at(start + timedelta(seconds=duration)) if duration else None, duration)
            for task, state, start, duration in tasks]
    return [("catalogue_refresh", run_id, "running", "2026-11-16 00:00:00.000000", _at(created))], rows


def test_a_killed_run_says_from_airflows_record_which_stage_it_was_in_and_what_it_had_done(home, monkeypatch):
    db = home / "airflow.db"
    home.mkdir(parents=True)
    monkeypatch.setenv("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", f"sqlite:///{db}")
    dead, dead_lock = _holding(home / "locks" / "catalogue_refresh.lock")
    run_summary.start_run("catalogue_refresh", "20261116T000000Z", dead_lock, str(home / "refresh.log"))
    started = run_summary.runs()[0]["started_at"]
    # An earlier attempt at the same logical date, killed before this command started: not this run's record.
    stale_runs, stale_tasks = _killed_mid_build("manual__stale", started - timedelta(hours=3))
    runs, tasks = _killed_mid_build("manual__2026-12-07T10:07:45+00:00", started + timedelta(seconds=1))
    _airflow_db(db, stale_runs + runs, [(*t[:3], "failed", *t[4:]) for t in stale_tasks] + tasks)
    dead.kill()
    dead.wait()

    assert run_summary.close_dead() == ["20261116T000000Z"]
    (row,) = run_summary.runs()
    assert (row["state"], row["failed_stage"], row["run_id"]) == ("killed", "build_catalogue",
                                                                  "manual__2026-12-07T10:07:45+00:00")
    assert row["stage_states"] == {"preflight": "success", "crawl": "success", "clean_covers": "success",
                                   "build_catalogue": "running", "quality_gate": None, "publish": None}
    assert row["stage_durations"] == {"preflight": 10.2, "crawl": 7.5, "clean_covers": 7.7}
    assert row["failure"].startswith("catalogue_refresh run 20261116T000000Z was killed during build_catalogue: its "
                                     f"command (pid {dead.pid}) ended before the run could record itself")
    assert "Stages done before: preflight, crawl, clean_covers." in row["failure"]
    listed = CliRunner().invoke(cli, ["runs"]).output
    assert "killed at build_catalogue" in listed and "crawl 8s" not in listed and "preflight 10s" in listed


def test_a_run_closed_failed_while_airflow_still_runs_it_was_killed_and_one_airflow_ended_failed(home, monkeypatch):
    from types import SimpleNamespace

    from core import locks

    db = home / "airflow.db"
    home.mkdir(parents=True)
    monkeypatch.setenv("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", f"sqlite:///{db}")
    me = SimpleNamespace(path=home / "locks" / "x.lock", holder=locks.Holder(1, None, "", ""))
    run_summary.start_run("catalogue_refresh", "20261116T000000Z", me, "/logs/a.log")
    run_summary.start_run("catalogue_refresh", "20261123T000000Z", me, "/logs/b.log")
    started = run_summary.runs()[0]["started_at"]
    cut_runs, cut_tasks = _killed_mid_build("manual__cut", started + timedelta(seconds=1))
    _airflow_db(db, cut_runs + [("catalogue_refresh", "manual__ended", "failed", "2026-11-23 00:00:00.000000",
                                 _at(started + timedelta(seconds=1)))], cut_tasks)

    # The command saw its runner end without a summary (it was killed with its process group).
    said = run_summary.close_run("catalogue_refresh", "20261116T000000Z", "failed", "DAG did not run: ::endgroup::")
    assert said.startswith("catalogue_refresh run 20261116T000000Z was killed during build_catalogue: its Airflow "
                           "runner (python -m scenetune.dag_runner, with Spark's JVM) ended before the run could")
    assert run_summary.killed_by("catalogue_refresh", "20261116T000000Z", 1) == said
    assert run_summary.killed_by("catalogue_refresh", "20261116T000000Z", 2) is None  # another command's run
    # A run Airflow ended (failed) that did not record itself stays failed, with the error given.
    assert run_summary.close_run("catalogue_refresh", "20261123T000000Z", "failed", "no summary") == "no summary"
    states = {r["run_key"]: (r["state"], r["failed_stage"]) for r in run_summary.runs()}
    assert states == {"20261116T000000Z": ("killed", "build_catalogue"), "20261123T000000Z": ("failed", None)}


def test_no_airflow_db_means_no_record_and_no_db_made(home, monkeypatch):
    db = home / "airflow" / "airflow.db"
    monkeypatch.setenv("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", f"sqlite:///{db}")
    assert run_summary.airflow_record("catalogue_refresh", "20261116T000000Z") is None
    assert not db.exists()


def test_a_run_started_when_it_started_not_at_its_logical_date():
    from types import SimpleNamespace

    week_ago, now = datetime(2026, 11, 16, tzinfo=timezone.utc), datetime(2026, 11, 23, 9, 30, tzinfo=timezone.utc)
    # `dags test` for a past logical date: start_date is the logical date, run_after when it was made.
    assert run_summary.run_started(SimpleNamespace(start_date=week_ago, run_after=now)) == now
    # The scheduler: due at run_after, started a little later.
    assert run_summary.run_started(SimpleNamespace(start_date=now, run_after=week_ago)) == now
    assert run_summary.run_started(SimpleNamespace(start_date=None, run_after=now)) == now
    assert run_summary.run_started(None) is None
