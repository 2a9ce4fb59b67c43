"""Demo-site pages as Genie writes them: listing link forms, a page without a cover."""

from __future__ import annotations

import re

from parsel import Selector

from demo_site import pages
from demo_site.catalogue import generate

HOST = "127.0.0.1:8800"


def test_listing_cover_links_open_the_playlist_and_title_links_log_then_open():
    cat = generate(7, "tiny")
    sel = Selector(text=pages.popular_page(HOST, cat, newest=True, page=1))
    for li in sel.css("#popularList > div.recom-wrap > ul > li"):
        cover = li.css("div.item_cover > a.cover::attr(onclick)").get()
        title = li.css("div.item_info > div.title > a::attr(onclick)").get()
        seq = re.fullmatch(r"fnPlaylistDetail\('(\d+)'\);return false;", cover).group(1)
        assert title == f"javascript:playlistLogNDetailView('{seq}','V','')"


def test_a_page_without_a_cover_has_no_og_image():
    pl = generate(7, "tiny").get(1)
    normal = pages.detail_page(HOST, pl)
    bare = pages.detail_page(HOST, pl, "no_cover_meta")
    assert 'property="og:image:secure_url"' in normal
    assert "og:image" not in bare
    # Nothing else changes: same playlist block and song rows.
    strip = re.compile(r'<meta property="og:image[^>]*>\n')
    assert strip.sub("", normal) == bare
