"""Audit before publish: each built table must honour what schemas/ states of it.

The gate audits exactly the table versions a run's build committed or reused
(passed down by the DAG): the declared key (unique, not null), the not-null
columns, that each silver and gold version is the one the run's build
recorded and all its rows were written by the build that wrote it, and that
the catalogue is not empty. It records the verdict of every version in
``ops.catalogue_audits``; publish copies only versions recorded as passed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc

from core.errors import ScenetuneError
from schemas import TABLES, gold
from schemas.table import Table
from warehouse import audits, builds, delta


@dataclass
class Report:
    table: str
    rows: int
    version: int | None = None
    failures: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures


def check_table(table: Table, data: pa.Table) -> Report:
    """Declared not-null columns hold no nulls; the declared key is unique."""
    report = Report(table.qualified_name, data.num_rows)
    for col in table.columns:
        if not col.nullable:
            nulls = data.column(col.name).null_count
            if nulls:
                report.failures.append(f"{col.name}: {nulls} null value(s) in a not-null column")
    if data.num_rows:
        dupes = (
            data.select(list(table.key)).group_by(list(table.key)).aggregate([([], "count_all")])
            .filter(pc.field("count_all") > 1)
        )
        if dupes.num_rows:
            example = dupes.slice(0, 1).to_pylist()[0]
            report.failures.append(
                f"key ({', '.join(table.key)}) not unique: {dupes.num_rows} duplicated, e.g. {example}"
            )
    return report


def check_built_by(table: Table, data: pa.Table, built_by: str) -> list[str]:
    """Silver and gold rows must all come from the build that wrote the version (bronze rows keep
    their crawl's key)."""
    if table.layer not in ("silver", "gold") or not data.num_rows:
        return []
    other = set(data.column("run_key").to_pylist()) - {built_by}
    return [f"rows from other runs {sorted(other)[:3]}"] if other else []


def check_recorded_build(name: str, version: int, build: dict | None) -> list[str]:
    """A silver or gold version must be the one the run's build recorded (not a stray later write)."""
    if build is None:
        return [f"no build of {name} recorded for this run"]
    if build["delta_version"] != version:
        return [f"v{version} is not the version this run's build recorded (v{build['delta_version']})"]
    return []


class QualityGateFailed(ScenetuneError):
    pass


def gate(run_key: str, versions: dict[str, int]) -> list[Report]:
    """Audit ``{"layer.table": delta_version}`` of one run; record and return the verdicts.

    Raises :class:`QualityGateFailed` with every reason when any table fails.
    """
    built = builds.of_run(run_key)
    reports = []
    for name, version in sorted(versions.items()):
        table = TABLES[name]
        data = delta.read(table, version=version)
        report = check_table(table, data)
        report.version = version
        if table.layer in ("silver", "gold"):
            report.failures += check_recorded_build(name, version, built.get(name))
            report.failures += check_built_by(table, data, built[name]["built_by"] if name in built else run_key)
        if table is gold.SONGS and data.num_rows == 0:
            report.failures.append("no songs: the crawl produced nothing to publish")
        reports.append(report)
    audits.record(run_key, [
        {"table_name": r.table, "delta_version": r.version, "row_count": r.rows,
         "passed": r.passed, "failures": r.failures}
        for r in reports
    ])
    failed = [r for r in reports if not r.passed]
    if failed:
        raise QualityGateFailed(
            f"quality gate failed for run {run_key}: "
            + "; ".join(f"{r.table} v{r.version}: {', '.join(r.failures)}" for r in failed)
        )
    return reports
