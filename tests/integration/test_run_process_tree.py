"""A refresh is one process tree that dies with its command; one refresh at a time; a killed run says so.

Real processes on the tiny demo site: `scenetune refresh` in its own session, the DAG runner, Spark's
JVM and Python workers. Every process of a test's tree carries its SCENETUNE_HOME in its environment,
so /proc tells exactly which are left.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from core import locks
from scenetune import airflow_env

pytestmark = pytest.mark.slow

FIRST, SECOND = "2026-11-16T00:00:00+00:00", "2026-11-23T00:00:00+00:00"


def _env(home: Path) -> dict[str, str]:
    env = {**os.environ, "SCENETUNE_HOME": str(home), "SCENETUNE_DEMO_SCALE": "tiny", "GENIE_BASE_URL": "",
           "SPARK_MASTER": "local[2]", "SCENETUNE_SPARK_SHUFFLE_PARTITIONS": "2", "PYSPARK_PYTHON": sys.executable}
    return {k: v for k, v in env.items() if not k.startswith("AIRFLOW")}


def _tree(home: Path) -> list[str]:
    """Processes (pid and command) whose environment carries this test's SCENETUNE_HOME."""
    marker = f"SCENETUNE_HOME={home}".encode()
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = Path(entry.path, "environ").read_bytes()
            cmdline = Path(entry.path, "cmdline").read_bytes()
        except OSError:  # gone meanwhile, or another user's
            continue
        if marker in environ.split(b"\0"):
            command = cmdline.replace(b"\0", b" ").decode(errors="replace")[:100]
            found.append(f"{entry.name} {command}")
    return found


def _until(predicate, timeout_s: float, what: str):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"not within {timeout_s:.0f}s: {what}")


def _files(home: Path) -> dict[str, tuple[int, int]]:
    return {str(p): (p.stat().st_mtime_ns, p.stat().st_size) for p in home.rglob("*") if p.is_file()}


def _refresh(home: Path, logical_date: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "scenetune.cli", "refresh", "--logical-date", logical_date],
                            env=_env(home), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)


def _spark_started(home: Path) -> bool:
    # The runner warms Spark up as it starts: its JVM is up once a java process is in the tree.
    tree = _tree(home)
    return any("scenetune.dag_runner" in p for p in tree) and any("java" in p for p in tree)


def test_a_killed_refresh_takes_its_tree_with_it_and_is_recorded_killed(tmp_path):
    home = tmp_path / "home"
    first = _refresh(home, FIRST)
    _until(lambda: _spark_started(home), 180, "the DAG runner and its Spark JVM start")

    # One refresh at a time: a second one fails at once, naming the holder.
    second = subprocess.run([sys.executable, "-m", "scenetune.cli", "refresh", "--logical-date", SECOND],
                            env=_env(home), capture_output=True, text=True, timeout=120)
    assert second.returncode == 2, second.stderr
    assert f"already running (pid {first.pid}" in second.stderr and second.stderr.strip().count("\n") == 0

    os.kill(first.pid, signal.SIGKILL)
    first.wait(timeout=10)
    tree_gone = time.monotonic()
    _until(lambda: not _tree(home), 10, f"the killed refresh's tree goes: {_tree(home)}")
    assert time.monotonic() - tree_gone < 10
    # Nobody writes in SCENETUNE_HOME any more, and no catalogue version appeared.
    written = _files(home)
    time.sleep(3)
    assert _files(home) == written
    assert not (home / "warehouse" / "scenetune.duckdb").exists()
    assert not (home / "warehouse" / "delta" / "ops" / "catalogue_versions").exists()

    # The lock the dead command held is stale: it still names that pid, and nobody holds it.
    lock = airflow_env.lock_path("catalogue_refresh", home)
    assert locks.holder(lock).pid == first.pid and not locks.held(lock)
    listed = subprocess.run([sys.executable, "-m", "scenetune.cli", "runs", "--json"], env=_env(home),
                            capture_output=True, text=True, timeout=120)
    assert listed.returncode == 0, listed.stderr
    (row,) = json.loads(listed.stdout)
    assert (row["run_key"], row["state"]) == ("20261116T000000Z", "killed")
    assert f"pid {first.pid}" in row["failure"] and "killed" in row["failure"]

    # Ctrl-C: the next refresh (it breaks the stale lock) stops with its whole tree within seconds.
    third = _refresh(home, SECOND)
    _until(lambda: _spark_started(home), 180, "the second refresh's runner and JVM start")
    interrupted = time.monotonic()
    third.send_signal(signal.SIGINT)  # what a terminal sends to its foreground group
    _, err = third.communicate(timeout=20)
    assert third.returncode == 130 and "interrupted" in err, err
    _until(lambda: not _tree(home), 10, f"the interrupted refresh's tree goes: {_tree(home)}")
    assert time.monotonic() - interrupted < 15
    rows = json.loads(subprocess.run([sys.executable, "-m", "scenetune.cli", "runs", "--json"], env=_env(home),
                                     capture_output=True, text=True, timeout=120).stdout)
    assert {r["run_key"]: r["state"] for r in rows} == {"20261116T000000Z": "killed", "20261123T000000Z": "killed"}
    assert not locks.held(lock)


def _in_stage(home: Path, logical_date: str, stage: str) -> bool:
    """The runner of the refresh for ``logical_date`` has started ``stage``: its run log says so."""
    log = home / "airflow" / "runs" / f"catalogue_refresh__{logical_date.replace(':', '')}.log"
    return log.exists() and f"[DAG TEST] starting task_id={stage} " in log.read_text(errors="replace")


def _runner(home: Path) -> int | None:
    found = [int(p.split()[0]) for p in _tree(home) if "scenetune.dag_runner" in p]
    return found[0] if found else None


def _runs(home: Path) -> dict[str, dict]:
    listed = subprocess.run([sys.executable, "-m", "scenetune.cli", "runs", "--json"], env=_env(home),
                            capture_output=True, text=True, timeout=120)
    assert listed.returncode == 0, listed.stderr
    return {r["run_key"]: r for r in json.loads(listed.stdout)}


def test_a_refresh_killed_mid_stage_is_recorded_killed_at_that_stage(tmp_path):
    """kill -9 of either process group a refresh is made of, while a stage runs: `killed at <stage>`."""
    home = tmp_path / "home"
    # 1. The runner's group (Airflow's `dags test`, Spark's JVM and workers), as the OOM killer or a
    #    `kill -9 -PGID` of the java process seen in `ps` would, during the first Spark stage: the command
    #    lives on and says so.
    first = _refresh(home, FIRST)
    try:
        _until(lambda: _in_stage(home, FIRST, "clean_covers"), 300, "the first refresh starts clean_covers")
        time.sleep(1)
        os.killpg(_runner(home), signal.SIGKILL)
        _, err = first.communicate(timeout=120)
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
    line = err.strip()
    assert first.returncode == 2 and "\n" not in line, err[-2000:]
    assert line.startswith("scenetune: catalogue_refresh run 20261116T000000Z was killed during clean_covers: "
                           "its Airflow runner (python -m scenetune.dag_runner, with Spark's JVM) ended"), line
    done = set(line.split("Stages done before: ", 1)[1].split(".", 1)[0].split(", "))
    assert {"preflight", "crawl"} <= done and "clean_covers" not in done and "Its log: " in line
    _until(lambda: not _tree(home), 15, f"the killed runner's tree goes: {_tree(home)}")
    row = _runs(home)["20261116T000000Z"]
    assert (row["state"], row["failed_stage"]) == ("killed", "clean_covers")
    assert row["stage_states"]["crawl"] == "success" and row["stage_states"]["clean_covers"] == "running"
    assert row["run_id"].startswith("manual__") and "crawl" in row["stage_durations"]
    assert not (home / "warehouse" / "scenetune.duckdb").exists()

    # 2. The command's own group, as `kill -9 -PGID` of `scenetune refresh` from another terminal, while
    #    it crawls: the runner kills its tree (the crawl's Scrapy process, Spark's warm JVM), and the next
    #    `scenetune runs` closes the run from Airflow's record.
    second = _refresh(home, SECOND)
    try:
        _until(lambda: _in_stage(home, SECOND, "crawl"), 300, "the second refresh starts crawling")
        time.sleep(1)
        os.killpg(second.pid, signal.SIGKILL)
        second.wait(timeout=10)
    finally:
        if second.poll() is None:
            os.killpg(second.pid, signal.SIGKILL)
    _until(lambda: not _tree(home), 15, f"the killed refresh's tree goes: {_tree(home)}")
    rows = _runs(home)
    assert {k: (r["state"], r["failed_stage"]) for k, r in rows.items()} == {
        "20261116T000000Z": ("killed", "clean_covers"), "20261123T000000Z": ("killed", "crawl")}
    assert f"its command (pid {second.pid}) ended before the run could record itself" in rows["20261123T000000Z"]["failure"]
    assert rows["20261123T000000Z"]["duration_s"] < 600  # up to its last sign of life, not to when it was noticed


def test_spark_started_in_process_dies_with_its_command(tmp_path):
    """`scenetune score` is Spark's driver itself: its JVM and Python workers must not outlive it."""
    home = tmp_path / "home"
    code = ("import time\n"
            "from spark_jobs.session import get_spark\n"
            "spark = get_spark('kill-test')\n"
            "spark.range(4, numPartitions=2).mapInPandas(lambda b: b, 'id long').count()\n"
            "print('ready', flush=True)\n"
            "time.sleep(600)\n")
    driver = subprocess.Popen([sys.executable, "-c", code], env=_env(home), stdout=subprocess.PIPE, text=True,
                              start_new_session=True)
    assert driver.stdout.readline().strip() == "ready"
    assert any("java" in p for p in _tree(home)) and any("pyspark" in p for p in _tree(home)), _tree(home)
    os.kill(driver.pid, signal.SIGKILL)
    driver.wait(timeout=10)
    _until(lambda: not _tree(home), 15, f"the driver's JVM and workers go: {_tree(home)}")


def test_an_unreachable_spark_master_fails_in_one_line_saying_what_why_and_what_did_not_run(tmp_path):
    home = tmp_path / "home"
    env = {**_env(home), "SPARK_MASTER": "spark://127.0.0.1:1"}
    done = subprocess.run([sys.executable, "-m", "scenetune.cli", "refresh", "--force-build", "--logical-date", FIRST],
                          env=env, capture_output=True, text=True, timeout=300)
    line = done.stderr.strip()
    assert done.returncode == 2 and "\n" not in line, done.stderr[-2000:]
    assert line.startswith("scenetune: DAG catalogue_refresh failed at clean_covers: ConfigurationError: the Spark "
                           "master spark://127.0.0.1:1 cannot be reached"), line
    assert "set SPARK_MASTER to a running master (local[*] runs Spark on this machine); not run: build_catalogue, " \
           "quality_gate, train_tag_head, publish; full log: " in line
    assert "[error" not in line and "2026-" not in line.split("full log:")[0]
    rows = json.loads(subprocess.run([sys.executable, "-m", "scenetune.cli", "runs", "--json"], env=_env(home),
                                     capture_output=True, text=True, timeout=120).stdout)
    assert [(r["state"], r["failed_stage"]) for r in rows] == [("failed", "clean_covers")]  # recorded, not `running`
