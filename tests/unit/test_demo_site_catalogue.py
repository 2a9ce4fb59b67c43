"""Catalogue generation: determinism, sizes, realism knobs, revisions and ground truth."""

from __future__ import annotations

import json
import re
import unicodedata
from collections import defaultdict

import pytest

from demo_site import catalogue
from demo_site.catalogue import COVER_KINDS, SCALES, generate
from demo_site.faults import FaultPlan
from demo_site.taxonomy import PLANTED_GROUPS, TAG_CODES


def _norm(text: str) -> str:
    """An independent normaliser of the kind the dedup stage would use."""
    text = unicodedata.normalize("NFKC", text)
    feat = r"\s*[\(\[]\s*(featuring|feat\.?|ft\.)\s*((?:[^()\[\]]|\([^()]*\))+)[\)\]]\s*$"
    while re.search(feat, text, flags=re.I):
        text = re.sub(feat, "", text, flags=re.I)
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return re.sub(r"[\W_]+", "", text.casefold())


@pytest.fixture(scope="module")
def tiny():
    return generate(7, "tiny")


@pytest.fixture(scope="module")
def demo():
    return generate(7, "demo")


def test_same_seed_gives_same_content_and_other_seed_differs(tiny):
    again = generate(7, "tiny", fresh=True)
    assert again is not tiny
    assert json.dumps(again.ground_truth(), sort_keys=True) == json.dumps(tiny.ground_truth(), sort_keys=True)
    assert [p.title for p in again.playlists.values()] == [p.title for p in tiny.playlists.values()]
    other = generate(8, "tiny")
    assert [p.title for p in other.playlists.values()] != [p.title for p in tiny.playlists.values()]
    assert [r.canonical_key for r in other.playlists[1].rows] != [r.canonical_key for r in tiny.playlists[1].rows]


def test_tiny_sizes(tiny):
    assert len(tiny.playlists) == SCALES["tiny"] == 50
    rows = sum(p.song_count for p in tiny.playlists.values())
    assert 500 <= rows <= 1600
    assert all(5 <= p.song_count <= 60 for p in tiny.playlists.values())
    assert len(tiny.missing_plm_seqs) == tiny.max_plm_seq - 50
    assert tiny.newest_first[0] == tiny.max_plm_seq


def test_full_scale_sizing_without_building_it():
    # The full scale is sized for ~13,800 playlists and ~250k rows (checked by formula, not built here).
    assert SCALES["full"] == 13_800
    assert 230_000 <= catalogue.expected_rows("full") <= 270_000
    assert catalogue.pool_size_for("full") > 250_000
    assert catalogue.pool_size_for("tiny") < catalogue.pool_size_for("demo") < catalogue.pool_size_for("full")


def test_demo_scale_rows_songs_and_heavy_tail(demo):
    assert len(demo.playlists) == 1000
    keys = defaultdict(int)
    for p in demo.playlists.values():
        assert len({r.song for r in p.rows}) == p.song_count  # no song twice in a playlist
        for r in p.rows:
            keys[r.canonical_key] += 1
    rows = sum(keys.values())
    assert 15_000 <= rows <= 21_000
    assert 0.35 * rows <= len(keys) <= 0.7 * rows
    assert max(keys.values()) >= 20  # popular songs recur across many playlists


def test_song_variants_agree_after_normalisation_and_ids_are_not_enough(demo):
    forms: dict[str, set[tuple[str, str]]] = defaultdict(set)
    ids: dict[str, set[str]] = defaultdict(set)
    kinds = set()
    for p in demo.playlists.values():
        for r in p.rows:
            forms[r.canonical_key].add((r.title, r.artist))
            ids[r.canonical_key].add(r.song_id)
            kinds.update(r.variants)
    assert {"spacing", "case", "fullwidth", "feat", "artist_form", "re_release"} <= kinds
    assert any(len(v) > 1 for v in ids.values()), "re-releases must give one song several ids"
    pool = demo.pool
    by_key = {pool.canonical_key(i): i for p in demo.playlists.values() for i in (r.song for r in p.rows)}
    for key, shown in forms.items():
        idx = by_key[key]
        assert {_norm(t) for t, _a in shown} == {_norm(pool.title[idx])}
    # distinct canonical songs stay distinct after normalisation of (artist, title)
    normed = {(_norm(pool.artists[pool.artist[i]].name), _norm(pool.title[i])) for i in by_key.values()}
    assert len(normed) == len(by_key)


def test_playlist_fields_look_like_genie(demo):
    pl = demo.playlists[1]
    assert pl.maker_id.startswith("DJ") and len(pl.maker_id) == 6
    assert re.fullmatch(r"\d{14}", pl.reg_dt) and pl.disp_dt == pl.reg_dt[:8]
    assert pl.cover_path == f"/Y/IMAGE/Playlist/Channel/GENIE/PLAYLIST_{pl.reg_dt}.JPG"
    assert len(demo.by_cover_stamp) == len(demo.playlists)  # cover stamps are unique
    types = {p.playlist_type for p in demo.playlists.values()}
    assert types == {"mood", "genre", "untagged", "ad", "non_mood"}
    assert any(not p.tags for p in demo.playlists.values())
    assert TAG_CODES["드라이브"] == "ST0002" and TAG_CODES["랩/힙합"] == "GR0006"
    assert len(set(TAG_CODES.values())) == len(TAG_CODES)


def test_cover_kinds_and_duplicates(demo):
    kinds = defaultdict(int)
    for p in demo.playlists.values():
        kinds[p.cover_kind] += 1
        if p.cover_kind.startswith("duplicate"):
            orig = demo.playlists[p.duplicate_of]
            assert orig.plm_seq < p.plm_seq and not orig.cover_kind.startswith("duplicate")
        else:
            assert p.duplicate_of is None
        if p.cover_kind.startswith("template_"):
            x0, y0, x1, y1 = p.template_art_box
            assert 0 <= x0 < x1 <= 600 and 0 <= y0 < y1 <= 600 and (x1 - x0) > 200
    assert set(kinds) == set(COVER_KINDS)
    assert 0.6 <= kinds["scene"] / 1000 <= 0.9


def test_planted_tag_groups(demo):
    gt = demo.ground_truth()
    groups = {(g["antecedent"], g["consequent"]): g for g in gt["planted_tag_groups"]}
    assert set(groups) == {(a, b) for a, b, _p in PLANTED_GROUPS}
    for (a, b), g in groups.items():
        assert g["n_antecedent"] >= 10
        assert abs(g["observed_p"] - g["target_p"]) < 0.25
    pl = next(p for p in gt["playlists"] if "눈오는날" in p["tags"])
    assert "눈오는날→겨울" in pl["planted_tag_group"]


def test_revision_changes_only_listed_playlists(tiny):
    r1 = generate(7, "tiny", 1)
    log = r1.revision_log[1]
    assert log["new"] and log["changed"]
    assert min(log["new"]) > tiny.max_plm_seq
    assert 1 <= len(log["new"]) <= 0.06 * len(tiny.playlists) + 1
    for seq, pl in tiny.playlists.items():
        if seq in log["changed"]:
            newer = r1.playlists[seq]
            assert (newer.rows, newer.tags) != (pl.rows, pl.tags)
            assert newer.changed_in_revisions == (1,) and newer.cover_params == pl.cover_params
        else:
            assert r1.playlists[seq] is pl
    assert all(r1.playlists[s].added_in_revision == 1 for s in log["new"])
    r2 = generate(7, "tiny", 2)
    assert r2.revision_log[1] == log and set(r2.playlists) > set(r1.playlists)
    assert generate(7, "tiny", 2, fresh=True).ground_truth() == r2.ground_truth()


def test_ground_truth_counts_and_outcomes(tiny):
    plan = FaultPlan({1: "burst_503", 2: "persistent_500", 3: "truncated_html", 4: "cover_404", 5: "redirect"})
    gt = tiny.ground_truth(plan)
    json.dumps(gt)  # serialisable
    assert gt["counts"]["playlists"] == len(gt["playlists"]) == 50
    assert gt["counts"]["rows"] == len(gt["rows"]) == sum(p["song_count"] for p in gt["playlists"])
    assert gt["counts"]["distinct_canonical_songs"] == len({r["canonical_song_key"] for r in gt["rows"]})
    outcome = {p["plm_seq"]: p["expected_outcome"] for p in gt["playlists"]}
    expected = {1: "item_after_retry", 2: "failed", 3: "quarantine", 4: "item_bad_cover", 5: "item"}
    for seq, want in expected.items():
        if seq in outcome:
            assert outcome[seq] == want
    assert gt["missing_plm_seqs"]["plm_seqs"] == tiny.missing_plm_seqs


def test_unknown_scale_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown scale"):
        generate(7, "huge")
