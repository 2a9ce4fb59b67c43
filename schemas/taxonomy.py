"""Genie's tag taxonomy, shipped as data (``schemas/taxonomy.json``): six tag categories and the genres.

Derived from the project's reference (taxonomy.md); a clone carries it so no
step reads anything outside the repository. Tags are matched whole, after
NFKC and whitespace trimming, never as substrings (MPIC matched ``밤``
inside longer tags). A tag of no category is ``other``: kept, never lost.
"""

from __future__ import annotations

import functools
import json
import re
import unicodedata
from pathlib import Path

PATH = Path(__file__).resolve().parent / "taxonomy.json"
OTHER = "other"
_SPACE = re.compile(r"\s+")
# Genie separates a song's genre levels with " / " ("가요 / 발라드"); names like 락/메탈 hold a bare "/".
_LEVEL_SEPARATOR = re.compile(r"\s+/\s+|\s*/\s+|\s+/\s*")


@functools.lru_cache(maxsize=1)
def _load() -> dict:
    return json.loads(PATH.read_text(encoding="utf-8"))


def text() -> str:
    """The file as shipped (part of the catalogue build's fingerprint)."""
    return PATH.read_text(encoding="utf-8")


def categories() -> dict[str, tuple[str, ...]]:
    """The six categories in Genie's order: situation, emotion, time, style, weather, season."""
    return {name: tuple(tags) for name, tags in _load()["categories"].items()}


def category_names() -> tuple[str, ...]:
    return tuple(categories())


def genres() -> tuple[str, ...]:
    return tuple(_load()["genres"])


def clean_tag(tag: str | None) -> str:
    """NFKC, whitespace collapsed and trimmed: the form tags are matched (and stored) in."""
    return _SPACE.sub(" ", unicodedata.normalize("NFKC", tag or "")).strip()


@functools.lru_cache(maxsize=1)
def tag_categories() -> dict[str, str]:
    """Cleaned tag -> its category, for the tags of the six categories."""
    return {clean_tag(tag): category for category, tags in categories().items() for tag in tags}


def category_of(tag: str | None) -> str:
    """The category of a whole tag, or ``other``."""
    return tag_categories().get(clean_tag(tag), OTHER)


def is_genre(tag: str | None) -> bool:
    return clean_tag(tag) in set(genres())


def split_genres(shown: str | None) -> list[str]:
    """A song page's genre text as a set, in page order: '가요 / 발라드' -> ['가요', '발라드'].

    Split on '/': the spaced ' / ' Genie puts between levels always; a bare '/' too,
    except inside a genre name that has one (락/메탈, R&B/소울 ...).
    """
    text = clean_tag(shown)
    if not text:
        return []
    parts = _LEVEL_SEPARATOR.split(text)
    known = set(genres())
    out: list[str] = []
    for part in parts:
        pieces = [part] if part in known or "/" not in part else part.split("/")
        for piece in (clean_tag(p) for p in pieces):
            if piece and piece not in out:
                out.append(piece)
    return out
