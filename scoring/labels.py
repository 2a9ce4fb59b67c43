"""What the tag model predicts: a mapping raw playlist tag -> label, each label in one of IMGenie's groups.

Today every raw tag of Genie's six categories is its own label, grouped as IMGenie grouped them
(weather & season -> weather, emotion & style -> mood, situation & time -> situation). When the
catalogue build ships ``gold.tag_map`` (merged labels from tag co-occurrence: raw tag -> label,
category), :func:`current` becomes ``from_tag_map(...)``: one line, nothing else changes.

Each label also has an English text, from the catalogue's bilingual glossary (``schemas/glossary.json``):
CLIP scores labels zero-shot from it (and text intent will compare captions with it).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Iterable

from schemas import glossary, taxonomy
from schemas.scoring import LABEL_GROUPS

# Genie's categories (and IMGenie's group names, as tag_map may use them) -> IMGenie's label groups.
GROUP_OF_CATEGORY = {
    "weather": "weather", "season": "weather",
    "emotion": "mood", "style": "mood", "mood": "mood",
    "situation": "situation", "time": "situation", "sit": "situation",
}

# English for IMGenie's merged labels, which are no Genie tag (a tag map may use them); every tag of the
# six categories has its English in the glossary.
ENGLISH = {"우중충한날": "gloomy day", "여유": "leisure", "우울/외로움": "gloom and loneliness"}


@dataclass(frozen=True)
class LabelMap:
    source: str  # "taxonomy", or "gold.tag_map@v<N>"
    label_of: dict[str, str]  # cleaned raw tag -> label
    group_of: dict[str, str]  # label -> weather | mood | situation

    @property
    def labels(self) -> tuple[str, ...]:
        """Every label, by group (weather, mood, situation), then by name: the output order of a model."""
        order = {g: i for i, g in enumerate(LABEL_GROUPS)}
        return tuple(sorted(self.group_of, key=lambda label: (order[self.group_of[label]], label)))

    def labels_for(self, tags: Iterable[str | None]) -> set[str]:
        """The labels a playlist's raw tags carry (tags of no label are ignored)."""
        return {self.label_of[t] for t in map(taxonomy.clean_tag, tags) if t in self.label_of}

    @property
    def fingerprint(self) -> str:
        body = json.dumps([sorted(self.label_of.items()), sorted(self.group_of.items())], ensure_ascii=False)
        return hashlib.sha256(body.encode("utf-8")).hexdigest()


def english(label: str) -> str:
    """The English text CLIP compares a photo with; a label without one is used as it is."""
    return glossary.english(label) or ENGLISH.get(label, label)


def prompt(label: str) -> str:
    return f"a photo of {english(label)}"


def from_taxonomy() -> LabelMap:
    """Each tag of Genie's six categories is a label; the categories fold into IMGenie's three groups."""
    label_of, group_of = {}, {}
    for category, tags in taxonomy.categories().items():
        for tag in map(taxonomy.clean_tag, tags):
            label_of[tag] = tag
            group_of[tag] = GROUP_OF_CATEGORY[category]
    return LabelMap("taxonomy", label_of, group_of)


def from_tag_map(rows: Iterable[tuple[str, str, str]], source: str) -> LabelMap:
    """``(raw tag, label, category)`` rows, e.g. of ``gold.tag_map``; categories of no group are left out."""
    label_of, group_of = {}, {}
    for raw, label, category in rows:
        group = GROUP_OF_CATEGORY.get(category)
        if group is None or not label:
            continue
        label = taxonomy.clean_tag(label)
        if group_of.setdefault(label, group) != group:
            raise ValueError(f"{source}: label {label!r} is in two groups ({group_of[label]}, {group})")
        label_of[taxonomy.clean_tag(raw)] = label
    return LabelMap(source, label_of, group_of)


def from_gold_tag_map(version: int | None = None) -> LabelMap:
    """The catalogue's merged labels: ``gold.tag_map`` (tag -> label, the label's category) at ``version``."""
    from schemas import gold
    from warehouse import delta

    rows = delta.read(gold.TAG_MAP, version, columns=["tag", "label", "category"]).to_pylist()
    shown = version if version is not None else delta.version(gold.TAG_MAP)
    return from_tag_map(((r["tag"], r["label"], r["category"]) for r in rows), f"gold.tag_map@v{shown}")


def current() -> LabelMap:
    """The label map models are trained on now. The merged labels: ``return from_gold_tag_map()``."""
    return from_taxonomy()
