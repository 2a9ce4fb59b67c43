"""Song sentence embeddings at full scale: our stage vs the MPIC way, on the same songs.

The songs are gold.songs of the build bench's home (full-scale demo crawl, ``bench.bench_build``; built
here with the current code if that home has no such build yet).

- ours: ``spark_jobs.build_catalogue.embedding_tables`` on those songs, in a fresh local Spark session,
  from an empty ``ops.embedding_cache``: each distinct English sentence encoded once (iterator pandas
  UDF, one model per Python worker, one torch thread per core), cached, joined back to every song.
  Timed from the songs DataFrame to both tables materialised (Spark session start excluded, worker
  start-up and model loads included).
- baseline, the MPIC way: in one process, the model loaded once (torch on every core), then each
  song's Korean sentence (gold.songs.sentence_ko) encoded on its own, row by row. Per-row encoding
  has no batching and no reuse across rows, so its time is linear in the rows: it is measured on
  ``NAIVE_SAMPLE`` songs drawn at random (seed 7) and scaled to every song with a sentence; the notes
  give the sample's own figures.

Also measured on ``PRECISION_SAMPLE`` distinct English sentences: int8 (dynamic quantisation of the
Linear layers) and bf16 against fp32, cosine to the fp32 vector and sentences per second, and the
tokens of an English vs a Korean sentence. Writes embeddings.json.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import time

from bench.bench_build import SEED, cached_home, ensure_bronze, run_child
from bench.runner import Measurement

DEFAULT_SCALE = "full"
BUILD_RUN = "20000103T000000Z"
EMBED_RUN = "20000105T000000Z"
NAIVE_SAMPLE = 2000
PRECISION_SAMPLE = 1000


def _cache_path():
    from schemas import ops

    return ops.EMBEDDING_CACHE.path


# --- the children ---------------------------------------------------------------------------------
def _songs_version() -> int:
    from schemas import gold
    from warehouse import builds

    return builds.of_run(BUILD_RUN)[gold.SONGS.qualified_name]["delta_version"]


def _ours(run_key: str) -> dict:
    from pyspark.sql import functions as F

    from schemas import gold
    from spark_jobs.build_catalogue import embedding_tables
    from spark_jobs.io import read_delta
    from spark_jobs.session import get_spark

    shutil.rmtree(_cache_path(), ignore_errors=True)  # from an empty cache
    spark = get_spark("scenetune-bench-embeddings")
    try:
        songs = read_delta(spark, gold.SONGS, _songs_version()).localCheckpoint()  # as the build hands it over
        started = time.perf_counter()
        frames, stats = embedding_tables(songs, run_key)
        with_vector = frames[gold.SONG_EMBEDDINGS].where(F.col("has_vector")).count()
        seconds = time.perf_counter() - started
        return {"seconds": seconds, "songs": songs.count(), "songs_with_vector": with_vector,
                "sentences": frames[gold.SENTENCE_EMBEDDINGS].count(), **stats}
    finally:
        spark.stop()


def _naive(run_key: str) -> dict:
    import numpy as np

    from schemas import gold
    from spark_jobs import embeddings
    from warehouse import delta

    songs = delta.read(gold.SONGS, version=_songs_version(), columns=("sentence_ko", "sentence_en")).to_pylist()
    korean = [s["sentence_ko"] for s in songs if s["sentence_ko"]]
    sample = random.Random(SEED).sample(korean, min(NAIVE_SAMPLE, len(korean)))
    started = time.perf_counter()
    model = embeddings.load_torch_model(threads=os.cpu_count() or 1)  # a plain script: torch on every core
    loaded = time.perf_counter()
    for sentence in sample:  # the MPIC way: one row, one call
        vector = model.encode(sentence, convert_to_numpy=True, show_progress_bar=False)
        vector / np.linalg.norm(vector)
    per_row = (time.perf_counter() - loaded) / len(sample)

    english = sorted({s["sentence_en"] for s in songs if s["sentence_en"]})
    distinct = random.Random(SEED).sample(english, min(PRECISION_SAMPLE, len(english)))
    tokens_ko = sum(len(model.tokenizer(s)["input_ids"]) for s in sample[:500]) / min(500, len(sample))
    tokens_en = sum(len(model.tokenizer(s)["input_ids"]) for s in distinct[:500]) / min(500, len(distinct))
    return {"load_s": loaded - started, "per_row_s": per_row, "sample": len(sample), "rows": len(korean),
            "seconds": (loaded - started) + per_row * len(korean), "tokens_ko": tokens_ko, "tokens_en": tokens_en,
            **_precision(model, distinct)}


def _precision(model, sentences: list[str]) -> dict:
    """int8 and bf16 against fp32 on the same sentences (cosine of unit vectors, sentences per second)."""
    import copy
    import warnings

    import numpy as np
    import torch

    def timed(m, cast=None):
        m.encode(sentences[:32], show_progress_bar=False)  # warm up
        started = time.perf_counter()
        out = m.encode(sentences, batch_size=64, convert_to_tensor=True, show_progress_bar=False)
        rate = len(sentences) / (time.perf_counter() - started)
        out = out.float().numpy()
        return out / np.linalg.norm(out, axis=1, keepdims=True), rate

    fp32, fp32_rate = timed(model)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch says eager quantisation moves to torchao
        int8_model = torch.ao.quantization.quantize_dynamic(copy.deepcopy(model), {torch.nn.Linear}, dtype=torch.qint8)
    int8, int8_rate = timed(int8_model)
    bf16, bf16_rate = timed(copy.deepcopy(model).to(torch.bfloat16))
    out = {"precision_sentences": len(sentences), "fp32_sentences_per_s": round(fp32_rate, 1)}
    for name, vectors, rate in (("int8", int8, int8_rate), ("bf16", bf16, bf16_rate)):
        cosine = (fp32 * vectors).sum(axis=1)
        out.update({f"{name}_cosine_min": round(float(cosine.min()), 4), f"{name}_cosine_mean": round(float(cosine.mean()), 4),
                    f"{name}_sentences_per_s": round(rate, 1)})
    return out


def _build(run_key: str) -> dict:
    from spark_jobs.build_catalogue import build

    return {"versions": build(run_key)}  # reuses the build bench's build when the code is the same


# --- the parent -----------------------------------------------------------------------------------
def run(scale: str) -> Measurement:
    home = cached_home(scale)
    home.mkdir(parents=True, exist_ok=True)
    ensure_bronze(scale, home)
    run_child("build", home, BUILD_RUN, module="bench.bench_embeddings")
    ours = run_child("ours", home, EMBED_RUN, module="bench.bench_embeddings")
    naive = run_child("naive", home, EMBED_RUN, module="bench.bench_embeddings")
    rate = ours["embedded"] / ours["encode_s"] if ours["encode_s"] else 0.0
    extra = {
        "songs": ours["songs"], "songs_with_vector": ours["songs_with_vector"], "distinct_sentences": ours["sentences"],
        "encoded": ours["embedded"], "failed": ours["failed"], "encode_s": ours["encode_s"],
        "peak_rss_mb": ours["peak_rss_mb"], "baseline_peak_rss_mb": naive["peak_rss_mb"],
        "baseline_sample_rows": naive["sample"], "baseline_per_row_ms": round(1000 * naive["per_row_s"], 2),
        "tokens_per_sentence_en": round(naive["tokens_en"], 1), "tokens_per_sentence_ko": round(naive["tokens_ko"], 1),
        **{k: v for k, v in naive.items() if k.startswith(("int8_", "bf16_", "fp32_", "precision_"))},
    }
    notes = (
        f"Same songs: gold.songs of the full-scale build bench ({ours['songs']:,} songs, {naive['rows']:,} with a "
        f"sentence). Ours: embedding_tables in local Spark from an empty cache: {ours['sentences']:,} distinct English "
        f"sentences encoded once ({rate:,.0f} sentences/s over the workers, {ours['encode_s']:.1f} s of "
        f"{ours['seconds']:.1f} s), cache merge and both tables included; {ours['failed']} failed. Baseline (MPIC): "
        f"model loaded once ({naive['load_s']:.1f} s), each song's Korean sentence encoded on its own: "
        f"{1000 * naive['per_row_s']:.1f} ms a row measured on {naive['sample']:,} songs drawn at random (seed "
        f"{SEED}), x {naive['rows']:,} rows = {naive['seconds']:,.0f} s. A Korean sentence is "
        f"{naive['tokens_ko']:.1f} tokens vs {naive['tokens_en']:.1f} in English. Precision, on "
        f"{naive['precision_sentences']:,} distinct sentences vs fp32 ({naive['fp32_sentences_per_s']:.0f}/s): int8 "
        f"dynamic cosine min {naive['int8_cosine_min']} / mean {naive['int8_cosine_mean']} "
        f"({naive['int8_sentences_per_s']:.0f}/s), bf16 min {naive['bf16_cosine_min']} "
        f"({naive['bf16_sentences_per_s']:.0f}/s): fp32 kept (int8 misses cosine 0.99; bf16 is not faster here). "
        f"Ratio = naive time / ours (goal >= 20)."
    )
    return Measurement(
        metric=f"sentence embeddings of every song, {scale}-scale catalogue (ours vs per-row Korean, MPIC)",
        unit="s", value=ours["seconds"], baseline=naive["seconds"], scale=scale, higher_is_better=False,
        notes=notes, extra=extra,
    )


def _main() -> None:
    parser = argparse.ArgumentParser(description="one child of the embeddings bench, in its own process")
    parser.add_argument("--child", choices=("build", "ours", "naive"), required=True)
    parser.add_argument("--run-key", required=True)
    args = parser.parse_args()
    import logging

    logging.basicConfig(level=logging.WARNING)
    answer = {"build": _build, "ours": _ours, "naive": _naive}[args.child](args.run_key)
    print(json.dumps(answer, default=str), flush=True)
    sys.stderr.flush()
    # delta-rs's runtime can abort the interpreter at exit ("terminate called without an active exception")
    # after everything is written: leave without the teardown so the answer's exit status stays 0.
    os._exit(0)


if __name__ == "__main__":
    _main()
