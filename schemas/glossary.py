"""The bilingual tag glossary, shipped as data (``schemas/glossary.json``): Korean tag -> English.

The song sentences are embedded with an English-only model (all-MiniLM-L6-v2), so each tag is
translated through this glossary before embedding; the Korean sentence is kept beside the English
one. It covers every tag of the taxonomy (the six categories and the genres); a tag it does not
know is reported by :func:`english` as ``None`` and kept in Korean by the caller, never dropped.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

from schemas.taxonomy import clean_tag

PATH = Path(__file__).resolve().parent / "glossary.json"


@functools.lru_cache(maxsize=1)
def _load() -> dict:
    return json.loads(PATH.read_text(encoding="utf-8"))


@functools.lru_cache(maxsize=1)
def entries() -> dict[str, str]:
    """Cleaned Korean tag -> English, for every tag the glossary knows (categories and genres)."""
    data = _load()
    out: dict[str, str] = {}
    for table in (*data["categories"].values(), data["genres"]):
        for korean, english_text in table.items():
            out[clean_tag(korean)] = english_text
    return out


def english(tag: str | None) -> str | None:
    """The English of a whole tag, or ``None`` when the glossary has no entry for it."""
    return entries().get(clean_tag(tag))


def missing(tags) -> list[str]:
    """The tags of ``tags`` the glossary has no entry for, in their order (cleaned, deduplicated)."""
    known = entries()
    return list(dict.fromkeys(t for t in map(clean_tag, tags) if t and t not in known))
