"""importers.melon: the Kakao Arena Melon dataset's own files into the real bronze Delta tables."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyarrow.compute as pc
import pytest

from core.runs import RunPartition
from importers.melon import MelonImportError, import_melon
from schemas import bronze
from tests.integration import bronze_rows
from warehouse import delta

R1, R2, R3 = (RunPartition.parse(k) for k in ("20261201T000000Z", "20261202T000000Z", "20261203T000000Z"))
GENRES = {"GN0100": "발라드", "GN0101": "세부장르전체", "GN0900": "POP", "GN0901": "세부장르전체"}


def _song(song_id, name="노래", artists=("아이유",), genres=("GN0100",), details=("GN0101",), issue="20170324"):
    return {"song_gn_dtl_gnr_basket": list(details), "issue_date": issue, "album_name": "앨범", "album_id": 10 + song_id,
            "artist_id_basket": [500 + song_id], "song_name": name, "song_gn_gnr_basket": list(genres),
            "artist_name_basket": list(artists), "id": song_id}


def _playlist(pid, songs, tags=("드라이브",), updt="2019-05-01 12:00:00.000", title="여행"):
    return {"tags": list(tags), "id": pid, "plylst_title": title, "songs": list(songs), "like_cnt": 3, "updt_date": updt}


def _write(folder: Path, **files) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        path = folder / f"{name}.json"
        path.write_text(content if isinstance(content, str) else json.dumps(content, ensure_ascii=False), "utf-8")
    return folder


def _melon_rows(table, run_key: str | None = None) -> list[dict]:
    data = delta.read_or_empty(table)
    keep = pc.equal(data["source"], "melon")
    if run_key:
        keep = pc.and_(keep, pc.equal(data["run_key"], run_key))
    return sorted(data.filter(keep).to_pylist(), key=lambda r: tuple(str(r.get(k)) for k in table.key))


def _books(imported) -> None:
    s = imported.stats
    assert s["playlists_read"] == s["playlists_loaded"] + s["playlists_unchanged"] + s["playlists_quarantined"]
    assert s["songs_read"] == s["songs_loaded"] + s["songs_unchanged"] + s["songs_quarantined"]


@pytest.fixture(scope="module")
def tiny_dataset(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("melon") / "tiny"
    subprocess.run([sys.executable, "-m", "demo_site", "melon", "--scale", "tiny", str(out)], check=True,
                   capture_output=True, timeout=120)
    return out


def test_the_generated_dataset_lands_in_bronze_with_balanced_books_and_reimports_nothing(home, tiny_dataset):
    first = import_melon(tiny_dataset, R1)
    _books(first)
    s = first.stats
    assert s["status"] == "finished" and s["files_read"] == 5 and s["files_failed"] == 0
    playlists = _melon_rows(bronze.PLAYLISTS)
    rows = _melon_rows(bronze.PLAYLIST_SONGS)
    songs = _melon_rows(bronze.SONGS_INFO)
    assert len(playlists) == s["playlists_loaded"] > 50 and len(rows) == s["playlist_songs_loaded"]
    assert len(songs) == s["songs_loaded"] == s["songs_read"]
    # A playlist row shows the song as song_meta spells it; ids are Melon's own.
    meta = {m["id"]: m for m in json.loads((tiny_dataset / "song_meta.json").read_text("utf-8"))}
    for row in rows[:200]:
        shown = meta[int(row["song_id"])]
        assert row["song_title"] == " ".join(shown["song_name"].split())
        assert row["artist_name"] == ", ".join(" ".join(a.split()) for a in shown["artist_name_basket"])
    genres = json.loads((tiny_dataset / "genre_gn_all.json").read_text("utf-8"))
    some = next(m for m in meta.values() if m["song_gn_gnr_basket"])
    page = next(r for r in songs if r["song_id"] == str(some["id"]))
    assert page["genres"][0] == genres[some["song_gn_gnr_basket"][0]] and page["source_url"].startswith("song_meta")
    by_id = {p["plm_seq"]: p for p in playlists}
    train = json.loads((tiny_dataset / "train.json").read_text("utf-8"))
    sample = next(p for p in train if p["id"] in by_id)
    assert by_id[sample["id"]]["title"] == " ".join(sample["plylst_title"].split())
    assert by_id[sample["id"]]["cover_status"] == "missing" and by_id[sample["id"]]["updated_at"] is not None

    # The same run again: the very same rows. A new run of the same files: nothing loaded, all unchanged.
    again = import_melon(tiny_dataset, R1)
    assert _melon_rows(bronze.PLAYLIST_SONGS) == rows and _melon_rows(bronze.SONGS_INFO) == songs
    assert again.stats["playlists_loaded"] == s["playlists_loaded"]
    later = import_melon(tiny_dataset, R2)
    _books(later)
    assert later.stats["playlists_loaded"] == 0 and later.stats["songs_loaded"] == 0
    assert later.stats["playlists_unchanged"] == s["playlists_loaded"]
    assert later.stats["songs_unchanged"] == s["songs_loaded"]
    assert _melon_rows(bronze.PLAYLISTS, R2.run_key) == []
    runs = _melon_rows(bronze.IMPORT_RUNS)
    assert [r["run_key"] for r in runs] == [R1.run_key, R2.run_key]


def test_a_changed_file_loads_only_what_changed(home, tmp_path):
    songs = [_song(i, name=f"노래 {i}") for i in range(6)]
    folder = _write(tmp_path / "d", song_meta=songs, genre_gn_all=GENRES,
                    train=[_playlist(1, [0, 1]), _playlist(2, [2, 3]), _playlist(3, [4, 5])])
    import_melon(folder, R1)
    _write(folder, train=[_playlist(1, [0, 1]), _playlist(2, [2, 3], tags=("비",)), _playlist(3, [4, 5]),
                          _playlist(4, [5])],
           song_meta=[*songs[:5], _song(5, name="노래 5 (Remastered)")])
    changed = import_melon(folder, R2)
    assert changed.stats["playlists_loaded"] == 2 and changed.stats["playlists_unchanged"] == 2
    assert changed.stats["songs_loaded"] == 1 and changed.stats["songs_unchanged"] == 5
    assert sorted(p["plm_seq"] for p in _melon_rows(bronze.PLAYLISTS, R2.run_key)) == [2, 4]
    assert [r["title"] for r in _melon_rows(bronze.SONGS_INFO, R2.run_key)] == ["노래 5 (Remastered)"]
    # The new playlist's row shows the song as the newest song record spells it.
    assert [r["song_title"] for r in _melon_rows(bronze.PLAYLIST_SONGS, R2.run_key) if r["plm_seq"] == 4] == [
        "노래 5 (Remastered)"]


def test_every_fault_is_counted_and_quarantined_with_its_reason_and_the_rest_loaded(home, tmp_path):
    songs = [_song(0), _song(1, genres=("GN0100", "GN9999")), _song(2, issue="00000000"), _song(3, issue="20171332"),
             {k: v for k, v in _song(4).items() if k != "id"}, _song(1, name="또 1번")]
    train = [
        _playlist(1, [0, 1, 2, 3]),                    # fine
        {k: v for k, v in _playlist(2, [0]).items() if k != "id"},  # no id
        {k: v for k, v in _playlist(3, [0]).items() if k != "songs"},  # no songs
        _playlist(4, []),                               # empty songs
        _playlist(5, [0, 777, 778]),                    # two song ids absent from song_meta: loaded without them
        _playlist(6, [777]),                            # only absent song ids
        _playlist(7, [0], updt="0000-00-00 00:00:00.000"),
        _playlist(8, [0], updt="2999-01-01 00:00:00.000"),
        _playlist(9, [0], updt="not a date"),
        "not an object",
    ]
    val = [_playlist(1, [1]), _playlist(10, [1])]       # 1 is a duplicate of train's
    truncated = json.dumps([_playlist(11, [2]), _playlist(12, [3])], ensure_ascii=False)[:-40]
    folder = _write(tmp_path / "bad", song_meta=songs, genre_gn_all=GENRES, train=train, val=val, test=truncated)
    imported = import_melon(folder, R1)
    _books(imported)
    s = imported.stats
    assert s["status"] == "partial" and "test.json: truncated or not JSON after 1 records" in s["stop_reason"]
    assert (s["playlists_read"], s["playlists_loaded"], s["playlists_quarantined"]) == (13, 4, 9)
    assert (s["songs_read"], s["songs_loaded"], s["songs_quarantined"]) == (6, 4, 2)
    assert (s["song_refs_dropped"], s["genre_codes_dropped"], s["release_dates_dropped"]) == (3, 1, 2)
    assert sorted(p["plm_seq"] for p in _melon_rows(bronze.PLAYLISTS)) == [1, 5, 10, 11]
    assert [(r["plm_seq"], r["position"]) for r in _melon_rows(bronze.PLAYLIST_SONGS) if r["plm_seq"] == 5] == [(5, 1)]
    quarantined = {(q["file"], q["record_id"] or f"#{q['record']}", q["kind"]): q
                   for q in _melon_rows(bronze.IMPORT_QUARANTINE)}
    reasons = {k: q["reason"] for k, q in quarantined.items()}
    assert reasons[("train.json", "#1", "playlist")] == "playlist without an id"
    assert reasons[("train.json", "#9", "playlist")] == "a playlist record is an object, not str"
    assert reasons[("train.json", "3", "playlist")] == "playlist without songs"
    assert reasons[("train.json", "4", "playlist")] == "playlist without songs"
    assert reasons[("train.json", "5", "song_ref")] == "2 song id(s) not in song_meta.json: 777, 778"
    assert reasons[("train.json", "6", "playlist")] == "none of its 1 song ids is in song_meta.json"
    for pid in ("7", "8", "9"):
        assert "is no date" in reasons[("train.json", pid, "playlist")]
    assert reasons[("val.json", "1", "playlist")] == "duplicate playlist id 1 (first in train.json#0)"
    assert reasons[("song_meta.json", "1", "genre_code")] == "1 genre code(s) not in genre_gn_all.json: GN9999"
    assert reasons[("song_meta.json", "2", "release_date")] == "issue_date '00000000' is no date"
    assert reasons[("song_meta.json", "3", "release_date")] == "issue_date '20171332' is no date"
    assert reasons[("song_meta.json", "#4", "song")] == "song record without an id"
    assert reasons[("song_meta.json", "1", "song")] == "duplicate song id 1 (first at record 1)"
    assert quarantined[("train.json", "5", "song_ref")]["dropped"] == 2
    assert json.loads(quarantined[("train.json", "8", "playlist")]["raw"])["id"] == 8
    info = {r["song_id"]: r for r in _melon_rows(bronze.SONGS_INFO)}
    assert info["1"]["genres"] == ["발라드"] and info["2"]["release_date"] is None
    assert info["0"]["release_date"] == "2017-03-24"


def test_a_file_that_is_no_json_and_a_missing_playlist_file_are_books_not_crashes(home, tmp_path):
    folder = _write(tmp_path / "d", song_meta=[_song(0)], genre_gn_all=GENRES, train=[_playlist(1, [0])],
                    val="<html>not json</html>")
    imported = import_melon(folder, R1)
    assert imported.stats["files_failed"] == 2 and imported.stats["playlists_loaded"] == 1
    reasons = {q["file"]: q["reason"] for q in _melon_rows(bronze.IMPORT_QUARANTINE) if q["kind"] == "file"}
    assert reasons["val.json"].startswith("truncated or not JSON before any record: not a JSON array")
    assert reasons["test.json"] == "missing"


def test_a_missing_folder_or_required_file_fails_in_one_line_before_writing(home, tmp_path):
    with pytest.raises(MelonImportError, match="no such folder"):
        import_melon(tmp_path / "nowhere", R1)
    folder = _write(tmp_path / "d", genre_gn_all=GENRES, train=[_playlist(1, [0])])
    with pytest.raises(MelonImportError, match=r"song_meta.json missing"):
        import_melon(folder, R1)
    assert not delta.exists(bronze.PLAYLISTS) and not delta.exists(bronze.IMPORT_RUNS)


def test_the_crawl_and_the_import_of_one_run_keep_each_others_rows(home, tmp_path):
    from datetime import UTC, datetime

    folder = _write(tmp_path / "d", song_meta=[_song(0)], genre_gn_all=GENRES, train=[_playlist(1, [0])])
    crawl_run = R1.run_key
    when = datetime(2026, 12, 1, tzinfo=UTC)
    bronze_rows.write_run(crawl_run, [bronze_rows.playlist(crawl_run, 1, "비 오는 날", ["비"], when)],
                          [bronze_rows.song(crawl_run, 1, 1, "IU", "밤편지", "100")])
    import_melon(folder, R1)
    # The crawl of the same run is re-done (a task retry): its own rows are replaced, the import's stay.
    bronze_rows.write_run(crawl_run, [bronze_rows.playlist(crawl_run, 1, "비 오는 날", ["비", "우산"], when)],
                          [bronze_rows.song(crawl_run, 1, 1, "IU", "밤편지", "100")])
    playlists = delta.read(bronze.PLAYLISTS).to_pylist()
    assert sorted((p["source"], p["plm_seq"]) for p in playlists) == [("genie", 1), ("melon", 1)]
    assert next(p for p in playlists if p["source"] == "genie")["tags"] == ["비", "우산"]
    import_melon(folder, R1)  # and the other way round
    assert sorted(p["source"] for p in delta.read(bronze.PLAYLISTS).to_pylist()) == ["genie", "melon"]
