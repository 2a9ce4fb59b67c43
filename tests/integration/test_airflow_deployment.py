"""The DAGs under Airflow as a deployment runs it: api-server, scheduler (LocalExecutor) and
dag-processor on a Postgres metadata DB. catalogue_refresh is triggered through the REST API; then
score_uploads, with a folder of photos in its conf; then `airflow backfill create` over three past
nights of score_uploads, which must score nothing twice.

`airflow dags test` (the other DAG tests, `make demo`) bypasses the scheduler, the API server and the
Task SDK's execution path; this test does not. Postgres is Debian's, started here in a temp folder
on a loopback port (as the `postgres` user when the tests run as root) and stopped after.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path

import duckdb
import pytest

# ~5.5 min on this 2-core machine (catalogue_refresh ~3.5, then score_uploads and its backfill ~1.5),
# ~8.5 while other suites ran beside it: too slow for `make test`; `make test-deployment` runs it.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800),
              pytest.mark.skipif(not os.environ.get("SCENETUNE_TEST_DEPLOYMENT"),
                                 reason="a whole Airflow deployment: `make test-deployment` (SCENETUNE_TEST_DEPLOYMENT=1)")]

REPO = Path(__file__).resolve().parents[2]
# Debian's postgresql (scripts/setup.sh installs it), newest major version first.
PG_BIN = max(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name),
             default=Path("/usr/lib/postgresql/15/bin"))
LOGICAL_DATE = "2026-11-16T00:00:00Z"
RUN_KEY = "20261116T000000Z"
START_TIMEOUT_S = 240
RUN_TIMEOUT_S = 1200


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _as_postgres(cmd: list[str]) -> list[str]:
    """Postgres refuses to run as root: run its commands as the system's postgres user then."""
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


@pytest.fixture(scope="module")
def postgres():
    """A Postgres cluster in a temp folder on a free loopback port; yields its SQLAlchemy URL."""
    if not (PG_BIN / "initdb").exists():
        pytest.skip("Debian's postgresql is not installed (make setup installs it)")
    root = Path(tempfile.mkdtemp(prefix="scenetune-pg-"))
    root.chmod(0o755)
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
    port = _free_port()
    data = root / "data"
    try:
        init = subprocess.run(_as_postgres([str(PG_BIN / "initdb"), "-D", str(data), "-U", "airflow", "--auth=trust",
                                            "-E", "UTF8"]), capture_output=True, text=True, timeout=120, cwd="/")
        assert init.returncode == 0, init.stderr[-2000:]
        start = subprocess.run(_as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(data), "-l", str(root / "postgres.log"),
                                             "-o", f"-p {port} -k {root} -c listen_addresses=127.0.0.1",
                                             "-w", "-t", "60", "start"]),
                               capture_output=True, text=True, timeout=90, cwd="/")
        assert start.returncode == 0, start.stdout[-1000:] + (root / "postgres.log").read_text()[-2000:]
        yield f"postgresql+psycopg2://airflow@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(_as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "-t", "60", "stop"]),
                       capture_output=True, timeout=90, cwd="/")
        shutil.rmtree(root, ignore_errors=True)


class Airflow:
    """The REST API of the running deployment (the simple auth manager: an admin token for anyone)."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.token: str | None = None

    def call(self, method: str, path: str, body: dict | None = None) -> dict:
        if self.token is None:
            with urllib.request.urlopen(f"{self.base}/auth/token", timeout=30) as answer:
                self.token = json.load(answer)["access_token"]
        request = urllib.request.Request(
            f"{self.base}{path}", method=method, data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as answer:
            return json.load(answer)


def _wait(what: str, check, timeout_s: float, logs: list[Path]):
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            value = check()
            if value:
                return value
        except (urllib.error.URLError, ConnectionError, TimeoutError, KeyError):
            pass
        if time.monotonic() > deadline:
            tails = "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-1500:]}" for p in logs if p.exists())
            pytest.fail(f"{what} not within {timeout_s:.0f} s\n{tails}")
        time.sleep(2)


@pytest.fixture(scope="module")
def deployment(postgres, tmp_path_factory):
    """api-server, scheduler and dag-processor on the Postgres DB; yields (API, logs, SCENETUNE_HOME, env)."""
    root = tmp_path_factory.mktemp("airflow_deployment")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env.update({
        "AIRFLOW_HOME": str(root / "airflow"),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": postgres,
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__PARALLELISM": "2",
        "AIRFLOW__CORE__MAX_ACTIVE_TASKS_PER_DAG": "2",
        "AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT": "120",
        "AIRFLOW__CORE__AUTH_MANAGER": "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API_AUTH__JWT_SECRET": "scenetune-test-secret",
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
        "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
        "SCENETUNE_HOME": str(root / "home"),
        "SCENETUNE_UPLOAD_ROOTS": str(root / "inbox"),
        "SCENETUNE_DEMO_SCALE": "tiny",
        "SCENETUNE_REFRESH_SCHEDULE": "none",  # only the run this test triggers, no scheduled one beside it
        "GENIE_BASE_URL": "",
        "SPARK_MASTER": "local[2]",
        "SCENETUNE_SPARK_SHUFFLE_PARTITIONS": "2",
        "PYSPARK_PYTHON": sys.executable,
    })
    migrated = subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], env=env, capture_output=True,
                              text=True, timeout=600)
    assert migrated.returncode == 0, migrated.stdout[-2000:] + migrated.stderr[-2000:]
    procs, logs = [], []
    try:
        for component in ("api-server", "scheduler", "dag-processor"):
            log = root / f"{component}.log"
            with log.open("w") as out:
                procs.append(subprocess.Popen([sys.executable, "-m", "airflow", component], env=env, stdout=out,
                                              stderr=subprocess.STDOUT, start_new_session=True))
            logs.append(log)
        api = Airflow(f"http://127.0.0.1:{port}")

        def healthy():
            with urllib.request.urlopen(f"{api.base}/api/v2/monitor/health", timeout=10) as answer:
                health = json.load(answer)
            return all(health[c]["status"] == "healthy" for c in ("metadatabase", "scheduler", "dag_processor"))

        _wait("api-server, scheduler and dag-processor healthy", healthy, START_TIMEOUT_S, logs)
        _wait("catalogue_refresh parsed", lambda: api.call("GET", "/api/v2/dags/catalogue_refresh")["dag_id"],
              START_TIMEOUT_S, logs)
        yield api, logs, root / "home", env
    finally:
        for proc in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, 15)
        for proc in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, 9)
                proc.wait(timeout=10)


def test_catalogue_refresh_triggered_through_the_rest_api_runs_on_the_scheduler_and_publishes(deployment, monkeypatch):
    api, logs, home, _ = deployment
    assert api.call("PATCH", "/api/v2/dags/catalogue_refresh", {"is_paused": False})["is_paused"] is False
    run_id = api.call("POST", "/api/v2/dags/catalogue_refresh/dagRuns",
                      {"logical_date": LOGICAL_DATE, "dag_run_id": f"api__{RUN_KEY}"})["dag_run_id"]
    path = f"/api/v2/dags/catalogue_refresh/dagRuns/{run_id}"
    state = _wait("the run finished", lambda: (s := api.call("GET", path)["state"]) in ("success", "failed") and s,
                  RUN_TIMEOUT_S, logs)
    tasks = {t["task_id"]: t for t in api.call("GET", f"{path}/taskInstances")["task_instances"]}
    assert state == "success", {k: (t["state"], t["try_number"]) for k, t in tasks.items()}
    assert all(t["state"] == "success" and t["try_number"] == 1 for t in tasks.values()), tasks

    con = duckdb.connect(str(home / "warehouse" / "scenetune.duckdb"), read_only=True)
    try:
        songs = con.sql("select count(*) from songs").fetchone()[0]
        runs = {r[0] for r in con.sql("select distinct run_key from songs").fetchall()}
        assert con.sql("select count(*) from playlists").fetchone()[0] > 20
    finally:
        con.close()
    assert songs > 0 and runs == {RUN_KEY}

    from scenetune import run_summary

    monkeypatch.setenv("SCENETUNE_HOME", str(home))  # read the deployment's ops tables as `scenetune runs` does
    recorded = run_summary.last("catalogue_refresh")
    assert (recorded["run_key"], recorded["run_id"], recorded["state"]) == (RUN_KEY, run_id, "success")
    assert set(recorded["stage_durations"]) == set(tasks) - {"record_run"}
    assert recorded["row_counts"]["gold.songs"] == songs and recorded["quality_passed"] is True


def _past_nights(days_ago: int = 5, nights: int = 3) -> list[datetime]:
    """02:00 UTC (score_uploads' schedule) of ``nights`` days from ``days_ago`` days before today."""
    first = datetime.now(timezone.utc).replace(hour=2, minute=0, second=0, microsecond=0) - timedelta(days=days_ago)
    return [first + timedelta(days=n) for n in range(nights)]


def _finished(api: Airflow, dag_id: str, run_id: str, logs: list[Path]) -> tuple[str, dict]:
    path = f"/api/v2/dags/{dag_id}/dagRuns/{run_id}"
    state = _wait(f"{dag_id} run {run_id} finished",
                  lambda: (s := api.call("GET", path)["state"]) in ("success", "failed") and s, RUN_TIMEOUT_S, logs)
    return state, {t["task_id"]: t for t in api.call("GET", f"{path}/taskInstances")["task_instances"]}


def _scoring_books(home: Path) -> dict:
    """What scoring wrote, in Delta and in the published DuckDB file: must not change when nothing is queued."""
    from schemas.scoring import IMAGE_TAGS, IMAGE_UPLOADS, RECOMMENDATIONS, SCORING_RUNS
    from warehouse import delta

    uploads = sorted((u["file_name"], u["status"], u["attempts"], u["scoring_run_key"])
                     for u in delta.read(IMAGE_UPLOADS).to_pylist())
    con = duckdb.connect(str(home / "warehouse" / "scenetune.duckdb"), read_only=True)
    try:
        published = {t: con.sql(f"select count(*) from {t}").fetchone()[0]
                     for t in ("image_uploads", "image_tags", "recommendations")}
    finally:
        con.close()
    return {"uploads": uploads, "image_tags": delta.count_rows(IMAGE_TAGS),
            "recommendations": delta.count_rows(RECOMMENDATIONS), "scoring_runs": delta.count_rows(SCORING_RUNS),
            "published": published}


def test_score_uploads_triggered_with_a_folder_then_backfilled_scores_each_photo_once(deployment, monkeypatch):
    from scenetune import run_summary
    from tests.unit.scoring_files import encode, photo

    api, logs, home, env = deployment
    monkeypatch.setenv("SCENETUNE_HOME", str(home))
    assert (home / "warehouse" / "scenetune.duckdb").exists(), "needs the catalogue the test before published"
    folder = home.parent / "inbox" / "민지"
    folder.mkdir(parents=True)
    (folder / "coffee.jpg").write_bytes(encode(photo("coffee", 96), "JPEG"))
    (folder / "chelsea.png").write_bytes(encode(photo("chelsea", 96), "PNG"))

    assert api.call("PATCH", "/api/v2/dags/score_uploads", {"is_paused": False})["is_paused"] is False
    run_id = api.call("POST", "/api/v2/dags/score_uploads/dagRuns",
                      {"logical_date": None, "conf": {"path": str(folder), "genres": ["발라드", "POP"]}})["dag_run_id"]
    state, tasks = _finished(api, "score_uploads", run_id, logs)
    assert state == "success", {k: (t["state"], t["try_number"]) for k, t in tasks.items()}
    scored = _scoring_books(home)
    assert [(f, s, a) for f, s, a, _ in scored["uploads"]] == [("chelsea.png", "scored", 1), ("coffee.jpg", "scored", 1)]
    assert scored["image_tags"] > 0 and scored["recommendations"] > 0 and scored["scoring_runs"] == 1
    assert scored["published"] == {"image_uploads": 2, "image_tags": scored["image_tags"],
                                   "recommendations": scored["recommendations"]}
    recorded = run_summary.last("score_uploads")
    assert (recorded["run_id"], recorded["state"], recorded["details"]["scored"]) == (run_id, "success", 2)

    nights = _past_nights()
    made = subprocess.run([sys.executable, "-m", "airflow", "backfill", "create", "--dag-id", "score_uploads",
                           "--from-date", f"{nights[0]:%Y-%m-%d}", "--to-date", f"{nights[-1]:%Y-%m-%dT12:00:00Z}"],
                          env=env, capture_output=True, text=True, timeout=300)
    assert made.returncode == 0, made.stdout[-2000:] + made.stderr[-2000:]
    (backfill,) = api.call("GET", "/api/v2/backfills?dag_id=score_uploads")["backfills"]
    _wait("the backfill completed", lambda: api.call("GET", f"/api/v2/backfills/{backfill['id']}")["completed_at"],
          RUN_TIMEOUT_S, logs)
    runs = api.call("GET", "/api/v2/dags/score_uploads/dagRuns?run_type=backfill")["dag_runs"]
    assert sorted(r["logical_date"][:10] for r in runs) == [f"{n:%Y-%m-%d}" for n in nights]
    assert all(r["state"] == "success" for r in runs), [(r["dag_run_id"], r["state"]) for r in runs]

    assert _scoring_books(home) == scored  # nothing claimed, scored or published twice
    keys = [f"{n:%Y%m%dT%H%M%SZ}" for n in nights]
    backfilled = [r for r in run_summary.runs("score_uploads") if r["run_key"] in keys]
    assert sorted(r["run_key"] for r in backfilled) == keys
    assert all(r["state"] == "success" and not r["details"].get("claimed") for r in backfilled), backfilled
