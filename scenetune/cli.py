"""The ``scenetune`` command."""

from __future__ import annotations

import json
import os
import sys
import time
from datetime import datetime, timezone

import click

from core import settings
from core.errors import ScenetuneError

SAMPLE_SQL = """
SELECT s.title, s.artist, s.playlist_count, list_slice(s.tags, 1, 4) AS top_tags
FROM songs s
ORDER BY s.playlist_count DESC, s.song_key
LIMIT 10
""".strip()


def _echo_json(data: object) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """scenetune: songs for everyday photos, from Genie playlists to a DuckDB warehouse.

    All data lives under SCENETUNE_HOME (default ~/.scenetune); see .env.example.
    """


def _logical_date(value: str | None) -> str:
    # A run started by hand is "for" the moment it starts: its logical date (the DAG derives the run key).
    return value or datetime.now(timezone.utc).replace(microsecond=0).isoformat()


def _run_refresh(logical_date: str | None):
    from scenetune import airflow_env, preflight

    preflight.before_refresh()
    return airflow_env.dags_test("catalogue_refresh", _logical_date(logical_date))


def _stage_times(result) -> str:
    return "  ".join(f"{t.task_id} {t.duration_s or 0:.0f}s" for t in result.tasks)


@cli.command()
@click.option("--logical-date", default=None, help="Logical date of the run (ISO); default: now.")
def demo(logical_date: str | None) -> None:
    """Run catalogue_refresh through Airflow on the embedded demo site and query the result."""
    from warehouse.query import run_sql

    s = settings.load()
    click.echo(f"SCENETUNE_HOME={s.home}")
    click.echo("Running DAG catalogue_refresh through Airflow on the "
               f"{'site ' + s.genie_base_url if s.genie_base_url else s.demo_scale + '-scale demo site'} ...")
    started = time.monotonic()
    result = _run_refresh(logical_date)
    click.echo(f"DAG run {result.run_id} succeeded in {time.monotonic() - started:.0f}s (log: {result.log_path})")
    click.echo(f"Warehouse: {s.duckdb_path}  (Delta tables under {s.delta_dir})")
    click.echo("")
    click.echo(run_sql(
        "SELECT run_key, mode, requested, parsed, unchanged, quarantined, failed, not_found, retried, recovered, "
        "round(duration_s, 1) AS seconds FROM crawl_runs ORDER BY run_key DESC LIMIT 1"
    ).format())
    click.echo("")
    click.echo(run_sql("SELECT table_name, source, delta_version, row_count FROM catalogue_build ORDER BY table_name").format())
    click.echo("")
    click.echo(f"$ scenetune sql \"{' '.join(SAMPLE_SQL.split())}\"")
    click.echo(run_sql(SAMPLE_SQL).format())
    click.echo("")
    click.echo(f"Time per stage: {_stage_times(result)}")


@cli.command()
@click.option("--base-url", default=None, help="Genie site to crawl (default: GENIE_BASE_URL, else the embedded demo site).")
@click.option("--run-key", default=None, help="Key of this run, YYYYMMDDTHHMMSSZ (default: now, UTC).")
@click.option("--full", is_flag=True, help="Fetch every playlist, not only new, changed and previously failed ones.")
@click.option("--max-playlists", type=int, default=None, help="Stop after this many detail pages.")
@click.option("--jobdir", type=click.Path(file_okay=False), default=None,
              help="Scrapy JOBDIR: a crawl stopped with Ctrl-C resumes from here when run again with the same key.")
def crawl(base_url: str | None, run_key: str | None, full: bool, max_playlists: int | None, jobdir: str | None) -> None:
    """Crawl Genie playlists into the run's bronze Delta partitions (what the DAG's crawl task does)."""
    from core.runs import RunPartition
    from crawlers.run import crawl as crawl_to_bronze
    from scenetune import preflight
    from scenetune.site import genie_site

    preflight.require_writable_home(settings.load().home)
    partition = RunPartition.parse(run_key) if run_key else RunPartition.at(datetime.now(timezone.utc))
    with genie_site(base_url) as url:
        crawled = crawl_to_bronze(partition, url, full=full, max_playlists=max_playlists, jobdir=jobdir)
    _echo_json({"run_key": crawled.run_key, "base_url": crawled.base_url, "mode": crawled.mode,
                "stats": crawled.stats, "bronze_versions": crawled.bronze_versions})


@cli.command()
@click.option("--logical-date", default=None, help="Logical date of the run (ISO); default: now.")
def refresh(logical_date: str | None) -> None:
    """Run the catalogue_refresh DAG once through Airflow (crawl, build, gate, publish)."""
    result = _run_refresh(logical_date)
    click.echo(f"catalogue_refresh {result.run_id}: success ({_stage_times(result)}; log: {result.log_path})")


@cli.command()
@click.argument("query", required=False)
@click.option("-f", "--file", "query_file", metavar="FILE", help="Read the query from FILE (UTF-8).")
@click.option("--param", "params", multiple=True, metavar="NAME=VALUE",
              help="Bind $NAME in the query to VALUE, as text (cast in SQL: $n::INT). Repeatable.")
@click.option("--format", "output_format", type=click.Choice(["table", "json", "csv"]), default=None,
              help="table (default: the first --max-rows rows), json (JSON lines) or csv: these two print every row.")
@click.option("--json", "as_json", is_flag=True, help="Same as --format json.")
@click.option("--max-rows", type=int, default=50, show_default=True, help="Rows shown by --format table.")
def sql(query: str | None, query_file: str | None, params: tuple[str, ...], output_format: str | None,
        as_json: bool, max_rows: int) -> None:
    """Query the published DuckDB warehouse (read-only).

    QUERY is one read statement (SELECT, SHOW, DESCRIBE, SUMMARIZE, EXPLAIN SELECT),
    or - to read it from stdin; or give -f FILE instead. A QUERY that starts with -
    (a -- comment) goes after --: scenetune sql -- "-- note ...".
    """
    from warehouse import query as warehouse_query

    if as_json and output_format not in (None, "json"):
        raise ScenetuneError(f"--json and --format {output_format} disagree: give one of them")
    text = warehouse_query.read_query(query, query_file, sys.stdin.buffer)
    bound = warehouse_query.parse_params(params)
    if as_json or output_format in warehouse_query.EXPORT_FORMATS:
        warehouse_query.export(text, bound, "json" if as_json else output_format, sys.stdout)
    else:
        click.echo(warehouse_query.run_sql(text, bound, max_rows=max_rows).format())


@cli.command()
def versions() -> None:
    """List the Delta versions of each table (newest first) and what each run's gate said of them."""
    from deltalake import DeltaTable

    from schemas import TABLES
    from warehouse import delta

    audited: dict[tuple[str, int], str] = {}
    for row in delta.read_or_empty(TABLES["ops.catalogue_audits"]).to_pylist():
        verdict = "passed" if row["passed"] else "rejected: " + "; ".join(row["failures"])
        audited[(row["table_name"], row["delta_version"])] = f"{row['run_key']} {verdict}"
    for name, table in TABLES.items():
        if not delta.exists(table):
            continue
        for entry in DeltaTable(str(table.path)).history(limit=5):
            stamp = datetime.fromtimestamp(entry["timestamp"] / 1000, timezone.utc).isoformat(timespec="seconds")
            audit = audited.get((name, entry["version"]), "")
            click.echo(f"{name}\tv{entry['version']}\t{stamp}\t{entry.get('operation', '')}\t{audit}".rstrip())


@cli.command()
def status() -> None:
    """Show prerequisites, where data lives, the last crawl runs."""
    from scenetune import preflight
    from warehouse.query import run_sql

    s = settings.load()
    for name, verdict in preflight.report(s.home):
        click.echo(f"{name:<24}{verdict}")
    click.echo(f"SCENETUNE_HOME          {s.home}")
    click.echo(f"site                    {s.genie_base_url or 'embedded demo site (' + s.demo_scale + ' scale)'}")
    click.echo(f"spark master            {s.spark_master}")
    if not s.duckdb_path.exists():
        click.echo("warehouse               not published yet (run `scenetune refresh`)")
        return
    click.echo(f"warehouse               {s.duckdb_path}")
    click.echo(run_sql(
        "SELECT run_key, status, requested, parsed, unchanged, quarantined, failed, retried, recovered, "
        "retry_exhausted, round(duration_s, 1) AS seconds, stop_reason FROM crawl_runs ORDER BY run_key DESC LIMIT 5"
    ).format())


def _later(issue: str):
    def command() -> None:
        raise ScenetuneError(f"not available yet: arrives with {issue} (see the README)")

    return command


cli.command("submit", help="Queue a folder of images for the nightly scoring run. (not yet)")(_later("bulk image scoring"))
cli.command("score", help="Score queued image uploads now. (not yet)")(_later("bulk image scoring"))
cli.command("evaluate", help="Precision@K and coverage of the recommenders. (not yet)")(_later("bulk image scoring"))


def main() -> None:
    try:
        cli(standalone_mode=False)
    except click.exceptions.Abort:
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except ScenetuneError as exc:
        click.echo(f"scenetune: {exc}", err=True)
        sys.exit(2)
    except Exception as exc:  # noqa: BLE001 - the last line of defence for a one-line error
        if os.environ.get("SCENETUNE_DEBUG"):
            raise
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        click.echo(f"scenetune: unexpected {type(exc).__name__}: {first} (SCENETUNE_DEBUG=1 shows the traceback)", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
