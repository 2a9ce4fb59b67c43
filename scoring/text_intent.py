"""Text intent (AI DJ's idea): a caption nudges the photo's label scores, the photo stays the anchor.

The caption and each label's English text (the glossary's, as CLIP prompts and song sentences use)
are embedded with the catalogue's MiniLM; within each label group, a label moves by

    shift = CAP * confidence * clip((cos - mean) / (max - mean), -1, 1)

where ``cos`` is the caption's cosine with the label, ``mean``/``max`` are over the group's labels,
and ``confidence`` is the group's best cosine (clipped to 0-1): the label the caption names most
gains up to ``CAP`` times how clearly it names it, labels less related than the group's average
lose up to as much. ``CAP`` = 0.4, the lower end of AI DJ's ±0.4-0.5 on a 0-1 scale, so a caption
can reorder close labels but not overrule a confident photo. Only English captions shift (the
model is English-only); others are kept and shown, with no shift.
"""

from __future__ import annotations

import functools
from typing import Sequence

import numpy as np

CAP = 0.4
MIN_LATIN_SHARE = 0.6  # of a caption's letters: below this it is not taken as English


def is_english(text: str | None) -> bool:
    letters = [c for c in (text or "") if c.isalpha()]
    return bool(letters) and sum(c.isascii() for c in letters) / len(letters) >= MIN_LATIN_SHARE


@functools.lru_cache(maxsize=4)
def _label_vectors(labels: tuple[str, ...]) -> np.ndarray:
    from scoring.labels import english
    from scoring.recommend import embed_sentences

    return embed_sentences([english(label) for label in labels])


def shift_matrix(caption_vectors: np.ndarray, label_vectors: np.ndarray, groups: Sequence[str]) -> np.ndarray:
    """``(captions, labels)`` shifts, each within ±CAP (see the module doc)."""
    cosine = caption_vectors @ label_vectors.T
    out = np.zeros_like(cosine, dtype=np.float32)
    groups = np.asarray(groups)
    for group in dict.fromkeys(groups.tolist()):
        cols = np.flatnonzero(groups == group)
        part = cosine[:, cols]
        mean, top = part.mean(axis=1, keepdims=True), part.max(axis=1, keepdims=True)
        relative = np.clip((part - mean) / np.maximum(top - mean, 1e-6), -1.0, 1.0)
        confidence = np.clip(top, 0.0, 1.0)
        out[:, cols] = CAP * confidence * relative
    return out


def shifts(captions: dict[str, str], labels: Sequence[str], groups: Sequence[str]) -> dict[str, np.ndarray]:
    """``{input_key: shift per label}`` for the inputs whose caption is English."""
    from scoring.recommend import embed_sentences

    keys = sorted(k for k, text in captions.items() if is_english(text))
    if not keys:
        return {}
    matrix = shift_matrix(embed_sentences([captions[k] for k in keys]), _label_vectors(tuple(labels)), groups)
    return dict(zip(keys, matrix))
