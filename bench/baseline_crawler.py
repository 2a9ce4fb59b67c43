"""The benchmark's baseline: a sequential requests + BeautifulSoup crawler, as the source projects wrote it.

IMGenie walked plmSeq ids upward, one ``requests`` call after another, and parsed
each detail page with BeautifulSoup's pure-Python ``html.parser``. This module does
the same work our spider does per playlist — the detail page (title, tags, song
rows with their ids) and the cover named by ``og:image:secure_url`` — so the two
can be compared page for page. Unlike IMGenie it records pages it could not use
instead of skipping them silently.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin

import requests
from bs4 import BeautifulSoup

# A fixed browser User-Agent, as IMGenie sent.
USER_AGENT = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
              "(KHTML, like Gecko) Chrome/96.0.4664.110 Safari/537.36")
DETAIL_PATH = "/playlist/detailView?plmSeq={plm_seq}"
TIMEOUT_S = 30

# Genie markup (shared/reference/genie_site.md).
CONTAINER = ".playlist-info .info"
TITLE = ".info__title"
TAGS = ".info__data .tags a"
COVER_META = 'meta[property="og:image:secure_url"]'
SONG_ROWS = ".music-list-wrap .list-wrap tbody tr"
SONG_TITLE = "td.info a.title.ellipsis"
SONG_ARTIST = "a.artist.ellipsis"
SONG_ALBUM = "a.albumtitle.ellipsis"
QUOTED_ID = re.compile(r"\('(\d+)'")  # fnViewSongInfo('<id>', ...), fnViewArtist('<id>'), ...


@dataclass
class BaselineCrawl:
    """What one baseline crawl fetched: parsed playlists plus every page it could not use, with a reason."""

    pages: int = 0  # detail pages requested
    playlists: list[dict[str, Any]] = field(default_factory=list)
    problems: list[tuple[int, str]] = field(default_factory=list)  # (plm_seq, reason)
    cover_bytes: int = 0


def _quoted_id(anchor: Any) -> str | None:
    found = QUOTED_ID.search(anchor.get("onclick", "")) if anchor is not None else None
    return found.group(1) if found else None


def parse_detail(html: str) -> dict[str, Any] | None:
    """The playlist on a detail page, or None when the page shows no playlist (deleted / private id)."""
    soup = BeautifulSoup(html, "html.parser")
    info = soup.select_one(CONTAINER)
    if info is None:
        return None
    title = info.select_one(TITLE)
    cover = soup.select_one(COVER_META)
    songs = []
    for row in soup.select(SONG_ROWS):
        song = row.select_one(SONG_TITLE)
        artist = row.select_one(SONG_ARTIST)
        songs.append({
            "title": song.get("title") if song is not None else None,
            "artist": artist.get_text(strip=True) if artist is not None else None,
            "song_id": row.get("songid") or _quoted_id(song),
            "artist_id": _quoted_id(artist),
            "album_id": _quoted_id(row.select_one(SONG_ALBUM)),
        })
    return {
        "title": title.get_text(strip=True) if title is not None else "",
        "tags": [a.get_text(strip=True).lstrip("#") for a in info.select(TAGS)],
        "cover_url": cover.get("content") if cover is not None else None,
        "songs": songs,
    }


def crawl(base_url: str, pages: int, first_plm_seq: int = 1) -> BaselineCrawl:
    """Fetch ``pages`` detail pages from ``first_plm_seq`` upward, one at a time, each with its cover."""
    result = BaselineCrawl()
    session = requests.Session()
    session.headers["User-Agent"] = USER_AGENT
    for plm_seq in range(first_plm_seq, first_plm_seq + pages):
        result.pages += 1
        url = base_url.rstrip("/") + DETAIL_PATH.format(plm_seq=plm_seq)
        try:
            response = session.get(url, timeout=TIMEOUT_S)
            response.raise_for_status()
            playlist = parse_detail(response.text)
            if playlist is None:
                result.problems.append((plm_seq, "no playlist on the page"))
                continue
            playlist["plm_seq"] = plm_seq
            if playlist["cover_url"]:
                cover = session.get(urljoin(url, playlist["cover_url"]), timeout=TIMEOUT_S)
                cover.raise_for_status()
                result.cover_bytes += len(cover.content)
            result.playlists.append(playlist)
        except requests.RequestException as err:
            result.problems.append((plm_seq, f"{type(err).__name__}: {err}"))
    return result
