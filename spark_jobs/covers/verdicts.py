"""From what each cover shows to each playlist's verdict: tags, brands and duplicates.

Input: the playlists' latest state (tags, title, curator, cover hash and crawl status) and one
image analysis per cover hash (``classify``). Output: one row per playlist with its verdict:

- no usable cover (missing, not an image, download failed, undecodable): ``unreadable``;
- lettering on a playlist whose tags name a brand: an ``ad`` cover even when no logo was seen;
- tags marking an ad or a non-mood collection: ``drop`` (the songs stay in the catalogue; only the
  cover is kept out of image training);
- duplicates: playlists sharing a cover (same bytes) or a near-identical one form a group; the
  oldest playlist (it had the cover first) represents it and keeps its verdict, the others become
  ``duplicate`` / ``drop``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence

import numpy as np

from spark_jobs.covers import ads, duplicates
from spark_jobs.covers.classify import ANALYSIS_COLUMNS, verdict_of
from spark_jobs.covers.rules import Rules

TRAINABLE = ("keep", "crop")


def _near_pairs(analyses: dict[str, dict], rules: Rules,
                thumbnail: Callable[[str], np.ndarray | None]) -> list[tuple[str, str, int, float]]:
    """Confirmed near-duplicate cover pairs ``(sha1_a, sha1_b, phash distance, residual)`` among usable covers."""
    usable = sorted(sha1 for sha1, a in analyses.items()
                    if a.get("phash") and verdict_of(a["image_kind"]) in TRAINABLE)
    candidates = duplicates.hamming_pairs([analyses[s]["phash"] for s in usable], rules.near_duplicate_distance)
    thumbs: dict[str, np.ndarray | None] = {}

    def thumb(sha1: str) -> np.ndarray | None:
        if sha1 not in thumbs:
            thumbs[sha1] = thumbnail(sha1)
        return thumbs[sha1]

    confirmed = []
    for i, j, distance in candidates:
        a, b = thumb(usable[i]), thumb(usable[j])
        if a is None or b is None:
            continue
        if np.abs(duplicates.chroma(a) - duplicates.chroma(b)).max() > rules.near_duplicate_max_chroma:
            continue
        residual = duplicates.aligned_residual(a, b)
        if residual <= rules.near_duplicate_max_residual:
            confirmed.append((usable[i], usable[j], distance, residual))
    return confirmed


def _hamming(a: str | None, b: str | None) -> int | None:
    if not a or not b:
        return None
    return bin(int(a, 16) ^ int(b, 16)).count("1")


def decide(playlists: Sequence[dict], analyses: dict[str, dict], rules: Rules, run_key: str,
           thumbnail: Callable[[str], np.ndarray | None]) -> list[dict]:
    """One row per playlist (columns of silver.cover_quality), in plm_seq order.

    ``playlists``: dicts with plm_seq, cover_sha1, cover_status, cover_error, tags, title, maker_name,
    crawl_run_key. ``analyses``: cover_sha1 -> analysis row (plus ``analysed_by``).
    ``thumbnail(sha1)``: the cover's thumbnail for the near-duplicate check (None if unreadable)."""
    rows = []
    for p in sorted(playlists, key=lambda p: p["plm_seq"]):
        row = {name: None for name, _ in ANALYSIS_COLUMNS}
        flags = ads.tag_flags(p.get("tags"), p.get("title"), p.get("maker_name"))
        row.update(plm_seq=p["plm_seq"], cover_sha1=p.get("cover_sha1"), cover_status=p["cover_status"],
                   tag_flags=flags, rules_version=rules.version, crawl_run_key=p["crawl_run_key"], run_key=run_key,
                   duplicate_group=None, duplicate_of=None, duplicate_distance=None, analysed_by=None)
        analysis = analyses.get(p.get("cover_sha1") or "") if p["cover_status"] == "ok" else None
        if analysis is None:
            why = p["cover_status"] if p["cover_status"] != "ok" else "no analysis"
            detail = f" ({p['cover_error']})" if p.get("cover_error") else ""
            row.update(verdict="unreadable", cover_kind=None, reason=f"no cover image: {why}{detail}")
            rows.append(row)
            continue
        row.update({k: analysis.get(k) for k, _ in ANALYSIS_COLUMNS}, analysed_by=analysis.get("analysed_by"))
        kind = analysis["image_kind"]
        verdict = verdict_of(kind)
        reason = analysis["image_reason"]
        brands = [f.split(":", 1)[1] for f in flags if f.startswith("brand:")]
        if kind == "text" and brands:
            kind, reason = "ad", f"brand cover: lettering on a playlist whose tags name the brand {brands[0]!r}"
        if verdict == "unreadable":
            kind = None
        elif flags and verdict in TRAINABLE:
            verdict = "drop"
            reason = (f"tags mark an ad or non-mood collection ({', '.join(flags)}): cover left out of training, "
                      f"songs kept; the image: {reason}")
        row.update(verdict=verdict, cover_kind=kind, reason=reason)
        rows.append(row)

    # Duplicates: covers grouped by content (exact) and by confirmed near pairs; playlists follow their cover.
    seen = {r["cover_sha1"] for r in rows if r["verdict"] != "unreadable"}
    covers = sorted(seen)
    index = {sha1: i for i, sha1 in enumerate(covers)}
    near = _near_pairs({s: analyses[s] for s in covers}, rules, thumbnail)
    root = duplicates.groups(len(covers), [(index[a], index[b]) for a, b, _d, _r in near])
    residual_of = {frozenset((a, b)): r for a, b, _d, r in near}
    members: dict[int, list[dict]] = defaultdict(list)
    for r in rows:
        if r["verdict"] != "unreadable":
            members[root[index[r["cover_sha1"]]]].append(r)
    for group in members.values():
        if len(group) < 2:
            continue
        rep = min(group, key=lambda r: r["plm_seq"])  # the oldest playlist had the cover first
        rep["duplicate_group"] = rep["cover_sha1"]
        for r in group:
            if r is rep:
                continue
            same_bytes = r["cover_sha1"] == rep["cover_sha1"]
            distance = 0 if same_bytes else _hamming(r["phash"], rep["phash"])
            if same_bytes:
                how = "the same bytes"
            else:
                residual = residual_of.get(frozenset((r["cover_sha1"], rep["cover_sha1"])))
                how = f"pHash {distance} bits apart" + (f", aligned residual {residual:.2f}" if residual is not None
                                                         else ", through the group")
            r.update(verdict="drop", cover_kind="duplicate", duplicate_group=rep["cover_sha1"],
                     duplicate_of=rep["plm_seq"], duplicate_distance=distance,
                     reason=f"{'exact' if same_bytes else 'near'} duplicate of playlist {rep['plm_seq']}'s cover "
                            f"({how}); the image: {r['image_reason']}")
    return rows
