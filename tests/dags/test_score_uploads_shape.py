"""score_uploads: submit → score → publish, nightly or after a catalogue publish, params for a manual run."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def dag():
    from airflow.dag_processing.dagbag import DagBag

    from tests.dags.test_dag_integrity import DAGS_FOLDER

    bag = DagBag(dag_folder=str(DAGS_FOLDER / "score_uploads.py"))
    assert bag.import_errors == {}
    return bag.dags["score_uploads"]


def test_score_uploads_submits_scores_and_publishes_in_order(dag):
    assert set(dag.task_ids) == {"submit", "score", "publish", "record_run"}
    assert dag.get_task("record_run").is_teardown
    assert {"submit", "score", "publish"} <= dag.get_task("record_run").upstream_task_ids
    assert "submit" in dag.get_task("score").upstream_task_ids
    assert "score" in dag.get_task("publish").upstream_task_ids
    assert {a.name for a in dag.get_task("publish").outlets} == {"scoring_results"}


def test_score_uploads_runs_nightly_and_after_each_catalogue_publish(dag):
    from airflow.sdk import AssetOrTimeSchedule

    assert isinstance(dag.timetable, AssetOrTimeSchedule) or type(dag.timetable).__name__ == "AssetOrTimeSchedule"
    assert "catalogue_duckdb" in repr(dag.timetable.asset_condition)
    assert dag.params["path"] is None and dag.params["genres"] == []
