"""Retention: keep the last ``SCENETUNE_KEEP_VERSIONS`` catalogue versions readable, vacuum the rest.

A catalogue version pins one Delta version of each published table. Vacuuming by age (delta-rs's
default: files removed more than a week ago) knows nothing of those pins: right after a compaction
or a weekly overwrite it would delete the files of versions users still query or roll back to. So
each pinned table is vacuumed with ``keep_versions`` = the versions the kept catalogue versions pin
(plus its latest version): exactly the files none of them reads are deleted.

The Delta log must outlive the kept versions too: delta-rs removes log entries older than
``delta.logRetentionDuration`` (30 days by default) whenever it writes a checkpoint, which would
end time travel to a 5-week-old version of a weekly refresh. Maintenance sets it to
:data:`LOG_RETENTION` on each pinned table (once: a metadata-only commit) and never cleans logs itself.

Files removed or written less than ``SCENETUNE_VACUUM_MIN_AGE_HOURS`` ago are never deleted: a refresh writing at the same time may have
written data files it has not committed yet.

Spark's scratch (``blockmgr-*``, ``spark-*`` under ``SCENETUNE_HOME/spark/tmp``, ``spark.local.dir``) is
deleted by the JVM when it ends normally; a killed run leaves it. Folders older than
``SCENETUNE_SPARK_SCRATCH_MAX_AGE_HOURS`` (by their newest entry: a running job writes in its own) go.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from deltalake import DeltaTable
from deltalake.transaction import PostCommitHookProperties

from core import settings
from schemas import TABLES
from warehouse import delta
from warehouse import versions as catalogue_versions

LOG_RETENTION = "interval 365 days"


@dataclass
class Retention:
    kept_versions: list[int]  # catalogue versions kept readable
    dropped_versions: list[int]  # catalogue versions no longer guaranteed readable
    deleted_files: dict[str, int] = field(default_factory=dict)  # layer.table -> files deleted
    kept_pins: dict[str, list[int]] = field(default_factory=dict)  # layer.table -> Delta versions kept
    scratch_removed: list[str] = field(default_factory=list)  # Spark scratch folders removed (names)


def kept(rows: list[dict], keep: int) -> list[dict]:
    """The newest ``keep`` published or rolled-back versions (rejected ones pin nothing worth keeping)."""
    live = [r for r in rows if r["status"] in catalogue_versions.LIVE]
    return sorted(live, key=lambda r: r["version"])[-keep:]


def apply(keep: int | None = None, min_age_hours: int | None = None, dry_run: bool = False) -> Retention:
    """Vacuum every pinned table down to what the kept catalogue versions (and its latest version) need."""
    s = settings.load()
    keep = keep or s.keep_versions
    min_age_hours = s.vacuum_min_age_hours if min_age_hours is None else min_age_hours
    rows = catalogue_versions.all_versions()
    keeping = kept(rows, keep)
    numbers = {r["version"] for r in keeping}
    result = Retention(sorted(numbers), sorted(r["version"] for r in rows
                                               if r["status"] in catalogue_versions.LIVE and r["version"] not in numbers))
    pins: dict[str, set[int]] = {}
    for row in rows:  # every table any version ever pinned; kept versions say which of its versions stay
        for name in row["table_versions"]:
            pins.setdefault(name, set())
    for row in keeping:
        for name, version in row["table_versions"].items():
            pins[name].add(version)
    for name, versions in sorted(pins.items()):
        table = TABLES.get(name)
        if table is None or not delta.exists(table):
            continue
        dt = DeltaTable(str(table.path))
        latest = dt.version()
        keep_versions = sorted(versions | {latest})
        result.kept_pins[name] = keep_versions
        if not dry_run and dt.metadata().configuration.get("delta.logRetentionDuration") != LOG_RETENTION:
            dt.alter.set_table_properties({"delta.logRetentionDuration": LOG_RETENTION},
                                          post_commithook_properties=_no_log_cleanup())
            dt = DeltaTable(str(table.path))
        options = {"retention_hours": min_age_hours, "enforce_retention_duration": False,
                   "keep_versions": keep_versions}
        # delta-rs lists tombstoned files again after they are gone: count the ones still on disk.
        candidates = [f for f in dt.vacuum(dry_run=True, **options) if _on_disk(table.path, f)]
        if candidates and not dry_run:
            dt.vacuum(dry_run=False, post_commithook_properties=_no_log_cleanup(), **options)
        result.deleted_files[name] = len(candidates)
    result.scratch_removed = clean_spark_scratch(s.home / "spark" / "tmp", s.spark_scratch_max_age_hours,
                                                 dry_run=dry_run)
    return result


SCRATCH_PATTERNS = ("blockmgr-*", "spark-*")


def _newest_mtime(folder: Path) -> float:
    """The newest modification time in ``folder``'s tree (a running job keeps touching its own scratch)."""
    newest = folder.lstat().st_mtime
    for path in folder.rglob("*"):
        try:
            newest = max(newest, path.lstat().st_mtime)
        except OSError:  # removed while we looked
            continue
    return newest


def clean_spark_scratch(scratch_dir: Path, max_age_hours: float, dry_run: bool = False,
                        now: float | None = None) -> list[str]:
    """Remove the ``blockmgr-*`` and ``spark-*`` folders in ``scratch_dir`` untouched for ``max_age_hours``;
    returns their names. Symlinks are never followed (nor removed: Spark makes none)."""
    if not scratch_dir.is_dir():
        return []
    cutoff = (time.time() if now is None else now) - max_age_hours * 3600
    removed = []
    for folder in sorted({p for pattern in SCRATCH_PATTERNS for p in scratch_dir.glob(pattern)}):
        if folder.is_symlink() or not folder.is_dir() or _newest_mtime(folder) >= cutoff:
            continue
        if not dry_run:
            shutil.rmtree(folder, ignore_errors=True)
        removed.append(folder.name)
    return removed


def _on_disk(root: Path, file: str) -> bool:
    path = Path(file.removeprefix("file://"))
    return (path if path.is_absolute() else root / path).exists()


def _no_log_cleanup() -> PostCommitHookProperties:
    return PostCommitHookProperties(create_checkpoint=True, cleanup_expired_logs=False)
