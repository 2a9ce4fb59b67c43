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
