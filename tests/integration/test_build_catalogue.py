"""The Spark catalogue build on real Delta tables: latest state, dedup, tags, idempotency."""

from __future__ import annotations

import pytest

from schemas import gold, silver
from scenetune import settings
from spark_jobs.build_catalogue import build
from tests.integration.bronze_rows import two_runs
from warehouse import delta

pytestmark = pytest.mark.slow


def _read(table):
    s = settings.load()
    return delta.read(s.delta_path(table.layer, table.name)).to_pylist()


def test_build_keeps_latest_playlist_state_and_merges_song_spellings(home, spark):
    two_runs()
    result = build("b1", spark)

    playlists = {r["plm_seq"]: r for r in _read(silver.PLAYLISTS)}
    assert playlists[2]["crawl_run_id"] == "r2"  # the newer crawl wins
    assert playlists[2]["tags"] == ["드라이브", "신나는"]
    assert playlists[2]["song_count"] == 3
    assert playlists[1]["song_count"] == 2

    songs = {r["song_key"]: r for r in _read(gold.SONGS)}
    # "IU / 밤편지", "ＩＵ / 밤 편지 (Feat. Someone)" and "iu / 밤편지" are one song
    assert set(songs) == {"iu|밤편지", "zion.t|양화대교", "outkast|heyya!", "jasonmraz|i'myours"}
    night = songs["iu|밤편지"]
    assert night["playlist_count"] == 2
    assert night["song_ids"] == ["100", "200"]
    assert set(night["tags"]) == {"비오는날", "흐린날", "드라이브", "신나는"}
    assert result["gold.songs"]["rows"] == 4

    tags = {r["tag"]: r for r in _read(gold.TAGS)}
    assert tags["드라이브"]["playlist_count"] == 1
    assert tags["드라이브"]["song_count"] == 3


def test_rebuilding_the_same_build_gives_the_same_tables(home, spark):
    two_runs()
    build("b1", spark)
    first = sorted(_read(gold.SONGS), key=lambda r: r["song_key"])
    build("b1", spark)
    again = sorted(_read(gold.SONGS), key=lambda r: r["song_key"])
    assert first == again
    assert len(again) == 4


def test_the_job_runs_with_spark_submit(home):
    """The same job, outside Airflow, as a cluster user would submit it."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    two_runs()
    repo = Path(__file__).resolve().parents[2]
    spark_submit = Path(sys.executable).parent / "spark-submit"
    env = {**os.environ, "SCENETUNE_HOME": str(home), "PYSPARK_PYTHON": sys.executable,
           "PYSPARK_DRIVER_PYTHON": sys.executable, "SPARK_LOCAL_IP": "127.0.0.1"}
    done = subprocess.run(
        [str(spark_submit), "--master", "local[1]", str(repo / "spark_jobs" / "build_catalogue.py"), "--build-id", "submitted"],
        cwd=repo, env=env, capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "gold.songs\t4 rows" in done.stdout
    assert {r["build_id"] for r in _read(gold.SONGS)} == {"submitted"}
