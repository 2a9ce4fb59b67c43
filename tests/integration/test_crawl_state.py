"""crawlers.state: the previous crawls' state built from real bronze Delta tables."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pyarrow as pa
import pytest

from crawlers.state import build_state, read_state, site_of, write_state
from schemas import bronze
from warehouse import delta

R1, R2 = "20260101T000000Z", "20260201T000000Z"


def _playlist(run: str, plm_seq: int, tags: list[str], songs: int, when: datetime) -> dict:
    return {
        "run_key": run, "source": "genie", "plm_seq": plm_seq, "title": f"p{plm_seq}", "subtitle": None, "maker_name": None,
        "maker_id": None, "song_count": songs, "view_count": None, "like_count": None, "tags": tags,
        "cover_url": None, "cover_sha1": None, "cover_status": "missing", "content_hash": f"{run}-{plm_seq}",
        "source_url": f"http://x/?plmSeq={plm_seq}", "fetched_at": when,
    }


def test_state_keeps_the_latest_fetch_of_each_playlist(home):
    runs = {
        R1: [_playlist(R1, 1, ["밤"], 10, datetime(2026, 1, 1, tzinfo=UTC)),
             _playlist(R1, 5, ["봄", "산책"], 7, datetime(2026, 1, 1, tzinfo=UTC))],
        R2: [_playlist(R2, 5, ["봄"], 8, datetime(2026, 2, 1, tzinfo=UTC)),
             _playlist(R2, 9, [], 3, datetime(2026, 2, 1, tzinfo=UTC))],
    }
    for run, rows in runs.items():
        delta.replace_partition(bronze.PLAYLISTS, pa.Table.from_pylist(rows, schema=bronze.PLAYLISTS.arrow_schema()),
                                {"run_key": run})
    state = build_state()
    assert state["max_plm_seq"] == 9
    assert state["playlists"]["5"] == {"song_count": 8, "tags": ["봄"], "content_hash": f"{R2}-5"}
    assert state["playlists"]["1"]["content_hash"] == f"{R1}-1" and state["playlists"]["9"]["tags"] == []

    written = write_state(state, home / "state" / "s.json")
    again = read_state(written)
    assert again["max_plm_seq"] == 9 and set(again["playlists"]) == {1, 5, 9}


def test_no_table_gives_the_empty_state(home):
    state = build_state()
    assert state["max_plm_seq"] is None and state["playlists"] == {}


def test_unreadable_state_file_is_a_one_line_error(home):
    bad = home / "bad.json"
    bad.parent.mkdir(parents=True, exist_ok=True)
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(ValueError, match="cannot read crawl state"):
        read_state(bad)
    bad.write_text(json.dumps({"playlists": []}), encoding="utf-8")
    with pytest.raises(ValueError, match="expected an object"):
        read_state(bad)


def _write(table, rows: list[dict], run: str) -> None:
    delta.replace_partition(table, pa.Table.from_pylist(rows, schema=table.arrow_schema()), {"run_key": run})


def _failure(run: str, plm_seq: int, outcome: str, kind: str = "detail") -> dict:
    return {"run_key": run, "url": f"http://x/playlist/detailView?plmSeq={plm_seq}", "plm_seq": plm_seq,
            "kind": kind, "outcome": outcome, "http_status": 500 if outcome == "error" else None, "reason": outcome,
            "retries": 0, "attempt": 1, "failed_at": datetime(2026, 1, 1, tzinfo=UTC)}


def _quarantined(run: str, plm_seq: int | None, kind: str = "detail") -> dict:
    return {"run_key": run, "url": f"http://x/q?plmSeq={plm_seq}&kind={kind}", "plm_seq": plm_seq, "kind": kind,
            "http_status": 200, "reason": "missing title", "attempt": 1, "raw_path": None,
            "fetched_at": datetime(2026, 1, 1, tzinfo=UTC)}


def _run(run: str) -> dict:
    when = datetime(2026, 1, 1, tzinfo=UTC)
    return {**{c.name: 0 for c in bronze.CRAWL_RUNS.columns}, "run_key": run, "base_url": "http://x", "site": None, "mode": "full",
            "status": "finished", "stop_reason": None, "started_at": when, "finished_at": when, "duration_s": 1.0}


def test_the_frontier_comes_from_every_earlier_run(home):
    # R1: 1 parsed, 2 not found, 3 failed, 4 quarantined, 7..9 never fetched (stopped early), a listing failed.
    _write(bronze.PLAYLISTS, [_playlist(R1, 1, [], 1, datetime(2026, 1, 1, tzinfo=UTC))], R1)
    _write(bronze.CRAWL_FAILURES, [_failure(R1, 2, "not_found"), _failure(R1, 3, "error"),
                                   *[_failure(R1, s, "not_fetched") for s in (7, 8, 9)],
                                   {**_failure(R1, 0, "error", kind="listing"), "plm_seq": None}], R1)
    _write(bronze.CRAWL_QUARANTINE, [_quarantined(R1, 4), _quarantined(R1, None, kind="listing")], R1)
    _write(bronze.CRAWL_RUNS, [_run(R1)], R1)
    state = build_state(max_attempts=5)
    assert set(state["frontier"]) == {"3", "4", "7", "8", "9"}
    assert state["frontier"]["3"] == {"attempts": 1, "status": "due", "last_result": "error",
                                      "last_tried_run": R1, "runs_since_try": 0}
    assert state["frontier"]["7"]["attempts"] == 0 and state["frontier"]["4"]["last_result"] == "quarantined"
    # The walk of the next run starts above every id R1 has an outcome for, not above the highest parsed.
    assert state["max_plm_seq"] == 9
    # R2 parses 3 and 7, and fails 4 again: 4 now waits a run (back-off), with max_attempts 2 it is parked.
    _write(bronze.PLAYLISTS, [_playlist(R2, s, [], 1, datetime(2026, 2, 1, tzinfo=UTC)) for s in (3, 7)], R2)
    _write(bronze.CRAWL_QUARANTINE, [_quarantined(R2, 4)], R2)
    _write(bronze.CRAWL_RUNS, [_run(R2)], R2)
    state = build_state(max_attempts=5)
    assert set(state["frontier"]) == {"4", "8", "9"} and state["frontier"]["4"]["status"] == "deferred"
    assert build_state(max_attempts=2)["frontier"]["4"]["status"] == "exhausted"
    # Re-doing R2 leaves its own rows out: the state is what R1 left.
    assert set(build_state(exclude_run_key=R2, max_attempts=5)["frontier"]) == {"3", "4", "7", "8", "9"}
    again = read_state(write_state(state, home / "state" / "s.json"))
    assert set(again["frontier"]) == {4, 8, 9} and again["max_attempts"] == 5


def _song(run: str, plm_seq: int, song_id: str, source: str = "genie") -> dict:
    return {"run_key": run, "source": source, "plm_seq": plm_seq, "position": 1, "song_id": song_id,
            "song_title": "t", "artist_id": None, "artist_name": "a", "album_id": None, "album_title": None,
            "album_art_url": None}


def test_a_sites_state_comes_from_its_own_crawls_only(home):
    # R1 crawled the demo site (playlists 1..40, song 900 pending, 41 failed); R2 crawled a small other
    # site (playlist 3); R2 also imported Melon playlist 500 under the same run key.
    when = datetime(2026, 1, 1, tzinfo=UTC)
    _write(bronze.PLAYLISTS, [_playlist(R1, s, [], 1, when) for s in range(1, 41)], R1)
    _write(bronze.PLAYLIST_SONGS, [_song(R1, 1, "900")], R1)
    _write(bronze.CRAWL_FAILURES, [_failure(R1, 41, "error")], R1)
    _write(bronze.CRAWL_RUNS, [{**_run(R1), "base_url": "http://127.0.0.1:8800/"}], R1)
    _write(bronze.PLAYLISTS, [_playlist(R2, 3, [], 1, when), {**_playlist(R2, 500, [], 1, when), "source": "melon"}],
           R2)
    _write(bronze.PLAYLIST_SONGS, [_song(R2, 3, "31"), _song(R2, 500, "77", source="melon")], R2)
    _write(bronze.CRAWL_RUNS, [{**_run(R2), "base_url": "http://127.0.0.1:9900"}], R2)

    small = build_state(site=site_of("http://127.0.0.1:9900/"), max_attempts=5)
    assert set(small["playlists"]) == {"3"} and small["max_plm_seq"] == 3 and small["frontier"] == {}
    assert small["songs"]["pending"] == {"31": 1}  # not the demo site's song 900, not Melon's 77
    demo = build_state(site="http://127.0.0.1:8800", max_attempts=5)
    assert set(demo["playlists"]) == {str(s) for s in range(1, 41)} and set(demo["frontier"]) == {"41"}
    assert demo["songs"]["pending"] == {"900": 1} and demo["max_plm_seq"] == 41
    assert build_state(site="http://elsewhere", max_attempts=5)["max_plm_seq"] is None  # a new site: full crawl


def test_the_embedded_demo_site_is_one_site_whatever_its_port(home):
    when = datetime(2026, 1, 1, tzinfo=UTC)
    demo = "demo-site tiny seed 7"
    _write(bronze.PLAYLISTS, [_playlist(R1, 1, [], 1, when)], R1)
    _write(bronze.CRAWL_RUNS, [{**_run(R1), "base_url": "http://127.0.0.1:41001", "site": demo}], R1)
    _write(bronze.PLAYLISTS, [_playlist(R2, 2, [], 1, when)], R2)
    _write(bronze.CRAWL_RUNS, [{**_run(R2), "base_url": "http://127.0.0.1:41002", "site": demo}], R2)
    assert set(build_state(site=demo)["playlists"]) == {"1", "2"}
    assert build_state(site=site_of("http://127.0.0.1:41002"))["playlists"] == {}  # that URL is not the site
