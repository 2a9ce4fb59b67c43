"""Text normalisation that decides when two crawled rows are the same song.

Pure Python, so it is unit-tested directly and run in Spark as vectorised
(pandas) UDFs. Genie shows one song in many spellings: full-width characters,
case, spacing, punctuation, a "(Feat. X)" suffix, an artist as `아이유 (IU)`,
`IU` or `아이유`.

- :func:`clean` is the display form: NFKC, whitespace collapsed.
- :func:`fold` is the comparison form: NFKC, case-folded, without spaces or
  punctuation (a name made only of punctuation keeps it, so it never folds to "").
- :func:`parse_title` splits the bracketed parts of a title into fields.
  Credits (feat., with, prod.) never change which song it is; a live, remix,
  instrumental or other version does (it stays a different song unless a
  shared Genie song id says otherwise); a remaster or an "OST of ..." note is
  the same recording, so it stays out of the key.
- :func:`learn_aliases` learns Korean/Latin artist aliases from the `A (B)`
  forms seen in the data; :func:`song_key` keys a row by (artist, title).
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

_SPACE = re.compile(r"\s+")
_NOT_WORD = re.compile(r"[\W_]+")  # \W keeps letters and digits of every script (Hangul, kana, Latin ...)
_HANGUL = re.compile(r"[\u1100-\u11ff\u3130-\u318f\uac00-\ud7a3]")
_LATIN = re.compile(r"[A-Za-z]")
_OPEN, _CLOSE = "([", ")]"


def clean(text: str | None) -> str:
    """Display form: NFKC (full-width → ASCII, composed Hangul), whitespace collapsed and trimmed."""
    if not text:
        return ""
    return _SPACE.sub(" ", unicodedata.normalize("NFKC", text)).strip()


def fold(text: str | None) -> str:
    """Comparison form: case-folded, no spaces, no punctuation (a name of punctuation only keeps it)."""
    text = clean(text).casefold()
    folded = _NOT_WORD.sub("", text)
    return folded or text.replace(" ", "")


# --------------------------------------------------------------------------- titles
# What a bracketed part of a title says, tried in this order on its (NFKC, trimmed) text.
_FEAT = re.compile(r"^(?:feat(?:uring)?\b\.?|ft\.|ft\b)\s*", re.IGNORECASE)
_WITH = re.compile(r"^with\b\.?\s*", re.IGNORECASE)
_PROD = re.compile(r"^(?:prod(?:uced)?\b\.?(?:\s*by\b)?|remixed\s+by\b)\s*", re.IGNORECASE)
_REMASTER = re.compile(r"\bre-?master(?:ed)?\b|리마스터", re.IGNORECASE)
_LIVE = re.compile(r"\blive\b|라이브", re.IGNORECASE)
_INST = re.compile(r"\binst\b\.?|\binstrumental\b|반주|^mr$", re.IGNORECASE)
_REMIX = re.compile(r"\bre-?mix(?:ed)?\b|\bmix\b|\bedit\b|\bdub\b", re.IGNORECASE)
_VERSION = re.compile(r"\bver\b\.?|\bversion\b|버전|\bacoustic\b|\bunplugged\b|\bexplicit\b|\bclean\b|\bduet\b",
                      re.IGNORECASE)
_OST = re.compile(r"\bost\b|\bo\.s\.t\b|^from\b|\bsoundtrack\b|삽입곡|주제곡", re.IGNORECASE)
# A trailing credit without brackets: "Song feat. X", "Song ft. X".
_TRAILING_FEAT = re.compile(r"\s+(?:feat\.|ft\.|featuring\s)\s*(.+)$", re.IGNORECASE)
_NAME_LIST = re.compile(r"\s*(?:,|&|\band\b|/)\s*", re.IGNORECASE)

IDENTITY_FIELDS = ("live", "inst", "remix", "version", "other")  # these keep songs apart (in the key)
NOTE_FIELDS = ("feat", "credit", "remaster", "ost")  # these do not


@dataclass(frozen=True)
class Title:
    """A title split into its base and the fields its bracketed parts stand for."""

    base: str  # display title without any recognised bracketed part
    feat: tuple[str, ...] = ()  # featured artists ("Feat. X", "with X")
    credit: str | None = None  # "Prod. by X"
    remaster: str | None = None  # "2011 Remaster"
    live: str | None = None  # "Live at ..."
    inst: bool = False  # instrumental / Inst. / MR
    remix: str | None = None  # "Daft Punk Remix", "Radio Edit", "Club Mix"
    version: str | None = None  # "Acoustic Ver.", "Taylor's Version"
    ost: str | None = None  # 'From "Frozen"', "영화 비긴 어게인 OST"
    other: tuple[str, ...] = ()  # bracketed parts of no known kind: part of the title
    key: str = field(default="")  # fold(base + what keeps songs apart): the title's identity


def _brackets(text: str) -> list[tuple[int, int]]:
    """Spans of the top-level bracketed parts, nesting allowed; an unclosed bracket is plain text."""
    spans, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch in _OPEN:
            if depth == 0:
                start = i
            depth += 1
        elif ch in _CLOSE and depth:
            depth -= 1
            if depth == 0:
                spans.append((start, i + 1))
    return spans


def _names(text: str) -> tuple[str, ...]:
    return tuple(n for n in (clean(p) for p in _NAME_LIST.split(text)) if n)


def _kind(inner: str) -> tuple[str, str]:
    """(field, value) of one bracketed part."""
    for pattern, kind in ((_FEAT, "feat"), (_WITH, "feat"), (_PROD, "credit")):
        found = pattern.match(inner)
        if found:
            return kind, inner[found.end():].strip()
    for pattern, kind in ((_REMASTER, "remaster"), (_INST, "inst"), (_LIVE, "live"), (_REMIX, "remix"),
                          (_VERSION, "version"), (_OST, "ost")):
        if pattern.search(inner):
            return kind, inner
    return "other", inner


def parse_title(title: str | None) -> Title:
    """Split a title into its base and bracketed fields; the key keeps live/remix/inst./versions apart."""
    text = clean(title)
    found: dict[str, list[str]] = defaultdict(list)
    kept = []  # (start, end, kind, inner) of every bracketed part, in order
    for start, end in _brackets(text):
        inner = clean(text[start + 1:end - 1])
        if not inner:
            continue
        kind, value = _kind(inner)
        kept.append((start, end, kind, inner))
        found[kind].append(value)
    base = text
    for start, end, _kind_name, _inner in reversed(kept):
        base = base[:start] + " " + base[end:]
    base = clean(base)
    trailing = _TRAILING_FEAT.search(base)
    if trailing and trailing.start() > 0:
        found["feat"].append(trailing.group(1))
        base = clean(base[:trailing.start()])
    if not base:  # a title that is all brackets ("(Intro)") is its own base
        base, kept, found = text, [], defaultdict(list)
    identity = [inner for _s, _e, kind, inner in kept if kind in IDENTITY_FIELDS]
    return Title(
        base=base,
        feat=tuple(n for value in found["feat"] for n in _names(value)),
        credit="; ".join(found["credit"]) or None,
        remaster="; ".join(found["remaster"]) or None,
        live="; ".join(found["live"]) or None,
        inst=bool(found["inst"]),
        remix="; ".join(found["remix"]) or None,
        version="; ".join(found["version"]) or None,
        ost="; ".join(found["ost"]) or None,
        other=tuple(found["other"]),
        key=fold(" ".join([base, *identity])),
    )


def title_key(title: str | None) -> str:
    return parse_title(title).key


# --------------------------------------------------------------------------- artists
_ALIAS_FORM = re.compile(r"^([^()\[\],&;/+]+?)\s*\(([^()\[\],&;/+]+)\)$")


def alias_form(artist: str | None) -> tuple[str, str] | None:
    """`아이유 (IU)` -> ('아이유', 'IU') when one side is Hangul and the other Latin; else None.

    Only a Korean/Latin pair is an alias: `윤민수 (바이브)` or `나르샤 (Brown Eyed Girls)`-like
    member-of-group forms are mostly same-script or fail the one-to-one test of learn_aliases.
    """
    found = _ALIAS_FORM.match(clean(artist))
    if not found:
        return None
    a, b = clean(found.group(1)), clean(found.group(2))
    hangul_a, hangul_b = bool(_HANGUL.search(a)), bool(_HANGUL.search(b))
    if hangul_a == hangul_b:
        return None
    latin_other = _LATIN.search(b if hangul_a else a) or any(c.isdigit() for c in (b if hangul_a else a))
    if not latin_other or not fold(a) or not fold(b) or fold(a) == fold(b):
        return None
    return a, b


@dataclass(frozen=True)
class AliasGroup:
    """Spellings of one artist learned from an `A (B)` form."""

    artist_key: str  # fold of the canonical name: the artist part of song keys
    name: str  # display name: the `A (B)` form as Genie writes it most
    names: tuple[str, ...]  # folded spellings that mean this artist (A, B and the `A (B)` form)
    evidence: tuple[str, ...]  # the `A (B)` forms seen
    rows: int  # rows whose artist is one of these spellings


@dataclass(frozen=True)
class Aliases:
    groups: tuple[AliasGroup, ...]
    rejected: dict[str, str]  # `A (B)` form -> why it taught nothing
    by_name: dict[str, str]  # folded spelling -> artist_key

    def artist_key(self, artist: str | None) -> str:
        folded = fold(artist)
        return self.by_name.get(folded, folded)


def learn_aliases(artist_titles: Iterable[tuple[str, str, int]]) -> Aliases:
    """Learn artist aliases from ``(artist as shown, title key, rows)`` of the whole data.

    An `A (B)` form (Hangul one side, Latin the other) says A and B name one
    artist. It is used only when it is unambiguous and nothing contradicts it:
    - one-to-one: neither A nor B is paired with a third name by another form;
    - shared songs: when B (or A) is also shown alone, it shares at least one
      title with the other spellings; a name shown alone whose songs never
      meet (a group named beside a member) is another artist.
    """
    titles: dict[str, set[str]] = defaultdict(set)
    rows: dict[str, int] = defaultdict(int)
    shown: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))  # folded -> display -> rows
    forms: dict[str, tuple[str, str]] = {}
    for artist, tkey, count in artist_titles:
        folded = fold(artist)
        titles[folded].add(tkey)
        rows[folded] += count
        shown[folded][clean(artist)] += count
        pair = alias_form(artist)
        if pair is not None:
            forms[folded] = pair
    partners: dict[str, set[str]] = defaultdict(set)
    for a, b in forms.values():
        partners[fold(a)].add(fold(b))
        partners[fold(b)].add(fold(a))
    rejected: dict[str, str] = {}
    pairs: dict[frozenset, list[str]] = defaultdict(list)
    for form_key, (a, b) in sorted(forms.items()):
        fa, fb = fold(a), fold(b)
        display = max(shown[form_key], key=lambda s: (shown[form_key][s], s))
        if len(partners[fa]) > 1 or len(partners[fb]) > 1:
            other = sorted((partners[fa] | partners[fb]) - {fa, fb})
            rejected[display] = f"ambiguous: also paired with {', '.join(other[:3])}"
            continue
        paired_titles = titles[form_key]
        contradiction = None
        for alone, other_side in ((fb, fa), (fa, fb)):
            if rows.get(alone) and not titles[alone] & (paired_titles | titles.get(other_side, set())):
                contradiction = f"{alone!r} is shown alone with songs never shown as {display!r}"
        if contradiction:
            rejected[display] = f"no shared song: {contradiction}"
            continue
        pairs[frozenset((fa, fb))].append(form_key)
    groups, by_name = [], {}
    for names, form_keys in sorted(pairs.items(), key=lambda kv: sorted(kv[0])):
        artist_key = min(names)  # the Latin spelling sorts before Hangul: a stable, readable key
        spellings = sorted(names | set(form_keys))
        display_counts = {s: n for k in form_keys for s, n in shown[k].items()}
        name = max(display_counts, key=lambda s: (display_counts[s], s))
        groups.append(AliasGroup(artist_key, name, tuple(spellings),
                                 tuple(sorted(display_counts)), sum(rows.get(s, 0) for s in spellings)))
        for spelling in spellings:
            by_name[spelling] = artist_key
    return Aliases(tuple(groups), rejected, by_name)


NO_ALIASES = Aliases((), {}, {})


def song_key(artist: str | None, title: str | None, aliases: Aliases = NO_ALIASES) -> str:
    """`artist|title` in comparison form: the normalised identity of a crawled row."""
    return f"{aliases.artist_key(artist)}|{title_key(title)}"


def normalise_text(text: str | None) -> str:
    """The comparison form of any text (kept for callers of the first build)."""
    return fold(text)
