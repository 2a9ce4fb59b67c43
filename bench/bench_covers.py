"""Cover cleaning: the staged pipeline vs the naive one (Tesseract and SSIM on every whole cover), same covers, same run.

Both judge the same demo-site covers (written to a throwaway folder first, untimed) with the same
machinery: ``spark_jobs.covers.classify.analyse`` in batches of 40 on a pool of one process per
core (as Spark's tasks run them), then the same playlist verdicts (tags, duplicates). Staged:
templates at 150 px, the cheap text-line detector, Tesseract only on flagged covers (cropped,
scaled, one Tesseract process per batch). Naive: SSIM at the templates' full 600 px and Tesseract
on every whole cover (also one process per batch, so the ratio measures the staging, not process
start-up), the same decision rules. Accuracy: macro F1 of the kinds found against the site's
ground truth (``spark_jobs.covers.evaluate``). At full scale the first FULL_SAMPLE playlists are
judged by both (duplicates always copy older playlists, so every original is in the sample); the
naive pipeline would need about an hour for all 13,800.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from bench.runner import Measurement
from core import settings
from demo_site.catalogue import generate
from demo_site.covers import CoverStore
from demo_site.faults import FaultPlan
from spark_jobs.covers import classify, evaluate, rules, verdicts
from spark_jobs.covers.duplicates import thumbnail

DEFAULT_SCALE = "full"
SEED = 7
BATCH = 40
FULL_SAMPLE = 2000
RUN_KEY = "20000101T000000Z"


def _analyse(args: tuple) -> list[dict]:
    items, staged, home, cleaned = args
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    import cv2

    cv2.setNumThreads(1)
    return classify.analyse([(sha1, Path(path), None) for sha1, path in items], rules.Rules(), Path(home),
                            Path(cleaned), staged=staged)


def judge(playlists: list[dict], files: dict[str, str], home: Path, staged: bool, workers: int) -> tuple[list[dict], float]:
    """(cover_quality rows, seconds) for one pipeline over the given covers."""
    cleaned = home / ("cleaned-staged" if staged else "cleaned-naive")
    items = sorted(files.items())
    batches = [(items[i:i + BATCH], staged, str(home), str(cleaned)) for i in range(0, len(items), BATCH)]
    started = time.perf_counter()
    # spawn, not fork: a forked child of a process whose OpenCV / OpenMP threads are running can deadlock
    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        analyses = {row["cover_sha1"]: {**row, "analysed_by": RUN_KEY} for rows in pool.map(_analyse, batches)
                    for row in rows}
    decided = verdicts.decide(playlists, analyses, rules.Rules(), RUN_KEY,
                              lambda sha1: thumbnail(Path(files[sha1])) if sha1 in files else None)
    return decided, time.perf_counter() - started


def covers_of(scale: str, folder: Path) -> tuple[list[dict], dict[str, str], dict]:
    """The site's playlists as the job sees them, their cover files (written untimed) and the ground truth."""
    catalogue = generate(SEED, scale)
    s = settings.load()
    store = CoverStore(SEED, scale, cache_dir=s.demo_site_cache_dir)
    chosen = sorted(catalogue.playlists)[: FULL_SAMPLE if scale == "full" else None]
    playlists, files = [], {}
    for seq in chosen:
        pl = catalogue.playlists[seq]
        data = store.cover(pl, catalogue.get)
        sha1 = hashlib.sha1(data).hexdigest()
        path = folder / f"{sha1}.jpg"
        if not path.exists():
            path.write_bytes(data)
        files[sha1] = str(path)
        playlists.append({"plm_seq": seq, "cover_sha1": sha1, "cover_status": "ok", "cover_error": None,
                          "tags": list(pl.tags), "title": pl.title, "maker_name": pl.maker_name,
                          "crawl_run_key": RUN_KEY})
    return playlists, files, catalogue.ground_truth(FaultPlan.none())


def run(scale: str) -> Measurement:
    if scale not in ("tiny", "demo", "full"):
        raise SystemExit(f"bench covers: scale must be tiny, demo or full, got {scale!r}")
    workers = os.cpu_count() or 2
    with tempfile.TemporaryDirectory(prefix="scenetune-bench-covers-") as tmp:
        home = Path(tmp)
        (home / "covers").mkdir()
        playlists, files, truth = covers_of(scale, home / "covers")
        staged_rows, staged_s = judge(playlists, files, home, True, workers)
        naive_rows, naive_s = judge(playlists, files, home, False, workers)
    staged_eval, naive_eval = evaluate.evaluate(staged_rows, truth), evaluate.evaluate(naive_rows, truth)
    n = len(playlists)
    ocr = sum(1 for r in staged_rows if r.get("stages") and "ocr" in r["stages"])
    notes = (
        f"{n} covers ({len(files)} distinct) of the {scale}-scale demo site"
        + (f" (its first {FULL_SAMPLE} playlists)" if scale == "full" else "")
        + f", {workers} worker processes, batches of {BATCH}. Staged: {staged_s:.1f} s, Tesseract on {ocr} covers "
        f"({ocr / n:.0%}), macro F1 {staged_eval.macro_f1:.3f}, crop IoU {staged_eval.crop_iou_mean or 0:.3f}; "
        f"naive (SSIM at 600 px + Tesseract on every whole cover): {naive_s:.1f} s, macro F1 {naive_eval.macro_f1:.3f}. "
        "Both include the playlist verdicts (tags, duplicate grouping). Per kind (staged): "
        + ", ".join(f"{k.kind} P{k.precision:.2f}/R{k.recall:.2f}" for k in staged_eval.per_kind)
    )
    return Measurement(
        metric=f"covers judged per second, {scale}-scale demo site",
        unit="covers/s",
        value=n / staged_s,
        baseline=n / naive_s,
        scale=scale,
        notes=notes,
        extra={"f1_staged": round(staged_eval.macro_f1, 4), "f1_naive": round(naive_eval.macro_f1, 4)},
    )
