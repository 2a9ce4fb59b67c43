"""A child started with core.process.run_group dies, with its whole group, when its command goes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

# The command: runs CHILD as its group (run_group), prints the child's pid, waits for it.
COMMAND = ("import sys\n"
           "from core.process import run_group\n"
           "try:\n"
           "    run_group([sys.executable, '-c', sys.argv[1]], env=dict(__import__('os').environ), grace_s=1.0)\n"
           "except KeyboardInterrupt:\n"
           "    print('interrupted', flush=True)\n"
           "    sys.exit(130)\n")
# The child: watches its parent, starts a grandchild (as a JVM would be), ignores Ctrl-C (as the JVM does).
CHILD = ("import os, signal, subprocess, sys, time\n"
         "from core.process import watch_parent\n"
         "watch_parent()\n"
         "signal.signal(signal.SIGINT, signal.SIG_IGN)\n"
         "grandchild = subprocess.Popen(['sleep', '600'])\n"
         "print(os.getpid(), grandchild.pid, flush=True)\n"
         "time.sleep(600)\n")


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has ended (it waits for PID 1 to reap it)


def _start() -> tuple[subprocess.Popen, list[int]]:
    command = subprocess.Popen([sys.executable, "-c", COMMAND, CHILD], stdout=subprocess.PIPE, text=True,
                               start_new_session=True)
    pids = [int(p) for p in command.stdout.readline().split()]
    assert len(pids) == 2 and all(_alive(p) for p in pids)
    assert os.getpgid(pids[0]) == pids[0] == os.getpgid(pids[1])  # the child leads its own group
    return command, pids


def _gone(pids: list[int], timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not any(_alive(p) for p in pids):
            return True
        time.sleep(0.05)
    return False


def test_kill_9_of_the_command_takes_its_child_and_grandchild_with_it():
    command, pids = _start()
    command.kill()
    command.wait()
    assert _gone(pids, 3.0), [p for p in pids if _alive(p)]


def test_ctrl_c_stops_the_group_even_when_it_ignores_sigint():
    command, pids = _start()
    started = time.monotonic()
    command.send_signal(signal.SIGINT)
    out, _ = command.communicate(timeout=10)
    assert command.returncode == 130 and "interrupted" in out
    assert time.monotonic() - started < 5  # grace 1 s, then SIGTERM: bounded
    assert _gone(pids, 2.0), [p for p in pids if _alive(p)]
