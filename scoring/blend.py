"""How far to trust each source of a photo's tags, and when to say nothing.

- **Familiarity** (``head_weight``): the tag head learnt covers; a photo unlike every cover it saw gets
  scores it has no ground for. A photo's familiarity is the mean cosine similarity of its
  ``NEIGHBOURS`` nearest training covers (encoder features), read against the same measure for the
  held-out covers (not trained on, but what the head knows): at their ``full_quantile`` or above the head
  is trusted fully; the trust falls linearly to none at ``span`` times (median - that quantile) below it.
  Measured on the demo: held-out covers 0.67-0.93, real photos 0.20-0.56.
- **Blend** (``blend``): per label, ``w * head + (1 - w) * zero_shot``; a label the head never learnt (too few
  covers) has only the zero-shot part, so on covers (w = 1) it stays 0 as the head alone would say.
- **Verdict** (``group_verdicts``): a group is ``uncertain`` when no label stands clearly above the others:
  the best label's share of the group's score mass beats the second's by less than ``margin``.

The head's training stores what familiarity needs beside its weights (``FAMILIARITY_FILE``).
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Sequence

import numpy as np

from core import files

FAMILIARITY_FILE = "familiarity.npz"
NEIGHBOURS = 5
CONFIDENT, UNCERTAIN = "confident", "uncertain"


def nearest_similarity(features: np.ndarray, reference: np.ndarray, k: int = NEIGHBOURS,
                       exclude_self: bool = False) -> np.ndarray:
    """``(n,)``: each row's mean cosine similarity with its ``k`` nearest rows of ``reference`` (unit vectors)."""
    features = np.asarray(features, np.float32)
    reference = np.asarray(reference, np.float32)
    if not len(features) or not len(reference):
        return np.zeros(len(features), np.float32)
    sims = features @ reference.T
    if exclude_self:  # the same covers on both sides: a cover is not its own neighbour
        np.fill_diagonal(sims, -np.inf)
    k = max(1, min(k, reference.shape[0] - (1 if exclude_self else 0)))
    return np.sort(sims, axis=1)[:, -k:].mean(axis=1).astype(np.float32)


def head_weight(similarity: np.ndarray, heldout_similarity: np.ndarray, full_quantile: float,
                span: float) -> np.ndarray:
    """``(n,)`` in 0-1: 1 at or above the held-out covers' ``full_quantile``; 0 at ``span`` times its distance
    below their median; linear between."""
    similarity = np.asarray(similarity, np.float64)
    if not len(heldout_similarity):
        return np.ones(len(similarity), np.float32)
    full = float(np.quantile(heldout_similarity, full_quantile))
    median = float(np.quantile(heldout_similarity, 0.5))
    none = full - max(span * (median - full), 1e-6)
    return np.clip((similarity - none) / (full - none), 0.0, 1.0).astype(np.float32)


def blend(head: np.ndarray, zero_shot: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """``(n, labels)``: ``head`` holds NaN where the head has no such label."""
    head = np.asarray(head, np.float64)
    w = np.asarray(weight, np.float64)[:, None]
    return (w * np.nan_to_num(head, nan=0.0) + (1.0 - w) * np.asarray(zero_shot, np.float64)).astype(np.float32)


def group_verdicts(scores: np.ndarray, groups: Sequence[str], margin: float) -> list[dict[str, str]]:
    """Per row, ``{group: 'confident' | 'uncertain'}``: confident when the best label's share of the group's
    score beats the second's by ``margin`` or more (a group of one label is confident when it scores)."""
    scores = np.atleast_2d(np.asarray(scores, np.float64))
    groups = np.asarray(groups)
    out: list[dict[str, str]] = [{} for _ in range(len(scores))]
    for group in dict.fromkeys(groups.tolist()):
        part = scores[:, groups == group]
        total = part.sum(axis=1)
        share = part / np.where(total > 0, total, 1.0)[:, None]
        top = -np.sort(-share, axis=1)
        gap = top[:, 0] - (top[:, 1] if top.shape[1] > 1 else 0.0)
        for i, (g, t) in enumerate(zip(gap, total)):
            out[i][group] = CONFIDENT if t > 0 and g >= margin else UNCERTAIN
    return out


def confident_scores(scores: np.ndarray, groups: Sequence[str], verdicts: dict[str, str]) -> np.ndarray:
    """One row's scores with its uncertain groups zeroed: what the recommenders read."""
    out = np.array(scores, np.float32, copy=True)
    for j, group in enumerate(groups):
        if verdicts.get(group) == UNCERTAIN:
            out[j] = 0.0
    return out


def save_familiarity(folder: Path, train: np.ndarray, heldout_similarity: np.ndarray) -> None:
    """The training covers' features (float16: a cosine to 3 decimals) and the held-out covers' familiarity."""
    buffer = io.BytesIO()
    np.savez(buffer, train=np.asarray(train, np.float16), heldout_similarity=np.asarray(heldout_similarity, np.float32))
    files.write_bytes(Path(folder) / FAMILIARITY_FILE, buffer.getvalue())


def load_familiarity(folder: Path) -> tuple[np.ndarray, np.ndarray]:
    with np.load(Path(folder) / FAMILIARITY_FILE) as arrays:
        return arrays["train"].astype(np.float32), arrays["heldout_similarity"].astype(np.float32)
