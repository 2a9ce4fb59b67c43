"""The cover benchmark's two pipelines really judge covers: a few tiny demo-site covers, checked against the truth."""

from __future__ import annotations

import pytest

from bench import bench_covers
from spark_jobs.covers import evaluate

pytestmark = pytest.mark.timeout(300)


def test_staged_and_naive_pipelines_judge_the_same_covers(tmp_path):
    (tmp_path / "covers").mkdir()
    playlists, files, truth = bench_covers.covers_of("tiny", tmp_path / "covers")
    kinds = {p["plm_seq"]: p["cover_kind"] for p in truth["playlists"]}
    picked, seen = [], set()
    for p in playlists:  # one playlist of each true kind
        if kinds[p["plm_seq"]] not in seen:
            seen.add(kinds[p["plm_seq"]])
            picked.append(p)
    assert {"scene", "text", "template_1"} <= seen
    chosen = {p["cover_sha1"]: files[p["cover_sha1"]] for p in picked}
    staged, staged_s = bench_covers.judge(picked, chosen, tmp_path, staged=True, workers=2)
    naive, naive_s = bench_covers.judge(picked, chosen, tmp_path, staged=False, workers=2)
    assert [r["plm_seq"] for r in staged] == [r["plm_seq"] for r in naive] == sorted(p["plm_seq"] for p in picked)
    assert staged_s > 0 and naive_s > 0
    every_ocr = [r for r in naive if r["image_kind"] != "unreadable"]
    assert all("ocr" in r["stages"] for r in every_ocr)  # naive: Tesseract on every cover
    assert any("ocr" not in r["stages"] for r in staged)  # staged: not on every cover
    for rows in (staged, naive):
        by_kind = {kinds[r["plm_seq"]]: r["cover_kind"] for r in rows}
        assert by_kind["template_1"] == "template_1" and by_kind["scene"] == "scene"
        assert evaluate.evaluate(rows, truth).scored == len(picked)
    # the first text cover is Korean: read in its cropped, scaled lines; the naive whole-cover OCR may miss it
    assert {kinds[r["plm_seq"]]: r["cover_kind"] for r in staged}["text"] == "text"
