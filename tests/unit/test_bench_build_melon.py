"""The build_melon bench's parts: the 1 % change writer, the build-log stage parser, the memory sampler."""

from __future__ import annotations

import copy
import json
import os
import sys

import pytest

from bench import bench_build_melon as bench


def _playlists(n: int) -> list[dict]:
    return [{"tags": [f"t{i % 7}"], "id": i, "plylst_title": f"p{i}", "songs": [i, i + 1, i + 2] if i % 10 else [],
             "like_cnt": 1, "updt_date": "2019-01-01 00:00:00.000"} for i in range(n)]


def test_change_playlists_changes_exactly_count_with_songs_and_known_values():
    records = _playlists(200)
    before = copy.deepcopy(records)
    changed = bench.change_playlists(records, 20)
    assert len(changed) == len(set(changed)) == 20
    known_songs = {s for r in before for s in r["songs"]}
    known_tags = {t for r in before for t in r["tags"]}
    for old, new in zip(before, records):
        if old["id"] in changed:
            assert old["songs"], "only playlists with songs are changed"
            assert (old["songs"], old["tags"]) != (new["songs"], new["tags"])
            assert set(new["songs"]) <= known_songs and set(new["tags"]) <= known_tags
            assert len(set(new["songs"])) == len(new["songs"]) and len(new["songs"]) == len(old["songs"])
            assert list(new) == list(old)  # the keys in the dataset's order
        else:
            assert new == old
    assert sum(new["songs"] != old["songs"] for old, new in zip(before, records)) == 10  # half songs, half tags
    again = _playlists(200)
    assert bench.change_playlists(again, 20) == changed and again == records  # deterministic


def test_change_playlists_refuses_more_than_it_can_change():
    with pytest.raises(ValueError):
        bench.change_playlists(_playlists(20), 19)


def test_write_changed_dataset_copies_and_rewrites_train_only(tmp_path):
    source = tmp_path / "melon"
    source.mkdir()
    train, val = _playlists(150), _playlists(50)
    for name, data in (("train.json", train), ("val.json", val), ("test.json", []), ("song_meta.json", [])):
        (source / name).write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    figures = bench.write_changed_dataset(source, tmp_path / "out", share=0.01)
    assert figures == {"playlists": 200, "changed": 2, "share": 0.01}
    assert (tmp_path / "out" / "val.json").read_bytes() == (source / "val.json").read_bytes()
    assert json.loads((source / "train.json").read_text()) == train  # the source is never written
    rewritten = json.loads((tmp_path / "out" / "train.json").read_text())
    assert sum(a != b for a, b in zip(rewritten, train)) == 2


LOG = """\
2026-12-07T10:00:00.000 INFO bench.build_melon bench: build started
2026-12-07T10:00:40.000 INFO spark_jobs.build_catalogue song identity: 900 spellings -> 800 songs; evidence merges {} (10.0 s)
2026-12-07T10:01:00.000 INFO spark_jobs.build_catalogue tag co-occurrence: 50 tags, 300 ordered pairs over 90 tagged playlists; 3 tags merged (5.0 s)
2026-12-07T10:01:30.000 INFO spark_jobs.build_catalogue sentences: 400 encoded now (0 failed; 8.0 s), the rest from the cache (m); 12.0 s in all
2026-12-07T10:01:31.500 INFO spark_jobs.build_catalogue tag co-occurrence heatmap: /x.png (1.5 s)
2026-12-07T10:01:35.500 INFO spark_jobs.build_catalogue silver.playlists: Delta version 0 (100 rows)
2026-12-07T10:01:45.500 INFO spark_jobs.build_catalogue silver.playlist_songs: Delta version 0 (1000 rows)
"""


def test_parse_build_log_splits_the_stages_and_says_where_it_stopped():
    parsed = bench.parse_build_log(LOG.splitlines())
    assert parsed["stages"] == {"read_titles_spellings": 30.0, "song_identity": 10.0, "silver_rows": 15.0,
                                "tag_cooccurrence": 5.0, "gold_songs": 18.0, "embeddings": 12.0, "encode": 8.0,
                                "heatmap": 1.5, "write_silver.playlists": 4.0, "write_silver.playlist_songs": 10.0}
    assert parsed["tables"]["silver.playlist_songs"] == {"version": 0, "rows": 1000}
    assert parsed["sentences_encoded"] == 400 and parsed["tags_merged"] == 3
    assert parsed["reached"] == "writing gold.songs" and parsed["logged_s"] == 105.5 and "total_s" not in parsed
    finished = bench.parse_build_log([*LOG.splitlines(), "2026-12-07T10:01:50.000 INFO bench.build_melon "
                                      + bench.FINISHED])
    assert finished["reached"] == "finished" and finished["total_s"] == 110.0 and finished["stages"]["finish"] == 4.5


def test_parse_build_log_of_a_build_that_never_started():
    assert bench.parse_build_log(["garbage"])["reached"] == "not started"


def test_run_measured_reports_the_trees_peak_memory_by_role(tmp_path):
    """A child holding ~300 MB and a grandchild holding ~200 MB: the peak counts both, PSS never exceeds RSS,
    and the peak's breakdown names who held it."""
    hold = "import sys, time; block = bytearray({mb} * 2**20); block[::4096] = b'x' * len(block[::4096]); {then}"
    grandchild = hold.format(mb=200, then="print('held', flush=True); time.sleep(2)")
    child = hold.format(mb=300, then=f"import subprocess; subprocess.run([sys.executable, '-c', {grandchild!r}])")
    ran = bench.run_measured([sys.executable, "-c", child], dict(os.environ), 60, tmp_path, "memory")
    assert ran["returncode"] == 0 and not ran["timed_out"]
    assert ran["peak_rss_mb"] >= 500, ran
    assert 0 < ran["peak_pss_mb"] <= ran["peak_rss_mb"]
    assert sum(ran["rss_at_peak_mb"].values()) == pytest.approx(ran["peak_rss_mb"], abs=2)
    (role, held), = ran["rss_at_peak_mb"].items()  # two python processes, neither a JVM nor a PySpark worker
    assert role.startswith("python") and held >= 500
