"""Moving tables between Delta (delta-rs) and Spark.

Read: the Parquet files of one Delta version (``file_uris``), with the table
folder as ``basePath`` so Spark restores Hive-style partition columns.
Write: Spark stages Parquet under ``staging/<build_id>/<table>``, then
delta-rs commits the staged files as one new table version.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow.dataset as pads

from schemas.table import Table
from scenetune import settings
from warehouse import delta


def read_delta(spark, table: Table, version: int | None = None):
    """DataFrame of one Delta table version, columns as declared in schemas/."""
    path = settings.load().delta_path(table.layer, table.name)
    if not delta.exists(path):
        return spark.createDataFrame([], table.spark_ddl())
    uris = delta.file_uris(path, version)
    if not uris:
        return spark.createDataFrame([], table.spark_ddl())
    df = spark.read.option("basePath", str(path)).parquet(*uris)
    target = spark.createDataFrame([], table.spark_ddl()).schema
    return df.select([df[f.name].cast(f.dataType).alias(f.name) for f in target.fields])


def stage(df, table: Table, build_id: str) -> Path:
    """Write a DataFrame as Parquet into the build's staging folder (replaced if it exists)."""
    out = settings.load().staging_dir / build_id / table.layer / table.name
    if out.exists():
        shutil.rmtree(out)
    df.select(table.column_names).write.mode("overwrite").parquet(str(out))
    return out


def commit_staged(table: Table, staged: Path) -> int:
    """Replace the Delta table with the staged Parquet files in one delta-rs commit."""
    dataset = pads.dataset(str(staged), format="parquet", schema=None)
    data = dataset.to_table().select(table.column_names).cast(table.arrow_schema())
    return delta.overwrite(table, data, settings.load().delta_path(table.layer, table.name))


def write_table(df, table: Table, build_id: str) -> int:
    """Stage ``df`` and commit it as the new version of ``table``; return the Delta version."""
    if settings.load().delta_writer == "delta-spark":
        path = settings.load().delta_path(table.layer, table.name)
        df.select(table.column_names).write.format("delta").mode("overwrite").option(
            "overwriteSchema", "true"
        ).save(str(path))
        return delta.version(path)
    return commit_staged(table, stage(df, table, build_id))
