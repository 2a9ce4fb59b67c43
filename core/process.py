"""Ending a command-line process once its work is written."""

from __future__ import annotations

import logging
import os
import sys
from typing import NoReturn


def exit_now(code: int, stop_spark: bool = True) -> NoReturn:
    """Exit with ``code`` once everything is written.

    Native threads that delta-rs, DuckDB or ONNX Runtime leave running can abort the interpreter's
    teardown ("terminate called without an active exception"), turning a finished command's exit code
    into SIGABRT; the teardown is skipped, and what it would have done that matters (stop Spark, flush
    the logs and streams) is done here first.
    """
    pyspark_sql = sys.modules.get("pyspark.sql")  # only when the process used Spark: never imported here
    if stop_spark and pyspark_sql is not None and pyspark_sql.SparkSession.getActiveSession() is not None:
        pyspark_sql.SparkSession.getActiveSession().stop()
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (`| head`) has nothing left to receive
            pass
    os._exit(code)
