"""Spark's log stays out of the terminal: a real session from the factory, in a subprocess, prints only what
the program prints; Spark's lines (log4j's, the JVM's own, the Python workers' stderr) are in its log file."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

PROGRAM = """
import sys
from spark_jobs.session import driver_log, get_spark

spark = get_spark("log test")

def noisy(batches):
    import sys
    print("a worker's stderr line", file=sys.stderr, flush=True)
    yield from batches

print("count", spark.range(6, numPartitions=2).mapInPandas(noisy, "id long").count(), flush=True)
system = spark.sparkContext._jvm.java.lang.System
print("props", system.getProperty("user.marker"), system.getProperty("java.io.tmpdir"), flush=True)
print("log", driver_log(), flush=True)
spark.stop()
print("stopped", flush=True)
"""
# What Spark's default profile and the JVM print on a terminal (issue 17).
NOISE = ("log4j", "Setting default log level", "setLogLevel", "NativeCodeLoader", "WARN SparkConf", "WARN Utils",
         "WARNING: Using incubator modules", "a worker's stderr line", " WARN ", " INFO ")


def test_a_session_prints_nothing_of_sparks_on_the_terminal_and_logs_it_to_a_file(tmp_path):
    home = tmp_path / "a home"  # a space: the factory's Java options must survive Spark's option splitting
    conf = tmp_path / "spark-conf"
    conf.mkdir()
    # A user's own driver options (spark-defaults.conf) are kept beside the factory's.
    (conf / "spark-defaults.conf").write_text("spark.driver.extraJavaOptions -Duser.marker=kept\n")
    env = {**os.environ, "SCENETUNE_HOME": str(home), "SPARK_MASTER": "local[1]", "PYSPARK_PYTHON": sys.executable,
           "SPARK_CONF_DIR": str(conf), "SCENETUNE_SPARK_SHUFFLE_PARTITIONS": "1"}
    env.pop("PYSPARK_SUBMIT_ARGS", None)
    done = subprocess.run([sys.executable, "-c", PROGRAM], env=env, capture_output=True, text=True, timeout=180,
                          cwd=Path(__file__).resolve().parents[2])
    assert done.returncode == 0, done.stderr[-3000:]
    terminal = done.stdout + done.stderr
    assert not [word for word in NOISE if word in terminal], terminal
    lines = done.stdout.splitlines()
    log = home / "logs" / "spark" / lines[2].removeprefix("log ").rsplit("/", 1)[-1]
    assert lines == ["count 6", f"props kept {home / 'spark' / 'tmp'}", f"log {log}", "stopped"]
    assert done.stderr == ""

    # Everything the terminal was spared is in the driver's log, one file for this JVM.
    assert [p.name for p in (home / "logs" / "spark").iterdir()] == [log.name]
    assert re.fullmatch(r"\d{8}T\d{6}Z-log_test-\d+\.log", log.name), log.name  # <UTC time>-<app>-<pid>.log
    text = log.read_text(errors="replace")
    for line in ("WARN [Thread-3] NativeCodeLoader: Unable to load native-hadoop library", "SparkContext: Running Spark "
                 "version", "SparkContext: Submitted application: log test", "a worker's stderr line",
                 "WARNING: Using incubator modules", "SparkContext: Successfully stopped SparkContext"):
        assert line.split("] ")[-1] in text, line
    assert "Using Spark's default log4j profile" not in text  # our configuration, not Spark's default profile
