"""Moving tables between Delta (delta-rs) and Spark.

Read: the Parquet files of one Delta version (``file_uris``), with the table
folder as ``basePath`` so Spark restores Hive-style partition columns.
Write: Spark stages Parquet under ``staging/<run_key>/<table>``, then
delta-rs commits the staged files as one new table version; the run's
staging folder is removed once its build is committed.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as pads

from core import settings
from schemas.table import Table
from warehouse import delta


def read_delta(spark, table: Table, version: int | None = None):
    """DataFrame of one Delta table version (default: the latest), columns as declared in schemas/."""
    empty = spark.createDataFrame([], table.spark_ddl())
    if not delta.exists(table):
        return empty
    uris = delta.file_uris(table, version)
    if not uris:
        return empty
    df = spark.read.option("basePath", str(table.path)).parquet(*uris)
    return df.select([df[f.name].cast(f.dataType).alias(f.name) for f in empty.schema.fields])


def staging_dir(run_key: str) -> Path:
    return settings.load().staging_dir / run_key


def stage(df, table: Table, run_key: str) -> Path:
    """Write a DataFrame as Parquet into the run's staging folder (replaced if it exists)."""
    out = staging_dir(run_key) / table.layer / table.name
    if out.exists():
        shutil.rmtree(out)
    df.select(table.column_names).write.mode("overwrite").parquet(str(out))
    return out


def commit_staged(table: Table, staged: Path) -> int:
    """Replace the Delta table with the staged Parquet files in one delta-rs commit, streamed batch by batch
    (read whole and then cast, 7M song rows were held ~2x their size on the driver)."""
    schema = table.arrow_schema()
    # One file and one batch read ahead at a time: pyarrow's default readahead holds many on the driver.
    batches = pads.dataset(str(staged), format="parquet").to_batches(columns=table.column_names,
                                                                     batch_readahead=1, fragment_readahead=1)
    conformed = (batch.cast(schema) for batch in batches)
    return delta.overwrite(table, pa.RecordBatchReader.from_batches(schema, conformed))


def write_table(df, table: Table, run_key: str) -> int:
    """Stage ``df`` and commit it as the new version of ``table``; return the Delta version."""
    if settings.load().delta_writer == "delta-spark":
        df.select(table.column_names).write.format("delta").mode("overwrite").option(
            "overwriteSchema", "true"
        ).save(str(table.path))
        return delta.version(table)
    return commit_staged(table, stage(df, table, run_key))


def remove_staging(run_key: str) -> None:
    """Drop the run's staged Parquet once every table of its build is committed."""
    shutil.rmtree(staging_dir(run_key), ignore_errors=True)
