"""crawlers.normalize and the Retry-After reading of crawlers.middlewares, on literal values."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest

from crawlers import normalize
from crawlers.middlewares import parse_retry_after


@pytest.mark.parametrize(
    ("shown", "expected"),
    [("16곡", 16), ("53,820", 53820), (" 1,204 ", 1204), ("0곡", 0), (None, None), ("", None), (7, 7)],
)
def test_shown_numbers_are_read(shown, expected):
    assert normalize.shown_number(shown) == expected


def test_unreadable_number_is_left_for_validation_to_reject():
    assert normalize.shown_number("많음") == "많음"


def test_tags_lose_hash_and_whitespace_and_keep_page_order():
    assert normalize.clean_tags([" #드라이브", "#밤 ", "#", "  ", "시티팝"]) == ["드라이브", "밤", "시티팝"]


def test_text_is_stripped_and_collapsed():
    assert normalize.clean_text("  드라이브할 때 듣는\n   시티팝 ") == "드라이브할 때 듣는 시티팝"
    assert normalize.clean_text(" \n ") is None


def test_urls_become_absolute():
    page = "https://www.genie.co.kr/playlist/detailView?plmSeq=1"
    assert normalize.absolute_url("//image.genie.co.kr/a.JPG", page) == "https://image.genie.co.kr/a.JPG"
    assert normalize.absolute_url("/img/a.png", page) == "https://www.genie.co.kr/img/a.png"
    assert normalize.absolute_url(None, page) is None


def test_content_hash_changes_with_title_tags_or_songs_only():
    base = normalize.content_hash("t", ["a", "b"], ["1", "2"])
    assert base == normalize.content_hash("t", ["a", "b"], ["1", "2"])
    assert base != normalize.content_hash("t2", ["a", "b"], ["1", "2"])
    assert base != normalize.content_hash("t", ["a"], ["1", "2"])
    assert base != normalize.content_hash("t", ["a", "b"], ["2", "1"])


def test_listing_entry_compared_with_known_playlist():
    known = {"song_count": 16, "tags": ["드라이브", "밤"], "content_hash": "x"}
    assert normalize.same_listing_entry(known, "16곡", ["#밤", "#드라이브"])
    assert not normalize.same_listing_entry(known, "17곡", ["#밤", "#드라이브"])
    assert not normalize.same_listing_entry(known, "16곡", ["#밤"])


def test_retry_after_in_seconds_and_as_http_date():
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    assert parse_retry_after(b"3") == 3.0
    assert parse_retry_after(format_datetime(now + timedelta(seconds=5), usegmt=True), now=now) == 5.0
    assert parse_retry_after(format_datetime(now - timedelta(seconds=5), usegmt=True), now=now) == 0.0
    assert parse_retry_after(None) is None
    assert parse_retry_after(b"soon") is None
