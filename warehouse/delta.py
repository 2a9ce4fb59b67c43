"""Delta tables written with delta-rs.

Spark cannot load the Delta jars on machines without Maven access, so every
Delta commit goes through ``deltalake`` (delta-rs): Spark stages Parquet,
delta-rs commits it. Spark reads a Delta table through :func:`file_uris`
(the files of one version), never by globbing the folder, which would also
pick up files that a later version removed.

Functions take a :class:`~schemas.table.Table` (its Delta folder is
``table.path``) or, for reads, a folder.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as pads
from deltalake import DeltaTable, WriterProperties, write_deltalake

from core.errors import ScenetuneError
from schemas.table import Table

# Row groups of at most this many rows (delta-rs buffers a whole row group per file before writing it: its
# default of ~1M rows held ~2 GB of the 7M-row song table on the driver; DuckDB reads 122,880-row groups).
ROW_GROUP_ROWS = 131_072

Location = Table | Path | str


def _where(target: Location) -> str:
    return str(target.path if isinstance(target, Table) else target)


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


def _require_declared_columns(table: Table, path: str) -> None:
    """A table written by an older scenetune cannot take new partitions: say so in one line."""
    found = [f.name for f in DeltaTable(path).schema().fields]
    if found != table.column_names:
        raise ScenetuneError(
            f"{table.qualified_name} at {path} has columns {found}, this scenetune declares "
            f"{table.column_names}: it was written by another version; move SCENETUNE_HOME aside and refresh"
        )


def exists(target: Location) -> bool:
    return DeltaTable.is_deltatable(_where(target))


def replace_partition(table: Table, data: pa.Table, partition: dict[str, object]) -> int:
    """Replace exactly the rows of one partition (e.g. one run); return the new version.

    Re-running with the same data gives the same table contents: the old rows
    of the partition are removed in the same commit that adds the new ones.
    ``partition`` may name columns that are not partition columns (a run's rows
    of one source): the rows replaced are those matching all of it.
    """
    return replace_partition_batches(table, data, partition)


def replace_partition_batches(table: Table, data: pa.Table | Iterable[pa.RecordBatch],
                              partition: dict[str, object]) -> int:
    """:func:`replace_partition` from a table or a stream of record batches (written as they come: memory
    stays that of one batch)."""
    schema = table.arrow_schema()

    def conformed() -> Iterator[pa.RecordBatch]:
        for batch in (data.to_batches() if isinstance(data, pa.Table) else data):
            batch = _conform(table, pa.Table.from_batches([batch]))
            for col, value in partition.items():
                values = set(pc.unique(batch.column(col)).to_pylist())
                if values - {value}:
                    raise ValueError(f"{table.qualified_name}: rows outside partition {col}={value!r}: {values}")
            yield from batch.to_batches()

    reader = pa.RecordBatchReader.from_batches(schema, conformed())
    path = _where(table)
    Path(path).mkdir(parents=True, exist_ok=True)
    if not exists(path):
        write_deltalake(path, reader, mode="append", partition_by=list(table.partition_by) or None)
    else:
        _require_declared_columns(table, path)
        predicate = " AND ".join(f"{c} = {_sql_literal(v)}" for c, v in partition.items())
        write_deltalake(path, reader, mode="overwrite", predicate=predicate)
    return DeltaTable(path).version()


def overwrite(table: Table, data: pa.Table | pa.RecordBatchReader) -> int:
    """Replace the whole table (derived tables rebuilt every run); return the new version."""
    if isinstance(data, pa.Table):
        data = _conform(table, data)
    path = _where(table)
    Path(path).mkdir(parents=True, exist_ok=True)
    write_deltalake(
        path,
        data,
        mode="overwrite",
        schema_mode="overwrite",
        partition_by=list(table.partition_by) or None,
        writer_properties=WriterProperties(max_row_group_size=ROW_GROUP_ROWS),
    )
    return DeltaTable(path).version()


def read(target: Location, version: int | None = None, columns: Iterable[str] | None = None,
         filters: list[tuple] | None = None) -> pa.Table:
    dt = DeltaTable(_where(target), version=version)
    partition_columns = set(dt.metadata().partition_columns)
    # Filters on partition columns also select files from the Delta log, before any file is opened.
    by_log = [(col, op, [str(v) for v in value] if op == "in" else str(value))
              for col, op, value in filters or [] if col in partition_columns and (op != "in" or value)]
    ds = dt.to_pyarrow_dataset(partitions=by_log or None)
    expr = None
    for col, op, value in filters or []:
        term = {"=": pads.field(col) == value, "in": pads.field(col).isin(value)}[op]
        expr = term if expr is None else expr & term
    wanted = list(columns) if columns else None
    try:
        return ds.to_table(columns=wanted, filter=expr)
    except pa.ArrowNotImplementedError:
        # Files written by a merge hold string_view columns beside the string ones of other writes, and pyarrow
        # cannot prune such a mix by statistics: read the columns involved, then filter in memory.
        needed = None if wanted is None else list(dict.fromkeys(wanted + [f[0] for f in filters or []]))
        table = ds.to_table(columns=needed).filter(expr)
        return table.select(wanted) if wanted else table


def read_or_empty(table: Table, version: int | None = None, columns: Iterable[str] | None = None,
                  filters: list[tuple] | None = None) -> pa.Table:
    """Like :func:`read`, but a table that was never written reads as its declared, empty schema."""
    if exists(table):
        return read(table, version, columns, filters)
    empty = table.arrow_schema().empty_table()
    return empty.select(list(columns)) if columns else empty


def file_uris(target: Location, version: int | None = None) -> list[str]:
    """Parquet files of one table version: what Spark must read, and nothing else."""
    return DeltaTable(_where(target), version=version).file_uris()


def version(target: Location) -> int | None:
    return DeltaTable(_where(target)).version() if exists(target) else None


def readable(target: Location, version: int) -> bool:
    """Every data file of ``version`` is still there (not vacuumed)."""
    try:
        return all(Path(uri.removeprefix("file://")).exists() for uri in DeltaTable(_where(target), version=version).file_uris())
    except Exception:  # noqa: BLE001 - a version whose log is gone is not readable either
        return False


def count_rows(target: Location, version: int | None = None) -> int:
    return DeltaTable(_where(target), version=version).to_pyarrow_dataset().count_rows()


def _quoted(column: str) -> str:
    return '"' + column.replace('"', '""') + '"'


def merge(table: Table, data: pa.Table, *, update: bool = True, insert: bool = True,
          update_if: str | None = None, within: dict[str, object] | None = None) -> dict[str, int]:
    """Merge rows into ``table`` on its declared key, in one commit; return delta-rs's merge metrics.

    Matched rows are replaced by the incoming ones (where the SQL predicate ``update_if`` over ``t.``
    (table) and ``s.`` (incoming) holds), the others inserted: running it again with the same rows
    changes nothing. ``within`` ({column: value}) confines the match to one partition, so only its
    files are read.
    """
    data = _conform(table, data)
    path = _where(table)
    if not data.num_rows:
        return {"num_target_rows_inserted": 0, "num_target_rows_updated": 0}
    if not exists(path):
        if not insert:
            return {"num_target_rows_inserted": 0, "num_target_rows_updated": 0}
        Path(path).mkdir(parents=True, exist_ok=True)
        write_deltalake(path, data, mode="append", partition_by=list(table.partition_by) or None)
        return {"num_target_rows_inserted": data.num_rows, "num_target_rows_updated": 0}
    _require_declared_columns(table, path)
    terms = [f"t.{_quoted(c)} = s.{_quoted(c)}" for c in table.key]
    terms += [f"t.{_quoted(c)} = {_sql_literal(v)}" for c, v in (within or {}).items()]
    merger = DeltaTable(path).merge(data, predicate=" AND ".join(terms), source_alias="s", target_alias="t")
    if update:
        merger = merger.when_matched_update_all(predicate=update_if)
    if insert:
        merger = merger.when_not_matched_insert_all()
    return merger.execute()
