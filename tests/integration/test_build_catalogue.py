"""The Spark catalogue build on real Delta tables: latest state, dedup, tags, pinned inputs, idempotency."""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from pathlib import Path

import pytest

from core import settings
from quality.checks import gate
from schemas import bronze, gold, ops, silver
from spark_jobs.build_catalogue import OUTPUTS, build, reports
from tests.integration.bronze_rows import playlist, song, song_info, two_runs, write_run
from warehouse import builds, delta

pytestmark = pytest.mark.slow

RUN_KEY = "20261115T000000Z"


def _read(table, version=None):
    return delta.read(table, version=version).to_pylist()


def test_build_keeps_latest_playlist_state_and_merges_song_spellings(home, spark):
    two_runs()
    result = build(RUN_KEY, spark=spark)
    # It returns the versions it committed and leaves no staging behind.
    assert result == {t.qualified_name: delta.version(t) for t in OUTPUTS}
    assert set(result) == {"silver.playlists", "silver.playlist_songs", *(t.qualified_name for t in gold.TABLES)}
    assert not (settings.load().staging_dir / RUN_KEY).exists()

    playlists = {r["plm_seq"]: r for r in _read(silver.PLAYLISTS)}
    assert playlists[2]["crawl_run_key"] == "r2"  # the newer crawl wins
    assert playlists[2]["tags"] == ["드라이브", "신나는"]
    assert playlists[2]["song_count"] == 3
    assert playlists[1]["song_count"] == 2

    songs = {r["song_key"]: r for r in _read(gold.SONGS)}
    # "IU / 밤편지", "ＩＵ / 밤 편지 (Feat. Someone)" and "iu / 밤편지" are one song
    assert set(songs) == {"iu|밤편지", "ziont|양화대교", "outkast|heyya", "jasonmraz|imyours"}
    night = songs["iu|밤편지"]
    assert night["playlist_count"] == 2
    assert night["song_ids"] == ["100", "200"]
    assert set(night["tags"]) == {"비오는날", "흐린날", "드라이브", "신나는"}
    assert (night["genres"], night["genre_source"]) == (["가요", "발라드"], "song_page")  # bronze.songs_info
    assert songs["outkast|heyya"]["genre_source"] == "none"
    assert delta.count_rows(gold.SONGS, result["gold.songs"]) == 4
    assert {r["run_key"] for r in _read(gold.SONGS, result["gold.songs"])} == {RUN_KEY}
    lineage = [r for r in _read(gold.SONG_LINEAGE) if r["song_key"] == "iu|밤편지"]
    assert sorted((r["plm_seq"], r["position"], r["crawl_run_key"]) for r in lineage) == [(1, 1, "r1"), (2, 1, "r2")]

    tags = {r["tag"]: r for r in _read(gold.TAGS)}
    assert tags["드라이브"]["playlist_count"] == 1
    assert tags["드라이브"]["song_count"] == 3

    # Rebuilding the same run replaces what it wrote: the same tables, nothing doubled.
    build(RUN_KEY, spark=spark)
    assert sorted(_read(gold.SONGS), key=lambda r: r["song_key"]) == sorted(songs.values(), key=lambda r: r["song_key"])


def test_build_merges_real_world_spellings_with_their_reasons_and_keeps_versions_apart(home, spark):
    when = datetime(2026, 11, 1, tzinfo=timezone.utc)
    write_run("r1", [playlist("r1", 1, "봄", ["봄"], when)], [
        song("r1", 1, 1, "임영웅", "모든 날 모든 순간 (Every day Every Moment)", "300"),
        song("r1", 1, 2, "임영웅", "모든 날 모든 순간", "301"),
        song("r1", 1, 3, "Coldplay X BTS", "My Universe", "302"),
        song("r1", 1, 4, "BTS & Coldplay", "My Universe", "303"),
        song("r1", 1, 5, "Post Malone", "Sunflower (Spider-Man: Into the Spider-Verse)", "304", album_id="9"),
        song("r1", 1, 6, "Post Malone", "Sunflower", "305", album_id="9"),
        song("r1", 1, 7, "Post Malone", "Sunflower (Live)", "306", album_id="9"),
    ])
    build(RUN_KEY, spark=spark)
    songs = {r["song_key"] for r in _read(gold.SONGS)}
    assert songs == {"임영웅|모든날모든순간", "bts&coldplay|myuniverse", "postmalone|sunflower",
                     "postmalone|sunflowerlive"}
    why = {r["position"]: (r["song_key"], r["merge_reason"], r["merge_evidence"]) for r in _read(gold.SONG_LINEAGE)}
    assert why[1] == ("임영웅|모든날모든순간", "gloss", "gloss: Every day Every Moment")
    assert why[2] == ("임영웅|모든날모든순간", None, None)
    assert why[4][1:] == ("collaboration", "collaboration: BTS & Coldplay")
    assert why[5] == ("postmalone|sunflower", "work_title", "work_title: album 9")
    assert why[6] == ("postmalone|sunflower", None, None)  # the song's own spelling
    assert why[7] == ("postmalone|sunflowerlive", None, None)
    assert {r["position"]: r["gloss"] for r in _read(silver.PLAYLIST_SONGS)}[1] == "Every day Every Moment"


def test_build_merges_tags_embeds_each_sentence_once_and_draws_the_heatmap(home, spark):
    import numpy as np

    two_runs()
    result = build(RUN_KEY, spark=spark)
    tag_map = {r["tag"]: r for r in _read(gold.TAG_MAP, result["gold.tag_map"])}
    assert set(tag_map) == {r["tag"] for r in _read(gold.TAGS)}  # every tag has its label
    assert not any(r["merged"] for r in tag_map.values())  # two playlists are no evidence for a merge
    assert "fewer than 10 playlists with both" in tag_map["흐린날"]["evidence"][0]
    pairs = {(r["tag_a"], r["tag_b"]): r for r in _read(gold.TAG_COOCCURRENCE, result["gold.tag_cooccurrence"])}
    assert (pairs[("흐린날", "비오는날")]["p_b_given_a"], pairs[("드라이브", "신나는")]["playlists_both"]) == (1.0, 1)
    assert pairs[("드라이브", "신나는")]["tagged_playlists"] == 2

    songs = {r["song_key"]: r for r in _read(gold.SONGS, result["gold.songs"])}
    night = songs["iu|밤편지"]  # tags 드라이브, 비오는날, 신나는, 흐린날, once each
    assert night["sentence_en"] == "drive, exciting, rainy day, cloudy day"
    assert night["sentence_ko"] == "드라이브, 신나는, 비오는날, 흐린날"
    sentences = {r["sentence_id"]: r for r in _read(gold.SENTENCE_EMBEDDINGS, result["gold.sentence_embeddings"])}
    assert {r["sentence_en"] for r in sentences.values()} == {s["sentence_en"] for s in songs.values()}
    vectors = np.array([r["vector"] for r in sentences.values()], dtype=np.float32)
    assert vectors.shape == (len(sentences), 384)
    assert np.linalg.norm(vectors, axis=1) == pytest.approx(np.ones(len(sentences)), abs=1e-4)
    by_song = {r["song_key"]: r for r in _read(gold.SONG_EMBEDDINGS, result["gold.song_embeddings"])}
    assert set(by_song) == set(songs) and all(r["has_vector"] and r["reason"] is None for r in by_song.values())
    assert sentences[by_song["iu|밤편지"]["sentence_id"]]["sentence_ko"] == night["sentence_ko"]
    assert all(r.passed for r in gate(RUN_KEY, result))

    heatmap = reports(RUN_KEY)["tag_cooccurrence_heatmap"]
    assert heatmap == settings.load().reports_dir / RUN_KEY / "tag_cooccurrence.png"
    assert heatmap.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # A rebuild's sentences all come from the cache: the reuse test below checks it.


def test_build_reads_exactly_the_bronze_versions_it_is_given(home, spark):
    two_runs()  # bronze version 0 holds run r1, version 1 adds r2
    pinned = {bronze.PLAYLISTS.qualified_name: 0, bronze.PLAYLIST_SONGS.qualified_name: 0,
              bronze.SONGS_INFO.qualified_name: 0}
    result = build(RUN_KEY, pinned, spark=spark)
    playlists = {r["plm_seq"]: r for r in _read(silver.PLAYLISTS, result["silver.playlists"])}
    assert playlists[2]["crawl_run_key"] == "r1"  # r2 came after the pinned version
    assert playlists[2]["song_count"] == 2
    assert "jasonmraz|imyours" not in {r["song_key"] for r in _read(gold.SONGS, result["gold.songs"])}


def test_a_malformed_run_key_fails_before_spark_starts(home):
    from core.errors import ScenetuneError

    with pytest.raises(ScenetuneError, match="YYYYMMDDTHHMMSSZ"):
        build("b1")


def test_a_build_with_nothing_new_reuses_the_earlier_versions_and_the_gate_accepts_them(home, spark):
    two_runs()
    first = build(RUN_KEY, spark=spark)
    # A later refresh whose crawl parsed nothing new: an empty bronze partition adds no file.
    write_run("r3", [], [])
    later = "20261122T000000Z"
    again = build(later, spark=spark)
    assert again == first
    assert delta.version(gold.SONGS) == first["gold.songs"]  # no new commit: no Spark job ran
    recorded = builds.of_run(later)
    assert {r["built_by"] for r in recorded.values()} == {RUN_KEY}
    assert {r["delta_version"] for r in recorded.values()} == set(first.values())
    assert all(r.passed for r in gate(later, again))  # rows carry the key of the run that wrote them

    # Forced, or with new bronze files, the build runs again.
    cache_version = delta.version(ops.EMBEDDING_CACHE)
    forced = build(later, spark=spark, force=True)
    assert forced["gold.songs"] == first["gold.songs"] + 1
    # Every sentence was in the cache: nothing was encoded or added, and the vectors are the cached ones.
    assert delta.version(ops.EMBEDDING_CACHE) == cache_version
    vectors = {r["sentence_id"]: r["vector"] for r in _read(gold.SENTENCE_EMBEDDINGS, first["gold.sentence_embeddings"])}
    assert {r["sentence_id"]: r["vector"] for r in _read(gold.SENTENCE_EMBEDDINGS, forced["gold.sentence_embeddings"])} == vectors
    assert builds.of_run(later)["gold.songs"]["built_by"] == later
    write_run("r4", [playlist("r4", 9, "새벽", ["새벽"], datetime(2026, 11, 20, tzinfo=timezone.utc))], [])
    rebuilt = build("20261123T000000Z", spark=spark)
    assert rebuilt["silver.playlists"] > forced["silver.playlists"]
    assert 9 in {r["plm_seq"] for r in _read(silver.PLAYLISTS, rebuilt["silver.playlists"])}


def test_the_fingerprint_follows_code_and_input_files(home):
    two_runs()
    inputs = {bronze.PLAYLISTS: 1, bronze.PLAYLIST_SONGS: 1, bronze.SONGS_INFO: 1}
    base = builds.fingerprint(["code"], inputs)
    assert builds.fingerprint(["code"], inputs) == base
    assert builds.fingerprint(["other code"], inputs) != base
    assert builds.fingerprint(["code"], {bronze.PLAYLISTS: 0, bronze.PLAYLIST_SONGS: 1, bronze.SONGS_INFO: 1}) != base
    # a later crawl that only fetched song pages (genres) changes the inputs: the build runs again
    write_run("r3", [], [], [song_info("r3", "101", ["가요", "랩/힙합"], datetime(2026, 11, 9, tzinfo=timezone.utc))])
    assert builds.fingerprint(["code"], {**inputs, bronze.SONGS_INFO: 2}) != base


def test_the_build_code_includes_normalisation_and_the_taxonomy_data():
    from schemas import glossary, taxonomy
    from spark_jobs import build_catalogue, embeddings, normalise, sentences, song_identity, tag_merge

    texts = build_catalogue.code_texts()
    for module in (build_catalogue, normalise, song_identity, taxonomy, tag_merge, sentences, embeddings, glossary):
        assert any(t.endswith(Path(module.__file__).read_text(encoding="utf-8")) for t in texts), module
    for data in (taxonomy.PATH, glossary.PATH):
        assert any(t.endswith(data.read_text(encoding="utf-8")) for t in texts), data
    assert f"sentence model {embeddings.model_id()}" in texts


def test_the_tag_merge_thresholds_are_part_of_the_build_fingerprint(monkeypatch):
    from spark_jobs import build_catalogue

    monkeypatch.delenv("SCENETUNE_TAG_MERGE_MIN_P", raising=False)
    before = build_catalogue.code_texts()
    monkeypatch.setenv("SCENETUNE_TAG_MERGE_MIN_P", "0.5")
    after = build_catalogue.code_texts()
    assert [t for t in after if t not in before] == [
        "tag merges P(label|tag) >= 0.5, lift >= 5, >= 10 playlists with both; tags of the six categories only;"
        " the label is on more playlists than the tag"]


@pytest.mark.parametrize("versions, says", [
    ({"bronze.playlist": 0}, "tables the build does not read: ['bronze.playlist']"),
    ({"bronze.playlists": 7}, "bronze.playlists has no version 7 (latest: 1)"),
])
def test_bronze_versions_that_do_not_exist_fail_in_one_line(home, versions, says):
    from core.errors import ConfigurationError

    two_runs()
    with pytest.raises(ConfigurationError, match=re.escape(says)):
        build(RUN_KEY, versions)


def test_build_makes_one_catalogue_of_genie_and_melon_with_both_sources_ids(home, spark, tmp_path):
    from core.runs import RunPartition
    from importers.melon import import_melon

    # Genie crawled playlist 1 (no song page for 밤편지); Melon's playlist 1 is another playlist with the
    # same id, listing 밤편지 under its own spelling and id, a collaboration as a basket, and a cover by
    # another artist that must stay apart.
    t1 = datetime(2026, 11, 1, tzinfo=timezone.utc)
    write_run("r1", [playlist("r1", 1, "비 오는 날", ["비오는날"], t1)],
              [song("r1", 1, 1, "IU", "밤편지", "100"), song("r1", 1, 2, "Coldplay & BTS", "My Universe", "101")],
              [song_info("r1", "101", ["POP"], t1)])
    meta = [
        {"song_gn_dtl_gnr_basket": ["GN0101"], "issue_date": "20170324", "album_name": "Palette", "album_id": 9,
         "artist_id_basket": [3], "song_name": "밤 편지", "song_gn_gnr_basket": ["GN0100"],
         "artist_name_basket": ["아이유 (IU)"], "id": 100},
        {"song_gn_dtl_gnr_basket": [], "issue_date": "20210924", "album_name": "My Universe", "album_id": 8,
         "artist_id_basket": [4, 5], "song_name": "My Universe", "song_gn_gnr_basket": ["GN0900"],
         "artist_name_basket": ["BTS", "Coldplay"], "id": 7},
        {"song_gn_dtl_gnr_basket": [], "issue_date": "20200101", "album_name": "Covers", "album_id": 6,
         "artist_id_basket": [6], "song_name": "밤편지", "song_gn_gnr_basket": ["GN0100"],
         "artist_name_basket": ["Someone Else"], "id": 5},
    ]
    folder = tmp_path / "melon"
    folder.mkdir()
    for name, content in {"song_meta": meta, "genre_gn_all": {"GN0100": "발라드", "GN0101": "세부장르전체", "GN0900": "POP"},
                          "train": [{"tags": ["기분전환", "새벽감성"], "id": 1, "plylst_title": "밤", "songs": [100, 7, 5],
                                     "like_cnt": 2, "updt_date": "2019-01-01 00:00:00.000"}]}.items():
        (folder / f"{name}.json").write_text(json.dumps(content, ensure_ascii=False), "utf-8")
    import_melon(folder, RunPartition.parse("20261110T000000Z"))

    built = build(RUN_KEY, spark=spark)
    playlists = {(r["source"], r["plm_seq"]): r for r in _read(silver.PLAYLISTS)}
    assert set(playlists) == {("genie", 1), ("melon", 1)}  # the same id in two sources: two playlists
    assert playlists[("melon", 1)]["song_count"] == 3 and playlists[("melon", 1)]["cover_verdict"] is None
    songs = {r["song_key"]: r for r in _read(gold.SONGS)}
    night = songs["iu|밤편지"]
    assert (night["song_ids"], night["melon_song_ids"], night["sources"]) == (["100"], ["100"], ["genie", "melon"])
    assert night["playlist_count"] == 2 and (night["genres"], night["genre_source"]) == (["발라드"], "melon")
    assert {"비오는날", "기분전환", "새벽감성"} <= set(night["tags"]) and night["tags_emotion"] == ["기분전환"]
    assert "새벽감성" in night["tags_other"]  # a free-form Melon tag of no category: kept
    universe = next(s for s in songs.values() if s["title"] == "My Universe")
    assert universe["melon_song_ids"] == ["7"] and universe["genre_source"] == "song_page"  # Genie's page first
    cover = next(s for s in songs.values() if s["artist"] == "Someone Else")
    assert cover["song_key"] != "iu|밤편지" and cover["sources"] == ["melon"]
    lineage = sorted((r["source"], r["song_id"]) for r in _read(gold.SONG_LINEAGE) if r["song_key"] == "iu|밤편지")
    assert lineage == [("genie", "100"), ("melon", "100")]  # both sources' ids; the same digits, not one id
    coverage = json.loads(reports(RUN_KEY)["glossary_coverage"].read_text("utf-8"))
    assert coverage["occurrences"] == 3 and coverage["top_untranslated"] == ["새벽감성"]  # 비오는날, 기분전환: English
    assert coverage["untranslated_share"] == round(1 / 3, 4)
    gate(RUN_KEY, built)  # the gate passes both sources' rows
