"""Train the tag head: a linear multi-label classifier over frozen EfficientNet-Lite0 features.

A step of the catalogue refresh, after the build: ``train_tag_head(run_key, versions)``.

- Examples: each cover image with the labels of the playlists showing it (``scoring.labels``: raw
  tag -> label). Images: the cleaned covers of ``silver.cover_quality`` (verdict keep or crop) when
  that table exists, else the raw crawled covers of ``bronze.covers`` (see :func:`cover_images`).
- Features: EfficientNet-Lite0 in Spark tasks (``mapInPandas``, the encoder built once per worker);
  ``gold.cover_embeddings`` keeps them, so the next training embeds only new covers.
- Split: one image in five held out, chosen by the image's hash (byte-identical covers of several
  playlists fall on one side). The head is trained on the rest; labels with fewer than
  ``MIN_TRAIN_POSITIVES`` training images are left out (and listed).
- Fit: logistic regression per label, all at once (full-batch L-BFGS, L2), seeded: the same data
  gives the same weights, hence the same model version.
- Familiarity: the training covers' features and the held-out covers' similarity to them, beside the
  weights (``scoring.blend``): scoring trusts the head as far as a photo looks like these covers.
- Report: average precision per label on the held-out images, their mean (mAP), and the mAP of a
  constant scorer (each label's frequency) as the floor to beat; ``ops.tag_models`` and
  ``ops.tag_model_labels`` record them.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from core import settings
from core.errors import NotRetryable
from core.runs import RunPartition
from schemas import TABLES, bronze, silver
from schemas.bronze import COVER_SOURCE
from schemas.scoring import COVER_EMBEDDINGS, TAG_MODEL_LABELS, TAG_MODELS
from scoring import blend, encoders, images
from scoring import labels as label_maps
from scoring.models import save_head
from warehouse import delta

log = logging.getLogger(__name__)

MIN_TRAIN_POSITIVES = 5
HELDOUT_ONE_IN = 5
L2 = 1e-5  # on the weights, per sample: best on an inner split of the demo covers' training images (1e-6..3e-5 alike; 0 overfits)
CLEANED_VERDICTS = ("keep", "crop")


class NoTrainingData(NotRetryable):
    """The catalogue has no covers with labels to learn from: a retry finds none either."""


@dataclass(frozen=True)
class TrainingImage:
    image_sha1: str
    path: Path
    labels: frozenset[str]


def cover_images(versions: dict[str, int]) -> tuple[dict[str, Path], dict[int, str], str]:
    """``({image_sha1: file}, {plm_seq: image_sha1}, source)``: the cover each playlist is learnt from.

    Seam: cleaned covers (``silver.cover_quality``, written by the cover-cleaning stage: ``verdict``
    keep/crop and ``cleaned_path``) when that table is declared and written, else the raw covers.
    """
    home = settings.load().home
    quality = TABLES.get("silver.cover_quality")
    wanted = {"plm_seq", "verdict", "cleaned_path"}
    if quality is not None and delta.exists(quality) and wanted <= set(quality.column_names):
        version = versions.get(quality.qualified_name)
        rows = delta.read(quality, version, columns=sorted(wanted)).to_pylist()
        paths, by_playlist = {}, {}
        for row in rows:
            if row["verdict"] in CLEANED_VERDICTS and row["cleaned_path"]:
                path = home / row["cleaned_path"]
                sha1 = path.stem  # cleaned covers are named by the sha1 of their bytes
                paths[sha1], by_playlist[row["plm_seq"]] = path, sha1
        return paths, by_playlist, f"{quality.qualified_name}@v{version if version is not None else delta.version(quality)}"
    # Until cover cleaning lands: every downloaded cover, text, ad and template covers included.
    version = versions.get(bronze.COVERS.qualified_name)
    rows = delta.read_or_empty(bronze.COVERS, version, columns=["run_key", "plm_seq", "cover_sha1", "path", "status"])
    paths, latest = {}, {}
    for row in sorted(rows.to_pylist(), key=lambda r: r["run_key"]):
        if row["status"] == "ok" and row["cover_sha1"] and row["path"]:
            paths[row["cover_sha1"]] = home / row["path"]
            latest[row["plm_seq"]] = row["cover_sha1"]
    shown = f"v{version}" if version is not None else f"v{delta.version(bronze.COVERS)}"
    return paths, latest, f"{bronze.COVERS.qualified_name}@{shown}"


def training_images(versions: dict[str, int], label_map: label_maps.LabelMap) -> tuple[list[TrainingImage], str, str]:
    """Each cover image with the union of the labels of the playlists that show it; where the images come from;
    the catalogue build they belong to (the run that wrote the silver.playlists rows read)."""
    paths, image_of, source = cover_images(versions)
    version = versions.get(silver.PLAYLISTS.qualified_name)
    if not delta.exists(silver.PLAYLISTS):
        raise NoTrainingData("no silver.playlists yet: build the catalogue before training the tag head")
    # Covers (and so training images) are Genie's: an imported source's playlists have none.
    playlists = delta.read(silver.PLAYLISTS, version, columns=["plm_seq", "tags", "cover_sha1", "run_key"],
                           filters=[("source", "=", COVER_SOURCE)]).to_pylist()
    catalogue_version = max((row["run_key"] for row in playlists), default="")
    found: dict[str, set[str]] = {}
    for row in playlists:
        raw = source.startswith(bronze.COVERS.qualified_name)
        # Raw covers: the cover of the playlist's current state; cleaned ones are keyed by playlist.
        sha1 = row["cover_sha1"] if raw and row["cover_sha1"] in paths else image_of.get(row["plm_seq"])
        labels = label_map.labels_for(row["tags"])
        if sha1 is not None and labels:
            found.setdefault(sha1, set()).update(labels)
    images_found = [TrainingImage(sha1, paths[sha1], frozenset(labels)) for sha1, labels in sorted(found.items())]
    return images_found, source, catalogue_version


# ---------------------------------------------------------------------------------------------- features
_ENCODER: list[encoders.EfficientNetLite0] = []


def _shared_encoder(encoder_dir: str) -> encoders.EfficientNetLite0:
    if not _ENCODER:
        _ENCODER.append(encoders.EfficientNetLite0(encoder_dir))
    return _ENCODER[0]


def embed_files(items: list[tuple[str, str]], max_pixels: int, encoder_dir: str) -> list[dict]:
    """``(image_sha1, path)`` -> ``{image_sha1, embedding | None, reason}``; a bad file fails alone."""
    encoder = _shared_encoder(encoder_dir)
    out, prepared = [], []
    for sha1, path in items:
        try:
            prepared.append((sha1, encoder.prepare(images.load(Path(path), max_pixels).image)))
        except Exception as err:  # noqa: BLE001 - unreadable covers are skipped, counted, never fatal
            out.append({"image_sha1": sha1, "embedding": None, "reason": " ".join(str(err).split())[:200]})
    if prepared:
        features = encoder.encode_prepared(np.stack([arr for _, arr in prepared]))
        out += [{"image_sha1": sha1, "embedding": f.tolist(), "reason": None} for (sha1, _), f in zip(prepared, features)]
    return out


def embed_with_spark(spark, items: list[tuple[str, str]], max_pixels: int) -> dict[str, dict]:
    from pyspark.sql import types as T

    encoder_dir = str(encoders.efficientnet_onnx().parent)  # exported here once, not by every worker at the same time
    tasks = max(min(len(items), spark.sparkContext.defaultParallelism), len(items) // 128 + 1)
    schema = T.StructType([T.StructField("image_sha1", T.StringType()), T.StructField("path", T.StringType())])
    frame = spark.createDataFrame(spark.sparkContext.parallelize(items, tasks), schema)

    def embed_partition(batches):
        import pandas as pd

        for pdf in batches:
            rows = embed_files(list(zip(pdf["image_sha1"], pdf["path"])), max_pixels, encoder_dir)
            yield pd.DataFrame(rows, columns=["image_sha1", "embedding", "reason"])

    table = frame.mapInPandas(embed_partition, "image_sha1 STRING, embedding ARRAY<FLOAT>, reason STRING").toArrow()
    return {row["image_sha1"]: row for row in table.to_pylist()}


def cover_features(run_key: str, wanted: list[TrainingImage], spark=None) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Features of every wanted image (reusing stored ones of the same encoder); failures with reasons."""
    from spark_jobs.session import spark_session

    encoder_version = encoders.efficientnet_version()
    stored, embedded_by = {}, {}
    for row in delta.read_or_empty(COVER_EMBEDDINGS).to_pylist():
        if row["encoder"] == encoder_version:
            stored[row["image_sha1"]] = np.asarray(row["embedding"], dtype=np.float32)
            embedded_by[row["image_sha1"]] = row["run_key"]
    missing = [(img.image_sha1, str(img.path)) for img in wanted if img.image_sha1 not in stored]
    failures: dict[str, str] = {}
    if missing:
        with spark_session("scenetune-train-tag-head", spark) as session:
            embedded = embed_with_spark(session, missing, settings.load().upload_max_pixels)
        for sha1, row in embedded.items():
            if row["embedding"] is None:
                failures[sha1] = row["reason"]
            else:
                stored[sha1], embedded_by[sha1] = np.asarray(row["embedding"], dtype=np.float32), run_key
    features = {img.image_sha1: stored[img.image_sha1] for img in wanted if img.image_sha1 in stored}
    rows = [{"image_sha1": sha1, "encoder": encoder_version, "embedding": f.tolist(), "run_key": embedded_by[sha1]}
            for sha1, f in sorted(features.items())]
    delta.overwrite(COVER_EMBEDDINGS, pa.Table.from_pylist(rows, schema=COVER_EMBEDDINGS.arrow_schema()))
    return features, failures


# ---------------------------------------------------------------------------------------------- fit, measure
def heldout(image_sha1: str) -> bool:
    return int(hashlib.sha256(image_sha1.encode()).hexdigest()[:8], 16) % HELDOUT_ONE_IN == 0


def fit_head(features: np.ndarray, targets: np.ndarray, l2: float = L2, seed: int = 0):
    """Logistic regression for every label at once (a ``torch.nn.Linear``), full-batch L-BFGS."""
    import torch

    torch.manual_seed(seed)
    torch.set_num_threads(1)
    x, y = torch.from_numpy(features), torch.from_numpy(targets.astype(np.float32))
    head = torch.nn.Linear(features.shape[1], targets.shape[1])
    torch.nn.init.zeros_(head.weight)
    with torch.no_grad():  # start at each label's frequency: the prior the head must beat
        rate = y.mean(0).clamp(1e-4, 1 - 1e-4)
        head.bias.copy_(torch.log(rate / (1 - rate)))
    optimiser = torch.optim.LBFGS(head.parameters(), lr=1.0, max_iter=500, history_size=20,
                                  line_search_fn="strong_wolfe", tolerance_grad=1e-6, tolerance_change=1e-9)
    loss_fn = torch.nn.BCEWithLogitsLoss()

    def closure():
        optimiser.zero_grad()
        loss = loss_fn(head(x), y) + l2 * head.weight.pow(2).sum()
        loss.backward()
        return loss

    optimiser.step(closure)
    return head.eval()


def average_precision(scores: np.ndarray, positives: np.ndarray) -> float | None:
    """Mean of the precision at the rank of each positive (ties broken by order); None without positives."""
    positives = positives.astype(bool)
    if not positives.any():
        return None
    order = np.argsort(-scores, kind="stable")
    hits = positives[order]
    precision_at = np.cumsum(hits) / np.arange(1, len(hits) + 1)
    return float(precision_at[hits].mean())


def _predict(head, features: np.ndarray) -> np.ndarray:
    import torch

    with torch.inference_mode():
        return torch.sigmoid(head(torch.from_numpy(features))).numpy()


def train_tag_head(run_key: str, versions: dict[str, int] | None = None, *, spark=None,
                   label_map: label_maps.LabelMap | None = None) -> dict:
    """Train, measure, save and register the head of a catalogue refresh run; return its report.

    ``versions`` pins what to read (``{"silver.playlists": v, "bronze.covers": v}``, as the build and
    crawl tasks pass them); by default the latest versions.
    """
    import torch

    RunPartition.parse(run_key)
    versions = dict(versions or {})
    label_map = label_map or label_maps.current()
    wanted, image_source, catalogue_version = training_images(versions, label_map)
    if not wanted:
        raise NoTrainingData(f"no cover with a labelled playlist in {image_source}: nothing to train the tag head on")
    features, failures = cover_features(run_key, wanted, spark)
    usable = [img for img in wanted if img.image_sha1 in features]
    train = [img for img in usable if not heldout(img.image_sha1)]
    test = [img for img in usable if heldout(img.image_sha1)]
    all_labels = label_map.labels

    def targets(imgs: list[TrainingImage], labels: tuple[str, ...]) -> np.ndarray:
        return np.asarray([[label in img.labels for label in labels] for img in imgs], dtype=bool).reshape(
            len(imgs), len(labels))

    train_counts = targets(train, all_labels).sum(0)
    test_counts = targets(test, all_labels).sum(0)
    kept = tuple(label for label, n in zip(all_labels, train_counts) if n >= MIN_TRAIN_POSITIVES)
    if not kept:
        raise NoTrainingData(f"no label has {MIN_TRAIN_POSITIVES} training images in {image_source}")
    x_train = np.stack([features[img.image_sha1] for img in train])
    head = fit_head(x_train, targets(train, kept))

    per_label: dict[str, float | None] = {label: None for label in kept}
    priors: list[float] = []
    if test:
        x_test, y_test = np.stack([features[img.image_sha1] for img in test]), targets(test, kept)
        predicted = _predict(head, x_test)
        for j, label in enumerate(kept):
            per_label[label] = average_precision(predicted[:, j], y_test[:, j])
            if per_label[label] is not None:
                priors.append(float(y_test[:, j].mean()))
    measured = [ap for ap in per_label.values() if ap is not None]
    heldout_map = float(np.mean(measured)) if measured else None
    prior_map = float(np.mean(priors)) if priors else None

    encoder_version = encoders.efficientnet_version()
    groups = tuple(label_map.group_of[label] for label in kept)
    weights = b"".join(t.detach().numpy().tobytes() for t in head.state_dict().values())
    digest = hashlib.sha256(weights + json.dumps([kept, groups, encoder_version]).encode()).hexdigest()
    model_version = f"head-{digest[:12]}"  # content-addressed: an unchanged catalogue keeps its head and results
    s = settings.load()
    folder = s.models_dir / "tag_head" / model_version
    save_head(folder, head.weight.detach().numpy(), head.bias.detach().numpy(), {
        "model_version": model_version, "encoder": encoder_version, "dim": int(x_train.shape[1]), "labels": list(kept),
        "label_groups": list(groups), "label_source": label_map.source, "image_source": image_source,
        "torch": torch.__version__})
    # What the blend needs to tell how much a photo looks like these covers (scoring.blend).
    heldout_similarity = (blend.nearest_similarity(np.stack([features[img.image_sha1] for img in test]), x_train)
                          if test else blend.nearest_similarity(x_train, x_train, exclude_self=True))
    blend.save_familiarity(folder, x_train, heldout_similarity)

    delta.replace_partition(TAG_MODELS, pa.Table.from_pylist([{
        "run_key": run_key, "model_version": model_version, "catalogue_version": catalogue_version,
        "encoder": encoder_version, "path": folder.relative_to(s.home).as_posix(), "label_source": label_map.source, "labels": list(kept),
        "label_groups": list(groups), "image_source": image_source, "train_images": len(train),
        "heldout_images": len(test), "heldout_map": heldout_map, "prior_map": prior_map,
    }], schema=TAG_MODELS.arrow_schema()), {"run_key": run_key})
    label_rows = [{
        "run_key": run_key, "model_version": model_version, "label": label, "label_group": label_map.group_of[label],
        "train_positives": int(n_train), "heldout_positives": int(n_test), "heldout_ap": per_label.get(label),
        "in_head": label in per_label,
    } for label, n_train, n_test in zip(all_labels, train_counts, test_counts)]
    delta.replace_partition(TAG_MODEL_LABELS, pa.Table.from_pylist(label_rows, schema=TAG_MODEL_LABELS.arrow_schema()),
                            {"run_key": run_key})
    log.info("tag head %s: %d train / %d held-out images, held-out mAP %s (prior %s)", model_version, len(train),
             len(test), heldout_map, prior_map)
    return {
        "run_key": run_key, "model_version": model_version, "catalogue_version": catalogue_version,
        "encoder": encoder_version,
        "label_source": label_map.source, "image_source": image_source,
        "train_images": len(train), "heldout_images": len(test), "images_failed": failures,
        "heldout_map": heldout_map, "prior_map": prior_map,
        "per_label_ap": {label: ap for label, ap in per_label.items()},
        "left_out": sorted(set(all_labels) - set(kept)),
    }
