"""The real-photo measures on small literal cases with known answers (scoring.photo_eval)."""

from __future__ import annotations

import numpy as np
import pytest

from scoring import photo_eval
from scoring.models import ModelSpec

GROUPS = ("weather", "weather", "weather", "weather", "mood", "mood", "situation", "situation")
LABELS = ("맑은날", "비오는날", "겨울", "봄", "잔잔한", "밝은", "카페", "밤")


def spec(members=()) -> ModelSpec:
    return ModelSpec("head", "head-x+zs-y", "", "e", LABELS, GROUPS, None, members=members)


def test_chance_is_the_hit_rate_of_labels_drawn_at_random():
    assert photo_eval.chance(1, 4, 1) == pytest.approx(0.25)
    assert photo_eval.chance(1, 4, 3) == pytest.approx(0.75)
    assert photo_eval.chance(2, 4, 3) == pytest.approx(1.0)
    assert photo_eval.chance(0, 4, 1) == 0.0


def test_hit_rates_per_group_beside_chance_and_a_missing_label_ranks_last():
    truth = [{"weather": {0}, "mood": set(), "situation": {6}},     # sunny cafe; says nothing of mood
             {"weather": {1, 2}, "mood": {5}, "situation": set()}]  # rain or winter, bright
    scores = np.array([[0.9, 0.1, 0.0, 0.0, 0.5, 0.5, 0.2, 0.8],
                       [0.2, 0.1, 0.6, 0.1, np.nan, 0.4, 0.5, 0.5]], np.float32)
    rates = photo_eval.hit_rates(scores, truth, GROUPS)
    assert rates["weather"] == {"top1": 1.0, "top3": 1.0, "chance_top1": pytest.approx((0.25 + 0.5) / 2),
                                "chance_top3": pytest.approx((0.75 + 1.0) / 2), "photos": 2}
    assert rates["mood"]["top1"] == 1.0 and rates["mood"]["photos"] == 1  # NaN (the head lacks 잔잔한) loses
    assert rates["situation"]["top1"] == 0.0 and rates["situation"]["top3"] == 1.0
    assert rates["all"]["photos"] == 4 and rates["all"]["top1"] == pytest.approx(3 / 4)


def test_acceptable_tags_count_as_the_label_a_tag_map_merged_them_into():
    merged = spec(members=(("봄", ("봄", "맑은날")),))
    photo = photo_eval.LabelledPhoto("a.jpg", None, "test", {"weather": frozenset({"맑은날"}),
                                                             "mood": frozenset({"없는태그"}), "situation": frozenset()})
    assert photo_eval.acceptable_columns([photo], merged) == [{"weather": {3}, "mood": set(), "situation": set()}]
    assert photo_eval.acceptable_columns([photo], spec()) == [{"weather": {0}, "mood": set(), "situation": set()}]


def test_a_verdict_is_right_when_confident_and_correct_or_uncertain_where_nothing_or_wrong():
    truth = [{"weather": {0}, "mood": set(), "situation": {7}}]
    scores = np.array([[0.9, 0.05, 0.03, 0.02, 0.5, 0.5, 0.9, 0.1]], np.float32)
    # weather: confident and right; mood: a tie, uncertain, and the photo says nothing: right;
    # situation: confident but 카페 is wrong (night was acceptable): wrong.
    report = photo_eval.verdict_accuracy(scores, truth, GROUPS, margin=0.1)
    assert report["verdict_accuracy"] == pytest.approx(2 / 3)
    assert report["uncertain_where_nothing"] == 1.0 and report["confident_where_something"] == 1.0


def test_the_labelled_set_ships_with_its_splits_and_every_photo():
    photos = photo_eval.load_labelled()
    assert len(photos) == 78 and {p.split for p in photos} == {"tune", "test"}
    assert all(p.path.is_file() for p in photos)
    assert len(photo_eval.load_labelled(split="test")) + len(photo_eval.load_labelled(split="tune")) == 78
