"""Writing files so that a reader sees the old contents or the new, never half.

Every file scenetune replaces (state files, JSONL tables, covers, the DuckDB
warehouse) is written to a temp file beside it and renamed over it: a rename
is atomic on one filesystem. Temp names are ``.<name>.<pid>-<thread>.tmp``,
so concurrent writers never share one and :func:`remove_stale_temps` can
find what a crashed writer left.
"""

from __future__ import annotations

import contextlib
import os
import threading
from pathlib import Path
from typing import Iterator

TEMP_SUFFIX = ".tmp"


def temp_path_for(target: Path) -> Path:
    return target.with_name(f".{target.name}.{os.getpid()}-{threading.get_ident()}{TEMP_SUFFIX}")


@contextlib.contextmanager
def atomic_path(target: Path | str) -> Iterator[Path]:
    """A temp path to write; renamed over ``target`` when the block ends without error."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_path_for(target)
    try:
        yield tmp
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def write_bytes(target: Path | str, data: bytes) -> Path:
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)
    return Path(target)


def write_text(target: Path | str, text: str) -> Path:
    return write_bytes(target, text.encode("utf-8"))


def remove_stale_temps(target: Path | str) -> list[Path]:
    """Remove temp files that writers of ``target`` left behind (call while no writer runs)."""
    target = Path(target)
    if not target.parent.is_dir():
        return []
    stale = sorted(target.parent.glob(f".{target.name}.*{TEMP_SUFFIX}*"))  # DuckDB adds .wal
    for path in stale:
        path.unlink(missing_ok=True)
    return stale


@contextlib.contextmanager
def exclusive_lock(lock_file: Path | str) -> Iterator[None]:
    """Hold an exclusive lock on ``lock_file`` (created if needed) for the block: one writer at a time,
    across processes (e.g. a CLI refresh and a scheduler sharing one SCENETUNE_HOME)."""
    import fcntl

    lock_file = Path(lock_file)
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    with lock_file.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def last_error_line(log_path: Path | str, limit: int = 300) -> str:
    """The last line of a log that names an error (for a one-line message; the log has the rest)."""
    try:
        lines = Path(log_path).read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return "no log"
    for line in reversed(lines):
        if any(word in line for word in ("Error", "ERROR", "error", "Exception")) and "Traceback" not in line:
            return line.strip()[:limit]
    return lines[-1].strip()[:limit] if lines else "empty log"
