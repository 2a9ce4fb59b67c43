"""Real photos: is the top label of a group one a person accepts? (``scoring/real_photos``, issue 15).

The labelled set is 78 packaged photographs with every acceptable label per group (``labels.csv``; its
README states the rules and each licence). It is never trained on: the ``tune`` split may set thresholds
(``scripts/real_photos/tune_margin.py``), the ``test`` split only reports.

- Acceptable labels are the taxonomy's tags; a model with a tag map (merged labels) accepts the label a tag
  was merged into.
- **Top-k hit rate** of a group: over the photos whose group has an acceptable label, the share whose k best
  labels of the group include one. **Chance** beside it: the same for labels drawn at random from the group
  (``1 - C(n - a, k) / C(n, k)``, ``a`` of ``n`` acceptable), averaged over the same photos. Per source: the
  head alone (labels it lacks rank last), the zero-shot scorer alone, and the blend.
- **Verdicts**: a group verdict is right when it is confident with an acceptable top label, or uncertain
  where the photo says nothing for the group (no acceptable label) or its top label is wrong.
- **Songs**: both recommenders for every photo of the split as one submission; distinct lists / photos,
  distinct songs / slots, popularity percentile (``scoring.diversity``).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from math import comb
from pathlib import Path
from typing import Sequence

import numpy as np

from core import settings
from schemas.scoring import LABEL_GROUPS as GROUPS
from scoring import blend, models

PHOTO_DIR = Path(__file__).resolve().parent / "real_photos"


@dataclass(frozen=True)
class LabelledPhoto:
    file: str
    path: Path
    split: str  # tune | test
    acceptable: dict[str, frozenset[str]]  # group -> acceptable taxonomy tags (empty: the photo says nothing)


def load_labelled(directory: Path = PHOTO_DIR, split: str | None = None) -> list[LabelledPhoto]:
    with (directory / "labels.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    photos = [LabelledPhoto(r["file"], directory / r["file"], r["split"],
                            {g: frozenset(t for t in r[g].split("|") if t) for g in GROUPS}) for r in rows]
    return [p for p in photos if split is None or p.split == split]


def label_of_tag(spec: models.ModelSpec) -> dict[str, str]:
    """A taxonomy tag -> the model's label that stands for it (itself, or what a tag map merged it into)."""
    out = {label: label for label in spec.labels}
    for label, tags in spec.members:
        out.update({tag: label for tag in tags})
    return out


def acceptable_columns(photos: Sequence[LabelledPhoto], spec: models.ModelSpec) -> list[dict[str, set[int]]]:
    """Per photo, ``{group: columns of the model's acceptable labels}`` (within that group)."""
    column = {label: j for j, label in enumerate(spec.labels)}
    label_of = label_of_tag(spec)
    out = []
    for photo in photos:
        groups = {}
        for group in GROUPS:
            labels = {label_of[t] for t in photo.acceptable[group] if t in label_of}
            groups[group] = {column[x] for x in labels if spec.groups[column[x]] == group}
        out.append(groups)
    return out


def chance(acceptable: int, labels: int, k: int) -> float:
    k = min(k, labels)
    return 1.0 - comb(labels - acceptable, k) / comb(labels, k) if labels else 0.0


def hit_rates(scores: np.ndarray, truth: list[dict[str, set[int]]], groups: Sequence[str]) -> dict:
    """``{group: {top1, top3, chance_top1, chance_top3, photos}, "all": ...}`` (NaN scores rank last)."""
    scores = np.nan_to_num(np.asarray(scores, np.float64), nan=-np.inf)
    groups = np.asarray(groups)
    out, every = {}, []
    for group in GROUPS:
        cols = np.flatnonzero(groups == group)
        rows = []
        for i, accept in enumerate(truth):
            if not accept[group] or not len(cols):
                continue
            order = cols[np.argsort(-scores[i, cols], kind="stable")]
            rows.append((order[0] in accept[group], bool(set(order[:3]) & accept[group]),
                         chance(len(accept[group]), len(cols), 1), chance(len(accept[group]), len(cols), 3)))
        every.extend(rows)
        out[group] = _rates(rows)
    out["all"] = _rates(every)
    return out


def _rates(rows: list[tuple]) -> dict:
    if not rows:
        return {"top1": None, "top3": None, "chance_top1": None, "chance_top3": None, "photos": 0}
    top1, top3, c1, c3 = (float(np.mean(col)) for col in zip(*rows))
    return {"top1": top1, "top3": top3, "chance_top1": c1, "chance_top3": c3, "photos": len(rows)}


def verdict_accuracy(scores: np.ndarray, truth: list[dict[str, set[int]]], groups: Sequence[str],
                     margin: float) -> dict:
    """How often the verdict (``scoring.blend.group_verdicts`` at ``margin``) is the honest one (module doc)."""
    verdicts = blend.group_verdicts(scores, groups, margin)
    groups = np.asarray(groups)
    right = empty_uncertain = empty = answered_confident = answered = 0
    for i, accept in enumerate(truth):
        for group in GROUPS:
            cols = np.flatnonzero(groups == group)
            if not len(cols):
                continue
            confident = verdicts[i][group] == blend.CONFIDENT
            hit = bool(accept[group]) and int(cols[np.argmax(scores[i, cols])]) in accept[group]
            right += confident == hit
            if accept[group]:
                answered += 1
                answered_confident += confident
            else:
                empty += 1
                empty_uncertain += not confident
    cells = empty + answered
    return {"margin": margin, "verdict_accuracy": right / cells if cells else None,
            "uncertain_where_nothing": empty_uncertain / empty if empty else None,
            "confident_where_something": answered_confident / answered if answered else None}


def predict(spec: models.ModelSpec, photos: Sequence[LabelledPhoto]) -> models.Prediction:
    from PIL import Image

    model = models.load(spec)
    prepared = []
    for photo in photos:
        with Image.open(photo.path) as image:
            prepared.append(model.prepare(image.convert("RGB")))
    return model.predict_sources(np.stack(prepared))


def song_figures(spec: models.ModelSpec, photos: Sequence[LabelledPhoto], prediction: models.Prediction,
                 catalogue) -> dict:
    """Both recommenders for the photos as one submission, from their confident labels."""
    from scoring import diversity, recommend
    from scoring.score_uploads import recommend_picks

    keys = [p.file for p in photos]
    scores = dict(zip(keys, prediction.scores))
    features = dict(zip(keys, prediction.features))
    targets = [{"input_key": k, "sha256": k, "genres": [], "submission": "real photos"} for k in keys]
    picks = recommend_picks(spec, targets, scores, features, catalogue)
    out = {}
    for name in (recommend.MPIC, recommend.IMGENIE):
        lists = [[p.song for p in chosen.get(name, [])] for chosen in picks]
        out[name] = diversity.figures(lists, catalogue.popularity)
    return out


def evaluate(spec: models.ModelSpec, catalogue=None, split: str = "test", directory: Path = PHOTO_DIR) -> dict:
    """The real-photo section of ``scenetune evaluate scoring``: hit rates per source and group, verdicts, songs."""
    photos = load_labelled(directory, split)
    prediction = predict(spec, photos)
    truth = acceptable_columns(photos, spec)
    sources = {"blend": prediction.scores}
    if prediction.head is not None:
        sources["head"] = prediction.head
    if prediction.zero_shot is not None:
        sources["zero_shot"] = prediction.zero_shot
    report = {
        "split": split, "photos": len(photos),
        "sources": {name: hit_rates(values, truth, spec.groups) for name, values in sources.items()},
        "verdicts": verdict_accuracy(prediction.scores, truth, spec.groups, settings.load().uncertain_margin),
        "head_weight": None if prediction.weight is None else float(np.mean(prediction.weight)),
    }
    if catalogue is not None:
        report["recommenders"] = song_figures(spec, photos, prediction, catalogue)
    return report
