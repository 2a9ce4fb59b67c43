"""Run scenetune's DAGs through a real Airflow: environment, metadata DB, ``dags test``.

Defaults give a self-contained Airflow under ``SCENETUNE_HOME/airflow`` with a
SQLite metadata DB and low parallelism (2 cores). Any ``AIRFLOW__*`` variable
already set (e.g. Postgres in docker-compose) wins.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from scenetune import settings
from scenetune.errors import ScenetuneError

DAGS_FOLDER = settings.REPO_ROOT / "dags"


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
    Path(env["AIRFLOW_HOME"]).mkdir(parents=True, exist_ok=True)
    marker = Path(env["AIRFLOW_HOME"]) / ".db-migrated"
    if marker.exists() and env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] == marker.read_text():
        return
    done = _airflow(["db", "migrate"], env)
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        raise ScenetuneError(f"airflow db migrate failed: {tail[0]}")
    marker.write_text(env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"])


def dags_test(dag_id: str, logical_date: str, extra_env: dict[str, str] | None = None) -> Path:
    """Run one DAG run in-process (``airflow dags test``); return its log file.

    Raises with the failing task's last error line when the run fails.
    """
    env = environ()
    env.update(extra_env or {})
    ensure_db(env)
    log_path = Path(env["AIRFLOW_HOME"]) / "runs" / f"{dag_id}__{logical_date.replace(':', '')}.log"
    done = _airflow(["dags", "test", dag_id, logical_date], env, log_path)
    text = log_path.read_text(errors="replace")
    # The DagRun's final state decides (a task that failed and then succeeded on retry is fine).
    finished = [line for line in text.splitlines() if "DagRun Finished:" in line]
    if done.returncode != 0 or not finished or "state=success" not in finished[-1]:
        errors = [line for line in text.splitlines() if "Error" in line or "error" in line]
        reason = errors[-1].strip() if errors else "see log"
        raise ScenetuneError(f"DAG {dag_id} failed ({reason[:300]}); full log: {log_path}")
    return log_path
