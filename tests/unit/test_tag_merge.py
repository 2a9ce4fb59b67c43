"""Tag merges on a tiny literal co-occurrence matrix: which tags join which label, with what evidence."""

from __future__ import annotations

import pytest

from spark_jobs.tag_merge import MergeRule, Pair, merge_tags, pairs_of

RULE = MergeRule(min_p=0.4, min_lift=5.0, min_playlists=10)
TAGGED = 1000  # playlists carrying at least one tag

# playlists per tag, and playlists per (unordered) pair of tags
PLAYLISTS = {"겨울": 100, "눈오는날": 40, "추운날": 30, "기분전환": 300, "맑은날": 30, "봄": 60, "NORDLUX": 20,
             "안개낀날": 8, "밤": 50}
BOTH = {
    ("눈오는날", "겨울"): 32,  # P(겨울|눈오는날) 0.8, lift 8: a planted group
    ("추운날", "눈오는날"): 24,  # P(눈오는날|추운날) 0.8, lift 20: 추운날 -> 눈오는날 -> 겨울
    ("맑은날", "기분전환"): 20,  # P 0.67 but lift 2.2: 기분전환 follows everything
    ("맑은날", "봄"): 14,  # P 0.47, lift 7.8
    ("NORDLUX", "기분전환"): 18,  # a brand never becomes a mood, nor a label of one
    ("안개낀날", "겨울"): 7,  # P 0.88, lift 8.8, but 7 playlists prove little
    ("밤", "눈오는날"): 5,
}


def rows_by_tag(playlists=PLAYLISTS, both=BOTH, rule=RULE):
    return {r["tag"]: r for r in merge_tags(playlists, pairs_of(playlists, both, TAGGED), rule)}


def test_a_tag_mostly_seen_with_a_broader_one_joins_its_label_with_the_values_behind_it():
    snow = rows_by_tag()["눈오는날"]
    assert (snow["label"], snow["label_en"], snow["category"], snow["tag_category"]) == (
        "겨울", "winter", "season", "weather")
    assert snow["merged"] and snow["merged_into"] == "겨울"
    assert (snow["playlists_both"], snow["p_into_given_tag"], snow["p_tag_given_into"]) == (32, 0.8, 0.32)
    assert snow["lift"] == pytest.approx(8.0)
    assert snow["evidence"] == ["눈오는날→겨울: P(겨울|눈오는날) = 0.800, P(눈오는날|겨울) = 0.320, lift 8.0, 32 of 40 playlists"]


def test_a_chain_ends_at_the_broadest_tag_and_keeps_every_step():
    cold = rows_by_tag()["추운날"]
    assert (cold["label"], cold["merged_into"]) == ("겨울", "눈오는날")
    assert [e.split(":")[0] for e in cold["evidence"]] == ["추운날→눈오는날", "눈오는날→겨울"]


def test_lift_keeps_a_tag_from_joining_a_tag_that_follows_everything():
    sunny = rows_by_tag()["맑은날"]
    assert sunny["label"] == "봄"  # not 기분전환, whose P is higher
    without_spring = rows_by_tag(both={k: v for k, v in BOTH.items() if k != ("맑은날", "봄")})["맑은날"]
    assert (without_spring["label"], without_spring["merged"]) == ("맑은날", False)
    assert without_spring["evidence"] == [
        "not merged; closest broader tag 맑은날→기분전환: P(기분전환|맑은날) = 0.667, P(맑은날|기분전환) = 0.067,"
        " lift 2.2, 20 of 30 playlists (lift below 5)"]


def test_too_few_playlists_together_is_no_evidence():
    fog = rows_by_tag()["안개낀날"]
    assert (fog["label"], fog["merged"]) == ("안개낀날", False)
    assert "fewer than 10 playlists with both" in fog["evidence"][0]
    assert rows_by_tag(rule=MergeRule(0.4, 5.0, 5))["안개낀날"]["label"] == "겨울"


def test_tags_of_no_category_are_their_own_labels_and_labels_are_the_broader_tags():
    rows = rows_by_tag()
    assert (rows["NORDLUX"]["label"], rows["NORDLUX"]["category"], rows["NORDLUX"]["merged"]) == ("NORDLUX", "other", False)
    assert rows["NORDLUX"]["label_en"] is None
    assert (rows["겨울"]["label"], rows["겨울"]["merged"], rows["겨울"]["merged_into"]) == ("겨울", False, None)
    assert rows["겨울"]["evidence"] == ["not merged: it shares no playlist with a broader tag of the six categories"]
    assert set(rows) == set(PLAYLISTS)  # every tag has a row: nothing is lost
    assert {r["label"] for r in rows.values() if r["merged"]} == {"겨울", "봄"}


def test_two_equally_common_tags_never_point_at_each_other():
    rows = rows_by_tag({"흐린날": 20, "비오는날": 20}, {("흐린날", "비오는날"): 20}, RULE)
    assert {t: r["label"] for t, r in rows.items()} == {"흐린날": "비오는날", "비오는날": "비오는날"}


def test_the_map_version_follows_the_mapping_not_the_counts():
    base = rows_by_tag()
    recounted = rows_by_tag(both={**BOTH, ("눈오는날", "겨울"): 33})
    assert len({r["map_version"] for r in base.values()}) == 1
    assert base["눈오는날"]["map_version"] == recounted["눈오는날"]["map_version"]
    remapped = rows_by_tag(both={**BOTH, ("눈오는날", "겨울"): 3})
    assert remapped["눈오는날"]["map_version"] != base["눈오는날"]["map_version"]
    assert base["눈오는날"]["merge_rule"].startswith("P(label|tag) >= 0.4, lift >= 5, >= 10 playlists with both")


def test_pairs_are_ordered_both_ways_with_shares_of_the_first_tag():
    [ab, ba] = pairs_of({"a": 10, "b": 40}, {("a", "b"): 5}, 100)
    assert (ab.a, ab.b, ab.p_b_given_a, ab.p_a_given_b, ab.lift) == ("a", "b", 0.5, 0.125, 1.25)
    assert (ba.a, ba.b, ba.p_b_given_a) == ("b", "a", 0.125)
    assert isinstance(ab, Pair)
