"""Run one crawl as a subprocess (``python -P -m scrapy crawl genie_playlists``).

A fresh process per crawl gives a fresh Twisted reactor, which Airflow tasks
and the CLI need (a reactor cannot be restarted in one process). The child
runs in ``crawlers/`` so that scrapy.cfg is found; ``-P`` keeps that folder off
``sys.path`` (its modules are imported as ``crawlers.*``, never as top-level names).

Re-running a run id without JOBDIR replaces that run's output; with a JOBDIR
left by a stopped crawl, the crawl resumes and appends to the same run folder.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Mapping

from crawlers.output import LOG_FILE, default_run_dir, existing_run_dirs, is_resuming, read_rows, table_file
from schemas import bronze
from scenetune import settings as scenetune_settings

CRAWLERS_DIR = Path(__file__).resolve().parent
SPIDER = "genie_playlists"
_RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:+=-]*$")
STOP_GRACE_S = 60  # after SIGINT a crawl finishes the requests in flight


class CrawlError(RuntimeError):
    """The crawl subprocess failed; the message is one line and names the log."""


@dataclass(frozen=True)
class CrawlResult:
    run_id: str
    run_dir: Path
    stats: dict[str, Any]  # the run's bronze.crawl_runs row
    log_path: Path

    @property
    def status(self) -> str:
        return self.stats["status"]


def _setting_arg(name: str, value: Any) -> str:
    if isinstance(value, (dict, list, tuple)):
        value = json.dumps(value)
    return f"{name}={value}"


def crawl_command(
    base_url: str,
    run_id: str,
    run_dir: Path,
    *,
    state_path: Path | str | None = None,
    jobdir: Path | str | None = None,
    max_playlists: int | None = None,
    extra_settings: Mapping[str, Any] | None = None,
) -> list[str]:
    cmd = [sys.executable, "-P", "-m", "scrapy", "crawl", SPIDER,
           "-a", f"base_url={base_url}", "-a", f"run_id={run_id}", "-a", f"out_dir={run_dir}"]
    if state_path is not None:
        cmd += ["-a", f"state={Path(state_path).resolve()}"]
    if max_playlists is not None:
        cmd += ["-a", f"max_playlists={int(max_playlists)}"]
    if jobdir is not None:
        cmd += ["-s", f"JOBDIR={Path(jobdir).resolve()}"]
    for name, value in (extra_settings or {}).items():
        cmd += ["-s", _setting_arg(name, value)]
    return cmd


def prepare_run_dir(run_id: str, jobdir: Path | str | None, crawl_date: date | None = None) -> Path:
    """The run's folder: reused when resuming a JOBDIR, otherwise emptied (idempotent re-run)."""
    if not _RUN_ID.match(run_id) or ".." in run_id:
        raise ValueError(f"run id {run_id!r}: use letters, digits and _ . : + = - only")
    existing = existing_run_dirs(run_id)
    if is_resuming(str(jobdir) if jobdir else None) and existing:
        return existing[-1]
    for old in existing:
        shutil.rmtree(old)
    run_dir = default_run_dir(run_id, crawl_date)
    run_dir.mkdir(parents=True, exist_ok=True)
    return run_dir


def start_crawl(
    base_url: str,
    run_id: str,
    *,
    state_path: Path | str | None = None,
    jobdir: Path | str | None = None,
    max_playlists: int | None = None,
    extra_settings: Mapping[str, Any] | None = None,
    crawl_date: date | None = None,
) -> tuple[subprocess.Popen, Path]:
    """Start the crawl subprocess and return it with its run folder (run_crawl waits for it)."""
    run_dir = prepare_run_dir(run_id, jobdir, crawl_date)
    cmd = crawl_command(base_url, run_id, run_dir, state_path=state_path, jobdir=jobdir,
                        max_playlists=max_playlists, extra_settings=extra_settings)
    env = dict(os.environ)
    env["SCRAPY_SETTINGS_MODULE"] = scenetune_settings.load().scrapy_settings_module
    env["PYTHONSAFEPATH"] = "1"
    with (run_dir / LOG_FILE).open("ab") as log:
        proc = subprocess.Popen(cmd, cwd=CRAWLERS_DIR, env=env, stdout=log, stderr=subprocess.STDOUT)
    return proc, run_dir


def stop_crawl(proc: subprocess.Popen, grace_s: float = STOP_GRACE_S) -> int:
    """Ask a crawl to stop like Ctrl-C (it finishes requests in flight), kill it if it lingers."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            return proc.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            proc.kill()
    return proc.wait()


def _last_error(log_path: Path) -> str:
    try:
        lines = log_path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return "no log"
    for line in reversed(lines):
        if "Error" in line or "ERROR" in line or "Traceback" in line:
            return line.strip()[:300]
    return (lines[-1].strip()[:300] if lines else "empty log")


def finish_crawl(proc: subprocess.Popen, run_id: str, run_dir: Path, timeout_s: float | None = None) -> CrawlResult:
    log_path = run_dir / LOG_FILE
    try:
        returncode = proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        stop_crawl(proc)
        raise CrawlError(f"crawl {run_id} timed out after {timeout_s}s and was stopped; log {log_path}") from None
    except KeyboardInterrupt:
        stop_crawl(proc)
        raise
    if returncode != 0:
        raise CrawlError(f"crawl {run_id} exited with {returncode}: {_last_error(log_path)} (log {log_path})")
    rows = list(read_rows(table_file(run_dir, bronze.CRAWL_RUNS.name)))
    if not rows:
        raise CrawlError(f"crawl {run_id} wrote no crawl_runs row: {_last_error(log_path)} (log {log_path})")
    return CrawlResult(run_id=run_id, run_dir=run_dir, stats=rows[-1], log_path=log_path)


def run_crawl(
    base_url: str,
    run_id: str,
    *,
    state_path: Path | str | None = None,
    jobdir: Path | str | None = None,
    max_playlists: int | None = None,
    extra_settings: Mapping[str, Any] | None = None,
    timeout_s: float | None = None,
    crawl_date: date | None = None,
) -> CrawlResult:
    """Crawl ``base_url`` into the run folder of ``run_id``; returns the folder and the run's stats.

    ``crawl_date`` names the ``dt=`` partition (default: today, UTC); Airflow
    passes the run's logical date.
    """
    proc, run_dir = start_crawl(base_url, run_id, state_path=state_path, jobdir=jobdir,
                                max_playlists=max_playlists, extra_settings=extra_settings,
                                crawl_date=crawl_date)
    return finish_crawl(proc, run_id, run_dir, timeout_s)
