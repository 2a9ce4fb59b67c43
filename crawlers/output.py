"""Where a crawl run's output lives and how it is written and read back.

One folder per run: ``<crawl_dir>/dt=YYYY-MM-DD/run_key=<id>/`` with one JSONL
file per bronze table (``playlists.jsonl`` ...), ``quarantine/<sha1>.html``
raw bodies of quarantined pages and ``crawl.log``. A fresh run truncates its
files (re-running a run id replaces its output); a run resumed from JOBDIR
appends, and the loader keeps the last row per table key.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from core import files
from core import settings as scenetune_settings
from core.runs import RunPartition
from schemas import bronze

logger = logging.getLogger(__name__)

TABLES = {t.name: t for t in bronze.CRAWL_TABLES}
QUARANTINE_DIR = "quarantine"
LOG_FILE = "crawl.log"
JOBDIR_RESUME_MARKER = "spider.state"  # written by Scrapy's SpiderState when a job stops


def table_file(run_dir: Path, table: str) -> Path:
    return Path(run_dir) / f"{table}.jsonl"


def run_dir_of(partition: RunPartition) -> Path:
    """``raw/crawl/dt=<run_date>/run_key=<run_key>``: the run's raw output."""
    return (scenetune_settings.load().crawl_dir / f"dt={partition.run_date.isoformat()}"
            / f"run_key={partition.run_key}")


def existing_run_dirs(run_key: str) -> list[Path]:
    crawl_dir = scenetune_settings.load().crawl_dir
    return sorted(crawl_dir.glob(f"dt=*/run_key={run_key}")) if crawl_dir.exists() else []


def is_resuming(jobdir: str | None) -> bool:
    """A JOBDIR that a stopped crawl left behind: continue its output instead of replacing it."""
    return bool(jobdir) and (Path(jobdir) / JOBDIR_RESUME_MARKER).exists()


@functools.lru_cache(maxsize=8)
def _resolved(path: str) -> Path:
    return Path(path).resolve()


def home_relative(path: Path) -> str:
    """Paths stored in bronze rows are relative to SCENETUNE_HOME when they live under it."""
    home = _resolved(str(scenetune_settings.load().home))
    path = Path(os.path.abspath(path))
    try:
        return str(path.relative_to(home))
    except ValueError:
        return str(path)


class RunWriter:
    """Appends rows of the bronze tables to the run's JSONL files."""

    def __init__(self, run_dir: Path, append: bool) -> None:
        self.run_dir = Path(run_dir)
        self.append = append
        self._files: dict[str, Any] = {}

    def open(self) -> None:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        if not self.append:
            shutil.rmtree(self.run_dir / QUARANTINE_DIR, ignore_errors=True)
        mode = "a" if self.append else "w"
        for name in TABLES:
            if name == bronze.CRAWL_RUNS.name:
                continue  # one row, written whole by crawlers.accounting at the end
            self._files[name] = table_file(self.run_dir, name).open(mode, encoding="utf-8")

    def write(self, table: str, row: dict[str, Any]) -> None:
        self._files[table].write(json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n")

    def keep_raw(self, body: bytes, suffix: str = ".html") -> Path:
        digest = hashlib.sha1(body).hexdigest()
        path = self.run_dir / QUARANTINE_DIR / f"{digest}{suffix}"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(body)
        return path

    def flush(self) -> None:
        for f in self._files.values():
            f.flush()

    def close(self) -> None:
        for f in self._files.values():
            f.close()
        self._files.clear()


def read_rows(path: Path) -> Iterator[dict[str, Any]]:
    """Rows of one JSONL file; a cut-off last line (a killed writer) is logged and skipped."""
    path = Path(path)
    if not path.exists():
        return
    with path.open(encoding="utf-8") as f:
        lines = f.readlines()
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            yield json.loads(line)
        except ValueError as err:
            if number == len(lines) and not line.endswith("\n"):
                logger.warning("%s: skipping cut-off last line %d (%s)", path, number, err)
                continue
            raise ValueError(f"{path}:{number}: not a JSON row: {err}") from None


def write_rows(path: Path, rows: list[dict[str, Any]]) -> None:
    """Replace a whole JSONL file atomically (core.files)."""
    with files.atomic_path(path) as tmp, tmp.open("w", encoding="utf-8") as f:
        f.writelines(json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n" for row in rows)
