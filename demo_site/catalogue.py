"""Deterministic Genie-like playlist catalogue: playlists, songs, tags, covers, revisions, ground truth.

``generate(seed, scale, revision)`` builds the same catalogue every time for the same arguments.
Scales: "tiny" (50 playlists, for unit tests), "demo" (1,000), "full" (13,800 playlists,
~250k playlist-song rows that deduplicate to ~127k distinct songs, like the MPIC crawl).

Revision r > 0 is the same site later: a few percent new playlists (higher plmSeq) and a few
percent of existing ones changed (songs added or removed, or tags changed); everything else is
the very same Playlist object, so it renders byte-for-byte identically.

The ground truth (``Catalogue.ground_truth()``) says, per playlist, what a correct pipeline should
find: cover kind, duplicate original, template art box, planted tag groups, planted fault and
expected crawl outcome, and per playlist-song row the true canonical song key.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import random
import threading
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from demo_site import songs, texts
from demo_site.taxonomy import (
    BRANDS,
    CATEGORIES,
    CATEGORY_FLOOR,
    GENRES,
    LOOK_PRIORITY,
    MELON_ALIASES,
    MOOD_CLASSES,
    MOOD_TAGS,
    NON_MOOD_TAGS,
    PLANTED_GROUPS,
    PROFILES,
    TAG_CODES,
)

if TYPE_CHECKING:
    from demo_site.faults import FaultPlan

GENERATOR_VERSION = 2  # 2: planted spelling classes and hard negatives (songs.POSITIVE/NEGATIVE_CLASSES)
SCALES: dict[str, int] = {"tiny": 50, "demo": 1000, "full": 13_800}
GAP_RATE = 0.06  # share of plmSeq ids that are deleted/private (a "not found" page)
START_DATE = dt.datetime(2016, 1, 4)
SPAN_DAYS = 3200  # base revision spans 2016-01 .. 2024-10; later revisions continue at the same pace
REVISION_DAYS = 45
# Song popularity: real chart songs take REAL_SHARE of all draws with a Zipf weight over their
# popularity rank (1/(rank+K)^A: a few songs in hundreds of playlists); the synthetic album tracks
# share the rest uniformly (deep cuts, mostly in one or two playlists). With ~250k rows at full
# scale this yields ~127k distinct songs, as in the MPIC crawl.
ZIPF_A = 0.68
ZIPF_K = 12.0
REAL_SHARE = 0.45
POOL_PER_ROW = 1.25
SONG_COUNT_MU, SONG_COUNT_SIGMA = 2.80, 0.42
VARIANT_RATE = 0.10

COVER_KINDS = ("scene", "text", "ad_brand", "template_1", "template_2", "template_3",
               "duplicate_exact", "duplicate_near")
TEXT_COVERS = ("EDITOR's\nCHOICE", "TOP 100", "오늘의\n선곡", "NEW\nRELEASE", "HOT\nTRACKS", "이 주의\n추천곡",
               "지니 추천", "BEST\nPLAYLIST", "WEEKLY\nPICK", "금주의\n인기곡", "K-POP\nTOP 50", "MUSIC\nNOW")
CHART_TEXTS = ("TOP 100", "K-POP\nTOP 50", "금주의\n인기곡", "HOT\nTRACKS")
ALL_LOOKS = ("sunny", "beach", "night", "dawn", "sunset", "morning", "rain", "cloudy", "fog", "snow", "pastel",
             "spring", "autumn", "road", "city", "neon", "calm", "room", "dark")
MOOD_LOOK = {"bright": "sunny", "love": "pastel", "sad": "rain", "calm": "calm", "intense": "dark", "groove": "city"}
NON_MOOD_LOOK = {"weekday": "morning", "chart": "neon", "kids": "pastel", "dj": "city", "media": "dark"}
_CONFLICT = [({"sunny", "beach", "morning", "spring"}, {"night", "dawn", "rain", "cloudy", "fog", "dark"}),
             ({"snow"}, {"beach", "spring", "sunny"}), ({"pastel"}, {"dark"}), ({"neon"}, {"calm", "room", "fog"})]
_ONE_PER_PLAYLIST = ("season", "time")
_CATEGORY_OF = {name: cat for cat, names in CATEGORIES.items() for name in names}


# --------------------------------------------------------------------------- data model
@dataclass(frozen=True, slots=True)
class SongRow:
    position: int  # 1-based, as td.number shows it
    song: int  # pool index of the canonical song
    canonical_key: str
    title: str  # as displayed on this row (may be a variant)
    artist: str
    song_id: str
    artist_id: str
    album_id: str
    album_name: str
    variants: tuple[str, ...]


@dataclass(frozen=True)
class Playlist:
    plm_seq: int
    title: str
    subtitle: str
    maker_name: str
    maker_id: str
    tags: tuple[str, ...]  # tag names, codes via taxonomy.TAG_CODES
    rows: tuple[SongRow, ...]
    view_count: int
    like_count: int
    disp_dt: str  # YYYYMMDD
    reg_dt: str  # YYYYMMDDhhmmss, also the cover file stamp
    playlist_type: str  # mood | genre | untagged | ad | non_mood
    theme_tags: tuple[str, ...]  # what the content was generated from (== tags unless untagged)
    cover_kind: str
    cover_params: dict[str, Any] = field(compare=False)
    duplicate_of: int | None = None
    template_art_box: tuple[int, int, int, int] | None = None
    mixture: tuple[tuple[tuple, float], ...] = field(default=(), compare=False, repr=False)
    added_in_revision: int = 0
    changed_in_revisions: tuple[int, ...] = ()
    change_kinds: tuple[str, ...] = ()

    @property
    def song_count(self) -> int:
        return len(self.rows)

    @property
    def cover_path(self) -> str:
        return f"/Y/IMAGE/Playlist/Channel/GENIE/PLAYLIST_{self.reg_dt}.JPG"

    @property
    def planted_tag_groups(self) -> list[str]:
        return [f"{a}→{b}" for a, b, _p in PLANTED_GROUPS if a in self.tags]


# --------------------------------------------------------------------------- helpers
def pool_size_for(scale: str) -> int:
    n = SCALES[scale]
    return max(400, int(n * math.exp(SONG_COUNT_MU + SONG_COUNT_SIGMA ** 2 / 2) * POOL_PER_ROW))


def expected_rows(scale: str) -> int:
    """Roughly how many playlist-song rows a scale has (used by tests instead of a full build)."""
    return int(SCALES[scale] * math.exp(SONG_COUNT_MU + SONG_COUNT_SIGMA ** 2 / 2))


def is_gap(seed: int, plm_seq: int) -> bool:
    return random.Random(f"gap:{seed}:{plm_seq}").random() < GAP_RATE


@functools.lru_cache(maxsize=1)
def tag_weights() -> dict[str, float]:
    """Tag frequency for sampling: Melon counts where the tag exists, floors per category."""
    from demo_site import reference

    counts = reference.melon_tag_counts()
    out: dict[str, float] = {}
    for category, names in CATEGORIES.items():
        for name in names:
            c = counts.get(name, 0) + sum(counts.get(a, 0) for a in MELON_ALIASES.get(name, ()))
            out[name] = max(c, CATEGORY_FLOOR[category]) ** 0.75
    for name in GENRES:
        c = counts.get(name, 0) + sum(counts.get(a, 0) for a in MELON_ALIASES.get(name, ()))
        out[name] = max(c, 100) ** 0.75
    return out


def _looks_conflict(a: str, b: str) -> bool:
    return any((a in x and b in y) or (a in y and b in x) for x, y in _CONFLICT)


def _compat(anchor: str, tag: str) -> float:
    return _compat_table()[anchor][tag]


@functools.lru_cache(maxsize=1)
def _compat_table() -> dict[str, dict[str, float]]:
    return {a: {t: _compat_uncached(a, t) for t in MOOD_TAGS} for a in MOOD_TAGS}


def _compat_uncached(anchor: str, tag: str) -> float:
    pa, pt = PROFILES[anchor], PROFILES[tag]
    w = 3.0 if pa.moods[0] == pt.moods[0] else 1.5 if set(pa.moods) & set(pt.moods) else 0.3
    if pa.look == pt.look:
        w *= 2.0
    if _looks_conflict(pa.look, pt.look):
        w *= 0.05
    return w


def looks_for(tags: tuple[str, ...] | list[str]) -> list[str]:
    """Cover looks asked for by the tags, strongest category first (weather > time > season ...)."""
    ranked = sorted((LOOK_PRIORITY.index(PROFILES[t].category), i, PROFILES[t].look)
                    for i, t in enumerate(tags) if PROFILES[t].category in LOOK_PRIORITY)
    return list(dict.fromkeys(look for _c, _i, look in ranked))


class _SongSampler:
    """Zipf-weighted draws of pool songs restricted to a bucket (mood x language, genre, all)."""

    def __init__(self, pool: songs.SongPool):
        n = pool.n_base or len(pool)  # planted negatives are met through their twins (songs.planted_display)
        n_real = min(pool.n_real, n)
        weight = np.empty(n, dtype=np.float64)
        zipf = 1.0 / (np.arange(n_real, dtype=np.float64) + ZIPF_K) ** ZIPF_A
        if n_real == n:
            weight[:] = zipf
        else:
            weight[:n_real] = REAL_SHARE * zipf / zipf.sum()
            weight[n_real:] = (1 - REAL_SHARE) / (n - n_real)
        mood = np.asarray(pool.mood[:n], dtype=np.int16)
        genre = np.asarray(pool.genre[:n], dtype=np.int16)
        korean = np.array([pool.artists[a].korean for a in pool.artist[:n]], dtype=bool)
        self.buckets: dict[tuple, tuple[np.ndarray, np.ndarray]] = {}

        def add(key: tuple, mask: np.ndarray) -> None:
            idx = np.flatnonzero(mask)
            if idx.size:
                cdf = np.cumsum(weight[idx])
                self.buckets[key] = (idx, cdf / cdf[-1])

        add(("all",), np.ones(n, dtype=bool))
        for lang, lmask in (("kr", korean), ("foreign", ~korean)):
            add(("lang", lang), lmask)
            for m in range(len(MOOD_CLASSES)):
                add(("mood", m, lang), lmask & (mood == m))
        for g in range(len(GENRES)):
            add(("genre", g), genre == g)

    def draw(self, rng: np.random.Generator, mixture: tuple[tuple[tuple, float], ...], n: int) -> list[int]:
        mix = [(k, w) for k, w in mixture if k in self.buckets] or [(("all",), 1.0)]
        keys = [k for k, _ in mix]
        p = np.array([w for _, w in mix], dtype=np.float64)
        p /= p.sum()
        out: list[int] = []
        seen: set[int] = set()
        for attempt in range(6):
            need = n - len(out)
            if need <= 0:
                break
            size = need * 2 + 4
            u = rng.random(size)
            picks = np.empty(size, dtype=np.int64)
            if attempt < 5:
                which = rng.choice(len(keys), size=size, p=p)
            else:  # give up on the mixture; any song will do
                which = np.zeros(size, dtype=np.int64)
                keys = [("all",)]
            for b in np.unique(which):
                sel = which == b
                idx, cdf = self.buckets[keys[int(b)]]
                picks[sel] = idx[np.minimum(np.searchsorted(cdf, u[sel]), idx.size - 1)]
            for song in picks.tolist():
                if song not in seen:
                    seen.add(song)
                    out.append(song)
                    if len(out) == n:
                        break
        return out


@dataclass
class _Context:
    seed: int
    scale: str
    pool: songs.SongPool
    sampler: _SongSampler
    days_per_id: float
    # Earlier covers a duplicate may copy, by look (filled in plm_seq order).
    originals: list[int] = field(default_factory=list)
    originals_by_look: dict[str, list[int]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def register_original(self, pl: Playlist) -> None:
        if pl.cover_kind in ("duplicate_exact", "duplicate_near"):
            return
        self.originals.append(pl.plm_seq)
        look = (pl.cover_params.get("looks") or ["calm"])[0]
        self.originals_by_look.setdefault(look, []).append(pl.plm_seq)


# --------------------------------------------------------------------------- playlist generation
def _weighted_pick(r: random.Random, items: list[str], weights: list[float]) -> str:
    return r.choices(items, weights=weights)[0]


def _mood_tags(r: random.Random) -> tuple[str, list[str]]:
    weights = tag_weights()
    table = _compat_table()
    anchor = _weighted_pick(r, list(MOOD_TAGS), [weights[t] for t in MOOD_TAGS])
    tags = [anchor]
    n_extra = r.choices((0, 1, 2, 3, 4, 5), weights=(10, 22, 28, 22, 12, 6))[0]
    main_mood = PROFILES[anchor].moods[0]
    # candidate weight = frequency x same-main-mood bonus x worst compatibility with the chosen tags
    base = {t: weights[t] * (2.0 if PROFILES[t].moods[0] == main_mood else 1.0) for t in MOOD_TAGS if t != anchor}
    worst = {t: table[anchor][t] for t in base}
    for _ in range(n_extra):
        cats = [_CATEGORY_OF[t] for t in tags]
        full = {c for c in _ONE_PER_PLAYLIST if c in cats}
        if cats.count("weather") >= 2:
            full.add("weather")
        cands = [t for t in base if _CATEGORY_OF[t] not in full]
        if not cands:
            break
        new = _weighted_pick(r, cands, [base[t] * worst[t] for t in cands])
        tags.append(new)
        del base[new]
        for t in base:
            worst[t] = min(worst[t], table[new][t])
    # Planted co-occurrence groups: P(consequent | antecedent) is set here, whatever came before.
    for a, b, p in PLANTED_GROUPS:
        if a in tags:
            if r.random() < p:
                if b not in tags:
                    tags.append(b)
            elif b in tags:
                tags.remove(b)
                if anchor == b:
                    anchor = a
    return anchor, tags


def _mood_weights(tags: list[str]) -> dict[str, float]:
    w = {m: 0.0 for m in MOOD_CLASSES}
    for t in tags:
        moods = PROFILES[t].moods
        for i, m in enumerate(moods):
            w[m] += 2.0 if i == 0 else 1.0
    if not any(w.values()):
        w["bright"] = 1.0
    return w


def _pick_genre(r: random.Random, mood_w: dict[str, float]) -> str:
    weights = []
    for g in GENRES:
        gm = PROFILES[g].moods
        weights.append(0.2 + sum(mood_w[m] * (2 if i == 0 else 1) for i, m in enumerate(gm)))
    return _weighted_pick(r, list(GENRES), weights)


def _mixture(mood_w: dict[str, float], genre: str | None, lang: str, chart: bool) -> tuple:
    total = sum(mood_w.values())
    langs = ("kr", "foreign") if lang == "mixed" else (lang,)
    mood_share = 0.35 if genre else 0.85
    mix: list[tuple[tuple, float]] = []
    if chart:
        return ((("lang", "kr"), 0.6), (("all",), 0.4))
    for m, w in mood_w.items():
        if w:
            for lg in langs:
                mix.append((("mood", MOOD_CLASSES.index(m), lg), mood_share * w / total / len(langs)))
    if genre:
        mix.append((("genre", GENRES.index(genre)), 0.55))
    mix.append((("lang", langs[0]), 0.10))
    mix.append((("all",), 0.05))
    return tuple(mix)


def _make_rows(ctx: _Context, r: random.Random, rc: random.Random, song_ids: list[int],
               start: int = 1, have: set[int] | frozenset[int] = frozenset(),
               usual_albums: list[str] | None = None) -> list[SongRow]:
    """Rows for the drawn songs. ``r`` draws the usual variants exactly as generator version 1 did (so the
    playlist's later draws, cover included, are unchanged); ``rc`` the planted classes and negatives.
    ``usual_albums`` (if given) collects each row's album id before planting."""
    pool = ctx.pool
    taken = set(have) | set(song_ids)
    rows = []
    for i, idx in enumerate(song_ids):
        d = songs.row_display(pool, idx, r, VARIANT_RATE)
        if usual_albums is not None:
            usual_albums.append(d.album_id)
        song, d = songs.planted_display(pool, idx, rc, d, taken)
        taken.add(song)
        rows.append(SongRow(start + i, song, pool.canonical_key(song), d.title, d.artist, d.song_id,
                            pool.artist_id(pool.artist[song]), d.album_id, d.album_name, d.variants))
    return rows


def _reg_datetime(ctx: _Context, r: random.Random, plm_seq: int) -> dt.datetime:
    days = plm_seq * ctx.days_per_id + r.random() * ctx.days_per_id * 0.5
    return START_DATE + dt.timedelta(seconds=int(days * 86400))


def _counts(r: random.Random, reg: dt.datetime, popular: bool) -> tuple[int, int]:
    age_years = max((START_DATE + dt.timedelta(days=SPAN_DAYS) - reg).days, 0) / 365
    views = int(math.exp(r.gauss(9.0, 1.15)) * (0.4 + min(age_years, 6) / 3) * (2.5 if popular else 1))
    views = max(views, 23 + r.randrange(80))
    likes = int(views * r.uniform(0.004, 0.035)) + r.randrange(4)
    return views, likes


def _cover(ctx: _Context, r: random.Random, pl_type: str, kind_hint: str, looks: list[str],
           art_album_id: str | None, brand: str | None) -> tuple[str, dict, int | None, tuple | None]:
    from demo_site import covers

    u = r.random()
    if pl_type == "ad":
        kind = "ad_brand" if u < 0.85 else "scene"
    elif pl_type == "non_mood" and kind_hint == "chart":
        kind = "text" if u < 0.7 else "scene"
    else:
        cum = 0.0
        kind = "scene"
        for k, share in (("text", 0.062), ("ad_brand", 0.006), ("template_1", 0.02), ("template_2", 0.02),
                         ("template_3", 0.02), ("duplicate_exact", 0.043), ("duplicate_near", 0.043)):
            cum += share
            if u < cum:
                kind = k
                break
    cover_seed = r.randrange(2**31)
    if kind.startswith("duplicate"):
        same_look = ctx.originals_by_look.get(looks[0] if looks else "calm", [])
        candidates = same_look if same_look and r.random() < 0.7 else ctx.originals
        if not candidates:
            kind = "scene"
        else:
            original = candidates[r.randrange(len(candidates))]
            params: dict[str, Any] = {"of": original, "seed": cover_seed}
            if kind == "duplicate_near":
                params.update(crop=round(r.uniform(0.02, 0.07), 3), brightness=round(r.uniform(-0.12, 0.12), 3),
                              quality=r.choice((70, 75, 80, 92)), flip=False)
            return kind, params, original, None
    if kind == "scene":
        off_theme = r.random() < 0.12
        scene_looks = [r.choice(ALL_LOOKS)] if off_theme else (looks or ["calm"])
        return kind, {"seed": cover_seed, "looks": scene_looks[:3], "off_theme": off_theme,
                      "theme_looks": looks[:3]}, None, None
    if kind == "text":
        text = r.choice(CHART_TEXTS if kind_hint == "chart" else TEXT_COVERS)
        if not covers.korean_font_available():
            text = text if text.isascii() else "TOP 100"
        return kind, {"seed": cover_seed, "text": text, "looks": looks[:1] or ["calm"]}, None, None
    if kind == "ad_brand":
        return kind, {"seed": cover_seed, "brand": brand or r.choice(BRANDS), "looks": looks[:1] or ["calm"]}, None, None
    number = int(kind[-1])
    art_album = art_album_id or str(cover_seed)
    box = covers.template_box(number)
    return kind, {"seed": cover_seed, "template": number, "art_album_id": art_album,
                  "looks": looks[:1] or ["calm"]}, None, box


def _make_playlist(ctx: _Context, plm_seq: int, added_in_revision: int) -> Playlist:
    r = random.Random(f"pl:{ctx.seed}:{ctx.scale}:{plm_seq}")
    rng = np.random.default_rng([ctx.seed, list(SCALES).index(ctx.scale), plm_seq])
    pl_type = r.choices(("mood", "genre", "untagged", "ad", "non_mood"), weights=(83, 6, 3, 4, 4))[0]
    lang = r.choices(("kr", "mixed", "foreign"), weights=(50, 32, 18))[0]
    genre: str | None = None
    brand: str | None = None
    kind_hint = ""
    anchor: str | None = None
    if pl_type in ("mood", "untagged", "ad"):
        anchor, theme = _mood_tags(r)
        if pl_type == "ad":
            theme = theme[:2]
            brand = r.choice(BRANDS)
        elif pl_type == "mood" and r.random() < 0.22:
            genre = _pick_genre(r, _mood_weights(theme))
    elif pl_type == "genre":
        genre = _pick_genre(r, {m: r.random() for m in MOOD_CLASSES})
        theme = [genre] + ([r.choice(("가요", "POP"))] if r.random() < 0.3 else [])
        theme = list(dict.fromkeys(theme))
    else:
        kind_hint = r.choice(list(NON_MOOD_TAGS))
        theme = [r.choice(NON_MOOD_TAGS[kind_hint])]
        if r.random() < 0.4:
            anchor, extra = _mood_tags(r)
            theme.append(anchor)
    mood_w = _mood_weights(theme)
    top_mood = max(mood_w, key=lambda m: (mood_w[m], -MOOD_CLASSES.index(m)))
    mixture = _mixture(mood_w, genre, lang, kind_hint == "chart")
    n_songs = int(min(60, max(5, round(math.exp(r.gauss(SONG_COUNT_MU, SONG_COUNT_SIGMA))))))
    rc = random.Random(f"planted:{ctx.seed}:{ctx.scale}:{plm_seq}")
    first_album: list[str] = []  # a template cover shows the album art of the first row as version 1 drew it
    rows = _make_rows(ctx, r, rc, ctx.sampler.draw(rng, mixture, n_songs), usual_albums=first_album)

    tags = list(theme)
    if genre and genre not in tags:
        tags.append(genre)
    if brand:
        tags.insert(0, brand)
    if pl_type == "untagged":
        tags = []
    # Cover looks follow the tags; genre / non-mood playlists borrow a look from their mood.
    looks = looks_for(theme)
    if not looks:
        looks = [NON_MOOD_LOOK[kind_hint]] if kind_hint else [MOOD_LOOK[top_mood]]

    if pl_type == "non_mood":
        title = r.choice(texts.NON_MOOD_TITLES[kind_hint])
    elif pl_type == "genre":
        title = texts.title_for(r, None, tags, top_mood, genre)
    else:
        title = texts.title_for(r, anchor, theme, top_mood, genre)
    if brand:
        title = f"[{brand}] {title}"
    subtitle = texts.subtitle_for(r, looks[0])
    maker_name, maker_id = texts.brand_maker(brand) if brand else texts.curator(r)
    reg = _reg_datetime(ctx, r, plm_seq)
    views, likes = _counts(r, reg, popular=pl_type == "non_mood")
    cover_kind, params, dup_of, box = _cover(ctx, r, pl_type, kind_hint, looks, first_album[0] if first_album else None,
                                             brand)
    pl = Playlist(
        plm_seq=plm_seq, title=title, subtitle=subtitle, maker_name=maker_name, maker_id=maker_id,
        tags=tuple(tags), rows=tuple(rows), view_count=views, like_count=likes,
        disp_dt=reg.strftime("%Y%m%d"), reg_dt=reg.strftime("%Y%m%d%H%M%S"), playlist_type=pl_type,
        theme_tags=tuple(theme), cover_kind=cover_kind, cover_params=params, duplicate_of=dup_of,
        template_art_box=box, mixture=mixture, added_in_revision=added_in_revision,
    )
    ctx.register_original(pl)
    return pl


# --------------------------------------------------------------------------- catalogue
class Catalogue:
    """All playlists of one (seed, scale, revision), plus the indexes the site serves from."""

    def __init__(self, ctx: _Context, playlists: dict[int, Playlist], revision: int,
                 revision_log: dict[int, dict[str, list[int]]], next_id: int):
        self._ctx = ctx
        self.seed = ctx.seed
        self.scale = ctx.scale
        self.revision = revision
        self.pool = ctx.pool
        self.playlists: dict[int, Playlist] = playlists
        self.revision_log = revision_log
        self._next_id = next_id  # first id not yet considered (for later revisions)

    # ---- lookups
    @property
    def max_plm_seq(self) -> int:
        return max(self.playlists)

    def get(self, plm_seq: int) -> Playlist | None:
        return self.playlists.get(plm_seq)

    @functools.cached_property
    def missing_plm_seqs(self) -> list[int]:
        """Ids between 1 and the newest id that have no playlist ("not found" pages)."""
        return [i for i in range(1, self.max_plm_seq + 1) if i not in self.playlists]

    @functools.cached_property
    def newest_first(self) -> list[int]:
        return sorted(self.playlists, reverse=True)

    @functools.cached_property
    def popular_first(self) -> list[int]:
        return sorted(self.playlists, key=lambda s: (-self.playlists[s].like_count, -s))

    @functools.cached_property
    def by_tag(self) -> dict[str, list[int]]:
        out: dict[str, list[int]] = {}
        for s in self.newest_first:
            for t in self.playlists[s].tags:
                out.setdefault(t, []).append(s)
        return out

    @functools.cached_property
    def by_cover_stamp(self) -> dict[str, int]:
        return {p.reg_dt: s for s, p in self.playlists.items()}

    def song_index_for_id(self, song_id: str) -> int | None:
        """Pool index for a Genie song id (canonical, re-release or planted-spelling id); None if unknown."""
        if not song_id.isdigit():
            return None
        n = int(song_id)
        if n >= songs.PLANTED_ID_BASE:
            idx = (n - songs.PLANTED_ID_BASE) // songs.PLANTED_SLOTS
            return idx if idx < len(self.pool) else None
        if n >= 100_000_000:
            idx = (n - 100_000_000) // 4
            return idx if idx < len(self.pool) else None
        m = 19_999_999
        idx = ((n - 80_000_000 - self.seed * 131) * pow(7919, -1, m)) % m
        return idx if idx < len(self.pool) and self.pool.song_id(idx) == song_id else None

    # ---- revisions
    def at_revision(self, revision: int) -> Catalogue:
        """This catalogue moved forward to ``revision`` (which must not be older)."""
        if revision < self.revision:
            raise ValueError(f"cannot go back from revision {self.revision} to {revision}; generate() again")
        cat = self
        for r in range(self.revision + 1, revision + 1):
            cat = cat._next_revision(r)
        return cat

    def _next_revision(self, rev: int) -> Catalogue:
        with self._ctx.lock:  # the duplicate-cover registry in the shared context is rebuilt here
            return self._next_revision_locked(rev)

    def _next_revision_locked(self, rev: int) -> Catalogue:
        ctx = self._ctx
        rr = random.Random(f"rev:{self.seed}:{self.scale}:{rev}")
        existing = sorted(self.playlists)
        playlists = dict(self.playlists)
        n_changed = max(1, round(len(existing) * rr.uniform(0.02, 0.04)))
        changed = sorted(rr.sample(existing, n_changed))
        for s in changed:
            playlists[s] = self._changed(playlists[s], rev)
        n_new = max(1, round(len(existing) * rr.uniform(0.02, 0.05)))
        new: list[int] = []
        next_id = self._next_id
        # Duplicates in new playlists may copy any earlier cover: rebuild the registry in id order.
        ctx.originals.clear()
        ctx.originals_by_look.clear()
        for s in existing:
            ctx.register_original(playlists[s])
        while len(new) < n_new:
            if not is_gap(self.seed, next_id):
                playlists[next_id] = _make_playlist(ctx, next_id, rev)
                new.append(next_id)
            next_id += 1
        log = dict(self.revision_log)
        log[rev] = {"new": new, "changed": changed}
        return Catalogue(ctx, playlists, rev, log, next_id)

    def _changed(self, pl: Playlist, rev: int) -> Playlist:
        ctx = self._ctx
        r = random.Random(f"chg:{self.seed}:{self.scale}:{rev}:{pl.plm_seq}")
        rng = np.random.default_rng([self.seed, list(SCALES).index(self.scale), pl.plm_seq, rev])
        kind = r.choice(("songs_added", "songs_removed", "tags_changed"))
        rows = list(pl.rows)
        tags = list(pl.tags)
        if kind == "songs_removed" and len(rows) <= 5:
            kind = "songs_added"
        if kind == "tags_changed" and pl.playlist_type == "untagged":
            kind = "songs_added"
        if kind == "songs_added":
            have = {row.song for row in rows}
            extra = [s for s in ctx.sampler.draw(rng, pl.mixture or ((("all",), 1.0),), r.randint(1, 4) + len(have))
                     if s not in have][: r.randint(1, 4)]
            rc = random.Random(f"planted:{self.seed}:{self.scale}:{rev}:{pl.plm_seq}")
            rows += _make_rows(ctx, r, rc, extra, start=len(rows) + 1, have=have)
        elif kind == "songs_removed":
            for _ in range(r.randint(1, min(3, len(rows) - 5))):
                rows.pop(r.randrange(len(rows)))
            rows = [replace(row, position=i + 1) for i, row in enumerate(rows)]
        else:
            mood = [t for t in tags if t in MOOD_TAGS]
            if len(mood) >= 2 and r.random() < 0.5:
                tags.remove(r.choice(mood[1:]))
            else:
                anchor = mood[0] if mood else r.choice(MOOD_TAGS)
                cands = [t for t in MOOD_TAGS if t not in tags and PROFILES[t].category not in _ONE_PER_PLAYLIST]
                tags.append(_weighted_pick(r, cands, [tag_weights()[t] * _compat(anchor, t) for t in cands]))
        views = pl.view_count + r.randrange(50, 5000)
        likes = pl.like_count + r.randrange(0, 60)
        return replace(pl, rows=tuple(rows), tags=tuple(tags), view_count=views, like_count=likes,
                       changed_in_revisions=pl.changed_in_revisions + (rev,),
                       change_kinds=pl.change_kinds + (kind,))

    # ---- ground truth
    def ground_truth(self, faults: FaultPlan | None = None) -> dict[str, Any]:
        """What a correct pipeline should find; JSON-serialisable. ``faults`` None = no faults planted."""
        from demo_site.faults import FaultPlan as _FaultPlan

        plan = faults or _FaultPlan.none()
        playlists = []
        rows = []
        keys_all: set[str] = set()
        keys_items: set[str] = set()
        by_kind: dict[str, int] = {}
        by_outcome: dict[str, int] = {}
        by_variant: dict[str, int] = {}
        negatives: dict[str, str] = {}
        pool = self.pool
        for s, pl in self.playlists.items():
            fault = plan.fault_for(s)
            outcome = fault.expected_outcome if fault else "item"
            by_kind[pl.cover_kind] = by_kind.get(pl.cover_kind, 0) + 1
            by_outcome[outcome] = by_outcome.get(outcome, 0) + 1
            playlists.append({
                "plm_seq": s, "title": pl.title, "tags": list(pl.tags), "tag_codes": [TAG_CODES[t] for t in pl.tags],
                "theme_tags": list(pl.theme_tags), "playlist_type": pl.playlist_type,
                "maker_id": pl.maker_id, "song_count": pl.song_count, "disp_dt": pl.disp_dt,
                "cover_url_path": pl.cover_path, "cover_kind": pl.cover_kind,
                "cover_params": pl.cover_params, "duplicate_of": pl.duplicate_of,
                "template_art_box": list(pl.template_art_box) if pl.template_art_box else None,
                "planted_tag_group": pl.planted_tag_groups,
                "fault": fault.to_json() if fault else None, "expected_outcome": outcome,
                "added_in_revision": pl.added_in_revision,
                "changed_in_revision": pl.changed_in_revisions[-1] if pl.changed_in_revisions else None,
                "changed_in_revisions": list(pl.changed_in_revisions), "change_kinds": list(pl.change_kinds),
            })
            for row in pl.rows:
                rows.append({"plm_seq": s, "position": row.position, "canonical_song_key": row.canonical_key,
                             "song_id": row.song_id, "variants": list(row.variants)})
                for v in row.variants:
                    by_variant[v] = by_variant.get(v, 0) + 1
                if pool.negative_of[row.song] >= 0:
                    negatives[row.canonical_key] = pool.canonical_key(pool.negative_of[row.song])
                keys_all.add(row.canonical_key)
                if outcome in ("item", "item_after_retry", "item_bad_cover"):
                    keys_items.add(row.canonical_key)
        groups = []
        for a, b, p in PLANTED_GROUPS:
            with_a = [pl for pl in self.playlists.values() if a in pl.tags]
            both = sum(1 for pl in with_a if b in pl.tags)
            groups.append({"antecedent": a, "consequent": b, "target_p": p, "n_antecedent": len(with_a),
                           "observed_p": round(both / len(with_a), 4) if with_a else None})
        missing = self.missing_plm_seqs
        return {
            "generator_version": GENERATOR_VERSION, "seed": self.seed, "scale": self.scale, "revision": self.revision,
            "faults": plan.describe(),
            "counts": {"playlists": len(self.playlists), "rows": len(rows), "distinct_canonical_songs": len(keys_all),
                       "distinct_canonical_songs_in_items": len(keys_items), "missing_plm_seqs": len(missing),
                       "max_plm_seq": self.max_plm_seq, "by_cover_kind": dict(sorted(by_kind.items())),
                       "by_expected_outcome": dict(sorted(by_outcome.items())),
                       "rows_by_variant": dict(sorted(by_variant.items()))},
            "missing_plm_seqs": {"expected_outcome": "not_found", "plm_seqs": missing},
            "robots": {"disallowed_prefixes": ["/member/", "/search/", "/myMusic/", "/buy/"],
                       "disallowed_link_on_detail_pages": "maker link dd[0] a -> /search/searchPlaylist?query=..."},
            "planted_tag_groups": groups,
            # hard negatives in this catalogue: their canonical key -> the key of the popular song they twin
            # (the rows' variants say which class: neg_live, neg_cover, ...)
            "negatives": dict(sorted(negatives.items())),
            "revisions": {str(r): v for r, v in sorted(self.revision_log.items())},
            "playlists": playlists,
            "rows": rows,
        }

    def song_table(self) -> dict[str, dict[str, Any]]:
        """Canonical songs used by this catalogue: key -> title, artist, genre, mood, song id (and, for a
        planted hard negative, its class and the key of the song it twins)."""
        pool = self.pool
        used = sorted({row.song for pl in self.playlists.values() for row in pl.rows})
        return {pool.canonical_key(i): {"title": pool.title[i], "artist": pool.artists[pool.artist[i]].name,
                                        "feat": pool.feat[i], "genre": pool.genre_name(i),
                                        "genie_genre": pool.genie_genre(i), "mood": pool.mood_name(i),
                                        "song_id": pool.song_id(i), "source": pool.source[i],
                                        "negative_class": pool.negative_kind[i] or None,
                                        "negative_of": (pool.canonical_key(pool.negative_of[i])
                                                        if pool.negative_of[i] >= 0 else None)} for i in used}


@functools.lru_cache(maxsize=4)
def _base(seed: int, scale: str) -> Catalogue:
    if scale not in SCALES:
        raise ValueError(f"unknown scale {scale!r}; choose one of {', '.join(SCALES)}")
    pool = songs.build_pool(seed, pool_size_for(scale))
    n = SCALES[scale]
    est_max_id = int(n / (1 - GAP_RATE)) + 1
    ctx = _Context(seed, scale, pool, _SongSampler(pool), SPAN_DAYS / est_max_id)
    playlists: dict[int, Playlist] = {}
    plm_seq = 1
    while len(playlists) < n:
        if not is_gap(seed, plm_seq):
            playlists[plm_seq] = _make_playlist(ctx, plm_seq, 0)
        plm_seq += 1
    return Catalogue(ctx, playlists, 0, {}, plm_seq)


def generate(seed: int = 7, scale: str = "tiny", revision: int = 0, *, fresh: bool = False) -> Catalogue:
    """The catalogue for (seed, scale, revision); the same arguments always give the same content.

    Base catalogues are cached per process (they are immutable); ``fresh=True`` rebuilds from scratch.
    """
    if revision < 0:
        raise ValueError("revision must be >= 0")
    base = _base.__wrapped__(int(seed), scale) if fresh else _base(int(seed), scale)
    return base.at_revision(int(revision))
