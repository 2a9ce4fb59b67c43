"""The Spark catalogue build on real Delta tables: latest state, dedup, tags, pinned inputs, idempotency."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from core import settings
from quality.checks import gate
from schemas import bronze, gold, silver
from spark_jobs.build_catalogue import build
from tests.integration.bronze_rows import playlist, two_runs, write_run
from warehouse import builds, delta

pytestmark = pytest.mark.slow

RUN_KEY = "20261115T000000Z"


def _read(table, version=None):
    return delta.read(table, version=version).to_pylist()


def test_build_keeps_latest_playlist_state_and_merges_song_spellings(home, spark):
    two_runs()
    result = build(RUN_KEY, spark=spark)

    playlists = {r["plm_seq"]: r for r in _read(silver.PLAYLISTS)}
    assert playlists[2]["crawl_run_key"] == "r2"  # the newer crawl wins
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
    assert delta.count_rows(gold.SONGS, result["gold.songs"]) == 4

    tags = {r["tag"]: r for r in _read(gold.TAGS)}
    assert tags["드라이브"]["playlist_count"] == 1
    assert tags["드라이브"]["song_count"] == 3


def test_build_returns_the_versions_it_committed_and_removes_its_staging(home, spark):
    two_runs()
    result = build(RUN_KEY, spark=spark)
    assert result == {t.qualified_name: delta.version(t) for t in (*silver.TABLES, *gold.TABLES)}
    assert {r["run_key"] for r in _read(gold.SONGS, result["gold.songs"])} == {RUN_KEY}
    assert not (settings.load().staging_dir / RUN_KEY).exists()


def test_build_reads_exactly_the_bronze_versions_it_is_given(home, spark):
    two_runs()  # bronze version 0 holds run r1, version 1 adds r2
    pinned = {bronze.PLAYLISTS.qualified_name: 0, bronze.PLAYLIST_SONGS.qualified_name: 0}
    result = build(RUN_KEY, pinned, spark=spark)
    playlists = {r["plm_seq"]: r for r in _read(silver.PLAYLISTS, result["silver.playlists"])}
    assert playlists[2]["crawl_run_key"] == "r1"  # r2 came after the pinned version
    assert playlists[2]["song_count"] == 2
    assert "jasonmraz|i'myours" not in {r["song_key"] for r in _read(gold.SONGS, result["gold.songs"])}


def test_rebuilding_the_same_run_gives_the_same_tables(home, spark):
    two_runs()
    build(RUN_KEY, spark=spark)
    first = sorted(_read(gold.SONGS), key=lambda r: r["song_key"])
    build(RUN_KEY, spark=spark)
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
        [str(spark_submit), "--master", "local[1]", str(repo / "spark_jobs" / "build_catalogue.py"),
         "--run-key", "20261116T000000Z"],
        cwd=repo, env=env, capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    committed = json.loads(next(line for line in done.stdout.splitlines() if line.startswith("{")))
    assert delta.count_rows(gold.SONGS, committed["gold.songs"]) == 4
    assert {r["run_key"] for r in _read(gold.SONGS)} == {"20261116T000000Z"}


def test_a_malformed_run_key_fails_before_spark_starts(home):
    from core.errors import ScenetuneError

    with pytest.raises(ScenetuneError, match="YYYYMMDDTHHMMSSZ"):
        build("b1")


def test_a_build_with_nothing_new_reuses_the_earlier_versions_and_the_gate_accepts_them(home, spark):
    two_runs()
    first = build(RUN_KEY, spark=spark)
    # A later refresh whose crawl parsed nothing new: an empty bronze partition adds no file.
    write_run("r3", [], [])
    later = "20261122T000000Z"
    again = build(later, spark=spark)
    assert again == first
    assert delta.version(gold.SONGS) == first["gold.songs"]  # no new commit: no Spark job ran
    recorded = builds.of_run(later)
    assert {r["built_by"] for r in recorded.values()} == {RUN_KEY}
    assert {r["delta_version"] for r in recorded.values()} == set(first.values())
    assert all(r.passed for r in gate(later, again))  # rows carry the key of the run that wrote them

    # Forced, or with new bronze files, the build runs again.
    forced = build(later, spark=spark, force=True)
    assert forced["gold.songs"] == first["gold.songs"] + 1
    assert builds.of_run(later)["gold.songs"]["built_by"] == later
    write_run("r4", [playlist("r4", 9, "새벽", ["새벽"], datetime(2026, 11, 20, tzinfo=timezone.utc))], [])
    rebuilt = build("20261123T000000Z", spark=spark)
    assert rebuilt["silver.playlists"] > forced["silver.playlists"]
    assert 9 in {r["plm_seq"] for r in _read(silver.PLAYLISTS, rebuilt["silver.playlists"])}


def test_the_fingerprint_follows_code_and_input_files(home):
    two_runs()
    inputs = {bronze.PLAYLISTS: 1, bronze.PLAYLIST_SONGS: 1}
    base = builds.fingerprint(["code"], inputs)
    assert builds.fingerprint(["code"], inputs) == base
    assert builds.fingerprint(["other code"], inputs) != base
    assert builds.fingerprint(["code"], {bronze.PLAYLISTS: 0, bronze.PLAYLIST_SONGS: 1}) != base
