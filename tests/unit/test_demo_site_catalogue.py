"""Catalogue generation: determinism, sizes, realism knobs, revisions, ground truth and the planted classes."""

from __future__ import annotations

import json
import re
import unicodedata
from collections import defaultdict

import pytest

from demo_site import catalogue
from demo_site.__main__ import main as demo_site_main
from demo_site.catalogue import COVER_KINDS, SCALES, generate
from demo_site.faults import FaultPlan
from demo_site.songs import COLLAB_FORMS, NEGATIVE_CLASSES, POSITIVE_CLASSES
from demo_site.taxonomy import PLANTED_GROUPS, TAG_CODES

HANGUL = re.compile(r"[\uac00-\ud7a3]")
LATIN = re.compile(r"[A-Za-z]")
PLANTED_BRACKET = {"gloss", "work_title"}  # the classes a plain normaliser does not join, by design


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
            if PLANTED_BRACKET.isdisjoint(r.variants):
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
    # the bracketed classes are the title plus one bracket
    for p in demo.playlists.values():
        for r in p.rows:
            if not PLANTED_BRACKET.isdisjoint(r.variants):
                title = re.sub(r" \(Feat\. .*\)$", "", r.title)
                assert _norm(re.sub(r"\s*\([^()]*\)$", "", title)) == _norm(pool.title[r.song])
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


# --------------------------------------------------------------------------- planted classes
def _rows_of(cat, kind):
    return [(p.plm_seq, r) for p in cat.playlists.values() for r in p.rows if kind in r.variants]


@pytest.mark.parametrize("scale, at_least", [("tiny", 2), ("demo", 20)])
def test_every_class_is_planted_at_tiny_and_demo_scale(scale, at_least, tiny, demo):
    cat = tiny if scale == "tiny" else demo
    gt = cat.ground_truth()
    spellings: dict[str, set] = defaultdict(set)
    by_key = {}
    for p in cat.playlists.values():
        for r in p.rows:
            by_key[(p.plm_seq, r.position)] = r
            for v in r.variants:
                spellings[v].add((r.artist, r.title))
    for kind in POSITIVE_CLASSES + NEGATIVE_CLASSES:
        assert len(spellings[kind]) >= at_least, (scale, kind, len(spellings[kind]))
        assert gt["counts"]["rows_by_variant"][kind] >= len(spellings[kind])
    kinds_in_truth = {v for row in gt["rows"] for v in row["variants"]}
    assert set(POSITIVE_CLASSES + NEGATIVE_CLASSES) <= kinds_in_truth
    # the ground truth names every negative in its rows and the song it twins
    negative_keys = {row["canonical_song_key"] for row in gt["rows"] if set(row["variants"]) & set(NEGATIVE_CLASSES)}
    assert set(gt["negatives"]) == negative_keys
    assert all(twin != key for key, twin in gt["negatives"].items())


def test_planted_rows_change_only_what_the_class_says(demo):
    """Everything except the planted classes' own changes is as generator version 1 drew it: the rows draw
    their usual variants first, so titles, tags, covers and song counts of the playlists are unchanged."""
    rows = [r for p in demo.playlists.values() for r in p.rows]
    planted = [r for r in rows if set(r.variants) & set(POSITIVE_CLASSES + NEGATIVE_CLASSES)]
    assert 0.03 * len(rows) <= len(planted) <= 0.12 * len(rows)  # a modest share
    assert all(len(r.variants) == 1 for r in planted)  # a planted form replaces the usual variant of its row


def test_gloss_rows_show_a_fixed_gloss_in_the_other_script(demo):
    pool = demo.pool
    glosses: dict[int, set[str]] = defaultdict(set)
    for _seq, r in _rows_of(demo, "gloss"):
        title = pool.title[r.song]
        m = re.fullmatch(re.escape(title) + r" \(([^()]+)\)(?: \(Feat\. .+\))?", r.title)
        assert m, r.title
        gloss = m.group(1)
        if HANGUL.search(title):
            assert LATIN.search(gloss) and not HANGUL.search(gloss)
        else:
            assert HANGUL.search(gloss) and not LATIN.search(gloss)
        glosses[r.song].add(gloss)
        assert r.artist == pool.artists[pool.artist[r.song]].name and r.canonical_key == pool.canonical_key(r.song)
    assert glosses and all(len(g) == 1 for g in glosses.values())  # one gloss per song, all its rows agree


def test_work_title_rows_keep_the_script_the_song_id_and_the_album(demo):
    pool = demo.pool
    works: dict[int, set[str]] = defaultdict(set)
    for _seq, r in _rows_of(demo, "work_title"):
        title = pool.title[r.song]
        assert r.title.startswith(f"{title} (")
        work = r.title[len(title) + 2:].split(")")[0]
        assert "ost" not in work.lower().split()
        assert bool(HANGUL.search(work)) == bool(HANGUL.search(title))
        assert r.song_id == pool.song_id(r.song)  # the evidence the dedupe may use
        assert r.album_id == pool.albums[pool.album[r.song]].album_id
        works[r.song].add(work)
    assert works and all(len(w) == 1 for w in works.values())


def test_collaboration_rows_differ_in_separator_and_share_the_canonical_key(demo):
    pool = demo.pool
    keys: dict[int, set[str]] = defaultdict(set)
    separators = set()
    shown_by_song: dict[int, set[str]] = defaultdict(set)
    for p in demo.playlists.values():
        for r in p.rows:
            if pool.artist[r.song] in pool.collab_members:
                keys[r.song].add(r.canonical_key)
                shown_by_song[r.song].add(r.artist)
    for _seq, r in _rows_of(demo, "collaboration"):
        a, b = (pool.artists[i].name for i in pool.collab_members[pool.artist[r.song]])
        canonical = pool.artists[pool.artist[r.song]].name
        assert canonical == f"{a} & {b}" and r.artist != canonical
        forms = {form.format(a=a, b=b): form for form in COLLAB_FORMS}
        assert r.artist in forms
        separators.add(forms[r.artist])
    assert len(separators) == len(COLLAB_FORMS)  # " X ", "B & A", ", ", " with ", " and " all appear
    assert all(len(k) == 1 for k in keys.values())  # every spelling of the song has one canonical key
    assert any(len(shown) >= 3 for shown in shown_by_song.values())  # one song, several separators


def test_alias_spacing_rows_combine_an_alias_form_and_a_title_change(demo):
    pool = demo.pool
    for _seq, r in _rows_of(demo, "alias_spacing"):
        artist = pool.artists[pool.artist[r.song]]
        assert r.artist in artist.display_forms[1:]
        assert r.title != pool.display_title(r.song) and r.title.strip() != pool.display_title(r.song)
        assert _norm(r.title) == _norm(pool.title[r.song])


def test_renamed_artist_rows_show_a_former_name_a_re_release_id_and_the_original_album(demo):
    pool = demo.pool
    names = {_norm(a.name) for a in pool.artists} | {_norm(f) for a in pool.artists for f in a.display_forms}
    rows = _rows_of(demo, "renamed_artist")
    for _seq, r in rows:
        a = pool.artist[r.song]
        assert r.artist == pool.former_name[a] and _norm(r.artist) not in names
        assert r.song_id != pool.song_id(r.song) and demo.song_index_for_id(r.song_id) == r.song
        assert r.album_id == pool.albums[pool.album[r.song]].album_id  # the album is the evidence
        assert r.artist_id == pool.artist_id(a)
    assert len({pool.artist[r.song] for _s, r in rows}) >= 3


def test_negatives_are_other_songs_with_their_own_keys_and_ids(demo):
    pool = demo.pool
    gt = demo.ground_truth()
    twin_ids = {}
    for kind in NEGATIVE_CLASSES:
        rows = _rows_of(demo, kind)
        assert rows
        for _seq, r in rows:
            twin = pool.negative_of[r.song]
            assert twin >= 0 and pool.negative_kind[r.song] == kind and r.song >= pool.n_base
            assert r.canonical_key != pool.canonical_key(twin) == gt["negatives"][r.canonical_key]
            assert r.song_id == pool.song_id(r.song) != pool.song_id(twin)
            assert r.album_id != pool.albums[pool.album[twin]].album_id
            assert demo.song_index_for_id(r.song_id) == r.song  # its song page exists
            twin_title, twin_artist = pool.title[twin], pool.artists[pool.artist[twin]].name
            if kind == "neg_cover":
                assert r.title == twin_title and r.artist != twin_artist
            elif kind == "neg_duet_solo":
                assert r.title == twin_title and r.artist.startswith(f"{twin_artist} & ")
            else:
                assert r.artist == twin_artist and r.title.startswith(f"{twin_title} (")
                suffix = r.title[len(twin_title):]
                assert suffix in {" (Live)", " (Remix)", " (Inst.)", " (Acoustic Ver.)", " (Sped Up)",
                                  " (Japanese Ver.)", " (Korean Ver.)"}
            twin_ids[r.song] = twin
    assert all(pool.negative_of[i] == -1 for i in range(pool.n_base))  # the column marks only negatives
    # twins are popular songs: most of them are in the catalogue too
    shown = {r.song for p in demo.playlists.values() for r in p.rows}
    assert sum(t in shown for t in twin_ids.values()) >= 0.6 * len(twin_ids)


def test_ground_truth_cli_writes_the_new_variants(tmp_path):
    out = tmp_path / "gt.json"
    assert demo_site_main(["ground-truth", "--scale", "tiny", "--seed", "7", "--out", str(out)]) == 0
    gt = json.loads(out.read_text(encoding="utf-8"))
    assert gt["generator_version"] == catalogue.GENERATOR_VERSION >= 2
    kinds = {v for row in gt["rows"] for v in row["variants"]}
    assert set(POSITIVE_CLASSES + NEGATIVE_CLASSES) <= kinds
    assert gt["negatives"]


def test_spellings_without_evidence_share_no_song_id_with_the_songs_other_spellings(demo):
    """A gloss, a collaboration separator or an alias with a title change must be joined by its spelling:
    its row has a release of its own (one id per spelling), unlike work_title rows, which keep the song's id."""
    by_id: dict[str, set[tuple[str, str]]] = defaultdict(set)
    rows = [r for p in demo.playlists.values() for r in p.rows]
    for r in rows:
        by_id[r.song_id].add((r.artist, r.title))
    for r in rows:
        if set(r.variants) & {"gloss", "collaboration", "alias_spacing"}:
            assert by_id[r.song_id] == {(r.artist, r.title)}, (r.variants, by_id[r.song_id])
            assert r.song_id != demo.pool.song_id(r.song) and demo.song_index_for_id(r.song_id) == r.song
            assert r.album_id != demo.pool.albums[demo.pool.album[r.song]].album_id
