"""The cover-cleaning Spark job on a real crawl of the tiny demo site: verdicts, cache, idempotency, spark-submit.

One crawl (Scrapy subprocess, the demo site's default faults) feeds every test; the job runs on
the session's real Spark, Tesseract and Delta tables, and is checked against the site's ground truth.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from core import settings
from core.runs import RunPartition
from crawlers.run import crawl
from demo_site.faults import FaultPlan
from demo_site.server import DemoSite
from schemas import silver
from spark_jobs.clean_covers import clean_covers, recorded_verdicts
from spark_jobs.covers import evaluate
from spark_jobs.covers.rules import from_settings
from warehouse import builds, delta

pytestmark = pytest.mark.timeout(600)

FIRST, SECOND, THIRD = "20261122T000000Z", "20261123T000000Z", "20261124T000000Z"
TABLE = silver.COVER_QUALITY


@pytest.fixture(scope="module")
def crawled(tmp_path_factory):
    """SCENETUNE_HOME with one crawl of the tiny demo site, and its ground truth."""
    home = tmp_path_factory.mktemp("covers_home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SCENETUNE_HOME", str(home))
        with DemoSite(seed=7, scale="tiny", faults=FaultPlan.default(7)) as site:
            crawled = crawl(RunPartition.parse(FIRST), site.base_url)
            truth = site.catalogue.ground_truth(FaultPlan.default(7))
    return home, crawled.bronze_versions, truth


@pytest.fixture(scope="module")
def cleaned_once(crawled, spark):
    """The crawl's covers cleaned once, for every test (each test's own runs come after it)."""
    home, versions, truth = crawled
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SCENETUNE_HOME", str(home))
        committed = clean_covers(FIRST, versions, spark=spark, force=True)
    return home, versions, truth, committed


@pytest.fixture
def cleaned(cleaned_once, monkeypatch):
    monkeypatch.setenv("SCENETUNE_HOME", str(cleaned_once[0]))
    return cleaned_once


def rows(version=None) -> list[dict]:
    return sorted(delta.read(TABLE, version=version).to_pylist(), key=lambda r: r["plm_seq"])


def test_every_playlist_gets_a_verdict_that_matches_the_ground_truth(cleaned):
    home, _versions, truth, committed = cleaned
    assert list(committed) == ["silver.cover_quality"]
    got = rows(committed["silver.cover_quality"])
    crawled_ids = {r["plm_seq"] for r in delta.read(TABLE).to_pylist()}
    assert len(got) == len(crawled_ids) > 40
    assert {r["verdict"] for r in got} <= {"keep", "crop", "drop", "unreadable"} and all(r["reason"] for r in got)
    assert {r["run_key"] for r in got} == {FIRST} and {r["rules_version"] for r in got} == {from_settings().version}
    result = evaluate.evaluate(got, truth)
    assert result.macro_f1 >= 0.9, result.table()
    kinds = {k.kind: k for k in result.per_kind}
    for kind in ("template_1", "template_2", "template_3"):
        assert kinds[kind].support and kinds[kind].recall == 1.0, result.table()
    assert result.crop_iou_min > 0.95
    for r in got:  # training images exist, content-addressed under SCENETUNE_HOME
        if r["verdict"] in ("keep", "crop"):
            assert (home / r["cleaned_path"]).is_file() and r["cleaned_path"].startswith("cleaned/covers/")
        if r["verdict"] == "crop":
            assert r["cover_kind"].startswith("template_") and r["crop_right"] > r["crop_left"]
        if r["cover_status"] != "ok":
            assert r["verdict"] == "unreadable" and r["cover_status"] in r["reason"]


def test_a_refresh_analyses_only_covers_it_has_not_seen(cleaned, spark):
    _home, versions, _truth, _committed = cleaned
    committed = clean_covers(SECOND, versions, spark=spark, force=True)
    got = rows(committed["silver.cover_quality"])
    analysed = [r for r in got if r["cover_sha1"] and r["image_kind"]]
    assert analysed and {r["analysed_by"] for r in analysed} == {FIRST}  # nothing analysed again
    assert {r["run_key"] for r in got} == {SECOND}
    # no new bronze files, same code: a third run reuses the second's version without Spark
    reused = clean_covers(THIRD, versions)
    assert reused == committed
    assert builds.of_run(THIRD)["silver.cover_quality"]["built_by"] == SECOND


def test_re_running_a_run_gives_the_same_table(cleaned, spark):
    first = rows(cleaned[3]["silver.cover_quality"])
    again = clean_covers(FIRST, cleaned[1], spark=spark, force=True)
    assert rows(again["silver.cover_quality"]) == first


def test_a_changed_threshold_analyses_every_cover_once_more(cleaned, spark, monkeypatch):
    monkeypatch.setenv("SCENETUNE_COVER_OCR_MIN_CONFIDENCE", "61")
    committed = clean_covers(SECOND, cleaned[1], spark=spark)
    got = rows(committed["silver.cover_quality"])
    analysed = [r for r in got if r["cover_sha1"] and r["image_kind"]]
    assert {r["analysed_by"] for r in analysed} == {SECOND}
    assert {r["rules_version"] for r in got} == {from_settings().version}


def test_the_verdicts_a_run_recorded_are_scored_as_they_are_until_the_rules_change(cleaned, monkeypatch):
    # What `scenetune evaluate covers` scores: the run's own verdicts, no Spark job, while today's rules made them.
    recorded = builds.of_run(FIRST)["silver.cover_quality"]["delta_version"]  # the fixture's or a re-run's
    assert recorded_verdicts(FIRST) == recorded and {r["run_key"] for r in rows(recorded)} == {FIRST}
    assert recorded_verdicts("20261101T000000Z") is None  # a run that cleaned nothing
    monkeypatch.setenv("SCENETUNE_COVER_OCR_MIN_CONFIDENCE", "61")
    assert recorded_verdicts(FIRST) is None  # made with other rules: clean again


def test_the_job_runs_with_spark_submit(cleaned):
    home = cleaned[0]
    repo = Path(__file__).resolve().parents[2]
    env = {**os.environ, "SCENETUNE_HOME": str(home), "PYSPARK_PYTHON": sys.executable,
           "PYSPARK_DRIVER_PYTHON": sys.executable, "SPARK_LOCAL_IP": "127.0.0.1"}
    done = subprocess.run(
        [str(Path(sys.executable).parent / "spark-submit"), "--master", "local[1]",
         str(repo / "spark_jobs" / "clean_covers.py"), "--run-key", "20261125T000000Z", "--force"],
        cwd=repo, env=env, capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    committed = json.loads(next(line for line in done.stdout.splitlines() if line.startswith("{")))
    assert {r["run_key"] for r in delta.read(TABLE, version=committed["silver.cover_quality"]).to_pylist()} == {
        "20261125T000000Z"}
    assert settings.load().home == home


def test_a_malformed_run_key_fails_before_spark_starts():
    from core.errors import ScenetuneError

    with pytest.raises(ScenetuneError, match="YYYYMMDDTHHMMSSZ"):
        clean_covers("latest")
