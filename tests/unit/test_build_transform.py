"""``transform`` on tiny literal frames: bronze rows in, silver and gold rows out (no Delta, no files)."""

from __future__ import annotations

from datetime import datetime, timezone

from schemas import bronze, gold, silver
from spark_jobs.build_catalogue import transform
from tests.integration.bronze_rows import playlist, song, song_info

RUN_KEY = "20261116T000000Z"
T1 = datetime(2026, 11, 1, tzinfo=timezone.utc)
T2 = datetime(2026, 11, 8, tzinfo=timezone.utc)


def frames(spark, playlists, songs, infos=()):
    return (spark.createDataFrame(playlists, bronze.PLAYLISTS.spark_ddl()),
            spark.createDataFrame(songs, bronze.PLAYLIST_SONGS.spark_ddl()),
            spark.createDataFrame(list(infos), bronze.SONGS_INFO.spark_ddl()))


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


def test_songs_merge_spellings_ids_and_aliases_and_count_their_tags_by_frequency(spark):
    out = transform(*frames(
        spark,
        [playlist("r1", 1, "a", ["밤", "비오는날"], T1), playlist("r1", 2, "b", ["밤"], T1),
         playlist("r1", 3, "c", ["드라이브"], T1)],
        [song("r1", 1, 1, "아이유 (IU)", "밤편지", "1"), song("r1", 2, 1, "ＩＵ", "밤 편지", "9"),
         song("r1", 3, 1, "아이유", "밤편지 (Feat. X)", "1"), song("r1", 3, 2, "IU", "좋은 날", "3"),
         song("r1", 3, 3, "IU", "좋은 날 (Live)", "4")],
    ), RUN_KEY)
    songs = collect(out[gold.SONGS], ["song_key"])
    assert set(songs) == {"iu|밤편지", "iu|좋은날", "iu|좋은날live"}  # a live version stays another song
    night = songs["iu|밤편지"]
    assert night["playlist_count"] == 3 and night["row_count"] == 3 and night["song_ids"] == ["1", "9"]
    assert night["spellings"] == 3 and night["artist_key"] == "iu"
    assert night["tags"][0] == "밤"  # in two of its playlists; the others in one
    assert sorted(night["tags"]) == ["드라이브", "밤", "비오는날"]
    assert (night["tags_time"], night["tags_weather"], night["tags_situation"]) == (["밤"], ["비오는날"], ["드라이브"])
    assert night["tags_other"] == [] and night["no_tags"] is False
    assert {r["run_key"] for r in songs.values()} == {RUN_KEY}
    tags = collect(out[gold.TAGS], ["tag"])
    assert (tags["밤"]["playlist_count"], tags["밤"]["song_count"], tags["밤"]["category"]) == (2, 1, "time")
    assert (tags["드라이브"]["playlist_count"], tags["드라이브"]["song_count"]) == (1, 3)
    aliases = collect(out[gold.ARTIST_ALIASES], ["alias"])
    assert {a: r["artist_key"] for a, r in aliases.items()} == {"iu": "iu", "아이유": "iu", "아이유iu": "iu"}
    assert aliases["아이유"]["used"] and aliases["아이유"]["evidence"] == ["아이유 (IU)"]
    lineage = collect(out[gold.SONG_LINEAGE], ["plm_seq", "position"])
    assert {k for k, r in lineage.items() if r["song_key"] == "iu|밤편지"} == {(1, 1), (2, 1), (3, 1)}
    row = collect(out[silver.PLAYLIST_SONGS], ["plm_seq", "position"])[(3, 1)]
    assert (row["title_base"], row["feat"], row["artist_name"]) == ("밤편지", ["X"], "아이유")


def test_genres_come_from_song_pages_else_from_playlist_genre_tags_and_say_so(spark):
    out = transform(*frames(
        spark,
        [playlist("r1", 1, "a", ["발라드", "밤", "NORDLUX"], T1), playlist("r1", 2, "b", [], T1)],
        [song("r1", 1, 1, "IU", "밤편지", "1"), song("r1", 1, 2, "Crush", "Beautiful", "2"),
         song("r1", 2, 1, "IU", "밤편지", "7"), song("r1", 2, 2, "Zion.T", "양화대교", "5")],
        [song_info("r1", "7", ["가요", "발라드"], T1), song_info("r1", "2", [], T1)],
    ), RUN_KEY)
    songs = collect(out[gold.SONGS], ["song_key"])
    assert (songs["iu|밤편지"]["genres"], songs["iu|밤편지"]["genre_source"]) == (["가요", "발라드"], "song_page")
    # a page that lists no genre, and playlists that do: the playlists' genre tags stand in
    assert (songs["crush|beautiful"]["genres"], songs["crush|beautiful"]["genre_source"]) == (["발라드"], "playlist_tags")
    assert songs["crush|beautiful"]["tags_other"] == ["NORDLUX", "발라드"]  # tags of no category are kept
    untagged = songs["ziont|양화대교"]
    assert (untagged["genres"], untagged["genre_source"], untagged["no_tags"], untagged["tags"]) == (
        [], "none", True, [])  # no tags at all: kept, flagged


def test_a_playlist_without_songs_stays_with_count_zero(spark):
    out = transform(*frames(spark, [playlist("r1", 5, "empty", ["밤"], T1)], []), RUN_KEY)
    assert collect(out[silver.PLAYLISTS], ["plm_seq"])[5]["song_count"] == 0
    assert out[gold.SONGS].count() == 0 and out[gold.ARTIST_ALIASES].count() == 0


def test_co_occurring_tags_merge_into_labels_and_songs_say_their_labels_in_two_languages(spark):
    from spark_jobs.tag_merge import MergeRule

    out = transform(*frames(
        spark,
        [playlist("r1", 1, "a", ["눈오는날", "겨울", "밤"], T1), playlist("r1", 2, "b", ["눈오는날", "겨울"], T1),
         playlist("r1", 3, "c", ["겨울", "드라이브", "발라드"], T1), playlist("r1", 4, "d", ["드라이브"], T1)],
        [song("r1", 1, 1, "IU", "밤편지", "1"), song("r1", 2, 1, "IU", "밤편지", "1"),
         song("r1", 3, 1, "Crush", "Beautiful", "2"), song("r1", 4, 1, "Zion.T", "양화대교", "5")],
    ), RUN_KEY, merge_rule=MergeRule(min_p=0.9, min_lift=1.0, min_playlists=2))
    tag_map = collect(out[gold.TAG_MAP], ["tag"])
    snow = tag_map["눈오는날"]  # on 2 playlists, both also 겨울 (on 3 of 4 tagged playlists)
    assert (snow["label"], snow["category"], snow["tag_category"], snow["p_into_given_tag"]) == (
        "겨울", "season", "weather", 1.0)
    assert snow["lift"] == 4 / 3 and snow["map_version"] == tag_map["밤"]["map_version"]
    assert tag_map["밤"]["label"] == "밤"  # one playlist is below min_playlists
    assert (tag_map["발라드"]["label"], tag_map["발라드"]["category"]) == ("발라드", "other")
    pairs = collect(out[gold.TAG_COOCCURRENCE], ["tag_a", "tag_b"])
    assert (pairs[("겨울", "눈오는날")]["p_b_given_a"], pairs[("겨울", "눈오는날")]["p_a_given_b"]) == (2 / 3, 1.0)
    assert len(pairs) == 2 * 6  # 눈오는날-겨울, 눈오는날-밤, 겨울-밤, 겨울-드라이브, 겨울-발라드, 드라이브-발라드
    songs = collect(out[gold.SONGS], ["song_key"])
    night = songs["iu|밤편지"]  # tags 겨울, 눈오는날 (2 playlists each), 밤: 눈오는날 says 겨울 again
    assert (night["sentence_en"], night["sentence_ko"]) == ("night, winter", "밤, 겨울")
    assert (songs["crush|beautiful"]["sentence_en"], songs["ziont|양화대교"]["sentence_en"]) == ("drive, winter", "drive")
