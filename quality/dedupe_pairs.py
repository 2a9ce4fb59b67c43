"""Hand-labelled song pairs: do two Genie/Melon-style rows get one song key exactly when they are one song?

The pairs (``tests/fixtures/dedupe_pairs/pairs.csv``; how they were labelled: ``LABELLING.md`` beside it)
are real spellings of real songs, one class per kind of spelling difference: positives (one song: glosses,
work titles, collaboration separators, aliases, renamed artists, plain noise) and hard negatives (two
songs: live, remix, inst., acoustic, sped up, language versions, covers, duet vs solo, similar titles,
near names without evidence).

Each pair is judged **in isolation**, as a new user's catalogue of just those two rows: nothing learned from
other pairs helps (an alias needs its `A (B)` form in the pair, a work title or rename its shared album).
The rows go to ``song_keys(rows) -> [key, key]``, with rows shaped as the build's (``artist_name,
song_title, song_id, album_id, album_title``, None when empty); the build's own is
``spark_jobs.song_identity.identify_rows``. This module sits below spark_jobs (tests/unit/test_layers.py),
so the caller passes it in. The pair is predicted one song when both keys are equal.

- precision: of the pairs predicted one song, the share labelled one song (1.0 when none is merged);
- recall: of the pairs labelled one song, the share predicted one song;
- per class: a positive class reports ``recall`` (its share merged); a negative class ``kept_apart`` (its
  share kept apart) and ``precision`` (the precision if its false merges were the only ones).

Pure Python, no Spark.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from core.errors import ScenetuneError

PAIRS = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "dedupe_pairs" / "pairs.csv"
COLUMNS = ("pair_id", "class", "same", "artist_a", "title_a", "song_id_a", "album_id_a", "album_title_a",
           "artist_b", "title_b", "song_id_b", "album_id_b", "album_title_b", "note")
POSITIVE_CLASSES = ("gloss", "work_title", "collaboration", "alias", "renamed_artist", "plain")
NEGATIVE_CLASSES = ("neg_live", "neg_remix", "neg_inst", "neg_acoustic", "neg_sped_up", "neg_language_ver",
                    "neg_cover", "neg_duet_solo", "neg_other_song", "neg_renamed_no_evidence")
CLASSES = POSITIVE_CLASSES + NEGATIVE_CLASSES
ROW_KEYS = ("artist_name", "song_title", "song_id", "album_id", "album_title")

SongKeys = Callable[[list[dict]], Sequence[str]]


class DedupePairsError(ScenetuneError, ValueError):
    """The pair file cannot be read or has not the expected shape (one line)."""


@dataclass(frozen=True)
class Pair:
    pair_id: str
    cls: str
    same: bool
    a: dict  # ROW_KEYS, None when empty
    b: dict
    note: str = ""

    @property
    def rows(self) -> list[dict]:
        return [dict(self.a), dict(self.b)]


def _side(record: Mapping[str, str], side: str) -> dict:
    def value(column: str) -> str | None:
        return (record.get(f"{column}_{side}") or "").strip() or None

    return {"artist_name": value("artist"), "song_title": value("title"), "song_id": value("song_id"),
            "album_id": value("album_id"), "album_title": value("album_title")}


def load(path: Path | str = PAIRS) -> list[Pair]:
    """The pairs of a CSV with COLUMNS; a missing or malformed file is one DedupePairsError line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise DedupePairsError(f"dedupe pairs: no file {path} (the pair set ships as tests/fixtures/"
                               "dedupe_pairs/pairs.csv)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DedupePairsError(f"dedupe pairs: cannot read {path} as UTF-8 text: {exc}") from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    if tuple(reader.fieldnames or ()) != COLUMNS:
        raise DedupePairsError(f"dedupe pairs: {path} has columns {','.join(reader.fieldnames or ())!r}; "
                               f"expected {','.join(COLUMNS)}")
    pairs, seen = [], set()
    for record in reader:
        where = f"dedupe pairs: {path} line {reader.line_num}"
        if None in record or any(v is None for v in record.values()):
            raise DedupePairsError(f"{where}: expected {len(COLUMNS)} fields")
        pair_id, cls, same = record["pair_id"].strip(), record["class"].strip(), record["same"].strip()
        if not pair_id or pair_id in seen:
            raise DedupePairsError(f"{where}: pair_id {pair_id!r} is empty or repeated")
        if cls not in CLASSES:
            raise DedupePairsError(f"{where}: class {cls!r} is none of {', '.join(CLASSES)}")
        if same not in ("0", "1"):
            raise DedupePairsError(f"{where}: same must be 1 or 0, got {same!r}")
        if (same == "1") != (cls in POSITIVE_CLASSES):
            raise DedupePairsError(f"{where}: class {cls} holds only same={1 if cls in POSITIVE_CLASSES else 0} pairs")
        a, b = _side(record, "a"), _side(record, "b")
        if not all((a["artist_name"], a["song_title"], b["artist_name"], b["song_title"])):
            raise DedupePairsError(f"{where}: both sides need an artist and a title")
        seen.add(pair_id)
        pairs.append(Pair(pair_id, cls, same == "1", a, b, record["note"].strip()))
    if not pairs:
        raise DedupePairsError(f"dedupe pairs: {path} holds no pairs")
    return pairs


def _ratio(num: int, den: int, empty: float = 1.0) -> float:
    return round(num / den, 4) if den else empty


def evaluate(pairs: Sequence[Pair], song_keys: SongKeys) -> dict:
    """Precision, recall and per-class figures of ``song_keys`` over the pairs, each pair scored alone."""
    outcomes = []  # (pair, merged, keys)
    for pair in pairs:
        keys = list(song_keys(pair.rows))
        if len(keys) != 2:
            raise DedupePairsError(f"dedupe pairs: song_keys gave {len(keys)} keys for the 2 rows of {pair.pair_id}")
        outcomes.append((pair, keys[0] == keys[1], keys))
    positives = sum(p.same for p, _m, _k in outcomes)
    true_merges = sum(p.same and m for p, m, _k in outcomes)
    false_merges = sum((not p.same) and m for p, m, _k in outcomes)
    per_class: dict[str, dict] = {}
    for cls in CLASSES:
        mine = [(p, m) for p, m, _k in outcomes if p.cls == cls]
        if not mine:
            continue
        merged = sum(m for _p, m in mine)
        row = {"pairs": len(mine), "same": sum(p.same for p, _m in mine), "merged": merged}
        if cls in POSITIVE_CLASSES:
            row["recall"] = _ratio(merged, len(mine))
        else:
            row["kept_apart"] = _ratio(len(mine) - merged, len(mine))
            row["precision"] = _ratio(true_merges, true_merges + merged)
        per_class[cls] = row
    errors = [{"pair_id": p.pair_id, "class": p.cls, "same": p.same,
               "predicted": "merged" if m else "kept apart", "keys": keys,
               "a": f"{p.a['artist_name']} | {p.a['song_title']}", "b": f"{p.b['artist_name']} | {p.b['song_title']}"}
              for p, m, keys in outcomes if m != p.same]
    precision = _ratio(true_merges, true_merges + false_merges)
    recall = _ratio(true_merges, positives, empty=0.0)
    return {
        "precision": precision,
        "recall": recall,
        "f1": round(2 * precision * recall / (precision + recall), 4) if precision + recall else 0.0,
        "pairs": len(outcomes),
        "positives": positives,
        "negatives": len(outcomes) - positives,
        "true_merges": true_merges,
        "false_merges": false_merges,
        "missed": positives - true_merges,
        "per_class": per_class,
        "errors": errors,
    }
