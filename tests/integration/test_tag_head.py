"""Training the tag head on the demo site's covers and their playlists' tags (real encoder, real Spark)."""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from core import settings
from schemas import bronze, silver
from schemas.scoring import COVER_EMBEDDINGS, TAG_MODEL_LABELS, TAG_MODELS
from scoring import blend, labels, tag_head
from scoring.models import current_spec, load
from tests.unit.scoring_files import photo
from warehouse import delta

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

CRAWL = "20261120T000000Z"
PLAYLISTS = 160  # enough covers for a dozen labels to reach MIN_TRAIN_POSITIVES


def write_demo_catalogue() -> int:
    """The first demo-scale playlists as the crawl and the build leave them: covers on disk, bronze.covers,
    silver.playlists. Returns how many covers are readable (one is made corrupt on purpose)."""
    from demo_site.catalogue import generate
    from demo_site.covers import CoverStore

    home = settings.load().home
    catalogue = generate(7, "demo")
    store = CoverStore(7, "demo")
    when = datetime(2026, 11, 20, tzinfo=timezone.utc)
    covers, playlists = [], []
    for pl in sorted(catalogue.playlists.values(), key=lambda p: p.plm_seq)[:PLAYLISTS]:
        data = store.cover(pl, catalogue.get)
        if pl.plm_seq == 1:
            data = data[:100] + b"\0" * 500  # a cover that cannot be decoded: skipped with its reason
        sha1 = hashlib.sha1(data).hexdigest()
        relative = f"raw/covers/{sha1[:2]}/{sha1}.jpg"
        (home / relative).parent.mkdir(parents=True, exist_ok=True)
        (home / relative).write_bytes(data)
        covers.append(dict(run_key=CRAWL, plm_seq=pl.plm_seq, cover_url=None, cover_sha1=sha1, path=relative,
                           width=600, height=600, bytes=len(data), status="ok", error=None))
        playlists.append(dict(source="genie", plm_seq=pl.plm_seq, title=pl.title, subtitle=None, maker_name=None,
                              song_count=pl.song_count, view_count=None, like_count=None, tags=list(pl.tags),
                              cover_sha1=sha1, cover_status="ok", content_hash="h", crawl_run_key=CRAWL,
                              fetched_at=when, run_key=CRAWL))
    delta.replace_partition(bronze.COVERS, pa.Table.from_pylist(covers, schema=bronze.COVERS.arrow_schema()),
                            {"run_key": CRAWL})
    delta.overwrite(silver.PLAYLISTS, pa.Table.from_pylist(playlists, schema=silver.PLAYLISTS.arrow_schema()))
    return len({c["cover_sha1"] for c in covers}) - 1


def test_train_measure_register_and_retrain(home, spark):
    readable = write_demo_catalogue()
    report = tag_head.train_tag_head("20261121T000000Z", spark=spark)

    assert report["image_source"] == "bronze.covers@v0"  # no cleaned covers yet: the raw ones
    assert list(report["images_failed"].values()) == ["not an image: no format recognised"]
    assert report["train_images"] + report["heldout_images"] <= readable
    assert report["heldout_images"] > 10
    kept = [label for label in report["per_label_ap"]]
    assert len(kept) >= 8 and set(report["left_out"]) == set(labels.current().labels) - set(kept)
    measured = [ap for ap in report["per_label_ap"].values() if ap is not None]
    assert measured and all(0.0 <= ap <= 1.0 for ap in measured)
    assert report["heldout_map"] == pytest.approx(np.mean(measured))
    assert 0 < report["prior_map"] < 1

    (model,) = delta.read(TAG_MODELS).to_pylist()
    assert model["model_version"] == report["model_version"] and model["labels"] == kept
    label_rows = delta.read(TAG_MODEL_LABELS).to_pylist()
    assert len(label_rows) == len(labels.current().labels)
    assert all(r["train_positives"] >= tag_head.MIN_TRAIN_POSITIVES for r in label_rows if r["in_head"])

    # The registered head is what scoring uses, and it scores a real photo.
    spec = current_spec()
    assert (spec.kind, spec.head_version, spec.catalogue_version) == ("head", report["model_version"], CRAWL)
    assert spec.model_version.startswith(report["model_version"] + "+zs-") and set(kept) <= set(spec.labels)
    scores = load(spec).predict([photo("coffee")])  # every label of the label map, the head's blended in
    assert scores.shape == (1, len(spec.labels)) and ((scores >= 0) & (scores <= 1)).all()
    # Beside its weights, what the blend needs: the training covers' features, the held-out covers' familiarity.
    train, heldout = blend.load_familiarity(Path(spec.path))
    assert train.shape == (report["train_images"], 1280) and len(heldout) == (report["heldout_images"] or report["train_images"])
    assert load(spec).familiarity_weight(train[:3]).min() == 1.0  # a training cover is as familiar as can be

    # Trained again, by a re-run and by next week's refresh on an unchanged catalogue: the stored features are
    # reused, and the same data gives the same head, so the same version (earlier results stay valid).
    embedded_by = {r["image_sha1"]: r["run_key"] for r in delta.read(COVER_EMBEDDINGS).to_pylist()}
    assert tag_head.train_tag_head("20261121T000000Z", spark=spark)["model_version"] == report["model_version"]
    assert delta.read(TAG_MODELS).num_rows == 1
    next_week = tag_head.train_tag_head("20261128T000000Z", spark=spark)
    assert (next_week["model_version"], next_week["catalogue_version"]) == (report["model_version"], CRAWL)
    assert {r["image_sha1"]: r["run_key"] for r in delta.read(COVER_EMBEDDINGS).to_pylist()} == embedded_by
    assert delta.read(TAG_MODELS).num_rows == 2 and current_spec().head_version == report["model_version"]


def test_average_precision_by_hand():
    scores = np.array([0.9, 0.8, 0.7, 0.6])
    assert tag_head.average_precision(scores, np.array([1, 0, 1, 0])) == pytest.approx((1 + 2 / 3) / 2)
    assert tag_head.average_precision(scores, np.array([0, 0, 0, 1])) == pytest.approx(0.25)
    assert tag_head.average_precision(scores, np.array([0, 0, 0, 0])) is None


def test_no_catalogue_no_training(home):
    with pytest.raises(tag_head.NoTrainingData, match="build the catalogue"):
        tag_head.train_tag_head("20261121T000000Z")


def test_the_label_source_is_a_mapping_a_tag_map_can_replace():
    taxonomy_map = labels.from_taxonomy()
    assert taxonomy_map.labels_for(["비오는날", " 밤 ", "광고"]) == {"비오는날", "밤"}
    assert taxonomy_map.group_of["가을"] == "weather" and taxonomy_map.group_of["새벽"] == "situation"
    merged = labels.from_tag_map([("흐린날", "우중충한날", "weather"), ("비오는날", "우중충한날", "weather"),
                                  ("카페", "여유", "situation"), ("광고", "광고", "other")], "gold.tag_map@v3")
    assert merged.labels == ("우중충한날", "여유") and merged.labels_for(["흐린날", "카페"]) == {"우중충한날", "여유"}
    assert labels.prompt("우중충한날") == "a photo of gloomy day"
    assert all(labels.english(tag) != tag for tag in taxonomy_map.labels)  # the glossary knows every one


def test_the_catalogues_tag_map_is_a_label_source(home):
    from schemas import gold

    defaults = {"string": "", "bool": False, "int64": 0, "float64": 0.0, "list<string>": []}
    base = {c.name: None if c.nullable else defaults[c.type] for c in gold.TAG_MAP.columns}
    rows = [{**base, "tag": tag, "label": label, "category": category}
            for tag, label, category in (("흐린날", "비오는날", "weather"), ("비오는날", "비오는날", "weather"),
                                         ("설렘", "사랑", "emotion"), ("광고", "광고", "other"))]
    delta.overwrite(gold.TAG_MAP, pa.Table.from_pylist(rows, schema=gold.TAG_MAP.arrow_schema()))
    merged = labels.from_gold_tag_map()
    assert merged.source == "gold.tag_map@v0" and merged.labels == ("비오는날", "사랑")
    assert merged.labels_for(["흐린날", "설렘", "광고"]) == {"비오는날", "사랑"}
