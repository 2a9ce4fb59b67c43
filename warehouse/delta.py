"""Delta tables written with delta-rs.

Spark cannot load the Delta jars on machines without Maven access, so every
Delta commit goes through ``deltalake`` (delta-rs): Spark stages Parquet,
delta-rs commits it. Spark reads a Delta table through :func:`file_uris`
(the files of one version), never by globbing the folder, which would also
pick up files that a later version removed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

import pyarrow as pa
import pyarrow.dataset as pads
from deltalake import DeltaTable, write_deltalake

from schemas.table import Table


def _sql_literal(value: object) -> str:
    if isinstance(value, (int, float)):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


def _conform(table: Table, data: pa.Table) -> pa.Table:
    """Order and cast columns to the declared schema; a missing column is an error."""
    missing = [c for c in table.column_names if c not in data.column_names]
    if missing:
        raise ValueError(f"{table.qualified_name}: data lacks columns {missing}")
    extra = [c for c in data.column_names if c not in table.column_names]
    if extra:
        raise ValueError(f"{table.qualified_name}: data has undeclared columns {extra}")
    return data.select(table.column_names).cast(table.arrow_schema())


def exists(path: Path | str) -> bool:
    return DeltaTable.is_deltatable(str(path))


def replace_partition(table: Table, data: pa.Table, path: Path | str, partition: dict[str, object]) -> int:
    """Replace exactly the rows of one partition (e.g. one crawl run); return the new version.

    Re-running with the same data gives the same table contents: the old rows
    of the partition are removed in the same commit that adds the new ones.
    """
    data = _conform(table, data)
    for col, value in partition.items():
        values = set(data.column(col).to_pylist())
        if values - {value}:
            raise ValueError(f"{table.qualified_name}: rows outside partition {col}={value!r}: {values}")
    path = str(path)
    Path(path).mkdir(parents=True, exist_ok=True)
    if not exists(path):
        write_deltalake(path, data, mode="append", partition_by=list(table.partition_by) or None)
    else:
        predicate = " AND ".join(f"{c} = {_sql_literal(v)}" for c, v in partition.items())
        write_deltalake(path, data, mode="overwrite", predicate=predicate)
    return DeltaTable(path).version()


def overwrite(table: Table, data: pa.Table | pa.RecordBatchReader, path: Path | str) -> int:
    """Replace the whole table (for small derived tables rebuilt every run)."""
    if isinstance(data, pa.Table):
        data = _conform(table, data)
    path = str(path)
    Path(path).mkdir(parents=True, exist_ok=True)
    write_deltalake(
        path,
        data,
        mode="overwrite",
        schema_mode="overwrite",
        partition_by=list(table.partition_by) or None,
    )
    return DeltaTable(path).version()


def read(path: Path | str, version: int | None = None, columns: Iterable[str] | None = None,
         filters: list[tuple] | None = None) -> pa.Table:
    dt = DeltaTable(str(path), version=version)
    ds = dt.to_pyarrow_dataset()
    expr = None
    for col, op, value in filters or []:
        term = {"=": pads.field(col) == value, "in": pads.field(col).isin(value)}[op]
        expr = term if expr is None else expr & term
    return ds.to_table(columns=list(columns) if columns else None, filter=expr)


def file_uris(path: Path | str, version: int | None = None) -> list[str]:
    """Parquet files of one table version: what Spark must read, and nothing else."""
    return DeltaTable(str(path), version=version).file_uris()


def version(path: Path | str) -> int | None:
    return DeltaTable(str(path)).version() if exists(path) else None


def count_rows(path: Path | str, version: int | None = None) -> int:
    return DeltaTable(str(path), version=version).to_pyarrow_dataset().count_rows()
