"""docker-compose.yml is valid and wires Airflow, Postgres and Spark together."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(shutil.which("docker-compose") is None, reason="docker-compose not installed (make setup installs it)")
def test_compose_file_validates():
    done = subprocess.run(["docker-compose", "config", "-q"], cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_compose_runs_airflow_3_on_postgres_and_a_spark_cluster():
    spec = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    services = spec["services"]
    assert {"postgres", "airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "spark-master", "spark-worker"} <= set(services)
    env = spec["x-scenetune-env"]
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql")
    assert env["SPARK_MASTER"] == "spark://spark-master:7077"
    assert env["AIRFLOW__CORE__DAGS_FOLDER"] == "/opt/scenetune/dags"
    assert (REPO / "docker" / "Dockerfile").exists()
