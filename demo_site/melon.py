"""Kakao Arena's "Melon Playlist Continuation" dataset, in its published format, made from the demo catalogue.

``write_dataset(out, seed, scale, faults)`` writes the dataset's own files into ``out``, exactly as Kakao
Arena published them (JSON, UTF-8, ``ensure_ascii=False``, Python's default separators):

- ``train.json``, ``val.json``, ``test.json``: arrays of ``{"tags", "id", "plylst_title", "songs", "like_cnt",
  "updt_date"}``; playlist ids unique across the three files, drawn from ``0..slots-1`` like the real ones
  (153,429 slots for 148,826 playlists at full scale) and shuffled across files. A small share of the val/test
  playlists have their songs or their tags masked (empty lists), as in the real question files.
- ``song_meta.json``: an array of songs ``{"song_gn_dtl_gnr_basket", "issue_date", "album_name", "album_id",
  "artist_id_basket", "song_name", "song_gn_gnr_basket", "artist_name_basket", "id"}``, ids ``0..N-1``.
- ``genre_gn_all.json``: Melon's genre codes (30 major codes GN0100..GN3000, each with its ``GNxx01``
  "세부장르전체" and detail codes; 253 in all, the real file has 254).

Beside them, for evaluation only, ``ground_truth.json`` (compact): each song id's canonical song key, in the
Genie demo site's convention (``SongPool.canonical_key``: ``'<canonical artist> - <base title>'``), so a
Melon song and a Genie demo song that are one song have one key; which Melon songs are Genie songs and how
Melon spells them (``shared_with_genie``); the planted hard negatives and re-releases; the planted faults.

Content (deterministic for ``(seed, scale)``: the same arguments write byte-identical files):

- Shared songs: a share (~25%) of the songs in the playlists of the Genie catalogue of the same scale name
  (popular ones more often), each in one Melon spelling class (``SHARED_CLASSES``), every one of which the
  catalogue build merges with the Genie spelling (``spark_jobs.normalise``: the same ``artist|title`` key once
  credits, glosses, spacing, case and punctuation are folded, aliases learned from ``A (B)`` forms, a
  collaboration read as a set of names). Melon lists featured artists in the title, never in the artist
  basket (the build would read ``A, X`` as a collaboration, another song), and splits collaborations into
  the basket.
- Cross-source hard negatives (``NEGATIVE_CLASSES``), Melon-only songs that look like a shared song and are
  not it: another artist's cover (same title), a ``(Live)`` version, an ``(Inst.)`` track on the same album.
- Re-releases: a few percent of songs again on a compilation or an edition album (another song id and album,
  the same artist and title): the same key.
- The rest: Melon-only songs, by pool artists (real artists of the reference) and by made-up artists, titles
  from the demo site's word models (Korean and English), album tracks and singles.
- Popularity Zipf-like over a random rank (shared songs near the head); playlists draw songs matching their
  tags' moods, an optional genre and a language mix, so tag co-occurrence and song co-occurrence mean something.
  Tags: the taxonomy tags a playlist is about (in Melon's spellings) plus free tags drawn from the real Melon
  tag frequencies (``data/melon_tag_counts.csv.gz``).

``faults="default"`` plants a few of each bad-input class (``FAULT_CLASSES``) into the files and lists them in
the ground truth; ``"none"`` writes clean files.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import random
import re
import unicodedata
from array import array
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator

import numpy as np

from core import files
from demo_site import catalogue, reference, songs, texts
from demo_site.taxonomy import GENRES, MELON_ALIASES, MOOD_CLASSES, MOOD_TAGS, PLANTED_GROUPS

GENERATOR_VERSION = 1


@dataclass(frozen=True)
class MelonScale:
    train: int
    val: int
    test: int
    songs: int  # records in song_meta.json
    length_mu: float  # songs per playlist: lognormal(mu, sigma), clipped to 1..length_max
    length_sigma: float
    length_max: int

    @property
    def playlists(self) -> int:
        return self.train + self.val + self.test


SCALES: dict[str, MelonScale] = {
    "tiny": MelonScale(80, 25, 15, 2_000, 2.75, 0.6, 40),
    "demo": MelonScale(2_320, 464, 216, 30_000, 3.45, 0.85, 200),
    "full": MelonScale(115_071, 23_015, 10_740, 707_989, 3.5, 0.85, 200),  # the real release's sizes
}
REAL_ID_SLOTS, REAL_PLAYLISTS = 153_429, 148_826  # real playlist ids lie in 0..153,428
FILES = ("train.json", "val.json", "test.json", "song_meta.json", "genre_gn_all.json")
GROUND_TRUTH = "ground_truth.json"

SHARED_CLASSES = ("same", "spacing_case", "feat", "collaboration", "gloss", "alias")
NEGATIVE_CLASSES = ("neg_cover", "neg_live", "neg_inst")
FAULT_CLASSES = ("playlist_without_id", "playlist_songs_missing", "unknown_song_ids", "unknown_genre_codes",
                 "duplicate_playlist_ids", "absurd_updt_date", "song_without_id")
ABSURD_DATES = ("0000-00-00 00:00:00.000", "2999-01-01 00:00:00.000", "not a date")
UNKNOWN_GENRE, UNKNOWN_DETAIL = "GN9999", "GN9901"

# Genie row variants whose spelling the build's plain rules join to the song (songs.row_display), and the
# hard negatives' own rows (they show the negative as it is).
_PLAIN_VARIANTS = frozenset({"spacing", "case", "fullwidth", "feat", "re_release", *songs.NEGATIVE_CLASSES})
SHARED_SHARE = 0.25  # of the distinct Genie songs in the Genie catalogue's playlists
RE_RELEASE_SHARE = 0.03
NEGATIVE_SHARE = 0.015  # per class, of the shared songs
MIN_PER_CLASS = 3  # every shared and negative class, at every scale
POOL_ARTIST_SHARE = 0.2  # Melon-only songs by the reference's (pool) artists
VARIOUS_SHARE = 0.004  # Melon-only songs credited to "Various Artists" (real Melon has them)
DUET_SHARE = 0.04
NEAR_TITLE = 85.0  # titles on one album stay further apart than this rapidfuzz ratio (the build joins >= 90)
ZIPF_A, ZIPF_K = 1.0, 400.0  # song weight 1/(rank + K)^A: top song in ~1.5% of playlists at full scale
MASK_SONGS, MASK_TAGS = 0.02, 0.03  # of val/test playlists
LAST_DAY = dt.date(2020, 4, 16)  # the newest updt_date / issue_date in the real release
FIRST_DAY = dt.date(2005, 1, 1)
VARIOUS_ARTISTS, VARIOUS_ARTISTS_ID = "Various Artists", 2727

# --------------------------------------------------------------------------- genres
# (code, name, detail names after GNxx01 "세부장르전체"); Melon's major codes with plausible details.
MAJOR_GENRES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("GN0100", "발라드", ("'80", "'90", "'00", "'10-")),
    ("GN0200", "댄스", ("'80", "'90", "'00", "'10-")),
    ("GN0300", "랩/힙합", ("랩 스타일", "보컬 스타일", "언더그라운드 힙합", "시대별")),
    ("GN0400", "R&B/Soul", ("어반", "R&B", "소울", "'90", "'00", "'10-")),
    ("GN0500", "인디음악", ("포크", "록", "일렉", "힙합", "발라드", "'90", "'00", "'10-")),
    ("GN0600", "록/메탈", ("록", "메탈", "모던록", "하드코어", "'80-'90", "'00-")),
    ("GN0700", "성인가요", ("트로트", "세미트로트", "성인발라드", "'60-'70", "'80-'90", "'00-")),
    ("GN0800", "포크/블루스", ("포크", "블루스", "컨트리", "'60-'70", "'80-'90", "'00-")),
    ("GN0900", "POP", ("얼터너티브팝", "올디스", "월드팝", "'60-'70", "'80-'90", "'00", "'10-")),
    ("GN1000", "록/메탈", ("록", "메탈", "모던록", "얼터너티브록", "하드록", "프로그레시브/아트록", "헤비메탈", "하드코어",
                         "펑크", "'60-'70", "'80-'90", "'00-")),
    ("GN1100", "일렉트로니카", ("일렉트로니카", "하우스", "클럽뮤직", "트랜스", "테크노", "일렉트로팝", "덥스텝/트랩",
                           "칠아웃/다운템포")),
    ("GN1200", "랩/힙합", ("랩", "힙합", "얼터너티브 힙합", "트랩", "언더그라운드 힙합", "'80-'90", "'00-")),
    ("GN1300", "R&B/Soul", ("R&B", "소울", "어반", "펑크/디스코", "'60-'70", "'80-'90", "'00-")),
    ("GN1400", "포크/블루스/컨트리", ("포크", "블루스", "컨트리", "어쿠스틱", "'60-'70", "'80-'90", "'00-")),
    ("GN1500", "OST", ("국내영화", "해외영화", "국내드라마", "해외드라마", "애니메이션/게임", "국내뮤지컬", "해외뮤지컬", "게임")),
    ("GN1600", "클래식", ("관현악", "교향곡", "실내악", "협주곡", "독주곡", "오페라", "성악/합창", "크로스오버", "발레/무용",
                       "현대음악", "종교음악")),
    ("GN1700", "재즈", ("보컬 재즈", "연주 재즈", "퓨전 재즈", "스무스 재즈", "라틴 재즈", "빅밴드/스윙", "비밥", "국내재즈")),
    ("GN1800", "뉴에이지", ("피아노", "기타", "자연/명상", "크로스오버", "국내뉴에이지", "해외뉴에이지")),
    ("GN1900", "J-POP", ("J-Pop", "J-Rock", "J-Hiphop/R&B", "J-Electronica", "애니메이션", "시티팝")),
    ("GN2000", "월드뮤직", ("샹송/칸초네", "라틴", "켈틱/아일랜드", "아프리카", "레게", "탱고", "보사노바", "C-POP")),
    ("GN2100", "CCM", ("국내CCM", "해외CCM", "워십", "찬송가", "어린이CCM", "연주CCM")),
    ("GN2200", "어린이/태교", ("유아동요", "어린이동요", "영어동요", "동화", "자장가", "태교음악", "만화")),
    ("GN2300", "종교음악", ("찬불가", "성가", "명상음악", "종교일반")),
    ("GN2400", "국악", ("국악 크로스오버", "민요", "판소리/단가", "정악", "산조", "국악동요", "사물놀이")),
    ("GN2500", "아이돌", ("남자 아이돌", "여자 아이돌", "랩/힙합", "발라드", "댄스")),
    ("GN2600", "일렉트로니카", ("일렉트로닉", "하우스", "EDM", "클럽", "트랜스", "칠아웃")),
    ("GN2700", "애시드/퓨전/팝", ("애시드 재즈", "퓨전", "라운지", "시티팝", "브릿팝")),
    ("GN2800", "뮤직테라피", ("수면", "힐링", "집중력", "태교", "명상", "자연의 소리")),
    ("GN2900", "뮤지컬", ("국내뮤지컬", "해외뮤지컬", "오리지널 캐스트", "갈라")),
    ("GN3000", "국내드라마", ("드라마 OST", "웹드라마", "예능", "시트콤")),
)
MAJOR_CODES: tuple[str, ...] = tuple(code for code, _n, _d in MAJOR_GENRES)
_MAJOR = {code: i for i, code in enumerate(MAJOR_CODES)}


def genre_table() -> dict[str, str]:
    """genre_gn_all.json: every code, major codes followed by their details, in code order."""
    out: dict[str, str] = {}
    for code, name, details in MAJOR_GENRES:
        out[code] = name
        out[f"{code[:4]}01"] = "세부장르전체"
        for i, detail in enumerate(details):
            out[f"{code[:4]}{i + 2:02d}"] = detail
    return out


_ERA = {"'60-'70": (1950, 1979), "'80": (1980, 1989), "'80-'90": (1980, 1999), "'90": (1990, 1999),
        "'00": (2000, 2009), "'00-": (2000, 2100), "'10-": (2010, 2100)}


def _details(code: str, year: int, u: float, u_all: float) -> list[str]:
    """1-2 detail codes of a song of major ``code`` issued in ``year`` (0 unknown): its era's where the major
    has eras (else a style), with the major's GNxx01 "세부장르전체" beside it half the time."""
    details = MAJOR_GENRES[_MAJOR[code]][2]
    eras = [i for i, d in enumerate(details) if d in _ERA and _ERA[d][0] <= year <= _ERA[d][1]]
    styles = [i for i, d in enumerate(details) if d not in _ERA] or list(range(len(details)))
    pick = eras if eras and (u < 0.7 or len(styles) == len(details)) else styles
    chosen = f"{code[:4]}{pick[int(u * 1000) % len(pick)] + 2:02d}"
    return [chosen, f"{code[:4]}01"] if u_all < 0.5 else [chosen]


# Demo genre -> (major code for a Korean artist, for a foreign artist). 가요 goes by mood (below).
_DEMO_MAJOR = {
    "발라드": ("GN0100", "GN0900"), "댄스": ("GN0200", "GN0900"), "락/메탈": ("GN0600", "GN1000"),
    "POP": ("GN0900", "GN0900"), "랩/힙합": ("GN0300", "GN1200"), "일렉트로니카": ("GN2600", "GN1100"),
    "인디": ("GN0500", "GN0900"), "블루스/포크": ("GN0800", "GN1400"), "트롯": ("GN0700", "GN0700"),
    "OST": ("GN1500", "GN1500"), "JPOP": ("GN1900", "GN1900"), "재즈": ("GN1700", "GN1700"),
    "클래식": ("GN1600", "GN1600"), "뉴에이지": ("GN1800", "GN1800"), "월드뮤직": ("GN2000", "GN2000"),
    "R&B/소울": ("GN0400", "GN1300"),
}
# Major -> the demo genre its playlist titles speak of (texts.GENRE_NOUN), where there is one.
_MAJOR_DEMO = {"GN0100": "발라드", "GN0200": "댄스", "GN0300": "랩/힙합", "GN0400": "R&B/소울", "GN0500": "인디",
               "GN0600": "락/메탈", "GN0700": "트롯", "GN0800": "블루스/포크", "GN0900": "POP", "GN1000": "락/메탈",
               "GN1100": "일렉트로니카", "GN1200": "랩/힙합", "GN1300": "R&B/소울", "GN1400": "블루스/포크",
               "GN1500": "OST", "GN1600": "클래식", "GN1700": "재즈", "GN1800": "뉴에이지", "GN1900": "JPOP",
               "GN2000": "월드뮤직", "GN2600": "일렉트로니카", "GN3000": "OST"}
# Mood weights per major (bright, love, sad, calm, intense, groove), for Melon-only songs and genre focus.
_MAJOR_MOODS: dict[str, tuple[float, ...]] = {
    "GN0100": (0.5, 3, 4, 2, 0, 0.3), "GN0200": (4, 1.5, 0.3, 0.1, 1, 2.5), "GN0300": (1, 0.5, 0.5, 0.3, 3, 3),
    "GN0400": (0.5, 2.5, 1, 1, 0.1, 3.5), "GN0500": (1, 1.5, 1.5, 4, 0.5, 0.5), "GN0600": (1, 0.3, 0.7, 0.3, 4, 0.3),
    "GN0700": (3, 1.5, 1.5, 1, 0.2, 0.3), "GN0800": (0.5, 1, 2, 4, 0.1, 0.1), "GN0900": (3, 2.5, 1, 1.5, 0.5, 1.5),
    "GN1000": (1, 0.3, 0.7, 0.5, 4, 0.3), "GN1100": (2.5, 0.3, 0.2, 1, 1.5, 3), "GN1200": (0.8, 0.5, 0.3, 0.2, 3, 3),
    "GN1300": (0.5, 2.5, 1, 1, 0.1, 3.5), "GN1400": (0.5, 1, 1.5, 4, 0.1, 0.2), "GN1500": (0.7, 2.5, 3, 2, 0.8, 0.2),
    "GN1600": (0.3, 0.3, 0.5, 5, 1, 0.1), "GN1700": (0.3, 1, 0.5, 3.5, 0.1, 2.5), "GN1800": (0.2, 0.5, 0.8, 6, 0.1, 0.1),
    "GN1900": (2.5, 1, 1, 1.5, 1, 0.8), "GN2000": (2, 1, 0.5, 1.5, 0.2, 2), "GN2100": (1, 1, 0.5, 4, 0.2, 0.1),
    "GN2200": (3, 0.5, 0.1, 3, 0.1, 0.1), "GN2300": (0.2, 0.2, 0.5, 5, 0.1, 0.1), "GN2400": (1, 0.5, 1, 3, 0.5, 0.2),
    "GN2500": (3.5, 2, 1, 0.2, 1, 2), "GN2600": (2.5, 0.3, 0.2, 0.8, 1.5, 3), "GN2700": (1, 1, 0.3, 2, 0.1, 3),
    "GN2800": (0.1, 0.1, 0.2, 6, 0.1, 0.1), "GN2900": (1, 2, 1.5, 1, 2, 0.3), "GN3000": (0.5, 2.5, 3, 1.5, 0.5, 0.2),
}
# How often Melon-only songs of a Korean / a foreign artist are of each major.
_KR_MAJORS = {"GN0100": 14, "GN0200": 9, "GN0300": 7, "GN0400": 5, "GN0500": 14, "GN0600": 4, "GN0700": 4,
              "GN0800": 3, "GN1500": 6, "GN1600": 1, "GN1700": 1, "GN1800": 2, "GN2100": 3, "GN2200": 1.5,
              "GN2300": 0.5, "GN2400": 1, "GN2600": 2, "GN2700": 0.5, "GN2800": 1, "GN2900": 1, "GN3000": 1}
_FOREIGN_MAJORS = {"GN0900": 22, "GN1000": 9, "GN1100": 9, "GN1200": 7, "GN1300": 6, "GN1400": 3, "GN1500": 4,
                   "GN1600": 7, "GN1700": 6, "GN1800": 3, "GN1900": 5, "GN2000": 2, "GN2100": 1, "GN2200": 0.5,
                   "GN2700": 1, "GN2800": 0.5, "GN2900": 1}
# A playlist's genre tag, in Melon's spellings (the first one the tag counts have wins ties).
_GENRE_TAGS: dict[str, tuple[str, ...]] = {
    "GN0100": ("발라드",), "GN0200": ("댄스",), "GN0300": ("힙합", "랩", "국내힙합"), "GN0400": ("R&B", "알앤비"),
    "GN0500": ("인디", "인디음악"), "GN0600": ("락", "록", "밴드"), "GN0700": ("트로트", "성인가요"),
    "GN0800": ("포크", "어쿠스틱"), "GN0900": ("팝", "POP", "팝송"), "GN1000": ("락", "록", "밴드"),
    "GN1100": ("일렉트로닉", "EDM", "일렉"), "GN1200": ("힙합", "외힙", "랩"), "GN1300": ("R&B", "알앤비", "소울"),
    "GN1400": ("포크", "컨트리", "어쿠스틱"), "GN1500": ("OST", "드라마"), "GN1600": ("클래식",), "GN1700": ("재즈",),
    "GN1800": ("뉴에이지", "피아노"), "GN1900": ("J-POP", "제이팝", "일본"), "GN2000": ("월드뮤직",),
    "GN2100": ("CCM", "찬양"), "GN2200": ("동요", "태교"), "GN2300": ("찬송가", "명상"), "GN2400": ("국악",),
    "GN2500": ("아이돌", "케이팝"), "GN2600": ("EDM", "일렉트로닉"), "GN2700": ("애시드재즈", "퓨전"),
    "GN2800": ("힐링", "명상"), "GN2900": ("뮤지컬",), "GN3000": ("드라마", "OST"),
}

# --------------------------------------------------------------------------- spelling helpers
# The catalogue build's comparison form (spark_jobs.normalise.fold, which demo_site may not import).
_NOT_WORD = re.compile(r"[\W_]+")
_SPACES = re.compile(r"\s+")
_COLLAB = re.compile(r"\s*(?:,|&|\+|×|/|;)\s*|\s+(?:x|with|and)\s+", re.IGNORECASE)
_HANGUL = re.compile(r"[\u1100-\u11ff\u3130-\u318f\uac00-\ud7a3]")
# Words a gloss never holds: the build reads a bracket holding one as a credit or a version, not a gloss.
_NOT_GLOSS_WORDS = frozenset("""
    live remix remixed mix edit dub sped slowed reverb nightcore speed inst instrumental mr ver version acoustic
    unplugged explicit clean duet remake demo cover cappella acapella extended original short tv size solo intro
    outro interlude skit reprise prologue epilogue part pt chapter vol end title korean japanese english chinese
    spanish thai k j e c kor jpn eng chn dance ballad rock jazz piano guitar orchestra orchestral strings club
    disco trot tango bossa nova house techno edm lofi lo-fi rap hip hop hiphop hip-hop swing funk reggae bonus
    hidden ost soundtrack from feat ft featuring with prod produced remaster remastered by a o.s.t
""".split())
_NOT_GLOSS_HANGUL = ("라이브", "리믹스", "반주", "버전", "리메이크", "한국어", "일본어", "영어", "중국어", "삽입곡", "주제곡",
                     "리마스터")
_NOT_GLOSS_WHOLE = frozenset({"댄스", "발라드", "록", "락", "재즈", "피아노", "기타", "오케스트라", "트로트", "랩"})
_CREDIT_WORDS = frozenset({"feat", "ft", "featuring", "prod"})


def fold(text: str) -> str:
    """The comparison form the build keys songs by: NFKC, case-folded, without spaces or punctuation."""
    text = _SPACES.sub(" ", unicodedata.normalize("NFKC", text or "")).strip().casefold()
    return _NOT_WORD.sub("", text) or text.replace(" ", "")


def _scripts(text: str) -> frozenset[str]:
    found = set()
    for ch in text:
        if _HANGUL.match(ch):
            found.add("hangul")
        elif "\u4e00" <= ch <= "\u9fff" or "\u3040" <= ch <= "\u30ff":
            found.add("cjk")
        elif ch.isalpha():
            found.add("latin")
    return frozenset(found)


_ALIAS_FORM = re.compile(r"^([^()\[\],&;/+]+?)\s*\(([^()\[\],&;/+]+)\)$")
_LATIN = re.compile(r"[A-Za-z]")


def _alias_pair(name: str) -> tuple[str, str] | None:
    """`아이유 (IU)` -> ('아이유', 'IU'): the Hangul/Latin pairs the build learns aliases from, else None."""
    found = _ALIAS_FORM.match(_SPACES.sub(" ", unicodedata.normalize("NFKC", name)).strip())
    if not found:
        return None
    x, y = found.group(1).strip(), found.group(2).strip()
    hx, hy = bool(_HANGUL.search(x)), bool(_HANGUL.search(y))
    other = y if hx else x
    if hx == hy or not (_LATIN.search(other) or any(c.isdigit() for c in other)):
        return None
    return (x, y) if fold(x) and fold(y) and fold(x) != fold(y) else None


def split_names(name: str) -> tuple[str, ...]:
    """A collaboration's names as the build reads them (no split inside brackets: such a name stays whole)."""
    if any(c in name for c in "()[]"):
        return (name,)
    parts = tuple(p.strip() for p in _COLLAB.split(name) if p and p.strip() and fold(p))
    return parts or (name,)


def _artist_set(names: Iterable[str]) -> str:
    return "&".join(sorted({songs.norm_text(p) for n in names for p in split_names(n)}))


def _plain(title: str) -> bool:
    return bool(title.strip()) and not any(c in title for c in "()[]") and bool(songs.norm_text(title))


def _gloss_ok(title: str, gloss: str) -> bool:
    """Whether the build reads ``title (gloss)`` as the title with a gloss: another script, no version word."""
    ts, gs = _scripts(title), _scripts(gloss)
    if len(ts) != 1 or not gs or ts & gs or len(gs) != 1 or fold(gloss) == fold(title):
        return False
    if gs == {"latin"}:
        words = [w.strip(".").lower() for w in gloss.split()]
        return (not any(w in _NOT_GLOSS_WORDS or w in songs._VERSION_WORDS for w in words)
                and not all(w in songs._FUNCTION_WORDS for w in words))
    return (gloss.strip() not in _NOT_GLOSS_WHOLE and not any(h in gloss for h in _NOT_GLOSS_HANGUL)
            and all(_HANGUL.match(c) or c == " " for c in gloss))


_NOTE = re.compile(r"remaster|리마스터|\bost\b|o\.s\.t|soundtrack|^from\b|삽입곡|주제곡|^(?:feat|ft|featuring|with|prod)\b",
                   re.IGNORECASE)


def _note_free(title: str) -> list[str]:
    """The title folded without the bracketed notes the build drops from a key (remaster, OST, credits, a
    gloss in another script): roughly spark_jobs.normalise.parse_title's key; then each gloss (the build joins
    a title with its gloss alone, ``Replay`` and ``누난 너무 예뻐 (Replay)``)."""
    text = unicodedata.normalize("NFKC", title)
    base = re.sub(r"[(\[][^()\[\]]*[)\]]", " ", text)
    base_scripts = _scripts(base)
    kept, glosses = [base], []
    for inner in re.findall(r"[(\[]([^()\[\]]*)[)\]]", text):
        gloss = base_scripts and _scripts(inner) and not base_scripts & _scripts(inner)
        if gloss:
            glosses.append(songs.norm_text(inner))
        elif not _NOTE.search(inner.strip()):
            kept.append(inner)
    key = songs.norm_text(re.split(r"\s+(?:feat\.|ft\.|featuring\s)", " ".join(kept), flags=re.IGNORECASE)[0])
    return [key, *(g for g in glosses if g)]


def _title_ok(title: str) -> bool:
    """A generated title the build parses as itself: no bracket, no credit word that would split it."""
    return _plain(title) and not any(w.strip(".").lower() in _CREDIT_WORDS for w in title.split())


# --------------------------------------------------------------------------- synthetic artists
_SURNAMES = tuple("김이박최정강조윤장임한오서신권황안송류홍전고문양손배백허유남심노하곽성차주우구민진나지엄채원천방공현함변염여추도소석선설마길연위표명기반왕금옥육인맹제모탁국어은편용예경봉")
_GIVEN = tuple("민서지현수준우진영하은윤예도주희연유아재승성태정혜경소나다채시원가건율린찬혁훈석호빈솔별결온해설람담봄")
_FIRST = ("Emma", "Liam", "Olivia", "Noah", "Ava", "Ethan", "Mia", "Lucas", "Chloe", "Owen", "Ruby", "Leo", "Ivy",
          "Jack", "Nora", "Miles", "Hazel", "Felix", "Clara", "Jonah", "Stella", "Theo", "Luna", "Oscar", "Iris",
          "Caleb", "Maya", "Elliot", "Violet", "Hugo", "Alice", "Julian", "Sadie", "Max", "Ella", "Adam", "Lola",
          "Simon", "Rosa", "Dean")
_LAST = ("Smith", "Brooks", "Carter", "Hayes", "Rivera", "Ward", "Palmer", "Reed", "Foster", "Quinn", "Hart",
         "Lane", "Fox", "Stone", "Wells", "Blake", "Grant", "Cole", "Shaw", "Price", "Moreau", "Berg", "Lund",
         "Kovac", "Sato", "Tanaka", "Rossi", "Novak", "Weber", "Silva", "Diaz", "Young", "Moon", "Field", "Cruz")
_KR_GROUP = ("밴드", "스", "즈", " 프로젝트", "", " 트리오", "들", " 사운드")
_EN_GROUP = ("The {w}s", "{w} {v}", "{w}", "Lil {w}", "DJ {w}", "{w} Band", "{w} Club", "{f} {l}", "{f} {l}",
             "{f} {l}", "{w} Kids", "MC {w}")


def _synthetic_artist(r: random.Random, korean: bool, kr: songs._WordModel, en: songs._WordModel) -> str:
    if korean:
        if r.random() < 0.65:
            return r.choice(_SURNAMES) + r.choice(_GIVEN) + r.choice(_GIVEN)
        return kr.word(r) + r.choice(_KR_GROUP)
    pattern = r.choice(_EN_GROUP)
    return pattern.format(w=en.word(r), v=en.word(r), f=r.choice(_FIRST), l=r.choice(_LAST))


# --------------------------------------------------------------------------- titles and names
_CLASSICAL = ("Symphony No. {n} in {k} {m}, Op. {o}: {p}", "Piano Sonata No. {n} in {k} {m}, Op. {o}: {p}",
              "{f} No. {n} in {k} {m}, Op. {o}", "Concerto No. {n} in {k} {m}, Op. {o}: {p}")
_MOVEMENTS = ("I. Allegro", "II. Andante", "III. Scherzo", "IV. Finale", "I. Allegro con brio", "II. Adagio",
              "II. Largo", "III. Presto", "I. Moderato", "III. Rondo")
_COMPILATIONS = ("{year} K-POP Best Hits", "{year} 멜론 연말결산 베스트", "드라마 OST 베스트 Vol.{n}", "Now Hits {year}",
                 "발라드 명곡 베스트 {n}", "카페에서 듣기 좋은 노래 Vol.{n}", "{year} Summer Hits", "Greatest Love Songs Vol.{n}",
                 "드라이브 베스트 {n}", "{year} 인디 컴필레이션")
_EDITIONS = ("{album} (Remastered)", "{album} - Repackage", "{album} (Deluxe Edition)", "{album} (Special Edition)")
_LIVE_ALBUMS = ("{artist} Live Concert", "{artist} 콘서트 Live", "{artist} Live {year}", "Live at {year}")
_USER_TITLES = ("{tag} 모음", "{tag} 플레이리스트", "{tag} 감성", "내가 좋아하는 {tag} 노래", "[{tag}] 추천곡", "{tag} ♥",
                "{tag}..", "{tag} 할 때 듣는 노래", "{year} {tag}", "요즘 듣는 {tag}", "{tag} 좋아하는 사람 모여라", "오늘은 {tag}")
_PLAIN_USER_TITLES = ("요즘 듣는 노래", "나만 알고 싶은 노래", "출근길 플리", "ㅎㅎ", "내 노래", "들을 노래", "좋은 노래 모음",
                      "숨은 명곡", "그냥 좋은 노래", "감성 충전", "플레이리스트", "노동요", "아무 생각 없이 듣는 노래")
_EN_ADJ = {"bright": ("Happy", "Sunny", "Feel Good", "Upbeat"), "love": ("Sweet", "Lovely", "Romantic", "Pink"),
           "sad": ("Blue", "Lonely", "Rainy", "Midnight"), "calm": ("Chill", "Calm", "Soft", "Sunday"),
           "intense": ("Loud", "Power", "Heavy", "Wild"), "groove": ("Groovy", "Smooth", "Late Night", "City")}
_EN_NOUN = ("Vibes", "Playlist", "Mood", "Songs", "Tunes", "Mix", "Drive", "Morning", "Night", "Cafe", "Day")


def _issue_string(r: random.Random, day: dt.date, year_known: bool) -> str:
    """Melon's 8-digit issue date: often only the year ("20050000") or the month, now and then unknown."""
    u = r.random()
    old = day.year < 1995
    if u < 0.01 or (not year_known and u < 0.03):
        return "00000000"
    if u < (0.45 if old else 0.07):
        return f"{day.year}0000"
    if u < (0.55 if old else 0.1):
        return f"{day.year}{day.month:02d}00"
    return day.strftime("%Y%m%d")


def _random_day(r: random.Random, year: int | None = None) -> dt.date:
    if year is None:  # Melon's catalogue: mostly the last fifteen years, a long older tail
        year = int(2020 - 15 * (r.random() ** 1.6)) if r.random() < 0.75 else r.randrange(1960, 2006)
    year = min(max(year, 1950), LAST_DAY.year)
    start = dt.date(year, 1, 1)
    end = min(dt.date(year, 12, 31), LAST_DAY)
    return start + dt.timedelta(days=r.randrange((end - start).days + 1))


# --------------------------------------------------------------------------- the build
@dataclass
class _Artist:
    name: str  # as Melon shows it
    canonical: str  # the key's artist: the Genie pool's canonical name where it is a pool artist
    melon_id: int
    korean: bool


@dataclass
class _Albums:
    """Albums in columns: Melon album id, name, issue date (8 digits), year, two draws for genre details."""

    id: array = field(default_factory=lambda: array("q"))
    name: list[str] = field(default_factory=list)
    issue: list[str] = field(default_factory=list)
    year: array = field(default_factory=lambda: array("h"))
    u: array = field(default_factory=lambda: array("d"))
    u_all: array = field(default_factory=lambda: array("d"))

    def add(self, album_id: int, name: str, issue: str, year: int, u: float, u_all: float) -> int:
        self.id.append(album_id)
        self.name.append(name)
        self.issue.append(issue)
        self.year.append(year)
        self.u.append(u)
        self.u_all.append(u_all)
        return len(self.name) - 1

    def __len__(self) -> int:
        return len(self.name)


class _Builder:
    """Everything of one (seed, scale) in columns; ``write`` streams it out."""

    def __init__(self, seed: int, scale: str, faults: str):
        if scale not in SCALES:
            raise ValueError(f"unknown scale {scale!r}; choose one of {', '.join(SCALES)}")
        if faults not in ("none", "default"):
            raise ValueError("faults must be 'none' or 'default'")
        self.seed, self.scale_name, self.faults_mode = int(seed), scale, faults
        self.scale = SCALES[scale]
        self.rng = np.random.default_rng([self.seed, 0x4D454C4F, list(SCALES).index(scale)])
        self.r = random.Random(f"melon:{self.seed}:{scale}")
        real = songs._real_songs(str(reference.override_dir() or reference.SHIPPED_SONGS))
        self.book, self.kr, self.en = real.book, real.kr, real.en
        self.tag_counts = reference.melon_tag_counts()
        # Melon songs by internal index j (ids come from a permutation at the end)
        self.kind: list[str] = []  # in_genie (shared with Genie) | negative | re_release | melon
        self.title: list[str] = []
        self.artists: list[tuple[int, ...]] = []  # indexes into self.artist_table
        self.album = array("i")  # numeric columns in arrays: the full scale has 708k songs
        self.major = array("b")
        self.major2 = array("b")  # -1: none
        self.mood = array("b")
        self.key: list[str | None] = []  # None: built from the artists' canonical names and the title
        self.score = array("d")  # popularity: smaller is more popular (a rank-like position)
        self._solo: dict[int, tuple[int]] = {}  # one tuple per single-artist basket
        self.artist_table: list[_Artist] = []
        self._artist_by_key: dict[str, int] = {}
        self._artist_mid: dict[str, int] = {}  # one Melon artist id per artist, whatever the spelling
        self.genie_index_of: dict[int, int] = {}  # j -> pool index of a shared song (and its re-releases)
        self.albums = _Albums()
        self.shared_class: dict[int, str] = {}
        self.negatives: dict[int, tuple[str, int]] = {}  # j -> (class, twin j)
        self.re_release_of: dict[int, int] = {}
        self.taken: set[int] = set()  # hash of (artist set, folded title) of every true song in use
        self._artist_ids = iter(self.rng.choice(np.arange(1, 3_000_000), size=3_000_000 // 8, replace=False).tolist())
        self._album_ids = iter(self.rng.choice(np.arange(1, 11_000_000), size=max(40_000, scale_albums(self.scale)),
                                               replace=False).tolist())

    # ---- tables
    def artist(self, name: str, canonical: str, korean: bool, melon_id: int | None = None) -> int:
        canon = songs.norm_text(canonical)
        key = f"{canon}\0{name}"
        idx = self._artist_by_key.get(key)
        if idx is None:
            mid = self._artist_mid.get(canon) if melon_id is None else melon_id
            while mid is None or (melon_id is None and mid == VARIOUS_ARTISTS_ID):
                mid = next(self._artist_ids)
            self._artist_mid[canon] = mid
            idx = self._artist_by_key[key] = len(self.artist_table)
            self.artist_table.append(_Artist(name, canonical, mid, korean))
        return idx

    def new_album(self, name: str, issue: str, year: int) -> int:
        return self.albums.add(next(self._album_ids), name, issue, year, self.r.random(), self.r.random())

    def add_song(self, kind: str, title: str, artists: tuple[int, ...], album: int, major: int, major2: int,
                 mood: int, key: str | None, score: float) -> int:
        self.kind.append(kind)
        self.title.append(title)
        if len(artists) == 1:
            artists = self._solo.setdefault(artists[0], artists)
        self.artists.append(artists)
        self.album.append(album)
        self.major.append(major)
        self.major2.append(major2)
        self.mood.append(mood)
        self.key.append(key)
        self.score.append(score)
        return len(self.kind) - 1

    def claim(self, names: Iterable[str], title: str) -> bool:
        """Reserve (artist set, title) for one true song; False when another song has it already, under any
        spelling the build may take for the same artist (its alias forms: ``DK(디셈버)`` is ``DK`` and ``디셈버``)."""
        names = list(names)
        hashes = self._hashes(names, title)
        if any(h in self.taken for h in hashes):
            return False
        self.taken.update(hashes)
        return True

    def _hashes(self, names: list[str], title: str) -> list[int]:
        tkey = songs.norm_text(title)
        if len(names) != 1:
            return [hash(f"{_artist_set(names)}|{tkey}")]
        return [hash(f"{_artist_set([v])}|{tkey}") for v in self._variants(names[0])]

    def _variants(self, name: str) -> list[str]:
        """A name and the spellings the build may read as the same artist: its alias parts and display forms."""
        out = [name]
        pair = _alias_pair(name)
        if pair:
            out += list(pair)
        idx = self.book.index.get(songs.norm_text(self.book.canonical(name)))
        if idx is not None:
            for form in self.book.artists[idx].display_forms:
                out.append(form)
                out += list(_alias_pair(form) or ())
        return list(dict.fromkeys(out))

    def song_key(self, j: int) -> str:
        key = self.key[j]
        if key is None:
            names = " & ".join(self.artist_table[a].canonical for a in self.artists[j])
            key = f"{names} - {self.title[j]}"
        return key

    # ---- the Genie side
    def load_genie(self) -> None:
        genie = catalogue.generate(self.seed, self.scale_name, fresh=self.scale_name == "full")
        self.genie_generator_version = catalogue.GENERATOR_VERSION
        pool = self.pool = genie.pool
        counts = np.zeros(len(pool), dtype=np.int64)
        self.genie_plain = np.zeros(len(pool), dtype=bool)  # some Genie row spells the song as a plain rule joins
        self.genie_other_forms: set[int] = set()  # pool artists some Genie row shows in another spelling
        for pl in genie.playlists.values():
            for row in pl.rows:
                counts[row.song] += 1
                if _PLAIN_VARIANTS.issuperset(row.variants):
                    self.genie_plain[row.song] = True
                a = pool.artist[row.song]
                if row.artist != pool.artists[a].name:
                    self.genie_other_forms.add(a)
        self.genie_counts = counts
        del genie
        for e in songs._real_songs(str(reference.override_dir() or reference.SHIPPED_SONGS)).entries:
            self.taken.update(self._hashes([self.book.artists[e["artist"]].name], e["title"]))
        for i in range(len(pool)):  # under its title and the forms the build reads it as (no notes, its gloss)
            name = pool.artists[pool.artist[i]].name
            for title in (pool.title[i], *_note_free(pool.title[i])):
                self.taken.update(self._hashes([name], title))
        for i, gloss in pool.gloss.items():  # Genie's planted glosses: a song titled so would join the song
            self.taken.update(self._hashes([pool.artists[pool.artist[i]].name], gloss))
        self.used_artist_names = ({songs.norm_text(a.name) for a in pool.artists}
                                  | {songs.norm_text(f) for a in pool.artists for f in a.display_forms}
                                  | set(self.book.alias_to_name) | set(self.book.ambiguous)
                                  | {songs.norm_text(n) for n in pool.former_name.values()}
                                  | {songs.norm_text(VARIOUS_ARTISTS)})
        self._melon_spelling: dict[int, str] = {}
        self._genie_albums: dict[int, int] = {}

    def melon_name(self, a: int) -> str:
        """How Melon spells pool artist ``a``: its canonical name, or for some artists with alias forms the
        other form (a bare name where Genie's is ``A (B)``, the ``A (B)`` form where Genie's is bare).

        Only where the build learns the alias from the two sources together: a Hangul/Latin ``A (B)`` pair
        (spark_jobs.normalise.alias_form) whose names no other artist has, of an artist every Genie row spells
        one way (learn_aliases drops a pair when a name is shown alone with songs never shown otherwise)."""
        name = self._melon_spelling.get(a)
        if name is None:
            artist = self.pool.artists[a]
            name = artist.name
            forms = [f for f in artist.display_forms[1:] if f != artist.name]
            if forms and a not in self.pool.collab_members and a not in self.genie_other_forms \
                    and random.Random(f"melon-alias:{self.seed}:{a}").random() < 0.4:
                bare = "(" not in artist.name
                pair = _alias_pair(artist.name) if not bare else next(
                    (_alias_pair(f) for f in forms if _alias_pair(f)), None)
                fitting = [f for f in forms if ("(" in f) == bare]
                if pair and fitting and all(self._own_name(a, n) for n in pair):
                    name = fitting[0]
            self._melon_spelling[a] = name
        return name

    def _own_name(self, a: int, name: str) -> bool:
        """No other artist goes by ``name`` (as its own name or as an alias)."""
        key = songs.norm_text(name)
        canon = self.pool.artists[a].name
        other = self.book.index.get(key)
        if other is not None and self.book.artists[other].name != canon:
            return False
        return self.book.alias_to_name.get(key, canon) == canon

    def pool_artist(self, a: int, spelled: str | None = None) -> int:
        artist = self.pool.artists[a]
        return self.artist(spelled or self.melon_name(a), artist.name, artist.korean)

    def _collab_parts(self, a: int) -> tuple[int, ...] | None:
        """Pool artists of a collaboration ("A & B": planted, or two names of the reference), else None."""
        pool = self.pool
        if a in pool.collab_members:
            return pool.collab_members[a]
        parts = split_names(pool.artists[a].name)
        if len(parts) < 2:
            return None
        found = [self.book.index.get(songs.norm_text(self.book.canonical(p))) for p in parts]
        if any(f is None for f in found) or len(set(found)) != len(found):
            return None
        return tuple(found)  # type: ignore[return-value]

    def _eligible(self, idx: int) -> list[str]:
        pool = self.pool
        title = pool.title[idx]
        a = pool.artist[idx]
        if self._collab_parts(a) is not None:
            return ["collaboration"]
        if self.melon_name(a) != pool.artists[a].name:
            return ["alias"]
        out = ["same"]
        if _title_ok(title):
            out.append("spacing_case")
            if pool.feat[idx]:
                out.append("feat")
            if idx in pool.gloss or len(_scripts(title)) == 1:
                out.append("gloss")
        return out

    def _genie_album(self, idx: int, rs: random.Random) -> int:
        pool = self.pool
        g = pool.album[idx]
        album = self._genie_albums.get(g)
        if album is None:
            year = pool.year[idx] - (rs.random() < 0.4) if pool.year[idx] > 0 else None
            day = _random_day(rs, year)
            album = self._genie_albums[g] = self.new_album(pool.albums[g].name, _issue_string(rs, day, year is not None),
                                                           day.year)
        return album

    def _majors_of(self, idx: int, rs: random.Random) -> tuple[int, int]:
        pool = self.pool
        genre = GENRES[pool.genre[idx]]
        korean = pool.artists[pool.artist[idx]].korean
        mood = MOOD_CLASSES[pool.mood[idx]]
        if genre == "가요":
            code = ("GN0200" if mood in ("bright", "intense", "groove") else "GN0100") if korean else "GN0900"
        else:
            code = _DEMO_MAJOR[genre][0 if korean else 1]
        second = -1
        if code == "GN1500" and korean and rs.random() < 0.5:
            second = _MAJOR["GN0100"]
        elif code in ("GN0200", "GN0100") and korean and rs.random() < 0.12:
            second = _MAJOR["GN2500"]
        return _MAJOR[code], second

    def _note_twins(self) -> np.ndarray:
        """Pool songs the reference has twice under two canonical keys that the build reads as one (``Sara`` and
        ``Sara (2015 Remastered)``, ``에너제틱`` and ``에너제틱 (Energetic)``): Melon shares neither, so its songs
        never join two of Genie's true songs."""
        pool = self.pool
        first: dict[str, int] = {}
        twins = np.zeros(len(pool), dtype=bool)
        for i in range(len(pool)):
            artist = _artist_set([pool.artists[pool.artist[i]].name])
            for title_key in _note_free(pool.title[i]):
                j = first.setdefault(f"{artist}|{title_key}", i)
                if j != i and pool.canonical_key(j) != pool.canonical_key(i):
                    twins[i] = twins[j] = True
        return twins

    def choose_shared(self) -> list[int]:
        """Pool indexes of the Genie songs Melon has too: ~SHARED_SHARE of the distinct songs in the Genie
        playlists (a song in more playlists more likely), at least MIN_PER_CLASS of every class.

        Only songs some Genie row spells in a way the plain rules join (not only in a planted spelling that
        needs Genie's own evidence, such as a former artist name or a work title): the Melon spelling then
        meets the Genie song by the rules alone."""
        counts = self.genie_counts
        cands = np.flatnonzero((counts > 0) & self.genie_plain & ~self._note_twins())
        c = counts[cands].astype(np.float64)
        lo, hi = 0.0, 1.0
        for _ in range(40):  # q such that the mean of 1 - (1-q)^count is SHARED_SHARE
            q = (lo + hi) / 2
            lo, hi = (q, hi) if np.mean(1 - (1 - q) ** c) < SHARED_SHARE else (lo, q)
        u = self.rng.random(cands.size)
        chosen = [int(i) for i in cands[u < 1 - (1 - q) ** c]]
        have = set(chosen)
        by_class: dict[str, int] = {k: 0 for k in SHARED_CLASSES}
        for i in chosen:
            for k in self._eligible(i):
                by_class[k] += 1
        order = cands[np.argsort(-counts[cands], kind="stable")]
        for cls in SHARED_CLASSES:
            for i in order.tolist():
                if by_class[cls] >= 4 * MIN_PER_CLASS:
                    break
                if i not in have and cls in self._eligible(i):
                    chosen.append(i)
                    have.add(i)
                    for k in self._eligible(i):
                        by_class[k] += 1
        return sorted(chosen)

    def add_shared(self, chosen: list[int]) -> None:
        pool = self.pool
        n = len(chosen)
        # head-heavy positions, the most played Genie songs in the best ones
        positions = np.sort(self.rng.random(n) ** 2.5) * self.scale.songs * 0.6
        order = sorted(chosen, key=lambda i: (-int(self.genie_counts[i]), i))
        position_of = dict(zip(order, positions.tolist()))
        eligible = {i: self._eligible(i) for i in chosen}
        # the rarer classes first, so each reaches its minimum
        forced: dict[int, str] = {}
        for cls in ("collaboration", "alias", "gloss", "feat", "spacing_case"):
            cands = [i for i in chosen if cls in eligible[i] and i not in forced]
            for i in cands[:MIN_PER_CLASS]:
                forced[i] = cls
        for i in chosen:
            rs = random.Random(f"melon-shared:{self.seed}:{i}")
            cls = forced.get(i) or self._pick_class(rs, i, eligible[i])
            title, artists, cls = self._spelling(rs, i, cls)
            album = self._genie_album(i, rs)
            major, major2 = self._majors_of(i, rs)
            j = self.add_song("in_genie", title, artists, album, major, major2, pool.mood[i], pool.canonical_key(i),
                              position_of[i])
            self.shared_class[j] = cls
            self.genie_index_of[j] = i

    @staticmethod
    def _pick_class(rs: random.Random, idx: int, eligible: list[str]) -> str:
        if eligible[0] in ("collaboration", "alias"):
            return eligible[0]
        weights = {"same": 0.5, "spacing_case": 0.2, "feat": 0.9, "gloss": 0.12}
        u = rs.random()
        for cls in ("feat", "gloss", "spacing_case"):
            if cls in eligible:
                if u < weights[cls]:
                    return cls
                u = rs.random()
        return "same"

    def _spelling(self, rs: random.Random, idx: int, cls: str) -> tuple[str, tuple[int, ...], str]:
        """(song_name, artist basket, class) of shared song ``idx`` in spelling class ``cls``."""
        pool = self.pool
        a = pool.artist[idx]
        title = pool.display_title(idx)
        base = pool.title[idx]
        feat = pool.feat[idx]
        if cls == "collaboration":
            parts = self._collab_parts(a)
            names = list(parts) if rs.random() < 0.3 else list(reversed(parts))
            return title, tuple(self.pool_artist(p, pool.artists[p].name) for p in names), cls
        artists = (self.pool_artist(a),)
        if cls == "feat":
            form = rs.randrange(4)
            brackets = any(c in feat for c in "()[]")
            if form == 0:
                return base, artists, cls  # Melon leaves the credit out
            if form == 1 or brackets:
                return f"{base} (feat. {feat})", artists, cls
            if form == 2:
                return f"{base} (With {feat})", artists, cls
            return f"{base} feat. {feat}", artists, cls
        if cls == "spacing_case":
            for _ in range(6):
                u = rs.random()
                if u < 0.4:
                    new = songs._change_case(base, rs)
                elif u < 0.75:
                    new = songs._visible_spacing(base, rs)
                else:
                    new = songs._change_punctuation(base, rs)
                if new != base and fold(new) == fold(base) and _title_ok(new):
                    return new + (f" (Feat. {feat})" if feat else ""), artists, cls
            return title, artists, "same"
        if cls == "gloss":
            if idx in pool.gloss:  # Genie shows "Title (Gloss)" on some rows; Melon the title alone
                return title, artists, cls
            words, n = (self.en, rs.choice((1, 2, 2, 3))) if "hangul" in _scripts(base) else (self.kr, rs.choice((1, 1, 2)))
            for _ in range(8):
                gloss = words.title(rs, n)
                # a gloss that is another song's title by the artist would join the two (the build's gloss rule)
                if _gloss_ok(base, gloss) and self.claim([pool.artists[a].name], gloss):
                    return f"{base} ({gloss})" + (f" (Feat. {feat})" if feat else ""), artists, cls
            return title, artists, "same"
        return title, artists, cls  # same, alias (the basket spells the artist)

    # ---- cross-source hard negatives
    def add_negatives(self) -> None:
        pool = self.pool
        shared = [j for j in range(len(self.kind)) if self.kind[j] == "in_genie"]
        shared.sort(key=lambda j: self.score[j])
        n_per = max(MIN_PER_CLASS, round(NEGATIVE_SHARE * len(shared)))
        r = random.Random(f"melon-negatives:{self.seed}:{self.scale_name}")
        used: set[int] = set()
        for cls in NEGATIVE_CLASSES:
            made = 0
            for j in shared:
                if made >= n_per:
                    break
                idx = self.genie_index_of[j]
                if j in used or not _plain(pool.title[idx]) or self.shared_class[j] == "collaboration":
                    continue
                if r.random() < 0.5 and made < n_per - 1 and len(shared) > 8 * n_per:
                    continue  # spread over the head, not only the first songs
                if self._negative(r, j, idx, cls):
                    used.add(j)
                    made += 1

    def _negative(self, r: random.Random, twin: int, idx: int, cls: str) -> bool:
        pool = self.pool
        a = pool.artist[idx]
        artist = pool.artists[a]
        base = pool.title[idx]
        neg = pool.negative_for.get(idx)
        if neg is not None and pool.negative_kind[neg] == cls:
            return False  # Genie has that very version already: it would be the same song
        if cls == "neg_cover":
            for _ in range(10):
                name = _synthetic_artist(r, artist.korean, self.kr, self.en)
                if songs.norm_text(name) not in self.used_artist_names and _simple(name):
                    break
            else:
                return False
            self.used_artist_names.add(songs.norm_text(name))
            if not self.claim([name], base):
                return False
            b = self.artist(name, name, artist.korean)
            day = _random_day(r, min(self.albums.year[self.album[twin]] + r.randrange(1, 8), LAST_DAY.year))
            album = self.new_album(r.choice((base, f"{name} 리메이크 앨범", f"Covers Vol.{r.randrange(1, 5)}")),
                                   _issue_string(r, day, True), day.year)
            title, key = base, f"{name} - {base}"
            artists = (b,)
        else:
            suffix = "Live" if cls == "neg_live" else "Inst."
            title = f"{base} ({suffix})"
            if not self.claim([artist.name], title):
                return False
            key = f"{artist.name} - {title}"
            artists = self.artists[twin]
            if cls == "neg_inst":  # the instrumental sits on the song's own album
                album = self.album[twin]
            else:
                day = _random_day(r, min(self.albums.year[self.album[twin]] + r.randrange(0, 4), LAST_DAY.year))
                album = self.new_album(r.choice(_LIVE_ALBUMS).format(artist=self.melon_name(a), year=day.year),
                                       _issue_string(r, day, True), day.year)
        score = self.scale.songs * (0.02 + 0.4 * r.random())
        j = self.add_song("negative", title, artists, album, self.major[twin], self.major2[twin], self.mood[twin],
                          key, score)
        self.negatives[j] = (cls, twin)
        return True

    # ---- Melon-only songs
    def add_melon_only(self, count: int) -> None:
        rng, r = self.rng, self.r
        pool = self.pool
        n_various = max(1, int(count * VARIOUS_SHARE))
        n_pool = int(count * POOL_ARTIST_SHARE)
        n_synth = count - n_various - n_pool
        # pool artists: the reference's artists with songs in the pool, more songs -> more Melon songs
        pool_artists = sorted({pool.artist[i] for i in range(pool.n_base)} - set(pool.collab_members))
        song_counts = np.bincount(np.asarray(pool.artist[:pool.n_base]), minlength=len(pool.artists))
        w = (song_counts[pool_artists] + 0.6) ** 0.8
        pool_picks = rng.choice(np.asarray(pool_artists), size=n_pool, p=w / w.sum()).tolist() if n_pool else []
        # synthetic artists: Zipf-like song counts (a few with hundreds of songs, most with a handful)
        n_art = max(10, n_synth // 6)
        synth: list[int] = []
        seen = self.used_artist_names
        while len(synth) < n_art:
            korean = r.random() < 0.62
            name = _synthetic_artist(r, korean, self.kr, self.en)
            key = songs.norm_text(name)
            if not key or key in seen or not _simple(name):
                continue
            seen.add(key)
            synth.append(self.artist(name, name, korean))
        aw = 1.0 / (np.arange(n_art) + 2.0) ** 0.6
        synth_picks = rng.choice(n_art, size=n_synth, p=aw / aw.sum()).tolist()
        groups: dict[tuple[str, int], int] = {}  # (kind, artist) -> songs
        for a in pool_picks:
            groups[("pool", a)] = groups.get(("pool", a), 0) + 1
        for k in synth_picks:
            groups[("synth", synth[k])] = groups.get(("synth", synth[k]), 0) + 1
        groups[("various", -1)] = n_various
        various = self.artist(VARIOUS_ARTISTS, VARIOUS_ARTISTS, True, VARIOUS_ARTISTS_ID)
        kr_codes, kr_w = zip(*_KR_MAJORS.items())
        fo_codes, fo_w = zip(*_FOREIGN_MAJORS.items())
        duet_partners = synth + [self.pool_artist(a) for a in pool_artists[:200]]
        for (kind, a), n in groups.items():
            if kind == "pool":
                artist = self.pool_artist(a)
            elif kind == "synth":
                artist = a
            else:
                artist = various
            korean = self.artist_table[artist].korean if kind != "various" else True
            codes, weights = (kr_codes, kr_w) if korean else (fo_codes, fo_w)
            main = r.choices(codes, weights=weights)[0]
            left = n
            while left > 0:
                size = 1 if r.random() < 0.4 else min(left, r.randrange(2, 15))
                size = min(size, left)
                left -= size
                code = main if r.random() < 0.8 else r.choices(codes, weights=weights)[0]
                day = _random_day(r)
                issue = _issue_string(r, day, True)
                album_titles: list[int] = []
                for _t in range(size):
                    artists = (artist,)
                    if kind == "various":
                        korean = r.random() < 0.6
                    elif r.random() < DUET_SHARE and duet_partners:
                        other = r.choice(duet_partners)
                        if other != artist:
                            artists = (artist, other)
                    title = self._new_title(r, artists, korean, code, [self.title[i] for i in album_titles])
                    mood = r.choices(range(len(MOOD_CLASSES)), weights=_MAJOR_MOODS[code])[0]
                    second = _MAJOR["GN2500"] if code in ("GN0100", "GN0200") and r.random() < 0.08 else -1
                    j = self.add_song("melon", title, artists, -1, _MAJOR[code], second, mood, None,
                                      r.random() * self.scale.songs)
                    album_titles.append(j)
                if size == 1 and r.random() < 0.75:
                    name = self.title[album_titles[0]]
                elif kind == "various":
                    name = r.choice(_COMPILATIONS).format(year=day.year, n=r.randrange(1, 12))
                else:
                    name = songs._album_name(r, self.artist_table[artist].korean, self.kr, self.en)
                album = self.new_album(name, issue, day.year)
                for j in album_titles:
                    self.album[j] = album

    def _new_title(self, r: random.Random, artists: tuple[int, ...], korean: bool, code: str,
                   siblings: list[str]) -> str:
        """A title the artist has no song of yet, not a typo apart from a title on the same album (the build
        joins those: spark_jobs.song_identity's near_title rule)."""
        from rapidfuzz import fuzz

        names = [self.artist_table[a].canonical for a in artists]
        near = [fold(t) for t in siblings]
        title = ""
        for attempt in range(30):
            if code == "GN1600":
                title = r.choice(_CLASSICAL).format(
                    n=r.randrange(1, 25), k=r.choice(songs._KEYS), m="major" if r.random() < 0.5 else "minor",
                    o=r.randrange(1, 130), p=r.choice(_MOVEMENTS), f=r.choice(songs._CLASSICAL_FORMS))
            else:
                words = self.kr if (korean and r.random() < 0.85) else self.en
                title = words.title(r, r.choice((1, 2, 2, 2, 3, 3, 4)) + (attempt > 10))
            if _title_ok(title) and not any(fuzz.ratio(fold(title), t) >= NEAR_TITLE for t in near) \
                    and self.claim(names, title):
                return title
        while True:  # a numbered title, as albums do have ("Interlude 2")
            title = f"{title} {r.randrange(2, 99)}"
            if self.claim(names, title):
                return title

    # ---- re-releases
    def add_re_releases(self, count: int) -> None:
        r = random.Random(f"melon-rerelease:{self.seed}:{self.scale_name}")
        originals = [j for j in range(len(self.kind)) if self.kind[j] in ("in_genie", "melon")]
        shared = [j for j in originals if self.kind[j] == "in_genie"]
        picks: list[int] = []
        if shared:  # some of the shared songs, so the re-release is a cross-source case too
            picks += r.sample(shared, min(len(shared), max(MIN_PER_CLASS, count // 4)))
        rest = [j for j in originals if self.kind[j] == "melon"]
        picks += r.sample(rest, min(len(rest), count - len(picks)))
        compilation = -1
        left = 0
        for orig in picks:
            year = min(self.albums.year[self.album[orig]] + r.randrange(1, 10), LAST_DAY.year)
            if r.random() < 0.35:  # an edition of its own album
                day = _random_day(r, year)
                album = self.new_album(r.choice(_EDITIONS).format(album=self.albums.name[self.album[orig]]), _issue_string(r, day, True), day.year)
            else:
                if left <= 0:
                    day = _random_day(r, year)
                    compilation = self.new_album(r.choice(_COMPILATIONS).format(year=day.year, n=r.randrange(1, 12)),
                                                 _issue_string(r, day, True), day.year)
                    left = r.randrange(6, 20)
                album = compilation
                left -= 1
            j = self.add_song("re_release", self.title[orig], self.artists[orig], album, self.major[orig],
                              self.major2[orig], self.mood[orig], self.key[orig],
                              self.scale.songs * (0.2 + 0.8 * r.random()))
            self.re_release_of[j] = orig
            if orig in self.shared_class:
                self.shared_class[j] = self.shared_class[orig]
                self.genie_index_of[j] = self.genie_index_of[orig]

    # ---- everything
    def build(self) -> None:
        self.load_genie()
        self.add_shared(self.choose_shared())
        self.add_negatives()
        n_re = max(MIN_PER_CLASS, round(RE_RELEASE_SHARE * self.scale.songs))
        n_melon = self.scale.songs - len(self.kind) - n_re
        if n_melon < 0:
            raise ValueError(f"scale {self.scale_name}: {self.scale.songs} songs cannot hold the shared ones")
        self.add_melon_only(n_melon)
        self.add_re_releases(n_re)
        self.taken = set()  # every song is made: the claims are not needed any more
        n = len(self.kind)
        self.ids = self.rng.permutation(n).astype(np.int64)  # j -> song id
        self.j_of_id = np.argsort(self.ids)
        self.build_playlists()

    # ---- playlists
    def build_playlists(self) -> None:
        sc, rng, r = self.scale, self.rng, self.r
        n_songs = len(self.kind)
        n_pl = sc.playlists
        score = np.asarray(self.score, dtype=np.float64) + rng.random(n_songs) * 1e-6
        rank = np.empty(n_songs, dtype=np.int64)
        rank[np.argsort(score, kind="stable")] = np.arange(n_songs)
        weight = 1.0 / (rank + ZIPF_K) ** ZIPF_A
        major = np.asarray(self.major, dtype=np.int64)
        mood = np.asarray(self.mood, dtype=np.int64)
        korean = np.array([self.artist_table[a[0]].korean for a in self.artists], dtype=bool)
        # buckets: 0 all, 1-2 language, 3.. mood x language, then majors
        masks = [np.ones(n_songs, dtype=bool), korean, ~korean]
        for m in range(len(MOOD_CLASSES)):
            masks += [korean & (mood == m), ~korean & (mood == m)]
        for g in range(len(MAJOR_CODES)):
            masks.append(major == g)
        buckets = []
        for mask in masks:  # an empty bucket draws from all songs
            idx = np.flatnonzero(mask)
            if idx.size == 0:
                buckets.append(buckets[0])
                continue
            cdf = np.cumsum(weight[idx])
            buckets.append((idx, cdf / cdf[-1]))

        # per playlist: theme (taxonomy tags), genre focus, language, length
        self.pl_tags: list[list[str]] = []
        self.pl_title: list[str] = []
        mood_cum = np.zeros((n_pl, len(MOOD_CLASSES)))
        pl_major = np.full(n_pl, -1, dtype=np.int64)
        pl_lang = np.zeros(n_pl, dtype=np.int64)  # 0 kr, 1 foreign, 2 mixed
        n_tags = np.asarray(r.choices(range(1, 12), weights=(14, 17, 17, 14, 11, 8, 6, 4.5, 3.5, 2.5, 2.5), k=n_pl))
        free = self._free_tag_stream(int(n_tags.sum()) + 64)
        theme_vocab = self._theme_vocab()
        major_w_kr = np.array([_KR_MAJORS.get(c, 0.2) for c in MAJOR_CODES])
        major_w_fo = np.array([_FOREIGN_MAJORS.get(c, 0.2) for c in MAJOR_CODES])
        major_moods = np.array([_MAJOR_MOODS[c] for c in MAJOR_CODES])
        major_moods = major_moods / major_moods.sum(axis=1, keepdims=True)
        for p in range(n_pl):
            lang = r.choices((0, 2, 1), weights=(50, 32, 18))[0]
            genre_only = r.random() < 0.08
            if genre_only:
                anchor, theme = None, []
                mood_w = {m: r.random() for m in MOOD_CLASSES}
            else:
                anchor, theme = catalogue._mood_tags(r)
                mood_w = catalogue._mood_weights(theme)
            w = np.array([mood_w[m] for m in MOOD_CLASSES], dtype=np.float64)
            w = w / w.sum()
            mood_cum[p] = np.cumsum(w)
            top_mood = MOOD_CLASSES[int(np.argmax(w))]
            code = None
            if genre_only or r.random() < 0.25:
                lw = major_w_kr if lang == 0 else major_w_fo if lang == 1 else (major_w_kr + major_w_fo)
                gw = lw * (0.15 + major_moods @ w)
                g = int(np.searchsorted(np.cumsum(gw) / gw.sum(), r.random()))
                g = min(g, len(MAJOR_CODES) - 1)
                pl_major[p] = g
                code = MAJOR_CODES[g]
            pl_lang[p] = lang
            ordered = _group_order(theme)
            tags = [self._melon_form(r, t, theme_vocab) for t in ordered]
            if code:
                gtags = [t for t in _GENRE_TAGS[code] if t in self.tag_counts] or [_GENRE_TAGS[code][0]]
                tags.insert(1 if tags else 0, r.choice(gtags))
            tags = list(dict.fromkeys(tags))
            k = int(n_tags[p])
            keep = min(len(tags), max(1, round(k * 0.55)))
            if keep < len(tags) and tags[keep - 1] in _ANTECEDENTS:
                keep += 1  # a planted pair stays whole (눈오는날 -> 겨울)
            k = max(k, keep)
            out = tags[:keep]
            while len(out) < k:
                t = free[self._free_pos]
                self._free_pos += 1
                if self._free_pos >= len(free):
                    free = self._free_tag_stream(4096)
                if t not in out:
                    out.append(t)
            self.pl_tags.append(out)
            self.pl_title.append(self._title(r, anchor, theme, top_mood, code, out[:keep]))

        lengths = np.clip(np.round(np.exp(rng.normal(sc.length_mu, sc.length_sigma, n_pl))), 1, sc.length_max)
        lengths = lengths.astype(np.int64)
        pl_of_row = np.repeat(np.arange(n_pl, dtype=np.int32), lengths)
        song_of_row = self._draw_rows(rng, buckets, pl_of_row, mood_cum, pl_major, pl_lang)
        # dedupe within playlists, a block of playlists at a time (rows are grouped by playlist)
        ends = np.cumsum(lengths)
        kept_pl, kept_song = [], []
        start = 0
        for stop in range(0, n_pl, 8192):
            end = int(ends[min(stop + 8191, n_pl - 1)])
            pls, sng = self._dedupe(rng, buckets, pl_of_row[start:end], song_of_row[start:end], n_songs, mood_cum,
                                    pl_major, pl_lang)
            kept_pl.append(pls)
            kept_song.append(sng)
            start = end
        pl_of_row, song_of_row = np.concatenate(kept_pl), np.concatenate(kept_song)

        # split, ids, masking
        split = np.empty(n_pl, dtype=np.int64)  # 0 train, 1 val, 2 test
        perm = rng.permutation(n_pl)
        split[perm[:sc.train]] = 0
        split[perm[sc.train:sc.train + sc.val]] = 1
        split[perm[sc.train + sc.val:]] = 2
        slots = max(n_pl, round(n_pl * REAL_ID_SLOTS / REAL_PLAYLISTS))
        pl_ids = rng.choice(slots, size=n_pl, replace=False).astype(np.int64)
        question = np.flatnonzero(split > 0)  # val and test: a few with their songs or their tags masked
        n_songs_masked = max(1, round(MASK_SONGS * question.size))
        n_tags_masked = max(1, round(MASK_TAGS * question.size))
        masked = rng.choice(question, size=min(question.size, n_songs_masked + n_tags_masked), replace=False)
        self.mask_songs = np.zeros(n_pl, dtype=bool)
        self.mask_tags = np.zeros(n_pl, dtype=bool)
        self.mask_songs[masked[:n_songs_masked]] = True
        self.mask_tags[masked[n_songs_masked:]] = True
        keep = ~self.mask_songs[pl_of_row]
        pl_of_row, song_of_row = pl_of_row[keep], song_of_row[keep]
        for p in np.flatnonzero(self.mask_tags).tolist():
            self.pl_tags[p] = []

        # every shared song, negative and re-release is in some train playlist
        used = np.zeros(n_songs, dtype=bool)
        used[song_of_row] = True
        planted = np.array([j for j in range(n_songs) if self.kind[j] != "melon"], dtype=np.int64)
        missing = planted[~used[planted]] if planted.size else planted
        if missing.size:
            length_now = np.bincount(pl_of_row, minlength=n_pl)
            room = np.flatnonzero((split == 0) & (length_now < sc.length_max))
            extra_pl = np.empty(missing.size, dtype=np.int32)
            rr = random.Random(f"melon-place:{self.seed}:{self.scale_name}")
            for k in range(missing.size):
                for _ in range(20):
                    p = int(room[rr.randrange(room.size)])
                    if length_now[p] < sc.length_max:
                        break
                length_now[p] += 1
                extra_pl[k] = p
            pl_of_row = np.concatenate([pl_of_row, extra_pl])
            song_of_row = np.concatenate([song_of_row, missing.astype(np.int32)])
            order = np.argsort(pl_of_row, kind="stable")
            pl_of_row, song_of_row = pl_of_row[order], song_of_row[order]

        offsets = np.zeros(n_pl + 1, dtype=np.int64)
        np.cumsum(np.bincount(pl_of_row, minlength=n_pl), out=offsets[1:])
        self.pl_offsets, self.pl_songs = offsets, song_of_row
        self.pl_split, self.pl_ids = split, pl_ids
        self.pl_order = [perm[split[perm] == s] for s in range(3)]  # write order: shuffled within each file
        likes = np.floor(np.exp(rng.normal(2.0, 1.9, n_pl))) - 1
        self.pl_likes = np.clip(likes, 0, 60_000).astype(np.int64)
        self.pl_dates = self._updt_dates(rng, n_pl)
        self.song_counts = np.bincount(song_of_row, minlength=n_songs)

    def _dedupe(self, rng, buckets, pl_of_row, song_of_row, n_songs, mood_cum, pl_major, pl_lang):
        """A song at most once per playlist: repeats are drawn again a few times, then dropped."""
        song_of_row = song_of_row.copy()
        for attempt in range(6):
            key = pl_of_row.astype(np.int64) * n_songs + song_of_row
            order = np.argsort(key, kind="stable")
            sk = key[order]
            dup = order[1:][sk[1:] == sk[:-1]]
            if dup.size == 0:
                break
            if attempt == 5:
                keep = np.ones(pl_of_row.size, dtype=bool)
                keep[dup] = False
                return pl_of_row[keep], song_of_row[keep]
            song_of_row[dup] = self._draw_rows(rng, buckets, pl_of_row[dup], mood_cum, pl_major, pl_lang,
                                               all_only=attempt >= 3)
        return pl_of_row, song_of_row

    def _draw_rows(self, rng, buckets, pl_of_row, mood_cum, pl_major, pl_lang, all_only: bool = False) -> np.ndarray:
        """One song per row of ``pl_of_row``, from the bucket its playlist's mixture picks (in chunks: bounded memory)."""
        step = 1 << 19
        if pl_of_row.size > step:
            return np.concatenate([self._draw_rows(rng, buckets, pl_of_row[i:i + step], mood_cum, pl_major, pl_lang,
                                                   all_only) for i in range(0, pl_of_row.size, step)])
        n = pl_of_row.size
        out = np.empty(n, dtype=np.int32)
        if all_only:
            b = np.zeros(n, dtype=np.int64)
        else:
            u = rng.random(n)
            has_genre = pl_major[pl_of_row] >= 0
            p_genre = np.where(has_genre, 0.5, 0.0)
            p_mood = np.where(has_genre, 0.92, 0.88)
            lang = pl_lang[pl_of_row]
            lang = np.where(lang == 2, (rng.random(n) >= 0.55).astype(np.int64), lang)  # 0 kr, 1 foreign
            row_mood = (mood_cum[pl_of_row] < rng.random(n)[:, None]).sum(axis=1)
            row_mood = np.minimum(row_mood, len(MOOD_CLASSES) - 1)
            b = np.where(u < p_genre, 15 + pl_major[pl_of_row],
                         np.where(u < p_mood, 3 + row_mood * 2 + lang, np.where(u < 0.97, 1 + lang, 0)))
        v = rng.random(n)
        for bucket in np.unique(b).tolist():
            sel = b == bucket
            idx, cdf = buckets[bucket]
            out[sel] = idx[np.minimum(np.searchsorted(cdf, v[sel]), idx.size - 1)]
        return out

    def _theme_vocab(self) -> dict[str, tuple[list[str], list[float]]]:
        """Taxonomy tag -> its Melon spellings (the tag itself, MELON_ALIASES) and their counts."""
        out = {}
        for tag in list(MOOD_TAGS) + list(GENRES):
            forms = [f for f in (tag, *MELON_ALIASES.get(tag, ())) if self.tag_counts.get(f)]
            if not forms:
                forms = [tag.replace("/", "")] if "/" in tag else [tag]
            out[tag] = (forms, [float(self.tag_counts.get(f, 1)) for f in forms])
        return out

    @staticmethod
    def _melon_form(r: random.Random, tag: str, vocab) -> str:
        forms, weights = vocab[tag]
        return forms[0] if len(forms) == 1 else r.choices(forms, weights=weights)[0]

    def _free_tag_stream(self, size: int) -> list[str]:
        """Free tags drawn by the real Melon tag counts (taxonomy tags and their spellings left to themes)."""
        if not hasattr(self, "_free_tags"):
            themed = {f for tag in list(MOOD_TAGS) + list(GENRES) for f in (tag, *MELON_ALIASES.get(tag, ()))}
            themed |= {t for tags in _GENRE_TAGS.values() for t in tags}
            names = sorted(t for t in self.tag_counts if t not in themed)
            w = np.array([self.tag_counts[t] for t in names], dtype=np.float64)
            self._free_tags, self._free_p = names, w / w.sum()
            self._free_pos = 0
        self._free_pos = 0
        picks = self.rng.choice(len(self._free_tags), size=size, p=self._free_p)
        return [self._free_tags[i] for i in picks.tolist()]

    def _title(self, r: random.Random, anchor, theme, top_mood, code, tags) -> str:
        u = r.random()
        genre = _MAJOR_DEMO.get(code) if code else None
        if u < 0.5:
            return texts.title_for(r, anchor, theme, top_mood, genre)
        if u < 0.78 and tags:
            return r.choice(_USER_TITLES).format(tag=r.choice(tags), year=r.randrange(2010, 2021))
        if u < 0.85:
            return r.choice(_PLAIN_USER_TITLES)
        return f"{r.choice(_EN_ADJ[top_mood])} {r.choice(_EN_NOUN)}"

    def _updt_dates(self, rng, n_pl: int) -> list[str]:
        """2005-01-01 .. 2020-04-16, recent years more often (~40% from 2017 on). Not tied to the songs'
        issue dates: a playlist may hold a song issued after its updt_date."""
        span = (LAST_DAY - FIRST_DAY).days
        days = np.floor(span * (1 - rng.random(n_pl) ** 1.6)).astype(np.int64)
        seconds = rng.integers(0, 86_400, n_pl)
        base = np.datetime64(FIRST_DAY.isoformat(), "s")
        stamps = base + days.astype("timedelta64[D]") + seconds.astype("timedelta64[s]")
        return [s.replace("T", " ") + ".000" for s in np.datetime_as_string(stamps, unit="s").tolist()]

    # ---- faults
    def plan_faults(self) -> dict[str, Any]:
        if self.faults_mode == "none":
            self.fault_of_pl: dict[int, str] = {}
            self.fault_of_song: dict[int, str] = {}
            return {}
        r = random.Random(f"melon-faults:{self.seed}:{self.scale_name}")
        k = max(3, self.scale.playlists // 15_000)
        lengths = np.diff(self.pl_offsets)
        train = [int(p) for p in self.pl_order[0] if lengths[p] > 0]
        val = [int(p) for p in self.pl_order[1] if lengths[p] > 0 and not self.mask_tags[p]]
        picks = r.sample(train, min(len(train), 5 * k))
        self.fault_of_pl = {}
        out: dict[str, Any] = {}

        def take(cls: str, pool: list[int]) -> list[int]:
            got = [p for p in pool if p not in self.fault_of_pl][:k]
            for p in got:
                self.fault_of_pl[p] = cls
            return got

        got = take("playlist_without_id", picks)
        out["playlist_without_id"] = {"file": "train.json", "count": len(got),
                                      "ids": sorted(int(self.pl_ids[p]) for p in got),
                                      "note": "ids are the ones the playlists would have had"}
        got = take("playlist_songs_missing", picks)
        out["playlist_songs_missing"] = {"file": "train.json", "count": len(got),
                                         "ids": sorted(int(self.pl_ids[p]) for p in got)}
        got = take("unknown_song_ids", picks)
        n_songs = len(self.kind)
        self.unknown_songs = {p: [n_songs + 17 * i + 3, 9_999_000 + i] for i, p in enumerate(got)}
        out["unknown_song_ids"] = {"file": "train.json", "count": len(got),
                                   "ids": sorted(int(self.pl_ids[p]) for p in got),
                                   "song_ids": sorted(s for v in self.unknown_songs.values() for s in v)}
        got = take("absurd_updt_date", picks)
        self.absurd = {p: ABSURD_DATES[i % len(ABSURD_DATES)] for i, p in enumerate(got)}
        out["absurd_updt_date"] = {"file": "train.json", "count": len(got),
                                   "ids": sorted(int(self.pl_ids[p]) for p in got),
                                   "values": sorted(set(self.absurd.values()))}
        # duplicate ids: a val playlist carries the id of a train playlist (its own id goes unused)
        twins = [p for p in picks if p not in self.fault_of_pl][:k]
        dups = r.sample(val, min(len(val), len(twins)))
        self.dup_id = {}
        for v, t in zip(dups, twins):
            self.fault_of_pl[v] = "duplicate_playlist_ids"
            self.fault_of_pl[t] = "duplicate_playlist_ids_original"
            self.dup_id[v] = int(self.pl_ids[t])
        out["duplicate_playlist_ids"] = {"file": "train.json+val.json", "count": len(self.dup_id),
                                         "ids": sorted(self.dup_id.values())}
        # songs: only Melon-only songs that are in playlists, so the planted classes stay whole
        melon = [j for j in range(n_songs) if self.kind[j] == "melon" and self.song_counts[j] > 0]
        chosen = r.sample(melon, min(len(melon), 2 * k))
        self.fault_of_song = {j: "unknown_genre_codes" for j in chosen[:k]}
        self.fault_of_song.update({j: "song_without_id" for j in chosen[k:2 * k]})
        for cls in ("unknown_genre_codes", "song_without_id"):
            ids = sorted(int(self.ids[j]) for j, c in self.fault_of_song.items() if c == cls)
            out[cls] = {"file": "song_meta.json", "count": len(ids), "ids": ids}
        if any(c == "unknown_genre_codes" for c in self.fault_of_song.values()):
            out["unknown_genre_codes"]["codes"] = [UNKNOWN_GENRE, UNKNOWN_DETAIL]
        return out

    # ---- records
    def playlist_records(self, split: int) -> Iterator[dict[str, Any]]:
        ids = self.ids
        for p in self.pl_order[split].tolist():
            songs_ = ids[self.pl_songs[self.pl_offsets[p]:self.pl_offsets[p + 1]]].tolist()
            fault = self.fault_of_pl.get(p)
            rec: dict[str, Any] = {"tags": self.pl_tags[p], "id": int(self.pl_ids[p]), "plylst_title": self.pl_title[p],
                                   "songs": songs_, "like_cnt": int(self.pl_likes[p]), "updt_date": self.pl_dates[p]}
            if fault == "playlist_without_id":
                del rec["id"]
            elif fault == "playlist_songs_missing":
                del rec["songs"]
            elif fault == "unknown_song_ids":
                rec["songs"] = songs_ + self.unknown_songs[p]
            elif fault == "absurd_updt_date":
                rec["updt_date"] = self.absurd[p]
            elif fault == "duplicate_playlist_ids":
                rec["id"] = self.dup_id[p]
            yield rec

    def song_records(self) -> Iterator[dict[str, Any]]:
        codes = MAJOR_CODES
        for sid in range(len(self.kind)):
            j = int(self.j_of_id[sid])
            al = self.albums
            a = self.album[j]
            code = codes[self.major[j]]
            gnr = [code]
            dtl = _details(code, al.year[a], al.u[a], al.u_all[a])
            if self.major2[j] >= 0:
                code2 = codes[self.major2[j]]
                gnr.append(code2)
                dtl += _details(code2, al.year[a], al.u_all[a], 1.0)
            fault = self.fault_of_song.get(j)
            if fault == "unknown_genre_codes":
                gnr.append(UNKNOWN_GENRE)
                dtl.append(UNKNOWN_DETAIL)
            artists = [self.artist_table[a] for a in self.artists[j]]
            rec: dict[str, Any] = {"song_gn_dtl_gnr_basket": dtl, "issue_date": al.issue[a],
                                   "album_name": al.name[a], "album_id": al.id[a],
                                   "artist_id_basket": [a.melon_id for a in artists], "song_name": self.title[j],
                                   "song_gn_gnr_basket": gnr, "artist_name_basket": [a.name for a in artists],
                                   "id": sid}
            if fault == "song_without_id":
                del rec["id"]
            yield rec

    def counts(self) -> dict[str, Any]:
        lengths = np.diff(self.pl_offsets)
        by_split = {name: int(lengths[self.pl_split == s].sum()) for s, name in enumerate(("train", "val", "test"))}
        by_class: dict[str, int] = {}
        for cls in self.shared_class.values():
            by_class[cls] = by_class.get(cls, 0) + 1
        by_neg: dict[str, int] = {}
        for cls, _twin in self.negatives.values():
            by_neg[cls] = by_neg.get(cls, 0) + 1
        train = lengths[self.pl_split == 0]
        return {
            "playlists": {name: int((self.pl_split == s).sum()) for s, name in enumerate(("train", "val", "test"))},
            "rows": by_split, "rows_total": int(lengths.sum()),
            "train_songs_per_playlist": {"mean": round(float(train.mean()), 2) if train.size else 0.0,
                                         "max": int(train.max()) if train.size else 0},
            "songs": len(self.kind), "songs_in_playlists": int((self.song_counts > 0).sum()),
            "most_playlists_of_a_song": int(self.song_counts.max()) if self.song_counts.size else 0,
            "distinct_keys": len({self.song_key(j) for j in range(len(self.kind))}),
            "shared_with_genie": len(self.shared_class), "shared_by_class": dict(sorted(by_class.items())),
            "negatives": dict(sorted(by_neg.items())), "re_releases": len(self.re_release_of),
            "masked": {"songs": int(self.mask_songs.sum()), "tags": int(self.mask_tags.sum())},
            "genre_codes": len(genre_table()), "artists": len(self.artist_table), "albums": len(self.albums),
            "distinct_tags": len({t for tags in self.pl_tags for t in tags}),
        }


_ANTECEDENTS = frozenset(a for a, _b, _p in PLANTED_GROUPS)


def _group_order(theme: list[str]) -> list[str]:
    """The theme's tags with each planted group's consequent right after its antecedent."""
    out: list[str] = []
    for tag in theme:
        if tag in out:
            continue
        out.append(tag)
        out += [b for a, b, _p in PLANTED_GROUPS if a == tag and b in theme and b not in out]
    return out


def scale_albums(scale: MelonScale) -> int:
    """Album ids to draw: an upper bound of the albums a scale makes (singles included)."""
    return scale.songs + 1000


def _simple(name: str) -> bool:
    """A made-up artist name the build reads as one name: no separator, no bracket."""
    return len(split_names(name)) == 1 and not any(c in name for c in "()[]&,/+;") and len(name) > 1


# --------------------------------------------------------------------------- writing
@dataclass(frozen=True)
class Written:
    path: Path
    records: int
    size: int


def _dump(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False)


def _write_array(path: Path, records: Iterable[Any], chunk: int = 2000) -> Written:
    """One JSON array, written record by record (json.dumps of the whole list gives the same bytes)."""
    n = 0
    with files.atomic_path(path) as tmp:
        with open(tmp, "w", encoding="utf-8", newline="") as fh:
            fh.write("[")
            buf: list[str] = []
            for rec in records:
                buf.append(_dump(rec) if n == 0 else ", " + _dump(rec))
                n += 1
                if len(buf) >= chunk:
                    fh.write("".join(buf))
                    buf.clear()
            fh.write("".join(buf))
            fh.write("]")
    return Written(path, n, path.stat().st_size)


def _write_ground_truth(path: Path, b: _Builder, faults: dict[str, Any]) -> Written:
    compact = {"separators": (",", ":"), "ensure_ascii": False}
    head = {"generator": "melon", "generator_version": GENERATOR_VERSION, "seed": b.seed, "scale": b.scale_name,
            "genie": {"seed": b.seed, "scale": b.scale_name, "generator_version": b.genie_generator_version},
            "counts": b.counts()}
    with files.atomic_path(path) as tmp:
        with open(tmp, "w", encoding="utf-8", newline="") as fh:
            fh.write(json.dumps(head, **compact)[:-1])
            fh.write(',"songs":{')
            buf = []
            for sid in range(len(b.kind)):
                j = int(b.j_of_id[sid])
                buf.append(("," if sid else "") + f'"{sid}":' + json.dumps(b.song_key(j), ensure_ascii=False))
                if len(buf) >= 5000:
                    fh.write("".join(buf))
                    buf.clear()
            fh.write("".join(buf))
            shared = {str(int(b.ids[j])): cls for j, cls in sorted(b.shared_class.items(), key=lambda kv: b.ids[kv[0]])}
            negatives = {str(int(b.ids[j])): {"class": cls, "of": int(b.ids[twin])}
                         for j, (cls, twin) in sorted(b.negatives.items(), key=lambda kv: b.ids[kv[0]])}
            re_releases = {str(int(b.ids[j])): int(b.ids[orig])
                           for j, orig in sorted(b.re_release_of.items(), key=lambda kv: b.ids[kv[0]])}
            fh.write('},"shared_with_genie":' + json.dumps(shared, **compact))
            fh.write(',"negatives":' + json.dumps(negatives, **compact))
            fh.write(',"re_releases":' + json.dumps(re_releases, **compact))
            fh.write(',"faults":' + json.dumps(faults, **compact) + "}")
    return Written(path, len(b.kind), path.stat().st_size)


def write_dataset(out: Path | str, seed: int = 7, scale: str = "tiny", faults: str = "none") -> list[Written]:
    """Write the dataset files and ground_truth.json into ``out``; one Written per file, in FILES order."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    b = _Builder(seed, scale, faults)
    b.build()
    planted = b.plan_faults()
    written = [_write_array(out / name, b.playlist_records(s)) for s, name in enumerate(FILES[:3])]
    written.append(_write_array(out / "song_meta.json", b.song_records()))
    table = genre_table()
    files.write_text(out / "genre_gn_all.json", _dump(table))
    written.append(Written(out / "genre_gn_all.json", len(table), (out / "genre_gn_all.json").stat().st_size))
    written.append(_write_ground_truth(out / GROUND_TRUTH, b, planted))
    return written


def expected_rows(scale: str) -> int:
    """Roughly how many playlist-song rows a scale writes (before masking)."""
    sc = SCALES[scale]
    return int(sc.playlists * min(math.exp(sc.length_mu + sc.length_sigma ** 2 / 2), sc.length_max))
