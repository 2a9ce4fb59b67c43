"""Pieces of crawlers.run / settings / accounting that need no crawl: messages, local-site detection."""

from __future__ import annotations

import pytest

from crawlers.accounting import short_reason
from crawlers.run import crawl_command, incomplete_message
from crawlers.settings import base, is_local_site

RUN_KEY = "20261116T000000Z"


@pytest.mark.parametrize(
    ("url", "local"),
    [
        ("http://127.0.0.1:8800", True), ("http://127.3.2.1", True), ("http://[::1]:8800/x", True),
        ("http://localhost:8800", True), ("https://www.genie.co.kr", False), ("http://genie.co.kr", False),
        ("http://10.0.0.5:8800", False), ("http://127.0.0.1.example.com", False), ("not a url", False),
    ],
)
def test_only_loopback_sites_count_as_local(url, local):
    assert is_local_site(url) is local


def test_local_site_settings_drop_politeness_but_production_keeps_it():
    local = base.LOCAL_SITE_SETTINGS
    assert local["AUTOTHROTTLE_ENABLED"] is False and local["DOWNLOAD_TIMEOUT"] < base.DOWNLOAD_TIMEOUT
    assert base.AUTOTHROTTLE_ENABLED is True  # what genie.co.kr gets
    # Ground-truth bursts fail twice before a page is served: a local crawl still retries them.
    assert local["RETRY_TIMES"] >= 2


def test_crawl_command_passes_full_and_state(tmp_path):
    cmd = crawl_command("http://127.0.0.1:1", RUN_KEY, tmp_path, state_path=tmp_path / "s.json", full=True)
    assert "full=1" in cmd and f"state={(tmp_path / 's.json').resolve()}" in cmd and f"run_key={RUN_KEY}" in cmd


def test_short_reason_keeps_the_kind_and_retries():
    assert short_reason("connection refused after 3 retries: Connection was refused by other side: 111") == (
        "connection refused after 3 retries")
    assert short_reason("HTTP 500 after 2 retries") == "HTTP 500 after 2 retries"


def test_an_early_stop_says_what_happened_and_how_to_go_on():
    stats = {"status": "partial", "not_fetched": 8800,
             "stop_reason": "failure_budget: 100 detail pages in a row failed, last: connection refused"}
    message = incomplete_message(stats, "https://www.genie.co.kr", RUN_KEY, None)
    assert message == (
        f"crawl {RUN_KEY} of https://www.genie.co.kr stopped early (failure_budget: 100 detail pages in a row "
        "failed, last: connection refused); 8,800 playlists not fetched will be retried by the next run "
        f"(`scenetune crawl`), or redo this run with `scenetune crawl --run-key {RUN_KEY}` "
        "(add --jobdir DIR to make a run resumable)"
    )
    resumable = incomplete_message(stats, "https://www.genie.co.kr", RUN_KEY, "/tmp/job")
    assert resumable.endswith(f"or resume this run with `scenetune crawl --run-key {RUN_KEY} --jobdir /tmp/job`")
    assert "\n" not in message


def test_a_site_that_is_not_genie_gets_the_recorded_reason():
    stats = {"status": "failed", "not_fetched": 0, "failed": 0,
             "stop_reason": "newest listing http://x/playlist/popular?sortOrd=RDD: HTTP 404"}
    message = incomplete_message(stats, "http://x", RUN_KEY, None)
    assert "HTTP 404" in message and "page(s) failed" not in message and "is it a Genie site?" in message
