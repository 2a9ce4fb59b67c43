"""Spark on a cluster: a standalone master and worker on 127.0.0.1, started from the pyspark install.

The catalogue build is submitted to it as a cluster user would (``spark-submit --master spark://…``, the
README's command) and must give exactly what local mode gives; a master nobody listens on fails at once,
in one line naming the URL.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pyspark
import pytest

from core.errors import ConfigurationError
from spark_jobs.build_catalogue import OUTPUTS, build
from spark_jobs.session import check_master
from tests.integration.bronze_rows import two_runs
from warehouse import delta

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
SPARK_CLASS = Path(pyspark.__file__).parent / "bin" / "spark-class"
SPARK_SUBMIT = Path(sys.executable).parent / "spark-submit"
RUN_KEY = "20261115T000000Z"
START_TIMEOUT_S = 120  # a JVM each; slow when other suites share the 2 cores
JOB_TIMEOUT_S = 600


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _cluster_env() -> dict[str, str]:
    return {**os.environ, "SPARK_LOCAL_IP": "127.0.0.1", "SPARK_NO_DAEMONIZE": "1",
            # No REST submission server: its fixed port 6066 would clash with other clusters on the machine.
            "SPARK_MASTER_OPTS": "-Dspark.master.rest.enabled=false"}


def _start(args: list[str], log: Path, ready: str) -> subprocess.Popen:
    """Start a Spark daemon in its own process group and wait (bounded) for ``ready`` in its log."""
    with log.open("w") as out:
        proc = subprocess.Popen([str(SPARK_CLASS), *args], env=_cluster_env(), stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    deadline = time.monotonic() + START_TIMEOUT_S
    while ready not in log.read_text(errors="replace"):
        if proc.poll() is not None or time.monotonic() > deadline:
            _stop(proc)
            pytest.fail(f"{args[0]} did not start within {START_TIMEOUT_S} s: {log.read_text(errors='replace')[-2000:]}")
        time.sleep(0.3)
    return proc


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, 15)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            proc.wait(timeout=10)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """``(master URL, worker folder)`` of a standalone master and one worker (2 cores), stopped after."""
    root = tmp_path_factory.mktemp("spark_cluster")
    port = _free_port()
    url = f"spark://127.0.0.1:{port}"
    master = _start(["org.apache.spark.deploy.master.Master", "--host", "127.0.0.1", "--port", str(port),
                     "--webui-port", str(_free_port())], root / "master.log", "I have been elected leader")
    try:
        worker = _start(["org.apache.spark.deploy.worker.Worker", "--host", "127.0.0.1", "--cores", "2",
                         "--memory", "2g", "--webui-port", str(_free_port()), "--work-dir", str(root / "work"), url],
                        root / "worker.log", "Successfully registered with master")
        try:
            yield url, root / "work"
        finally:
            _stop(worker)
    finally:
        _stop(master)


def _job_env(home: Path, master: str) -> dict[str, str]:
    return {**os.environ, "SCENETUNE_HOME": str(home), "SPARK_MASTER": master, "SPARK_LOCAL_IP": "127.0.0.1",
            "PYSPARK_PYTHON": sys.executable, "PYSPARK_DRIVER_PYTHON": sys.executable,
            "SCENETUNE_SPARK_SHUFFLE_PARTITIONS": "2", "SCENETUNE_SPARK_DRIVER_MEMORY": "1g"}


def _tables(home: Path, monkeypatch) -> dict[str, list]:
    monkeypatch.setenv("SCENETUNE_HOME", str(home))
    return {t.qualified_name: sorted(map(repr, delta.read(t).to_pylist())) for t in OUTPUTS}


def test_the_catalogue_build_on_a_standalone_cluster_equals_local_mode(home, spark, cluster, tmp_path, monkeypatch):
    url, work = cluster
    cluster_home = tmp_path / "cluster_home"
    monkeypatch.setenv("SCENETUNE_HOME", str(cluster_home))
    two_runs()  # the same bronze rows in two homes: one built on the cluster, one in local mode
    log = tmp_path / "cluster_build.log"  # files, not pipes: nobody reads a pipe while the local build runs
    printed = tmp_path / "cluster_build.out"
    # spark-submit's --master wins over SPARK_MASTER (nothing listens on port 1).
    env = {**_job_env(cluster_home, url), "SPARK_MASTER": "spark://127.0.0.1:1"}
    with log.open("w") as err, printed.open("w") as out:
        job = subprocess.Popen([str(SPARK_SUBMIT), "--master", url, "--driver-memory", "1g",
                                str(REPO / "spark_jobs" / "build_catalogue.py"), "--run-key", RUN_KEY],
                               cwd=REPO, env=env, stdout=out, stderr=err)
    try:
        monkeypatch.setenv("SCENETUNE_HOME", str(home))
        two_runs()
        local = build(RUN_KEY, spark=spark)  # meanwhile (most of either build is waiting on JVMs and workers)
        job.wait(timeout=JOB_TIMEOUT_S)
    finally:
        if job.poll() is None:
            job.kill()
            job.wait()
    assert job.returncode == 0, log.read_text(errors="replace")[-3000:]
    # The job prints the Delta version it committed for every output table.
    committed = json.loads(next(line for line in printed.read_text().splitlines() if line.startswith("{")))
    assert sorted(committed) == sorted(t.qualified_name for t in OUTPUTS)
    apps = [p.name for p in work.iterdir()] if work.exists() else []
    assert any(name.startswith("app-") for name in apps), f"no application ran on the worker: {apps}"

    assert _tables(cluster_home, monkeypatch) == _tables(home, monkeypatch)
    assert sorted(local) == sorted(t.qualified_name for t in OUTPUTS)


def _queue_photos(photos: Path) -> None:
    """A tag head, a small catalogue and a queued folder of real photos, in the current SCENETUNE_HOME."""
    from core.runs import RunPartition
    from scoring.uploads import submit
    from tests.integration.scoring_helpers import register_head, write_catalogue

    register_head("20261121T000000Z")
    write_catalogue()
    submit(photos, moment=RunPartition.parse("20261122T010000Z"), genres=["발라드"], submitter="test")


def _scored(home: Path, monkeypatch) -> tuple[dict, dict]:
    from schemas.scoring import IMAGE_TAGS, RECOMMENDATIONS
    from scoring import upload_queue

    monkeypatch.setenv("SCENETUNE_HOME", str(home))
    tags = {(r["input_key"], r["label"]): r["score"] for r in delta.read(IMAGE_TAGS).to_pylist()}
    verdicts = {(r["file_name"], r["status"], r["reason"]) for r in upload_queue.read()}
    songs = sorted((r["input_key"], r["recommender"], r["rank"], r["song_key"]) for r in delta.read(RECOMMENDATIONS).to_pylist())
    return tags, {"verdicts": verdicts, "songs": songs}


@pytest.mark.skipif(not os.environ.get("SCENETUNE_TEST_DEPLOYMENT"),
                    reason="~2 min more on a busy 2-core machine: `make test-deployment` (SCENETUNE_TEST_DEPLOYMENT=1)")
def test_spark_submit_scores_the_upload_queue_on_the_cluster_as_local_mode_does(home, spark, cluster, tmp_path,
                                                                                  monkeypatch):
    from scoring.score_uploads import score
    from tests.integration.scoring_helpers import photo_folder

    url, work = cluster
    photos = photo_folder(tmp_path / "photos")
    cluster_home = tmp_path / "cluster_home"
    monkeypatch.setenv("SCENETUNE_HOME", str(cluster_home))
    _queue_photos(photos)
    log = tmp_path / "cluster_score.log"
    with log.open("w") as out:  # spark-submit's --master wins over SPARK_MASTER (here: nothing listens there)
        job = subprocess.Popen([str(Path(sys.executable).parent / "spark-submit"), "--master", url,
                                str(REPO / "scoring" / "score_uploads.py"), "--run-key", "20261122T020000Z"],
                               cwd=REPO, env=_job_env(cluster_home, f"spark://127.0.0.1:{_free_port()}"),
                               stdout=out, stderr=subprocess.STDOUT)
    try:
        monkeypatch.setenv("SCENETUNE_HOME", str(home))
        _queue_photos(photos)
        books = score("20261122T020000Z", spark=spark)
        job.wait(timeout=JOB_TIMEOUT_S)
    finally:
        if job.poll() is None:
            job.kill()
            job.wait()
    assert job.returncode == 0, log.read_text(errors="replace")[-3000:]
    assert books["scored"] == 4 and books["failed"] == 1

    local_tags, local = _scored(home, monkeypatch)
    cluster_tags, on_cluster = _scored(cluster_home, monkeypatch)
    assert on_cluster == local
    assert cluster_tags.keys() == local_tags.keys() and len(local_tags) > 0
    assert all(abs(cluster_tags[k] - local_tags[k]) < 1e-5 for k in local_tags)  # same model, same pixels
    assert len([p for p in work.iterdir() if p.name.startswith("app-")]) >= 2  # the build's and this one


def test_a_master_nobody_listens_on_fails_at_once_naming_its_url(home):
    closed = f"spark://127.0.0.1:{_free_port()}"
    two_runs()
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "spark_jobs.build_catalogue", "--run-key", RUN_KEY],
                          cwd=REPO, env=_job_env(home, closed), capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("core.errors.ConfigurationError: the Spark master " + closed + " cannot be reached"), last
    assert time.monotonic() - started < 60  # Spark alone retries for over a minute, then prints a Java stack


def test_check_master_accepts_a_listening_master_and_any_of_standby_masters():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        check_master(f"spark://127.0.0.1:{port}")
        check_master(f"spark://127.0.0.1:{_free_port()},127.0.0.1:{port}")
    check_master("local[2]")  # nothing to reach
    with pytest.raises(ConfigurationError, match=r"spark://127\.0\.0\.1:\d+ cannot be reached .*Connection refused"):
        check_master(f"spark://127.0.0.1:{_free_port()}", timeout_s=1)
