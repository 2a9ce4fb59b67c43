"""The gate's table checks on literal Arrow tables."""

from __future__ import annotations

import pyarrow as pa

from quality.checks import check_built_by, check_table
from schemas import bronze, gold


def songs(rows: list[dict]) -> pa.Table:
    base = {"title": "밤편지", "artist": "IU", "song_ids": ["1"], "playlist_count": 1, "tags": ["밤"],
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
