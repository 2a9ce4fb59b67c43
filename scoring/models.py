"""Tag models: pictures in, a 0-1 score per label out.

Two kinds, chosen by :func:`current_spec`:

- ``head`` (default): EfficientNet-Lite0 features -> a trained linear multi-label head (sigmoid per
  label), the head trained by the refresh of the live catalogue version (``ops.tag_models``; trained
  by ``scoring.tag_head.train_tag_head``; see :func:`latest_head`), blended per photo with the zero-shot
  scorer (``scoring.zero_shot``: the ImageNet logits of the same forward pass) by how much the photo looks
  like the head's training covers (``scoring.blend``). Its labels are all the labels of the head's label
  map, those the head left out (too few covers) scored by the zero-shot part alone.
- ``clip``: when ``SCENETUNE_CLIP_MODEL_DIR`` names a local CLIP folder, zero-shot: cosine between the
  photo and "a photo of <label's English>" for each label, softmax within each label group.

A :class:`ModelSpec` is small and picklable: Spark ships it to the executors, where :func:`load`
builds the model once per worker process and keeps it.
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
from PIL import Image

from core import files, settings
from core.errors import NotRetryable
from schemas import scoring as tables
from scoring import labels as label_maps
from scoring.encoders import ClipEncoder, EfficientNetLite0, Encoder, clip_version
from warehouse import delta

HEAD_FILE, HEAD_META = "head.npz", "head.json"  # weight (labels x dim) and bias; what they are


class NoTagModel(NotRetryable):
    """Nothing to score with yet: a retry does not train a head."""


@dataclass(frozen=True)
class ModelSpec:
    kind: str  # "head" | "clip"
    model_version: str
    path: str  # absolute: the head's folder or the CLIP folder
    encoder: str
    labels: tuple[str, ...]
    groups: tuple[str, ...]
    catalogue_version: str | None  # catalogue run the labels (and, for a head, the training data) come from
    encoder_dir: str | None = None  # a head's: where its encoder's ONNX export is (workers may not share the settings)
    head_version: str | None = None  # a head's ops.tag_models.model_version (model_version adds the zero-shot blend's)
    head_labels: tuple[str, ...] = ()  # the labels the head predicts, in its output order (a subset of labels)
    members: tuple[tuple[str, tuple[str, ...]], ...] = ()  # label -> the raw tags it stands for (the label map)


def label_map_of(source: str) -> label_maps.LabelMap:
    """The label map a head was trained with, from its ``label_source`` (``taxonomy`` or ``gold.tag_map@vN``)."""
    if source.startswith("gold.tag_map@v"):
        return label_maps.from_gold_tag_map(int(source.rsplit("@v", 1)[1]))
    if source == "taxonomy":
        return label_maps.from_taxonomy()
    raise ValueError(f"unknown label source {source!r}")


def blend_version(head_version: str, labels: Sequence[str], members) -> str:
    """``<head>+zs-<digest>``: the zero-shot scorer, the blend and the verdict settings are part of the answer,
    so a change to any of them scores stored photos again instead of recovering the old tags."""
    from scoring import zero_shot

    s = settings.load()
    body = json.dumps([zero_shot.fingerprint(s), s.blend_full_quantile, s.blend_span, s.uncertain_margin,
                       list(labels), [[label, list(tags)] for label, tags in members]], ensure_ascii=False)
    return f"{head_version}+zs-{hashlib.sha256(body.encode('utf-8')).hexdigest()[:8]}"


def head_spec(row: dict, home: Path) -> ModelSpec:
    """A head blended with the zero-shot scorer over every label of the head's label map."""
    try:
        label_map = label_map_of(row["label_source"])
    except Exception:  # noqa: BLE001 - the tag map version was vacuumed (or unknown): the head's own labels
        label_map = label_maps.LabelMap(row["label_source"], {x: x for x in row["labels"]},
                                        dict(zip(row["labels"], row["label_groups"])))
    for label, group in zip(row["labels"], row["label_groups"]):
        label_map.group_of.setdefault(label, group)
    labels = label_map.labels
    members = tuple((label, tuple(sorted(t for t, x in label_map.label_of.items() if x == label))) for label in labels)
    return ModelSpec("head", blend_version(row["model_version"], labels, members), str(home / row["path"]),
                     row["encoder"], labels, tuple(label_map.group_of[x] for x in labels), row["catalogue_version"],
                     str(settings.load().encoder_dir), row["model_version"], tuple(row["labels"]), members)


def _live_runs() -> list[str]:
    """Run keys of the published (or rolled-back) catalogue versions, the live one first."""
    from warehouse import versions

    return [r["run_key"] for r in reversed(versions.all_versions()) if r["status"] in versions.LIVE]


def latest_head() -> ModelSpec | None:
    """The head trained with the live catalogue version, or None.

    A head is keyed by the refresh run that trained it, as its catalogue version is: the live version's
    head goes live with it (a rollback restores it too), a rejected refresh's head is never used. When
    the live version's run trained none (too little to learn from), the head of the newest published
    version that has one; when no published version has one (nothing published yet), the newest head.
    """
    models = {r["run_key"]: r for r in delta.read_or_empty(tables.TAG_MODELS).to_pylist()}
    if not models:
        return None
    chosen = next((models[k] for k in _live_runs() if k in models), None) or models[max(models)]
    return head_spec(chosen, settings.load().home)


def clip_spec(model_dir: Path, label_map: label_maps.LabelMap) -> ModelSpec:
    labels = label_map.labels
    prompts = hashlib.sha256(json.dumps([label_maps.prompt(x) for x in labels], ensure_ascii=False).encode())
    encoder = clip_version(model_dir)
    version = f"{encoder}:{hashlib.sha256((label_map.fingerprint + prompts.hexdigest()).encode()).hexdigest()[:8]}"
    return ModelSpec("clip", version, str(model_dir), encoder, labels, tuple(label_map.group_of[x] for x in labels), None)


def current_spec() -> ModelSpec:
    """The model scoring uses now: the configured CLIP folder, else the latest trained head."""
    s = settings.load()
    if s.clip_model_dir is not None:
        return clip_spec(s.clip_model_dir, label_maps.current())
    head = latest_head()
    if head is None:
        raise NoTagModel("no tag head trained yet: run `scenetune refresh` (it trains one after the catalogue build),"
                         " or set SCENETUNE_CLIP_MODEL_DIR to a local CLIP model")
    return head


def current_spec_or_none() -> ModelSpec | None:
    try:
        return current_spec()
    except NoTagModel:
        return None


class TagModel:
    spec: ModelSpec
    encoder: Encoder

    def prepare(self, image: Image.Image) -> np.ndarray:
        return self.encoder.prepare(image)

    def predict_with_features(self, inputs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(n, len(labels))`` scores in 0-1 for ``(n, 3, size, size)`` prepared inputs, and the encoder's
        unit-length features they were made from (``spec.encoder``)."""
        raise NotImplementedError

    def predict_sources(self, inputs: np.ndarray) -> "Prediction":
        scores, features = self.predict_with_features(inputs)
        return Prediction(scores, features)

    def predict_prepared(self, inputs: np.ndarray) -> np.ndarray:
        return self.predict_with_features(inputs)[0]

    def predict(self, images: Sequence[Image.Image]) -> np.ndarray:
        return self.predict_prepared(np.stack([self.prepare(img) for img in images]))


def save_head(folder: Path, weight: np.ndarray, bias: np.ndarray, meta: dict) -> None:
    """A linear head as plain arrays (scoring needs no torch to apply it) and its metadata."""
    buffer = io.BytesIO()
    np.savez(buffer, weight=np.asarray(weight, np.float32), bias=np.asarray(bias, np.float32))
    files.write_bytes(folder / HEAD_FILE, buffer.getvalue())
    files.write_text(folder / HEAD_META, json.dumps(meta, ensure_ascii=False, indent=1))


@dataclass
class Prediction:
    """What a model says of a batch: ``scores`` (n, labels) 0-1 and the unit ``features`` they come from; for a
    blended head also each source (``head``: NaN where the head has no such label) and the head's ``weight``."""
    scores: np.ndarray
    features: np.ndarray
    head: np.ndarray | None = None
    zero_shot: np.ndarray | None = None
    weight: np.ndarray | None = None


class HeadModel(TagModel):
    def __init__(self, spec: ModelSpec) -> None:
        from scoring import blend, zero_shot

        folder = Path(spec.path)
        meta = json.loads((folder / HEAD_META).read_text())
        self.encoder = EfficientNetLite0(spec.encoder_dir)
        if meta["encoder"] != self.encoder.version:
            raise NotRetryable(f"tag head {spec.model_version} was trained on {meta['encoder']}, "
                               f"this machine has {self.encoder.version}: train the head again")
        with np.load(folder / HEAD_FILE) as arrays:
            self.weight, self.bias = arrays["weight"], arrays["bias"]
        if self.weight.shape != (len(meta["labels"]), meta["dim"]) or self.bias.shape != (len(meta["labels"]),):
            raise NotRetryable(f"tag head {spec.model_version}: {HEAD_FILE} holds {self.weight.shape} weights, "
                               f"its {HEAD_META} says {len(meta['labels'])} labels x {meta['dim']}: train the head again")
        if not (folder / blend.FAMILIARITY_FILE).is_file():
            raise NotRetryable(f"tag head {spec.head_version} predates the zero-shot blend (no {blend.FAMILIARITY_FILE}):"
                               " run `scenetune refresh` to train it again")
        self.train_covers, self.heldout_similarity = blend.load_familiarity(folder)
        head_labels = spec.head_labels or tuple(meta["labels"])
        column = {label: j for j, label in enumerate(spec.labels)}
        self.head_columns = np.asarray([column[label] for label in head_labels], np.int64)
        self.zero_shot = zero_shot.shared_scorer(spec.labels, spec.groups, spec.members, spec.encoder_dir)
        self.spec = spec
        self.settings = settings.load()

    def scores_from_features(self, features: np.ndarray) -> np.ndarray:
        logits = features @ self.weight.T + self.bias
        return (0.5 * (1.0 + np.tanh(0.5 * logits))).astype(np.float32)  # the sigmoid, without exp overflow

    def head_scores(self, features: np.ndarray) -> np.ndarray:
        """``(n, labels)``: the head's sigmoid scores, NaN for the labels it does not predict."""
        out = np.full((len(features), len(self.spec.labels)), np.nan, np.float32)
        out[:, self.head_columns] = self.scores_from_features(features)
        return out

    def familiarity_weight(self, features: np.ndarray) -> np.ndarray:
        from scoring import blend

        return blend.head_weight(blend.nearest_similarity(features, self.train_covers), self.heldout_similarity,
                                 self.settings.blend_full_quantile, self.settings.blend_span)

    def predict_sources(self, inputs: np.ndarray) -> Prediction:
        from scoring import blend

        features, logits = self.encoder.encode_prepared_with_logits(inputs)
        head = self.head_scores(features)
        zero_shot = self.zero_shot.scores(logits, inputs)
        weight = self.familiarity_weight(features)
        return Prediction(blend.blend(head, zero_shot, weight), features, head, zero_shot, weight)

    def predict_with_features(self, inputs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        prediction = self.predict_sources(inputs)
        return prediction.scores, prediction.features


def softmax_by_group(logits: np.ndarray, groups: Sequence[str]) -> np.ndarray:
    """Softmax over the labels of each group separately: zero-shot CLIP picks one of each group well."""
    out = np.zeros_like(logits, dtype=np.float32)
    groups = np.asarray(groups)
    for group in dict.fromkeys(groups):
        cols = np.flatnonzero(groups == group)
        part = logits[:, cols] - logits[:, cols].max(axis=1, keepdims=True)
        exp = np.exp(part)
        out[:, cols] = exp / exp.sum(axis=1, keepdims=True)
    return out


class ClipZeroShot(TagModel):
    def __init__(self, spec: ModelSpec) -> None:
        self.encoder = ClipEncoder(Path(spec.path))
        self.texts = self.encoder.encode_texts([label_maps.prompt(x) for x in spec.labels])
        self.spec = spec

    def predict_with_features(self, inputs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        features = self.encoder.encode_prepared(inputs)
        return softmax_by_group(self.encoder.logit_scale * (features @ self.texts.T), self.spec.groups), features


_LOADED: dict[ModelSpec, TagModel] = {}


def load(spec: ModelSpec) -> TagModel:
    """The model of ``spec``, built once per process (a Spark worker keeps it between tasks)."""
    if spec not in _LOADED:
        _LOADED.clear()  # one model at a time: a worker that moved on frees the old one
        _LOADED[spec] = HeadModel(spec) if spec.kind == "head" else ClipZeroShot(spec)
    return _LOADED[spec]
