"""Ending a command-line process once its work is written; child process groups that die with their command."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import NoReturn

PARENT_PID_ENV = "SCENETUNE_PARENT_PID"  # set by run_group: the pid a child's watch_parent watches
PARENT_POLL_S = 0.2


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


def run_group(cmd: list[str], env: dict[str, str], stdout=None, stderr=None, pass_fds: tuple[int, ...] = (),
              grace_s: float = 5.0) -> int:
    """Run ``cmd`` as the leader of a new process group (and session) that dies with this process.

    The child is told this pid (``SCENETUNE_PARENT_PID``) and calls :func:`watch_parent`: when this
    process goes, even by ``kill -9``, the child kills its whole group (its Spark JVM, Python workers,
    crawl subprocess). In its own session the terminal's Ctrl-C reaches only this process, which
    forwards it: SIGINT to the group, then after ``grace_s`` SIGTERM (the JVM deletes its scratch on
    it), then SIGKILL; the KeyboardInterrupt is raised again once the group is gone.
    """
    proc = subprocess.Popen(cmd, env={**env, PARENT_PID_ENV: str(os.getpid())}, stdout=stdout, stderr=stderr,
                            start_new_session=True, pass_fds=pass_fds)
    try:
        return proc.wait()
    except KeyboardInterrupt:
        stop_group(proc, grace_s)
        raise


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stop_group(proc: subprocess.Popen, grace_s: float = 5.0) -> None:
    """Stop the group ``proc`` leads: SIGINT, SIGTERM after ``grace_s``, SIGKILL 2 s later (bounded: ~grace_s + 3 s)."""
    pgid = proc.pid
    for sig, wait_s in ((signal.SIGINT, grace_s), (signal.SIGTERM, 2.0), (signal.SIGKILL, 1.0)):
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:  # nobody left in the group
            break
        deadline = time.monotonic() + wait_s
        try:
            while time.monotonic() < deadline:
                if proc.poll() is not None and not _group_alive(pgid):
                    return
                time.sleep(0.1)
        except KeyboardInterrupt:  # a second Ctrl-C: on to the next, firmer signal
            continue
    proc.poll()


@contextlib.contextmanager
def on_ctrl_c(callback: Callable[[], object]) -> Iterator[None]:
    """Call ``callback`` from a helper thread the moment Ctrl-C (SIGINT) arrives, in the main thread only.

    Python runs its SIGINT handler (KeyboardInterrupt) only when the main thread returns to bytecode,
    which a long native call (a DuckDB query) does not do until it ends. The signal's C handler still
    writes to the wakeup fd at once, so a thread reading that fd can stop the native work (e.g.
    ``duckdb.interrupt()``); KeyboardInterrupt then follows as usual.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    reader, writer = socket.socketpair()
    writer.setblocking(False)
    previous = signal.set_wakeup_fd(writer.fileno(), warn_on_full_buffer=False)

    def watch() -> None:
        while True:
            try:
                data = reader.recv(64)
            except OSError:
                return
            if not data:
                return
            if signal.SIGINT in data:
                callback()

    watcher = threading.Thread(target=watch, name="ctrl-c", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        signal.set_wakeup_fd(previous)
        writer.close()  # the watcher's recv returns b"" and it ends
        watcher.join(timeout=1)
        reader.close()


def watch_parent(poll_s: float = PARENT_POLL_S) -> None:
    """In a child started by :func:`run_group`: kill this process group as soon as the parent is gone.

    A daemon thread compares ``os.getppid()`` with the pid the parent left in ``SCENETUNE_PARENT_PID``
    (an orphan is re-parented to PID 1 or a subreaper). SIGKILL, not a polite signal: an orphan must
    not finish what it was doing (a publish). No-op when not started by run_group.
    """
    raw = os.environ.pop(PARENT_PID_ENV, "")  # popped: the group's own children have another parent
    if not raw.isdigit():
        return
    parent = int(raw)

    def orphaned() -> None:
        target = os.getpgrp() if os.getpgrp() == os.getpid() else 0
        if target:
            os.killpg(target, signal.SIGKILL)
        os.kill(os.getpid(), signal.SIGKILL)

    if os.getppid() != parent:  # the parent died before this line ran
        orphaned()

    def watch() -> None:
        while True:
            time.sleep(poll_s)
            if os.getppid() != parent:
                orphaned()

    threading.Thread(target=watch, name="scenetune-parent-watch", daemon=True).start()
