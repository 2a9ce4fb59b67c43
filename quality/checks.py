"""Audit before publish: each built table must honour what schemas/ states of it.

The gate audits exactly the table versions a run's build committed or reused
(passed down by the DAG) with Great Expectations suites (quality.expectations,
run by quality.validation): declared columns, keys and not-null columns, each
table's own rules, and row counts against the last published catalogue
version; each silver and gold version must also be the one the run's build
recorded. It records the verdict of every version in ``ops.catalogue_audits``;
publish copies only versions recorded as passed. A failing gate records the
refresh as a rejected catalogue version and quarantines the failing rows.

The plain-Arrow checks below (``check_table``, ``check_vectors``, ...) say the
same things without GX, for callers that audit a frame in memory.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc

from core import settings
from core.errors import NotRetryable
from schemas import TABLES, gold
from schemas.table import Table
from warehouse import audits, builds, delta
from warehouse import versions as catalogue_versions


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


def check_vectors(data: pa.Table, dimensions: int = gold.EMBEDDING_DIMENSIONS, tolerance: float = 1e-3) -> list[str]:
    """gold.sentence_embeddings: every vector has ``dimensions`` floats and unit L2 norm; a row without one
    says why (``error``)."""
    failures = []
    has = data.column("vector").is_valid()
    unexplained = pc.sum(pc.and_(pc.invert(has), pc.is_null(data.column("error")))).as_py() or 0
    if unexplained:
        failures.append(f"vector: {unexplained} row(s) without a vector and without an error")
    vectors = data.column("vector").filter(has).combine_chunks()
    if len(vectors):
        lengths = pc.list_value_length(vectors)
        wrong = pc.sum(pc.not_equal(lengths, dimensions)).as_py() or 0
        if wrong:
            failures.append(f"vector: {wrong} vector(s) not of length {dimensions}")
        else:
            import numpy as np

            values = vectors.flatten().to_numpy(zero_copy_only=False).reshape(len(vectors), dimensions)
            norms = np.linalg.norm(values.astype(np.float64), axis=1)
            off = ~(np.abs(norms - 1) <= tolerance)  # NaN counts as off
            if off.any():
                failures.append(f"vector: {int(off.sum())} vector(s) without unit L2 norm (e.g. {norms[off][0]:.4f})")
    return failures


class QualityGateFailed(NotRetryable):
    """The build's data failed its audit: running the gate again gives the same verdict."""


def gate(run_key: str, versions: dict[str, int]) -> list[Report]:
    """Audit ``{"layer.table": delta_version}`` of one run; record and return the verdicts.

    Each table version is validated with its Great Expectations suite (quality.expectations: derived
    from ``schemas/`` plus each table's rules, row counts against the last published catalogue
    version); silver and gold versions must also be the ones the run's build recorded. The verdicts
    go to ``ops.catalogue_audits`` and a Data Docs site under ``SCENETUNE_HOME/quality/data_docs``, with
    the gate's own offline summary page beside it (the page a catalogue version links to).
    When any table fails, the refresh is recorded as a ``rejected`` catalogue version with every
    reason and its failing rows go to ``ops.quarantine``; then :class:`QualityGateFailed` is raised,
    naming every failure. Nothing is published and the live version stays live.
    """
    from quality import expectations, validation

    s = settings.load()
    run_time = catalogue_versions.run_time(run_key)
    built = builds.of_run(run_key)
    live = catalogue_versions.live()
    last_rows = live["row_counts"] if live else {}
    checks, reports, records = [], [], []
    for name, version in sorted(versions.items()):
        table = TABLES[name]
        data = delta.read(table, version=version)
        report = Report(name, data.num_rows, version)
        recorded = check_recorded_build(name, version, built.get(name)) if table.layer in ("silver", "gold") else []
        report.failures += check_columns(table, data)
        records.append(recorded)
        built_by = built[name]["built_by"] if name in built else run_key
        suite = expectations.suite_for(table, built_by=built_by, last_published_rows=last_rows.get(name),
                                       max_row_drop=s.quality_max_row_drop)
        checks.append((suite, version, data))
        reports.append(report)
    verdicts, _ = validation.validate(run_key, run_time, checks, catalogue_versions.data_docs_dir(run_key))
    quarantined = []
    for report, verdict, recorded in zip(reports, verdicts, records):
        # Causes first: a table shrinking past the bound is most often the consequence of another failure.
        report.failures += sorted(verdict.failures, key=lambda f: f.startswith(expectations.ROW_COUNT_CHECK))
        report.failures += recorded
        quarantined += [{"table_name": report.table, "delta_version": report.version, **row}
                        for row in verdict.quarantined]
    docs = validation.write_summary(catalogue_versions.data_docs_page(run_key), run_key, reports, verdicts)
    audits.record(run_key, [
        {"table_name": r.table, "delta_version": r.version, "row_count": r.rows,
         "passed": r.passed, "failures": r.failures}
        for r in reports
    ])
    failed = [r for r in reports if not r.passed]
    reasons = [f"{r.table} v{r.version}: {failure}" for r in failed for failure in r.failures]
    if failed:
        row = catalogue_versions.record(run_key, run_time, versions, status=catalogue_versions.REJECTED,
                                        quality_failures=reasons, data_docs=str(docs))
        catalogue_versions.quarantine(run_key, row["version"], quarantined)
        failed.sort(key=lambda r: all(f.startswith(expectations.ROW_COUNT_CHECK) for f in r.failures))
        raise QualityGateFailed(
            f"quality gate failed for run {run_key}: "
            + "; ".join(f"{r.table} v{r.version}: {', '.join(r.failures)}" for r in failed)
            + f" (catalogue version {row['version']} rejected, {len(quarantined)} row(s) quarantined; "
            f"Data Docs {docs})"
        )
    catalogue_versions.quarantine(run_key, None, [])  # a re-run that passes keeps no stale rows
    return reports


def check_columns(table: Table, data: pa.Table) -> list[str]:
    """The version holds exactly the declared columns, in order (bronze: the crawl's schema)."""
    if data.column_names != table.column_names:
        missing = [c for c in table.column_names if c not in data.column_names]
        extra = [c for c in data.column_names if c not in table.column_names]
        return [f"schema: columns differ from schemas/ (missing {missing}, undeclared {extra})"]
    return []
