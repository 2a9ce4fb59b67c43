"""crawlers.state: the previous crawl's state built from a real bronze.playlists Delta table."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pyarrow as pa
import pytest

from crawlers.state import build_state, read_state, write_state
from schemas import bronze
from scenetune import settings
from warehouse import delta


def _playlist(run: str, plm_seq: int, tags: list[str], songs: int, when: datetime) -> dict:
    return dict(
        crawl_run_id=run, plm_seq=plm_seq, title=f"p{plm_seq}", subtitle=None, maker_name=None, maker_id=None,
        song_count=songs, view_count=None, like_count=None, tags=tags, cover_url=None, cover_sha1=None,
        cover_status="missing", content_hash=f"{run}-{plm_seq}", source_url=f"http://x/?plmSeq={plm_seq}",
        fetched_at=when,
    )


def test_state_keeps_the_latest_fetch_of_each_playlist(home):
    path = settings.load().delta_path("bronze", "playlists")
    runs = {
        "r1": [_playlist("r1", 1, ["밤"], 10, datetime(2026, 1, 1, tzinfo=timezone.utc)),
               _playlist("r1", 5, ["봄", "산책"], 7, datetime(2026, 1, 1, tzinfo=timezone.utc))],
        "r2": [_playlist("r2", 5, ["봄"], 8, datetime(2026, 2, 1, tzinfo=timezone.utc)),
               _playlist("r2", 9, [], 3, datetime(2026, 2, 1, tzinfo=timezone.utc))],
    }
    for run, rows in runs.items():
        delta.replace_partition(bronze.PLAYLISTS, pa.Table.from_pylist(rows, schema=bronze.PLAYLISTS.arrow_schema()),
                                path, {"crawl_run_id": run})
    state = build_state(path)
    assert state["max_plm_seq"] == 9
    assert state["playlists"]["5"] == {"song_count": 8, "tags": ["봄"], "content_hash": "r2-5"}
    assert state["playlists"]["1"]["content_hash"] == "r1-1" and state["playlists"]["9"]["tags"] == []

    written = write_state(state, home / "state" / "s.json")
    again = read_state(written)
    assert again["max_plm_seq"] == 9 and set(again["playlists"]) == {1, 5, 9}


def test_no_table_gives_the_empty_state(home):
    state = build_state(settings.load().delta_path("bronze", "playlists"))
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
