"""The record of catalogue builds: which table versions a run's build committed, or reused.

A build is a pure function of its code and the bronze files it reads. Each
build records a fingerprint of both (``ops.catalogue_builds``); a later
build with the same fingerprint reuses the versions the earlier one wrote
instead of recomputing them (a refresh that crawled nothing new then costs
no Spark job), and the quality gate checks the rows against the run that
really wrote them (``built_by``).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable

import pyarrow as pa
from deltalake import DeltaTable

from schemas import TABLES, ops
from schemas.table import Table
from warehouse import delta

BUILDS = ops.CATALOGUE_BUILDS
AUDITS = ops.CATALOGUE_AUDITS


def fingerprint(code: Iterable[str], inputs: dict[Table, int | None]) -> str:
    """sha256 of the code texts and of the data files of each input version (paths are unique per write)."""
    parts: dict[str, object] = {"code": [hashlib.sha256(c.encode()).hexdigest() for c in code]}
    for table, version in sorted(inputs.items(), key=lambda kv: kv[0].qualified_name):
        uris = delta.file_uris(table, version) if delta.exists(table) else []
        # relative to the table, so that a moved SCENETUNE_HOME keeps its fingerprints
        parts[table.qualified_name] = sorted(os.path.relpath(uri, table.path) for uri in uris)
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def _table_id(table: Table) -> str | None:
    return DeltaTable(str(table.path)).metadata().id if delta.exists(table) else None


def record(run_key: str, versions: dict[str, int], built_by: str, inputs_fingerprint: str) -> int:
    """Replace the run's build rows of these tables; rows of the run's other tables stay (one run has
    several builders, e.g. clean_covers before build_catalogue)."""
    rows = [{"run_key": run_key, "table_name": name, "delta_version": version, "built_by": built_by,
             "table_id": _table_id(TABLES[name]), "inputs_fingerprint": inputs_fingerprint}
            for name, version in sorted(versions.items())]
    rows += [r for r in delta.read_or_empty(BUILDS, filters=[("run_key", "=", run_key)]).to_pylist()
             if r["table_name"] not in versions]
    rows.sort(key=lambda r: r["table_name"])
    return delta.replace_partition(BUILDS, pa.Table.from_pylist(rows, schema=BUILDS.arrow_schema()),
                                   {"run_key": run_key})


def of_run(run_key: str) -> dict[str, dict]:
    """``{table_name: build row}`` of one run (empty when it recorded no build)."""
    rows = delta.read_or_empty(BUILDS, filters=[("run_key", "=", run_key)]).to_pylist()
    return {r["table_name"]: r for r in rows}


def reusable(inputs_fingerprint: str, tables: Iterable[Table], exclude_run_key: str) -> tuple[str, dict[str, int]] | None:
    """``(built_by, versions)`` of the latest other build with this fingerprint whose versions still stand.

    Trusts no record blindly: each version must still be readable in the same Delta table
    (not deleted and written anew) and hold rows of the run that built it, and no run's gate
    may have rejected it.
    """
    names = {t.qualified_name: t for t in tables}
    runs: dict[str, dict[str, dict]] = {}
    for row in delta.read_or_empty(BUILDS, filters=[("inputs_fingerprint", "=", inputs_fingerprint)]).to_pylist():
        if row["run_key"] != exclude_run_key:
            runs.setdefault(row["run_key"], {})[row["table_name"]] = row
    rejected = {(r["table_name"], r["delta_version"])
                for r in delta.read_or_empty(AUDITS, columns=("table_name", "delta_version", "passed")).to_pylist()
                if not r["passed"]}
    for run_key in sorted(runs, reverse=True):
        rows = runs[run_key]
        if not set(rows) >= set(names) or len({rows[n]["built_by"] for n in names}) != 1:
            continue
        if all(_still_stands(names[n], rows[n], rejected) for n in names):
            return rows[next(iter(names))]["built_by"], {n: rows[n]["delta_version"] for n in sorted(names)}
    return None


def _still_stands(table: Table, row: dict, rejected: set[tuple[str, int]]) -> bool:
    if (row["table_name"], row["delta_version"]) in rejected or _table_id(table) != row["table_id"]:
        return False
    try:
        built_by = delta.read(table, version=row["delta_version"], columns=("run_key",)).column("run_key")
    except Exception:  # noqa: BLE001 - a version that cannot be read (vacuumed, broken) is not reused
        return False
    return set(built_by.to_pylist()) <= {row["built_by"]}
