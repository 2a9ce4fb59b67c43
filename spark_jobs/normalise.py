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
  A bracket in another script than the title (`모든 날 모든 순간 (Every day
  Every Moment)`, `Aspirin (아스피린)`, `하여가(何如歌)`) is a gloss of the same
  title unless it names a version; a bracket of unknown kind in the title's own
  script (a film or drama name without "OST") stays in the key, and
  spark_jobs.song_identity merges it only with evidence (a shared album).
- :func:`learn_aliases` learns Korean/Latin artist aliases from the `A (B)`
  forms seen in the data; :func:`artist_parts` splits a collaboration
  (`Coldplay X BTS`, `BTS & Coldplay`, `A, B`, `A with B`) into its names, so
  separators and order never matter; :func:`song_key` keys a row by (artist, title).
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping
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
_REMIX = re.compile(r"\bre-?mix(?:ed)?\b|\bmix\b|\bedit\b|\bdub\b|\bsped\s*up\b|\bslowed\b|\breverb\b"
                    r"|\bnightcore\b|\bspeed\s*up\b|리믹스", re.IGNORECASE)
# Another recording or another track of the same name. Languages too: `봄날 (Japanese)` is a Japanese version,
# never a gloss; parts and interludes are other tracks (`Intro (봄)`, `Part 2`).
_VERSION = re.compile(r"\bver\b\.?|\bversion\b|버전|\bacoustic\b|\bunplugged\b|\bexplicit\b|\bclean\b|\bduet\b"
                      r"|\bremake\b|리메이크|\bdemo\b|\bcover\b|\ba\s*cappella\b|\bacapella\b|\bextended\b"
                      r"|\boriginal\b|\bshort\b|\btv\s*size\b|\bsolo\b|\bintro\b|\boutro\b|\binterlude\b|\bskit\b"
                      r"|\breprise\b|\bprologue\b|\bepilogue\b|\bpart\b|\bpt\b\.?|\bchapter\b|\bvol\b\.?|\bend\s*title\b"
                      r"|\b(?:korean|japanese|english|chinese|spanish|thai)\b|한국어|일본어|영어|중국어|日本語"
                      r"|^(?:k|j|e|c|kor|jpn|eng|chn)$"  # `All I Wanna Do (K)`: the Korean lyrics
                      # a style named alone is an arrangement: `단칼 (Dance)`, `사랑 (Rock)`, `가슴으로 외쳐 (Rap ...)`
                      r"|\b(?:dance|ballad|rock|jazz|piano|guitar|orchestra|orchestral|strings|club|disco|trot|tango"
                      r"|bossa\s*nova|house|techno|edm|lo-?fi|rap|hip-?hop|swing|funk|reggae|bonus|hidden)\b"
                      r"|^(?:댄스|발라드|록|락|재즈|피아노|기타|오케스트라|트로트|랩)(?:\s*ver\.?)?$",  # whole: `슬프도록` has 록
                      re.IGNORECASE)
_OST_VERSION = re.compile(r"\bend\s*title\b|\bremix|\blive\b|\binst|\bacoustic\b|\bsped\s*up\b", re.IGNORECASE)
# A credit inside a bracket (`Rap Feat. X`): never a gloss.
_CREDIT_INSIDE = re.compile(r"\b(?:feat|ft|featuring|prod)\b", re.IGNORECASE)
_OST = re.compile(r"\bost\b|\bo\.s\.t\b|^from\b|\bsoundtrack\b|삽입곡|주제곡", re.IGNORECASE)
# A trailing credit without brackets: "Song feat. X", "Song ft. X".
_TRAILING_FEAT = re.compile(r"\s+(?:feat\.|ft\.|featuring\s)\s*(.+)$", re.IGNORECASE)
_NAME_LIST = re.compile(r"\s*(?:,|&|\band\b|/)\s*", re.IGNORECASE)

IDENTITY_FIELDS = ("live", "inst", "remix", "version", "other")  # these keep songs apart (in the key)
NOTE_FIELDS = ("feat", "credit", "remaster", "ost", "gloss")  # these do not


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
    gloss: str | None = None  # the title in another script: "Every day Every Moment", "何如歌"
    other: tuple[str, ...] = ()  # bracketed parts of no known kind: part of the title
    key: str = field(default="")  # fold(base + what keeps songs apart): the title's identity
    loose_key: str = field(default="")  # the key without the `other` parts: a work title's candidate match
    gloss_key: str = field(default="")  # the key with the gloss for the base: `Every day Every Moment`
    base_key: str = field(default="")  # fold(base)
    version_key: str = field(default="")  # fold of what keeps songs apart (live, remix, ... and `other`)


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


def scripts(text: str) -> frozenset[str]:
    """The writing systems of the letters of ``text``: hangul, han, kana or latin (any other alphabet)."""
    found = set()
    for ch in text:
        if _HANGUL.match(ch):
            found.add("hangul")
        elif "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf" or "\uf900" <= ch <= "\ufaff":
            found.add("han")
        elif "\u3040" <= ch <= "\u30ff":
            found.add("kana")
        elif ch.isalpha():
            found.add("latin")
    return frozenset(found)


def _names(text: str) -> tuple[str, ...]:
    return tuple(n for n in (clean(p) for p in _NAME_LIST.split(text)) if n)


def _kind(inner: str) -> tuple[str, str]:
    """(field, value) of one bracketed part."""
    for pattern, kind in ((_FEAT, "feat"), (_WITH, "feat"), (_PROD, "credit")):
        found = pattern.match(inner)
        if found:
            return kind, inner[found.end():].strip()
    # A soundtrack note may number its part ("드라마 도깨비 OST Part.1") or say "Soundtrack Version": the
    # song as the film has it. An end title, a live take or a remix from the film is another recording.
    if _OST.search(inner) and not _OST_VERSION.search(inner):
        return "ost", inner
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
    # A bracket of no known kind, in scripts the title does not use, is the title translated or transcribed:
    # a gloss (Genie writes `언제나 (Always)` and `언제나` for one song). A version word was matched above.
    base_scripts = scripts(base)
    for i, (start, end, kind, inner) in enumerate(kept):
        inner_scripts = scripts(inner)
        if kind == "other" and base_scripts and inner_scripts and not base_scripts & inner_scripts \
                and not _CREDIT_INSIDE.search(inner):
            kept[i] = (start, end, "gloss", inner)
            found["other"].remove(inner)
            found["gloss"].append(inner)
    identity = [inner for _s, _e, kind, inner in kept if kind in IDENTITY_FIELDS]
    versions = [inner for _s, _e, kind, inner in kept if kind in IDENTITY_FIELDS and kind != "other"]
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
        gloss="; ".join(found["gloss"]) or None,
        other=tuple(found["other"]),
        key=fold(" ".join([base, *identity])),
        loose_key=fold(" ".join([base, *versions])),
        gloss_key=fold(" ".join([found["gloss"][0], *identity])) if len(found["gloss"]) == 1 else "",
        base_key=fold(base),
        version_key=fold(" ".join(identity)) if identity else "",
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


# Between the names of a collaboration: "A & B", "A, B", "A X B", "A x B", "A × B", "A with B", "A and B", "A + B".
_COLLAB = re.compile(r"\s*(?:,|&|\+|×|/|;)\s*|\s+(?:x|with|and)\s+", re.IGNORECASE)


def artist_parts(artist: str | None) -> tuple[str, ...]:
    """The names of a collaboration, split on separators outside brackets; one name when there is none.

    A band whose name holds a separator (`Earth, Wind & Fire`) splits the same way every time it is
    shown, so its key stays one; only its order-free set of names counts."""
    text = clean(artist)
    masked, depth = [], 0
    for ch in text:  # separators inside brackets (`형용돈죵 (정형돈 & G-DRAGON)`) do not split
        if ch in _OPEN:
            depth += 1
        elif ch in _CLOSE and depth:
            depth -= 1
        masked.append(ch if depth == 0 else "\0")
    if depth:  # an unclosed bracket: the name is one
        return (text,) if text else ()
    parts, start = [], 0
    for found in _COLLAB.finditer("".join(masked)):
        parts.append(text[start:found.start()])
        start = found.end()
    parts.append(text[start:])
    names = tuple(p for p in (clean(p) for p in parts) if fold(p))
    return names or ((text,) if text else ())


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
        """The artist in comparison form: an alias's group key; a collaboration's names, each resolved,
        sorted and joined by "&" (separators and order do not matter); else :func:`fold`."""
        folded = fold(artist)
        if folded in self.by_name:
            return self.by_name[folded]
        parts = artist_parts(artist)
        if len(parts) < 2:
            return folded
        return "&".join(sorted({self.by_name.get(fold(p), fold(p)) for p in parts}))


def learn_aliases(artist_titles: Iterable[tuple[str, str, int]],
                  albums: Mapping[str, set[str]] | None = None) -> Aliases:
    """Learn artist aliases from ``(artist as shown, title key, rows)`` of the whole data.

    An `A (B)` form (Hangul one side, Latin the other) says A and B name one
    artist. It is used only when it is unambiguous and nothing contradicts it:
    - one-to-one: neither A nor B is paired with a third name by another form;
    - shared songs: when B (or A) is also shown alone, it shares at least one
      title with the other spellings, or an album (``albums``: folded artist ->
      album ids, when known); a name shown alone whose songs and albums never
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
        albums_of = albums or {}
        for alone, other_side in ((fb, fa), (fa, fb)):
            shared_album = albums_of.get(alone, set()) & (albums_of.get(form_key, set()) | albums_of.get(other_side, set()))
            if rows.get(alone) and not titles[alone] & (paired_titles | titles.get(other_side, set())) \
                    and not shared_album:
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
