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
import shutil
import signal
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core import files
from core import settings as scenetune_settings
from core.errors import NotRetryable, ScenetuneError
from core.runs import RunPartition
from crawlers import genie_selectors as sel
from crawlers.output import (
    LOG_FILE,
    existing_run_dirs,
    is_resuming,
    read_rows,
    run_dir_of,
    table_file,
)
from schemas import bronze

CRAWLERS_DIR = Path(__file__).resolve().parent
SPIDER = "genie_playlists"
STOP_GRACE_S = 60  # after SIGINT a crawl finishes the requests in flight


class CrawlError(ScenetuneError):
    """The crawl subprocess failed; the message is one line and names the log."""


class CrawlIncomplete(ScenetuneError):
    """The crawl ran but did not finish (stopped early, or the site did not answer as Genie does).

    Its outcomes are in bronze; the message says what happened and how to go on.
    """


class NotAGenieSite(CrawlIncomplete, NotRetryable):
    """The site answered, but not as Genie does (its newest listing is missing or shows no playlist):
    a wrong URL, which no retry fixes. An outage (refused, timeouts, 5xx) stays retryable."""


# Answers that say the site is down or busy, not that it is another site.
_OUTAGE_STATUSES = {408, 429, 500, 502, 503, 504, 522, 524}


def answered_unlike_genie(run_dir: Path, base_url: str) -> bool:
    """Did the newest listing come back as a page (quarantined: no ids) or an HTTP error that is no outage?"""
    newest = base_url.rstrip("/") + sel.NEWEST_LISTING_PATH
    for row in read_rows(table_file(run_dir, bronze.CRAWL_QUARANTINE.name)):
        if row.get("kind") == "listing" and row["url"] == newest:
            return True
    for row in read_rows(table_file(run_dir, bronze.CRAWL_FAILURES.name)):
        if row.get("kind") == "listing" and row["url"] == newest:
            return row.get("http_status") is not None and row["http_status"] not in _OUTAGE_STATUSES
    return False


@dataclass(frozen=True)
class CrawlResult:
    run_key: str
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
    run_key: str,
    run_dir: Path,
    *,
    state_path: Path | str | None = None,
    jobdir: Path | str | None = None,
    max_playlists: int | None = None,
    extra_settings: Mapping[str, Any] | None = None,
    full: bool = False,
) -> list[str]:
    cmd = [sys.executable, "-P", "-m", "scrapy", "crawl", SPIDER,
           "-a", f"base_url={base_url}", "-a", f"run_key={run_key}", "-a", f"out_dir={run_dir}"]
    if state_path is not None:
        cmd += ["-a", f"state={Path(state_path).resolve()}"]
    if full:
        cmd += ["-a", "full=1"]
    if max_playlists is not None:
        cmd += ["-a", f"max_playlists={int(max_playlists)}"]
    if jobdir is not None:
        cmd += ["-s", f"JOBDIR={Path(jobdir).resolve()}"]
    for name, value in (extra_settings or {}).items():
        cmd += ["-s", _setting_arg(name, value)]
    return cmd


def prepare_run_dir(partition: RunPartition, jobdir: Path | str | None) -> Path:
    """The run's folder: reused when resuming a JOBDIR, otherwise emptied (idempotent re-run)."""
    existing = existing_run_dirs(partition.run_key)
    if is_resuming(str(jobdir) if jobdir else None) and existing:
        return existing[-1]
    for old in existing:
        shutil.rmtree(old)
    run_dir = run_dir_of(partition)
    run_dir.mkdir(parents=True, exist_ok=True)
    return run_dir


def start_crawl(
    base_url: str,
    partition: RunPartition,
    *,
    state_path: Path | str | None = None,
    jobdir: Path | str | None = None,
    max_playlists: int | None = None,
    extra_settings: Mapping[str, Any] | None = None,
    full: bool = False,
) -> tuple[subprocess.Popen, Path]:
    """Start the crawl subprocess and return it with its run folder (run_crawl waits for it)."""
    run_dir = prepare_run_dir(partition, jobdir)
    cmd = crawl_command(base_url, partition.run_key, run_dir, state_path=state_path, jobdir=jobdir,
                        max_playlists=max_playlists, extra_settings=extra_settings, full=full)
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


def finish_crawl(proc: subprocess.Popen, run_key: str, run_dir: Path, timeout_s: float | None = None) -> CrawlResult:
    log_path = run_dir / LOG_FILE
    try:
        returncode = proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        stop_crawl(proc)
        raise CrawlError(f"crawl {run_key} timed out after {timeout_s}s and was stopped; log {log_path}") from None
    except KeyboardInterrupt:
        stop_crawl(proc)
        raise
    if returncode != 0:
        raise CrawlError(f"crawl {run_key} exited with {returncode}: {files.last_error_line(log_path)} (log {log_path})")
    rows = list(read_rows(table_file(run_dir, bronze.CRAWL_RUNS.name)))
    if not rows:
        raise CrawlError(f"crawl {run_key} wrote no crawl_runs row: {files.last_error_line(log_path)} (log {log_path})")
    return CrawlResult(run_key=run_key, run_dir=run_dir, stats=rows[-1], log_path=log_path)


def run_crawl(
    base_url: str,
    partition: RunPartition,
    *,
    state_path: Path | str | None = None,
    jobdir: Path | str | None = None,
    max_playlists: int | None = None,
    extra_settings: Mapping[str, Any] | None = None,
    timeout_s: float | None = None,
    full: bool = False,
) -> CrawlResult:
    """Crawl ``base_url`` into the run folder of ``partition``; returns the folder and the run's stats.

    With ``state_path`` (crawlers.state) the crawl is incremental, unless ``full``.
    """
    proc, run_dir = start_crawl(base_url, partition, state_path=state_path, jobdir=jobdir,
                                max_playlists=max_playlists, extra_settings=extra_settings, full=full)
    return finish_crawl(proc, partition.run_key, run_dir, timeout_s)


@dataclass(frozen=True)
class BronzeCrawl:
    """A crawl run loaded into bronze: what :func:`crawl` returns."""

    run_key: str
    base_url: str
    mode: str  # full | incremental
    stats: dict[str, Any]  # the run's bronze.crawl_runs row
    bronze_versions: dict[str, int]  # {"bronze.<table>": Delta version committed}
    log_path: Path


def crawl(
    partition: RunPartition,
    base_url: str,
    *,
    full: bool = False,
    max_playlists: int | None = None,
    jobdir: Path | str | None = None,
    extra_settings: Mapping[str, Any] | None = None,
    timeout_s: float | None = None,
    site: str | None = None,
) -> BronzeCrawl:
    """The one way scenetune crawls: Genie → the run's raw folder → the run's bronze partitions.

    Incremental unless ``full`` or there is no history: what earlier runs saw
    (never this run's own rows, so a retry behaves like the first try) decides
    what is fetched, including the retry frontier (crawlers.frontier).
    The CLI and the DAG both call this. A crawl that did not finish raises
    :class:`CrawlIncomplete` after its outcomes are loaded, so nothing it
    learned is lost. ``site`` names the site for the state (default: ``base_url``): only earlier crawls
    of the same site count.
    """
    from crawlers.bronze import load_run
    from crawlers.state import build_state, has_history, site_of, write_state

    site = site or site_of(base_url)
    # Built for a full crawl too: it numbers the attempts of ids earlier runs left unresolved.
    state = build_state(exclude_run_key=partition.run_key, site=site)
    state_path = None
    if has_history(state):
        state_path = write_state(state, scenetune_settings.load().crawl_state_dir / f"{partition.run_key}.json")
    try:
        result = run_crawl(base_url, partition, state_path=state_path, jobdir=jobdir, max_playlists=max_playlists,
                           extra_settings=extra_settings, timeout_s=timeout_s, full=full)
    finally:
        if state_path is not None:  # derived from bronze, rebuilt by every run (a resumed one too)
            state_path.unlink(missing_ok=True)
    versions = load_run(result.run_dir, partition.run_key, site=site)
    loaded = BronzeCrawl(partition.run_key, base_url, result.stats["mode"], result.stats, versions, result.log_path)
    if result.status != "finished":
        message = incomplete_message(result.stats, base_url, partition.run_key, jobdir)
        if result.status == "failed" and answered_unlike_genie(result.run_dir, base_url):
            raise NotAGenieSite(message)
        raise CrawlIncomplete(message)
    return loaded


def incomplete_message(stats: Mapping[str, Any], base_url: str, run_key: str, jobdir: Path | str | None) -> str:
    """One line: what happened to a run that did not finish, and how to go on."""
    reason = stats.get("stop_reason") or "no reason recorded"
    if stats["status"] == "failed":
        return (f"crawl {run_key} of {base_url} failed: {reason}; is it a Genie site? "
                f"(bronze.crawl_failures / crawl_quarantine rows of kind listing)")
    not_fetched = stats.get("not_fetched", 0)
    if jobdir is not None:
        resume = f"resume this run with `scenetune crawl --run-key {run_key} --jobdir {jobdir}`"
    else:
        resume = f"redo this run with `scenetune crawl --run-key {run_key}` (add --jobdir DIR to make a run resumable)"
    return (f"crawl {run_key} of {base_url} stopped early ({reason}); {not_fetched:,} playlists not fetched "
            f"will be retried by the next run (`scenetune crawl`), or {resume}")
