"""One sentence per song, from its merged tag labels: what the sentence model embeds.

A song's tags (gold.songs.tags, most frequent first) are mapped to their labels (gold.tag_map),
tags of no category are left out (genres, brands, charts: MPIC joined only the six category lists),
and the song keeps its ``LABELS_PER_SONG`` most frequent labels, at most ``LABELS_PER_CATEGORY`` of
one category, written in Genie's category order (situation, emotion, time, style, weather, season).
The English sentence joins the labels' glossary texts (schemas/glossary.json) with commas — ``drive,
love, night, rainy day`` — and is what is embedded; the Korean sentence joins the labels themselves.
A label the glossary lacks stays in Korean inside the English sentence and is listed in ``untranslated``.

The caps keep the sentence about a song's dominant contexts: a hit listed in 300 playlists carries
nearly every tag, and a sentence of all of them says nothing. They also decide how many distinct
sentences there are to embed: over Genie and Melon (709k songs) three per category and no song cap
gave 339,732 distinct sentences of ~70 characters, four labels per song 86,007 of ~32 (a quarter of
the sentences, each embedded ~1.8x faster).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from schemas import glossary
from schemas.gold import TAG_CATEGORIES

LABELS_PER_CATEGORY = 3
LABELS_PER_SONG = 4
SEPARATOR = ", "


@dataclass(frozen=True)
class Sentence:
    english: str
    korean: str
    labels: tuple[str, ...]  # the Korean labels, in sentence order
    untranslated: tuple[str, ...]  # labels the glossary has no English for (kept in Korean)

    @property
    def sentence_id(self) -> str:
        return sentence_id(self.english)


def sentence_id(english: str) -> str:
    """The key of a sentence: 16 hex digits of the sha256 of its English text."""
    return hashlib.sha256(english.encode("utf-8")).hexdigest()[:16]


def song_sentence(tags: Iterable[str] | None, label_of: Mapping[str, tuple[str, str]],
                  english: Callable[[str], str | None] = glossary.english) -> Sentence | None:
    """The sentence of a song whose tags are ``tags`` (most frequent first), or None without a label
    of the six categories. ``label_of``: tag -> (label, label's category), as in gold.tag_map."""
    by_category: dict[str, list[str]] = {c: [] for c in TAG_CATEGORIES}
    taken = 0
    for tag in () if tags is None else tags:  # a list, or a numpy array from a pandas UDF
        label, category = label_of.get(tag, (None, None))
        if category not in by_category:
            continue
        chosen = by_category[category]
        if label not in chosen and len(chosen) < LABELS_PER_CATEGORY:
            chosen.append(label)
            taken += 1
            if taken == LABELS_PER_SONG:
                break
    labels = tuple(label for c in TAG_CATEGORIES for label in by_category[c])
    if not labels:
        return None
    texts = [(label, english(label)) for label in labels]
    return Sentence(
        english=SEPARATOR.join(text or label for label, text in texts),
        korean=SEPARATOR.join(labels),
        labels=labels,
        untranslated=tuple(label for label, text in texts if not text),
    )
