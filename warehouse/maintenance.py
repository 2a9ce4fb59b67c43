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

Spark's scratch (``blockmgr-*``, ``spark-*``, ``artifacts-*`` and the native codecs a JVM unpacks, under
``SCENETUNE_HOME/spark/tmp``: the driver's ``spark.local.dir`` and ``java.io.tmpdir``) is deleted by the JVM
when it ends normally; a killed run leaves it. What is older than ``SCENETUNE_SPARK_SCRATCH_MAX_AGE_HOURS``
(by its newest entry: a running job writes in its own) goes; a dry run lists it.
"""

from __future__ import annotations

import os
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
    scratch_removed: list[Scratch] = field(default_factory=list)  # Spark scratch removed (dry run: would be)


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
    result.scratch_removed = clean_spark_scratch(s.spark_scratch_dir, s.spark_scratch_max_age_hours, dry_run=dry_run)
    return result


# What a Spark driver leaves in its scratch folder (spark.local.dir and, from the session factory, its
# java.io.tmpdir) when it is killed: the JVM deletes them itself when it ends normally.
SCRATCH_FOLDERS = ("blockmgr-*", "spark-*", "artifacts-*")  # block manager; temp + pyspark files; session artifacts
SCRATCH_FILES = ("liblz4-java-*", "snappy-*libsnappyjava*", "libzstd-jni-*")  # native codecs unpacked per JVM


@dataclass(frozen=True)
class Scratch:
    name: str  # its name in the scratch folder
    bytes: int
    idle_hours: float  # since the newest change anywhere in it


def _tree_stats(path: Path) -> tuple[float, int]:
    """The newest modification time in ``path``'s tree (a running job keeps touching its own scratch) and
    its size; symlinks are neither followed nor counted."""
    newest, size = path.lstat().st_mtime, 0
    if not path.is_dir():
        return newest, path.lstat().st_size
    for root, dirs, files in os.walk(path):  # os.walk does not descend into symlinked folders
        for name, is_file in [(d, False) for d in dirs] + [(f, True) for f in files]:
            try:
                stat = Path(root, name).lstat()
            except OSError:  # removed while we looked
                continue
            newest = max(newest, stat.st_mtime)
            size += stat.st_size if is_file else 0
    return newest, size


def running_driver_since(scratch_dir: Path) -> float | None:
    """When (epoch seconds) the oldest JVM running now with ``scratch_dir`` as its ``java.io.tmpdir`` or
    ``spark.local.dir`` started; None if none does (or there is no /proc to tell).

    Whatever such a JVM created is newer than its start, so scratch untouched since before it cannot be
    its own, however long it has been idle (a notebook's session kept open for days).
    """
    from core.locks import process_started

    marks = {f"-Djava.io.tmpdir={scratch_dir}".encode(), f"spark.local.dir={scratch_dir}".encode()}
    try:
        boot = next(int(line.split()[1]) for line in Path("/proc/stat").read_text().splitlines()
                    if line.startswith("btime "))
    except (OSError, StopIteration, ValueError):
        return None
    oldest = None
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            if not marks & set(Path(entry.path, "cmdline").read_bytes().split(b"\0")):
                continue
        except OSError:  # gone meanwhile, or not ours to read
            continue
        ticks = process_started(int(entry.name))
        if ticks is not None:
            started = boot + ticks / os.sysconf("SC_CLK_TCK")
            oldest = started if oldest is None else min(oldest, started)
    return oldest


def clean_spark_scratch(scratch_dir: Path, max_age_hours: float, dry_run: bool = False,
                        now: float | None = None) -> list[Scratch]:
    """Remove what killed Spark drivers left in ``scratch_dir`` (:data:`SCRATCH_FOLDERS`, :data:`SCRATCH_FILES`)
    once nothing in it changed for ``max_age_hours``; returns what it removed (``dry_run``: would remove).

    A running job writes in its own folders, so they are younger than that and stay; and while a driver
    using ``scratch_dir`` runs, nothing changed after it started is touched (:func:`running_driver_since`).
    Symlinks are never followed, nor removed (Spark makes none); only ``scratch_dir``'s own entries are looked at.
    """
    if not scratch_dir.is_dir():
        return []
    now = time.time() if now is None else now
    cutoff = now - max_age_hours * 3600
    running_since = running_driver_since(scratch_dir)
    if running_since is not None:  # (a minute early: the boot time /proc gives is whole seconds, clocks drift)
        cutoff = min(cutoff, running_since - 60)
    candidates = {p for pattern in SCRATCH_FOLDERS for p in scratch_dir.glob(pattern) if p.is_dir()}
    candidates |= {p for pattern in SCRATCH_FILES for p in scratch_dir.glob(pattern) if p.is_file()}
    removed = []
    for path in sorted(candidates):
        if path.is_symlink():
            continue
        try:
            newest, size = _tree_stats(path)
        except OSError:  # gone meanwhile (its JVM ended and cleaned up)
            continue
        if newest >= cutoff:
            continue
        if not dry_run:
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
        removed.append(Scratch(path.name, size, round((now - newest) / 3600, 1)))
    return removed


def _on_disk(root: Path, file: str) -> bool:
    path = Path(file.removeprefix("file://"))
    return (path if path.is_absolute() else root / path).exists()


def _no_log_cleanup() -> PostCommitHookProperties:
    return PostCommitHookProperties(create_checkpoint=True, cleanup_expired_logs=False)
