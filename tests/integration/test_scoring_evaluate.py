"""`scenetune evaluate scoring`: both recommenders measured on covers, an HTML report with plots and photos."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from scenetune.cli import cli
from scoring import photo_eval
from tests.integration.scoring_helpers import CATALOGUE_RUN, register_head, write_catalogue

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]


def test_evaluate_scoring_writes_a_report_naming_model_and_catalogue(home, tmp_path):
    version = register_head("20261121T000000Z")
    write_catalogue()
    out = tmp_path / "report.html"
    done = CliRunner().invoke(cli, ["evaluate", "scoring", "--out", str(out), "--json"])
    assert done.exit_code == 0, done.output
    report = json.loads(done.output)
    assert report["model_version"].startswith(version + "+zs-") and report["catalogue_version"] == CATALOGUE_RUN
    assert report["queries"] == 6 and "leave-one-out" in report["query_source"]  # a tiny catalogue: every cover
    for name in ("mpic_embedding", "imgenie_covers"):
        scores = report["recommenders"][name]
        assert scores["queries_answered"] == 6
        for metric in ("precision_at_k", "coverage", "genre_share", "all_genres_met", "intra_list_distance"):
            assert 0 <= scores[metric] <= 1, (name, metric)
        assert 0 <= scores["popularity_percentile"] <= 100 and 1 <= scores["distinct_artists"] <= 5
    assert {p["name"] for p in report["photos"]} >= {"coffee", "astronaut", "chelsea", "rocket"}
    assert all(p["songs"]["mpic_embedding"] and p["labels"] for p in report["photos"])
    html = out.read_text()
    assert version in html and CATALOGUE_RUN in html
    assert html.count("data:image/png;base64,") == 3 and html.count("data:image/jpeg;base64,") == len(report["photos"])

    # The blend beside its sources: on the covers, and on the real photos' test split. This head is random
    # weights no photo looks like (weight 0), so on photos the blend is the zero-shot scorer's answer.
    maps = report["covers_map"]
    assert maps["covers"] == 6 and all(0 <= maps[f"{n}_map"] <= 1 for n in ("head", "zero_shot", "blend"))
    real = report["real_photos"]
    assert real["split"] == "test" and real["photos"] == len(photo_eval.load_labelled(split="test"))
    assert set(real["sources"]) == {"head", "zero_shot", "blend"} and real["head_weight"] == 0
    zero_shot = real["sources"]["zero_shot"]["all"]
    assert real["sources"]["blend"]["all"] == zero_shot and zero_shot["top1"] > zero_shot["chance_top1"]
    assert all(r["photos"] == real["photos"] for r in real["recommenders"].values())
    assert "Real photos (test split" in html and "Held-out covers, mAP" in html
