"""Sentence embeddings with the real bundled model, in real Spark, cached in a real Delta table."""

from __future__ import annotations

import json

import numpy as np
import pytest

from schemas import ops
from spark_jobs import embeddings
from warehouse import delta

pytestmark = pytest.mark.slow


def test_the_bundled_model_gives_unit_vectors_that_follow_meaning():
    vectors, errors = embeddings.encode(["rainy day, sadness, night", "cloudy day, sadness, evening",
                                         "club, exciting, summer, house party"])
    assert errors == [None, None, None]
    assert vectors.dtype == np.float32 and vectors.shape == (3, embeddings.DIMENSIONS)
    assert np.linalg.norm(vectors, axis=1) == pytest.approx([1.0, 1.0, 1.0], abs=1e-5)
    similar, unlike = float(vectors[0] @ vectors[1]), float(vectors[0] @ vectors[2])
    assert similar > unlike + 0.2, (similar, unlike)
    assert embeddings.model_id().startswith("all-MiniLM-L6-v2@") and embeddings.model_id().endswith("/fp32")


def _vectors(df) -> dict[str, list[float]]:
    return {r["sentence_en"]: r["vector"] for r in df.collect()}


def test_each_sentence_is_encoded_once_and_the_cache_only_ever_grows(home, spark):
    first_run, later_run = "20261115T000000Z", "20261122T000000Z"
    sentences = spark.createDataFrame([("night, rainy day",), ("drive, summer",), ("night, rainy day",)],
                                      "sentence_en string")
    vectors, stats = embeddings.sentence_vectors(sentences, first_run)
    first = _vectors(vectors)
    assert set(first) == {"night, rainy day", "drive, summer"} and stats["embedded"] == 2
    assert delta.version(ops.EMBEDDING_CACHE) == 0
    cached = delta.read(ops.EMBEDDING_CACHE).to_pylist()
    assert {(r["sentence"], r["model"], r["embedded_by"]) for r in cached} == {
        ("night, rainy day", embeddings.model_id(), first_run), ("drive, summer", embeddings.model_id(), first_run)}
    # Spark's workers and this process run the same model: the same vectors.
    local, _ = embeddings.encode(["night, rainy day"])
    assert first["night, rainy day"] == pytest.approx(local[0].tolist(), abs=1e-5)

    # The same sentences again: nothing encoded, nothing written.
    vectors, stats = embeddings.sentence_vectors(sentences, later_run)
    assert stats["embedded"] == 0 and _vectors(vectors) == first
    assert delta.version(ops.EMBEDDING_CACHE) == 0

    # One new sentence: only it is encoded, and added by a merge that removes no file.
    more = sentences.union(spark.createDataFrame([("walk, spring",)], "sentence_en string"))
    vectors, stats = embeddings.sentence_vectors(more, later_run)
    assert stats["embedded"] == 1 and set(_vectors(vectors)) == {*first, "walk, spring"}
    assert delta.version(ops.EMBEDDING_CACHE) == 1 and delta.count_rows(ops.EMBEDDING_CACHE) == 3
    log = (ops.EMBEDDING_CACHE.path / "_delta_log" / "00000000000000000001.json").read_text().splitlines()
    actions = {next(iter(json.loads(line))) for line in log}
    assert "add" in actions and "remove" not in actions
