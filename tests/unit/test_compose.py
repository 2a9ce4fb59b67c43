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


def test_airflow_components_share_a_jwt_secret_and_wait_for_the_migrated_db():
    spec = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    assert spec["x-scenetune-env"]["AIRFLOW__API_AUTH__JWT_SECRET"]  # else each signs task tokens its own way
    for name in ("airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer"):
        waits = spec["services"][name]["depends_on"]
        assert waits["airflow-init"]["condition"] == "service_completed_successfully", name


def test_the_image_holds_every_package_the_project_installs():
    import tomllib

    packages = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]["include"]
    copied = {line.split()[1] for line in (REPO / "docker" / "Dockerfile").read_text().splitlines()
              if line.startswith("COPY ")}
    assert {p.rstrip("*") for p in packages} <= copied
