"""The upload queue (``ops.image_uploads``): its states, and every transition as one merge on the key.

::

    submit ──► queued ──claim──► running ──finish──► scored | failed
           ├─► duplicate ──(its original finishes)──► duplicate with the result | failed
           └─► rejected
    running (a crashed run's) ──next claim──► running (this run) ... after N claims ──► failed

- A file gets ``duplicate`` when an upload of the same input (image bytes and caption) is queued or
  running, or was scored by the model scoring uses now; it shares that result and is never scored.
- Every queue write holds :func:`queue_lock` (one writer at a time, across processes), and a
  scoring run holds :func:`run_lock` from claim to finish: so a ``running`` row that a run finds
  when it claims belongs to a run that died, and is claimed again.
- ``attempts`` counts the runs that claimed a row; a row claimed ``max_attempts`` times without
  finishing (an image that kills the scorer) is failed with that reason instead of being claimed again.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Iterable, Iterator

import pyarrow as pa

from core import files, settings
from schemas.scoring import IMAGE_UPLOADS
from warehouse import delta

PENDING = ("queued", "running")


def _state_dir():
    return settings.load().home / "state" / "scoring"


@contextlib.contextmanager
def queue_lock() -> Iterator[None]:
    """Held for every write of the queue (submit, claim, finish)."""
    with files.exclusive_lock(_state_dir() / "image_uploads.lock"):
        yield


@contextlib.contextmanager
def run_lock() -> Iterator[None]:
    """Held by a scoring run from claim to finish: a second run waits, then finds nothing of the first's."""
    with files.exclusive_lock(_state_dir() / "scoring_run.lock"):
        yield


def read(filters: list[tuple] | None = None) -> list[dict]:
    return delta.read_or_empty(IMAGE_UPLOADS, filters=filters).to_pylist()


def upload_id(row: dict) -> str:
    """How one upload names another (``duplicate_of``): ``<submission_id>/<file_name>``."""
    return f"{row['submission_id']}/{row['file_name']}"


def _write(rows: list[dict], *, update: bool, insert: bool, update_if: str | None = None) -> dict:
    data = pa.Table.from_pylist(rows, schema=IMAGE_UPLOADS.arrow_schema())
    return delta.merge(IMAGE_UPLOADS, data, update=update, insert=insert, update_if=update_if)


def insert(rows: list[dict]) -> int:
    """Add new rows; rows whose key exists already are left as they are (a repeated submit adds nothing)."""
    return _write(rows, update=False, insert=True)["num_target_rows_inserted"]


def pending_count() -> int:
    return sum(1 for _ in read([("status", "in", list(PENDING))]))


@dataclass
class Claim:
    rows: list[dict] = field(default_factory=list)  # now running under this run
    reclaimed: int = 0  # of rows: left running by a run that died
    dead_runs: set[str] = field(default_factory=set)  # the runs that left them (their results may be stored)
    poisoned: list[dict] = field(default_factory=list)  # failed now: claimed too often without finishing


def claim(run_key: str, max_attempts: int) -> Claim:
    """Mark every queued row, and every row a dead run left running, as running under ``run_key``."""
    out = Claim()
    with queue_lock():
        for row in read([("status", "in", list(PENDING))]):
            was_running = row["status"] == "running"
            if was_running and row["attempts"] >= max_attempts:
                row.update(status="failed", reason=(
                    f"claimed by {row['attempts']} scoring runs that never finished it: the image may crash the scorer"))
                out.poisoned.append(row)
                continue
            if was_running:
                out.reclaimed += 1
                out.dead_runs.add(row["scoring_run_key"])
            row.update(status="running", scoring_run_key=run_key, attempts=row["attempts"] + 1)
            out.rows.append(row)
        _write(out.rows + out.poisoned, update=True, insert=False, update_if="t.status IN ('queued', 'running')")
    return out


def finish(run_key: str, rows: list[dict]) -> int:
    """Write the verdicts of rows this run claimed (status scored or failed); rows another run has
    claimed since are left alone. Returns the rows updated."""
    guard = f"t.status = 'running' AND t.scoring_run_key = '{run_key}'"
    with queue_lock():
        return _write(rows, update=True, insert=False, update_if=guard)["num_target_rows_updated"]


def resolve_duplicates() -> int:
    """Give every waiting duplicate its original's outcome once the original has one; returns how many."""
    with queue_lock():
        waiting = [r for r in read([("status", "=", "duplicate")]) if r["model_version"] is None and r["duplicate_of"]]
        if not waiting:
            return 0
        submissions = sorted({r["duplicate_of"].split("/", 1)[0] for r in waiting})
        originals = {upload_id(r): r for r in read([("submission_id", "in", submissions)])}
        resolved = []
        for row in waiting:
            original = originals.get(row["duplicate_of"])
            if original is None or original["status"] in PENDING:
                continue
            if original["status"] == "scored":
                row.update({k: original[k] for k in ("model_version", "catalogue_version", "width", "height", "format")})
            else:
                row.update(status="failed",
                           reason=f"same image as {row['duplicate_of']}, which failed: {original['reason']}")
            resolved.append(row)
        _write(resolved, update=True, insert=False, update_if="t.status = 'duplicate'")
        return len(resolved)


def originals_for(input_keys: Iterable[str], model_version: str | None, catalogue_version: str | None,
                  genres: Iterable[str] = ()) -> dict[str, dict]:
    """For each input key, the earliest upload a new one can share a result with: one with the same chosen
    ``genres`` (the songs depend on them), queued or running (its result is coming), or scored by
    ``model_version`` on ``catalogue_version``."""
    genres = list(genres)
    keys = sorted(set(input_keys))
    if not keys:
        return {}
    found: dict[str, dict] = {}
    for row in sorted(read([("input_key", "in", keys)]), key=lambda r: (r["submission_id"], r["file_name"])):
        usable = list(row["genres"] or ()) == genres and (row["status"] in PENDING or (
            row["status"] == "scored" and model_version is not None
            and (row["model_version"], row["catalogue_version"]) == (model_version, catalogue_version)))
        if usable:
            found.setdefault(row["input_key"], row)
    return found
