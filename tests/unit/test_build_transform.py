"""``transform`` on tiny literal frames: bronze rows in, silver and gold rows out (no Delta, no files)."""

from __future__ import annotations

from datetime import datetime, timezone

from schemas import bronze, gold, silver
from spark_jobs.build_catalogue import transform
from tests.integration.bronze_rows import playlist, song

RUN_KEY = "20261116T000000Z"
T1 = datetime(2026, 11, 1, tzinfo=timezone.utc)
T2 = datetime(2026, 11, 8, tzinfo=timezone.utc)


def frames(spark, playlists, songs):
    return (spark.createDataFrame(playlists, bronze.PLAYLISTS.spark_ddl()),
            spark.createDataFrame(songs, bronze.PLAYLIST_SONGS.spark_ddl()))


def collect(df, key):
    return {tuple(r[k] for k in key) if len(key) > 1 else r[key[0]]: r.asDict(recursive=True) for r in df.collect()}


def test_a_recrawled_playlist_takes_its_newest_state_only(spark):
    out = transform(*frames(
        spark,
        [playlist("r1", 7, "비 오는 날", ["비오는날"], T1), playlist("r2", 7, "비 오는 날 (new)", ["비오는날", "밤"], T2)],
        [song("r1", 7, 1, "IU", "밤편지", "1"), song("r1", 7, 2, "Crush", "Beautiful", "2"),
         song("r2", 7, 1, "Crush", "Beautiful", "2")],
    ), RUN_KEY)
    [state] = collect(out[silver.PLAYLISTS], ["plm_seq"]).values()
    assert (state["title"], state["tags"], state["song_count"], state["crawl_run_key"]) == (
        "비 오는 날 (new)", ["비오는날", "밤"], 1, "r2")
    rows = collect(out[silver.PLAYLIST_SONGS], ["plm_seq", "position"])
    assert list(rows) == [(7, 1)] and rows[(7, 1)]["song_key"] == "crush|beautiful"


def test_songs_count_playlists_and_order_tags_by_frequency(spark):
    out = transform(*frames(
        spark,
        [playlist("r1", 1, "a", ["밤", "비오는날"], T1), playlist("r1", 2, "b", ["밤"], T1),
         playlist("r1", 3, "c", ["드라이브"], T1)],
        [song("r1", 1, 1, "IU", "밤편지", "1"), song("r1", 2, 1, "ＩＵ", "밤 편지", "9"),
         song("r1", 3, 1, "IU", "밤편지 (Feat. X)", "1"), song("r1", 3, 2, "IU", "좋은 날", "3")],
    ), RUN_KEY)
    songs = collect(out[gold.SONGS], ["song_key"])
    night = songs["iu|밤편지"]
    assert night["playlist_count"] == 3 and night["song_ids"] == ["1", "9"]
    assert night["tags"][0] == "밤"  # in two of its playlists; the others in one
    assert sorted(night["tags"]) == ["드라이브", "밤", "비오는날"]
    assert {r["run_key"] for r in songs.values()} == {RUN_KEY}
    tags = collect(out[gold.TAGS], ["tag"])
    assert (tags["밤"]["playlist_count"], tags["밤"]["song_count"]) == (2, 1)
    assert (tags["드라이브"]["playlist_count"], tags["드라이브"]["song_count"]) == (1, 2)


def test_a_playlist_without_songs_stays_with_count_zero(spark):
    out = transform(*frames(spark, [playlist("r1", 5, "empty", ["밤"], T1)], []), RUN_KEY)
    assert collect(out[silver.PLAYLISTS], ["plm_seq"])[5]["song_count"] == 0
    assert out[gold.SONGS].count() == 0
