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
from schemas.bronze import GENIE


class GroundTruthError(ScenetuneError, ValueError):
    """The ground truth cannot be read or has not the expected shape (one line)."""


@dataclass(frozen=True)
class MelonTruth:
    """The Melon generator's ground truth (``python -m demo_site melon ... OUT``: OUT/ground_truth.json):
    each Melon song id's true song, in the keys of the Genie demo site's truth; ``shared`` the class of
    the songs it shares with Genie under its own spelling, and of its cross-source hard negatives
    (``melon_<class>`` in ``per_class``); ``negatives`` a hard negative's true song -> its twin's."""

    songs: Mapping[str, str]
    shared: Mapping[str, str] = field(default_factory=dict)
    negatives: Mapping[str, str] = field(default_factory=dict)
    negative_classes: tuple[str, ...] = ()

    def classes_of(self, song_id: str) -> tuple[str, ...]:
        found = self.shared.get(song_id)
        return (f"melon_{found}",) if found else ()

    def all_classes(self) -> set[str]:
        return {f"melon_{c}" for c in self.shared.values()}

    @classmethod
    def of(cls, document: Mapping[str, Any]) -> MelonTruth:
        songs = document.get("songs")
        if not isinstance(songs, Mapping):
            raise GroundTruthError("Melon ground truth has no 'songs' map (expected the ground_truth.json that "
                                   "`python -m demo_site melon` writes beside the dataset)")
        songs = {str(k): str(v) for k, v in songs.items()}
        classes = {str(k): str(v) for k, v in (document.get("shared_with_genie") or {}).items()}
        negatives = {}
        for song_id, negative in (document.get("negatives") or {}).items():
            classes[str(song_id)] = negative["class"]  # neg_cover, neg_live ...: a Melon song that looks shared
            if str(song_id) in songs and str(negative["of"]) in songs:
                negatives[songs[str(song_id)]] = songs[str(negative["of"])]
        negative_classes = tuple(sorted({f"melon_{c}" for c in classes.values() if c.startswith("neg_")}))
        return cls(songs, classes, negatives, negative_classes)


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
                    negatives: Mapping[str, str] | None = None,
                    melon: MelonTruth | None = None) -> CatalogueScores:
    """Score catalogue rows (``plm_seq, position, song_key, artist_name, song_title``, and ``source``,
    ``song_id`` when there are two sources) against the truth.

    ``truth``, ``classes`` and ``negatives`` are the Genie demo site's, keyed by row: ``classes`` (the
    variant classes of its rows, ``classes_by_row``) turns on ``per_class``; ``negatives`` maps hard
    negatives' true keys to their twins' (``negatives_of``). ``melon`` (the Melon generator's truth, by
    Melon song id) scores the Melon rows too; without it they are unmatched.
    """
    row_labels = []
    spelling_votes: dict[tuple[str, str], Counter] = {}
    spelling_key: dict[tuple[str, str], str] = {}
    spelling_classes: dict[tuple[str, str], set[str]] = {}
    classes = classes or {}
    unmatched = 0
    for row in rows:
        at = (int(row["plm_seq"]), int(row["position"]))
        true_key = true_key_of(row, truth, melon)
        row_classes = classes.get(at) if (row.get("source") or GENIE) == GENIE else (
            melon.classes_of(str(row["song_id"])) if true_key is not None else ())
        if true_key is None:
            unmatched += 1
            continue
        row_labels.append((row["song_key"], true_key))
        spelling = (row["artist_name"], row["song_title"])
        spelling_votes.setdefault(spelling, Counter())[true_key] += 1
        spelling_key[spelling] = row["song_key"]  # a spelling always gets one key: keys are functions of it
        if row_classes:
            spelling_classes.setdefault(spelling, set()).update(row_classes)
    spellings = [(spelling_key[s], votes.most_common(1)[0][0]) for s, votes in spelling_votes.items()]
    labelled = [(pred, true, spelling_classes.get(s, ())) for s, (pred, true) in zip(spelling_votes, spellings)]
    all_classes = {c for cs in classes.values() for c in cs} | (melon.all_classes() if melon else set())
    negatives = {**(negatives or {}), **(melon.negatives if melon else {})}
    negative_classes = {c for at, cs in classes.items() if truth.get(at) in negatives for c in cs}
    negative_classes |= set(melon.negative_classes) if melon else set()
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


def true_key_of(row: Mapping[str, Any], truth: Mapping[tuple[int, int], str],
                melon: MelonTruth | None) -> str | None:
    """A catalogue row's true song: a Genie row's by its place in the Genie truth, a Melon row's by its song id
    in the Melon truth; None when the truth does not know it."""
    if (row.get("source") or GENIE) == GENIE:
        return truth.get((int(row["plm_seq"]), int(row["position"])))
    if melon is None or row.get("song_id") is None:
        return None
    return melon.songs.get(str(row["song_id"]))


def cross_source_scores(rows: Iterable[Mapping[str, Any]], truth: Mapping[tuple[int, int], str],
                        melon: MelonTruth) -> PairScores:
    """Pair precision and recall over the pairs of one Genie and one Melon spelling (a spelling: its source,
    artist and title as shown, with the song most of its rows truly are): is a song both sources list one
    song in the catalogue, and are two songs kept two across sources?"""
    votes: dict[tuple[str, str, str], Counter] = {}
    predicted: dict[tuple[str, str, str], str] = {}
    for row in rows:
        true_key = true_key_of(row, truth, melon)
        if true_key is not None:
            spelling = (row.get("source") or GENIE, row["artist_name"], row["song_title"])
            votes.setdefault(spelling, Counter())[true_key] += 1
            predicted[spelling] = row["song_key"]
    cells: dict[tuple, Counter] = {}
    by_pred: dict[Hashable, Counter] = {}
    by_true: dict[Hashable, Counter] = {}
    for spelling, counter in votes.items():
        true_key, source, pred = counter.most_common(1)[0][0], spelling[0], predicted[spelling]
        for groups, key in ((cells, (pred, true_key)), (by_pred, pred), (by_true, true_key)):
            groups.setdefault(key, Counter())[source] += 1

    def cross(groups: dict) -> int:
        return sum(c[GENIE] * sum(n for s, n in c.items() if s != GENIE) for c in groups.values())

    both, pred_pairs, true_pairs = cross(cells), cross(by_pred), cross(by_true)
    return PairScores(both / pred_pairs if pred_pairs else 1.0, both / true_pairs if true_pairs else 1.0,
                      len(votes), len(by_pred), len(by_true))


def published_rows() -> list[dict[str, Any]]:
    """The published catalogue's song rows (DuckDB ``song_lineage``), read-only."""
    import duckdb

    from core import settings

    path = settings.load().duckdb_path
    if not path.exists():
        raise ScenetuneError(f"no published catalogue at {path}: run `scenetune refresh` first")
    con = duckdb.connect(str(path), read_only=True)
    try:
        cursor = con.execute("SELECT source, plm_seq, position, song_id, song_key, artist_name, song_title "
                             "FROM song_lineage")
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row)) for row in cursor.fetchall()]
    except duckdb.CatalogException:
        raise ScenetuneError(f"{path} has no song_lineage table: it was published by an older scenetune; "
                             "run `scenetune refresh`") from None
    finally:
        con.close()


def evaluate_published(ground_truth: Mapping[str, Any], melon_truth: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Scores of the published catalogue against the Genie demo site's ground truth (and the Melon
    generator's, when given: then also per source and across sources), with the song counts."""
    rows = published_rows()
    melon = MelonTruth.of(melon_truth) if melon_truth is not None else None
    genie = (truth_by_row(ground_truth), classes_by_row(ground_truth), negatives_of(ground_truth))
    scores = score_catalogue(rows, *genie, melon=melon).as_dict()
    scores["songs"] = len({r["song_key"] for r in rows})
    true_songs = set(genie[0].values()) | (set(melon.songs.values()) if melon else set())
    scores["true_songs"] = len(true_songs)
    if melon is not None:
        scores["by_source"] = {}
        for source in sorted({r["source"] for r in rows}):
            of_source = score_catalogue([r for r in rows if r["source"] == source], *genie, melon=melon)
            scores["by_source"][source] = {k: v for k, v in of_source.as_dict().items() if k != "per_class"}
        cross = cross_source_scores(rows, genie[0], melon)
        scores["cross_source"] = {"pair_precision": round(cross.precision, 5), "pair_recall": round(cross.recall, 5),
                                  **cross.as_dict()}
    return scores
