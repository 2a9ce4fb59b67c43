"""Run scenetune's DAGs through a real Airflow: environment, metadata DB, ``dags test``.

Defaults give a self-contained Airflow under ``SCENETUNE_HOME/airflow`` with a
SQLite metadata DB and low parallelism (2 cores). Any ``AIRFLOW__*`` variable
already set (e.g. Postgres in docker-compose) wins. Airflow's configuration
comes from the environment only: the ``airflow.cfg`` scenetune writes holds
no values, so a moved ``SCENETUNE_HOME`` keeps working.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from core import files, locks, settings
from core.errors import ScenetuneError
from core.process import run_group

DAGS_FOLDER = settings.REPO_ROOT / "dags"
AIRFLOW_CFG = """\
# scenetune configures Airflow through AIRFLOW__* environment variables
# (scenetune/airflow_env.py sets its defaults there), so that nothing here pins a
# path of this machine. To change a setting, export its AIRFLOW__SECTION__KEY
# variable: environment variables win over anything written in this file.
"""


def environ(base: dict[str, str] | None = None) -> dict[str, str]:
    s = settings.load()
    env = dict(os.environ if base is None else base)
    home = s.airflow_home
    defaults = {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_FOLDER),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__CORE__PARALLELISM": "2",
        "AIRFLOW__CORE__MAX_ACTIVE_TASKS_PER_DAG": "2",
        "AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT": "60",
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "logs"),
        "SCENETUNE_HOME": str(s.home),
        "PYSPARK_PYTHON": s.pyspark_python,
    }
    for key, value in defaults.items():
        env.setdefault(key, value)
    return env


def _airflow(args: list[str], env: dict[str, str], log_path: Path | None = None) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "airflow", *args]
    if log_path is None:
        return subprocess.run(cmd, env=env, capture_output=True, text=True)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("w") as log:
        return subprocess.run(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, text=True)


def ensure_db(env: dict[str, str] | None = None) -> None:
    """Create or upgrade the metadata DB (a no-op when it is current)."""
    env = env or environ()
    home = Path(env["AIRFLOW_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    cfg = home / "airflow.cfg"
    if not cfg.exists():  # else Airflow writes one with today's absolute paths in it
        files.write_text(cfg, AIRFLOW_CFG)
    marker = home / ".db-migrated"
    if marker.exists() and env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] == marker.read_text():
        return
    done = _airflow(["db", "migrate"], env)
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        raise ScenetuneError(f"airflow db migrate failed: {tail[0]}")
    marker.write_text(env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"])


@dataclass(frozen=True)
class TaskRun:
    task_id: str
    state: str | None
    duration_s: float | None
    tries: int


@dataclass(frozen=True)
class DagRunResult:
    dag_id: str
    run_id: str
    state: str
    tasks: list[TaskRun]
    log_path: Path

    @property
    def succeeded(self) -> bool:
        return self.state == "success"


def lock_path(dag_id: str, home: Path | str | None = None) -> Path:
    """The lock a run of ``dag_id`` started by scenetune holds: one run of a DAG at a time per SCENETUNE_HOME."""
    return Path(home or settings.load().home) / "locks" / f"{dag_id}.lock"


@contextlib.contextmanager
def _home_of(env: dict[str, str]):
    """Bookkeeping (the lock's run row) goes to the SCENETUNE_HOME the run uses, also when extra_env moved it."""
    before = os.environ.get("SCENETUNE_HOME")
    os.environ["SCENETUNE_HOME"] = env["SCENETUNE_HOME"]
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("SCENETUNE_HOME", None)
        else:
            os.environ["SCENETUNE_HOME"] = before


def dags_test(dag_id: str, logical_date: str, extra_env: dict[str, str] | None = None,
              conf: dict | None = None) -> DagRunResult:
    """Run one DAG run (``airflow dags test``); success is the DagRun's final state in Airflow.

    One run of a DAG at a time: the run holds ``locks/<dag_id>.lock`` (a second fails in one line naming
    the holder's pid) and is recorded ``running`` in ops.pipeline_runs until it records itself; a run
    whose command was killed is closed as ``killed`` by the next one. The runner is its own process
    group and dies with this process (``core.process.run_group``); Ctrl-C stops it within seconds.
    Raises with the failing stage, why, and the stages that did not run when the run did not succeed.
    """
    from core.runs import RunPartition
    from scenetune import run_summary

    env = environ()
    env.update(extra_env or {})
    run_key = RunPartition.at(datetime.fromisoformat(logical_date)).run_key
    log_path = Path(env["AIRFLOW_HOME"]) / "runs" / f"{dag_id}__{logical_date.replace(':', '')}.log"
    with locks.acquire(lock_path(dag_id, env["SCENETUNE_HOME"]), f"a {dag_id} run",
                       command=" ".join(sys.argv)) as lock:
        with _home_of(env):
            run_summary.close_dead(dag_id)
            run_summary.start_run(dag_id, run_key, lock, str(log_path))
        try:
            return _dags_test(dag_id, logical_date, env, conf, log_path, lock)
        except KeyboardInterrupt:
            _close(env, dag_id, run_key, "killed", f"{dag_id} run {run_key} was interrupted (Ctrl-C); its process "
                                                   f"tree was stopped. Its log: {log_path}")
            raise
        except Exception as err:  # a run that never got to record itself (e.g. its settings are wrong)
            _close(env, dag_id, run_key, "failed", str(err))
            raise


def _close(env: dict[str, str], dag_id: str, run_key: str, state: str, reason: str) -> None:
    """Close the run's `running` row, if its run did not record itself; never hides the run's own error."""
    from scenetune import run_summary

    try:
        with _home_of(env):
            run_summary.close_run(dag_id, run_key, state, reason)
    except Exception as err:  # noqa: BLE001 - the next run (or `scenetune runs`) closes it instead
        print(f"scenetune: run {run_key} not closed as {state} in ops.pipeline_runs ({err})", file=sys.stderr)


def _dags_test(dag_id: str, logical_date: str, env: dict[str, str], conf: dict | None, log_path: Path,
               lock: locks.RunLock) -> DagRunResult:
    ensure_db(env)
    summary_path = log_path.with_suffix(".json")
    summary_path.unlink(missing_ok=True)
    env["SCENETUNE_DAGRUN_SUMMARY"] = str(summary_path)
    _airflow_runner([dag_id, logical_date, *([json.dumps(conf)] if conf else [])], env, log_path,
                    pass_fds=(lock.fileno(),))
    if not summary_path.exists():
        why = strip_log_prefix(files.last_error_line(log_path, limit=10_000))
        raise ScenetuneError(f"DAG {dag_id} did not run: {cut(why, WHY_CHARS)}; full log: {log_path}")
    raw = json.loads(summary_path.read_text())
    result = DagRunResult(dag_id, raw["run_id"], raw["state"], [TaskRun(**t) for t in raw["tasks"]], log_path)
    if not result.succeeded:
        log_text = log_path.read_text(encoding="utf-8", errors="replace") if log_path.exists() else ""
        raise ScenetuneError(failure_message(dag_id, result.tasks, log_text, log_path))
    return result


WHY_CHARS = 400  # the error part of a one-line failure; the log has the rest
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
# `2026-12-06T02:02:35.071119Z [error    ] ` (Airflow 3's structlog) or `[2026-12-06T02:02:35.071+0000] {x.py:59} ERROR - `
_PREFIX = re.compile(r"^\s*\[?\d{4}-\d{2}-\d{2}[T ][\d:.,]+(Z|[+-]\d{2}:?\d{2})?\]?\s+"
                     r"(\[\s*[a-z]+\s*\]\s+|\{[^}]*\}\s+[A-Z]+\s+-\s+|[A-Z]+\s+-\s+)?")
# ` [scenetune.run_summary] loc=run_summary.py:59` (structlog's logger and key=value fields at the end)
_SUFFIX = re.compile(r"\s+\[[\w.]+\](\s+\w+=\S+)*\s*$")
# run_summary.failure_paragraph: "stage X failed: WHAT. It was not retried: ..." / ". It failed on try ..."
_PARAGRAPH = re.compile(r"stage (?P<stage>\S+) failed: (?P<what>.*?)\. (?:It was not retried|It failed on try|"
                        r"Its retries are spent)")
# Fixes for failures whose error does not name one (a ConfigurationError's message always does).
KNOWN_FIXES = (
    (re.compile(r"No space left on device"), "free disk space under SCENETUNE_HOME (`scenetune maintenance` helps)"),
    (re.compile(r"Java gateway process exited|JAVA_HOME"), "check Java with `scenetune status`"),
)
STAGE_FIXES = {"quality_gate": "nothing was published and the previous version stays live; "
                               "`scenetune versions` lists the failed checks"}
NOT_RUN = ("upstream_failed", "skipped", "removed", "upstream_skipped", None)


def strip_log_prefix(line: str) -> str:
    """A log line without its timestamp, level and logger decorations: what was said."""
    line = _ANSI.sub("", line).strip()
    return _SUFFIX.sub("", _PREFIX.sub("", line)).strip()


def cut(text: str, limit: int) -> str:
    """``text`` in at most ``limit`` characters, cut between words (never mid-word), ``…`` marking a cut."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    head = text[: limit - 1]
    if " " in head and not text[limit - 1].isspace():
        head = head.rsplit(" ", 1)[0]
    return head.rstrip(" ,;:") + "…"


def failure_message(dag_id: str, tasks: list[TaskRun], log_text: str, log_path: Path | str) -> str:
    """One line for a failed run: the stage that failed, why (its failure paragraph, else the log's last
    error), the fix when known, the stages that did not run, and where the full log is."""
    failed = [t.task_id for t in tasks if t.state == "failed"]
    not_run = [t.task_id for t in tasks if t.state in NOT_RUN]
    lines = [strip_log_prefix(line) for line in log_text.splitlines()]
    paragraphs = [m for m in (_PARAGRAPH.search(line) for line in lines) if m]
    found = ([m for m in paragraphs if failed and m["stage"] == failed[0]] or paragraphs)[-1:]
    if found:
        why = found[0]["what"]
        failed = failed or [found[0]["stage"]]
    else:
        errors = [line for line in lines if line and any(w in line for w in ("Error", "ERROR", "error", "Exception"))
                  and "Traceback" not in line]
        why = errors[-1] if errors else next((line for line in reversed(lines) if line), "no error in the log")
    fix = STAGE_FIXES.get(failed[0]) if failed else None
    fix = fix or next((text for pattern, text in KNOWN_FIXES if pattern.search(why)), None)
    message = f"DAG {dag_id} failed at {', '.join(failed) or 'no task'}: {cut(why, WHY_CHARS)}"
    if fix:
        message += f"; fix: {fix}"
    if not_run:
        message += f"; not run: {', '.join(not_run)}"
    return f"{message}; full log: {log_path}"


def _airflow_runner(args: list[str], env: dict[str, str], log_path: Path, pass_fds: tuple[int, ...] = ()) -> None:
    """``python -m scenetune.dag_runner``: its own process group, which dies with this process (Ctrl-C: within seconds)."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("w") as log:
        run_group([sys.executable, "-m", "scenetune.dag_runner", *args], env=env, stdout=log, stderr=subprocess.STDOUT,
                  pass_fds=pass_fds)
