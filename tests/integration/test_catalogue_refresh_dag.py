"""catalogue_refresh end to end through a real Airflow (`airflow dags test` = dag.test()).

The tiny demo site is embedded, crawled by Scrapy in a subprocess, built by
Spark, gated and published to DuckDB; the test then reads the Delta tables and
the DuckDB file as a user would, and re-runs the same logical date to check
that nothing is duplicated.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import duckdb
import pyarrow.compute as pc
import pytest

from warehouse import delta

pytestmark = pytest.mark.slow

LOGICAL_DATE = "2026-11-16T00:00:00+00:00"
RUN_KEY = "20261116T000000Z"


def _scenetune(args, home):
    env = {
        **os.environ,
        "SCENETUNE_HOME": str(home),
        "SCENETUNE_MELON_DIR": str(home.parent / "melon"),  # every refresh also imports the Melon dataset
        "SCENETUNE_DEMO_SCALE": "tiny",
        "GENIE_BASE_URL": "",
        "SPARK_MASTER": "local[2]",
        "SCENETUNE_SPARK_SHUFFLE_PARTITIONS": "2",
    }
    for key in [k for k in env if k.startswith("AIRFLOW")]:
        del env[key]  # let scenetune give Airflow its own home under SCENETUNE_HOME
    return subprocess.run([sys.executable, "-m", "scenetune.cli", *args], env=env, capture_output=True, text=True, timeout=900)


def test_refresh_dag_lands_rows_in_delta_and_duckdb_and_reruns_idempotently(tmp_path):
    home = tmp_path / "home"
    subprocess.run([sys.executable, "-m", "demo_site", "melon", "--scale", "tiny", str(tmp_path / "melon")],
                   check=True, capture_output=True, timeout=120)
    done = _scenetune(["refresh", "--logical-date", LOGICAL_DATE], home)
    assert done.returncode == 0, done.stderr[-3000:]

    delta_dir = home / "warehouse" / "delta"
    both = delta.read(delta_dir / "bronze" / "playlists")
    playlists = both.filter(pc.equal(both["source"], "genie"))
    melon_playlists = both.num_rows - playlists.num_rows
    imports = delta.read(delta_dir / "bronze" / "import_runs").to_pylist()
    assert [(i["run_key"], i["status"], i["playlists_loaded"]) for i in imports] == [(RUN_KEY, "finished",
                                                                                     melon_playlists)]
    assert melon_playlists > 50
    assert playlists.num_rows > 20
    assert set(playlists.column("run_key").to_pylist()) == {RUN_KEY}
    runs = delta.read(delta_dir / "bronze" / "crawl_runs").to_pylist()
    assert len(runs) == 1
    run = runs[0]
    assert run["requested"] == run["parsed"] + run["quarantined"] + run["failed"]
    assert run["parsed"] == playlists.num_rows

    songs = delta.read(delta_dir / "gold" / "songs")
    rows = delta.read(delta_dir / "bronze" / "playlist_songs").num_rows
    assert 0 < songs.num_rows <= rows
    assert set(songs.column("run_key").to_pylist()) == {RUN_KEY}

    con = duckdb.connect(str(home / "warehouse" / "scenetune.duckdb"), read_only=True)
    assert con.sql("select count(*) from songs").fetchone()[0] == songs.num_rows
    assert dict(con.sql("select source, count(*) from playlists group by 1").fetchall()) == {
        "genie": playlists.num_rows, "melon": melon_playlists}  # one catalogue from both sources
    assert con.sql("select count(*) from crawl_runs").fetchone()[0] == 1
    assert con.sql("select count(*) from songs where len(sources) = 2").fetchone()[0] > 0  # songs both list
    # Every playlist's cover was judged, and the playlists carry the verdict.
    assert con.sql("select count(*) from cover_quality").fetchone()[0] == playlists.num_rows
    unjudged = con.sql("select count(*) from playlists p join cover_quality c using (plm_seq)"
                       " where p.source = 'genie' and p.cover_verdict is distinct from c.verdict").fetchone()[0]
    assert unjudged == 0
    assert {v for (v,) in con.sql("select distinct cover_verdict from playlists where source = 'genie'").fetchall()} <= {
        "keep", "crop", "drop", "unreadable"}
    assert con.sql("select count(*) from playlists where source = 'melon' and cover_verdict is not null").fetchone()[0] == 0
    # What was published is exactly what the gate audited and passed, version by version.
    published = dict(con.sql("select source, delta_version from catalogue_build").fetchall())
    con.close()
    audits = delta.read(delta_dir / "ops" / "catalogue_audits").to_pylist()
    assert {a["table_name"]: a["delta_version"] for a in audits} == published
    assert all(a["passed"] and a["run_key"] == RUN_KEY for a in audits)
    assert "preflight" in done.stdout and "publish" in done.stdout  # the time of each stage

    answer = _scenetune(["sql", "select count(*) AS n from songs"], home)
    assert answer.returncode == 0, answer.stderr
    assert str(songs.num_rows) in answer.stdout

    # Songs keep their lineage, and their identity scores against the demo site's ground truth.
    assert delta.read(delta_dir / "gold" / "song_lineage").num_rows == delta.read(
        delta_dir / "silver" / "playlist_songs").num_rows
    scored = _scenetune(["evaluate", "catalogue", "--scale", "tiny", "--seed", "7"], home)
    assert scored.returncode == 0, scored.stderr[-2000:]
    scores = json.loads(scored.stdout)  # the Melon rows against the generator's truth (SCENETUNE_MELON_DIR's)
    assert scores["unmatched_rows"] == 0 and scores["songs"] == songs.num_rows
    assert scores["cross_source"]["pair_precision"] >= 0.99 and scores["cross_source"]["pair_recall"] >= 0.9
    assert scores["pair_precision"] >= 0.99 and scores["form_pair_precision"] >= 0.99
    # tiny data shows few `A (B)` artist forms to learn aliases from (full scale: ≥ 0.99, bench/results/build.json)
    assert scores["pair_recall"] >= 0.9 and scores["form_pair_recall"] >= 0.9

    # The cover verdicts the refresh published score against the site's ground truth (no re-analysis).
    judged = _scenetune(["evaluate", "covers", "--scale", "tiny", "--seed", "7", "--json"], home)
    assert judged.returncode == 0, judged.stderr[-2000:]
    assert f"Scoring the cover verdicts run {RUN_KEY} recorded" in judged.stderr  # not cleaned again
    covers = json.loads(judged.stdout)
    assert covers["scored"] == playlists.num_rows and covers["macro_f1"] >= 0.9, covers
    assert (home / "evaluations" / "covers-tiny.png").stat().st_size > 1000

    # The same logical date again: every task replaces what it wrote, nothing doubles.
    again = _scenetune(["refresh", "--logical-date", LOGICAL_DATE], home)
    assert again.returncode == 0, again.stderr[-3000:]
    assert delta.read(delta_dir / "bronze" / "playlists").num_rows == both.num_rows
    assert delta.read(delta_dir / "bronze" / "crawl_runs").num_rows == 1
    assert delta.read(delta_dir / "bronze" / "import_runs").num_rows == 1
    assert sorted(delta.read(delta_dir / "gold" / "songs").column("song_key").to_pylist()) == sorted(
        songs.column("song_key").to_pylist()
    )
    assert delta.read(delta_dir / "ops" / "catalogue_audits").num_rows == len(audits)
    # Airflow kept its configuration out of SCENETUNE_HOME: nothing pins this machine's paths.
    assert str(home) not in (home / "airflow" / "airflow.cfg").read_text()

    # The run left one summary row, and the re-run replaced it.
    summary = json.loads((home / "airflow" / "runs" / "catalogue_refresh__2026-11-16T000000+0000.json").read_text())
    tasks = {t["task_id"]: t for t in summary["tasks"]}
    assert tasks["record_run"]["state"] == "success"  # a teardown, after every other task
    (ok,) = delta.read(delta_dir / "ops" / "pipeline_runs").to_pylist()
    assert (ok["run_key"], ok["state"], ok["failed_stage"], ok["failure"], ok["quality_passed"]) == (
        RUN_KEY, "success", None, None, True)
    assert set(json.loads(ok["stage_durations"])) == set(tasks) - {"record_run"}
    assert json.loads(ok["row_counts"])["gold.songs"] == songs.num_rows
    assert json.loads(ok["crawl_books"])["parsed"] == playlists.num_rows
    assert json.loads(ok["details"])["stats"]["playlists_loaded"] == melon_playlists
    assert "no covers" in json.loads(ok["details"])["note"]
    listed = _scenetune(["runs"], home)
    assert listed.returncode == 0 and RUN_KEY in listed.stdout and "success" in listed.stdout, listed.stderr[-2000:]
    # A gate that fails the run (no retries, nothing published): tests/integration/test_publish.py at the
    # function level, tests/dags/test_dag_integrity.py for publish waiting on the gate.


def test_a_configuration_error_fails_the_dag_at_preflight_without_retries(tmp_path):
    """The DAG run itself (not only the CLI) fails at once on a setting no retry can fix."""
    code = (
        "from scenetune import airflow_env\n"
        "try:\n"
        "    airflow_env.dags_test('catalogue_refresh', '2026-11-16T00:00:00+00:00', {'SPARK_MASTER': 'bogus'})\n"
        "except Exception as exc:\n"
        "    print(exc)\n"
        "import json\n"
        "from pathlib import Path\n"
        "summary = next((Path(airflow_env.environ()['AIRFLOW_HOME']) / 'runs').glob('*.json'))\n"
        "print(summary.read_text())\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env.update(SCENETUNE_HOME=str(tmp_path / "home"), GENIE_BASE_URL="")
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=600)
    message, summary = done.stdout.strip().splitlines()[-2:]
    tasks = {t["task_id"]: t for t in json.loads(summary)["tasks"]}
    assert "failed at preflight" in message and "SPARK_MASTER='bogus'" in message
    assert tasks["preflight"]["state"] == "failed" and tasks["preflight"]["tries"] == 1
    assert tasks["crawl"]["state"] == "upstream_failed"
