"""Run expectation suites with Great Expectations 1.x and turn the results into verdicts.

One ephemeral GX context per gate: a pandas data source, one asset, suite and
validation definition per table, all results rendered into a Data Docs site
under ``SCENETUNE_HOME/quality/data_docs/<run_key>/`` (a re-run replaces the
run's site). Rows that fail a row-level
expectation are returned with the check that caught them, for the quarantine.

GX's pages load their styles and scripts from CDNs and show no results without
a network, so :func:`write_summary` renders the gate's own page beside them:
one self-contained HTML file (inline CSS, no scripts, no external URLs) with
the verdict, every failure and every expectation's outcome, linking to GX's
pages for the rest.
"""

from __future__ import annotations

import html
import json
import shutil
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa

from quality.expectations import Suite

if TYPE_CHECKING:
    from quality.checks import Report

DATA_SOURCE = "warehouse"


@dataclass
class Outcome:
    """One expectation as GX ran it: the check it was declared with, whether it held, what GX observed."""

    check: str
    passed: bool
    detail: str


@dataclass
class TableVerdict:
    table: str  # layer.name
    version: int | None
    rows: int
    failures: list[str] = field(default_factory=list)  # one line per failed expectation
    quarantined: list[dict] = field(default_factory=list)  # {"expectation", "row_number", "row_key", "evidence"} per row
    outcomes: list[Outcome] = field(default_factory=list)  # every expectation, passed or not, in suite order

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


def _detail(result) -> str:
    """What GX observed: the value of an aggregate expectation, else the unexpected rows (a few examples)."""
    found = result.result or {}
    if result.exception_info and result.exception_info.get("raised_exception"):
        return f"could not run: {result.exception_info.get('exception_message')}"
    if "observed_value" in found and "unexpected_count" not in found:
        return f"observed {found['observed_value']}"
    examples = (found.get("partial_unexpected_list") or [])[:3]
    return f"{found.get('unexpected_count', '?')} row(s)" + (f", e.g. {examples}" if examples else "")


def _describe(result) -> str:
    """One line: the check that failed, with what GX observed."""
    return f"{_check(result)}: {_detail(result)}"


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
            verdict.outcomes.append(Outcome(_check(expectation), bool(expectation.success), _detail(expectation)))
            if not expectation.success:
                verdict.failures.append(_describe(expectation))
                verdict.quarantined += _quarantine_rows(expectation, suite, data)
        verdicts.append(verdict)
    context.build_data_docs(site_names=["scenetune"])
    return verdicts, Path(docs_dir) / "index.html"


_STYLE = """
body { font: 15px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 72em; padding: 0 1em; color: #1d1d1f; }
h1 { font-size: 1.6em; } h2 { font-size: 1.2em; margin-top: 1.8em; }
table { border-collapse: collapse; width: 100%; margin: .5em 0; }
th, td { border: 1px solid #d0d0d7; padding: .3em .6em; text-align: left; vertical-align: top; }
th { background: #f1f1f5; } code { font-size: .95em; }
.passed { color: #126b2f; } .failed, .rejected { color: #b3141c; font-weight: 600; }
tr.bad td, .verdict.bad { background: #fdecec; }
.verdict { padding: .6em 1em; border-radius: 4px; background: #eaf6ee; }
"""


def write_summary(path: Path, run_key: str, reports: list[Report], verdicts: list[TableVerdict]) -> Path:
    """Write the gate's own page to ``path`` (beside GX's ``index.html``) and return it.

    ``reports`` are the gate's final per-table verdicts (quality.checks: GX failures plus the checks GX
    does not run), ``verdicts`` what :func:`validate` returned for the same tables, in the same order.
    """
    e = html.escape
    docs = path.parent
    rejected = any(not r.passed for r in reports)
    status = "rejected" if rejected else "passed"

    def mark(passed: bool) -> str:
        return '<span class="passed">passed</span>' if passed else '<span class="failed">failed</span>'

    def row(passed: bool) -> str:
        return "<tr>" if passed else '<tr class="bad">'

    def gx_page(table: str) -> str:
        # GX's validation page of the table (validations/<layer>/<name>/<run>/<time>/<batch>.html), if built.
        pages = sorted((docs / "validations" / Path(*table.split(".", 1))).glob("**/*.html"))
        return f' (<a href="{e(pages[0].relative_to(docs).as_posix())}">GX validation page</a>)' if pages else ""

    out = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        f"<title>Quality gate of run {e(run_key)}: {status}</title><style>{_STYLE}</style></head><body>",
        f'<h1>Quality gate of run {e(run_key)}: <span class="{status}">{status}</span></h1>',
    ]
    if rejected:
        out.append('<div class="verdict bad"><p>Nothing from this run is published; the live catalogue '
                   "version stays live. Every failure:</p><ul>")
        out += [f"<li>{e(r.table)} v{e(str(r.version))}: {e(f)}</li>" for r in reports for f in r.failures]
        out.append("</ul></div>")
    else:
        out.append('<div class="verdict"><p>Every table passed every check; the run may be published.</p></div>')
    out.append('<p>Great Expectations\' own <a href="index.html">Data Docs</a> of this run (they load their '
               "styles and scripts from the network).</p>")
    out.append("<table><tr><th>table</th><th>version</th><th>rows</th><th>verdict</th></tr>")
    out += [f'{row(r.passed)}<td><a href="#{e(r.table)}">{e(r.table)}</a></td>'
            f"<td>{e(str(r.version))}</td><td>{r.rows}</td><td>{mark(r.passed)}</td></tr>" for r in reports]
    out.append("</table>")
    for report, verdict in zip(reports, verdicts):
        out.append(f'<h2 id="{e(report.table)}">{e(report.table)} v{e(str(report.version))}: {report.rows} rows, '
                   f"{mark(report.passed)}</h2>")
        out.append(f"<p>{len(verdict.outcomes)} expectations{gx_page(report.table)}</p>")
        if report.failures:
            out.append("<ul>" + "".join(f'<li class="failed">{e(f)}</li>' for f in report.failures) + "</ul>")
        out.append("<table><tr><th>check</th><th>result</th><th>observed</th></tr>")
        out += [f'{row(o.passed)}<td>{e(o.check)}</td><td>{mark(o.passed)}</td>'
                f"<td>{e(o.detail)}</td></tr>" for o in verdict.outcomes]
        out.append("</table>")
    out.append("</body></html>\n")
    path.write_text("\n".join(out), encoding="utf-8")
    return path
