"""scoring.blend: the head's weight by familiarity, the blend, and the uncertain verdict, on known answers."""

import numpy as np
import pytest

from scoring import blend


def unit(*rows):
    x = np.asarray(rows, np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_nearest_similarity_is_the_mean_of_the_k_nearest_and_skips_itself_when_asked():
    reference = unit([1, 0], [0, 1], [1, 1])
    got = blend.nearest_similarity(unit([1, 0]), reference, k=2)
    assert got[0] == pytest.approx((1.0 + np.sqrt(0.5)) / 2, abs=1e-6)
    loo = blend.nearest_similarity(reference, reference, k=1, exclude_self=True)
    assert loo == pytest.approx([np.sqrt(0.5)] * 3, abs=1e-6)  # each one's nearest other is the diagonal


def test_head_weight_is_full_above_the_heldout_low_quantile_and_none_far_below():
    heldout = np.linspace(0.7, 0.9, 101)  # q05 = 0.71, median = 0.80: none at 0.71 - 2 * 0.09 = 0.53
    w = blend.head_weight(np.array([0.95, 0.71, 0.62, 0.53, 0.30]), heldout, 0.05, 2.0)
    assert w == pytest.approx([1.0, 1.0, 0.5, 0.0, 0.0], abs=1e-4)
    assert blend.head_weight(np.array([0.1]), np.array([]), 0.05, 2.0) == pytest.approx([1.0])


def test_blend_mixes_by_weight_and_a_label_the_head_lacks_counts_only_as_far_as_the_head_is_not_trusted():
    head = np.array([[0.8, np.nan], [0.8, np.nan]], np.float32)
    zero_shot = np.array([[0.2, 0.6], [0.2, 0.6]], np.float32)
    got = blend.blend(head, zero_shot, np.array([1.0, 0.25]))
    assert got == pytest.approx(np.array([[0.8, 0.0], [0.35, 0.45]]), abs=1e-6)


def test_a_group_is_uncertain_when_its_best_label_does_not_stand_out():
    groups = ["weather", "weather", "weather", "mood", "mood"]
    scores = np.array([[0.6, 0.2, 0.2, 0.5, 0.5],   # weather clear (0.6 vs 0.2 of 1.0), mood a tie
                       [0.34, 0.33, 0.33, 0.0, 0.0]])  # weather flat, mood has no score at all
    verdicts = blend.group_verdicts(scores, groups, margin=0.1)
    assert verdicts == [{"weather": "confident", "mood": "uncertain"}, {"weather": "uncertain", "mood": "uncertain"}]
    assert blend.group_verdicts(scores[:1], groups, margin=0.0)[0]["mood"] == "confident"  # margin 0: never uncertain


def test_the_recommenders_read_only_the_confident_groups():
    groups = ["weather", "weather", "mood", "mood"]
    got = blend.confident_scores(np.array([0.7, 0.3, 0.5, 0.5]), groups, {"weather": "confident", "mood": "uncertain"})
    assert got == pytest.approx([0.7, 0.3, 0.0, 0.0])


def test_familiarity_round_trips_beside_the_head(tmp_path):
    train = unit([1, 0], [0.6, 0.8])
    blend.save_familiarity(tmp_path, train, np.array([0.7, 0.8], np.float32))
    got_train, got_heldout = blend.load_familiarity(tmp_path)
    assert got_train == pytest.approx(train, abs=1e-3)  # float16 on disk
    assert got_heldout == pytest.approx([0.7, 0.8])
