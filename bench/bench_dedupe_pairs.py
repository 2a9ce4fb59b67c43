"""Dedupe pairs: recall of the build's song identity on hand-labelled same/different song pairs, vs the plain key.

Not a speed figure: whether real spellings of one song get one song key (the issue's pairs measured
song_key at precision 1.00, recall 0.65). The pairs are ``tests/fixtures/dedupe_pairs/pairs.csv`` (labelling
rules in LABELLING.md beside it): real Genie/Melon spellings, positives by kind of difference and as many hard
negatives. Each pair is scored alone, as a catalogue of its two rows (quality.dedupe_pairs).

``value`` = recall of ``spark_jobs.song_identity.identify_rows`` (aliases, collaborations, glosses, song ids
and album-backed merges learned from the two rows); precision beside it, since recall alone rewards merging
everything (goals: precision >= 0.99, recall >= 0.90, every class reported). ``baseline`` = the recall of
the plain key ``spark_jobs.normalise.song_key(artist, title)`` per row (no aliases, no ids, no evidence), same
pairs, same run; ``first_build`` = the key of the first build (bench/baseline_build.py), for the record.
"""

from __future__ import annotations

from bench import baseline_build
from bench.runner import Measurement
from quality import dedupe_pairs
from spark_jobs.normalise import song_key
from spark_jobs.song_identity import identify_rows

DEFAULT_SCALE = "fixture"


def plain_keys(rows: list[dict]) -> list[str]:
    """The naive baseline: each row's own normalised `artist|title`, nothing learned from the other."""
    return [song_key(r["artist_name"], r["song_title"]) for r in rows]


def first_build_keys(rows: list[dict]) -> list[str]:
    return [baseline_build.song_key(r["artist_name"], r["song_title"]) for r in rows]


def run(scale: str) -> Measurement:
    if scale != "fixture":
        raise SystemExit(f"bench dedupe_pairs: the pair set is one fixture (scale fixture), got {scale!r}")
    pairs = dedupe_pairs.load()
    ours = dedupe_pairs.evaluate(pairs, identify_rows)
    plain = dedupe_pairs.evaluate(pairs, plain_keys)
    first = dedupe_pairs.evaluate(pairs, first_build_keys)
    missed = [e["pair_id"] for e in ours["errors"] if e["same"]]
    merged = [e["pair_id"] for e in ours["errors"] if not e["same"]]
    return Measurement(
        metric=f"recall on {ours['pairs']} hand-labelled song pairs ({ours['positives']} same, "
               f"{ours['negatives']} hard negatives), each scored alone; identify_rows vs plain song_key",
        unit="recall", value=ours["recall"], baseline=plain["recall"], scale=scale,
        notes=(f"precision {ours['precision']} (plain key {plain['precision']}, first build {first['precision']}), "
               f"recall {ours['recall']} (plain key {plain['recall']}, first build {first['recall']}); goals precision "
               f">= 0.99, recall >= 0.90. Missed: {', '.join(missed) or 'none'}; wrongly merged: "
               f"{', '.join(merged) or 'none'}. tests/fixtures/dedupe_pairs (LABELLING.md)"),
        extra={
            "precision": ours["precision"],
            "recall": ours["recall"],
            "f1": ours["f1"],
            "pairs": ours["pairs"],
            "positives": ours["positives"],
            "negatives": ours["negatives"],
            "per_class": ours["per_class"],
            "errors": ours["errors"],
            "baseline_precision": plain["precision"],
            "baseline_per_class": plain["per_class"],
            "first_build": {"precision": first["precision"], "recall": first["recall"]},
        },
    )
