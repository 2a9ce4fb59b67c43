"""Submit → queue → Spark scoring → results, with real photos, real Delta tables and a real Spark job.

The queue's promises: every queued image ends scored or failed with a reason; a crashed run's rows
are claimed again; a rerun never scores twice; the same photo submitted again shares its result
unless the model changed.
"""

from __future__ import annotations

import io
import json

import pyarrow.compute as pc
import pytest

from core.runs import RunPartition
from schemas.scoring import IMAGE_EMBEDDINGS, IMAGE_TAGS, RECOMMENDATIONS, SCORING_RUNS
from scoring import results, upload_queue
from scoring.models import current_spec
from scoring.score_uploads import image_tag_rows, run_spark, score, store_tags
from scoring.uploads import submit
from tests.integration.scoring_helpers import (
    CATALOGUE_RUN,
    EXPECTED_SUBMIT,
    LABELS,
    SONGS,
    photo_folder,
    register_head,
    write_catalogue,
)
from warehouse import delta

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

SUBMITTED = RunPartition.parse("20261122T010000Z")
RUN_1, RUN_2, RUN_3, RUN_4 = (RunPartition.parse(f"20261122T0{h}0000Z").run_key for h in (2, 3, 4, 5))


def statuses(submission_id: str) -> dict[str, dict]:
    return {r["file_name"]: r for r in results.uploads(submission_id)}


def test_submit_score_recommend_rerun_resubmit(home, spark, tmp_path):
    register_head("20261121T000000Z")
    write_catalogue()
    made = submit(photo_folder(tmp_path / "photos"), moment=SUBMITTED, genres=["발라드"], submitter="test")
    rows = statuses(made.submission_id)
    assert set(rows) == set(EXPECTED_SUBMIT)
    for name, expected in EXPECTED_SUBMIT.items():
        row = rows[name]
        assert row["status"] == expected if expected in ("queued", "duplicate") else expected in row["reason"], row
    assert made.counts == {"queued": 5, "duplicate": 1, "rejected": 5}
    assert rows["여행 Trip/rocket.webp"]["duplicate_of"] == f"{made.submission_id}/여행 Trip/rocket copy.webp"
    assert rows["astronaut.jpg"]["caption"] == "a rainy night drive through the city"
    assert rows["astronaut.jpg"]["caption_source"] == "sidecar"
    assert rows["coffee.JPG"]["stored_path"].startswith("uploads/") and rows["coffee.JPG"]["genres"] == ["발라드"]
    assert (home / rows["coffee.JPG"]["stored_path"]).is_file()

    # Submitting the same folder at the same moment is the same submission: nothing new is written.
    again = submit(tmp_path / "photos", moment=SUBMITTED, genres=["발라드"], submitter="test")
    assert again.submission_id == made.submission_id and again.inserted == 0

    progress: list[tuple[int, int]] = []
    books = score(RUN_1, spark=spark, progress=lambda done, total: progress.append((done, total)))
    assert books["claimed"] == 5 and books["scored"] == 4 and books["failed"] == 1
    assert books["images_encoded"] == 5 and books["duplicates_resolved"] == 1
    assert progress[-1] == (5, 5)
    rows = statuses(made.submission_id)
    assert rows["truncated.jpg"]["status"] == "failed" and "truncated" in rows["truncated.jpg"]["reason"]
    assert rows["여행 Trip/rocket.webp"]["status"] == "duplicate"
    assert rows["여행 Trip/rocket.webp"]["model_version"] == rows["여행 Trip/rocket copy.webp"]["model_version"]
    assert not [r for r in rows.values() if r["status"] in ("queued", "running")]
    tags = delta.read(IMAGE_TAGS)
    assert tags.num_rows == 4 * len(LABELS)
    assert pc.min(tags.column("score")).as_py() >= 0 and pc.max(tags.column("score")).as_py() <= 1
    assert delta.read(SCORING_RUNS).to_pylist()[0]["scored"] == 4
    assert delta.read(IMAGE_EMBEDDINGS).num_rows == 4

    # Text intent: the caption of astronaut.jpg ("a rainy night drive ...") lifted rain, night and drive, within ±0.4.
    astronaut = {t["label"]: t for t in tags.to_pylist() if t["input_key"] == rows["astronaut.jpg"]["input_key"]}
    assert max(astronaut, key=lambda label: astronaut[label]["text_shift"]) in ("비오는날", "밤", "드라이브")
    assert astronaut["비오는날"]["text_shift"] > 0.05 and astronaut["카페"]["text_shift"] < 0
    assert all(abs(t["text_shift"]) <= 0.4 + 1e-6 for t in tags.to_pylist())
    assert all(t["text_shift"] == 0 for t in tags.to_pylist() if t["input_key"] == rows["coffee.JPG"]["input_key"])
    assert all(abs(t["score"] - min(1, max(0, t["image_score"] + t["text_shift"]))) < 1e-5 for t in tags.to_pylist())

    # Both recommenders, for every scored photo, with the chosen genre first and the why.
    recs = delta.read(RECOMMENDATIONS).to_pylist()
    assert books["recommendations"] == len(recs) and books["catalogue_version"] == CATALOGUE_RUN
    genre_of = {title: genres for title, _, _, genres, _, _ in SONGS}
    for name in ("astronaut.jpg", "coffee.JPG", "여행 Trip/고양이 chelsea.png", "여행 Trip/rocket copy.webp"):
        mine = [r for r in recs if r["input_key"] == rows[name]["input_key"]]
        mpic = sorted((r for r in mine if r["recommender"] == "mpic_embedding"), key=lambda r: r["rank"])
        imgenie = sorted((r for r in mine if r["recommender"] == "imgenie_covers"), key=lambda r: r["rank"])
        assert len(mpic) == 5 and 1 <= len(imgenie) <= 6, name
        assert "발라드" in genre_of[mpic[0]["title"]] and all(r["genre_choice"] == "발라드" for r in mine)
        assert len({r["song_key"] for r in imgenie}) == len(imgenie)  # deduplicated
        assert all(r["catalogue_version"] == CATALOGUE_RUN for r in mine)
        # The why names confident labels only; a photo of no confident group still gets songs, from its whole score vector.
        mine_tags = [t for t in tags.to_pylist() if t["input_key"] == rows[name]["input_key"]]
        confident = {t["label"] for t in mine_tags if t["group_verdict"] == "confident"}
        assert set().union(*(r["matched_tags"] for r in mpic)) <= confident
        assert any(r["matched_tags"] for r in mpic) == bool(confident), name
    # This head is random weights unlike any photo (weight 0): the zero-shot part says the coffee cup is a cafe.
    coffee = {t["label"]: t for t in tags.to_pylist() if t["input_key"] == rows["coffee.JPG"]["input_key"]}
    assert all(t["head_weight"] == 0 and t["head_score"] is not None for t in coffee.values())
    assert coffee["카페"]["rank_in_group"] == 1 and coffee["카페"]["group_verdict"] == "confident"
    assert abs(coffee["카페"]["image_score"] - coffee["카페"]["zero_shot_score"]) < 1e-6
    assert statuses(made.submission_id)["coffee.JPG"]["catalogue_version"] == CATALOGUE_RUN

    # A rerun finds nothing to do; the tags stay as they were.
    assert score(RUN_2, spark=spark)["claimed"] == 0
    assert delta.read(IMAGE_TAGS).num_rows == 4 * len(LABELS)

    # The same photos again: each scored one shares the earlier result (same model); the one that failed is
    # queued again rather than sharing a failure.
    later = submit(tmp_path / "photos", moment=RunPartition.parse("20261122T060000Z"), genres=["발라드"])
    assert later.counts == {"queued": 1, "duplicate": 5, "rejected": 5}
    shared = statuses(later.submission_id)["coffee.JPG"]
    assert shared["duplicate_of"] == f"{made.submission_id}/coffee.JPG"
    assert shared["model_version"] == current_spec().model_version
    assert statuses(later.submission_id)["truncated.jpg"]["status"] == "queued"

    exported = results.results(later.submission_id)
    coffee = next(r for r in exported if r["file_name"] == "coffee.JPG")
    assert {g for g, items in coffee["tags"].items() if items} == {"weather", "mood", "situation"}
    assert set(coffee["recommendations"]) == {"mpic_embedding", "imgenie_covers"}
    out = io.StringIO()
    results.write_json(exported, out)
    assert json.loads(out.getvalue())[0]["file_name"] == "astronaut.jpg"

    # Other genres: the songs differ, so the photos are queued; their tags and features are reused, not encoded.
    pop = submit(tmp_path / "photos", moment=RunPartition.parse("20261122T070000Z"), genres=["POP"])
    assert pop.counts == {"queued": 5, "duplicate": 1, "rejected": 5}
    again = score(RUN_3, spark=spark)
    assert again["images_encoded"] == 1 and again["recovered"] == 4  # only truncated.jpg is tried again
    pop_coffee = next(r for r in results.results(pop.submission_id) if r["file_name"] == "coffee.JPG")
    assert "POP" in pop_coffee["recommendations"]["mpic_embedding"][0]["genres"]
    assert delta.read(IMAGE_TAGS).num_rows == 4 * len(LABELS)

    # A new head (the next catalogue refresh): the same photo is scored again, not shared.
    register_head("20261128T000000Z", seed=1)
    newer = submit(tmp_path / "photos", moment=RunPartition.parse("20261129T000000Z"))
    assert statuses(newer.submission_id)["coffee.JPG"]["status"] == "queued"


def test_a_crashed_run_is_claimed_again_and_what_it_stored_is_not_scored_twice(home, spark, tmp_path):
    register_head("20261121T000000Z")
    made = submit(photo_folder(tmp_path / "photos"), moment=SUBMITTED)
    # Run 1 claims, scores, stores its tags ... and dies before writing the verdicts.
    spec = current_spec()
    claim = upload_queue.claim(RUN_1, max_attempts=3)
    assert len(claim.rows) == 5 and claim.reclaimed == 0
    first_two = sorted({r["input_key"]: r["stored_path"] for r in claim.rows}.items())[:2]
    scored = run_spark(spark, first_two, spec, RUN_1)
    sha_of = {r["input_key"]: r["sha256"] for r in claim.rows}
    store_tags(spec, RUN_1, image_tag_rows(spec, list(scored.values()), sha_of, RUN_1))
    assert {r["status"] for r in statuses(made.submission_id).values()} >= {"running"}

    books = score(RUN_2, spark=spark)
    # The two stored inputs are not tagged again; they are encoded once more only for the features the dead run
    # did not store (imgenie_covers needs them).
    assert books["reclaimed"] == 5 and books["recovered"] == 2 and books["images_encoded"] == 5
    assert books["recovered"] + books["scored"] + books["failed"] == books["claimed"]
    rows = statuses(made.submission_id)
    assert not [r for r in rows.values() if r["status"] in ("queued", "running")]
    tags = delta.read(IMAGE_TAGS)
    assert tags.num_rows == 4 * len(LABELS)  # each input once: key (input, model, label) unique
    assert tags.group_by(["input_key", "label"]).aggregate([([], "count_all")]).num_rows == tags.num_rows


def test_an_image_that_keeps_killing_runs_is_failed_not_claimed_forever(home, spark, tmp_path):
    register_head("20261121T000000Z")
    made = submit(photo_folder(tmp_path / "photos"), moment=SUBMITTED)
    for run in (RUN_1, RUN_2, RUN_3):  # three runs claim and die
        upload_queue.claim(run, max_attempts=3)
    books = score(RUN_4, spark=spark)
    assert books["poisoned"] == 5 and books["scored"] == 0 and books["images_encoded"] == 0
    poisoned = "claimed by 3 scoring runs that never finished it: the image may crash the scorer"
    rows = statuses(made.submission_id)
    assert {r["reason"] for r in rows.values() if r["status"] == "failed" and not r["duplicate_of"]} == {poisoned}
    copy = rows["여행 Trip/rocket.webp"]  # its duplicate shares the verdict
    assert copy["status"] == "failed" and copy["reason"].endswith(f"which failed: {poisoned}")


def test_scoring_without_a_model_says_what_to_do_and_claims_nothing(home, tmp_path):
    from scoring.models import NoTagModel

    made = submit(photo_folder(tmp_path / "photos"), moment=SUBMITTED)
    with pytest.raises(NoTagModel, match="no tag head trained yet"):
        score(RUN_1)
    assert {r["status"] for r in statuses(made.submission_id).values()} == {"queued", "duplicate", "rejected"}


def test_a_configured_clip_scores_the_queue_on_spark_without_any_head(home, spark, tmp_path, monkeypatch):
    from scoring.labels import current
    from tests.unit.test_scoring_clip import build_tiny_clip

    monkeypatch.setenv("SCENETUNE_CLIP_MODEL_DIR", str(build_tiny_clip(tmp_path / "tiny-clip")))
    made = submit(photo_folder(tmp_path / "photos"), moment=SUBMITTED)
    books = score(RUN_1, spark=spark)
    assert books["model_version"].startswith("clip:tiny-clip:") and books["scored"] == 4
    tags = delta.read(IMAGE_TAGS)
    assert tags.num_rows == 4 * len(current().labels)
    coffee = statuses(made.submission_id)["coffee.JPG"]
    assert coffee["model_version"] == books["model_version"] and coffee["catalogue_version"] is None
    best = [t for t in tags.to_pylist() if t["input_key"] == coffee["input_key"] and t["rank_in_group"] == 1]
    assert sorted(t["label_group"] for t in best) == ["mood", "situation", "weather"]
