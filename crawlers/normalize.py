"""Turn text as shown on Genie pages into typed values.

Best effort and never raising: a value that cannot be read stays as it was,
so that schema validation (crawlers.pipelines) rejects the item with a reason
instead of this module guessing.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import urljoin

from crawlers import genie_selectors as sel
from schemas.bronze import GENIE
from schemas.taxonomy import split_genres

SOURCE = GENIE  # bronze.SOURCE of every row the crawl writes

_SPACES = re.compile(r"\s+")


def clean_text(value: Any) -> Any:
    """Strip and collapse whitespace; empty text becomes None."""
    if value is None:
        return None
    if not isinstance(value, str):
        return value
    text = _SPACES.sub(" ", value).strip()
    return text or None


def shown_number(value: Any) -> Any:
    """'16곡' -> 16, '53,820' -> 53820; None stays None; unreadable text is returned as is."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value
    text = clean_text(value)
    if text is None:
        return None
    match = sel.SHOWN_NUMBER.search(text)
    if not match:
        return text
    return int(match.group(0).replace(",", ""))


def clean_tag(value: Any) -> Any:
    text = clean_text(value)
    if isinstance(text, str):
        text = text.lstrip(sel.TAG_PREFIX).strip() or None
    return text


def clean_tags(values: Iterable[Any] | None) -> list[Any]:
    """Tags without '#', page order, empties dropped (an empty anchor is not a tag)."""
    tags = []
    for value in values or ():
        tag = clean_tag(value)
        if tag is not None:
            tags.append(tag)
    return tags


def absolute_url(url: Any, base_url: str) -> Any:
    """Resolve '//host/x' and '/x' against the page URL."""
    text = clean_text(url)
    if not isinstance(text, str):
        return text
    if text.startswith("//"):  # the common case on Genie (protocol-relative images): skip urljoin
        return base_url.split(":", 1)[0] + ":" + text
    return urljoin(base_url, text)


def content_hash(title: Any, tags: Iterable[Any], song_ids: Iterable[Any]) -> str:
    """sha1 over what makes a playlist change: title, tags and the song list."""
    payload = json.dumps([title, list(tags), list(song_ids)], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha1(payload.encode("utf-8")).hexdigest()


def same_listing_entry(known: dict[str, Any], song_count: Any, tags: Iterable[Any]) -> bool:
    """Does a listing entry show the song count and tags recorded for a known playlist?"""
    return shown_number(song_count) == known.get("song_count") and sorted(clean_tags(tags)) == sorted(
        known.get("tags") or []
    )


def normalize_page(playlist: dict[str, Any], songs: list[dict[str, Any]], run_key: str) -> None:
    """Type one parsed detail page in place (bronze.playlists / bronze.playlist_songs columns)."""
    base = playlist["source_url"]
    playlist["run_key"] = run_key
    playlist["source"] = SOURCE
    for column in ("title", "subtitle", "maker_name", "maker_id"):
        playlist[column] = clean_text(playlist.get(column))
    for column in ("song_count", "view_count", "like_count"):
        playlist[column] = shown_number(playlist.get(column))
    playlist["tags"] = clean_tags(playlist.get("tags"))
    playlist["cover_url"] = absolute_url(playlist.get("cover_url"), base)
    for song in songs:
        song["run_key"] = run_key
        song["source"] = SOURCE
        song["plm_seq"] = playlist["plm_seq"]
        song["position"] = shown_number(song.get("position"))
        for column in ("song_id", "song_title", "artist_id", "artist_name", "album_id", "album_title"):
            song[column] = clean_text(song.get(column))
        song["album_art_url"] = absolute_url(song.get("album_art_url"), base)
    playlist["content_hash"] = content_hash(
        playlist["title"], playlist["tags"], [s.get("song_id") or s.get("song_title") for s in songs]
    )


def normalize_song_info(song: dict[str, Any], run_key: str) -> None:
    """Type one parsed song page in place (bronze.songs_info): clean text, genres as a set."""
    song["run_key"] = run_key
    song["source"] = SOURCE
    for column in ("song_id", "title", "artist_name", "artist_id", "album_title", "album_id", "genre_text"):
        song[column] = clean_text(song.get(column))
    song["genres"] = split_genres(song["genre_text"])
