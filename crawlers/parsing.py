"""Read Genie pages into plain dicts (raw text as shown; crawlers.normalize types it).

Pure functions over a parsed page (an lxml element, or a parsel/Scrapy
``Selector`` whose ``.root`` is one) so that saved pages can be tested without
Scrapy. All selectors come from :mod:`crawlers.genie_selectors`, compiled once to
lxml XPath objects (``sel.X``). A page that does not have the shape we expect
raises :class:`PageError` with a one-line reason; the spider turns that into a
quarantined page.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote_plus

import lxml.html

from crawlers import genie_selectors as sel

X = sel.X


class PageError(ValueError):
    """The page cannot be read into an item; ``str(err)`` is the one-line reason."""


class PlaylistNotFound(PageError):
    """The site says the playlist does not exist (deleted, private, or a gap in the ids)."""


class SongNotFound(PageError):
    """The site says the song does not exist (or is not served)."""


def html_root(page: Any):
    """An lxml root from a parsel Selector, a Scrapy response's selector, bytes or text."""
    if isinstance(page, (bytes, str)):
        return lxml.html.fromstring(page)
    return getattr(page, "root", page)


def text_of(element) -> str | None:
    """All text inside an element, pieces joined by one space (titles may hold nested tags)."""
    if element is None:
        return None
    return " ".join(t.strip() for t in element.itertext() if t.strip()) or None


def _first(elements: list):
    return elements[0] if elements else None


def _first_id(onclick: str | None, pattern=sel.ONCLICK_FIRST_ID) -> str | None:
    if not onclick:
        return None
    match = pattern.search(onclick)
    return match.group(1) if match else None


def plm_seq_from_url(url: str) -> int | None:
    match = sel.DETAIL_URL_PLM_SEQ.search(url)
    return int(match.group(1)) if match else None


def check_complete(body: bytes) -> None:
    if not sel.PAGE_END_MARKER.search(body[-256:]):
        raise PageError(f"truncated page: no closing </html> ({len(body)} bytes)")


def parse_detail(page: Any, url: str) -> dict[str, Any]:
    """A playlist detail page -> {'playlist': {...}, 'songs': [{...}, ...]} (raw text)."""
    root = html_root(page)
    info = _first(X.DETAIL_CONTAINER(root))
    if info is None:
        if X.NOT_FOUND_BLOCK(root) or sel.NOT_FOUND_TEXT.search(text_of(root) or ""):
            raise PlaylistNotFound("not found: the site has no such playlist (deleted or private)")
        raise PageError(f"no playlist block ({sel.DETAIL_CONTAINER[-1]})")
    title = text_of(_first(X.DETAIL_TITLE(info)))
    if not title:
        raise PageError(f"missing title ({sel.DETAIL_TITLE})")
    data = _first(X.DETAIL_DATA_BLOCK(info))
    if data is None:
        raise PageError(f"no data block ({sel.DETAIL_DATA_BLOCK})")
    values = X.DETAIL_DATA_VALUES(data)

    def data_value(index: int):
        return values[index] if len(values) > index else None

    maker = data_value(sel.DETAIL_DATA_MAKER_INDEX)
    maker_id = None
    if maker is not None:
        link = _first(X.DETAIL_MAKER_LINK(maker))
        if link is not None:
            ref = unquote_plus(" ".join(filter(None, (link.get(sel.HREF_ATTR), link.get(sel.ONCLICK_ATTR)))))
            found = sel.MAKER_ID.search(ref)
            maker_id = found.group(1) if found else None
    likes = _first(X.DETAIL_LIKES(info) or X.DETAIL_LIKES(root) or X.DETAIL_LIKES_FALLBACK(root))
    head = _first(X.PAGE_HEAD(root))
    head = root if head is None else head
    cover = _first(X.DETAIL_COVER_META(head))
    if cover is None or not cover.get(sel.META_CONTENT_ATTR):
        cover = _first(X.DETAIL_COVER_META_FALLBACK(head))
    playlist = {
        "plm_seq": plm_seq_from_url(url),
        "title": title,
        "subtitle": text_of(_first(X.DETAIL_SUBTITLE(info))),
        "maker_name": text_of(maker),
        "maker_id": maker_id,
        "song_count": text_of(data_value(sel.DETAIL_DATA_SONG_COUNT_INDEX)),
        "view_count": text_of(data_value(sel.DETAIL_DATA_VIEW_COUNT_INDEX)),
        "like_count": text_of(likes),
        "tags": [text_of(a) for a in X.DETAIL_TAGS(data)],
        "cover_url": cover.get(sel.META_CONTENT_ATTR) if cover is not None else None,
        "source_url": url,
    }
    table = _first(X.SONG_TABLE(root))
    if table is None:
        raise PageError(f"no song table ({sel.SONG_TABLE[-1]})")
    songs = [parse_song_row(row, position) for position, row in enumerate(X.SONG_ROWS_IN_TABLE(table), 1)]
    return {"playlist": playlist, "songs": songs}


def parse_song_row(row, position: int) -> dict[str, Any]:
    cell = _first(X.SONG_INFO_CELL(row))
    title_link = artist_link = album_link = None
    if cell is not None:
        title_link = _first(X.SONG_TITLE_LINK(cell))
        artist_link = _first(X.SONG_ARTIST_LINK(cell))
        album_link = _first(X.SONG_ALBUM_LINK(cell))
    art = _first(X.SONG_ALBUM_ART(row))
    song_id = song_title = None
    if title_link is not None:
        song_id = _first_id(title_link.get(sel.ONCLICK_ATTR), sel.SONG_INFO_ONCLICK)
        song_title = title_link.get(sel.TITLE_ATTR) or text_of(title_link)
    number = text_of(_first(X.SONG_NUMBER(row)))
    return {
        # The shown number is the position; row order stands in when it is missing.
        "position": number if number and number.split()[0].isdigit() else position,
        "song_id": song_id or row.get(sel.SONG_ROW_ID_ATTR),
        "song_title": song_title,
        "artist_id": _first_id(artist_link.get(sel.ONCLICK_ATTR)) if artist_link is not None else None,
        "artist_name": text_of(artist_link),
        "album_id": _first_id(album_link.get(sel.ONCLICK_ATTR)) if album_link is not None else None,
        "album_title": text_of(album_link),
        "album_art_url": art.get(sel.IMG_SRC_ATTR) if art is not None else None,
    }


def song_id_from_url(url: str) -> str | None:
    match = sel.SONG_INFO_URL_ID.search(url)
    return match.group(1) if match else None


def parse_song_info(page: Any, url: str) -> dict[str, Any]:
    """A song page -> bronze.songs_info columns as shown (genre_text raw; crawlers.normalize splits it).

    The page must have its info block and a title; the genre item may be missing
    (genre_text None: the page says nothing about a genre, which is an answer).
    """
    root = html_root(page)
    block = _first(X.SONG_INFO_BLOCK(root))
    if block is None:
        if sel.SONG_NOT_FOUND_TEXT.search(text_of(root) or ""):
            raise SongNotFound("not found: the site has no such song")
        raise PageError(f"no song info block ({sel.SONG_INFO_BLOCK[-1]})")
    title = text_of(_first(X.SONG_INFO_TITLE(root)))
    if not title:
        raise PageError(f"missing song title ({sel.SONG_INFO_TITLE[-1]})")
    values: dict[str, Any] = {}
    for item in X.SONG_INFO_ITEMS(block):
        label_el = _first(X.SONG_INFO_LABEL(item))
        if label_el is None:
            continue
        icon = _first(X.SONG_INFO_LABEL_ICON(label_el))
        label = (icon.get(sel.ALT_ATTR) if icon is not None else None) or text_of(label_el) or ""
        field = sel.SONG_INFO_LABELS.get(label.strip())
        value = _first(X.SONG_INFO_VALUE(item))
        if field and field not in values and value is not None:
            values[field] = value
    artist, album = values.get("artist"), values.get("album")
    artist_link = _first(X.SONG_INFO_VALUE_LINK(artist)) if artist is not None else None
    album_link = _first(X.SONG_INFO_VALUE_LINK(album)) if album is not None else None
    return {
        "song_id": song_id_from_url(url),
        "title": title,
        "artist_name": text_of(artist),
        "artist_id": _first_id(artist_link.get(sel.ONCLICK_ATTR)) if artist_link is not None else None,
        "album_title": text_of(album),
        "album_id": _first_id(album_link.get(sel.ONCLICK_ATTR)) if album_link is not None else None,
        "genre_text": text_of(values.get("genre")),
        "source_url": url,
    }


def detail_link_plm_seq(link) -> int | None:
    """The plmSeq a listing link opens, from its onclick or href in any form Genie uses; None if none."""
    for attr in sel.LISTING_LINK_ATTRS:
        value = link.get(attr)
        if not value:
            continue
        for form in sel.LISTING_DETAIL_LINK_FORMS:
            found = form.search(value)
            if found:
                return int(found.group(1))
    return None


def parse_listing(page: Any) -> list[dict[str, Any]]:
    """Tag results / popular listing -> [{'plm_seq', 'title', 'song_count', 'tags', 'cover_url'}].

    The id comes from the title link, else the cover link, else any link of the
    entry (sel.LISTING_DETAIL_LINK_FORMS). An entry without a readable plmSeq
    comes back with plm_seq None (the spider counts those).
    """
    root = html_root(page)
    items = X.TAG_LISTING_ITEMS(root) or X.LISTING_ITEMS_FALLBACK(root)
    entries = []
    for item in items:
        if sel.LISTING_EMPTY_CLASS in (item.get("class") or "").split():
            continue
        link = _first(X.LISTING_ITEM_TITLE_LINK(item))
        plm_seq = None
        for candidate in (*X.LISTING_ITEM_TITLE_LINK(item), *X.LISTING_ITEM_COVER_LINK(item),
                          *X.LISTING_ITEM_ANY_LINK(item)):
            plm_seq = detail_link_plm_seq(candidate)
            if plm_seq is not None:
                break
        cover = _first(X.LISTING_ITEM_COVER_IMG(item))
        entries.append(
            {
                "plm_seq": plm_seq,
                "title": text_of(link),
                "song_count": text_of(_first(X.LISTING_ITEM_SONG_COUNT(item))),
                "tags": [text_of(a) for a in X.LISTING_ITEM_TAGS(item)],
                "cover_url": cover.get(sel.IMG_SRC_ATTR) if cover is not None else None,
            }
        )
    return entries


def listing_page_links(page: Any) -> list[str]:
    """hrefs of a listing's pagination (relative; the caller joins them with the page URL)."""
    return [a.get(sel.HREF_ATTR) for a in X.LISTING_PAGE_LINKS(html_root(page)) if a.get(sel.HREF_ATTR)]


def newest_ids(page: Any) -> list[int]:
    """plmSeq ids on the newest / popular listing: from the cover links, else from the entries."""
    root = html_root(page)
    ids = [seq for seq in (detail_link_plm_seq(link) for link in X.POPULAR_COVER_LINKS(root)) if seq is not None]
    if not ids:  # cover links in no form we know: the entries' title or other links
        ids = [e["plm_seq"] for e in parse_listing(root) if e["plm_seq"] is not None]
    return ids


def parse_tag_index(page: Any) -> list[tuple[str, str]]:
    """The tag index -> [(code, name)] in page order, each once (e.g. ('ST0002', '드라이브'))."""
    seen: dict[str, str] = {}
    for link in X.TAG_INDEX_LINKS(html_root(page)):
        found = sel.TAG_PARAM.search(link.get(sel.HREF_ATTR) or "")
        if not found:
            continue
        for part in unquote_plus(found.group(1)).split(","):
            code, joiner, name = part.partition(sel.TAG_CODE_NAME_JOIN)
            code, name = code.strip(), name.strip()
            if joiner and sel.TAG_CODE.match(code) and name and code not in seen:
                seen[code] = name
    return list(seen.items())


def parse_song_list_json(text: str | bytes) -> list[dict[str, Any]]:
    """/playlist/mainSongList or allSongList JSON -> song rows (raw), in list order."""
    try:
        doc = json.loads(text)
    except ValueError as err:
        raise PageError(f"song list is not JSON: {err}") from None
    if not isinstance(doc, dict):
        raise PageError("song list JSON is not an object")
    result = doc.get(sel.JSON_RESULT) or {}
    code = str(result.get(sel.JSON_RET_CODE, ""))
    if code != sel.JSON_RET_OK:
        raise PageError(f"song list RetCode {code or 'missing'}: {result.get(sel.JSON_RET_MSG)}")
    dataset = doc.get(sel.JSON_DATASET)
    if not isinstance(dataset, list):
        raise PageError(f"song list has no {sel.JSON_DATASET} list")
    songs = []
    for position, entry in enumerate(dataset, 1):
        if not isinstance(entry, dict):
            raise PageError(f"song list entry {position} is not an object")
        row: dict[str, Any] = {"position": position}
        for column, keys in sel.JSON_SONG_FIELDS.items():
            row[column] = next((entry[k] for k in keys if entry.get(k) not in (None, "")), None)
        for column in ("song_id", "artist_id", "album_id"):
            if row[column] is not None:
                row[column] = str(row[column])
        songs.append(row)
    return songs
