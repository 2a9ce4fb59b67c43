"""Which crawled rows are one song: normalised keys, shared Genie song ids and evidence-backed merges.

A row's *normalised key* is ``artist|title`` in comparison form (spark_jobs.normalise: aliases and
collaborations resolved, glosses and credits dropped). Keys are then merged, transitively (connected
components of a key graph), when:

- ``song_id``: they share a Genie song id (a re-release keeps the song's spelling under another id;
  a variant spelling may carry the canonical id);
- ``gloss``: one is the other's gloss alone, by the same artist (`Every day Every Moment` and
  `모든 날 모든 순간 (Every day Every Moment)`);
- ``work_title``: one is the other plus a bracket of unknown kind (`Sunflower (Spider-Man: Into the
  Spider-Verse)`), and both appear on one album (id or title): the bracket names the work, not a version;
- ``near_title``: the same artist and version, titles a typo apart (rapidfuzz ratio at least
  NEAR_TITLE_RATIO, the same numbers), and one album id in common;
- ``renamed_artist``: the same title on one album by two artists who share no name and are the album's
  only artists, and no soundtrack or compilation (a group's former name). Never on the strings alone.

Nothing merges on similarity alone: every merge but a shared id or a gloss needs a shared album. Each merge's
reason and evidence goes to gold.song_lineage.

The graph has one node per distinct spelling (~150k at full scale), so this runs on the Spark driver
in pure Python (a second or two); the build joins the result back.
"""

from __future__ import annotations

import functools
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import pandas as pd

NEAR_TITLE_RATIO = 90.0  # rapidfuzz ratio (0-100) of the titles' comparison forms: a typo or two apart
_DIGITS = re.compile(r"\d+")
_SOUNDTRACK = re.compile(r"\bost\b|o\.s\.t|soundtrack|motion picture|\bbest\b|\bhits\b|various|compilation"
                         r"|tribute|컴필레이션|베스트|모음|삽입곡", re.IGNORECASE)
SPELLING_COLUMNS = ("song_id", "artist_name", "title_key", "title_loose_key", "title_gloss_key", "title_base_key",
                    "title_version_key", "album_id", "album_title", "rows")
MAPPING_COLUMNS = ["artist_name", "title_key", "artist_key", "song_key", "reason", "evidence"]
ALIAS_COLUMNS = ["alias", "artist_key", "artist_name", "evidence", "row_count", "used", "reason"]


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[tuple[str, str], tuple[str, str]] = {}

    def find(self, node: tuple[str, str]) -> tuple[str, str]:
        parent = self.parent.setdefault(node, node)
        root = node
        while parent != root:
            root, parent = parent, self.parent[parent]
        while node != root:  # path compression
            self.parent[node], node = root, self.parent[node]
        return root

    def union(self, a: tuple[str, str], b: tuple[str, str]) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


@dataclass(frozen=True)
class Link:
    """Two normalised keys that are one song, and why."""

    a: str
    b: str
    reason: str  # work_title | near_title | renamed_artist
    evidence: str  # one line: what they share


def song_keys(edges: Iterable[tuple[str | None, str, int]], links: Iterable[Link] = ()) -> dict[str, str]:
    """``{normalised key: song key}`` from ``(song id or None, normalised key, rows)`` and extra links.

    Keys linked through shared song ids or links form one song; its song key is the member key with
    the most rows (ties: the smallest), so it reads like a normalised 'artist|title' and stays put
    while that spelling dominates.
    """
    return _components(edges, links)[0]


def _components(edges, links) -> tuple[dict[str, str], dict[str, set[str]], Counter]:
    uf = _UnionFind()
    rows: Counter = Counter()
    ids_of: dict[str, set[str]] = defaultdict(set)
    for song_id, key, count in edges:
        rows[key] += count
        uf.find(("k", key))
        if song_id:
            ids_of[key].add(song_id)
            uf.union(("k", key), ("i", song_id))
    for link in links:
        uf.union(("k", link.a), ("k", link.b))
    members: dict[tuple[str, str], list[str]] = {}
    for key in rows:
        members.setdefault(uf.find(("k", key)), []).append(key)
    out: dict[str, str] = {}
    for keys in members.values():
        chosen = min(keys, key=lambda k: (-rows[k], k))
        for key in keys:
            out[key] = chosen
    return out, ids_of, rows


@functools.lru_cache(maxsize=65536)  # an album's title repeats on each of its tracks' spellings
def _album_title_mark(album_title: str) -> str | None:
    from spark_jobs.normalise import parse_title

    title = parse_title(album_title).base_key  # "(Deluxe)", "[Remastered]" are notes of one album
    return f"album title {title}" if title else None


@functools.lru_cache(maxsize=65536)
def _is_soundtrack(album_title: str) -> bool:
    """An OST, a soundtrack or a compilation: its artists are many, whatever one crawl shows."""
    return bool(_SOUNDTRACK.search(album_title))


def _album_marks(album_id, album_title) -> set[str]:
    """What tells one album: its id, and its title in comparison form without edition notes."""
    marks = {f"album {album_id}"} if album_id else set()
    title = _album_title_mark(album_title) if album_title else None
    if title:
        marks.add(title)
    return marks


def evidence_links(spellings: pd.DataFrame, artist_key_of: Mapping[str, str]) -> list[Link]:
    """Merges the key rules cannot make on their own, each backed by a shared album (module docstring).

    ``spellings``: SPELLING_COLUMNS; ``artist_key_of``: artist as shown -> artist key (a collaboration's
    key is its resolved names joined by "&": normalise.Aliases.artist_key).
    """
    from rapidfuzz import fuzz, process

    albums: dict[str, set[str]] = defaultdict(set)  # normalised key -> album marks
    loose: dict[str, set[str]] = defaultdict(set)  # artist|loose key -> normalised keys with a work bracket
    form: dict[str, tuple[str, str, str]] = {}  # normalised key -> (artist key, base key, version key)
    glossed: dict[str, str] = {}  # normalised key with its gloss for the title -> the key
    soundtracks: set[str] = set()  # album marks of soundtracks and compilations: many artists, one title
    for artist, tkey, lkey, gkey, bkey, vkey, album_id, album_title in zip(
            spellings["artist_name"], spellings["title_key"], spellings["title_loose_key"],
            spellings["title_gloss_key"], spellings["title_base_key"], spellings["title_version_key"],
            spellings["album_id"], spellings["album_title"]):
        akey = artist_key_of[artist]
        key = f"{akey}|{tkey}"
        marks = _album_marks(album_id, album_title)
        albums[key] |= marks
        if album_title and _is_soundtrack(album_title):
            soundtracks |= marks
        form[key] = (akey, bkey, vkey)
        if lkey != tkey:
            loose[f"{akey}|{lkey}"].add(key)
        if gkey:
            glossed[f"{akey}|{gkey}"] = key
    links: list[Link] = []

    # gloss: the title shown only in its gloss's script (`Every day Every Moment`) by the same artist.
    for gloss_form, key in sorted(glossed.items()):
        if gloss_form in form and gloss_form != key:
            links.append(Link(gloss_form, key, "gloss", f"the gloss of {key.split('|', 1)[1]!r}"))

    def shared(a: str, b: str) -> str | None:
        common = albums[a] & albums[b]
        # A single named after its song says nothing about the song: its title is the song's own.
        common = {m for m in common if m != f"album title {form[a][1]}" and m != f"album title {form[b][1]}"}
        return min(common) if common else None  # ids sort before titles ("album 8..." < "album title")

    # work_title: `Title (Work)` and `Title` on one album.
    for target, bracketed in sorted(loose.items()):
        if target not in albums:
            continue
        for key in sorted(bracketed):
            mark = shared(key, target)
            if mark:
                links.append(Link(key, target, "work_title", mark))

    # near_title: blocks of one artist and one version; a typo apart and one album in common.
    blocks: dict[tuple[str, str], dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for key, (akey, bkey, vkey) in form.items():
        blocks[(akey, vkey)][bkey].append(key)
    for (_akey, _vkey), by_base in sorted(blocks.items()):
        if len(by_base) < 2:
            continue
        bases = sorted(by_base)
        scores = process.cdist(bases, bases, scorer=fuzz.ratio, score_cutoff=NEAR_TITLE_RATIO, workers=1)
        for i, j in zip(*scores.nonzero()):
            if i >= j or not _typo_apart(bases[i], bases[j]):
                continue
            for a in by_base[bases[i]]:
                for b in by_base[bases[j]]:
                    mark = shared(a, b)
                    if mark and not mark.startswith("album title "):  # an id: album titles repeat ("정규 1집")
                        links.append(Link(a, b, "near_title", f"{mark}; ratio {scores[i, j]:.0f}"))

    # renamed_artist: one title on one album under two artists with no name in common, the album's only two.
    by_album_title: dict[tuple[str, str], set[str]] = defaultdict(set)  # (album mark, title key) -> artist keys
    album_artists: dict[str, set[str]] = defaultdict(set)
    for key, marks in albums.items():
        akey, tkey = key.split("|", 1)
        for mark in marks:
            if mark.startswith("album ") and not mark.startswith("album title "):  # ids only: titles repeat
                by_album_title[(mark, tkey)].add(akey)
                album_artists[mark].add(akey)
    for (mark, tkey), artists in sorted(by_album_title.items()):
        if len(artists) != 2 or album_artists[mark] != artists or mark in soundtracks:
            continue  # a soundtrack has many singers of one title (`Let It Go`: Idina Menzel, Demi Lovato)
        a, b = sorted(artists)
        if set(a.split("&")) & set(b.split("&")):
            continue  # a duet and a solo, or two line-ups sharing a member: other releases
        links.append(Link(f"{a}|{tkey}", f"{b}|{tkey}", "renamed_artist", mark))
    return links


def _typo_apart(a: str, b: str) -> bool:
    """Near titles that differ like a typo: the same numbers, neither the other with something added at
    an end (`너를 사랑하고` / `너를 사랑하고도`, `눈물` / `내 눈물` are other titles)."""
    if _DIGITS.findall(a) != _DIGITS.findall(b):
        return False
    short, long_ = sorted((a, b), key=len)
    return not (long_.startswith(short) or long_.endswith(short))


@dataclass(frozen=True)
class Identity:
    mapping: pd.DataFrame  # MAPPING_COLUMNS: per (artist as shown, title key)
    aliases: pd.DataFrame  # gold.artist_aliases rows (without run_key)
    links: tuple[Link, ...]


def identify(spellings: pd.DataFrame) -> Identity:
    """Song keys of the distinct spellings of the whole data (SPELLING_COLUMNS, one row per distinct
    song id, artist, title key and album, with its ``rows``).

    The mapping's ``reason`` says how a spelling joined its song when its normalised key is not the
    song key or a rule changed it (alias, collaboration, song_id, work_title, near_title,
    renamed_artist), ``evidence`` what backs it; both null for a spelling that is the song's own key.
    """
    from spark_jobs.normalise import fold, learn_aliases

    if spellings.empty:
        return Identity(pd.DataFrame(columns=MAPPING_COLUMNS, dtype=object), pd.DataFrame(columns=ALIAS_COLUMNS), ())
    spellings = spellings.fillna({"album_id": "", "album_title": ""})
    by_artist_title = spellings.groupby(["artist_name", "title_key"], sort=True)["rows"].sum()
    albums: dict[str, set[str]] = defaultdict(set)  # folded artist -> album ids: evidence for aliases
    for artist, album_id in zip(spellings["artist_name"], spellings["album_id"]):
        if album_id:
            albums[fold(artist)].add(album_id)
    aliases = learn_aliases(((a, t, int(n)) for (a, t), n in by_artist_title.items()), albums)
    artist_key_of, rule_of = {}, {}
    for artist in sorted(set(spellings["artist_name"])):
        key = artist_key_of[artist] = aliases.artist_key(artist)
        if key != fold(artist):
            rule_of[artist] = ("alias", artist) if fold(artist) in aliases.by_name else ("collaboration", artist)
    links = evidence_links(spellings, artist_key_of)
    pairs = by_artist_title.reset_index()
    pairs["artist_key"] = [artist_key_of[a] for a in pairs["artist_name"]]
    pairs["norm_key"] = pairs["artist_key"] + "|" + pairs["title_key"]
    norm_of = dict(zip(zip(pairs["artist_name"], pairs["title_key"]), pairs["norm_key"]))
    edges = [(sid, norm_of[(a, t)], int(n)) for sid, a, t, n in
             zip(spellings["song_id"], spellings["artist_name"], spellings["title_key"], spellings["rows"])]
    keys, ids_of, _rows = _components(edges, links)
    pairs["song_key"] = [keys[k] for k in pairs["norm_key"]]
    merge_of = _merge_reasons(keys, ids_of, links)
    reasons, evidence = [], []
    for artist, norm in zip(pairs["artist_name"], pairs["norm_key"]):
        found = [rule_of[artist]] if artist in rule_of else []
        found += merge_of.get(norm, [])
        reasons.append(", ".join(dict.fromkeys(r for r, _e in found)) or None)
        evidence.append("; ".join(f"{r}: {e}" for r, e in found) or None)
    pairs["reason"], pairs["evidence"] = reasons, evidence
    return Identity(pairs[MAPPING_COLUMNS], _alias_rows(spellings, aliases), tuple(links))


def _merge_reasons(keys: dict[str, str], ids_of: dict[str, set[str]], links: list[Link]) -> dict[str, list]:
    """Per normalised key merged into another's song (not the song's own key): the shared ids and the
    links that joined it."""
    keys_of_id: dict[str, set[str]] = defaultdict(set)
    for key, ids in ids_of.items():
        for song_id in ids:
            keys_of_id[song_id].add(key)
    out: dict[str, list] = defaultdict(list)
    for key, ids in sorted(ids_of.items()):
        shared = sorted(i for i in ids if len(keys_of_id[i]) > 1)
        if shared and keys[key] != key:
            out[key].append(("song_id", ", ".join(shared[:3])))
    for link in links:
        for key in (link.a, link.b):
            if keys[key] != key:
                out[key].append((link.reason, link.evidence))
    return out


def _alias_rows(spellings: pd.DataFrame, aliases) -> pd.DataFrame:
    from spark_jobs.normalise import fold

    rows_by_alias: dict[str, int] = {}
    for artist, n in spellings.groupby("artist_name")["rows"].sum().items():
        rows_by_alias[fold(artist)] = rows_by_alias.get(fold(artist), 0) + int(n)
    alias_rows = []
    for group in aliases.groups:
        for alias in group.names:
            alias_rows.append({"alias": alias, "artist_key": group.artist_key, "artist_name": group.name,
                               "evidence": list(group.evidence), "row_count": rows_by_alias.get(alias, 0),
                               "used": True, "reason": None})
    used = {r["alias"] for r in alias_rows}
    for form, reason in sorted(aliases.rejected.items()):
        alias = fold(form)
        if alias not in used:
            used.add(alias)
            alias_rows.append({"alias": alias, "artist_key": alias, "artist_name": form, "evidence": [form],
                               "row_count": rows_by_alias.get(alias, 0), "used": False, "reason": reason})
    return pd.DataFrame(alias_rows, columns=ALIAS_COLUMNS)


def spellings_of_rows(rows: Iterable[Mapping]) -> pd.DataFrame:
    """SPELLING_COLUMNS of plain rows (``artist_name, song_title`` and optional ``song_id, album_id,
    album_title``), titles parsed here as the build's UDF parses them."""
    from spark_jobs.normalise import parse_title

    counts: Counter = Counter()
    for row in rows:
        title = parse_title(row.get("song_title"))
        counts[(row.get("song_id") or None, row["artist_name"], title.key, title.loose_key, title.gloss_key,
                title.base_key, title.version_key, row.get("album_id") or None, row.get("album_title") or None)] += 1
    return pd.DataFrame([(*k, n) for k, n in counts.items()], columns=list(SPELLING_COLUMNS))


def identify_rows(rows: list[Mapping]) -> list[str]:
    """The song key of each row, as the build computes it when these rows are the whole data."""
    from spark_jobs.normalise import parse_title

    identity = identify(spellings_of_rows(rows))
    song_of = dict(zip(zip(identity.mapping["artist_name"], identity.mapping["title_key"]),
                       identity.mapping["song_key"]))
    return [song_of[(row["artist_name"], parse_title(row.get("song_title")).key)] for row in rows]
