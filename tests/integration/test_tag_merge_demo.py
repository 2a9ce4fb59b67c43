"""Tag co-occurrence counted in Spark over the demo site's playlists recovers the groups planted there."""

from __future__ import annotations

import json

import pytest

from demo_site.server import DemoSite
from schemas.taxonomy import clean_tag
from spark_jobs.tag_merge import MergeRule, count_cooccurrence, merge_tags

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def ground_truth(tmp_path_factory) -> dict:
    path = tmp_path_factory.mktemp("truth") / "demo.json"
    DemoSite(seed=7, scale="demo", faults=None).write_ground_truth(path)  # 1,000 playlists; no server started
    return json.loads(path.read_text(encoding="utf-8"))


def test_the_planted_groups_are_merged_with_the_shares_the_site_planted(spark, ground_truth, monkeypatch):
    for name in ("SCENETUNE_TAG_MERGE_MIN_P", "SCENETUNE_TAG_MERGE_MIN_LIFT", "SCENETUNE_TAG_MERGE_MIN_PLAYLISTS"):
        monkeypatch.delenv(name, raising=False)  # the shipped defaults
    playlists = spark.createDataFrame(
        [("genie", p["plm_seq"], list(dict.fromkeys(clean_tag(t) for t in p["tags"]))) for p in ground_truth["playlists"]],
        "source string, plm_seq bigint, tags array<string>")
    counts, pairs, tagged = count_cooccurrence(playlists)
    assert tagged == sum(1 for p in ground_truth["playlists"] if p["tags"])
    rows = {r["tag"]: r for r in merge_tags(counts, pairs, MergeRule.from_settings())}

    planted = ground_truth["planted_tag_groups"]
    assert len(planted) == 4
    for group in planted:
        tag, broader = group["antecedent"], group["consequent"]
        row = rows[tag]
        assert (row["label"], row["merged_into"]) == (broader, broader), row["evidence"]
        assert row["p_into_given_tag"] == pytest.approx(group["observed_p"], abs=1e-4)  # Spark counted what was planted
        assert rows[broader]["label"] == broader
    # Merges stay few and small: near-synonyms, not a handful of catch-all labels.
    merged = [r for r in rows.values() if r["merged"]]
    labels = {r["label"] for r in merged}
    assert len(merged) <= 10 and all(sum(r["label"] == label for r in merged) <= 3 for label in labels)
    assert not any(r["merged"] or r["label"] != r["tag"] for r in rows.values() if r["tag_category"] == "other")
