"""Run expectation suites with Great Expectations 1.x and turn the results into verdicts.

One ephemeral GX context per gate: a pandas data source, one asset, suite and
validation definition per table, all results rendered into a Data Docs site
under ``SCENETUNE_HOME/quality/data_docs/<run_key>/`` (a re-run replaces the
run's site). Rows that fail a row-level
expectation are returned with the check that caught them, for the quarantine.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pyarrow as pa

from quality.expectations import Suite

DATA_SOURCE = "warehouse"


@dataclass
class TableVerdict:
    table: str  # layer.name
    version: int | None
    rows: int
    failures: list[str] = field(default_factory=list)  # one line per failed expectation
    quarantined: list[dict] = field(default_factory=list)  # {"expectation", "row_number", "row_key", "evidence"} per row

    @property
    def passed(self) -> bool:
        return not self.failures


def _check(result) -> str:
    """The check an expectation was declared with (quality.expectations), else its type and column."""
    config = result.expectation_config
    check = (config.meta or {}).get("check")
    if check:
        return check
    kwargs = config.kwargs
    subject = kwargs.get("column") or ",".join(kwargs.get("column_list") or []) or "table"
    return f"{config.type} ({subject})"


def _describe(result) -> str:
    """One line: the check that failed, with what GX observed."""
    found = result.result or {}
    if "observed_value" in found and "unexpected_count" not in found:
        detail = f"observed {found['observed_value']}"
    else:
        examples = (found.get("partial_unexpected_list") or [])[:3]
        detail = f"{found.get('unexpected_count', '?')} row(s)" + (f", e.g. {examples}" if examples else "")
    if result.exception_info and result.exception_info.get("raised_exception"):
        detail = f"could not run: {result.exception_info.get('exception_message')}"
    return f"{_check(result)}: {detail}"


def _json(value) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def _quarantine_rows(result, suite: Suite, data: pa.Table) -> list[dict]:
    """The rows a row-level expectation rejected: ``{"expectation", "row_number", "row_key", "evidence"}``."""
    indexes = (result.result or {}).get("unexpected_index_list") or []
    if not indexes or not all(isinstance(i, int) for i in indexes):
        return []
    # Vectors would swamp the quarantine; every other column of the row is kept as evidence.
    kept = [f.name for f in data.schema if not (pa.types.is_list(f.type) and pa.types.is_floating(f.type.value_type))]
    numbers = sorted(set(indexes))
    rows = data.select(kept).take(pa.array(numbers, pa.int64())).to_pylist()
    check = _check(result)
    return [{"expectation": check, "row_number": number, "row_key": _json({k: row[k] for k in suite.table.key}),
             "evidence": _json(row)} for number, row in zip(numbers, rows)]


def validate(run_key: str, run_time: datetime, checks: list[tuple[Suite, int | None, pa.Table]],
             docs_dir: Path) -> tuple[list[TableVerdict], Path]:
    """Validate each ``(suite, version, data)``; returns the verdicts and the Data Docs index page."""
    import great_expectations as gx
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.base import ProgressBarsConfig

    shutil.rmtree(docs_dir, ignore_errors=True)  # the run's site holds this validation only
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    context.add_data_docs_site(site_name="scenetune", site_config={
        "class_name": "SiteBuilder",
        "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(docs_dir)},
    })
    source = context.data_sources.add_pandas(DATA_SOURCE)
    run_id = RunIdentifier(run_name=run_key, run_time=run_time)
    verdicts = []
    for suite, version, data in checks:
        name = suite.table.qualified_name
        batch = source.add_dataframe_asset(name).add_batch_definition_whole_dataframe(name)
        gx_suite = context.suites.add(gx.ExpectationSuite(name=name, expectations=suite.expectations))
        definition = context.validation_definitions.add(gx.ValidationDefinition(name=name, data=batch, suite=gx_suite))
        result = definition.run(batch_parameters={"dataframe": suite.frame(data)}, result_format="COMPLETE",
                                run_id=run_id)
        verdict = TableVerdict(name, version, data.num_rows)
        for expectation in result.results:
            if not expectation.success:
                verdict.failures.append(_describe(expectation))
                verdict.quarantined += _quarantine_rows(expectation, suite, data)
        verdicts.append(verdict)
    context.build_data_docs(site_names=["scenetune"])
    return verdicts, Path(docs_dir) / "index.html"
