"""Build reuse trusts no record blindly: deleted tables and rejected versions are built again."""

from __future__ import annotations

import shutil

import pyarrow as pa
import pytest

from quality.checks import QualityGateFailed, gate
from schemas import gold
from spark_jobs.build_catalogue import build
from tests.integration.bronze_rows import two_runs, write_run
from warehouse import builds, delta

pytestmark = pytest.mark.slow


def test_a_deleted_and_rewritten_table_is_not_reused(home, spark):
    two_runs()
    first = build("20261115T000000Z", spark=spark)
    shutil.rmtree(gold.SONGS.path)  # a user moved the gold tables aside
    write_run("r3", [], [])
    again = build("20261122T000000Z", spark=spark)
    assert builds.of_run("20261122T000000Z")["gold.songs"]["built_by"] == "20261122T000000Z"
    assert again["gold.songs"] == 0 and first["gold.songs"] == 0  # a new table, numbered from 0
    assert delta.count_rows(gold.SONGS, again["gold.songs"]) == 4


def test_a_version_a_gate_rejected_is_not_reused(home, spark):
    two_runs()
    built = build("20261115T000000Z", spark=spark)
    songs = delta.read(gold.SONGS, version=built["gold.songs"])
    # Someone rewrote gold.songs with a duplicate under the build's name; the gate rejects it.
    built["gold.songs"] = delta.overwrite(gold.SONGS, pa.concat_tables([songs, songs.slice(0, 1)]))
    fingerprint = builds.of_run("20261115T000000Z")["gold.songs"]["inputs_fingerprint"]
    builds.record("20261115T000000Z", built, "20261115T000000Z", fingerprint)
    with pytest.raises(QualityGateFailed):
        gate("20261115T000000Z", built)
    write_run("r3", [], [])
    again = build("20261122T000000Z", spark=spark)
    assert builds.of_run("20261122T000000Z")["gold.songs"]["built_by"] == "20261122T000000Z"
    assert again["gold.songs"] > built["gold.songs"]
    assert all(r.passed for r in gate("20261122T000000Z", again))
