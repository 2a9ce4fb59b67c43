"""HTML and JSON bodies in the shape of genie.co.kr's playlist pages (see reference/genie_site.md).

Every page is a whole document with Genie-like header, navigation and footer noise around the
parts a crawler reads. Image URLs are protocol-relative to the demo host (``//127.0.0.1:PORT/Y/...``),
as real Genie writes ``//image.genie.co.kr/Y/...``; a crawler urljoins them with the page URL.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable
from typing import TYPE_CHECKING
from urllib.parse import quote

from demo_site.taxonomy import BY_CODE, CATEGORIES, GENRES, NON_MOOD_TAGS, TAG_CODES

if TYPE_CHECKING:
    from demo_site.catalogue import Catalogue, Playlist, SongRow

PAGE_SIZE = 50
CATEGORY_LABELS = {"situation": "상황", "emotion": "감성", "time": "시간", "style": "스타일", "weather": "날씨",
                   "season": "계절"}
ROBOTS_TXT = """# robots.txt for the scenetune demo of genie.co.kr
User-agent: *
Disallow: /member/
Disallow: /search/
Disallow: /myMusic/
Disallow: /buy/
Allow: /

Sitemap: /sitemap.xml
"""
NOT_FOUND_MARKER = "playlistNotFound"


def esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def tag_href(name: str) -> str:
    return "/playlist/tags?tags=" + quote(f"{TAG_CODES[name]}||{name}", safe="")


def cover_url(host: str, pl: Playlist, size: int | None = None) -> str:
    url = f"//{host}{pl.cover_path}"
    return f"{url}/dims/resize/Q_{size},{size}" if size else url


def album_art_url(host: str, album_id: str, size: int = 140) -> str:
    digits = f"{int(album_id):09d}"
    return f"//{host}/Y/IMAGE/IMG_ALBUM/{digits[:3]}/{digits[3:6]}/{digits[6:]}/{album_id}_1_{size}x{size}.JPG"


def detail_href(plm_seq: int) -> str:
    return f"/playlist/detailView?plmSeq={plm_seq}"


# --------------------------------------------------------------------------- layout
def layout(title: str, body: str, *, host: str, meta: str = "", on: str = "playlist") -> str:
    gnb = [("chart", "/chart/top200", "지니차트"), ("newest", "/newest/song", "최신음악"),
           ("genre", "/genre/L0100", "장르음악"), ("playlist", "/playlist/popular", "플레이리스트"),
           ("magazine", "/magazine", "매거진")]
    on_attr = ' class="on"'
    nav = "".join(f'<li{on_attr if key == on else ""}><a href="{href}">{label}</a></li>' for key, href, label in gnb)
    return f"""<!DOCTYPE html>
<html lang="ko">
<head>
<meta charset="UTF-8">
<meta http-equiv="X-UA-Compatible" content="IE=edge">
<meta name="viewport" content="width=1200">
<title>{esc(title)} - 지니</title>
{meta}<link rel="shortcut icon" href="/favicon.ico">
<link rel="stylesheet" type="text/css" href="/resources/css/common.css?v=20241015">
<link rel="stylesheet" type="text/css" href="/resources/css/playlist.css?v=20241015">
<script type="text/javascript" src="/resources/js/lib/jquery-1.12.4.min.js"></script>
<script type="text/javascript" src="/resources/js/genie.common.js?v=20241015"></script>
</head>
<body>
<div id="skip-navi"><a href="#body-content">본문 바로가기</a></div>
<div id="wrap">
<div id="header">
  <h1 class="logo"><a href="/" title="genie 홈으로"><span class="hide">genie</span></a></h1>
  <form id="frmGNB" class="search-form" action="/search/searchMain" method="get">
    <fieldset><legend>통합검색</legend>
    <input type="text" id="sc-fd" name="query" class="input" title="검색어 입력" autocomplete="off">
    <button type="submit" class="btn-submit"><span class="hide">검색</span></button></fieldset>
  </form>
  <ul class="gnb">{nav}</ul>
  <div class="user-menu"><a href="/member/login" class="btn-login">로그인</a><a href="/member/join">회원가입</a>
    <a href="/buy/voucher" class="btn-buy">이용권구매</a></div>
</div>
<div id="body-content">
{body}
</div>
<div id="footer">
  <ul class="f-menu"><li><a href="/company/about">회사소개</a></li><li><a href="/company/terms">이용약관</a></li>
    <li><a href="/company/privacy"><strong>개인정보처리방침</strong></a></li><li><a href="/support/notice">고객센터</a></li></ul>
  <address>(주)지니뮤직 | 대표이사 데모 | 서울특별시 강남구 데모로 1 | 사업자등록번호 000-00-00000</address>
  <p class="copyright">Copyright &copy; genie music Corporation. All rights reserved.</p>
</div>
</div>
<script type="text/javascript">var gnbMenu = "{on}";</script>
</body>
</html>
"""


# --------------------------------------------------------------------------- detail page
def _row_html(host: str, pl: Playlist, row: SongRow, mark_19: bool) -> str:
    title = esc(row.title)
    icon = '<span class="icon icon-19">19<span class="hide">금</span></span>' if mark_19 else ""
    return f"""<tr class="list" songid="{row.song_id}">
  <td class="check"><input type="checkbox" class="select-check" title="선택" value="{row.song_id}"></td>
  <td class="number">{row.position}
    <span class="rank"><span class="rank-none"><span class="hide">유지</span></span></span></td>
  <td><a href="#" class="cover" onclick="fnViewAlbumLayer('{row.album_id}');return false;"><span class="mask"></span><img src="{album_art_url(host, row.album_id)}" alt="{esc(row.album_name)}"></a></td>
  <td class="link"><a href="#" class="btn-basic btn-info" onclick="fnViewSongInfo('{row.song_id}');return false;">곡 제목 정보 페이지</a></td>
  <td class="info">
    <a href="#" class="title ellipsis" title="{title}" onclick="fnViewSongInfo('{row.song_id}','PL','{pl.plm_seq}');return false;">{icon}
      {title}</a>
    <a href="#" class="artist ellipsis" onclick="fnViewArtist('{row.artist_id}');return false;">{esc(row.artist)}</a>
    <i class="bar">|</i>
    <a href="#" class="albumtitle ellipsis" onclick="fnViewAlbumLayer('{row.album_id}');return false;">{esc(row.album_name)}</a>
  </td>
  <td class="btns"><a href="#" class="btn-basic btn-listen" title="재생" onclick="fnPlaySong('{row.song_id}','1');return false;">듣기</a></td>
  <td class="btns"><a href="#" class="btn-basic btn-album" title="추가" onclick="fnAddMyAlbumForm('#add_my_album_top','{row.song_id}','','-90','50');return false;">추가</a></td>
  <td class="btns"><a href="#" class="btn-basic btn-down" title="다운로드" onclick="fnDownSong('{row.song_id}');return false;">다운</a></td>
</tr>
"""


def detail_page(host: str, pl: Playlist, fault_kind: str | None = None) -> str:
    """The playlist detail page; ``fault_kind`` applies a content fault (see faults.py)."""
    image = cover_url(host, pl)
    meta = (f'<meta name="description" content="{esc(pl.subtitle)}">\n'
            f'<meta property="og:type" content="music.playlist">\n'
            f'<meta property="og:site_name" content="genie">\n'
            f'<meta property="og:title" content="{esc(pl.title)}">\n'
            f'<meta property="og:description" content="{esc(pl.subtitle)}">\n'
            f'<meta property="og:url" content="//{host}{detail_href(pl.plm_seq)}">\n'
            f'<meta property="og:image" content="{image}">\n'
            f'<meta property="og:image:secure_url" content="{image}">\n')
    if fault_kind == "no_cover_meta":  # some real pages name no cover: the crawler records it as missing
        meta = "".join(line + "\n" for line in meta.splitlines() if 'property="og:image' not in line)
    title = "" if fault_kind == "missing_title" else esc(pl.title)
    maker_q = quote(pl.maker_name, safe="")
    tags = " ".join(f'<a href="{tag_href(t)}">#{esc(t)}</a>' for t in pl.tags)
    # Deterministic "19금" marks on a few rows (real pages put icons inside the title anchor).
    rows = "".join(_row_html(host, pl, row, (int(row.song_id) + pl.plm_seq) % 53 == 0) for row in pl.rows)
    songs = f"""<div class="music-list-wrap">
  <div class="option-tool">
    <div class="check-all"><input type="checkbox" class="all-check" title="전체 선택"></div>
    <a href="#" class="btn btn-listen" onclick="fnPlayChecked();return false;">선택된 곡 재생</a>
    <a href="#" class="btn btn-add" onclick="fnAddChecked();return false;">담기</a>
    <a href="#" class="btn btn-down" onclick="fnDownChecked();return false;">다운</a>
  </div>
  <table class="list-wrap">
    <caption>플레이리스트 수록곡 목록</caption>
    <colgroup><col style="width:30px"><col style="width:50px"><col style="width:70px"><col style="width:30px"><col><col style="width:60px"><col style="width:60px"><col style="width:60px"></colgroup>
    <thead><tr><th scope="col"><span class="hide">선택</span></th><th scope="col">번호</th><th scope="col">앨범</th>
      <th scope="col"><span class="hide">곡정보</span></th><th scope="col">곡정보</th><th scope="col">듣기</th>
      <th scope="col">담기</th><th scope="col">다운</th></tr></thead>
    <tbody>
{rows}    </tbody>
  </table>
</div>
""" if fault_kind != "missing_song_table" else ""
    body = f"""<div class="playlist-info">
  <div class="photo-zone">
    <span class="cover"><img src="{cover_url(host, pl, 300)}" alt="{esc(pl.title)}"></span>
  </div>
  <div class="info">
    <h2 class="info__title">{title}</h2>
    <p class="info__title--sub">{esc(pl.subtitle)}</p>
    <dl class="info__data">
      <dt class="hide">만든이</dt><dd><a href="/search/searchPlaylist?query={maker_q}&amp;makerId={pl.maker_id}" class="maker">{esc(pl.maker_name)}</a></dd>
      <dt class="hide">곡수</dt><dd>{pl.song_count}곡</dd>
      <dt class="hide">조회수</dt><dd>{pl.view_count:,}</dd>
      <dt class="hide">태그</dt><dd class="tags">{tags}</dd>
    </dl>
    <div class="sns-like"><a href="#" class="like" onclick="fnLikePlaylist('{pl.plm_seq}');return false;"><span class="hide">좋아요</span><em id="emLikeCount">{pl.like_count:,}</em></a></div>
    <div class="btns">
      <a href="#" class="btn-basic btn-listen" onclick="fnPlayPlaylist('{pl.plm_seq}');return false;">전체듣기</a>
      <a href="/member/myPlaylist?plmSeq={pl.plm_seq}" class="btn-basic btn-add">내 리스트에 담기</a>
    </div>
  </div>
</div>
{songs}<script type="text/javascript">var plmSeq = "{pl.plm_seq}";</script>"""
    page = layout(pl.title, body, host=host, meta=meta)
    if fault_kind == "truncated_html":
        marker = '<tr class="list"'
        starts, i = [], page.find(marker)
        while i >= 0:
            starts.append(i)
            i = page.find(marker, i + 1)
        if starts:
            cut = starts[max(1, len(starts) // 3)] if len(starts) > 1 else starts[0]
            page = page[: cut + 40]  # stops mid-tag inside the song table
        else:
            page = page[: len(page) // 2]
    return page


def not_found_page(host: str) -> str:
    body = f"""<div class="error-wrap" id="{NOT_FOUND_MARKER}">
  <p class="txt">요청하신 플레이리스트가 존재하지 않거나 비공개 처리되었습니다.</p>
  <a href="/playlist/popular" class="btn-basic">플레이리스트 홈으로</a>
</div>
<script type="text/javascript">alert("존재하지 않는 플레이리스트입니다.");</script>"""
    return layout("플레이리스트", body, host=host)


# --------------------------------------------------------------------------- listings
def _item_html(host: str, pl: Playlist) -> str:
    # As on genie.co.kr, the title link logs the click then opens the playlist; the cover link opens it directly.
    click = f"javascript:playlistLogNDetailView('{pl.plm_seq}','V','')"
    cover_click = f"fnPlaylistDetail('{pl.plm_seq}');return false;"
    tags = "".join(f'<a href="{tag_href(t)}">#{esc(t)}</a>' for t in pl.tags)
    return f"""<li>
  <div class="item_cover">
    <a href="#" class="cover" onclick="{cover_click}"><img src="{cover_url(host, pl, 244)}" alt="{esc(pl.title)}"></a>
    <a href="#" class="btn-basic btn-listen" onclick="fnPlayPlaylist('{pl.plm_seq}');return false;"><span class="hide">재생</span></a>
  </div>
  <div class="item_info">
    <div class="title"><a href="#" onclick="{click}">{esc(pl.title)}</a></div>
    <div class="tag">{tags}</div>
    <ul><li class="num">{pl.song_count}곡</li><li class="like"><span class="hide">좋아요</span>{pl.like_count:,}</li></ul>
  </div>
</li>
"""


def _page_nav(base: str, page: int, last: int) -> str:
    if last <= 1:
        return '<div class="page-nav"><strong class="current">1</strong></div>'
    sep = "&amp;" if "?" in base else "?"
    first_shown = (page - 1) // 10 * 10 + 1
    links = []
    if first_shown > 1:
        links.append(f'<a href="{base}{sep}pg={first_shown - 1}" class="prev">이전 페이지</a>')
    for p in range(first_shown, min(first_shown + 9, last) + 1):
        links.append(f'<strong class="current">{p}</strong>' if p == page else f'<a href="{base}{sep}pg={p}">{p}</a>')
    if page < last:
        links.append(f'<a href="{base}{sep}pg={page + 1}" class="next">다음 페이지</a>')
        links.append(f'<a href="{base}{sep}pg={last}" class="last">마지막 페이지</a>')
    return f'<div class="page-nav">{"".join(links)}</div>'


def _items_block(host: str, cat: Catalogue, ids: list[int], page: int, base: str, list_id: str) -> str:
    last = max(1, -(-len(ids) // PAGE_SIZE))
    chunk = ids[(page - 1) * PAGE_SIZE: page * PAGE_SIZE] if page >= 1 else []
    items = "".join(_item_html(host, cat.playlists[s]) for s in chunk)
    if not items:
        items = '<li class="no-data">플레이리스트가 없습니다.</li>\n'
    return f"""<div id="{list_id}">
<div class="recom-wrap">
<ul>
{items}</ul>
</div>
{_page_nav(base, page, last)}
</div>"""


def popular_page(host: str, cat: Catalogue, newest: bool, page: int) -> str:
    ids = cat.newest_first if newest else cat.popular_first
    base = "/playlist/popular?sortOrd=RDD" if newest else "/playlist/popular"
    body = f"""<div class="playlist-main">
  <h2 class="page-title">플레이리스트</h2>
  <div class="tab-sort"><a href="/playlist/popular"{' class="on"' if not newest else ''}>인기순</a>
    <a href="/playlist/popular?sortOrd=RDD"{' class="on"' if newest else ''}>최신순</a>
    <a href="/playlist/tags">태그별</a></div>
  {_items_block(host, cat, ids, page, base, "popularList")}
</div>"""
    return layout("인기 플레이리스트" if not newest else "최신 플레이리스트", body, host=host)


def _tag_groups(cat: Catalogue) -> Iterable[tuple[str, list[str]]]:
    present = cat.by_tag
    for category, names in CATEGORIES.items():
        yield CATEGORY_LABELS[category], [n for n in names if n in present]
    yield "장르", [g for g in GENRES if g in present]
    # Ad brand tags are not in the index (they only label ad playlists); their result pages work.
    yield "기타", [n for names in NON_MOOD_TAGS.values() for n in names if n in present]


def tag_index_page(host: str, cat: Catalogue) -> str:
    groups = []
    for label, names in _tag_groups(cat):
        if names:
            links = "".join(f'<a href="{tag_href(n)}">#{esc(n)}</a>' for n in names)
            groups.append(f"<dl><dt>{label}</dt><dd>{links}</dd></dl>")
    body = f"""<div class="playlist-main">
  <h2 class="page-title">태그별 플레이리스트</h2>
  <div class="tag-list" id="tagList">
  {"".join(groups)}
  </div>
</div>"""
    return layout("태그별 플레이리스트", body, host=host)


def parse_tags_param(value: str) -> list[str] | None:
    """'ST0002||드라이브,ST0019||비오는날' -> tag names; None if any part is unknown."""
    names = []
    for part in value.split(","):
        code = part.split("||", 1)[0].strip()
        prof = BY_CODE.get(code)
        if prof is None:
            return None
        names.append(prof.name)
    return names


def tag_results_page(host: str, cat: Catalogue, tags_param: str, page: int) -> str:
    names = parse_tags_param(tags_param) or []
    if names:
        ids = cat.by_tag.get(names[0], [])
        for n in names[1:]:
            wanted = set(cat.by_tag.get(n, []))
            ids = [s for s in ids if s in wanted]
    else:
        ids = []
    base = "/playlist/tags?tags=" + quote(tags_param, safe="")
    chosen = " ".join(f'<span class="tag on">#{esc(n)}</span>' for n in names)
    body = f"""<div class="playlist-main">
  <h2 class="page-title">태그별 플레이리스트</h2>
  <div class="tag-selected">{chosen} <a href="/playlist/tags" class="btn-reset">태그 다시 선택</a></div>
  {_items_block(host, cat, ids, page, base, "showTagList")}
</div>"""
    return layout("태그별 플레이리스트", body, host=host)


# --------------------------------------------------------------------------- JSON and small pages
def song_list_json(host: str, pl: Playlist | None) -> str:
    if pl is None:
        return json.dumps({"Result": {"RetCode": "E0001", "RetMsg": "존재하지 않는 플레이리스트입니다."},
                           "DataSet": []}, ensure_ascii=False)
    data = [{"songName": row.title, "artistName": row.artist, "albumName": row.album_name,
             "songId": row.song_id, "artistId": row.artist_id, "albumId": row.album_id,
             "albumImgPath": album_art_url(host, row.album_id), "position": row.position} for row in pl.rows]
    return json.dumps({"Result": {"RetCode": "0", "RetMsg": "성공", "plmSeq": str(pl.plm_seq),
                                  "songCount": str(pl.song_count)}, "DataSet": data}, ensure_ascii=False)


def song_info_page(host: str, cat: Catalogue, song_id: str) -> str | None:
    idx = cat.song_index_for_id(song_id)
    if idx is None:
        return None
    pool = cat.pool
    album = pool.albums[pool.album[idx]]
    minutes, seconds = divmod(pool.duration[idx], 60)
    body = f"""<div class="song-main">
  <div class="info-zone">
    <h2 class="name">{esc(pool.display_title(idx))}</h2>
    <ul class="info-data">
      <li><span class="attr"><img src="/resources/img/ico_artist.png" alt="아티스트"></span><span class="value"><a href="#" onclick="fnViewArtist('{pool.artist_id(pool.artist[idx])}');return false;">{esc(pool.artists[pool.artist[idx]].name)}</a></span></li>
      <li><span class="attr"><img src="/resources/img/ico_album.png" alt="앨범"></span><span class="value"><a href="#" onclick="fnViewAlbumLayer('{album.album_id}');return false;">{esc(album.name)}</a></span></li>
      <li><span class="attr"><img src="/resources/img/ico_genre.png" alt="장르/스타일"></span><span class="value">{esc(pool.genie_genre(idx))}</span></li>
      <li><span class="attr"><img src="/resources/img/ico_time.png" alt="재생시간"></span><span class="value">{minutes:02d}:{seconds:02d}</span></li>
    </ul>
  </div>
</div>"""
    return layout(pool.display_title(idx), body, host=host, on="")


def search_page(host: str, query: str) -> str:
    body = f"""<div class="search-main"><h2 class="page-title">'{esc(query)}' 검색 결과</h2>
  <p class="no-data">검색 결과가 없습니다.</p></div>"""
    return layout("검색", body, host=host, on="")


def error_page(host: str, status: int) -> str:
    body = f"""<div class="error-wrap"><p class="txt">일시적인 오류가 발생했습니다. 잠시 후 다시 시도해 주세요. ({status})</p></div>"""
    return layout("오류", body, host=host, on="")
