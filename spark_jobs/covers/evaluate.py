"""How right the cover verdicts are, against labelled covers (the demo site's ground truth).

The ground truth is the JSON ``python -m demo_site ground-truth --scale S --seed N --out FILE``
writes (or the same dict): per playlist ``cover_kind`` (scene, text, ad_brand, template_1/2/3,
duplicate_exact, duplicate_near), ``duplicate_of``, ``template_art_box`` and ``playlist_type``.
This module reads no demo-site code.

Scored per playlist whose cover the crawl stored (a cover the site refused to serve has nothing
to judge; those are counted apart): the kind found (``cover_kind``, ``unreadable`` when none)
against the true kind (brand covers are ``ad``, both duplicate kinds ``duplicate``): precision,
recall and F1 per kind, macro F1 over the true kinds, the confusion matrix; the crop's IoU with
the true art box; and the tag rule (ad and non-mood playlists) as precision and recall.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

KINDS = ("scene", "text", "ad", "template_1", "template_2", "template_3", "duplicate")
PREDICTED = (*KINDS, "unreadable")
_TRUE_KIND = {"ad_brand": "ad", "duplicate_exact": "duplicate", "duplicate_near": "duplicate"}
TEMPLATE_SIZE = 600  # the demo site's covers and art boxes are in 600x600 pixels


@dataclass
class KindScore:
    kind: str
    support: int  # covers truly of this kind
    predicted: int  # covers found to be of this kind
    correct: int

    @property
    def precision(self) -> float:
        return self.correct / self.predicted if self.predicted else (1.0 if not self.support else 0.0)

    @property
    def recall(self) -> float:
        return self.correct / self.support if self.support else (1.0 if not self.predicted else 0.0)

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass
class CoverEvaluation:
    scored: int  # playlists with a stored cover and a ground truth
    per_kind: list[KindScore]
    confusion: dict[tuple[str, str], int]  # (true kind, kind found) -> playlists
    crop_iou_mean: float | None
    crop_iou_min: float | None
    crops: int
    tag_precision: float
    tag_recall: float
    not_stored: int  # covers the crawl could not store (no image to judge)
    missing_truth: int  # rows with no ground truth (another site, another scale)
    errors: list[tuple[int, str, str, str]] = field(default_factory=list)  # (plm_seq, true, found, reason)

    @property
    def macro_f1(self) -> float:
        scores = [k.f1 for k in self.per_kind if k.support]
        return sum(scores) / len(scores) if scores else 0.0

    def summary(self) -> dict:
        return {
            "scored": self.scored, "macro_f1": round(self.macro_f1, 4),
            "per_kind": {k.kind: {"support": k.support, "predicted": k.predicted, "precision": round(k.precision, 4),
                                  "recall": round(k.recall, 4), "f1": round(k.f1, 4)} for k in self.per_kind},
            "crop_iou_mean": None if self.crop_iou_mean is None else round(self.crop_iou_mean, 4),
            "crop_iou_min": None if self.crop_iou_min is None else round(self.crop_iou_min, 4), "crops": self.crops,
            "tag_rule": {"precision": round(self.tag_precision, 4), "recall": round(self.tag_recall, 4)},
            "not_stored": self.not_stored, "missing_truth": self.missing_truth,
        }

    def table(self) -> str:
        lines = [f"{'kind':<12}{'support':>9}{'found':>8}{'precision':>11}{'recall':>9}{'F1':>8}"]
        for k in self.per_kind:
            lines.append(f"{k.kind:<12}{k.support:>9}{k.predicted:>8}{k.precision:>11.3f}{k.recall:>9.3f}{k.f1:>8.3f}")
        lines.append(f"macro F1 {self.macro_f1:.3f} over {self.scored} covers")
        if self.crops:
            lines.append(f"crop IoU with the true art box: mean {self.crop_iou_mean:.3f}, min {self.crop_iou_min:.3f} "
                         f"({self.crops} crops)")
        lines.append(f"tag rule (ad / non-mood playlists): precision {self.tag_precision:.3f}, "
                     f"recall {self.tag_recall:.3f}")
        if self.not_stored:
            lines.append(f"{self.not_stored} covers not scored: the crawl could not store them (not an image, 404)")
        return "\n".join(lines)


def load_truth(source: str | Path | dict) -> dict[int, dict]:
    """``{plm_seq: playlist truth}`` from a ground-truth file or dict."""
    data = source if isinstance(source, dict) else json.loads(Path(source).read_text(encoding="utf-8"))
    return {int(p["plm_seq"]): p for p in data["playlists"]}


def true_kind(kind: str) -> str:
    return _TRUE_KIND.get(kind, kind)


def _iou(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def evaluate(rows: Iterable[dict], truth: str | Path | dict) -> CoverEvaluation:
    """Score silver.cover_quality rows (dicts) against the ground truth."""
    by_seq = load_truth(truth)
    confusion: Counter = Counter()
    ious, errors = [], []
    tag_tp = tag_fp = tag_fn = 0
    not_stored = missing = scored = 0
    for row in rows:
        t = by_seq.get(int(row["plm_seq"]))
        if t is None:
            missing += 1
            continue
        flagged = bool(row.get("tag_flags"))
        collection = t.get("playlist_type") in ("ad", "non_mood")
        tag_tp += flagged and collection
        tag_fp += flagged and not collection
        tag_fn += collection and not flagged
        if row["cover_status"] != "ok":
            not_stored += 1
            continue
        scored += 1
        want, found = true_kind(t["cover_kind"]), row.get("cover_kind") or "unreadable"
        confusion[(want, found)] += 1
        if want != found:
            errors.append((int(row["plm_seq"]), want, found, row.get("reason") or ""))
        box = t.get("template_art_box")
        if box and row.get("crop_left") is not None and found == want:
            sx = (row.get("width") or TEMPLATE_SIZE) / TEMPLATE_SIZE
            sy = (row.get("height") or TEMPLATE_SIZE) / TEMPLATE_SIZE
            ious.append(_iou((row["crop_left"], row["crop_top"], row["crop_right"], row["crop_bottom"]),
                             (box[0] * sx, box[1] * sy, box[2] * sx, box[3] * sy)))
    per_kind = []
    for kind in KINDS:
        support = sum(n for (w, _f), n in confusion.items() if w == kind)
        predicted = sum(n for (_w, f), n in confusion.items() if f == kind)
        per_kind.append(KindScore(kind, support, predicted, confusion.get((kind, kind), 0)))
    return CoverEvaluation(
        scored=scored, per_kind=per_kind, confusion=dict(confusion),
        crop_iou_mean=sum(ious) / len(ious) if ious else None, crop_iou_min=min(ious) if ious else None,
        crops=len(ious),
        tag_precision=tag_tp / (tag_tp + tag_fp) if tag_tp + tag_fp else 1.0,
        tag_recall=tag_tp / (tag_tp + tag_fn) if tag_tp + tag_fn else 1.0,
        not_stored=not_stored, missing_truth=missing, errors=sorted(errors),
    )


def confusion_png(result: CoverEvaluation, path: str | Path, title: str = "cover kinds") -> Path:
    """Save the confusion matrix (rows: true kind, columns: kind found) as a PNG."""
    import matplotlib

    matplotlib.use("Agg")  # no display: files only
    import matplotlib.pyplot as plt
    import numpy as np

    rows = [k for k in KINDS if any(w == k for w, _ in result.confusion)]
    cols = [k for k in PREDICTED if any(f == k for _, f in result.confusion) or k in rows]
    matrix = np.array([[result.confusion.get((r, c), 0) for c in cols] for r in rows])
    fig, ax = plt.subplots(figsize=(1.1 * len(cols) + 2.5, 0.7 * len(rows) + 2))
    shares = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    ax.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    for i in range(len(rows)):
        for j in range(len(cols)):
            if matrix[i, j]:
                ax.text(j, i, str(matrix[i, j]), ha="center", va="center",
                        color="white" if shares[i, j] > 0.6 else "black", fontsize=9)
    ax.set_xticks(range(len(cols)), cols, rotation=35, ha="right")
    ax.set_yticks(range(len(rows)), rows)
    ax.set_xlabel("kind found")
    ax.set_ylabel("true kind")
    ax.set_title(f"{title}: macro F1 {result.macro_f1:.3f} ({result.scored} covers)")
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
