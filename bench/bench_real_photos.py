"""Real photos: the blended scorer's top-1 hit rate on the test split of scoring/real_photos, against chance.

Not a speed figure: the quality users judge (issue 15). The model is the demo's, as a new user gets it:
the tag head ``make demo`` trains on the demo site's covers, blended with the zero-shot scorer. With
``SCENETUNE_BENCH_HOME`` naming a home that already holds a trained head (e.g. after ``make demo``), that
home is used; else ``scenetune demo`` builds one in a scratch folder first (~3 minutes, not timed).

``value`` = blended top-1 hit rate over the (photo, group) pairs that have an acceptable label; ``baseline`` =
the hit rate of labels drawn at random from the same groups (``scoring.photo_eval.chance``). Beside them: the
head alone and the zero-shot scorer alone, per group, the verdicts, and per recommender distinct lists /
photos, distinct songs / slots and the popularity percentile, the split's photos taken as one submission.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.runner import Measurement

DEFAULT_SCALE = "demo"


def _has_head(home: Path) -> bool:
    return any(home.glob("models/tag_head/*/familiarity.npz"))


def _measure(home: Path) -> dict:
    """Run in a child with ``SCENETUNE_HOME=home``, so the settings are that home's."""
    code = ("import json; from scoring import catalogue, models, photo_eval; spec = models.current_spec(); "
            "print(json.dumps(photo_eval.evaluate(spec, catalogue.load(cover_encoder=spec.encoder))))")
    env = {**os.environ, "SCENETUNE_HOME": str(home), "PYSPARK_PYTHON": sys.executable}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def run(scale: str) -> Measurement:
    if scale != "demo":
        raise SystemExit(f"bench real_photos: only the demo's model is measured (scale demo), got {scale!r}")
    given = os.environ.get("SCENETUNE_BENCH_HOME")
    with tempfile.TemporaryDirectory(prefix="scenetune-bench-real-") as scratch:
        home = Path(given) if given else Path(scratch) / "home"
        if not _has_head(home):
            env = {**os.environ, "SCENETUNE_HOME": str(home), "PYSPARK_PYTHON": sys.executable}
            subprocess.run([str(Path(sys.executable).with_name("scenetune")), "demo"], env=env, check=True,
                           stdout=subprocess.DEVNULL)
        report = _measure(home)
    sources = report["sources"]
    blended = sources["blend"]["all"]
    songs = report.get("recommenders") or {}
    return Measurement(
        metric=f"top-1 hit rate, real photos (test split, {report['photos']} photos, "
               f"{blended['photos']} photo-groups), blend vs chance",
        unit="hit rate", value=blended["top1"], baseline=blended["chance_top1"], scale=scale,
        notes="labels a person accepted (scoring/real_photos); never trained on; margin set on the tune split",
        extra={
            "photos": report["photos"],
            "head_top1": sources["head"]["all"]["top1"],
            "zero_shot_top1": sources["zero_shot"]["all"]["top1"],
            "blend_top3": blended["top3"], "chance_top3": blended["chance_top3"],
            "per_group": {name: {g: {k: r[k] for k in ("top1", "chance_top1", "top3", "chance_top3", "photos")}
                                 for g, r in groups.items() if g != "all"} for name, groups in sources.items()},
            "verdicts": report["verdicts"],
            "mean_head_weight": report["head_weight"],
            "distinct_lists_ratio": min((f["distinct_lists_ratio"] or 0.0 for f in songs.values()), default=None),
            "recommenders": songs,
        },
    )
