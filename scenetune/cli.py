"""The ``scenetune`` command."""

from __future__ import annotations

import json
import os
import sys
import time
from datetime import datetime, timezone

import click

from scenetune import settings
from scenetune.errors import ScenetuneError

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


@cli.command()
@click.option("--logical-date", default=None, help="Logical date of the run (ISO); default: now.")
def demo(logical_date: str | None) -> None:
    """Run catalogue_refresh through Airflow on the embedded demo site and query the result."""
    from scenetune import airflow_env, preflight
    from warehouse.query import run_sql

    s = settings.load()
    preflight.require_writable_home(s.home)
    preflight.require_java()
    when = logical_date or datetime.now(timezone.utc).replace(microsecond=0).isoformat()
    click.echo(f"SCENETUNE_HOME={s.home}")
    click.echo(f"Running DAG catalogue_refresh through Airflow (logical date {when}) on the "
               f"{'site ' + s.genie_base_url if s.genie_base_url else s.demo_scale + '-scale demo site'} ...")
    started = time.monotonic()
    log_path = airflow_env.dags_test("catalogue_refresh", when)
    click.echo(f"DAG run succeeded in {time.monotonic() - started:.0f}s (log: {log_path})")
    click.echo(f"Warehouse: {s.duckdb_path}  (Delta tables under {s.delta_dir})")
    click.echo("")
    click.echo(run_sql(
        "SELECT crawl_run_id, mode, requested, parsed, unchanged, quarantined, failed, round(duration_s, 1) AS seconds "
        "FROM crawl_runs ORDER BY crawl_run_id DESC LIMIT 1"
    ).format())
    click.echo("")
    click.echo(run_sql("SELECT table_name, row_count, delta_version FROM catalogue_build ORDER BY table_name").format())
    click.echo("")
    click.echo(f"$ scenetune sql \"{' '.join(SAMPLE_SQL.split())}\"")
    click.echo(run_sql(SAMPLE_SQL).format())


@cli.command()
@click.option("--base-url", default=None, help="Genie site to crawl (default: GENIE_BASE_URL, else the embedded demo site).")
@click.option("--run-id", default=None, help="Key of this crawl run (default: now, UTC).")
@click.option("--full", is_flag=True, help="Fetch every playlist, not only new and changed ones.")
@click.option("--max-playlists", type=int, default=None, help="Stop after this many detail pages.")
def crawl(base_url: str | None, run_id: str | None, full: bool, max_playlists: int | None) -> None:
    """Crawl Genie playlists into the bronze Delta tables."""
    from scenetune import preflight, refresh, runs

    preflight.require_writable_home(settings.load().home)
    result = refresh.crawl(run_id or runs.now_key(), base_url=base_url, full=full, max_playlists=max_playlists)
    _echo_json(result)


@cli.command()
@click.option("--logical-date", default=None, help="Logical date of the run (ISO); default: now.")
def refresh(logical_date: str | None) -> None:
    """Run the catalogue_refresh DAG once through Airflow (crawl, build, gate, publish)."""
    from scenetune import airflow_env, preflight

    preflight.require_writable_home(settings.load().home)
    preflight.require_java()
    when = logical_date or datetime.now(timezone.utc).replace(microsecond=0).isoformat()
    log_path = airflow_env.dags_test("catalogue_refresh", when)
    click.echo(f"catalogue_refresh {when}: success (log: {log_path})")


@cli.command()
@click.argument("query")
@click.option("--json", "as_json", is_flag=True, help="Print rows as JSON lines.")
def sql(query: str, as_json: bool) -> None:
    """Query the published DuckDB warehouse (read-only)."""
    from warehouse.query import run_sql

    result = run_sql(query)
    if as_json:
        for row in result.rows:
            click.echo(json.dumps(dict(zip(result.columns, row)), ensure_ascii=False, default=str))
    else:
        click.echo(result.format())


@cli.command()
def versions() -> None:
    """List the Delta versions of each catalogue table (newest first)."""
    from deltalake import DeltaTable

    from schemas import TABLES
    from warehouse import delta

    s = settings.load()
    for name, table in TABLES.items():
        path = s.delta_path(table.layer, table.name)
        if not delta.exists(path):
            continue
        for entry in DeltaTable(str(path)).history(limit=5):
            stamp = datetime.fromtimestamp(entry["timestamp"] / 1000, timezone.utc).isoformat(timespec="seconds")
            click.echo(f"{name}\tv{entry['version']}\t{stamp}\t{entry.get('operation', '')}")


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
        "SELECT crawl_run_id, status, requested, parsed, unchanged, quarantined, failed, round(duration_s, 1) AS seconds "
        "FROM crawl_runs ORDER BY crawl_run_id DESC LIMIT 5"
    ).format())


def _later(issue: str):
    def command() -> None:
        raise ScenetuneError(f"not available yet: arrives with {issue} (see ../shared/ROADMAP.md)")

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
