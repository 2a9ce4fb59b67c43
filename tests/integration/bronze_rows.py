"""Tiny bronze rows with the spelling variants Genie really shows, for build tests."""

from __future__ import annotations

from datetime import datetime, timezone

import pyarrow as pa

from schemas import bronze
from warehouse import delta


def playlist(run: str, plm_seq: int, title: str, tags: list[str], when: datetime) -> dict:
    return dict(
        run_key=run, source="genie", plm_seq=plm_seq, title=title, subtitle=None, maker_name="DJ 지니",
        maker_id="DJ0001", song_count=None, view_count=10, like_count=1, tags=tags,
        cover_url=None, cover_sha1=None, cover_status="missing", content_hash=f"h{plm_seq}{run}",
        source_url=f"http://x/playlist/detailView?plmSeq={plm_seq}", fetched_at=when,
    )


def song(run: str, plm_seq: int, position: int, artist: str, title: str, song_id: str,
         album_id: str | None = None) -> dict:
    return dict(
        run_key=run, source="genie", plm_seq=plm_seq, position=position, song_id=song_id, song_title=title,
        artist_id=None, artist_name=artist, album_id=album_id, album_title=None, album_art_url=None,
    )


def song_info(run: str, song_id: str, genres: list[str], when: datetime) -> dict:
    return dict(
        run_key=run, source="genie", song_id=song_id, title=None, artist_name=None, artist_id=None, album_title=None,
        album_id=None, genre_text=" / ".join(genres) or None, genres=genres,
        source_url=f"http://x/detail/songInfo?xgnm={song_id}", fetched_at=when,
    )


def write_run(run: str, playlists: list[dict], songs: list[dict], infos: list[dict] = ()) -> None:
    for table, rows in ((bronze.PLAYLISTS, playlists), (bronze.PLAYLIST_SONGS, songs), (bronze.SONGS_INFO, infos)):
        data = pa.Table.from_pylist(list(rows), schema=table.arrow_schema())
        delta.replace_partition(table, data, {"run_key": run, "source": "genie"})  # as crawlers.bronze does


def two_runs() -> None:
    """Run r1 crawls playlists 1 and 2; run r2 re-crawls playlist 2 with other tags and songs."""
    t1 = datetime(2026, 11, 1, tzinfo=timezone.utc)
    t2 = datetime(2026, 11, 8, tzinfo=timezone.utc)
    write_run(
        "r1",
        [playlist("r1", 1, "비 오는 날", ["비오는날", "흐린날"], t1), playlist("r1", 2, "드라이브", ["드라이브"], t1)],
        [
            song("r1", 1, 1, "IU", "밤편지", "100"),
            song("r1", 1, 2, "Zion.T", "양화대교", "101"),
            song("r1", 2, 1, "ＩＵ", "밤 편지 (Feat. Someone)", "200"),
            song("r1", 2, 2, "OutKast", "Hey Ya!", "201"),
        ],
        [song_info("r1", "100", ["가요", "발라드"], t1)],
    )
    write_run(
        "r2",
        [playlist("r2", 2, "드라이브", ["드라이브", "신나는", "드라이브"], t2)],
        [
            song("r2", 2, 1, "iu", "밤편지", "200"),
            song("r2", 2, 2, "OutKast", "Hey Ya!", "201"),
            song("r2", 2, 3, "Jason Mraz", "I'm Yours", "202"),
        ],
    )
