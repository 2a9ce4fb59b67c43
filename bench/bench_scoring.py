"""Bulk image scoring: images per second from the queue to stored results, against a per-image loop.

Ours: ``scoring.uploads.submit`` queues N distinct photos (crops and tints of scikit-image's real
photos), then ``scoring.score_uploads.score`` claims them, scores them in Spark (``mapInPandas``, the
model built once per worker), stores features, tags and both recommenders' songs, and finishes the
queue rows. Baseline, in the same run and home layout: the source projects' way - the model loaded
once, then for each photo: decode, predict, recommend, write its tags and songs (one Delta merge
each) - timed over the first ``LOOP_SAMPLE`` photos (its rate does not change with N). The model is a
randomly initialised head over the real EfficientNet-Lite0 (the cost is the encoder's, not the
head's); the catalogue is the small one of the scoring tests. The Spark session is started before
the clock (a nightly cluster has one); its start-up is reported as ``spark_start_s``.
"""

from __future__ import annotations

import os
import resource
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.runner import Measurement

SCALES = {"tiny": 60, "demo": 1000, "full": 1000}
DEFAULT_SCALE = "demo"
LOOP_SAMPLE = 150
PHOTOS = ("coffee", "chelsea", "rocket", "astronaut", "camera", "coins", "immunohistochemistry", "cat")


def make_photos(folder: Path, n: int) -> None:
    from PIL import Image, ImageEnhance

    from tests.unit.scoring_files import encode, photo

    folder.mkdir(parents=True)
    rng = np.random.default_rng(7)
    bases = [photo(name, size=480) for name in PHOTOS]
    for i in range(n):
        base = bases[i % len(bases)]
        w, h = base.size
        left, top = int(rng.integers(0, w // 4)), int(rng.integers(0, h // 4))
        crop = base.crop((left, top, left + w * 3 // 4, top + h * 3 // 4))
        crop = ImageEnhance.Color(crop).enhance(float(rng.uniform(0.5, 1.5)))
        crop = crop.resize((320, 240), Image.Resampling.BILINEAR)
        crop.putpixel((0, 0), (i % 256, i // 256 % 256, 7))  # every photo distinct: none is a duplicate
        (folder / f"photo_{i:04d}.jpg").write_bytes(encode(crop, "JPEG", quality=85))


def per_image_loop(rows: list[dict], run_key: str) -> float:
    """Seconds for the rows, one at a time: decode, predict, recommend, write tags and songs."""
    from core import settings
    from schemas.scoring import IMAGE_TAGS, RECOMMENDATIONS
    from scoring import catalogue as catalogues
    from scoring import images, models
    from scoring.score_uploads import image_tag_rows, recommendation_rows
    from warehouse import delta

    s = settings.load()
    spec = models.current_spec()
    model = models.load(spec)
    catalogue = catalogues.load(cover_encoder=spec.encoder)
    started = time.perf_counter()
    for row in rows:
        decoded = images.load(s.home / row["stored_path"], s.upload_max_pixels)
        scores, features = model.predict_with_features(model.prepare(decoded.image)[None])
        result = {"input_key": row["input_key"], "ok": True, "scores": scores[0].tolist()}
        delta.merge(IMAGE_TAGS, image_tag_rows(spec, [result], {row["input_key"]: row["sha256"]}, run_key))
        target = {"input_key": row["input_key"], "sha256": row["sha256"], "genres": list(row["genres"] or ())}
        delta.merge(RECOMMENDATIONS, recommendation_rows(spec, run_key, [target], {row["input_key"]: scores[0]},
                                                         {row["sha256"]: features[0]}, catalogue))
    return time.perf_counter() - started


def run(scale: str) -> Measurement:
    if scale not in SCALES:
        raise SystemExit(f"bench scoring: scale must be one of {', '.join(SCALES)}, got {scale!r}")
    n = SCALES[scale]
    with tempfile.TemporaryDirectory(prefix="scenetune-bench-scoring-") as tmp:
        os.environ["SCENETUNE_HOME"] = str(Path(tmp) / "home")
        os.environ.setdefault("SPARK_MASTER", "local[2]")
        from core.runs import RunPartition
        from scoring import upload_queue
        from scoring.score_uploads import score
        from scoring.uploads import submit
        from spark_jobs.session import get_spark
        from tests.integration.scoring_helpers import register_head, write_catalogue

        register_head("20261121T000000Z")
        write_catalogue()
        make_photos(Path(tmp) / "photos", n)
        made = submit(Path(tmp) / "photos", moment=RunPartition.parse("20261122T010000Z"), genres=["발라드"])
        assert made.counts["queued"] == n, made.counts
        queued = sorted(upload_queue.read([("submission_id", "=", made.submission_id)]), key=lambda r: r["file_name"])

        spark_started = time.perf_counter()
        spark = get_spark("scenetune-bench-scoring")
        spark_start_s = time.perf_counter() - spark_started
        started = time.perf_counter()
        books = score("20261122T020000Z", spark=spark)
        ours_s = time.perf_counter() - started
        assert books["scored"] == n and books["failed"] == 0, books

        sample = queued[:min(LOOP_SAMPLE, n)]
        loop_s = per_image_loop(sample, "20261122T030000Z")
        load_avg = os.getloadavg()[0]  # other work on the machine: the encoder is CPU-bound, both sides share it
        peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    value, baseline = n / ours_s, len(sample) / loop_s
    return Measurement(
        metric=f"images scored per second, queue to stored tags and songs, {n} photos",
        unit="images/s",
        value=value,
        baseline=baseline,
        scale=scale,
        notes=(f"{n} distinct 320x240 JPEGs queued by `submit`, scored by `score` in {ours_s:.1f} s on "
               f"{os.environ['SPARK_MASTER']} ({books['recommendations']} recommendation rows); per-image loop "
               f"(decode, predict, recommend, two Delta merges per photo) over {len(sample)} of them: {loop_s:.1f} s. "
               f"Spark session start (before the clock): {spark_start_s:.1f} s. Load average at the end: "
               f"{load_avg:.1f} on {os.cpu_count()} cores (both use the same EfficientNet-Lite0 on ONNX Runtime, CPU-bound)."),
        extra={"peak_rss_mb": round(peak_rss_mb, 1),  # the driver's; Spark's Python workers are the JVM's children
               "images": n, "loop_images": len(sample), "spark_start_s": round(spark_start_s, 2),
               "load_avg_1m": round(load_avg, 2)},
    )
