"""Audit before publish: each built table must honour what schemas/ states of it.

Checks a table's declared key (unique, not null) and its not-null columns,
and that the catalogue is not empty. The build is published only if every
check passes; otherwise the refresh stops with the reasons.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc

from schemas import gold, silver
from schemas.table import Table
from scenetune import settings
from scenetune.errors import ScenetuneError
from warehouse import delta

GATED: tuple[Table, ...] = (*silver.TABLES, *gold.TABLES)


@dataclass
class Report:
    table: str
    rows: int
    failures: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures


def check_table(table: Table, data: pa.Table) -> Report:
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


class QualityGateFailed(ScenetuneError):
    pass


def gate(build_id: str) -> list[Report]:
    """Check every silver and gold table of the build; raise with all reasons if any fails."""
    s = settings.load()
    reports = []
    for table in GATED:
        data = delta.read(s.delta_path(table.layer, table.name))
        report = check_table(table, data)
        if table is gold.SONGS and data.num_rows == 0:
            report.failures.append("no songs: the crawl produced nothing to publish")
        other = set(data.column("build_id").to_pylist()) - {build_id} if data.num_rows else set()
        if other:
            report.failures.append(f"rows from other builds {sorted(other)[:3]}")
        reports.append(report)
    failed = [r for r in reports if not r.passed]
    if failed:
        raise QualityGateFailed(
            "quality gate failed for build " + build_id + ": "
            + "; ".join(f"{r.table}: {', '.join(r.failures)}" for r in failed)
        )
    return reports
