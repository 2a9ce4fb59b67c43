"""Gate and publish on real Delta tables and a real DuckDB file; query it as a user would."""

from __future__ import annotations

import pyarrow as pa
import pytest

from quality.checks import QualityGateFailed, gate
from schemas import gold
from scenetune import settings
from scenetune.errors import ScenetuneError
from spark_jobs.build_catalogue import build
from tests.integration.bronze_rows import two_runs
from warehouse import delta
from warehouse.publish import PUBLISHED, publish
from warehouse.query import run_sql

pytestmark = pytest.mark.slow


def test_gate_then_publish_then_query(home, spark):
    two_runs()
    build("b1", spark)
    reports = gate("b1")
    assert {r.table for r in reports} >= {"gold.songs", "silver.playlists"}

    published = publish("b1")
    assert published.path == settings.load().duckdb_path
    assert published.rows["songs"] == 4
    assert not list(published.path.parent.glob(".*.tmp"))  # the temp file was swapped in

    result = run_sql("SELECT artist, title, playlist_count FROM songs ORDER BY playlist_count DESC, song_key LIMIT 1")
    assert result.columns == ["artist", "title", "playlist_count"]
    assert result.rows[0][2] == 2
    builds = run_sql("SELECT DISTINCT build_id FROM catalogue_build").rows
    assert builds == [("b1",)]
    assert {r[0] for r in run_sql("SHOW TABLES").rows} == set(PUBLISHED) | {"catalogue_build"}

    # Publishing the same build again gives the same contents.
    before = run_sql("SELECT * FROM songs ORDER BY song_key").rows
    publish("b1")
    assert run_sql("SELECT * FROM songs ORDER BY song_key").rows == before


def test_gate_rejects_a_build_whose_key_is_not_unique(home, spark):
    two_runs()
    build("b1", spark)
    path = settings.load().delta_path("gold", "songs")
    songs = delta.read(path)
    delta.overwrite(gold.SONGS, pa.concat_tables([songs, songs.slice(0, 1)]), path)
    with pytest.raises(QualityGateFailed, match=r"gold.songs: key \(song_key\) not unique"):
        gate("b1")


def test_sql_errors_are_one_line(home):
    with pytest.raises(ScenetuneError, match="no published warehouse"):
        run_sql("select 1")
