"""Run scenetune's DAGs through a real Airflow: environment, metadata DB, ``dags test``.

Defaults give a self-contained Airflow under ``SCENETUNE_HOME/airflow`` with a
SQLite metadata DB and low parallelism (2 cores). Any ``AIRFLOW__*`` variable
already set (e.g. Postgres in docker-compose) wins. Airflow's configuration
comes from the environment only: the ``airflow.cfg`` scenetune writes holds
no values, so a moved ``SCENETUNE_HOME`` keeps working.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from core import files, settings
from core.errors import ScenetuneError

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


def dags_test(dag_id: str, logical_date: str, extra_env: dict[str, str] | None = None,
              conf: dict | None = None) -> DagRunResult:
    """Run one DAG run (``airflow dags test``); success is the DagRun's final state in Airflow.

    Raises with the failing task and its last error line when the run did not succeed.
    """
    env = environ()
    env.update(extra_env or {})
    ensure_db(env)
    log_path = Path(env["AIRFLOW_HOME"]) / "runs" / f"{dag_id}__{logical_date.replace(':', '')}.log"
    summary_path = log_path.with_suffix(".json")
    summary_path.unlink(missing_ok=True)
    env["SCENETUNE_DAGRUN_SUMMARY"] = str(summary_path)
    _airflow_runner([dag_id, logical_date, *([json.dumps(conf)] if conf else [])], env, log_path)
    if not summary_path.exists():
        raise ScenetuneError(f"DAG {dag_id} did not run: {files.last_error_line(log_path)}; full log: {log_path}")
    raw = json.loads(summary_path.read_text())
    result = DagRunResult(dag_id, raw["run_id"], raw["state"], [TaskRun(**t) for t in raw["tasks"]], log_path)
    if not result.succeeded:
        failed = [t.task_id for t in result.tasks if t.state not in ("success", "skipped")]
        raise ScenetuneError(
            f"DAG {dag_id} {result.state} at {', '.join(failed) or 'no task'}: {files.last_error_line(log_path)}; full log: {log_path}"
        )
    return result


def _airflow_runner(args: list[str], env: dict[str, str], log_path: Path) -> None:
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("w") as log:
        subprocess.run([sys.executable, "-m", "scenetune.dag_runner", *args], env=env,
                       stdout=log, stderr=subprocess.STDOUT, text=True)
