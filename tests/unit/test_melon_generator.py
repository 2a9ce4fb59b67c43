"""The Melon Playlist Continuation generator (demo_site.melon): Kakao Arena's exact file format, determinism,
consistency, ground truth in the Genie demo site's key convention, planted spelling classes, hard negatives
and faults. Everything at the tiny scale (~1 s a run)."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from demo_site import melon
from demo_site.__main__ import main as demo_site_main
from demo_site.catalogue import generate

PLAYLIST_KEYS = ["tags", "id", "plylst_title", "songs", "like_cnt", "updt_date"]
SONG_KEYS = ["song_gn_dtl_gnr_basket", "issue_date", "album_name", "album_id", "artist_id_basket", "song_name",
             "song_gn_gnr_basket", "artist_name_basket", "id"]
UPDT = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.000$")
SPLITS = ("train", "val", "test")


def _load(folder: Path) -> dict:
    return {name: json.loads((folder / f"{name}.json").read_text(encoding="utf-8"))
            for name in (*SPLITS, "song_meta", "genre_gn_all", "ground_truth")}


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    out = tmp_path_factory.mktemp("melon_clean")
    written = melon.write_dataset(out, seed=7, scale="tiny", faults="none")
    return out, written, _load(out)


@pytest.fixture(scope="module")
def faulty(tmp_path_factory):
    out = tmp_path_factory.mktemp("melon_faults")
    melon.write_dataset(out, seed=7, scale="tiny", faults="default")
    return _load(out)


def _is_int(x) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def test_cli_writes_each_file_and_the_same_bytes_every_time(clean, tmp_path, capsys):
    out, written, _data = clean
    assert [w.path.name for w in written] == [*melon.FILES, melon.GROUND_TRUTH]
    assert demo_site_main(["melon", "--scale", "tiny", "--seed", "7", str(tmp_path)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 6 and all(line.startswith("wrote ") and "records" in line and "bytes" in line for line in lines)
    for name in (*melon.FILES, melon.GROUND_TRUTH):
        assert (tmp_path / name).read_bytes() == (out / name).read_bytes(), name
    other = tmp_path / "seed8"
    melon.write_dataset(other, seed=8, scale="tiny")
    assert (other / "train.json").read_bytes() != (out / "train.json").read_bytes()


def test_files_are_the_published_format(clean):
    out, _written, data = clean
    sizes = melon.SCALES["tiny"]
    assert [len(data[s]) for s in SPLITS] == [sizes.train, sizes.val, sizes.test]
    for split in SPLITS:
        raw = (out / f"{split}.json").read_text(encoding="utf-8")
        assert raw.startswith('[{"tags": [') and "\\u" not in raw  # one line, default separators, UTF-8 as is
        assert raw == json.dumps(data[split], ensure_ascii=False)
        for pl in data[split]:
            assert list(pl) == PLAYLIST_KEYS
            assert all(isinstance(t, str) and t for t in pl["tags"])
            assert _is_int(pl["id"]) and isinstance(pl["plylst_title"], str) and pl["plylst_title"]
            assert all(_is_int(s) for s in pl["songs"]) and _is_int(pl["like_cnt"]) and pl["like_cnt"] >= 0
            assert UPDT.match(pl["updt_date"])
            day = dt.datetime.strptime(pl["updt_date"], "%Y-%m-%d %H:%M:%S.000")
            assert dt.datetime(2005, 1, 1) <= day <= dt.datetime(2020, 4, 17)
    for pl in data["train"]:  # train is whole: 1-11 tags, 1-40 songs at this scale, no song twice
        assert 1 <= len(pl["tags"]) <= 11 and len(set(pl["tags"])) == len(pl["tags"])
        assert 1 <= len(pl["songs"]) <= sizes.length_max and len(set(pl["songs"])) == len(pl["songs"])
    songs = data["song_meta"]
    assert len(songs) == sizes.songs and [s["id"] for s in songs] == list(range(sizes.songs))
    for s in songs:
        assert list(s) == SONG_KEYS
        assert re.fullmatch(r"\d{8}", s["issue_date"])
        assert isinstance(s["song_name"], str) and s["song_name"] and isinstance(s["album_name"], str)
        assert _is_int(s["album_id"]) and all(_is_int(a) for a in s["artist_id_basket"])
        assert len(s["artist_id_basket"]) == len(s["artist_name_basket"]) >= 1
        assert all(isinstance(n, str) and n for n in s["artist_name_basket"])
        assert all(isinstance(g, str) for g in s["song_gn_gnr_basket"] + s["song_gn_dtl_gnr_basket"])
    genres = data["genre_gn_all"]
    majors = [c for c in genres if c.endswith("00")]
    assert len(majors) == 30 and majors[0] == "GN0100" and majors[-1] == "GN3000"
    assert 240 <= len(genres) <= 260 and all(re.fullmatch(r"GN\d{4}", c) for c in genres)
    assert all(genres[f"{c[:4]}01"] == "세부장르전체" for c in majors)
    assert genres["GN0100"] == "발라드" and genres["GN0900"] == "POP" and genres["GN1500"] == "OST"
    assert (out / "genre_gn_all.json").read_text(encoding="utf-8") == json.dumps(genres, ensure_ascii=False)


def test_ids_songs_and_genres_are_consistent(clean):
    _out, _written, data = clean
    ids = [pl["id"] for s in SPLITS for pl in data[s]]
    assert len(ids) == len(set(ids))
    slots = round(melon.SCALES["tiny"].playlists * melon.REAL_ID_SLOTS / melon.REAL_PLAYLISTS)
    assert all(0 <= i < slots for i in ids)
    known = {s["id"] for s in data["song_meta"]}
    assert all(song in known for s in SPLITS for pl in data[s] for song in pl["songs"])
    genres = data["genre_gn_all"]
    for s in data["song_meta"]:
        assert 1 <= len(s["song_gn_gnr_basket"]) <= 2 and 1 <= len(s["song_gn_dtl_gnr_basket"]) <= 3
        assert all(g in genres and g.endswith("00") for g in s["song_gn_gnr_basket"])
        assert all(g in genres and not g.endswith("00") for g in s["song_gn_dtl_gnr_basket"])
        assert {g[:4] for g in s["song_gn_dtl_gnr_basket"]} <= {g[:4] for g in s["song_gn_gnr_basket"]}
    question = data["val"] + data["test"]  # a few question playlists have their songs or their tags masked
    assert any(pl["songs"] == [] for pl in question) and any(pl["tags"] == [] for pl in question)
    assert sum(pl["songs"] == [] or pl["tags"] == [] for pl in question) <= 0.15 * len(question)
    tags = Counter(t for pl in data["train"] for t in pl["tags"])
    assert 2.5 <= sum(tags.values()) / len(data["train"]) <= 6


def test_ground_truth_keys_match_the_genie_demo_site(clean):
    _out, _written, data = clean
    gt = data["ground_truth"]
    assert gt["generator"] == "melon" and gt["generator_version"] == melon.GENERATOR_VERSION
    assert (gt["seed"], gt["scale"]) == (7, "tiny")
    assert set(gt["songs"]) == {str(s["id"]) for s in data["song_meta"]}
    counts = gt["counts"]
    assert counts["songs"] == len(data["song_meta"])
    assert counts["playlists"] == {s: len(data[s]) for s in SPLITS}
    assert counts["rows"] == {s: sum(len(pl["songs"]) for pl in data[s]) for s in SPLITS}
    genie = generate(7, "tiny").song_table()
    shared = gt["shared_with_genie"]
    assert shared and set(shared.values()) == set(melon.SHARED_CLASSES)
    assert all(gt["songs"][sid] in genie for sid in shared)  # the Genie ground truth's very keys
    by_class = Counter(shared.values())
    assert by_class == Counter(counts["shared_by_class"]) and all(n >= melon.MIN_PER_CLASS for n in by_class.values())
    assert 0.15 <= len({gt["songs"][s] for s in shared}) / len(genie) <= 0.4
    # Melon-only songs never take a Genie key, and a key is one true song: one artist basket and one title form
    melon_only = {k for sid, k in gt["songs"].items() if sid not in shared}
    assert not melon_only & set(genie) - {gt["songs"][sid] for sid in gt["negatives"]}
    negatives = gt["negatives"]
    assert Counter(v["class"] for v in negatives.values()) == Counter(counts["negatives"])
    assert set(counts["negatives"]) == set(melon.NEGATIVE_CLASSES)
    songs = data["song_meta"]
    for sid, neg in negatives.items():
        twin = neg["of"]
        assert str(twin) in shared and gt["songs"][sid] != gt["songs"][str(twin)]
        s, t = songs[int(sid)], songs[twin]
        title = genie[gt["songs"][str(twin)]]["title"]  # the twin's base title (Melon may spell it otherwise)
        if neg["class"] == "neg_cover":
            assert s["song_name"] == title and s["artist_name_basket"] != t["artist_name_basket"]
        else:
            suffix = " (Live)" if neg["class"] == "neg_live" else " (Inst.)"
            assert s["song_name"] == title + suffix and s["artist_name_basket"] == t["artist_name_basket"]
        if neg["class"] == "neg_inst":
            assert s["album_id"] == t["album_id"]  # the instrumental sits on the song's album
    re_releases = gt["re_releases"]
    assert len(re_releases) == counts["re_releases"] >= melon.MIN_PER_CLASS
    assert any(sid in shared for sid in re_releases)
    for sid, orig in re_releases.items():
        s, o = songs[int(sid)], songs[orig]
        assert gt["songs"][sid] == gt["songs"][str(orig)]
        assert (s["song_name"], s["artist_name_basket"]) == (o["song_name"], o["artist_name_basket"])
        assert s["album_id"] != o["album_id"]
    # every planted song is in some playlist
    in_playlists = {song for split in SPLITS for pl in data[split] for song in pl["songs"]}
    assert {int(s) for s in (*shared, *negatives, *re_releases)} <= in_playlists


def test_the_build_merges_each_shared_spelling_and_keeps_the_negatives_apart(clean):
    """What the catalogue build (spark_jobs) makes of Genie's rows and Melon's songs together: the same song
    key exactly when the ground truth says one song (a basket is read joined with ", ")."""
    from spark_jobs import normalise, song_identity

    _out, _written, data = clean
    gt = data["ground_truth"]
    cat = generate(7, "tiny")
    rows, truth = [], []
    for pl in cat.playlists.values():
        for row in pl.rows:
            rows.append({"artist_name": row.artist, "song_title": row.title, "song_id": row.song_id,
                         "album_id": row.album_id, "album_title": row.album_name})
            truth.append(row.canonical_key)
    n_genie = len(rows)
    for s in data["song_meta"]:
        rows.append({"artist_name": ", ".join(s["artist_name_basket"]), "song_title": s["song_name"],
                     "song_id": f"melon:{s['id']}", "album_id": f"melon:{s['album_id']}",
                     "album_title": s["album_name"]})
        truth.append(gt["songs"][str(s["id"])])
    # the Melon spelling of each shared song keys like Genie's canonical spelling, by the plain rules
    aliases = normalise.learn_aliases((r["artist_name"], normalise.title_key(r["song_title"]), 1) for r in rows)
    pool = cat.pool
    genie_key = {pool.canonical_key(row.song): normalise.song_key(pool.artists[pool.artist[row.song]].name,
                                                                   pool.display_title(row.song), aliases)
                 for pl in cat.playlists.values() for row in pl.rows}
    songs = data["song_meta"]
    for sid, cls in gt["shared_with_genie"].items():
        s = songs[int(sid)]
        got = normalise.song_key(", ".join(s["artist_name_basket"]), s["song_name"], aliases)
        assert got == genie_key[gt["songs"][sid]], (cls, s["song_name"], s["artist_name_basket"])
    # the whole identity: Melon's songs merge no two true songs (the Genie rows alone may: the reference has
    # a few songs twice), and keep no Melon spelling away from its Genie song
    keys = song_identity.identify_rows(rows)
    truths_of, genie_truths_of = defaultdict(set), defaultdict(set)
    for i, (key, true) in enumerate(zip(keys, truth)):
        truths_of[key].add(true)
        if i < n_genie:
            genie_truths_of[key].add(true)
    assert [t for key, t in truths_of.items() if len(t) > max(1, len(genie_truths_of[key]))] == []
    genie_keys, melon_keys = defaultdict(set), defaultdict(set)
    for i, (key, true) in enumerate(zip(keys, truth)):
        (genie_keys if i < n_genie else melon_keys)[true].add(key)
    assert all(len(k) == 1 for k in melon_keys.values())
    assert [t for t, k in melon_keys.items() if t in genie_keys and not k & genie_keys[t]] == []


def test_faults_are_planted_as_listed(clean, faulty):
    data = faulty
    faults = data["ground_truth"]["faults"]
    assert set(faults) == set(melon.FAULT_CLASSES) and all(f["count"] >= 1 for f in faults.values())
    assert clean[2]["ground_truth"]["faults"] == {}
    train, val = data["train"], data["val"]
    playlists = train + val + data["test"]
    assert sum("id" not in pl for pl in playlists) == faults["playlist_without_id"]["count"]
    assert sum("songs" not in pl for pl in playlists) == faults["playlist_songs_missing"]["count"]
    known = {s["id"] for s in data["song_meta"] if "id" in s}
    unknown = {s for pl in playlists for s in pl.get("songs", []) if s not in known}
    assert set(faults["unknown_song_ids"]["song_ids"]) <= unknown
    without_id = set(faults["song_without_id"]["ids"])
    assert sum("id" not in s for s in data["song_meta"]) == len(without_id) and not without_id & known
    assert unknown - set(faults["unknown_song_ids"]["song_ids"]) <= without_id  # rows of the songs without id
    bad_genre = {s["id"] for s in data["song_meta"] if melon.UNKNOWN_GENRE in s["song_gn_gnr_basket"]}
    assert bad_genre == set(faults["unknown_genre_codes"]["ids"])
    assert melon.UNKNOWN_GENRE not in data["genre_gn_all"]
    train_ids = Counter(pl["id"] for pl in train if "id" in pl)
    val_ids = Counter(pl["id"] for pl in val if "id" in pl)
    assert set(faults["duplicate_playlist_ids"]["ids"]) == set(train_ids) & set(val_ids)
    dates = Counter(pl["updt_date"] for pl in playlists)
    assert set(melon.ABSURD_DATES) <= set(dates)
    assert sum(dates[d] for d in melon.ABSURD_DATES) == faults["absurd_updt_date"]["count"]
    # every other record is whole
    assert sum(list(s) != SONG_KEYS for s in data["song_meta"]) == len(without_id)
    assert sum(list(pl) != PLAYLIST_KEYS for pl in playlists) == (faults["playlist_without_id"]["count"]
                                                                 + faults["playlist_songs_missing"]["count"])
    assert len(data["song_meta"]) == len(clean[2]["song_meta"])
