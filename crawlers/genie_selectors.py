"""Every URL pattern, CSS/XPath selector and regex the crawler uses on Genie markup.

Genie changes its markup now and then; when it does, this is the one file to
fix. Selectors follow docs/GENIE_MARKUP.md (the markup public
crawlers of genie.co.kr read, 2016-2023). Nothing else in ``crawlers/`` may
hard-code a class name, an attribute or a URL path of the site.
"""

from __future__ import annotations

import re
from urllib.parse import quote

# --- URLs (paths relative to the site's base URL) ------------------------------------
DETAIL_PATH = "/playlist/detailView?plmSeq={plm_seq}"
NEWEST_LISTING_PATH = "/playlist/popular?sortOrd=RDD"
POPULAR_LISTING_PATH = "/playlist/popular"
TAG_INDEX_PATH = "/playlist/tags"
TAG_LISTING_PATH = "/playlist/tags?tags={tags}"
MAIN_SONG_LIST_PATH = "/playlist/mainSongList?plmSeq={plm_seq}&logFlag=N"
ALL_SONG_LIST_PATH = "/playlist/allSongList"  # POST form: plmSeq, plmFlag
TAG_CODE_NAME_JOIN = "||"  # a tag parameter is CODE||NAME; several are joined by ','

# plmSeq of a detail URL (also used to recognise detail URLs in logs / failures).
DETAIL_URL_PLM_SEQ = re.compile(r"[?&]plmSeq=(\d+)")


def detail_path(plm_seq: int) -> str:
    return DETAIL_PATH.format(plm_seq=int(plm_seq))


def tag_listing_path(code: str, name: str) -> str:
    # Genie URL-encodes the '||' (%7C%7C) and the Korean name.
    return TAG_LISTING_PATH.format(tags=quote(f"{code}{TAG_CODE_NAME_JOIN}{name}", safe=""))


def main_song_list_path(plm_seq: int) -> str:
    return MAIN_SONG_LIST_PATH.format(plm_seq=int(plm_seq))


# --- playlist detail page ------------------------------------------------------------
# A deleted / private plmSeq answers 200 with an error block and an alert instead of the playlist.
NOT_FOUND_BLOCK = "#playlistNotFound"
NOT_FOUND_TEXT = re.compile("존재하지 않는 플레이리스트|비공개 처리")
# Hot lookups come as (fast, as documented): the tag-qualified form is ~10x faster in lxml;
# the documented form (genie_site.md) is tried when the fast one finds nothing.
DETAIL_CONTAINER = ("div.playlist-info div.info", ".playlist-info .info")
DETAIL_TITLE = ".info__title"
DETAIL_SUBTITLE = ".info__title--sub"
DETAIL_DATA_BLOCK = ".info__data"
DETAIL_DATA_VALUES = "dd"  # children of the data block  # dd[0] maker, dd[1] '16곡', dd[2] '53,820'
DETAIL_DATA_MAKER_INDEX = 0
DETAIL_DATA_SONG_COUNT_INDEX = 1
DETAIL_DATA_VIEW_COUNT_INDEX = 2
DETAIL_MAKER_LINK = "a"  # inside the maker's dd
DETAIL_TAGS = ".tags a"  # inside the data block (.info__data .tags a)
DETAIL_COVER_META = 'meta[property="og:image:secure_url"]'
DETAIL_COVER_META_FALLBACK = 'meta[property="og:image"]'
META_CONTENT_ATTR = "content"
DETAIL_LIKES = "#emLikeCount"  # looked up in the playlist block first, then in the page
DETAIL_LIKES_FALLBACK = ".sns-like em"
PAGE_HEAD = "head"  # where the og: meta tags are
# The page is whole only when the closing html tag arrived (lxml repairs truncation silently).
PAGE_END_MARKER = re.compile(rb"</html\s*>\s*$", re.IGNORECASE)

# Song rows of the detail page: ``.music-list-wrap .list-wrap tbody tr`` (the table is there,
# possibly empty, on every whole page). Parts of a row are looked up inside its cells.
SONG_TABLE = ("div.music-list-wrap", ".music-list-wrap")
SONG_ROWS_IN_TABLE = ("table.list-wrap > tbody > tr", ".list-wrap tbody tr")
SONG_ROW_ID_ATTR = "songid"
SONG_NUMBER = "td.number"
SONG_ALBUM_ART = "td > a > img"
SONG_INFO_CELL = "td.info"
IMG_SRC_ATTR = "src"
ONCLICK_ATTR = "onclick"
HREF_ATTR = "href"
TITLE_ATTR = "title"
SONG_TITLE_LINK = "a.title.ellipsis"  # inside td.info
SONG_ARTIST_LINK = "a.artist.ellipsis"  # inside td.info
SONG_ALBUM_LINK = "a.albumtitle.ellipsis"  # inside td.info
# The first number inside an onclick call: fnViewSongInfo('<id>', ...), fnViewArtist('<id>') ...
SONG_INFO_ONCLICK = re.compile(r"fnViewSongInfo\(\s*['\"]?(\d+)")
ONCLICK_FIRST_ID = re.compile(r"\(\s*['\"]?(\d+)")

# Curator ids look like DJ0001 (DJ + 4-digit maker id) in maker links.
MAKER_ID = re.compile(r"\b(DJ\d{4})\b")

# Numbers as shown: '16곡', '53,820', '1.2만' is not used on playlist pages.
SHOWN_NUMBER = re.compile(r"\d[\d,]*")
TAG_PREFIX = "#"

# --- listing pages -------------------------------------------------------------------
TAG_LISTING_ITEMS = "#showTagList > div.recom-wrap > ul > li"
LISTING_ITEMS_FALLBACK = "div.recom-wrap > ul > li"
LISTING_EMPTY_CLASS = "no-data"  # <li class="no-data">: the listing has no playlists
LISTING_ITEM_COVER_IMG = "div.item_cover > a.cover > img"
LISTING_ITEM_TITLE_LINK = "div.item_info > div.title > a"
LISTING_ITEM_COVER_LINK = "a.cover"  # div.item_cover > a.cover (older pages: div.cover-wrap > a.cover)
LISTING_ITEM_ANY_LINK = "a"  # last resort: any link of the entry that leads to its detail page
LISTING_ITEM_TAGS = "div.item_info > div.tag > a"
LISTING_ITEM_SONG_COUNT = "div.item_info > ul > li.num"
# How a listing entry links to its playlist. Real Genie listings use each of these, on the title
# link and on the cover link, and one entry may mix them:
#   onclick="javascript:playlistLogNDetailView('4001', 'V', 'TODAY'); return false;"  (logs, then opens)
#   onclick="fnPlaylistDetail('4001');return false;"  and the like: goDetailView('4001'), fnGoPlaylistDetail(4001)
#   href="/playlist/detailView?plmSeq=4001"  (plain link)
# The play button (fnPlayPlaylist / allSongPlayNLog) and the "add" link (/member/myPlaylist?plmSeq=) are no detail links.
LISTING_DETAIL_LINK_FORMS = (
    re.compile(r"\bplaylistLogNDetailView\(\s*['\"]?(\d+)"),
    re.compile(r"\b(?:fn|go)(?:Go)?(?:Playlist|Plm)?Detail(?:View)?\(\s*['\"]?(\d+)"),
    re.compile(r"\bdetailView\?(?:[^\"'#\s]*?&(?:amp;)?)?plmSeq=(\d+)"),
)
LISTING_LINK_ATTRS = ("onclick", "href")
# Pagination of listings (page numbers, next / last links: ...&pg=N).
LISTING_PAGE_LINKS = ".page-nav a[href]"
LISTING_PAGE_PARAM = re.compile(r"[?&]pg=(\d+)")
# Popular / newest listing: ids from the cover links (onclick or href, any form above).
POPULAR_COVER_LINKS = ".item_cover .cover"

# Tag index: links or onclick handlers that carry CODE||NAME (ST0002 드라이브, GR0003, DJ0001 ...).
TAG_INDEX_LINKS = "a[href*='tags=']"
TAG_PARAM = re.compile(r"[?&]tags=([^&#]+)")
TAG_CODE = re.compile(r"^[A-Z]{2}\d{4}$")

# --- song page (/detail/songInfo?xgnm=<songId>): title, artist, album and the genre item --
SONG_INFO_PATH = "/detail/songInfo?xgnm={song_id}"
SONG_INFO_URL_ID = re.compile(r"[?&]xgnm=(\d+)")
SONG_ID = re.compile(r"^\d+$")  # song ids are numbers; anything else is never requested
SONG_INFO_BLOCK = ("ul.info-data", ".info-data")
SONG_INFO_ITEMS = "li"  # inside the block: <span class="attr"><img alt="장르/스타일"></span><span class="value">
SONG_INFO_LABEL = "span.attr"  # the label is the alt of its icon, or its text
SONG_INFO_LABEL_ICON = "img"
ALT_ATTR = "alt"
SONG_INFO_VALUE = "span.value"
SONG_INFO_VALUE_LINK = "a"  # artist / album values link with fnViewArtist('<id>') / fnViewAlbumLayer('<id>')
SONG_INFO_TITLE = ("div.info-zone h2.name", "h2.name")
SONG_INFO_LABELS = {"아티스트": "artist", "앨범": "album", "장르/스타일": "genre", "장르": "genre"}
# A song id with no song answers like a missing playlist: an error block and an alert.
SONG_NOT_FOUND_TEXT = re.compile("존재하지 않는 곡|곡 정보가 없습니다|서비스 되지 않는 곡")


def song_info_path(song_id: str) -> str:
    if not SONG_ID.match(str(song_id)):
        raise ValueError(f"not a Genie song id: {song_id!r}")
    return SONG_INFO_PATH.format(song_id=song_id)


# --- JSON song list (/playlist/mainSongList, /playlist/allSongList) -------------------
JSON_RESULT = "Result"
JSON_RET_CODE = "RetCode"
JSON_RET_OK = "0"
JSON_RET_MSG = "RetMsg"
JSON_DATASET = "DataSet"
JSON_SONG_FIELDS = {
    "song_id": ("SONG_ID", "songId", "song_id"),
    "song_title": ("SONG_NAME", "songName", "song_name"),
    "artist_id": ("ARTIST_ID", "artistId", "artist_id"),
    "artist_name": ("ARTIST_NAME", "artistName", "artist_name"),
    "album_id": ("ALBUM_ID", "albumId", "album_id"),
    "album_title": ("ALBUM_NAME", "albumName", "album_name"),
    "album_art_url": ("ALBUM_IMG_PATH", "albumImgPath", "album_img_path"),
}


# --- compiled once: the CSS above as lxml XPath objects (parsing is the crawler's hot path) --
def _compile(css: str):
    from lxml import etree
    from parsel.csstranslator import HTMLTranslator

    return etree.XPath(HTMLTranslator().css_to_xpath(css))


class _FirstMatch:
    """Several selectors for one thing, tried in order: the first that matches wins."""

    def __init__(self, css: tuple[str, ...]) -> None:
        self.compiled = [_compile(c) for c in css]

    def __call__(self, context) -> list:
        for xpath in self.compiled:
            found = xpath(context)
            if found:
                return found
        return []


class _Compiled:
    """``X.<NAME>`` is the compiled form of the CSS constant ``<NAME>`` of this module."""

    def __getattr__(self, name: str):
        css = globals()[name]
        compiled = _FirstMatch(css) if isinstance(css, tuple) else _compile(css)
        setattr(self, name, compiled)
        return compiled


X = _Compiled()
