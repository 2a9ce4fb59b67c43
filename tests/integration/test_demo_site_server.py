"""The demo site over real HTTP on 127.0.0.1: Genie selectors, JSON, covers, faults, revisions, CLI."""

from __future__ import annotations

import io
import json
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import requests
from parsel import Selector
from PIL import Image, UnidentifiedImageError

from demo_site.faults import Fault, FaultPlan
from demo_site.pages import NOT_FOUND_MARKER
from demo_site.server import DemoSite
from demo_site.taxonomy import PROFILES

REPO = Path(__file__).resolve().parents[2]
FAULTS = {
    "burst_503": "burst_503", "rate_limit_429": "rate_limit_429", "truncated_html": "truncated_html",
    "missing_title": "missing_title", "missing_song_table": "missing_song_table",
    "persistent_500": "persistent_500", "timeout": Fault("timeout", delay_s=2.0), "cover_not_image": "cover_not_image",
    "cover_404": "cover_404", "redirect": "redirect", "slow": Fault("slow", delay_s=0.3), "burst_500": "burst_500",
}


@pytest.fixture(scope="module")
def site():
    from demo_site.catalogue import generate

    ids = sorted(generate(7, "tiny").playlists)
    # every fault on its own playlist, leaving the first ids clean
    plan = FaultPlan({seq: f for seq, f in zip(ids[10:], FAULTS.values())})
    with DemoSite(seed=7, scale="tiny", faults=plan) as running:
        running.fault_ids = {kind: seq for kind, seq in zip(FAULTS, ids[10:])}
        yield running
    assert not running.errors


def get(site, path, **kw):
    kw.setdefault("timeout", 10)
    return requests.get(site.base_url + path, **kw)


def test_detail_page_parses_with_genie_selectors(site):
    pl = site.catalogue.get(1)
    r = get(site, "/playlist/detailView?plmSeq=1")
    assert r.status_code == 200 and "text/html" in r.headers["Content-Type"]
    sel = Selector(text=r.text)
    info = sel.css(".playlist-info .info")
    assert info.css(".info__title::text").get() == pl.title
    assert info.css(".info__title--sub::text").get() == pl.subtitle
    dd = info.css(".info__data dd")
    assert dd[0].css("a::text").get() == pl.maker_name and pl.maker_id in dd[0].css("a::attr(href)").get()
    assert dd[1].css("::text").get() == f"{pl.song_count}곡"
    assert dd[2].css("::text").get() == f"{pl.view_count:,}"
    assert [t.lstrip("#") for t in sel.css(".info__data .tags a::text").getall()] == list(pl.tags)
    cover = sel.css('meta[property="og:image:secure_url"]::attr(content)').get()
    assert cover.startswith("//") and cover.endswith(pl.cover_path)
    assert sel.css(".sns-like em#emLikeCount::text").get() == f"{pl.like_count:,}"
    rows = sel.css(".music-list-wrap .list-wrap tbody tr")
    assert len(rows) == pl.song_count
    for tr, row in zip(rows, pl.rows):
        assert tr.attrib["songid"] == row.song_id
        assert tr.css("td.number::text").get().strip() == str(row.position)
        assert tr.css("td > a > img::attr(src)").get().endswith(f"{row.album_id}_1_140x140.JPG")
        title = tr.css("td.info a.title.ellipsis")
        assert title.attrib["title"] == row.title
        assert re.search(r"fnViewSongInfo\('(\d+)'", title.attrib["onclick"]).group(1) == row.song_id
        artist = tr.css("a.artist.ellipsis")
        assert artist.css("::text").get() == row.artist and row.artist_id in artist.attrib["onclick"]
        assert row.album_id in tr.css("a.albumtitle.ellipsis::attr(onclick)").get()


def test_json_song_lists(site):
    pl = site.catalogue.get(1)
    got = get(site, "/playlist/mainSongList?plmSeq=1&logFlag=N").json()
    assert got["Result"]["RetCode"] == "0"
    assert [d["songName"] for d in got["DataSet"]] == [r.title for r in pl.rows]
    assert {"songName", "artistName", "songId", "artistId", "albumName", "albumId"} <= set(got["DataSet"][0])
    posted = requests.post(site.base_url + "/playlist/allSongList", data={"plmSeq": "1", "plmFlag": "N"}, timeout=10)
    assert posted.json()["DataSet"] == got["DataSet"]
    missing = site.catalogue.missing_plm_seqs[0]
    assert get(site, f"/playlist/mainSongList?plmSeq={missing}").json()["DataSet"] == []


def test_listings_give_ids_counts_tags_and_newest_id(site):
    cat = site.catalogue
    newest = Selector(text=get(site, "/playlist/popular?sortOrd=RDD").text)
    ids = [int(re.search(r"'(\d+)'", c).group(1)) for c in newest.css(".item_cover .cover::attr(onclick)").getall()]
    assert ids[0] == cat.max_plm_seq and ids == sorted(ids, reverse=True) and len(ids) == 50
    page2 = Selector(text=get(site, "/playlist/popular?sortOrd=RDD&pg=2").text)
    assert len(page2.css(".item_cover .cover")) == len(cat.playlists) - 50
    assert not Selector(text=get(site, "/playlist/popular?pg=9").text).css(".item_cover")
    popular = Selector(text=get(site, "/playlist/popular").text)
    assert len(popular.css(".item_cover .cover[onclick]")) == 50

    index = Selector(text=get(site, "/playlist/tags").text)
    links = index.css("a[href^='/playlist/tags?tags=']::attr(href)").getall()
    brands = {t for t in cat.by_tag if PROFILES[t].category == "brand"}  # ad labels are not indexed
    assert len(links) == len(cat.by_tag) - len(brands)
    assert "/playlist/tags?tags=ST0002%7C%7C%EB%93%9C%EB%9D%BC%EC%9D%B4%EB%B8%8C" in links
    tag = max(set(cat.by_tag) - brands, key=lambda t: len(cat.by_tag[t]))
    href = next(h for h in links if h.endswith(requests.utils.quote(tag, safe="")))
    items = Selector(text=get(site, href).text).css("#showTagList > div.recom-wrap > ul > li")
    assert len(items) == len(cat.by_tag[tag])
    for li in items:
        seq = int(re.search(r"playlistLogNDetailView\('(\d+)','V',''\)",
                            li.css("div.item_info > div.title > a::attr(onclick)").get()).group(1))
        assert tag in [t.lstrip("#") for t in li.css("div.item_info > div.tag > a::text").getall()]
        assert li.css("div.item_info > ul > li.num::text").get() == f"{cat.get(seq).song_count}곡"
        assert li.css("div.item_cover > a.cover > img::attr(src)").get()
    # two tags joined by a comma: the intersection
    a, b = cat.get(1).tags[:2]
    both = get(site, "/playlist/tags", params={"tags": f"{_code(a)}||{a},{_code(b)}||{b}"})
    got = Selector(text=both.text).css("#showTagList div.item_info > div.title > a::attr(onclick)").getall()
    assert any("'1'" in g for g in got)
    assert all(a in cat.get(int(re.search(r"'(\d+)'", g).group(1))).tags for g in got)


def _code(tag):
    from demo_site.taxonomy import TAG_CODES

    return TAG_CODES[tag]


def test_covers_and_resize(site):
    pl = site.catalogue.get(1)
    r = get(site, pl.cover_path)
    assert r.headers["Content-Type"] == "image/jpeg"
    assert Image.open(io.BytesIO(r.content)).size == (600, 600)
    small = Image.open(io.BytesIO(get(site, pl.cover_path + "/dims/resize/Q_244,244").content))
    assert small.format == "JPEG" and small.size == (244, 244)
    thumb = Selector(text=get(site, "/playlist/detailView?plmSeq=1").text).css("td > a > img::attr(src)").get()
    art = requests.get("http:" + thumb, timeout=10)
    assert Image.open(io.BytesIO(art.content)).size == (140, 140)
    assert get(site, "/Y/IMAGE/Playlist/Channel/GENIE/PLAYLIST_19990101000000.JPG").status_code == 404


def test_transient_faults_then_success(site):
    for kind, statuses in (("burst_503", [503, 503, 200]), ("burst_500", [500, 500, 200]),
                           ("rate_limit_429", [429, 200])):
        seq = site.fault_ids[kind]
        got = []
        for _ in statuses:
            r = get(site, f"/playlist/detailView?plmSeq={seq}")
            got.append(r.status_code)
            if r.status_code == 429:
                assert r.headers["Retry-After"] == "1"
        assert got == statuses, kind
    # the JSON endpoint has its own burst counter
    seq = site.fault_ids["burst_503"]
    assert get(site, f"/playlist/mainSongList?plmSeq={seq}").status_code == 503


def test_content_faults_need_quarantine(site):
    seq = site.fault_ids["truncated_html"]
    pl = site.catalogue.get(seq)
    r = get(site, f"/playlist/detailView?plmSeq={seq}")
    assert r.status_code == 200 and "</html>" not in r.text
    rows = Selector(text=r.text).css(".music-list-wrap .list-wrap tbody tr[songid]")
    assert len(rows) < pl.song_count
    seq = site.fault_ids["missing_title"]
    sel = Selector(text=get(site, f"/playlist/detailView?plmSeq={seq}").text)
    assert sel.css(".playlist-info .info") and not sel.css(".info__title::text").get()
    seq = site.fault_ids["missing_song_table"]
    sel = Selector(text=get(site, f"/playlist/detailView?plmSeq={seq}").text)
    assert sel.css(".info__title::text").get() and not sel.css(".music-list-wrap")


def test_failures_timeout_redirect_slow(site):
    seq = site.fault_ids["persistent_500"]
    assert [get(site, f"/playlist/detailView?plmSeq={seq}").status_code for _ in range(4)] == [500] * 4
    seq = site.fault_ids["timeout"]
    with pytest.raises(requests.exceptions.ReadTimeout):
        get(site, f"/playlist/detailView?plmSeq={seq}", timeout=0.5)
    seq = site.fault_ids["redirect"]
    r = get(site, f"/playlist/detailView?plmSeq={seq}", allow_redirects=False)
    assert r.status_code == 302 and r.headers["Location"] == f"/playlist/detailView?plmSeq={seq}&ref=genie"
    followed = get(site, f"/playlist/detailView?plmSeq={seq}")
    assert followed.status_code == 200 and followed.history and Selector(text=followed.text).css(".info__title::text").get()
    seq = site.fault_ids["slow"]
    assert get(site, f"/playlist/detailView?plmSeq={seq}").status_code == 200


def test_cover_faults(site):
    pl = site.catalogue.get(site.fault_ids["cover_not_image"])
    r = get(site, pl.cover_path)
    assert r.status_code == 200 and r.headers["Content-Type"] == "image/jpeg"
    with pytest.raises(UnidentifiedImageError):
        Image.open(io.BytesIO(r.content))
    pl = site.catalogue.get(site.fault_ids["cover_404"])
    assert get(site, pl.cover_path).status_code == 404
    assert get(site, pl.cover_path + "/dims/resize/Q_244,244").status_code == 404
    # the detail page itself is fine
    assert Selector(text=get(site, f"/playlist/detailView?plmSeq={pl.plm_seq}").text).css(".info__title::text").get()


def test_robots_and_the_disallowed_maker_link(site):
    robots = get(site, "/robots.txt").text
    assert "Disallow: /search/" in robots and "Disallow: /member/" in robots
    maker = Selector(text=get(site, "/playlist/detailView?plmSeq=1").text).css(".info__data dd a::attr(href)").get()
    assert maker.startswith("/search/")
    before = site.request_log.count("/search/")
    assert get(site, maker).status_code == 200
    assert site.request_log.count("/search/") == before + 1


def test_walking_all_ids_matches_the_ground_truth(site):
    gt = site.ground_truth()
    found, missing = [], []
    clean = set(range(1, gt["counts"]["max_plm_seq"] + 1)) - set(site.fault_ids.values())
    for seq in sorted(clean):
        text = get(site, f"/playlist/detailView?plmSeq={seq}").text
        (missing if NOT_FOUND_MARKER in text else found).append(seq)
    assert missing == gt["missing_plm_seqs"]["plm_seqs"]
    expected = {p["plm_seq"] for p in gt["playlists"]} - set(site.fault_ids.values())
    assert set(found) == expected
    outcomes = {p["plm_seq"]: p["expected_outcome"] for p in gt["playlists"]}
    assert outcomes[site.fault_ids["timeout"]] == "failed"
    assert outcomes[site.fault_ids["cover_404"]] == "item_bad_cover"
    assert site.request_log.count("/playlist/detailView", status=200) >= len(found)


def test_concurrent_requests_are_served(site):
    results: list[int] = []
    lock = threading.Lock()

    def worker(seq: int) -> None:
        with requests.Session() as s:
            for _ in range(5):
                code = s.get(f"{site.base_url}/playlist/detailView?plmSeq={seq}", timeout=10).status_code
                with lock:
                    results.append(code)

    threads = [threading.Thread(target=worker, args=(seq,)) for seq in list(site.catalogue.playlists)[:10]]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert results == [200] * 50


def test_set_revision_changes_only_listed_pages(tmp_path):
    with DemoSite(seed=7, scale="tiny") as site:
        before = {seq: get(site, f"/playlist/detailView?plmSeq={seq}").text for seq in list(site.catalogue.playlists)[:30]}
        site.set_revision(1)
        log = site.catalogue.revision_log[1]
        new = log["new"][0]
        assert NOT_FOUND_MARKER not in get(site, f"/playlist/detailView?plmSeq={new}").text
        newest = Selector(text=get(site, "/playlist/popular?sortOrd=RDD").text).css(".item_cover .cover::attr(onclick)").get()
        assert f"'{max(log['new'])}'" in newest
        for seq, text in before.items():
            now = get(site, f"/playlist/detailView?plmSeq={seq}").text
            assert (now != text) == (seq in log["changed"])
        path = site.write_ground_truth(tmp_path / "gt.json")
        gt = json.loads(path.read_text(encoding="utf-8"))
        assert gt["revision"] == 1 and gt["revisions"]["1"]["new"] == log["new"]
        assert gt["counts"]["playlists"] == len(site.catalogue.playlists)


def test_cli_serve_and_ground_truth(tmp_path):
    out = tmp_path / "gt.json"
    done = subprocess.run([sys.executable, "-m", "demo_site", "ground-truth", "--scale", "tiny", "--seed", "7",
                           "--out", str(out)], cwd=REPO, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    gt = json.loads(out.read_text(encoding="utf-8"))
    assert gt["counts"]["playlists"] == 50 and gt["faults"]["rate"] > 0

    proc = subprocess.Popen([sys.executable, "-m", "demo_site", "serve", "--scale", "tiny", "--port", "0",
                             "--no-cache-dir", "--faults", "none"], cwd=REPO, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline().strip()
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", line), proc.stderr.read() if not line else line
        assert "Disallow" in requests.get(line + "/robots.txt", timeout=10).text
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)


def test_a_not_found_heavy_site_answers_http_404_and_410():
    from demo_site.catalogue import generate

    gaps = generate(7, "tiny").missing_plm_seqs
    plan = FaultPlan.not_found_heavy(10).with_overrides({30: "gone_410", 31: "no_cover_meta"})
    with DemoSite(seed=7, scale="tiny", faults=plan) as running:
        for seq in (1, 5, 9):
            assert get(running, f"/playlist/detailView?plmSeq={seq}").status_code == 404
            assert get(running, f"/playlist/mainSongList?plmSeq={seq}").status_code == 404
        assert get(running, "/playlist/detailView?plmSeq=10").status_code == 200
        high_gap = next(g for g in gaps if g >= 10)
        assert get(running, f"/playlist/detailView?plmSeq={high_gap}").status_code == 404  # not Genie's 200 page
        assert get(running, "/playlist/detailView?plmSeq=30").status_code == 410
        bare = get(running, "/playlist/detailView?plmSeq=31")
        assert bare.status_code == 200 and "og:image" not in bare.text and "info__title" in bare.text
        # Listings are unchanged: the deleted low ids still show there.
        assert "fnPlaylistDetail('1')" in get(running, "/playlist/popular?sortOrd=RDD&pg=1").text
        truth = running.ground_truth()
    outcomes = {p["plm_seq"]: p["expected_outcome"] for p in truth["playlists"]}
    assert {outcomes[s] for s in range(1, 10) if s in outcomes} == {"not_found"}
    assert outcomes[30] == "not_found" and outcomes[31] == "item" and outcomes[10] == "item"
    assert not running.errors
