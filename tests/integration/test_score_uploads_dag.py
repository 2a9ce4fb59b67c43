"""score_uploads through a real Airflow (`dags test`): submit a folder from the DAG's params, score, publish;
a request for an unknown genre fails at once, in one line, without retries."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from core.errors import ScenetuneError
from scenetune import run_summary
from scenetune.cli import cli
from schemas.scoring import IMAGE_UPLOADS, RECOMMENDATIONS
from tests.integration.scoring_helpers import register_head, write_catalogue
from tests.unit.scoring_files import encode, photo
from warehouse import delta

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


def test_the_dag_submits_scores_and_publishes_and_refuses_bad_requests_at_once(home, tmp_path, monkeypatch):
    from scenetune import airflow_env

    inbox = tmp_path / "inbox"
    monkeypatch.setenv("SCENETUNE_UPLOAD_ROOTS", str(inbox))
    monkeypatch.setenv("SPARK_MASTER", "local[2]")
    monkeypatch.setenv("SCENETUNE_SPARK_SHUFFLE_PARTITIONS", "1")
    head = register_head("20261121T000000Z")
    write_catalogue()
    folder = inbox / "민지 photos"
    folder.mkdir(parents=True)
    (folder / "coffee.jpg").write_bytes(encode(photo("coffee"), "JPEG"))
    (folder / "chelsea.png").write_bytes(encode(photo("chelsea"), "PNG"))

    done = airflow_env.dags_test("score_uploads", "2026-11-22T02:00:00+00:00",
                                 conf={"path": str(folder), "genres": ["발라드"]})
    assert [t.task_id for t in done.tasks] == ["submit", "score", "publish", "record_run"]
    assert all(t.state == "success" and t.tries == 1 for t in done.tasks)
    uploads = delta.read(IMAGE_UPLOADS).to_pylist()
    assert sorted((u["file_name"], u["status"]) for u in uploads) == [("chelsea.png", "scored"), ("coffee.jpg", "scored")]
    assert uploads[0]["submission_id"].startswith("20261122T020000Z-") and uploads[0]["genres"] == ["발라드"]
    recs = delta.read(RECOMMENDATIONS).to_pylist()
    assert {r["recommender"] for r in recs} == {"mpic_embedding", "imgenie_covers"}

    bad = {"path": str(folder), "genres": ["디스코"]}
    with pytest.raises(ScenetuneError, match="failed at submit") as failed:
        airflow_env.dags_test("score_uploads", "2026-11-23T02:00:00+00:00", conf=bad)
    assert "unknown genre '디스코'" in str(failed.value)
    runs = Path(airflow_env.environ()["AIRFLOW_HOME"]) / "runs"
    summary = json.loads((runs / "score_uploads__2026-11-23T020000+0000.json").read_text())
    tasks = {t["task_id"]: t for t in summary["tasks"]}
    assert tasks["submit"]["state"] == "failed" and tasks["submit"]["tries"] == 1  # no retry of a bad request
    assert tasks["score"]["state"] == "upstream_failed"

    # Both runs left their summary: what was claimed and scored, and the bad request's one paragraph.
    recorded = {r["run_key"]: r for r in run_summary.runs("score_uploads")}
    ok, refused = recorded["20261122T020000Z"], recorded["20261123T020000Z"]
    assert (ok["state"], ok["failed_stage"]) == ("success", None) and ok["model_version"].startswith(head + "+zs-")
    assert ok["details"]["submission_id"] == uploads[0]["submission_id"]
    assert (ok["details"]["claimed"], ok["details"]["scored"], ok["details"]["failed"]) == (2, 2, 0)
    assert set(ok["stage_durations"]) == {"submit", "score", "publish"}
    assert (refused["state"], refused["failed_stage"]) == ("failed", "submit")
    assert "unknown genre '디스코'" in refused["failure"] and "not retried" in refused["failure"]
    listed = CliRunner().invoke(cli, ["runs", "--dag", "score_uploads"])
    assert "2 scored, 0 failed of 2 images" in listed.output and "failed at submit" in listed.output, listed.output
