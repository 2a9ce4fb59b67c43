"""The song pool behind the demo catalogue: real songs first, then plausible synthetic ones.

Real songs come from the reference CSVs (Melon yearly charts, mood-labelled charts, Last.fm mood
lists), deduplicated on normalised (artist, title). When a scale needs more distinct songs than the
references hold, synthetic album tracks are added: real artists with titles recombined from real
title words of the same language (plus a few real artists for genres the charts lack, such as
클래식 or 뉴에이지). Everything is deterministic from the seed.

Songs are stored as columns (lists / numpy arrays) so the full scale (~300k pool songs) stays small.
Pool order is popularity order: index 0 is the most played song; playlists sample with a Zipf-like
weight over that rank, which gives the heavy tail (a few songs in hundreds of playlists).

Also here: the display variants Genie shows for one song ("(Feat. X)" present or not, spacing,
case, full-width characters, "아이유 (IU)" vs "IU", re-release ids) and the normalisation under
which all variants of one song agree (used only to build the pool and the ground truth).

Planted on top (``_plant_classes``, after the pool is built, from its own random stream so the rest of
the pool and every playlist's other draws stay as they were): spellings a plain normaliser cannot
join (a gloss in another script, a film/drama name in brackets, collaboration separators, an alias
form together with a spacing change, a group's former name) and hard negatives, extra songs that look
like a popular one but are not the same song (live, remix, inst., acoustic, sped up, another
language's version, another artist's cover, a duet). ``planted_display`` decides, per row, whether
a row shows one of them.
"""

from __future__ import annotations

import functools
import random
import re
import unicodedata
import zlib
from dataclasses import dataclass, field

import numpy as np

from demo_site import reference
from demo_site.taxonomy import GENRES, MOOD_CLASSES, genie_genre_string

FEAT_RE = re.compile(r"\s*[\(\[]\s*(?:featuring|feat\.?|ft\.)\s*((?:[^()\[\]]|\([^()]*\))+)[\)\]]\s*$",
                     re.IGNORECASE)  # one level of nesting: "(Feat. 규현 (KYUHYUN))"
_ALIAS_RE = re.compile(r"^([^()&,;]+?)\s*\(([^()&,;]+)\)$")
_HANGUL_RE = re.compile(r"[\uac00-\ud7a3]")
_WORD_STRIP = "()[]{}'\"!?.,:;~…-–—&/+*#"

# Artists whose Korean and Latin names Genie shows inconsistently but the charts spell one way.
MANUAL_ALIASES: dict[str, str] = {
    "아이유": "IU", "방탄소년단": "BTS", "빅마마": "Big Mama", "싸이": "PSY", "자우림": "Jaurim",
    "다비치": "DAVICHI", "백지영": "Baek Z Young", "성시경": "Sung Si Kyung", "박효신": "Park Hyo Shin",
    "거미": "GUMMY", "임영웅": "Lim Young Woong", "폴킴": "Paul Kim", "잔나비": "JANNABI",
    "10cm": "십센치", "스트레이 키즈": "Stray Kids", "투모로우바이투게더": "TOMORROW X TOGETHER",
}

# Real artists for genres the chart data barely has, so every genre of taxonomy.md has songs.
GENRE_ARTISTS: dict[str, tuple[str, ...]] = {
    "클래식": ("조성진", "임윤찬", "손열음", "Lang Lang", "Yo-Yo Ma", "Martha Argerich"),
    "뉴에이지": ("이루마 (Yiruma)", "George Winston", "Kevin Kern", "유키 구라모토 (Yuhki Kuramoto)", "김광민"),
    "재즈": ("나윤선", "Chet Baker", "Bill Evans", "Norah Jones", "Ella Fitzgerald", "웅산"),
    "JPOP": ("YOASOBI", "아이묭 (Aimyon)", "Official HIGE DANdism", "요네즈 켄시 (Kenshi Yonezu)", "RADWIMPS (래드윔프스)"),
    "트롯": ("송가인", "장윤정", "홍진영", "진성", "영탁", "이찬원"),
    "월드뮤직": ("Buena Vista Social Club", "Gipsy Kings", "Cesaria Evora", "Ibrahim Ferrer"),
    "블루스/포크": ("김광석", "Bob Dylan", "Joni Mitchell", "한대수", "양희은"),
    "OST": ("멜로망스", "거미", "윤미래", "백예린"),
}

_LASTFM_MOOD = {
    "bright": "bright", "cheerful": "bright", "fun": "bright", "happy": "bright", "positive": "bright",
    "uplifting": "bright", "light": "bright", "exciting": "bright", "energetic": "bright",
    "romantic": "love", "lovely": "love", "sweet": "love", "intimate": "love",
    "sad": "sad", "lonely": "sad", "melancholy": "sad", "gloomy": "sad", "bittersweet": "sad",
    "sentimental": "sad", "nostalgic": "sad", "cold": "sad",
    "calm": "calm", "relaxed": "calm", "gentle": "calm", "warm": "calm", "dreamy": "calm",
    "atmospheric": "calm", "lyrical": "calm", "earnest": "calm",
    "aggresive": "intense", "aggressive": "intense", "angry": "intense", "fierce": "intense",
    "intense": "intense", "strong": "intense", "epic": "intense", "dramatic": "intense",
    "serious": "intense", "scary": "intense", "complex": "intense",
    "sexy": "groove", "sensual": "groove", "smooth": "groove", "confident": "groove", "driving": "groove",
    "mysterious": "groove",
}
_MELON_MOOD = {"happy": "bright", "romantic": "love", "sad": "sad", "aggressive": "intense", "dramatic": "sad"}

# P(genre | language, mood) for real songs that have no artist genre yet.
_KPOP_GENRES = {
    "sad": {"발라드": 6, "가요": 1, "인디": 1, "R&B/소울": 1, "OST": 1},
    "love": {"발라드": 3.5, "가요": 1.5, "인디": 1.5, "R&B/소울": 1.5, "OST": 1, "댄스": 1},
    "bright": {"댄스": 5, "가요": 1.5, "인디": 1, "락/메탈": 0.5, "랩/힙합": 1, "트롯": 0.3},
    "intense": {"랩/힙합": 5, "락/메탈": 3, "댄스": 2},
    "calm": {"인디": 3, "발라드": 3, "블루스/포크": 1.5, "OST": 1.5, "뉴에이지": 0.5},
    "groove": {"R&B/소울": 4, "랩/힙합": 3, "댄스": 2, "일렉트로니카": 1},
}
_POP_GENRES = {
    "sad": {"POP": 4, "인디": 2.5, "블루스/포크": 2, "락/메탈": 1.5},
    "love": {"POP": 5, "R&B/소울": 2.5, "인디": 1.5, "재즈": 1},
    "bright": {"POP": 6, "일렉트로니카": 1.5, "락/메탈": 1, "인디": 1.5},
    "intense": {"락/메탈": 5, "랩/힙합": 3.5, "일렉트로니카": 1.5},
    "calm": {"인디": 3, "POP": 3, "블루스/포크": 1.5, "재즈": 1, "일렉트로니카": 1, "뉴에이지": 0.5},
    "groove": {"R&B/소울": 4.5, "랩/힙합": 2.5, "일렉트로니카": 2, "POP": 1},
}
# Roughly how often playlists ask for each mood (bright love sad calm intense groove).
_MOOD_DEMAND = (0.2, 0.2, 0.2, 0.25, 0.05, 0.1)
_GENRE_INDEX = {g: i for i, g in enumerate(GENRES)}
_MOOD_INDEX = {m: i for i, m in enumerate(MOOD_CLASSES)}


# --------------------------------------------------------------------------- normalisation
_NON_ALNUM_ASCII = re.compile(r"[^0-9a-z]+")
_NON_ALNUM = re.compile(r"[\W_]+")
_ACCENTED = re.compile(r"[\u00c0-\u036f\u1e00-\u1eff]")


def strip_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


@functools.lru_cache(maxsize=65536)
def _norm_cached(text: str) -> str:
    return norm_text(text)


def norm_text(text: str) -> str:
    """Lower-case, width- and accent-folded, with every space and punctuation mark removed."""
    if text.isascii():
        return _NON_ALNUM_ASCII.sub("", text.lower())
    folded = unicodedata.normalize("NFKC", text).casefold()
    if _ACCENTED.search(folded):
        folded = strip_accents(folded)
    return _NON_ALNUM.sub("", folded)


def split_feat(title: str) -> tuple[str, str | None]:
    """'좋은 날 (Feat. 누구)' -> ('좋은 날', '누구'); a repeated suffix (seen in the charts) goes too."""
    feat = None
    m = FEAT_RE.search(title)
    while m and m.start() > 0:
        feat = feat or m.group(1).strip()
        title = title[: m.start()]
        m = FEAT_RE.search(title)
    return title.strip(), feat


def title_key(title: str) -> str:
    return norm_text(split_feat(unicodedata.normalize("NFKC", title))[0])


def is_korean(text: str) -> bool:
    return bool(_HANGUL_RE.search(text))


# --------------------------------------------------------------------------- pool
@dataclass(frozen=True)
class Artist:
    name: str  # canonical display form
    display_forms: tuple[str, ...]  # all forms Genie may show, canonical first
    korean: bool


@dataclass
class Album:
    name: str
    album_id: str
    artist: int


@dataclass
class SongPool:
    """Column store of canonical songs in popularity order (index 0 = most popular)."""

    seed: int
    artists: list[Artist]
    albums: list[Album]
    title: list[str] = field(default_factory=list)
    feat: list[str | None] = field(default_factory=list)
    artist: list[int] = field(default_factory=list)
    album: list[int] = field(default_factory=list)
    genre: list[int] = field(default_factory=list)
    mood: list[int] = field(default_factory=list)
    year: list[int] = field(default_factory=list)
    duration: list[int] = field(default_factory=list)
    source: list[str] = field(default_factory=list)
    # Hard negatives (column): the pool index of the popular song a planted negative looks like, -1 for
    # every other song, and its class (neg_live, neg_cover, ...); they sit after ``n_base``.
    negative_of: list[int] = field(default_factory=list)
    negative_kind: list[str] = field(default_factory=list)
    n_real: int = 0
    n_base: int = 0  # songs playlists draw directly (everything before the planted negatives)
    planted: dict[int, str] = field(default_factory=dict)  # song -> gloss | work_title | collaboration | alias_spacing
    gloss: dict[int, str] = field(default_factory=dict)  # song -> its gloss, in the other script
    work_title: dict[int, str] = field(default_factory=dict)  # song -> its film/drama/game name
    collab_members: dict[int, tuple[int, int]] = field(default_factory=dict)  # "A & B" artist -> (A, B)
    former_name: dict[int, str] = field(default_factory=dict)  # artist -> a name it went by earlier
    negative_for: dict[int, int] = field(default_factory=dict)  # popular song -> its planted negative
    # the song id of each planted spelling without evidence, given in the order rows first show them
    spelling_ids: dict[tuple[int, str, str], str] = field(default_factory=dict, repr=False)
    _spelling_slots: dict[int, int] = field(default_factory=dict, repr=False)
    _keys: dict[int, str] = field(default_factory=dict, repr=False)
    _artist_ids: dict[int, str] = field(default_factory=dict, repr=False)

    def __len__(self) -> int:
        return len(self.title)

    def artist_id(self, artist: int) -> str:
        aid = self._artist_ids.get(artist)
        if aid is None:
            aid = self._artist_ids[artist] = str(80_000_000 + (artist * 104_729 + self.seed * 17) % 9_999_999)
        return aid

    def song_id(self, idx: int) -> str:
        return str(80_000_000 + (idx * 7919 + self.seed * 131) % 19_999_999)

    def canonical_key(self, idx: int) -> str:
        """The song's true identity in the ground truth: '<canonical artist> - <base title>'."""
        key = self._keys.get(idx)
        if key is None:  # cached so the ~250k rows of the full scale share one string per song
            key = self._keys[idx] = f"{self.artists[self.artist[idx]].name} - {self.title[idx]}"
        return key

    def genre_name(self, idx: int) -> str:
        return GENRES[self.genre[idx]]

    def genie_genre(self, idx: int) -> str:
        return genie_genre_string(GENRES[self.genre[idx]], self.artists[self.artist[idx]].korean)

    def mood_name(self, idx: int) -> str:
        return MOOD_CLASSES[self.mood[idx]]

    def display_title(self, idx: int) -> str:
        feat = self.feat[idx]
        return f"{self.title[idx]} (Feat. {feat})" if feat else self.title[idx]

    def add(self, title: str, feat: str | None, artist: int, album: int, genre: int, mood: int,
            year: int, duration: int, source: str, negative_of: int = -1, negative_kind: str = "") -> int:
        self.title.append(title)
        self.feat.append(feat)
        self.artist.append(artist)
        self.album.append(album)
        self.genre.append(genre)
        self.mood.append(mood)
        self.year.append(year)
        self.duration.append(duration)
        self.source.append(source)
        self.negative_of.append(negative_of)
        self.negative_kind.append(negative_kind)
        return len(self.title) - 1


def _choose(r: random.Random, weights: dict[str, float]) -> str:
    return r.choices(list(weights), weights=list(weights.values()))[0]


class _ArtistBook:
    """Canonical artist names, their alias forms and ids."""

    def __init__(self, melon_names: list[str]):
        self.artists: list[Artist] = []
        self.index: dict[str, int] = {}  # norm(name) -> artist index
        self.alias_to_name: dict[str, str] = {}
        claims: dict[str, set[str]] = {}
        canon_norms = {norm_text(n) for n in melon_names}
        for name in melon_names:
            for alias in self._aliases(name):
                claims.setdefault(norm_text(alias), set()).add(name)
        # An alias that two artists claim, or that is another artist's own name, is never used.
        self.ambiguous: set[str] = set(canon_norms)
        for alias_norm, names in claims.items():
            if len(names) == 1 and alias_norm not in canon_norms:
                self.alias_to_name[alias_norm] = next(iter(names))
            elif names != {n for n in names if norm_text(n) == alias_norm}:
                self.ambiguous.add(alias_norm)
        for canon, alias in MANUAL_ALIASES.items():
            self.alias_to_name.setdefault(norm_text(alias), canon)

    @staticmethod
    def _aliases(name: str) -> list[str]:
        m = _ALIAS_RE.match(name)
        if m and m.group(1).strip() and m.group(2).strip():
            return [m.group(1).strip(), m.group(2).strip()]
        return []

    def canonical(self, name: str) -> str:
        return self.alias_to_name.get(_norm_cached(name), name)

    def get(self, name: str) -> int:
        canon = self.canonical(name)
        key = _norm_cached(canon)
        if key in self.index:
            return self.index[key]
        idx = len(self.artists)
        forms = [canon] + self._aliases(canon)
        if canon in MANUAL_ALIASES:
            forms += [f"{canon} ({MANUAL_ALIASES[canon]})", MANUAL_ALIASES[canon]]
        # Only offer alias forms no other artist could be confused with.
        forms = [f for i, f in enumerate(forms) if i == 0 or (
            self.alias_to_name.get(norm_text(f), canon) == canon
            and (norm_text(f) not in self.ambiguous or norm_text(f) == key)
            and norm_text(f) not in self.index)]
        self.artists.append(Artist(canon, tuple(dict.fromkeys(forms)), is_korean(canon)))
        self.index[key] = idx
        return idx


class _WordModel:
    """A bigram chain over real title words of one language: plausible new titles, fast to sample."""

    def __init__(self, titles: list[str], korean: bool):
        self.korean = korean
        self.starts: list[str] = []
        self.next: dict[str, list[str]] = {}
        self.words: list[str] = []
        for t in titles:
            toks = [self._clean(tok) for tok in split_feat(t)[0].split()]
            toks = [tok for tok in toks if tok]
            if not toks:
                continue
            self.starts.append(toks[0])
            self.words.extend(toks)
            for a, b in zip(toks, toks[1:]):
                self.next.setdefault(a, []).append(b)
        if not self.words:  # never empty, even with odd reference data
            self.words = self.starts = ["Song"] if not korean else ["노래"]

    def _clean(self, tok: str) -> str:
        tok = tok.strip(_WORD_STRIP)
        if not tok or tok.isdigit():
            return ""
        if self.korean:
            return tok if is_korean(tok) else ""
        return tok.capitalize() if tok.isascii() and tok.isalpha() and len(tok) > 1 else ""

    def title(self, r: random.Random, length: int) -> str:
        out = [r.choice(self.starts)]
        while len(out) < length:
            follow = self.next.get(out[-1])
            out.append(r.choice(follow) if follow and r.random() < 0.8 else r.choice(self.words))
        return " ".join(out)

    def word(self, r: random.Random) -> str:
        return r.choice(self.words)


_CLASSICAL_FORMS = ("Nocturne", "Prelude", "Etude", "Sonata", "Ballade", "Waltz", "Impromptu", "Fantasia",
                    "Serenade", "Romance", "Suite", "Variations")
_KEYS = ("C", "D", "E", "F", "G", "A", "B", "E-flat", "B-flat", "A-flat", "F-sharp", "C-sharp")
_ALBUM_KR = ("정규 {n}집", "미니앨범 {n}집", "{w}", "{w} {v}", "Special Album '{w}'")
_ALBUM_EN = ("The {nth} Album", "{w} {v}", "{w}", "{w} (Deluxe)", "The {nth} Mini Album '{w}'")
_NTH = ("1st", "2nd", "3rd", "4th", "5th", "6th", "7th", "8th")


@dataclass(frozen=True)
class _RealSongs:
    """Seed-independent part of the pool: artists, deduplicated real songs, title word models."""

    book: _ArtistBook
    entries: tuple[dict, ...]
    kr: _WordModel
    en: _WordModel


@functools.lru_cache(maxsize=2)
def _real_songs(root: str) -> _RealSongs:
    raw = reference.raw_songs()
    book = _ArtistBook(sorted({s.artist for s in raw if s.kind != "lastfm"}))
    merged: dict[tuple[int, str], dict] = {}
    for s in raw:
        a = book.get(s.artist)
        base, feat = split_feat(unicodedata.normalize("NFKC", s.title))
        key = (a, norm_text(base))
        if not key[1]:
            continue
        mood = _MELON_MOOD.get(s.mood) if s.kind != "lastfm" else _LASTFM_MOOD.get(s.mood)
        entry = merged.get(key)
        if entry is None:
            merged[key] = {"artist": a, "title": base, "feat": feat, "year": s.year, "kind": s.kind,
                           "moods": [mood] if mood else [], "duration": s.duration, "charts": 1}
        else:
            entry["charts"] += 1
            entry["year"] = max(entry["year"], s.year)
            if mood:
                entry["moods"].append(mood)
            entry["duration"] = entry["duration"] or s.duration
            entry["feat"] = entry["feat"] or feat
    entries = tuple(merged.values())
    for names in GENRE_ARTISTS.values():  # register now: the book is read-only afterwards
        for name in names:
            book.get(name)
    kr = _WordModel([e["title"] for e in entries if is_korean(e["title"])], korean=True)
    en = _WordModel([e["title"] for e in entries if not is_korean(e["title"])], korean=False)
    return _RealSongs(book, entries, kr, en)


def build_pool(seed: int, size: int) -> SongPool:
    """The first ``size`` songs of the popularity-ordered pool for ``seed``."""
    rng = np.random.default_rng([seed, 0x504F4F4C])
    r = random.Random(f"pool:{seed}")
    real = _real_songs(str(reference.override_dir() or reference.SHIPPED_SONGS))
    book, entries, kr, en = real.book, real.entries, real.kr, real.en
    pool = SongPool(seed=seed, artists=book.artists, albums=[])
    # Popularity: chart songs (more years on the chart, more recent) ahead of Last.fm lists.
    weights = np.array([(3.0 if e["kind"] != "lastfm" else 1.0) * e["charts"] ** 1.5
                        * (1 + max(e["year"] - 1990, 0) / 6) ** 1.5 for e in entries])
    order = np.argsort(-(rng.random(len(entries)) ** (1.0 / weights)), kind="stable")

    artist_genre: dict[int, str] = {}
    artist_moods: dict[int, list[str]] = {}
    for e in entries:
        artist_moods.setdefault(e["artist"], []).extend(e["moods"])

    def pick_mood(e_moods: list[str], artist: int) -> str:
        if e_moods:
            return max(set(e_moods), key=lambda m: (e_moods.count(m), m))
        pool_moods = artist_moods.get(artist) or []
        if pool_moods and r.random() < 0.7:
            return r.choice(pool_moods)
        return r.choices(MOOD_CLASSES[:4], weights=(0.35, 0.3, 0.2, 0.15))[0]

    def pick_genre(artist: int, korean: bool, mood: str, year: int) -> str:
        if artist in artist_genre and r.random() < 0.8:
            return artist_genre[artist]
        table = dict((_KPOP_GENRES if korean else _POP_GENRES)[mood])
        if korean and 0 < year < 1996:
            table["트롯"] = table.get("트롯", 0) + 1.5
        g = _choose(r, table)
        artist_genre.setdefault(artist, g)
        return g

    for i in order[: min(size, len(order))]:
        e = entries[i]
        artist = book.artists[e["artist"]]
        korean = artist.korean or (e["kind"] == "kpop")
        mood = pick_mood(e["moods"], e["artist"])
        genre = pick_genre(e["artist"], korean, mood, e["year"])
        duration = e["duration"] or r.randrange(150, 290)
        album = len(pool.albums)
        is_single = r.random() < 0.6
        pool.albums.append(Album(e["title"] if is_single else "", _album_id(seed, album), e["artist"]))
        pool.add(e["title"], e["feat"], e["artist"], album, _GENRE_INDEX[genre], _MOOD_INDEX[mood],
                 e["year"], duration, "melon" if e["kind"] != "lastfm" else "lastfm")
    pool.n_real = len(pool)

    for alb in pool.albums:  # real songs that are not singles sit on a named album
        if not alb.name:
            alb.name = _album_name(r, book.artists[alb.artist].korean, kr, en)

    if size > len(pool):
        _add_synthetic(pool, book, entries, rng, r, size - len(pool), kr, en, artist_genre, artist_moods)
    _plant_classes(pool, book, kr, en)
    return pool


def _album_id(seed: int, album: int) -> str:
    return str(80_000_000 + (album * 15_485_863 + seed * 7) % 9_999_991)


def _album_name(r: random.Random, korean: bool, kr: _WordModel, en: _WordModel) -> str:
    words = kr if korean else en
    pattern = (_ALBUM_KR if korean else _ALBUM_EN)[r.randrange(5)]
    return pattern.format(n=r.randrange(1, 9), nth=_NTH[r.randrange(len(_NTH))],
                          w=words.title(r, r.choice((1, 1, 2))), v=en.word(r))


def _add_synthetic(pool: SongPool, book: _ArtistBook, entries: tuple[dict, ...], rng: np.random.Generator, r: random.Random, count: int,
                   kr: _WordModel, en: _WordModel, artist_genre: dict[int, str],
                   artist_moods: dict[int, list[str]]) -> None:
    """Album tracks by real artists, titles from a word chain over real titles of their language."""
    seen = {(pool.artist[i], norm_text(pool.title[i])) for i in range(len(pool))}
    n_real_artists = 1 + max(e["artist"] for e in entries)  # artists with chart songs come first
    song_counts = np.bincount(np.asarray(pool.artist, dtype=np.int64), minlength=n_real_artists).astype(float)
    # Artists with more chart songs get more album tracks; every artist gets some.
    weights = list((song_counts + 0.6) ** 0.8)
    artist_ids = list(range(n_real_artists))
    for genre, names in GENRE_ARTISTS.items():
        for name in names:
            a = book.index[_norm_cached(book.canonical(name))]
            artist_genre[a] = genre
            if a >= len(weights):
                artist_ids.append(a)
                weights.append(18.0)
            else:
                weights[a] += 10.0
    # Balance supply with what playlists ask for: ~62% Korean artists (Korean playlists dominate).
    w = np.asarray(weights, dtype=float)
    korean = np.array([book.artists[a].korean for a in artist_ids], dtype=bool)
    if korean.any() and (~korean).any():
        w = np.where(korean, 0.62 * w / w[korean].sum(), 0.38 * w / w[~korean].sum())
    picks = rng.choice(np.asarray(artist_ids), size=count, p=w / w.sum()).tolist()
    lengths = rng.choice([1, 2, 2, 2, 3, 3, 4], size=count).tolist()
    album_of: dict[int, tuple[int, int]] = {}  # artist -> (album index, tracks left on it)
    for j in range(count):
        a = picks[j]
        artist = book.artists[a]
        genre = artist_genre.get(a)
        moods = artist_moods.get(a)
        mood = r.choice(moods) if moods and r.random() < 0.5 else r.choices(MOOD_CLASSES, weights=_MOOD_DEMAND)[0]
        if genre is None or r.random() < 0.2:
            genre = _choose(r, (_KPOP_GENRES if artist.korean else _POP_GENRES)[mood])
        title = ""
        for attempt in range(12):
            if genre == "클래식":
                title = (f"{r.choice(_CLASSICAL_FORMS)} No. {r.randrange(1, 25)} in {r.choice(_KEYS)} "
                         f"{'major' if r.random() < 0.5 else 'minor'}, Op. {r.randrange(1, 120)}")
            elif artist.korean and r.random() < 0.85:
                title = kr.title(r, lengths[j] + (attempt > 4))
            else:
                title = en.title(r, lengths[j] + (attempt > 4))
            key = (a, norm_text(title))
            if key[1] and key not in seen:
                break
        else:
            title = f"{title} Part {j}"
            key = (a, norm_text(title))
        seen.add(key)
        alb, left = album_of.get(a, (-1, 0))
        if left <= 0:
            alb = len(pool.albums)
            pool.albums.append(Album(_album_name(r, artist.korean, kr, en), _album_id(pool.seed, alb), a))
            left = r.randrange(4, 13)
        album_of[a] = (alb, left - 1)
        feat = None
        if r.random() < 0.08:
            other = picks[r.randrange(count)]
            if other != a:
                feat = book.artists[other].name
        pool.add(title, feat, a, alb, _GENRE_INDEX[genre], _MOOD_INDEX[mood], 0, r.randrange(140, 300), "synthetic")


# --------------------------------------------------------------------------- display variants
def _fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else ("\u3000" if c == " " else c) for c in text)


def _change_case(text: str, r: random.Random) -> str:
    choice = r.randrange(3)
    return text.upper() if choice == 0 else text.lower() if choice == 1 else text.title()


def _change_spacing(text: str, r: random.Random) -> str:
    spaces = [i for i, c in enumerate(text) if c == " "]
    if spaces and r.random() < 0.6:
        i = r.choice(spaces)
        return text[:i] + text[i + 1:]
    if len(text) > 2 and r.random() < 0.5:
        i = r.randrange(1, len(text))
        return text[:i] + " " + text[i:]
    return text + " " if r.random() < 0.5 else text.replace(" ", "  ", 1) if " " in text else " " + text


@dataclass(frozen=True)
class RowDisplay:
    title: str
    artist: str
    song_id: str
    album_id: str
    album_name: str
    variants: tuple[str, ...]


def row_display(pool: SongPool, idx: int, r: random.Random, variant_rate: float) -> RowDisplay:
    """How one playlist row shows song ``idx``: usually canonical, sometimes an inconsistent variant."""
    artist = pool.artists[pool.artist[idx]]
    album = pool.albums[pool.album[idx]]
    title = pool.display_title(idx)
    artist_name = artist.name
    song_id, album_id, album_name = pool.song_id(idx), album.album_id, album.name
    if r.random() >= variant_rate:
        return RowDisplay(title, artist_name, song_id, album_id, album_name, ())
    kinds = ["spacing", "case", "fullwidth"]
    weights = [2.0, 1.5, 1.0]
    if pool.feat[idx]:
        kinds.append("feat")
        weights.append(3.0)
    if len(artist.display_forms) > 1:
        kinds.append("artist_form")
        weights.append(3.0)
    kind = r.choices(kinds, weights=weights)[0]
    if kind == "feat":
        title = pool.title[idx]
    elif kind == "artist_form":
        artist_name = artist.display_forms[r.randrange(1, len(artist.display_forms))]
    elif kind == "case":
        new = _change_case(title, r)
        title, kind = (new, kind) if new != title else (title, "spacing")
    elif kind == "fullwidth":
        new = _fullwidth(title)
        title, kind = (new, kind) if new != title else (title, "spacing")
    if kind == "spacing":  # only inside the base title: "(Feat. X)" keeps its form
        base, feat = split_feat(title)
        title = _change_spacing(base, r) + (f" (Feat. {feat})" if feat else "")
    variants = [kind]
    if r.random() < 0.35:  # a re-release: same song, another id and album
        v = r.randrange(1, 4)
        song_id = str(100_000_000 + idx * 4 + v)
        album_id = str(90_000_000 + pool.album[idx] * 4 + v)
        album_name = f"{album.name} {('(Remastered)', '- Repackage', '(Special Edition)')[v - 1]}"
        variants.append("re_release")
    return RowDisplay(title, artist_name, song_id, album_id, album_name, tuple(variants))


# --------------------------------------------------------------------------- planted classes
POSITIVE_CLASSES = ("gloss", "work_title", "collaboration", "alias_spacing", "renamed_artist")
NEGATIVE_CLASSES = ("neg_live", "neg_remix", "neg_inst", "neg_acoustic", "neg_sped_up", "neg_language_ver",
                    "neg_cover", "neg_duet_solo")
# Share of a planted song's rows that show the planted form (the others show the song as before).
SHOW_RATE = {"gloss": 0.5, "work_title": 0.5, "collaboration": 0.6, "alias_spacing": 0.5, "renamed_artist": 0.4}
NEGATIVE_SWAP = 0.45  # share of a twin's rows that show its hard negative instead (row counts stay the same)
HEAD_KEPT = 10  # the most popular songs get no negative: their rows stay whole (the heavy tail)
NEGATIVE_SUFFIX = {"neg_live": "Live", "neg_remix": "Remix", "neg_inst": "Inst.", "neg_acoustic": "Acoustic Ver.",
                   "neg_sped_up": "Sped Up"}
NEGATIVE_ALBUM = {"neg_live": "{artist} Live Concert", "neg_remix": "{title} Remixes",
                  "neg_inst": "{title} Instrumental", "neg_acoustic": "{title} Acoustic Session",
                  "neg_sped_up": "{title} Sped Up", "neg_language_ver": "{title} {language} Edition"}
COLLAB_FORMS = ("{a} X {b}", "{b} & {a}", "{a}, {b}", "{a} with {b}", "{a} and {b}")
# Words a gloss, a work name or a former name never contains: a dedupe rule reads them as a version.
_VERSION_WORDS = frozenset({
    "live", "remix", "remixes", "mix", "inst", "instrumental", "acoustic", "ver", "version", "sped", "slowed",
    "remaster", "remastered", "edit", "feat", "ft", "featuring", "prod", "ost", "demo", "original", "cover",
    "korean", "japanese", "english", "chinese", "duet", "solo", "with", "and", "x", "mr", "karaoke", "unplugged",
    "session", "reprise", "extended", "radio", "bonus", "intro", "outro", "part", "vs", "the", "of", "in",
    "라이브", "리믹스", "어쿠스틱", "버전", "반주", "드라마", "영화", "리마스터", "솔로", "듀엣",
})
_FUNCTION_WORDS = frozenset({
    "a", "an", "all", "are", "at", "be", "but", "can", "do", "dont", "for", "get", "got", "he", "her", "his", "i",
    "im", "is", "it", "just", "let", "like", "me", "my", "no", "not", "on", "our", "she", "so", "that", "they",
    "this", "to", "we", "what", "when", "where", "who", "why", "you", "your", "yours", "how", "if", "or", "up",
})
_COLLAB_WORDS = frozenset({"x", "with", "and", "feat", "feat.", "ft.", "ft", "vs", "vs."})
_BAD_NAME_CHARS = set("&,()[]/+;|:")
_LATIN_RE = re.compile(r"[A-Za-z]")
_PUNCT = "!?.,~'’-"


def _latin_only(text: str) -> bool:
    return text.isascii() and bool(_LATIN_RE.search(text))


def _hangul_only(text: str) -> bool:
    return all(is_korean(c) or c == " " for c in text) and is_korean(text)


def _simple_name(name: str) -> bool:
    """A name that reads as one artist inside 'A & B' / 'A, B' / 'A with B'."""
    return (not (_BAD_NAME_CHARS & set(name)) and len(name) > 1
            and not any(tok.lower() in _COLLAB_WORDS for tok in name.split()))


def _plain_title(title: str) -> bool:
    return bool(title.strip()) and not any(c in title for c in "()[]")


def _phrase(r: random.Random, words: _WordModel, length: int, script_ok) -> str | None:
    for _ in range(8):
        text = words.title(r, length)
        toks = text.split()
        if script_ok(text) and not any(t.lower().strip(".") in _VERSION_WORDS for t in toks) and len(text) > 1:
            return text
    return None


def _plant_classes(pool: SongPool, book: _ArtistBook, kr: _WordModel, en: _WordModel) -> None:
    """Plant the hard spellings and the hard negatives on the popular songs of the pool (deterministic).

    At every scale (``size`` pool songs, ``n_real`` of them real): ``max(8, size // 250)`` songs per positive
    class (at most 180 and ``n_real // 40``) among the ``max(150, size // 10)`` most popular, ``max(8, size // 400)``
    hard negatives per class (at most 90 and ``n_real // 80``) twinned to songs among the ``max(120, size // 16)``
    most popular (but not the ``HEAD_KEPT`` first), ``max(4, size // 1500)`` renamed artists (at most 40 and ``n_real // 200``) with 2-8 popular
    songs, the more popular ones first.
    Negatives are appended to the pool (after ``n_base``); playlists meet them when a row of their twin
    shows the negative instead (``NEGATIVE_SWAP``), so the row counts stay the same.
    """
    size = len(pool)
    pool.n_base = size
    pool.artists = list(pool.artists)  # collaboration artists are added: the shared book stays as it is
    rp = random.Random(f"plant:{pool.seed}")
    top_pos = min(pool.n_real, max(150, size // 10))
    top_neg = min(pool.n_real, max(120, size // 16))
    n_pos = min(max(8, size // 250), 180, pool.n_real // 40)
    n_neg = min(max(8, size // 400), 90, pool.n_real // 80)
    n_renamed = min(max(4, size // 1500), 40, pool.n_real // 200)
    taken: set[int] = set()
    used_names = {norm_text(a.name) for a in pool.artists} | set(book.alias_to_name) | set(book.ambiguous)
    songs_of: dict[int, list[int]] = {}
    for i in range(top_pos):
        songs_of.setdefault(pool.artist[i], []).append(i)
    every_song_of: dict[int, list[int]] = {}
    for i, a in enumerate(pool.artist):
        every_song_of.setdefault(a, []).append(i)
    titles_of: dict[int, set[str]] = {}

    def has_title(artist: int, title: str) -> bool:
        have = titles_of.get(artist)
        if have is None:
            have = titles_of[artist] = {norm_text(pool.title[i]) for i in every_song_of.get(artist, ())}
        return norm_text(title) in have

    def claim_title(artist: int, title: str) -> None:
        has_title(artist, title)
        titles_of[artist].add(norm_text(title))

    # Partners for collaborations, duets and covers: artists of popular songs with one plain name.
    partners: dict[bool, list[int]] = {True: [], False: []}
    for a in songs_of:
        artist = pool.artists[a]
        if len(artist.display_forms) == 1 and _simple_name(artist.name):
            partners[artist.korean].append(a)

    def partner(a: int) -> int | None:
        same = [b for b in partners[pool.artists[a].korean] if b != a] or [b for b in partners[False] if b != a]
        return rp.choice(same) if same else None

    def pair_artist(a: int, b: int) -> int | None:
        name = f"{pool.artists[a].name} & {pool.artists[b].name}"
        key = norm_text(name)
        for idx in range(len(book.artists), len(pool.artists)):  # the same pair again: the same artist
            if pool.artists[idx].name == name:
                return idx
        if key in used_names:
            return None
        used_names.add(key)
        pool.artists.append(Artist(name, (name,), pool.artists[a].korean))
        return len(pool.artists) - 1

    def plant_positive(idx: int, cls: str) -> bool:
        r_song = random.Random(f"{cls}:{pool.seed}:{idx}")
        title = pool.title[idx]
        a = pool.artist[idx]
        artist = pool.artists[a]
        if cls in ("gloss", "work_title"):
            if is_korean(title):  # a gloss in the other script, a work name in the same one
                words, script_ok = (en, _latin_only) if cls == "gloss" else (kr, _hangul_only)
            elif _latin_only(title):
                words, script_ok = (kr, _hangul_only) if cls == "gloss" else (en, _latin_only)
            else:
                return False
            length = r_song.choice((1, 1, 2) if words is kr and cls == "gloss" else (1, 2, 2, 3))
            text = _phrase(r_song, words, length, script_ok)
            if text and cls == "work_title" and words is en and r_song.random() < 0.3:
                more = _phrase(r_song, en, r_song.choice((2, 3)), _latin_only)
                text = f"{text}: {more}" if more else text  # "Spider-Man: Into the Spider-Verse"
            if not text or norm_text(text) == norm_text(title):
                return False
            (pool.gloss if cls == "gloss" else pool.work_title)[idx] = text
        elif cls == "collaboration":
            if len(artist.display_forms) != 1 or not _simple_name(artist.name):
                return False
            b = partner(a)
            collab = pair_artist(a, b) if b is not None else None
            if collab is None or has_title(collab, title):
                return False
            claim_title(collab, title)
            pool.collab_members[collab] = (a, b)
            pool.artist[idx] = collab  # the song's canonical artist is now "A & B"
        elif len(artist.display_forms) < 2:  # alias_spacing needs an alias form to show
            return False
        pool.planted[idx] = cls
        return True

    def plant_negative(idx: int, cls: str) -> bool:
        got = _negative_for(pool, idx, cls, partner, pair_artist)
        if got is None or has_title(*got):
            return False
        claim_title(*got)
        planned.append((idx, cls, *got))
        return True

    # ---- one song-level class per popular song, the classes interleaved so each gets some of the head
    song_classes = POSITIVE_CLASSES[:4] + NEGATIVE_CLASSES
    quota = {c: n_neg if c in NEGATIVE_CLASSES else n_pos for c in song_classes}
    queue = [c for k in range(max(quota.values())) for c in song_classes if k < quota[c]]
    planned: list[tuple[int, str, int, str]] = []  # negatives to add: (twin, class, artist, title)
    for idx in _head_first(rp, range(top_pos)):
        if not queue:
            break
        if not _plain_title(pool.title[idx]):
            continue
        for k, cls in enumerate(queue[: len(song_classes)]):
            if cls in NEGATIVE_CLASSES:
                ok = HEAD_KEPT <= idx < top_neg and plant_negative(idx, cls)
            else:
                ok = plant_positive(idx, cls)
            if ok:
                taken.add(idx)
                del queue[k]
                break

    # ---- renamed artists: a group's former name, on artists with a few popular songs
    best = {idxs[0]: a for a, idxs in songs_of.items() if 2 <= len(idxs) <= 8 and a not in pool.collab_members}
    for rank in _head_first(rp, sorted(best)):
        a = best[rank]
        if len(pool.former_name) >= n_renamed:
            break
        name = _former_name(random.Random(f"renamed:{pool.seed}:{a}"), pool.artists[a], kr, en)
        if name and norm_text(name) not in used_names:
            used_names.add(norm_text(name))
            pool.former_name[a] = name

    # ---- the negatives go last, so every index before n_base is what it was
    for twin, cls, artist, title in planned:
        album = len(pool.albums)
        pool.albums.append(Album(_negative_album(rp, pool, twin, cls, artist, title, kr, en),
                                 _album_id(pool.seed, album), artist))
        duration = pool.duration[twin]
        duration = int(duration * 0.8) if cls == "neg_sped_up" else duration + (rp.randrange(5, 40) if cls == "neg_live" else 0)
        neg = pool.add(title, None, artist, album, pool.genre[twin], pool.mood[twin], pool.year[twin], duration,
                       pool.source[twin], negative_of=twin, negative_kind=cls)
        pool.negative_for[twin] = neg


def _head_first(r: random.Random, ranks) -> list[int]:
    """A random order of pool ranks that favours the popular ones (weight 1/(rank + 12)), so planted songs
    have rows both in their planted form and as themselves."""
    return sorted(ranks, key=lambda i: -(r.random() ** (i + 12)))


def _negative_for(pool: SongPool, idx: int, cls: str, partner, pair_artist) -> tuple[int, str] | None:
    """(artist, title) of the hard negative of class ``cls`` for song ``idx``, or None if it cannot have one."""
    a, title = pool.artist[idx], pool.title[idx]
    if cls in NEGATIVE_SUFFIX:
        return a, f"{title} ({NEGATIVE_SUFFIX[cls]})"
    if cls == "neg_language_ver":
        return a, f"{title} ({'Japanese' if pool.artists[a].korean else 'Korean'} Ver.)"
    if cls == "neg_cover":
        b = partner(a)
        return (b, title) if b is not None else None
    if not _simple_name(pool.artists[a].name) or len(pool.artists[a].display_forms) != 1:
        return None  # neg_duet_solo: "A & C", the same title as A's solo song
    c = partner(a)
    duet = pair_artist(a, c) if c is not None else None
    return (duet, title) if duet is not None else None


def _negative_album(r: random.Random, pool: SongPool, twin: int, cls: str, artist: int, title: str,
                    kr: _WordModel, en: _WordModel) -> str:
    pattern = NEGATIVE_ALBUM.get(cls)
    if pattern is None:  # a cover or a duet: an album of its own
        return _album_name(r, pool.artists[artist].korean, kr, en)
    return pattern.format(artist=pool.artists[artist].name, title=pool.title[twin],
                          language="Japan" if pool.artists[artist].korean else "Korean")


def _former_name(r: random.Random, artist: Artist, kr: _WordModel, en: _WordModel) -> str | None:
    """A plausible earlier band name in the artist's script."""
    if artist.korean:
        word = _phrase(r, kr, 1, _hangul_only)
        return word and word + r.choice(("밴드", "스", "즈", " 프로젝트", "밴드", " 밴드"))
    word = _phrase(r, en, 1, lambda w: _latin_only(w) and len(w) > 3 and w.lower() not in _FUNCTION_WORDS)
    if not word:
        return None
    plural = word if word.endswith("s") else f"{word}s"
    return r.choice((f"The {plural}", f"{word} Project", f"The {word} Band", f"{word} Kids"))


def _visible_spacing(text: str, r: random.Random) -> str:
    """A space removed or added inside the text (never only at its ends, which a trim would undo)."""
    spaces = [i for i, c in enumerate(text) if c == " "]
    if spaces and (r.random() < 0.6 or len(text) < 2):
        i = r.choice(spaces)
        return text[:i] + text[i + 1:]
    inner = [i for i in range(1, len(text)) if text[i - 1] != " " and text[i] != " "]
    if not inner:
        return text + "!"
    i = r.choice(inner)
    return text[:i] + " " + text[i:]


def _change_punctuation(text: str, r: random.Random) -> str:
    marks = [i for i, c in enumerate(text) if c in _PUNCT]
    if marks and r.random() < 0.7:
        i = r.choice(marks)
        new = (text[:i] + text[i + 1:]).strip()
        if new:
            return new
    return text + r.choice(("!", "~", "...", "."))


PLANTED_ID_BASE = 200_000_000  # song ids of planted spellings: PLANTED_ID_BASE + song * PLANTED_SLOTS + slot
PLANTED_SLOTS = 64


def planted_song_id(idx: int, slot: int) -> str:
    return str(PLANTED_ID_BASE + idx * PLANTED_SLOTS + slot)


def _own_release(pool: SongPool, idx: int, artist_name: str, title: str) -> tuple[str, str, str]:
    """(song id, album id, album name) of a planted spelling that comes with no evidence: as on Genie, another
    spelling is another release, so it never shares the song id of the song's other spellings (one id per
    spelling, numbered in the order rows first show them; generation order is fixed, so ids are too) and
    sits on a compilation of the song's album."""
    key = (idx, artist_name, title)
    song_id = pool.spelling_ids.get(key)
    if song_id is None:
        n = pool._spelling_slots.get(idx, 0)
        pool._spelling_slots[idx] = n + 1
        slot = n if n < PLANTED_SLOTS else zlib.crc32(f"{artist_name}\0{title}".encode()) % PLANTED_SLOTS
        song_id = pool.spelling_ids[key] = planted_song_id(idx, slot)
    album = pool.albums[pool.album[idx]]
    return song_id, str(90_000_000 + pool.album[idx] * 4), f"{album.name} - Best Collection"


def planted_display(pool: SongPool, idx: int, r: random.Random, shown: RowDisplay,
                    taken: set[int]) -> tuple[int, RowDisplay]:
    """(song, display) of one row drawn as song ``idx``: its hard negative, a planted spelling, or ``shown``.

    ``r`` is the playlist's own stream for planted spellings (never the one the other variants use);
    ``taken`` the songs already in the playlist (a negative is never shown twice in one playlist).
    """
    neg = pool.negative_for.get(idx)
    if neg is not None and neg not in taken and r.random() < NEGATIVE_SWAP:
        album = pool.albums[pool.album[neg]]
        return neg, RowDisplay(pool.display_title(neg), pool.artists[pool.artist[neg]].name, pool.song_id(neg),
                               album.album_id, album.name, (pool.negative_kind[neg],))
    cls = pool.planted.get(idx)
    a = pool.artist[idx]
    if cls is None and a in pool.former_name:
        cls = "renamed_artist"
    if cls is None or r.random() >= SHOW_RATE[cls]:
        return idx, shown
    artist = pool.artists[a]
    album = pool.albums[pool.album[idx]]
    title, artist_name, song_id = pool.display_title(idx), artist.name, pool.song_id(idx)
    album_id, album_name = album.album_id, album.name
    feat = f" (Feat. {pool.feat[idx]})" if pool.feat[idx] else ""
    if cls == "gloss":
        title = f"{pool.title[idx]} ({pool.gloss[idx]}){feat}"
    elif cls == "work_title":  # the song's own id and album stay: that is the evidence
        title = f"{pool.title[idx]} ({pool.work_title[idx]}){feat}"
    elif cls == "collaboration":
        x, y = pool.collab_members[a]
        artist_name = r.choice(COLLAB_FORMS).format(a=pool.artists[x].name, b=pool.artists[y].name)
    elif cls == "alias_spacing":
        artist_name = artist.display_forms[r.randrange(1, len(artist.display_forms))]
        base = pool.title[idx]
        changed = _visible_spacing(base, r) if r.random() < 0.6 else _change_punctuation(base, r)
        title = changed + feat
    else:  # renamed_artist: the former name on a re-release id, the song's original album (the evidence)
        artist_name = pool.former_name[a]
        song_id = str(100_000_000 + idx * 4 + r.randrange(1, 4))
    if cls in ("gloss", "collaboration", "alias_spacing"):  # the spelling alone must tell
        song_id, album_id, album_name = _own_release(pool, idx, artist_name, title)
    return idx, RowDisplay(title, artist_name, song_id, album_id, album_name, (cls,))
