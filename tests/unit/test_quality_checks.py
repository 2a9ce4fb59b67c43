"""The gate's table checks on literal Arrow tables."""

from __future__ import annotations

import pyarrow as pa

from quality.checks import check_built_by, check_table
from schemas import bronze, gold


def songs(rows: list[dict]) -> pa.Table:
    base = {"title": "밤편지", "artist": "IU", "artist_key": "iu", "song_ids": ["1"], "melon_song_ids": [], "sources": ["genie"], "genres": ["가요", "발라드"],
            "genre_source": "song_page", "playlist_count": 1, "row_count": 1, "spellings": 1, "tags": ["밤"],
            **{f"tags_{c}": [] for c in (*gold.TAG_CATEGORIES, "other")}, "tags_time": ["밤"], "no_tags": False,
            "run_key": "20261116T000000Z"}
    # Nullable fields, so that a bad build (nulls where schemas/ forbids them) can be written down.
    schema = pa.schema([field.with_nullable(True) for field in gold.SONGS.arrow_schema()])
    return pa.Table.from_pylist([{**base, **r} for r in rows], schema=schema)


def test_a_clean_table_passes():
    report = check_table(gold.SONGS, songs([{"song_key": "iu|밤편지"}, {"song_key": "iu|좋은날"}]))
    assert report.passed and report.rows == 2


def test_a_duplicated_key_is_named_with_an_example():
    report = check_table(gold.SONGS, songs([{"song_key": "iu|밤편지"}, {"song_key": "iu|밤편지"}]))
    assert report.failures == ["key (song_key) not unique: 1 duplicated, e.g. {'song_key': 'iu|밤편지', 'count_all': 2}"]


def test_nulls_in_a_not_null_column_are_counted():
    report = check_table(gold.SONGS, songs([{"song_key": "a|b", "title": None}, {"song_key": "c|d", "title": None}]))
    assert report.failures == ["title: 2 null value(s) in a not-null column"]


def test_an_empty_table_has_no_key_failure():
    assert check_table(gold.SONGS, songs([]).slice(0, 0)).passed


def test_silver_and_gold_rows_must_come_from_this_run():
    data = songs([{"song_key": "a|b"}, {"song_key": "c|d", "run_key": "20261109T000000Z"}])
    assert check_built_by(gold.SONGS, data, "20261116T000000Z") == ["rows from other runs ['20261109T000000Z']"]
    assert check_built_by(gold.SONGS, data.slice(0, 1), "20261116T000000Z") == []


def test_bronze_rows_keep_the_run_that_crawled_them():
    runs = pa.table({"run_key": ["20261101T000000Z", "20261108T000000Z"]})
    assert check_built_by(bronze.CRAWL_RUNS, runs, "20261116T000000Z") == []


def test_the_gx_suites_name_each_failed_check_and_quarantine_its_rows(tmp_path):
    """Great Expectations on computed scalar columns: vector length and norm, books, tags, verdicts."""
    from datetime import datetime, timezone

    import numpy as np

    from quality.expectations import suite_for
    from quality.validation import validate
    from schemas import silver

    unit = (np.ones(gold.EMBEDDING_DIMENSIONS) / np.sqrt(gold.EMBEDDING_DIMENSIONS)).astype(np.float32).tolist()
    vectors = pa.Table.from_pylist([
        {"sentence_id": f"s{i}", "sentence_en": "rain", "sentence_ko": "비", "song_count": 1, "model": "m",
         "vector": v, "error": e, "run_key": "20261116T000000Z"}
        for i, (v, e) in enumerate([(unit, None), (unit[:10], None), ([0.5] * gold.EMBEDDING_DIMENSIONS, None),
                                    (None, "the model failed"), (None, None)])
    ], schema=gold.SENTENCE_EMBEDDINGS.arrow_schema())
    runs = pa.table({"run_key": ["20261109T000000Z", "20261116T000000Z"],
                     **{c.name: pa.array([1, 0] if c.name == "requested" else [0, 0], pa.int64())
                        for c in bronze.CRAWL_RUNS.columns if c.type == "int64"}})
    covers = pa.table({"plm_seq": [1, 2], "verdict": ["keep", "maybe"]})
    tagged = songs([{"song_key": "a|b", "tags_time": ["비오는날"], "tags_other": ["밤"]}])
    checks = [
        (suite_for(gold.SENTENCE_EMBEDDINGS, built_by="20261116T000000Z", last_published_rows=20, max_row_drop=0.5),
         3, vectors),
        (suite_for(bronze.CRAWL_RUNS, built_by=None, last_published_rows=None, max_row_drop=0.5), 1, runs),
        (suite_for(silver.COVER_QUALITY, built_by=None, last_published_rows=None, max_row_drop=0.5), 2, covers),
        (suite_for(gold.SONGS, built_by=None, last_published_rows=None, max_row_drop=0.5), 4, tagged),
    ]
    # The suites read only what they name: a projection, never the vectors themselves.
    assert "vector" not in checks[0][0].frame(vectors).columns
    for suite, _version, data in checks[1:3]:
        suite.columns &= set(data.column_names)  # these frames hold only the columns the test is about
        suite.computed = {k: f for k, f in suite.computed.items() if k.endswith("books_gap")}
        suite.expectations = [e for e in suite.expectations
                              if getattr(e, "column", None) in set(data.column_names) | set(suite.computed)]
    verdicts, docs = validate("20261116T000000Z", datetime(2026, 11, 16, tzinfo=timezone.utc), checks, tmp_path / "docs")
    embeddings, books, cover, song = verdicts
    assert [f.split(":")[0] for f in embeddings.failures] == [
        "rows", "vector", "vector", "vector"]
    assert {(q["expectation"], q["row_number"]) for q in embeddings.quarantined} == {
        ("vector: not of length 384", 1), ("vector: not of unit L2 norm", 1), ("vector: not of unit L2 norm", 2),
        ("vector: missing without an error", 4)}
    assert books.failures == ["books_gap: the crawl's books do not balance (requested != parsed + quarantined + "
                              "failed): 1 row(s), e.g. [1]"]
    assert [q["row_key"] for q in books.quarantined] == ['{"run_key": "20261109T000000Z"}']
    assert cover.failures == ["verdict: not one of keep, crop, drop, unreadable: 1 row(s), e.g. ['maybe']"]
    assert [f.split(":")[0] for f in song.failures] == ["tags_time", "tags_other"]
    assert song.failures[1].startswith("tags_other: a tag of the taxonomy recorded as other")
    assert docs.exists() and "gold.sentence_embeddings" in docs.read_text()
