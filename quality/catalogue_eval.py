"""How well the catalogue's song identity matches a ground truth: pair precision and recall.

Two crawled rows are a *pair* when they are the same song. Against a ground
truth that gives each row's true song (the demo site's ``canonical_song_key``
per ``(plm_seq, position)``), precision is the share of the pairs the build
merged that are true pairs, recall the share of true pairs it merged. Counted
two ways:

- over **rows**: every song row of every playlist (dominated by the few songs
  in hundreds of playlists);
- over **spellings**: each distinct (artist, title) as shown counts once, with
  the song most of its rows truly are; this is where the hard cases
  (aliases, re-releases, rare variants) weigh;
- **per class** (``per_class``): for each variant class of the ground truth's
  rows (``spacing``, ``re_release``, ``gloss``, ``collaboration``, ``neg_live``
  ...), pair precision and recall over the spelling pairs that involve at least
  one spelling of that class (a spelling's classes are those of its rows; it
  can have several). For the hard-negative classes (songs the ground truth's
  ``negatives`` map twins to a popular song) also ``kept_apart``: the share of
  their spellings that the build did not merge with any spelling of the twin.

Pure Python over plain rows; the ground truth comes as a dict or a JSON file
(``python -m demo_site ground-truth --scale full --seed 7 --out FILE``), never
from the demo site's code.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from core.errors import ScenetuneError


class GroundTruthError(ScenetuneError, ValueError):
    """The ground truth cannot be read or has not the expected shape (one line)."""


@dataclass(frozen=True)
class PairScores:
    precision: float
    recall: float
    items: int
    predicted_clusters: int
    true_clusters: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _pairs(n: int) -> int:
    return n * (n - 1) // 2


def contingency(pairs: Iterable[tuple[Hashable, Hashable]]) -> tuple[Counter, Counter, Counter, int]:
    """Counts of two clusterings given one ``(cluster in A, cluster in B)`` pair per item: per cell,
    per A cluster, per B cluster, and the items."""
    cells: Counter = Counter()
    left: Counter = Counter()
    right: Counter = Counter()
    n = 0
    for a, b in pairs:
        cells[(a, b)] += 1
        left[a] += 1
        right[b] += 1
        n += 1
    return cells, left, right, n


def pair_scores(labels: Iterable[tuple[Hashable, Hashable]]) -> PairScores:
    """Pair precision and recall of ``(predicted cluster, true cluster)`` labels, one per item."""
    cells, predicted, true, items = contingency(labels)
    both = sum(_pairs(n) for n in cells.values())
    pred_pairs = sum(_pairs(n) for n in predicted.values())
    true_pairs = sum(_pairs(n) for n in true.values())
    return PairScores(
        precision=both / pred_pairs if pred_pairs else 1.0,
        recall=both / true_pairs if true_pairs else 1.0,
        items=items,
        predicted_clusters=len(predicted),
        true_clusters=len(true),
    )


@dataclass(frozen=True)
class ClassScores:
    """Pair precision and recall over the spelling pairs that involve a spelling of one variant class."""

    precision: float
    recall: float
    spellings: int  # spellings of the class in the scored catalogue
    kept_apart: float | None = None  # hard negatives only: share not merged with their twin song
    with_twin: int | None = None  # ... of this many spellings whose twin song has a spelling too

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"precision": round(self.precision, 5), "recall": round(self.recall, 5),
                               "spellings": self.spellings}
        if self.kept_apart is not None:
            out.update(kept_apart=round(self.kept_apart, 5), with_twin=self.with_twin)
        return out


@dataclass(frozen=True)
class CatalogueScores:
    rows: PairScores
    spellings: PairScores
    matched_rows: int  # rows of the catalogue found in the ground truth
    unmatched_rows: int  # rows of the catalogue the ground truth does not know
    per_class: dict[str, ClassScores] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "pair_precision": round(self.rows.precision, 5),
            "pair_recall": round(self.rows.recall, 5),
            "form_pair_precision": round(self.spellings.precision, 5),
            "form_pair_recall": round(self.spellings.recall, 5),
            "rows": self.rows.as_dict(),
            "spellings": self.spellings.as_dict(),
            "matched_rows": self.matched_rows,
            "unmatched_rows": self.unmatched_rows,
            "per_class": {c: s.as_dict() for c, s in sorted(self.per_class.items())},
        }


def _truth_rows(ground_truth: Mapping[str, Any]) -> list:
    rows = ground_truth.get("rows")
    if not isinstance(rows, list):
        raise GroundTruthError("ground truth has no 'rows' list (expected the demo site's ground-truth JSON)")
    return rows


def truth_by_row(ground_truth: Mapping[str, Any]) -> dict[tuple[int, int], str]:
    """``{(plm_seq, position): canonical_song_key}`` from a ground-truth document."""
    rows = _truth_rows(ground_truth)
    return {(int(r["plm_seq"]), int(r["position"])): r["canonical_song_key"] for r in rows}


def classes_by_row(ground_truth: Mapping[str, Any]) -> dict[tuple[int, int], tuple[str, ...]]:
    """``{(plm_seq, position): variant classes}`` for the rows that have any (``variants`` of the rows)."""
    rows = _truth_rows(ground_truth)
    return {(int(r["plm_seq"]), int(r["position"])): tuple(r["variants"]) for r in rows if r.get("variants")}


def negatives_of(ground_truth: Mapping[str, Any]) -> dict[str, str]:
    """``{hard negative's canonical key: the canonical key of the song it twins}`` (empty for older truths)."""
    negatives = ground_truth.get("negatives") or {}
    if not isinstance(negatives, Mapping):
        raise GroundTruthError("ground truth 'negatives' is not a {song key: twin song key} map")
    return {str(k): str(v) for k, v in negatives.items()}


def load_ground_truth(path: Path | str) -> dict[str, Any]:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise GroundTruthError(f"cannot read ground truth {path}: {err}") from None


def score_catalogue(rows: Iterable[Mapping[str, Any]], truth: Mapping[tuple[int, int], str],
                    classes: Mapping[tuple[int, int], Sequence[str]] | None = None,
                    negatives: Mapping[str, str] | None = None) -> CatalogueScores:
    """Score catalogue rows (``plm_seq, position, song_key, artist_name, song_title``) against the truth.

    ``classes`` gives the variant classes of the ground truth's rows (``classes_by_row``) and turns on
    ``per_class``; ``negatives`` maps hard negatives' true keys to their twins' (``negatives_of``).
    """
    row_labels = []
    spelling_votes: dict[tuple[str, str], Counter] = {}
    spelling_key: dict[tuple[str, str], str] = {}
    spelling_classes: dict[tuple[str, str], set[str]] = {}
    classes = classes or {}
    unmatched = 0
    for row in rows:
        at = (int(row["plm_seq"]), int(row["position"]))
        true_key = truth.get(at)
        if true_key is None:
            unmatched += 1
            continue
        row_labels.append((row["song_key"], true_key))
        spelling = (row["artist_name"], row["song_title"])
        spelling_votes.setdefault(spelling, Counter())[true_key] += 1
        spelling_key[spelling] = row["song_key"]  # a spelling always gets one key: keys are functions of it
        if classes.get(at):
            spelling_classes.setdefault(spelling, set()).update(classes[at])
    spellings = [(spelling_key[s], votes.most_common(1)[0][0]) for s, votes in spelling_votes.items()]
    labelled = [(pred, true, spelling_classes.get(s, ())) for s, (pred, true) in zip(spelling_votes, spellings)]
    all_classes = {c for cs in classes.values() for c in cs}
    negatives = negatives or {}
    negative_classes = {c for at, cs in classes.items() if truth.get(at) in negatives for c in cs}
    per_class = class_scores(labelled, all_classes, negatives, negative_classes)
    return CatalogueScores(pair_scores(row_labels), pair_scores(spellings), len(row_labels), unmatched, per_class)


def class_scores(spellings: Sequence[tuple[Hashable, Hashable, Iterable[str]]], all_classes: Iterable[str] = (),
                 negatives: Mapping[Hashable, Hashable] | None = None,
                 negative_classes: Iterable[str] = ()) -> dict[str, ClassScores]:
    """Per class, pair precision and recall over the pairs of spellings with at least one spelling of the class.

    ``spellings`` holds one ``(predicted cluster, true cluster, classes)`` per spelling. A pair counts once
    (both its spellings may be of the class): in a group of n spellings, m of them of the class, that is
    C(n, 2) - C(n - m, 2) pairs. Summed over the cells (predicted and true cluster) that gives the true
    positives, over predicted clusters the predicted pairs, over true clusters the true pairs; O(spellings).
    A class with no pair scores 1.0 (nothing to get wrong), as ``pair_scores`` does; ``all_classes`` adds
    classes with no spelling here. For ``negative_classes``, ``kept_apart`` is the share of the class's
    spellings of a hard negative (a true key in ``negatives``) whose predicted cluster holds no spelling of
    the twin song, over those whose twin has a spelling at all (``with_twin``); 1.0 when there is none.
    """
    negatives = negatives or {}
    cells: Counter = Counter()
    pred: Counter = Counter()
    true: Counter = Counter()
    in_cell: dict[str, Counter] = {}
    in_pred: dict[str, Counter] = {}
    in_true: dict[str, Counter] = {}
    size: Counter = Counter()
    preds_of_true: dict[Hashable, set[Hashable]] = {}
    for p, t, cs in spellings:
        cells[(p, t)] += 1
        pred[p] += 1
        true[t] += 1
        preds_of_true.setdefault(t, set()).add(p)
        for c in set(cs):
            size[c] += 1
            in_cell.setdefault(c, Counter())[(p, t)] += 1
            in_pred.setdefault(c, Counter())[p] += 1
            in_true.setdefault(c, Counter())[t] += 1

    def touching(totals: Counter, members: Counter) -> int:
        return sum(_pairs(totals[g]) - _pairs(totals[g] - m) for g, m in members.items())

    negative_classes = set(negative_classes)
    out: dict[str, ClassScores] = {}
    for c in sorted(set(all_classes) | set(size)):
        tp = touching(cells, in_cell.get(c, Counter()))
        predicted = touching(pred, in_pred.get(c, Counter()))
        actual = touching(true, in_true.get(c, Counter()))
        kept_apart = with_twin = None
        if c in negative_classes:
            kept = with_twin = 0
            for p, t, cs in spellings:
                twin = negatives.get(t)
                if c in cs and twin is not None and twin in preds_of_true:
                    with_twin += 1
                    kept += p not in preds_of_true[twin]
            kept_apart = kept / with_twin if with_twin else 1.0
        out[c] = ClassScores(tp / predicted if predicted else 1.0, tp / actual if actual else 1.0, size[c],
                             kept_apart, with_twin)
    return out


def published_rows() -> list[dict[str, Any]]:
    """The published catalogue's song rows (DuckDB ``song_lineage``), read-only."""
    import duckdb

    from core import settings

    path = settings.load().duckdb_path
    if not path.exists():
        raise ScenetuneError(f"no published catalogue at {path}: run `scenetune refresh` first")
    con = duckdb.connect(str(path), read_only=True)
    try:
        cursor = con.execute("SELECT plm_seq, position, song_key, artist_name, song_title FROM song_lineage")
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row)) for row in cursor.fetchall()]
    except duckdb.CatalogException:
        raise ScenetuneError(f"{path} has no song_lineage table: it was published by an older scenetune; "
                             "run `scenetune refresh`") from None
    finally:
        con.close()


def evaluate_published(ground_truth: Mapping[str, Any]) -> dict[str, Any]:
    """Scores of the published catalogue against a ground-truth document, with the song counts."""
    rows = published_rows()
    scores = score_catalogue(rows, truth_by_row(ground_truth), classes_by_row(ground_truth),
                             negatives_of(ground_truth)).as_dict()
    scores["songs"] = len({r["song_key"] for r in rows})
    scores["true_songs"] = len({truth for truth in truth_by_row(ground_truth).values()})
    return scores
