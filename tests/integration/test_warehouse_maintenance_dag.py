"""The warehouse_maintenance DAG through a real Airflow (`dags test`): retention keeps the newest
catalogue version readable and vacuums what only the older one read."""

from __future__ import annotations

import pytest

from quality.checks import gate
from scenetune import airflow_env, run_summary
from schemas import TABLES
from tests.integration import catalogue_rows
from warehouse import delta, versions
from warehouse.publish import publish

pytestmark = pytest.mark.slow


def test_maintenance_dag_vacuums_what_no_kept_version_reads(home):
    for run_key, songs in (("20261101T000000Z", 4), ("20261108T000000Z", 5)):
        pinned = catalogue_rows.write(run_key, catalogue_rows.catalogue(run_key, songs=songs))
        gate(run_key, pinned)
        publish(run_key, pinned)
    first, second = (r["table_versions"] for r in versions.all_versions())
    result = airflow_env.dags_test("warehouse_maintenance", "2026-11-09T00:00:00+00:00", extra_env={
        "SCENETUNE_HOME": str(home), "SCENETUNE_KEEP_VERSIONS": "1", "SCENETUNE_VACUUM_MIN_AGE_HOURS": "0"})
    assert result.succeeded and [t.task_id for t in result.tasks] == ["retention", "record_run"]
    assert not delta.readable(TABLES["gold.songs"], first["gold.songs"])
    assert all(delta.readable(TABLES[name], v) for name, v in second.items())
    assert delta.read(TABLES["gold.songs"], version=second["gold.songs"]).num_rows == 5
    recorded = run_summary.last("warehouse_maintenance")
    assert (recorded["run_key"], recorded["state"]) == ("20261109T000000Z", "success")
    assert (recorded["details"]["kept_versions"], recorded["details"]["dropped_versions"]) == ([2], [1])
    assert recorded["details"]["deleted_files"]["gold.songs"] >= 1
    assert "kept [2], dropped [1]" in run_summary.outcome(recorded)
