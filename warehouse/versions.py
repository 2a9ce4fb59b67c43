"""Catalogue versions: what each refresh published, or why not, and rollbacks.

Every refresh that reaches the gate gets a version number (``ops.catalogue_versions``):
``published`` when it went live, ``rejected`` when its gate failed. Re-running
the same refresh keeps its number and replaces its row. ``rollback`` adds a row
(``rolled back``) that pins what an earlier version pinned; history is never
rewritten. The live version is the newest published or rolled-back one.
"""

from __future__ import annotations

import functools
import json
import subprocess
from datetime import datetime, timezone
from pathlib import Path

import pyarrow as pa

from core import settings
from core.errors import ScenetuneError
from schemas import TABLES, bronze, ops
from warehouse import delta

VERSIONS = ops.CATALOGUE_VERSIONS
QUARANTINE = ops.QUARANTINE
PUBLISHED, REJECTED, ROLLED_BACK = "published", "rejected", "rolled back"
LIVE = (PUBLISHED, ROLLED_BACK)


def all_versions() -> list[dict]:
    """Every version row, oldest first, with its JSON columns read back."""
    rows = delta.read_or_empty(VERSIONS).to_pylist()
    for row in rows:
        row["table_versions"] = json.loads(row["table_versions"])
        row["row_counts"] = json.loads(row["row_counts"])
    return sorted(rows, key=lambda r: r["version"])


def get(number: int) -> dict:
    for row in all_versions():
        if row["version"] == number:
            return row
    raise ScenetuneError(f"there is no catalogue version {number}: `scenetune versions` lists them")


def live() -> dict | None:
    rows = [r for r in all_versions() if r["status"] in LIVE]
    return rows[-1] if rows else None


def _number_for(run_key: str, rows: list[dict]) -> int:
    """A refresh keeps the number it got the first time; anything else takes the next one."""
    for row in rows:
        if row["run_key"] == run_key and row["rolled_back_to"] is None:
            return row["version"]
    return max((r["version"] for r in rows), default=0) + 1


@functools.lru_cache(maxsize=1)
def code_version() -> str:
    """``git describe`` of the checkout, or the installed package's version."""
    try:
        done = subprocess.run(["git", "describe", "--always", "--dirty", "--tags"], cwd=settings.REPO_ROOT,
                              capture_output=True, text=True, timeout=10)
        if done.returncode == 0 and done.stdout.strip():
            return done.stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        pass
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("scenetune")
    except PackageNotFoundError:
        return "unknown"


def _crawls(table_versions: dict[str, int]) -> tuple[str, list[str]]:
    """The site and the crawl runs behind the pinned bronze.crawl_runs version."""
    pinned = table_versions.get(bronze.CRAWL_RUNS.qualified_name)
    if pinned is None or not delta.exists(bronze.CRAWL_RUNS):
        return "unknown", []
    runs = sorted(delta.read(bronze.CRAWL_RUNS, version=pinned, columns=("run_key", "base_url")).to_pylist(),
                  key=lambda r: r["run_key"])
    return (runs[-1]["base_url"] if runs else "unknown"), [r["run_key"] for r in runs]


def data_docs_dir(run_key: str) -> Path:
    """The Great Expectations Data Docs site of one run's quality gate."""
    return settings.load().home / "quality" / "data_docs" / run_key


def data_docs_page(run_key: str) -> Path:
    """The gate's own summary page beside the GX site: self-contained, so it reads offline (GX's pages
    need their CDNs); it links to GX's pages."""
    return data_docs_dir(run_key) / "summary.html"


def data_docs_link(run_key: str) -> str | None:
    page = data_docs_page(run_key)
    return str(page) if page.exists() else None


def run_time(run_key: str) -> datetime:
    """The moment a run key names (a version row's ``created_at``: the same on every re-run)."""
    from core.runs import RUN_KEY_FORMAT

    try:
        return datetime.strptime(run_key, RUN_KEY_FORMAT).replace(tzinfo=timezone.utc)
    except ValueError:
        raise ScenetuneError(f"run key {run_key!r} is not of the form YYYYMMDDTHHMMSSZ") from None


def make_row(run_key: str, created_at: datetime, table_versions: dict[str, int], *, status: str,
             quality_failures: list[str], data_docs: str | None, rolled_back_to: int | None = None,
             rows: list[dict] | None = None) -> dict:
    """The version row of a refresh (its number kept across re-runs) or of a rollback (the next number)."""
    rows = all_versions() if rows is None else rows
    number = _number_for(run_key, rows) if rolled_back_to is None else max((r["version"] for r in rows), default=0) + 1
    source, crawl_runs = _crawls(table_versions)
    return {
        "version": number,
        "run_key": run_key,
        "created_at": created_at,
        "status": status,
        "rolled_back_to": rolled_back_to,
        "source": source,
        "crawl_runs": crawl_runs,
        "table_versions": dict(sorted(table_versions.items())),
        "row_counts": {name: delta.count_rows(TABLES[name], v) for name, v in sorted(table_versions.items())},
        "quality_passed": not quality_failures,
        "quality_failures": list(quality_failures),
        "data_docs": data_docs,
        "code_version": code_version(),
    }


def arrow_rows(rows: list[dict]) -> pa.Table:
    """Version rows as stored: ``table_versions`` and ``row_counts`` as JSON text."""
    stored = [{**r, "table_versions": json.dumps(r["table_versions"], sort_keys=True),
               "row_counts": json.dumps(r["row_counts"], sort_keys=True)} for r in rows]
    return pa.Table.from_pylist(stored, schema=VERSIONS.arrow_schema())


def write_row(row: dict) -> int:
    """Replace the row of ``row["version"]`` (one Delta commit); returns the table's Delta version."""
    return delta.replace_partition(VERSIONS, arrow_rows([row]), {"version": row["version"]})


def record(run_key: str, run_time: datetime, table_versions: dict[str, int], *, status: str,
           quality_failures: list[str], data_docs: str | None, rolled_back_to: int | None = None) -> dict:
    """Write the version row of a refresh (or a rollback) and return it; the same refresh, the same row."""
    row = make_row(run_key, run_time, table_versions, status=status, quality_failures=quality_failures,
                   data_docs=data_docs, rolled_back_to=rolled_back_to)
    write_row(row)
    return row


def quarantine(run_key: str, version: int | None, rows: list[dict]) -> None:
    """Replace the run's quarantine with ``rows`` (``table_name, delta_version, expectation, row_number,
    row_key, evidence``); no rows clears it."""
    if not rows and not delta.exists(QUARANTINE):
        return
    data = pa.Table.from_pylist([{"run_key": run_key, "version": version, **r} for r in rows],
                                schema=QUARANTINE.arrow_schema())
    delta.replace_partition(QUARANTINE, data, {"run_key": run_key})


def quarantined(run_key: str) -> pa.Table:
    return delta.read_or_empty(QUARANTINE, filters=[("run_key", "=", run_key)])


def diff(a: int, b: int, examples: int = 5) -> dict:
    """What changed from version ``a`` to ``b``: songs, playlists, tag map and table versions."""
    from schemas import gold, silver

    va, vb = get(a)["table_versions"], get(b)["table_versions"]

    def keyed(table, key: str | tuple[str, ...], value: str | None = None) -> dict:
        version = {"a": va, "b": vb}
        out = {}
        for side, pins in version.items():
            pinned = pins.get(table.qualified_name)
            if pinned is None:
                out[side] = None
                continue
            keys = (key,) if isinstance(key, str) else key
            columns = keys if value is None else (*keys, value)
            rows = delta.read(table, version=pinned, columns=columns).to_pylist()
            out[side] = {(r[key] if isinstance(key, str) else ":".join(str(r[k]) for k in key)):
                         (r[value] if value else None) for r in rows}
        return out

    report: dict = {"from": a, "to": b,
                    "tables_changed": sorted(n for n in set(va) | set(vb) if va.get(n) != vb.get(n))}
    songs = keyed(gold.SONGS, "song_key")
    if songs["a"] is not None and songs["b"] is not None:
        added, removed = sorted(set(songs["b"]) - set(songs["a"])), sorted(set(songs["a"]) - set(songs["b"]))
        report["songs"] = {"added": len(added), "removed": len(removed),
                           "added_examples": added[:examples], "removed_examples": removed[:examples]}
    playlists = keyed(silver.PLAYLISTS, ("source", "plm_seq"), "content_hash")  # "genie:17"
    if playlists["a"] is not None and playlists["b"] is not None:
        pa_, pb = playlists["a"], playlists["b"]
        changed = sorted(k for k in set(pa_) & set(pb) if pa_[k] != pb[k])
        report["playlists"] = {"added": len(set(pb) - set(pa_)), "removed": len(set(pa_) - set(pb)),
                               "changed": len(changed), "changed_examples": changed[:examples]}
    tag_map = getattr(gold, "TAG_MAP", None)
    if tag_map is not None and "label" in tag_map.column_names:
        labels = keyed(tag_map, tag_map.key[0], "label")
        if labels["a"] is not None and labels["b"] is not None:
            moved = sorted(t for t in set(labels["a"]) | set(labels["b"]) if labels["a"].get(t) != labels["b"].get(t))
            report["tag_map"] = {"changed": len(moved),
                                 "examples": [{"tag": t, "from": labels["a"].get(t), "to": labels["b"].get(t)}
                                              for t in moved[:examples]]}
    return report
