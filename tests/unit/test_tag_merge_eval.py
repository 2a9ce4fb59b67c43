"""Comparing tag maps: planted groups recovered, adjusted Rand index against a reference map."""

from __future__ import annotations

import pytest

from quality.tag_merge_eval import adjusted_rand_index, agreement, planted_recovery, read_reference_map


@pytest.mark.parametrize("a, b", [
    ([0, 0, 1, 1, 2, 2], [0, 0, 1, 1, 2, 2]),
    ([0, 0, 1, 1, 2, 2], [5, 5, 3, 3, 1, 1]),
    ([0, 0, 0, 1, 1, 2], [0, 0, 1, 1, 2, 2]),
    ([0, 1, 2, 3, 4, 5], [0, 0, 0, 1, 1, 1]),
    ([0, 0, 1, 2, 3, 3, 3, 4], [1, 1, 1, 2, 2, 3, 3, 3]),
])
def test_the_adjusted_rand_index_is_the_standard_one(a, b):
    metrics = pytest.importorskip("sklearn.metrics")
    assert adjusted_rand_index(zip(a, b)) == pytest.approx(metrics.adjusted_rand_score(a, b))


def test_identical_groupings_score_one_and_labels_do_not_matter():
    assert adjusted_rand_index(zip("aabbc", "xxyyz")) == 1.0
    assert adjusted_rand_index(zip("abc", "xyz")) == 1.0  # all singletons on both sides


def test_planted_groups_are_recovered_when_both_tags_share_a_label():
    tag_map = [{"tag": "눈오는날", "label": "겨울", "p_into_given_tag": 0.74}, {"tag": "겨울", "label": "겨울"},
               {"tag": "맑은날", "label": "맑은날"}, {"tag": "봄", "label": "봄"}]
    planted = [{"antecedent": "눈오는날", "consequent": "겨울", "target_p": 0.8, "observed_p": 0.741},
               {"antecedent": "맑은날", "consequent": "봄", "target_p": 0.5, "observed_p": 0.48},
               {"antecedent": "더운날", "consequent": "여름", "target_p": 0.6, "observed_p": 0.59}]
    out = planted_recovery(tag_map, planted)
    assert [(r["group"], r["recovered"]) for r in out] == [("눈오는날→겨울", True), ("맑은날→봄", False),
                                                          ("더운날→여름", False)]
    assert out[0]["p_into_given_tag"] == 0.74 and out[2]["label"] is None


def test_agreement_with_a_reference_map_over_the_tags_both_hold(tmp_path):
    path = tmp_path / "map.csv"
    path.write_text("old,new,type\n눈오는날,겨울,weather\n겨울,겨울,weather\n흐린날,우중충한날,weather\n"
                    "비오는날,우중충한날,weather\n추억,추억,mood\n", encoding="utf-8")
    reference = read_reference_map(path)
    ours = [{"tag": "눈오는날", "label": "겨울"}, {"tag": "겨울", "label": "겨울"},
            {"tag": "흐린날", "label": "비오는날"}, {"tag": "비오는날", "label": "비오는날"}, {"tag": "밤", "label": "밤"}]
    result = agreement(ours, reference)
    assert result == {"ari": 1.0, "pair_precision": 1.0, "pair_recall": 1.0, "tags_compared": 4, "our_labels": 2,
                      "reference_labels": 2, "reference_tags_missing_here": ["추억"]}
    fewer = agreement([{**r, "label": r["tag"]} if r["tag"] == "흐린날" else r for r in ours], reference)
    assert (fewer["pair_precision"], fewer["pair_recall"]) == (1.0, 0.5)  # one merge of the two missed
