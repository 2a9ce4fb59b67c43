"""One run at a time: a lock file under ``SCENETUNE_HOME/locks`` that names its holder.

``scenetune refresh`` holds ``locks/catalogue_refresh.lock`` for the whole run: an exclusive
``flock`` on the file, and the holder's pid (with its start time, so a reused pid is not taken for
the holder) written in it. The kernel drops a ``flock`` when the last process holding the file
open goes, so a killed holder leaves a file that nobody locks: the next run takes it ("breaks" the
stale lock) and says whose it was. A lock still held whose pid is gone belongs to a process tree
that is going down (the runner dies with its command, ``core.process.watch_parent``): the next run
waits a few seconds for it.
"""

from __future__ import annotations

import fcntl
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from core.errors import ScenetuneError

DYING_TREE_WAIT_S = 10.0  # how long a run waits for the tree of a dead holder to go


class LockHeld(ScenetuneError):
    """Another run holds the lock (the message names its pid)."""


def process_started(pid: int) -> int | None:
    """The start time of ``pid`` in clock ticks since boot (/proc/PID/stat field 22), or None if it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[19])  # after "(comm)": state is field 3, starttime field 22


def alive(pid: int, started: int | None = None) -> bool:
    """``pid`` runs, and (when ``started`` is given) is the process that started then, not a reuse of its pid."""
    if pid <= 0:
        return False
    now_started = process_started(pid)
    if now_started is None:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:  # another user's process: it exists
            return True
        return started is None  # no /proc to compare start times
    return started is None or now_started == started


@dataclass(frozen=True)
class Holder:
    pid: int
    started: int | None  # its start time in clock ticks (process_started)
    since: str  # when it took the lock (ISO, UTC)
    command: str

    def text(self) -> str:
        return f"{self.pid}\n{self.started if self.started is not None else ''}\n{self.since}\n{self.command}\n"

    @classmethod
    def parse(cls, text: str) -> "Holder | None":
        lines = text.splitlines()
        try:
            pid = int(lines[0])
        except (IndexError, ValueError):
            return None
        started = lines[1] if len(lines) > 1 else ""
        return cls(pid, int(started) if started.isdigit() else None, lines[2] if len(lines) > 2 else "",
                   lines[3] if len(lines) > 3 else "")

    def alive(self) -> bool:
        return alive(self.pid, self.started)


@dataclass
class RunLock:
    path: Path
    holder: Holder
    broken: Holder | None  # the dead holder of a stale lock this one replaced
    _handle: IO

    def fileno(self) -> int:
        """Pass it to a child (``pass_fds``) so the lock lasts until the child is gone too."""
        return self._handle.fileno()

    def release(self) -> None:
        if self._handle.closed:
            return
        self._handle.seek(0)
        self._handle.truncate()
        self._handle.flush()
        fcntl.flock(self._handle, fcntl.LOCK_UN)
        self._handle.close()

    def __enter__(self) -> "RunLock":
        return self

    def __exit__(self, *exc) -> None:
        self.release()


def _read(handle: IO) -> str:
    handle.seek(0)
    return handle.read()


def acquire(path: Path | str, what: str, command: str = "", wait_s: float = DYING_TREE_WAIT_S) -> RunLock:
    """Take the lock at ``path`` for this process or fail in one line naming the holder (``what``: "a refresh").

    A lock nobody holds is taken whatever pid it names (a killed holder's, now stale: see ``broken``).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = path.open("a+")
    deadline = time.monotonic() + wait_s
    while True:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            found = Holder.parse(_read(handle))
            if found is not None and found.alive():
                handle.close()
                raise LockHeld(f"{what} is already running (pid {found.pid}, since {found.since or '?'}): wait for "
                               f"it to finish or stop it (kill {found.pid}); lock {path}") from None
            if time.monotonic() > deadline:  # its holder is gone, yet some process still holds the file
                handle.close()
                named = f"pid {found.pid}, gone" if found is not None else "no pid written"
                raise LockHeld(f"{what} lock {path} is still held ({named}) after {wait_s:.0f}s: a process of the "
                               f"dead run's tree is still alive (`fuser {path}` names it)") from None
            time.sleep(0.1)  # the dead holder's tree is going down (or a holder is writing its pid)
    previous = Holder.parse(_read(handle))
    from datetime import datetime, timezone

    me = Holder(os.getpid(), process_started(os.getpid()),
                datetime.now(timezone.utc).replace(microsecond=0).isoformat(), command)
    handle.seek(0)
    handle.truncate()
    handle.write(me.text())
    handle.flush()
    broken = previous if previous is not None and previous.pid != me.pid else None
    return RunLock(path, me, broken, handle)


def held(path: Path | str) -> bool:
    """Whether some process holds the lock at ``path`` now (a shared lock taken and dropped at once)."""
    path = Path(path)
    if not path.exists():
        return False
    with path.open("r") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
    return False


def holder(path: Path | str) -> Holder | None:
    """The pid (and start) written in the lock file, if any: who holds it, or who held it last and died."""
    try:
        return Holder.parse(Path(path).read_text())
    except OSError:
        return None
