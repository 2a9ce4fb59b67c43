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
  (aliases, re-releases, rare variants) weigh.

Pure Python over plain rows; the ground truth comes as a dict or a JSON file
(``python -m demo_site ground-truth --scale full --seed 7 --out FILE``), never
from the demo site's code.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import asdict, dataclass
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
class CatalogueScores:
    rows: PairScores
    spellings: PairScores
    matched_rows: int  # rows of the catalogue found in the ground truth
    unmatched_rows: int  # rows of the catalogue the ground truth does not know

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
        }


def truth_by_row(ground_truth: Mapping[str, Any]) -> dict[tuple[int, int], str]:
    """``{(plm_seq, position): canonical_song_key}`` from a ground-truth document."""
    rows = ground_truth.get("rows")
    if not isinstance(rows, list):
        raise GroundTruthError("ground truth has no 'rows' list (expected the demo site's ground-truth JSON)")
    return {(int(r["plm_seq"]), int(r["position"])): r["canonical_song_key"] for r in rows}


def load_ground_truth(path: Path | str) -> dict[str, Any]:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise GroundTruthError(f"cannot read ground truth {path}: {err}") from None


def score_catalogue(rows: Iterable[Mapping[str, Any]], truth: Mapping[tuple[int, int], str]) -> CatalogueScores:
    """Score catalogue rows (``plm_seq, position, song_key, artist_name, song_title``) against the truth."""
    row_labels = []
    spelling_votes: dict[tuple[str, str], Counter] = {}
    spelling_key: dict[tuple[str, str], str] = {}
    unmatched = 0
    for row in rows:
        true_key = truth.get((int(row["plm_seq"]), int(row["position"])))
        if true_key is None:
            unmatched += 1
            continue
        row_labels.append((row["song_key"], true_key))
        spelling = (row["artist_name"], row["song_title"])
        spelling_votes.setdefault(spelling, Counter())[true_key] += 1
        spelling_key[spelling] = row["song_key"]  # a spelling always gets one key: keys are functions of it
    spellings = [(spelling_key[s], votes.most_common(1)[0][0]) for s, votes in spelling_votes.items()]
    return CatalogueScores(pair_scores(row_labels), pair_scores(spellings), len(row_labels), unmatched)


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
    scores = score_catalogue(rows, truth_by_row(ground_truth)).as_dict()
    scores["songs"] = len({r["song_key"] for r in rows})
    scores["true_songs"] = len({truth for truth in truth_by_row(ground_truth).values()})
    return scores
