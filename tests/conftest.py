"""Shared fixtures: an isolated SCENETUNE_HOME per test, one Spark session per run."""

from __future__ import annotations

import logging
import os
import sys
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

# Airflow reads its config when first imported: point it at a throwaway home
# before any test imports it, so tests never touch ~/airflow.
_AIRFLOW_HOME = tempfile.mkdtemp(prefix="scenetune-airflow-")
os.environ["AIRFLOW_HOME"] = _AIRFLOW_HOME
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(REPO / "dags")
os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = f"sqlite:///{_AIRFLOW_HOME}/airflow.db"
os.environ.setdefault("SCENETUNE_HOME", tempfile.mkdtemp(prefix="scenetune-home-"))
# The encoders' ONNX exports (seconds of CPU each to make) are shared by every test's SCENETUNE_HOME, and
# by every pytest-xdist worker of one run (an export is written atomically: two workers may both make it).
_RUN = os.environ.get("PYTEST_XDIST_TESTRUNUID")
_ENCODERS = Path(tempfile.gettempdir(), f"scenetune-encoders-{_RUN}") if _RUN else Path(
    tempfile.mkdtemp(prefix="scenetune-encoders-"))
_ENCODERS.mkdir(exist_ok=True)
os.environ.setdefault("SCENETUNE_ENCODER_DIR", str(_ENCODERS))
# pytest-xdist's workers run under execnet, whose __main__ has neither __spec__ nor __file__: importing
# pyspark.sql.connect (great_expectations does) then takes itself for a doctest run and exits the worker.
# The name must be a real, empty file: a "spawn" process pool re-runs it in each child (argv[0] is "-c").
_MAIN = sys.modules["__main__"]
if getattr(_MAIN, "__spec__", None) is None and not hasattr(_MAIN, "__file__"):
    _MAIN.__file__ = str(REPO / "tests" / "xdist_worker_main.py")
# py4j logs from __del__ at interpreter exit, after pytest closed the streams.
logging.getLogger("py4j").setLevel(logging.WARNING)


@pytest.fixture(scope="session")
def session_home(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("scenetune_home")


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    """A fresh SCENETUNE_HOME for one test."""
    path = tmp_path / "home"
    monkeypatch.setenv("SCENETUNE_HOME", str(path))
    return path


@pytest.fixture(scope="session")
def spark(session_home):
    """One small local Spark session for the whole run (2 cores, one shuffle partition)."""
    os.environ["PYSPARK_PYTHON"] = sys.executable
    prev = os.environ.get("SCENETUNE_HOME")
    os.environ["SCENETUNE_HOME"] = str(session_home)
    os.environ["SCENETUNE_SPARK_SHUFFLE_PARTITIONS"] = "1"
    os.environ.setdefault("SPARK_MASTER", "local[2]")
    from spark_jobs.session import get_spark

    session = get_spark("scenetune-tests")
    if prev is None:
        os.environ.pop("SCENETUNE_HOME")
    else:
        os.environ["SCENETUNE_HOME"] = prev
    yield session
    session.stop()
