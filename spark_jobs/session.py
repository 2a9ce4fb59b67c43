"""The one SparkSession factory: local by default, a cluster via ``SPARK_MASTER``.

Every Spark job gets its session here, whether Airflow runs it in a task or a
user runs it with ``spark-submit``. Sized for small machines (2 cores,
24 GiB): few shuffle partitions, bounded driver memory, quiet logs.
"""

from __future__ import annotations

import contextlib
import os
from typing import Iterator

from core import settings


def get_spark(app_name: str = "scenetune"):
    """Return the active session if there is one (spark-submit, tests), else build one."""
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    s = settings.load()
    # Workers must run the same interpreter as the driver (the project's venv).
    os.environ.setdefault("PYSPARK_PYTHON", s.pyspark_python)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", s.pyspark_python)
    if s.spark_master.startswith("local"):
        # Bind to loopback: the machine's hostname may resolve to an address we cannot use.
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    local_dir = s.home / "spark" / "tmp"
    local_dir.mkdir(parents=True, exist_ok=True)
    builder = (
        SparkSession.builder.appName(app_name)
        .master(s.spark_master)
        .config("spark.driver.memory", s.spark_driver_memory)
        .config("spark.sql.shuffle.partitions", str(s.spark_shuffle_partitions))
        .config("spark.default.parallelism", str(max(2, s.spark_shuffle_partitions)))
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.adaptive.enabled", "true")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.local.dir", str(local_dir))
        .config("spark.sql.warehouse.dir", str(s.home / "spark" / "warehouse"))
        .config("spark.driver.extraJavaOptions", f"-Dderby.system.home={s.home / 'spark'}")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
        # Partition values such as run ids stay strings (delta-rs writes them as strings).
        .config("spark.sql.sources.partitionColumnTypeInference.enabled", "false")
    )
    if s.delta_writer == "delta-spark":
        # Only on clusters that can load the Delta jars (they come from Maven).
        from delta import configure_spark_with_delta_pip

        builder = configure_spark_with_delta_pip(
            builder.config("spark.sql.extensions", "io.delta.sql.DeltaSparkSessionExtension").config(
                "spark.sql.catalog.spark_catalog", "org.apache.spark.sql.delta.catalog.DeltaCatalog"
            )
        )
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


@contextlib.contextmanager
def spark_session(app_name: str, spark=None) -> Iterator:
    """The given or active session, left running; else a new one, stopped at the end.

    A job run by ``spark-submit`` or a test keeps its session; a job run in an
    Airflow task frees the JVM (and its memory) for the tasks that follow.
    """
    from pyspark.sql import SparkSession

    if spark is not None or SparkSession.getActiveSession() is not None:
        yield spark or SparkSession.getActiveSession()
        return
    session = get_spark(app_name)
    try:
        yield session
    finally:
        session.stop()
