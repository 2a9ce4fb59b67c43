"""The one SparkSession factory: local by default, a cluster via ``SPARK_MASTER``.

Every Spark job gets its session here, whether Airflow runs it in a task or a
user runs it with ``spark-submit`` (whose ``--master`` then wins). Sized for small machines (2 cores,
24 GiB): few shuffle partitions, bounded driver memory. A ``spark://`` master that
does not answer fails here at once, naming the URL (a ConfigurationError: no task retries it).

Spark's log stays out of the terminal: the driver JVM this factory starts gets
``spark_jobs/log4j2.properties`` (every log4j line to ``SCENETUNE_HOME/logs/spark/<time>-<app>-<pid>.log``,
none to the console, so no "Using Spark's default log4j profile" banner either), and its stdout and
stderr go to that same file: what the JVM prints before log4j starts ("WARNING: Using incubator
modules"), and what Python workers print (their stderr is the JVM's). The options go in
``spark.driver.defaultJavaOptions``: a ``spark.driver.extraJavaOptions`` of the user's (spark-defaults.conf,
``PYSPARK_SUBMIT_ARGS``) is kept and comes after them. Only the driver gets them: executors of a cluster
log where their worker keeps its applications' logs, as before. The driver's ``java.io.tmpdir`` is
the Spark scratch folder too, so the temp files a killed driver leaves are where maintenance looks.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shlex
import socket
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

from core import settings
from core.errors import ConfigurationError, ScenetuneError

log = logging.getLogger(__name__)

MASTER_CONNECT_TIMEOUT_S = 5.0
_SHARED = {"keep_open": False}
LOG4J2_CONFIG = Path(__file__).with_name("log4j2.properties")
SPARK_LOG_PROPERTY = "scenetune.spark.log"  # the JVM system property log4j2.properties reads the file name from
_DRIVER = {"log": None}  # the log file of the driver JVM this process started, once it did
_DRIVER_LOCK = threading.Lock()  # one JVM per process, also when a warm-up thread and a task ask at once


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
    local_dir = s.spark_scratch_dir
    local_dir.mkdir(parents=True, exist_ok=True)
    log_path = _DRIVER["log"] or driver_log_path(app_name, s)  # a JVM started earlier keeps its log
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
        .config("spark.driver.defaultJavaOptions", driver_java_options(s, log_path))
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
    if submitted is None:
        # What PySpark's getOrCreate would pass to spark-submit when it starts the JVM (the builder's options).
        _start_driver(dict(builder._options), log_path)
    spark = builder.getOrCreate()
    if spark.sparkContext._jvm.java.lang.System.getProperty("log4j2.configurationFile") is None:
        # A JVM started elsewhere (spark-submit) with Spark's default profile logs to its console: keep
        # that to errors once the session runs. (With a log4j configuration of its own, that one decides.)
        spark.sparkContext.setLogLevel("ERROR")
    return spark


def driver_log_path(app_name: str, s: settings.Settings | None = None) -> Path:
    """Where a driver JVM started now by this process logs: ``logs/spark/<UTC time>-<app>-<pid>.log``."""
    s = s or settings.load()
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    return s.spark_logs_dir / f"{stamp}-{re.sub(r'[^A-Za-z0-9_.-]+', '_', app_name)[:40]}-{os.getpid()}.log"


def driver_log() -> Path | None:
    """The log file of the driver JVM this process started, or None (none yet, or spark-submit's)."""
    return _DRIVER["log"]


def _java_option(name: str, value: object) -> str:
    # Spark's launcher splits Java options as a shell would (quotes, backslashes): quote what needs it.
    return shlex.quote(f"-D{name}={value}")


def driver_java_options(s: settings.Settings, log_path: Path) -> str:
    """The driver JVM's own options: its log (log4j2 to a file), Derby's and the JVM's temp files under SCENETUNE_HOME."""
    options = [_java_option("derby.system.home", s.home / "spark"),
               _java_option("java.io.tmpdir", s.spark_scratch_dir)]
    if LOG4J2_CONFIG.is_file():  # (an install without it logs with Spark's default profile, into the same file)
        options += [_java_option("log4j2.configurationFile", LOG4J2_CONFIG.as_uri()),
                    _java_option(SPARK_LOG_PROPERTY, log_path)]
    return " ".join(options)


def _start_driver(options: dict[str, str], log_path: Path) -> None:
    """Start the driver JVM (PySpark's spark-submit gateway) with its stdout and stderr in ``log_path``.

    PySpark would start it inside ``getOrCreate`` with the terminal as its stderr; started here
    (``launch_gateway``'s ``popen_kwargs``, the hook PySpark documents for capturing them), the session
    then attaches to it. Nothing to do when this process has a JVM already (a session stopped earlier).
    """
    from pyspark import SparkConf, SparkContext
    from pyspark.java_gateway import launch_gateway

    with _DRIVER_LOCK:
        if getattr(SparkContext, "_gateway", None) is not None:
            return
        log_path.parent.mkdir(parents=True, exist_ok=True)
        conf = SparkConf(loadDefaults=False)
        conf.setAll(options.items())
        with log_path.open("ab", buffering=0) as out:  # the JVM keeps its own copy of the descriptor
            try:
                gateway = launch_gateway(conf, popen_kwargs={"stdout": out, "stderr": out})
            except Exception as err:  # noqa: BLE001 - PySparkRuntimeError JAVA_GATEWAY_EXITED, OSError: say why
                raise ScenetuneError(f"Java gateway process exited before Spark started: {_last_lines(log_path)} "
                                     f"(Spark's log: {log_path})") from err
        SparkContext._ensure_initialized(gateway=gateway)
        _DRIVER["log"] = log_path
    log.info("Spark driver log: %s", log_path)


def _last_lines(path: Path, count: int = 3) -> str:
    try:
        lines = [line.strip() for line in path.read_text(errors="replace").splitlines() if line.strip()]
    except OSError:
        lines = []
    return " / ".join(lines[-count:]) or "it printed nothing"


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
