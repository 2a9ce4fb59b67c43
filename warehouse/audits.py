"""The record of audited table versions: what may be published, and what may not.

The quality gate records, per run, every table version it audited and whether
it passed (``ops.catalogue_audits``). Publish copies only versions recorded
here as passed for that run, so a rejected build is never picked up later as
if it had passed, even though its Delta versions stay the latest ones until
the next build.
"""

from __future__ import annotations

import pyarrow as pa

from core.errors import NotRetryable
from schemas import ops
from warehouse import delta

AUDITS = ops.CATALOGUE_AUDITS


class NotAudited(NotRetryable):
    """Publishing was asked for versions the gate did not pass (no retry changes that)."""


def record(run_key: str, results: list[dict]) -> int:
    """Replace the run's audit rows (``table_name, delta_version, row_count, passed, failures``)."""
    rows = [{"run_key": run_key, **r} for r in sorted(results, key=lambda r: r["table_name"])]
    return delta.replace_partition(AUDITS, pa.Table.from_pylist(rows, schema=AUDITS.arrow_schema()),
                                   {"run_key": run_key})


def of_run(run_key: str) -> dict[str, dict]:
    """``{table_name: audit row}`` recorded for one run (empty when never audited)."""
    rows = delta.read_or_empty(AUDITS, filters=[("run_key", "=", run_key)]).to_pylist()
    return {r["table_name"]: r for r in rows}


def require_passed(run_key: str, versions: dict[str, int]) -> None:
    """Raise unless every ``{table_name: version}`` is recorded as passed for ``run_key``."""
    audited = of_run(run_key)
    problems = []
    for name, version in sorted(versions.items()):
        row = audited.get(name)
        if row is None or row["delta_version"] != version:
            problems.append(f"{name} v{version} was not audited")
        elif not row["passed"]:
            problems.append(f"{name} v{version} failed its audit ({'; '.join(row['failures'])})")
    if problems:
        raise NotAudited(f"run {run_key} cannot be published: " + ", ".join(problems))
