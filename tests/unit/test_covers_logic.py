"""Pure logic of cover cleaning: tag patterns, duplicate grouping, playlist verdicts, rules version, evaluation."""

from __future__ import annotations

import numpy as np
from PIL import Image
from skimage import data as skdata

from spark_jobs.covers import ads, duplicates, evaluate, text, verdicts
from spark_jobs.covers.classify import ANALYSIS_COLUMNS
from spark_jobs.covers.rules import Rules


def test_tag_patterns_match_whole_tags_and_brands_named_in_the_title():
    assert ads.tag_flags(["월요일", "밤", "차트"], "월요병 극복", "DJ1234") == ["weekday:월요일", "chart:차트"]
    assert ads.tag_flags(["NORDLUX", "드라이브"], "[NORDLUX] 주말 드라이브", "NORDLUX") == ["brand:NORDLUX"]
    assert ads.tag_flags(["자장가", "DJ지니", "노래방", "TOP100"], "", None) == [
        "kids:자장가", "dj:DJ지니", "media:노래방", "chart:TOP100"]
    # Genie's own tags are themes, even in brackets; substrings do not match (밤 inside 밤하늘)
    assert ads.tag_flags(["드라이브", "밤하늘", "영화음악"], "[드라이브] 밤에 듣기 좋은", "curator") == []
    assert ads.tag_flags(None, None, None) == []


def test_ocr_words_are_judged_by_shape():
    assert text.is_wordlike("선곡") and text.is_wordlike("TOP") and text.is_wordlike("50")
    assert not any(text.is_wordlike(w) for w in ("ee", "oe", "|", "—", "a", "(3"))
    assert text.weight("선곡") == 4 and text.weight("TOP 100") == 6


def test_hamming_pairs_finds_exactly_the_close_hashes():
    hashes = ["0000000000000000", "0000000000000007", "ffffffffffffffff", "000000000000000f"]
    assert duplicates.hamming_pairs(hashes, 3) == [(0, 1, 3), (1, 3, 1)]
    assert duplicates.hamming_pairs(hashes, 4, block=2) == [(0, 1, 3), (0, 3, 4), (1, 3, 1)]


def test_groups_are_connected_components_rooted_at_the_smallest_index():
    assert duplicates.groups(6, [(4, 1), (1, 3), (2, 5)]) == [0, 1, 2, 1, 1, 2]


def _thumb(img: Image.Image) -> np.ndarray:
    import io

    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=80)
    return duplicates.thumbnail(buf.getvalue())


def test_a_recropped_brighter_copy_is_near_and_another_photo_is_not():
    photo = Image.fromarray(skdata.astronaut()).resize((600, 600))
    copy = photo.crop((20, 12, 20 + 560, 12 + 560)).resize((600, 600))
    copy = Image.fromarray(np.clip(np.asarray(copy, dtype=np.float32) * 1.1, 0, 255).astype(np.uint8))
    other = Image.fromarray(skdata.chelsea()).resize((600, 600))
    a, b, c = _thumb(photo), _thumb(copy), _thumb(other)
    assert duplicates.aligned_residual(a, b) < Rules().near_duplicate_max_residual < duplicates.aligned_residual(a, c)
    assert np.abs(duplicates.chroma(a) - duplicates.chroma(b)).max() < Rules().near_duplicate_max_chroma


def test_changing_a_threshold_changes_the_rules_version():
    assert Rules().version == Rules().version
    assert Rules(ocr_min_confidence=61).version != Rules().version
    assert Rules().version.startswith("covers-")


def analysis(sha1: str, kind: str, phash: str = "0123456789abcdef", **extra) -> dict:
    row = {name: None for name, _ in ANALYSIS_COLUMNS}
    row.update(cover_sha1=sha1, image_kind=kind, image_reason=f"{kind} evidence", phash=phash,
               analysed_by="20261101T000000Z", **extra)
    return row


def playlist(seq: int, sha1: str | None, tags=(), title="a playlist", status="ok") -> dict:
    return {"plm_seq": seq, "cover_sha1": sha1, "cover_status": status, "cover_error": None if status == "ok" else "HTTP 404",
            "tags": list(tags), "title": title, "maker_name": "DJ0001", "crawl_run_key": "20261101T000000Z"}


def test_playlist_verdicts_weigh_tags_brands_and_duplicates():
    analyses = {
        "scene": analysis("scene", "scene", "ffff0000ffff0000"),
        "tmpl": analysis("tmpl", "template_2", "00ff00ff00ff00ff"),
        "text": analysis("text", "text", "0f0f0f0f0f0f0f0f"),
        "bad": analysis("bad", "unreadable", None),
    }
    rows = verdicts.decide(
        [playlist(5, "scene"), playlist(2, "scene"), playlist(3, "tmpl", tags=["차트"]),
         playlist(4, "text", tags=["LUMEN"], title="[LUMEN] 봄"), playlist(6, "bad"), playlist(7, None, status="cover_404")],
        analyses, Rules(), "20261122T000000Z", thumbnail=lambda sha1: None)
    by = {r["plm_seq"]: r for r in rows}
    assert [r["plm_seq"] for r in rows] == [2, 3, 4, 5, 6, 7]
    assert (by[2]["verdict"], by[2]["cover_kind"], by[2]["duplicate_group"]) == ("keep", "scene", "scene")
    assert (by[5]["verdict"], by[5]["cover_kind"], by[5]["duplicate_of"], by[5]["duplicate_distance"]) == (
        "drop", "duplicate", 2, 0)
    assert "exact duplicate of playlist 2" in by[5]["reason"]
    assert (by[3]["verdict"], by[3]["cover_kind"], by[3]["tag_flags"]) == ("drop", "template_2", ["chart:차트"])
    assert (by[4]["verdict"], by[4]["cover_kind"]) == ("drop", "ad")
    assert (by[6]["verdict"], by[6]["cover_kind"]) == ("unreadable", None)
    assert by[7]["verdict"] == "unreadable" and "cover_404" in by[7]["reason"]
    assert all(r["run_key"] == "20261122T000000Z" and r["rules_version"] == Rules().version for r in rows)
    assert by[2]["analysed_by"] == "20261101T000000Z"


def test_evaluation_scores_kinds_crops_and_tags_and_draws_the_matrix(tmp_path):
    truth = {"playlists": [
        {"plm_seq": 1, "cover_kind": "scene", "playlist_type": "mood", "template_art_box": None},
        {"plm_seq": 2, "cover_kind": "template_1", "playlist_type": "mood", "template_art_box": [210, 135, 530, 455]},
        {"plm_seq": 3, "cover_kind": "ad_brand", "playlist_type": "ad", "template_art_box": None},
        {"plm_seq": 4, "cover_kind": "duplicate_near", "playlist_type": "mood", "template_art_box": None},
        {"plm_seq": 5, "cover_kind": "text", "playlist_type": "non_mood", "template_art_box": None},
    ]}
    rows = [
        {"plm_seq": 1, "cover_status": "ok", "cover_kind": "scene", "tag_flags": []},
        {"plm_seq": 2, "cover_status": "ok", "cover_kind": "template_1", "tag_flags": [], "width": 300, "height": 300,
         "crop_left": 105, "crop_top": 68, "crop_right": 265, "crop_bottom": 228},
        {"plm_seq": 3, "cover_status": "ok", "cover_kind": "text", "tag_flags": ["brand:X"], "reason": "text cover"},
        {"plm_seq": 4, "cover_status": "ok", "cover_kind": "duplicate", "tag_flags": []},
        {"plm_seq": 5, "cover_status": "not_image", "cover_kind": None, "tag_flags": []},
    ]
    result = evaluate.evaluate(rows, truth)
    kinds = {k.kind: k for k in result.per_kind}
    assert result.scored == 4 and result.not_stored == 1
    assert (kinds["ad"].recall, kinds["text"].precision) == (0.0, 0.0)
    assert kinds["duplicate"].f1 == 1.0 and kinds["template_1"].f1 == 1.0
    assert abs(result.macro_f1 - 3 / 4) < 1e-9  # scene, template_1, duplicate perfect; ad missed
    assert result.crops == 1 and result.crop_iou_mean > 0.99
    assert (result.tag_precision, result.tag_recall) == (1.0, 0.5)
    assert result.errors == [(3, "ad", "text", "text cover")]
    png = evaluate.confusion_png(result, tmp_path / "m.png")
    assert Image.open(png).size[0] > 300
    assert "macro F1 0.750" in result.table()
