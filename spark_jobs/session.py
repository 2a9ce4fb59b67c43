"""The one SparkSession factory: local by default, a cluster via ``SPARK_MASTER``.

Every Spark job gets its session here, whether Airflow runs it in a task or a
user runs it with ``spark-submit`` (whose ``--master`` then wins). Sized for small machines (2 cores,
24 GiB): few shuffle partitions, bounded driver memory, quiet logs. A ``spark://`` master that
does not answer fails here at once, naming the URL (a ConfigurationError: no task retries it).
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
from typing import Iterator

from core import settings
from core.errors import ConfigurationError

log = logging.getLogger(__name__)

MASTER_CONNECT_TIMEOUT_S = 5.0
_SHARED = {"keep_open": False}


def submitted_master() -> str | None:
    """The master ``spark-submit --master`` gave this process, or None when it does not run under spark-submit.

    spark-submit starts the JVM before the script runs (and passes its port in
    ``PYSPARK_GATEWAY_PORT``); its ``--master`` (default ``local[*]``) is what the user asked for
    there, so it wins over ``SPARK_MASTER``.
    """
    if "PYSPARK_GATEWAY_PORT" not in os.environ:
        return None
    from pyspark import SparkConf, SparkContext

    SparkContext._ensure_initialized()  # attach to spark-submit's JVM so SparkConf sees its properties
    return SparkConf().get("spark.master", None)


def check_master(master: str, timeout_s: float = MASTER_CONNECT_TIMEOUT_S) -> None:
    """Fail at once, in one line naming the URL, when no master of a ``spark://`` URL accepts a connection.

    Spark itself retries the registration for over a minute and then fails with a
    page of Java stack; a task that cannot reach its cluster should say so plainly.
    ``spark://h1:7077,h2:7077`` (standby masters) passes when any of them answers.
    """
    if not master.startswith("spark://"):
        return
    errors = []
    for hostport in master[len("spark://"):].split(","):
        host, _, port = hostport.rpartition(":")
        try:
            with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout_s):
                return
        except (OSError, ValueError) as err:
            errors.append(f"{hostport}: {err.strerror if isinstance(err, OSError) and err.strerror else err}")
    raise ConfigurationError(
        f"the Spark master {master} cannot be reached ({'; '.join(errors)}): start it, or set SPARK_MASTER "
        "to a running master (local[*] runs Spark on this machine)"
    )


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
    submitted = submitted_master()
    master = submitted or s.spark_master
    if master.startswith("local"):
        # Bind to loopback: the machine's hostname may resolve to an address we cannot use.
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    check_master(master)
    local_dir = s.home / "spark" / "tmp"
    local_dir.mkdir(parents=True, exist_ok=True)
    builder = (
        SparkSession.builder.appName(app_name)
        .master(master)
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


def share_sessions(warm_up: bool = False) -> None:
    """Keep the first Spark task's session for the tasks after it, in this process.

    For a process that runs a whole DAG run's tasks one after another (``airflow dags test``: `make demo`,
    `scenetune refresh`): each Spark task would otherwise start a new context and new Python workers,
    which import their libraries again. The JVM goes when the process ends. ``warm_up``: start the
    session and its Python workers now, in the background, while the first tasks (a crawl: one busy
    core of two) run; a warm-up that fails only logs, and the first Spark task then says why.
    """
    _SHARED["keep_open"] = True
    if warm_up:
        threading.Thread(target=_warm_up, name="spark-warm-up", daemon=True).start()


def _warm_up() -> None:
    try:
        spark = get_spark("scenetune")
        spark.range(2, numPartitions=2).mapInPandas(lambda batches: batches, "id long").count()
    except Exception as err:  # noqa: BLE001 - the first Spark task starts (or fails) on its own
        log.info("Spark warm-up skipped: %s", " ".join(str(err).split())[:200])


@contextlib.contextmanager
def spark_session(app_name: str, spark=None) -> Iterator:
    """The given or active session, left running; else a new one, stopped at the end (unless
    :func:`share_sessions` was called).

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
        if not _SHARED["keep_open"]:
            session.stop()
