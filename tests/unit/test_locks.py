"""One run at a time: the run lock names its holder, a stale one is broken, a dying tree is waited for."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from core import locks

HOLD = ("import sys, time\n"
        "from core import locks\n"
        "lock = locks.acquire(sys.argv[1], 'a refresh', command='test holder')\n"
        "print('held', flush=True)\n"
        "time.sleep(600)\n")
# The holder forks a child that keeps the lock's file open, then exits: the lock outlives its pid.
HOLD_AND_FORK = ("import os, sys, time\n"
                 "from core import locks\n"
                 "lock = locks.acquire(sys.argv[1], 'a refresh')\n"
                 "child = os.fork()\n"
                 "if child == 0:\n"
                 "    time.sleep(600)\n"
                 "print(child, flush=True)\n"
                 "os._exit(0)\n")


def _holder(code: str, path) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", code, str(path)], stdout=subprocess.PIPE, text=True)
    return proc


def test_a_second_run_fails_in_one_line_naming_the_holder_and_a_killed_holders_lock_is_broken(tmp_path):
    path = tmp_path / "locks" / "catalogue_refresh.lock"
    holder = _holder(HOLD, path)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(locks.LockHeld) as refused:
            locks.acquire(path, "a refresh")
        message = str(refused.value)
        assert f"a refresh is already running (pid {holder.pid}, since 20" in message and "\n" not in message
        assert locks.held(path) and locks.holder(path).pid == holder.pid and locks.holder(path).alive()
    finally:
        holder.kill()
        holder.wait()
    # kill -9 leaves the file naming a dead pid; nobody holds it: the next run takes it and says whose it was.
    assert locks.holder(path).pid == holder.pid and not locks.held(path)
    with locks.acquire(path, "a refresh") as mine:
        assert mine.broken is not None and mine.broken.pid == holder.pid
        assert locks.holder(path).pid == os.getpid() and locks.held(path)
    assert not locks.held(path) and locks.holder(path) is None  # released cleanly: no pid left behind


def test_a_lock_still_held_by_a_dead_holders_tree_is_waited_for_then_named(tmp_path):
    path = tmp_path / "run.lock"
    holder = _holder(HOLD_AND_FORK, path)
    orphan = int(holder.stdout.readline())
    holder.wait()
    try:
        assert locks.held(path) and not locks.holder(path).alive()
        started = time.monotonic()
        with pytest.raises(locks.LockHeld, match=rf"still held \(pid {holder.pid}, gone\) after 1s"):
            locks.acquire(path, "a refresh", wait_s=1.0)
        assert time.monotonic() - started < 3
    finally:
        os.kill(orphan, signal.SIGKILL)
    time.sleep(0.3)  # the orphan is re-parented; once it is gone the kernel drops its lock
    with locks.acquire(path, "a refresh", wait_s=5.0) as mine:
        assert mine.broken.pid == holder.pid


def test_a_reused_pid_is_not_taken_for_the_holder():
    me = os.getpid()
    started = locks.process_started(me)
    assert locks.alive(me, started) and locks.alive(me)
    assert not locks.alive(me, started + 1)  # same pid, another start: another process
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    assert not locks.alive(int(finished.stdout))
