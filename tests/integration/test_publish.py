"""Write → audit → publish on pinned versions, with real Spark, Delta tables and DuckDB files."""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone

import pyarrow as pa
import pytest

from core import settings
from core.errors import ScenetuneError
from quality.checks import QualityGateFailed, gate
from schemas import bronze, gold, silver
from spark_jobs.build_catalogue import build
from tests.integration.bronze_rows import playlist, song, two_runs, write_run
from warehouse import audits, builds, delta
from warehouse.publish import PUBLISHED, bronze_published, publish
from warehouse.query import run_sql

pytestmark = pytest.mark.slow


def record_crawl_run(run: str) -> dict[str, int]:
    """A bronze.crawl_runs row for ``run`` (the published crawl books); returns its version."""
    filler = {"string": run, "int64": 0, "float64": 0.0, "bool": False,
              "timestamp": datetime(2026, 11, 1, tzinfo=timezone.utc)}
    row = {c.name: filler.get(c.type) for c in bronze.CRAWL_RUNS.columns}
    row["run_key"] = run
    data = pa.Table.from_pylist([row], schema=bronze.CRAWL_RUNS.arrow_schema())
    return {bronze.CRAWL_RUNS.qualified_name: delta.replace_partition(bronze.CRAWL_RUNS, data, {"run_key": run})}


def judge_covers(run_key: str, versions: dict[str, int]) -> dict[str, int]:
    """silver.cover_quality as clean_covers records it, for the built playlists (no cover: unreadable)."""
    playlists = delta.read(silver.PLAYLISTS, version=versions["silver.playlists"], columns=("plm_seq", "crawl_run_key"))
    rows = [{**{c.name: None for c in silver.COVER_QUALITY.columns}, **p, "cover_status": "missing",
             "verdict": "unreadable", "reason": "no cover", "tag_flags": [], "rules_version": "test", "run_key": run_key}
            for p in playlists.to_pylist()]
    version = delta.overwrite(silver.COVER_QUALITY, pa.Table.from_pylist(rows, schema=silver.COVER_QUALITY.arrow_schema()))
    builds.record(run_key, {silver.COVER_QUALITY.qualified_name: version}, run_key, "test")
    return {silver.COVER_QUALITY.qualified_name: version}


def build_all(run_key: str, spark) -> dict[str, int]:
    versions = {**build(run_key, spark=spark), **bronze_published(record_crawl_run(run_key))}
    return {**versions, **judge_covers(run_key, versions)}


def build_and_gate(run_key: str, spark) -> dict[str, int]:
    versions = build_all(run_key, spark)
    gate(run_key, versions)
    return versions


def warehouse_digest() -> str:
    return hashlib.sha256(settings.load().duckdb_path.read_bytes()).hexdigest()


def test_gate_then_publish_then_query(home, spark):
    two_runs()
    versions = build_and_gate("20261108T000000Z", spark)
    published = publish("20261108T000000Z", versions)
    assert published.path == settings.load().duckdb_path
    assert published.rows["songs"] == 4
    assert not list(published.path.parent.glob(".*.tmp*"))  # the temp file was swapped in

    result = run_sql("SELECT artist, title, playlist_count FROM songs ORDER BY playlist_count DESC, song_key LIMIT 1")
    assert result.columns == ["artist", "title", "playlist_count"]
    assert result.rows[0][2] == 2
    lineage = run_sql("SELECT run_key, source, delta_version FROM catalogue_build ORDER BY source").rows
    assert {r[0] for r in lineage} == {"20261108T000000Z"}
    assert {(r[1], r[2]) for r in lineage} == set(published.versions.items())
    assert {r[0] for r in run_sql("SHOW TABLES").rows} == set(PUBLISHED) - {"import_runs"} | {
        "catalogue_build", "catalogue_versions", "sentence_vectors", "songs_by_tag", "playlist_cards", "live_version",
        "nearest_sentences", "nearest_songs", "songs_by_tag_genre"}
    assert run_sql("SELECT version, status FROM live_version").rows == [(published.catalogue_version, "published")]
    vectors = run_sql("SELECT count(embedding), typeof(any_value(embedding)) FROM songs").rows
    assert vectors == [(4, "FLOAT[384]")]

    # Publishing the same run again gives the same contents.
    before = run_sql("SELECT * FROM songs ORDER BY song_key").rows
    publish("20261108T000000Z", versions)
    assert run_sql("SELECT * FROM songs ORDER BY song_key").rows == before


def test_a_rejected_build_is_never_published_and_the_next_good_one_is(home, spark, monkeypatch):
    # Tiny runs: the fixed refresh has half the rows of the first, which the row-count bound would refuse.
    monkeypatch.setenv("SCENETUNE_QUALITY_MAX_ROW_DROP", "1")
    two_runs()
    good = "20261108T000000Z"
    publish(good, build_and_gate(good, spark))
    live = warehouse_digest()

    # Genie changed its markup: the next crawl re-reads both playlists but finds no song rows.
    t3 = datetime(2026, 11, 15, tzinfo=timezone.utc)
    write_run("r3", [playlist("r3", 1, "비 오는 날", ["비오는날"], t3), playlist("r3", 2, "드라이브", ["드라이브"], t3)], [])
    rejected = "20261115T000000Z"
    rejected_versions = build_all(rejected, spark)
    with pytest.raises(QualityGateFailed, match="no songs"):
        gate(rejected, rejected_versions)
    assert audits.of_run(rejected)["gold.songs"]["passed"] is False
    with pytest.raises(audits.NotAudited, match="gold.songs .* failed its audit"):
        publish(rejected, rejected_versions)
    # Nor can the rejected versions ride on an earlier run's passed audit.
    with pytest.raises(audits.NotAudited, match="was not audited"):
        publish(good, rejected_versions)
    assert warehouse_digest() == live
    assert run_sql("SELECT DISTINCT run_key FROM catalogue_build").rows == [(good,)]

    # The site is fixed; the next refresh publishes its own audited versions.
    t4 = datetime(2026, 11, 22, tzinfo=timezone.utc)
    write_run("r4", [playlist("r4", 1, "비 오는 날", ["비오는날"], t4)],
              [song("r4", 1, 1, "IU", "밤편지", "100"), song("r4", 1, 2, "Gummy", "기억해줘요 내 모든 날과 그때를", "300")])
    fixed = "20261122T000000Z"
    fixed_versions = build_and_gate(fixed, spark)
    publish(fixed, fixed_versions)
    lineage = dict(run_sql("SELECT source, delta_version FROM catalogue_build").rows)
    assert lineage == fixed_versions
    assert lineage["gold.songs"] != rejected_versions["gold.songs"]
    assert run_sql("SELECT count(*) FROM songs").rows == [(delta.count_rows(gold.SONGS, fixed_versions["gold.songs"]),)]


def test_publish_removes_what_a_crashed_publish_left(home, spark):
    two_runs()
    versions = build_and_gate("20261108T000000Z", spark)
    final = settings.load().duckdb_path
    final.parent.mkdir(parents=True, exist_ok=True)
    leftovers = [final.with_name(f".{final.name}.4242-1.tmp"), final.with_name(f".{final.name}.4242-1.tmp.wal")]
    for path in leftovers:
        path.write_bytes(b"half a database")
    publish("20261108T000000Z", versions)
    assert not any(path.exists() for path in leftovers)


def test_gate_rejects_a_build_whose_key_is_not_unique(home, spark):
    two_runs()
    versions = build("20261108T000000Z", spark=spark)
    songs = delta.read(gold.SONGS, version=versions["gold.songs"])
    versions["gold.songs"] = delta.overwrite(gold.SONGS, pa.concat_tables([songs, songs.slice(0, 1)]))
    with pytest.raises(QualityGateFailed, match=r"gold.songs v\d+: key \(song_key\) not unique"):
        gate("20261108T000000Z", versions)


def test_sql_errors_are_one_line(home):
    with pytest.raises(ScenetuneError, match="no published warehouse"):
        run_sql("select 1")
