"""Load one crawl run's JSONL output into the bronze Delta tables.

Each table gets exactly the run's partition (``run_key``) replaced, so
loading a run again gives the same contents. Rows repeated in the JSONL (a
run resumed from JOBDIR appends) are reduced to the last one per table key.
"""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from crawlers.normalize import SOURCE
from crawlers.output import read_rows, table_file
from schemas import bronze
from schemas.table import Table
from warehouse import delta

logger = logging.getLogger(__name__)


class LoadError(ValueError):
    """A run's output cannot be loaded; the message says which file and why."""


def _typed(table: Table, row: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for column in table.columns:
        value = row.get(column.name)
        if column.type == "timestamp" and isinstance(value, str):
            value = datetime.fromisoformat(value)
        out[column.name] = value
    return out


def read_table(run_dir: Path | str, table: Table, run_key: str) -> pa.Table:
    """One table of a run as Arrow: deduplicated on the key (last row wins), sorted by key."""
    path = table_file(Path(run_dir), table.name)
    rows: dict[tuple, dict[str, Any]] = {}
    for row in read_rows(path):
        unknown = set(row) - set(table.column_names)
        if unknown:
            raise LoadError(f"{path}: undeclared columns {sorted(unknown)}")
        if row.get("run_key") != run_key:
            raise LoadError(f"{path}: row of run {row.get('run_key')!r}, expected {run_key!r}")
        key = tuple(row.get(k) for k in table.key)
        rows.pop(key, None)  # re-insert: the last occurrence wins
        rows[key] = _typed(table, row)
    ordered = [rows[k] for k in sorted(rows, key=lambda k: tuple((v is None, v) for v in k))]
    try:
        return pa.Table.from_pylist(ordered, schema=table.arrow_schema())
    except (pa.ArrowException, TypeError, ValueError) as err:
        raise LoadError(f"{path}: rows do not fit {table.qualified_name}: {err}") from None


def load_run(run_dir: Path | str, run_key: str, site: str | None = None) -> dict[str, int]:
    """Replace the run's partition in every bronze table; returns ``{"bronze.<table>": Delta version}``.
    ``site`` goes into the run's crawl_runs row (what the next crawls of that site learn from)."""
    run_dir = Path(run_dir)
    if not table_file(run_dir, bronze.CRAWL_RUNS.name).exists():
        raise LoadError(f"{run_dir}: no crawl_runs.jsonl - the crawl did not finish its accounting")
    tables = {t.name: read_table(run_dir, t, run_key) for t in bronze.CRAWL_TABLES}  # read all before writing any
    runs = tables[bronze.CRAWL_RUNS.name]
    if site is not None:
        column = runs.schema.get_field_index("site")
        runs = runs.set_column(column, runs.schema.field(column), pa.array([site] * runs.num_rows, pa.string()))
        tables[bronze.CRAWL_RUNS.name] = runs
    versions = {}
    for table in bronze.CRAWL_TABLES:
        # In the tables an import writes too, the crawl replaces only its own source's rows of the run.
        partition = {"run_key": run_key, **({"source": SOURCE} if table in bronze.SHARED_TABLES else {})}
        versions[table.qualified_name] = delta.replace_partition(table, tables[table.name], partition)
    logger.info("loaded crawl run %s into bronze: %s", run_key, {n: t.num_rows for n, t in tables.items()})
    return versions
