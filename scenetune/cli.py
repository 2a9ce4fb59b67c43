"""The ``scenetune`` command."""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import click

from core import settings
from core.errors import ScenetuneError
from core.process import exit_now, on_ctrl_c

SAMPLE_SQL = """
SELECT s.title, s.artist, s.playlist_count, list_slice(s.tags, 1, 4) AS top_tags
FROM songs s
ORDER BY s.playlist_count DESC, s.song_key
LIMIT 10
""".strip()
GENRE_SQL = """
SELECT genre_source, count(*) AS songs, sum(row_count) AS song_rows,
       (SELECT songs_parsed FROM crawl_runs ORDER BY run_key DESC LIMIT 1) AS song_pages_this_run,
       (SELECT songs_pending FROM crawl_runs ORDER BY run_key DESC LIMIT 1) AS song_ids_pending
FROM songs GROUP BY genre_source ORDER BY songs DESC
""".strip()
# What cover cleaning found: which covers train the image model (keep, crop) and which do not, and why.
COVERS_SQL = """
SELECT verdict, coalesce(cover_kind, '-') AS kind, count(*) AS playlists, any_value(reason) AS for_example
FROM cover_quality GROUP BY ALL ORDER BY playlists DESC
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


def _run_refresh(logical_date: str | None, force_build: bool = False):
    from scenetune import airflow_env, preflight

    preflight.before_refresh()
    conf = {"force_build": True} if force_build else None
    logical_date = _logical_date(logical_date)
    try:
        return airflow_env.dags_test("catalogue_refresh", logical_date, conf=conf)
    except ScenetuneError as err:
        # A runner killed mid-stage (kill -9 of its process group, the out-of-memory killer) leaves a log cut
        # off anywhere: its run is recorded `killed` with the stage it was in, which is what to say.
        killed = _killed_refresh(logical_date)
        if killed:
            raise ScenetuneError(killed) from err
        raise


def _killed_refresh(logical_date: str) -> str | None:
    from core.runs import RunPartition
    from scenetune import run_summary

    try:
        run_key = RunPartition.at(datetime.fromisoformat(logical_date)).run_key
        return run_summary.killed_by("catalogue_refresh", run_key, os.getpid())
    except Exception:  # noqa: BLE001 - the run's own error is said instead
        return None


def _tag_head_summary() -> str:
    """The image model's tag head the latest refresh trained, and how well it ranks held-out covers."""
    from schemas.scoring import TAG_MODELS
    from warehouse import delta

    rows = delta.read_or_empty(TAG_MODELS).to_pylist()
    if not rows:
        return "Tag head: not trained yet (too few covers with labelled playlists)"
    head = max(rows, key=lambda r: r["run_key"])
    measured = (f"held-out mAP {head['heldout_map']:.3f} vs {head['prior_map']:.3f} for a constant scorer"
                if head["heldout_map"] is not None else "no held-out image to measure it on")
    return (f"Tag head {head['model_version']}: {len(head['labels'])} labels, trained on {head['train_images']} "
            f"cleaned covers; {measured}")


def _build_reports(logical_date: str) -> dict[str, Path]:
    """Figures the catalogue build of the run for ``logical_date`` drew (or the earlier build it reused)."""
    from core.runs import RunPartition
    from spark_jobs.build_catalogue import reports

    return reports(RunPartition.at(datetime.fromisoformat(logical_date)).run_key)


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
    logical_date = _logical_date(logical_date)
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
    # Song pages are bounded per run: the rest of the songs take their playlists' genre tags until fetched.
    click.echo(run_sql(GENRE_SQL).format())
    click.echo("")
    click.echo(run_sql(COVERS_SQL).format())
    click.echo(_tag_head_summary())
    for figure, path in _build_reports(logical_date).items():
        click.echo(f"{figure.replace('_', ' ').capitalize()}: {path}")
    click.echo("")
    from scenetune import run_summary

    # The run's summary (stages, books, quality, version), then what a user does next: a query.
    last_run = run_summary.last("catalogue_refresh")
    click.echo(run_summary.describe(last_run) if last_run is not None else f"Time per stage: {_stage_times(result)}")
    click.echo("")
    click.echo(f"$ scenetune sql \"{' '.join(SAMPLE_SQL.split())}\"")
    click.echo(run_sql(SAMPLE_SQL).format())


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
    from scenetune.site import genie_site, site_key

    preflight.require_writable_home(settings.load().home)
    if base_url:
        settings.check_site_url(base_url, "--base-url")
    partition = RunPartition.parse(run_key) if run_key else RunPartition.at(datetime.now(timezone.utc))
    with genie_site(base_url) as url:
        crawled = crawl_to_bronze(partition, url, full=full, max_playlists=max_playlists, jobdir=jobdir,
                                  site=site_key(url))
    _echo_json({"run_key": crawled.run_key, "base_url": crawled.base_url, "mode": crawled.mode,
                "stats": crawled.stats, "bronze_versions": crawled.bronze_versions})


@cli.group("import")
def import_() -> None:
    """Import a published dataset into bronze, as a run like a crawl (the next refresh builds from it)."""


@import_.command("melon")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--run-key", default=None, help="Key of this run, YYYYMMDDTHHMMSSZ (default: now, UTC).")
def import_melon(directory: Path, run_key: str | None) -> None:
    """Import the Kakao Arena Melon Playlist Continuation dataset in DIRECTORY (train.json, val.json,
    test.json, song_meta.json, genre_gn_all.json): only what changed since earlier imports."""
    from core.runs import RunPartition
    from importers.melon import import_melon as import_to_bronze
    from scenetune import preflight

    preflight.require_writable_home(settings.load().home)
    partition = RunPartition.parse(run_key) if run_key else RunPartition.at(datetime.now(timezone.utc))
    imported = import_to_bronze(directory, partition)
    click.echo(imported.summary(), err=True)
    _echo_json({"run_key": imported.run_key, "stats": imported.stats, "bronze_versions": imported.bronze_versions})


@cli.command()
@click.option("--logical-date", default=None, help="Logical date of the run (ISO); default: now.")
@click.option("--force-build", is_flag=True,
              help="Rebuild the catalogue even when nothing was crawled that changes it.")
def refresh(logical_date: str | None, force_build: bool) -> None:
    """Run the catalogue_refresh DAG once through Airflow (crawl, build, gate, publish)."""
    result = _run_refresh(logical_date, force_build)
    click.echo(f"catalogue_refresh {result.run_id}: success ({_stage_times(result)}; log: {result.log_path})")


@cli.command()
@click.option("--dag", "dag_id", default=None, help="Only runs of this DAG (e.g. catalogue_refresh).")
@click.option("--limit", default=20, show_default=True, help="How many runs, newest first.")
@click.option("--json", "as_json", is_flag=True, help="Print the run rows as JSON.")
def runs(dag_id: str | None, limit: int, as_json: bool) -> None:
    """List recorded DAG runs (ops.pipeline_runs), newest first: state, time, slowest stage, result, quality, version."""
    from scenetune import run_summary
    from warehouse.query import Result

    run_summary.close_dead(dag_id)  # a run recorded `running` whose command is gone was killed: say so
    rows = run_summary.runs(dag_id, limit)
    if as_json:
        _echo_json(rows)
        return
    if not rows:
        click.echo("no runs recorded yet: run `scenetune refresh` (or `make demo`)")
        return

    def slowest(row: dict) -> str:
        stages = row["stage_durations"]
        name = max(stages, key=stages.get) if stages else None
        return f"{name} {stages[name]:.0f}s" if name else "-"

    table = [(r["dag_id"], r["run_key"], r["state"] + (f" at {r['failed_stage']}" if r["failed_stage"] else ""),
              f"{r['duration_s']:.0f}" if r["duration_s"] is not None else "-", slowest(r),
              run_summary.outcome(r), run_summary.quality_text(r),
              f"{r['catalogue_version']} {r['catalogue_status']}" if r["catalogue_version"] is not None else "-")
             for r in rows]
    click.echo(Result(["dag", "run", "state", "seconds", "slowest stage", "result", "quality", "catalogue"],
                      table).format())


@cli.command()
@click.argument("query", required=False)
@click.option("-f", "--file", "query_file", metavar="FILE", help="Read the query from FILE (UTF-8).")
@click.option("--param", "params", multiple=True, metavar="NAME=VALUE",
              help="Bind $NAME in the query to VALUE, as text (cast in SQL: $n::INT). Repeatable.")
@click.option("--format", "output_format", type=click.Choice(["table", "json", "csv"]), default=None,
              help="table (default: the first --max-rows rows), json (JSON lines) or csv: these two print every row.")
@click.option("--json", "as_json", is_flag=True, help="Same as --format json.")
@click.option("--max-rows", type=int, default=50, show_default=True, help="Rows shown by --format table.")
@click.option("--version", "catalogue_version", type=int, default=None, metavar="N",
              help="Query catalogue version N (the Delta versions it pinned) instead of the live one.")
@click.option("--timeout", "timeout_s", type=float, default=None, metavar="SECONDS",
              help="Stop the query after SECONDS (default SCENETUNE_SQL_TIMEOUT_S, 300; 0: no limit).")
def sql(query: str | None, query_file: str | None, params: tuple[str, ...], output_format: str | None,
        as_json: bool, max_rows: int, catalogue_version: int | None, timeout_s: float | None) -> None:
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
    # Ctrl-C interrupts the query at once (not when its next batch arrives); `| head` may close stdout early.
    with on_ctrl_c(warehouse_query.interrupt_running), _reader_may_leave():
        if as_json or output_format in warehouse_query.EXPORT_FORMATS:
            warehouse_query.export(text, bound, "json" if as_json else output_format, sys.stdout,
                                   version=catalogue_version, timeout_s=timeout_s)
        else:
            result = warehouse_query.run_sql(text, bound, max_rows=max_rows, version=catalogue_version,
                                             timeout_s=timeout_s)
            click.echo(result.format())


@contextlib.contextmanager
def _reader_may_leave() -> Iterator[None]:
    """A closed stdout (`| head -3`) is the reader saying it has enough: exit 0, no message.

    Click would turn the EPIPE into exit 1; stdout goes to /dev/null so the exit's flush has nowhere to fail.
    """
    try:
        yield
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        exit_now(0)


@cli.group(invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="Print the version rows as JSON.")
@click.pass_context
def versions(ctx: click.Context, as_json: bool) -> None:
    """List the catalogue versions (published, rejected, rolled back), newest first; `versions diff A B`
    says what changed between two; `versions tables` lists each table's recent Delta versions."""
    if ctx.invoked_subcommand is not None:
        return
    from warehouse import versions as catalogue_versions
    from warehouse.query import Result

    rows = catalogue_versions.all_versions()
    if as_json:
        _echo_json(rows)
        return
    if not rows:
        click.echo("no catalogue versions yet: run `scenetune refresh` (or `make demo`)")
        return
    live = catalogue_versions.live()
    table = [(f"{r['version']}{' (live)' if live and r['version'] == live['version'] else ''}", r["status"]
              + (f" to {r['rolled_back_to']}" if r["rolled_back_to"] else ""),
              r["created_at"].isoformat(timespec="seconds"), r["run_key"], r["row_counts"].get("gold.songs"),
              r["row_counts"].get("silver.playlists"),
              "passed" if r["quality_passed"] else f"{len(r['quality_failures'])} failed: {r['quality_failures'][0]}",
              r["code_version"]) for r in reversed(rows)]
    click.echo(Result(["version", "status", "created", "run", "songs", "playlists", "quality", "code"], table).format())


@versions.command("diff")
@click.argument("a", type=int)
@click.argument("b", type=int)
@click.option("--json", "as_json", is_flag=True, help="Print the differences as JSON.")
def versions_diff(a: int, b: int, as_json: bool) -> None:
    """What changed from catalogue version A to B: songs, playlists, tag map (read from their pinned Delta versions)."""
    from warehouse import versions as catalogue_versions

    report = catalogue_versions.diff(a, b)
    if as_json:
        _echo_json(report)
        return
    click.echo(f"catalogue version {a} -> {b}")
    click.echo(f"tables changed: {', '.join(report['tables_changed']) or 'none'}")
    if "songs" in report:
        s = report["songs"]
        click.echo(f"songs: +{s['added']} -{s['removed']}"
                   + (f"  added e.g. {', '.join(s['added_examples'])}" if s["added_examples"] else "")
                   + (f"  removed e.g. {', '.join(s['removed_examples'])}" if s["removed_examples"] else ""))
    if "playlists" in report:
        p = report["playlists"]
        click.echo(f"playlists: +{p['added']} -{p['removed']} changed {p['changed']}"
                   + (f" (e.g. {', '.join(map(str, p['changed_examples']))})" if p["changed_examples"] else ""))
    if "tag_map" in report:
        t = report["tag_map"]
        click.echo(f"tag map: {t['changed']} tag(s) relabelled"
                   + "".join(f"\n  {e['tag']}: {e['from']} -> {e['to']}" for e in t["examples"]))


@versions.command("tables")
def versions_tables() -> None:
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
@click.argument("version", type=int)
def rollback(version: int) -> None:
    """Publish catalogue VERSION again, atomically, as a new version (history is never rewritten)."""
    from warehouse.publish import rollback as publish_again

    published = publish_again(version)
    click.echo(f"catalogue version {published.catalogue_version} is live: version {version} rolled back "
               f"({published.rows.get('songs', 0)} songs) -> {published.path}")


@cli.command()
@click.option("--keep", type=int, default=None, metavar="N",
              help="Catalogue versions to keep readable (default: SCENETUNE_KEEP_VERSIONS).")
@click.option("--dry-run", is_flag=True, help="Say what would be deleted; delete nothing.")
def maintenance(keep: int | None, dry_run: bool) -> None:
    """Retention: keep the last N catalogue versions readable, vacuum the Delta files none of them reads."""
    from warehouse import maintenance as warehouse_maintenance

    if keep is not None and keep < 1:
        raise ScenetuneError(f"--keep must be 1 or more, got {keep}")
    done = warehouse_maintenance.apply(keep=keep, dry_run=dry_run)
    kept = ", ".join(map(str, done.kept_versions)) or "none"
    dropped = ", ".join(map(str, done.dropped_versions)) or "none"
    files = sum(done.deleted_files.values())
    click.echo(f"catalogue versions kept readable: {kept}; no longer kept: {dropped}")
    click.echo(f"{'would delete' if dry_run else 'deleted'} {files} Delta data file(s) in "
               f"{sum(1 for n in done.deleted_files.values() if n)} table(s)")
    s = settings.load()
    scratch = done.scratch_removed
    click.echo(f"{'would remove' if dry_run else 'removed'} {len(scratch)} Spark scratch folder(s) and file(s) "
               f"older than {s.spark_scratch_max_age_hours}h"
               + (f" ({_mib(sum(x.bytes for x in scratch))}) in {s.spark_scratch_dir}" if scratch else ""))
    if dry_run:  # what exactly: a running job's own scratch is younger, and never listed
        for x in scratch:
            click.echo(f"  {x.name}  {_mib(x.bytes)}, untouched for {x.idle_hours:.0f}h")


def _mib(size: int) -> str:
    return f"{size / 2**20:.1f} MiB"


@cli.command()
@click.argument("submission", required=False)
def status(submission: str | None) -> None:
    """Show prerequisites, where data lives, the last crawl runs; or, given SUBMISSION, its progress."""
    if submission:
        _submission_status(submission)
        return
    from scenetune import preflight
    from warehouse.query import run_sql

    s = settings.load()
    for name, verdict in preflight.report(s.home):
        click.echo(f"{name:<24}{verdict}")
    click.echo(f"SCENETUNE_HOME          {s.home}")
    click.echo(f"site                    {s.genie_base_url or 'embedded demo site (' + s.demo_scale + ' scale)'}")
    click.echo(f"spark master            {s.spark_master}")
    click.echo(f"spark logs              {s.spark_logs_dir} (one file per Spark driver; none on the terminal)")
    if not s.duckdb_path.exists():
        click.echo("warehouse               not published yet (run `scenetune refresh`)")
        return
    click.echo(f"warehouse               {s.duckdb_path}")
    click.echo(run_sql(
        "SELECT run_key, status, requested, parsed, unchanged, quarantined, failed, retried, recovered, "
        "retry_exhausted, round(duration_s, 1) AS seconds, stop_reason FROM crawl_runs ORDER BY run_key DESC LIMIT 5"
    ).format())


def _submission_status(given: str) -> None:
    from scoring import results as scoring_results

    progress = scoring_results.status(scoring_results.resolve_submission(given))
    counts = progress["counts"]
    click.echo(f"submission {progress['submission_id']}"
               + (f" by {progress['submitter']}" if progress["submitter"] else "")
               + (f" (genres {', '.join(progress['genres'])})" if progress["genres"] else ""))
    click.echo(f"files      {progress['files']}: " + ", ".join(f"{n} {k}" for k, n in counts.items() if n))
    state = "finished" if progress["finished"] else "waiting for `scenetune score` or the nightly run"
    click.echo(f"progress   {progress['done']}/{progress['to_score']} images have a verdict ({state})")
    if progress["models"]:
        click.echo(f"model      {', '.join(progress['models'])}")
    for file_name, verdict, reason in progress["problems"]:
        click.echo(f"  {verdict:<9}{file_name}: {reason}")


def _split_genres(value: str | None) -> list[str]:
    return [g for g in (value or "").split(",") if g.strip()]


@cli.command()
@click.argument("path", type=click.Path(file_okay=False, path_type=str))
@click.option("--genres", default=None, metavar="G1,G2", help="1-3 Genie genres for the songs, e.g. 발라드,POP.")
@click.option("--submitter", default=None, help="Who submits (kept with every upload).")
@click.option("--captions", "captions_file", default=None, type=click.Path(dir_okay=False, path_type=str),
              help="CSV of file,text: a caption per image (default: captions.csv in PATH, or sidecar .txt files).")
def submit(path: str, genres: str | None, submitter: str | None, captions_file: str | None) -> None:
    """Queue the images of a folder (recursively) for scoring; prints the submission id and counts."""
    from core.runs import RunPartition
    from scoring.uploads import submit as submit_folder

    # The submission is named by the moment it is made (what a DAG run's logical date is to a run).
    made = submit_folder(path, moment=RunPartition.at(datetime.now(timezone.utc)), genres=_split_genres(genres),
                         submitter=submitter, captions_file=captions_file)
    counts = made.counts
    click.echo(f"submission {made.submission_id}: {counts['queued']} queued, {counts['duplicate']} duplicate, "
               f"{counts['rejected']} rejected")
    for file_name, original in made.duplicates:
        click.echo(f"  duplicate {file_name}: same as {original}")
    for file_name, reason in made.rejected:
        click.echo(f"  rejected  {file_name}: {reason}")
    for note in made.notes:
        click.echo(f"  note      {note}")
    click.echo(f"next: `scenetune score` (or wait for the nightly run), then `scenetune status {made.submission_id}`")


@cli.command()
@click.option("--run-key", default=None, help="Key of this scoring run, YYYYMMDDTHHMMSSZ (default: now, UTC).")
def score(run_key: str | None) -> None:
    """Score every queued upload now (the nightly score_uploads run does the same), with a progress bar."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from core.runs import RunPartition
    from scoring.score_uploads import score as score_queue

    partition = RunPartition.parse(run_key) if run_key else RunPartition.at(datetime.now(timezone.utc))
    columns = (TextColumn("scoring"), BarColumn(), MofNCompleteColumn(), TextColumn("images"), TimeElapsedColumn())
    with Progress(*columns, transient=True) as bar:
        task = bar.add_task("score", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        books = score_queue(partition.run_key, progress=progress)
    if not books["claimed"]:
        click.echo("nothing queued to score")
        return
    from warehouse.publish import publish_scoring_if_live

    published = publish_scoring_if_live(books["run_key"])  # like the DAG's publish: results queryable with SQL
    click.echo(f"scoring run {books['run_key']} with {books['model_version']}: {books['scored']} scored, "
               f"{books['failed'] + books['poisoned']} failed, {books['recovered']} recovered from an earlier run, "
               f"{books['duplicates_resolved']} duplicates resolved ({books['duration_s']:.1f}s)")
    if books["recommendations"]:
        click.echo(f"songs: {books['recommendations']} recommendations from catalogue {books['catalogue_version']}")
    else:
        click.echo("songs: none recommended (no photo scored, or no catalogue yet: `scenetune refresh`)")
    if published["published"]:
        rows = published["rows"]
        click.echo(f"published to {published['path']}: image_uploads {rows['image_uploads']}, image_tags "
                   f"{rows['image_tags']}, recommendations {rows['recommendations']} rows (`scenetune sql`)")
    else:
        click.echo(f"not published: {published['reason']}")


@cli.command()
@click.argument("submission")
@click.option("--format", "output_format", type=click.Choice(["csv", "json", "html"]), default="csv", show_default=True,
              help="csv: a line per file; json: everything; html: a gallery of photo cards, images embedded.")
@click.option("--out", "out_path", type=click.Path(dir_okay=False, path_type=str), default=None,
              help="Write to this file (default: standard output).")
@click.option("--recommender", type=click.Choice(["both", "mpic_embedding", "imgenie_covers"]), default="both",
              show_default=True, help="Whose songs to show: MPIC's (tag meaning) or IMGenie's (similar covers).")
def results(submission: str, output_format: str, out_path: str | None, recommender: str) -> None:
    """Export what a submission's photos were tagged with and the songs chosen for them."""
    from core import files
    from scoring import results as scoring_results

    submission_id = scoring_results.resolve_submission(submission)
    rows = scoring_results.results(submission_id, recommenders=None if recommender == "both" else (recommender,))
    writer = {"csv": scoring_results.write_csv, "json": scoring_results.write_json,
              "html": lambda r, out: scoring_results.write_html(submission_id, r, out)}[output_format]
    if out_path is None:
        writer(rows, sys.stdout)
        return
    import io

    buffer = io.StringIO()
    writer(rows, buffer)
    files.write_text(out_path, buffer.getvalue())
    click.echo(f"wrote {out_path} ({len(rows)} files of submission {submission_id})", err=True)


@cli.group()
def evaluate() -> None:
    """Measure the catalogue and the models against a ground truth (the demo site's, or a file)."""


@evaluate.command("catalogue")
@click.option("--ground-truth", "ground_truth_path", type=click.Path(dir_okay=False, exists=True), default=None,
              help="Ground-truth JSON (python -m demo_site ground-truth --scale S --seed N --out FILE); "
                   "default: generated for --scale and --seed.")
@click.option("--scale", default=None, help="Demo-site scale of the crawled catalogue (default: SCENETUNE_DEMO_SCALE).")
@click.option("--seed", type=int, default=None, help="Demo-site seed (default: SCENETUNE_DEMO_SEED).")
@click.option("--melon-truth", "melon_truth_path", type=click.Path(exists=True, path_type=Path), default=None,
              help="The Melon generator's ground_truth.json (or the dataset folder holding it): also score the "
                   "Melon rows, per source and across sources; default: SCENETUNE_MELON_DIR's, when it has one.")
@click.option("--table", "as_table", is_flag=True,
              help="Print the scores and a per-class table (precision, recall, kept apart) instead of JSON.")
def evaluate_catalogue(ground_truth_path: str | None, scale: str | None, seed: int | None,
                       melon_truth_path: Path | None, as_table: bool) -> None:
    """Pair precision and recall of the published catalogue's songs, over rows, over spellings and per
    variant class of the ground truth (per_class: gloss, collaboration, neg_live ...; hard negatives also
    get kept_apart, the share of their spellings not merged with the song they look like). With a Melon
    import, also per source (by_source) and over the pairs of a Genie and a Melon spelling (cross_source)."""
    from quality.catalogue_eval import evaluate_published, load_ground_truth

    if ground_truth_path:
        truth = load_ground_truth(ground_truth_path)
    else:
        from scenetune.site import demo_ground_truth

        s = settings.load()
        truth = demo_ground_truth(scale or s.demo_scale, s.demo_seed if seed is None else seed)
    melon_dir = settings.load().melon_dir
    if melon_truth_path is None and melon_dir is not None and (melon_dir / "ground_truth.json").is_file():
        melon_truth_path = melon_dir
    melon_truth = None
    if melon_truth_path is not None:
        melon_truth = load_ground_truth(melon_truth_path / "ground_truth.json" if melon_truth_path.is_dir()
                                        else melon_truth_path)
    scores = evaluate_published(truth, melon_truth)
    if not as_table:
        _echo_json(scores)
        return
    from warehouse.query import Result

    click.echo(f"rows: pair precision {scores['pair_precision']:.4f}, recall {scores['pair_recall']:.4f} "
               f"({scores['matched_rows']} matched, {scores['unmatched_rows']} not in the ground truth)")
    click.echo(f"spellings: pair precision {scores['form_pair_precision']:.4f}, "
               f"recall {scores['form_pair_recall']:.4f} ({scores['spellings']['items']} spellings); "
               f"songs {scores['songs']} (true {scores['true_songs']})")
    for source, by in scores.get("by_source", {}).items():
        click.echo(f"{source}: spellings pair precision {by['form_pair_precision']:.4f}, recall "
                   f"{by['form_pair_recall']:.4f}; rows {by['pair_precision']:.4f} / {by['pair_recall']:.4f}")
    if "cross_source" in scores:
        cross = scores["cross_source"]
        click.echo(f"across sources (a Genie and a Melon spelling): pair precision {cross['pair_precision']:.4f}, "
                   f"recall {cross['pair_recall']:.4f}")
    table = [(name, c["spellings"], round(c["precision"], 4), round(c["recall"], 4),
              round(c["kept_apart"], 4) if "kept_apart" in c else "-", c.get("with_twin", "-"))
             for name, c in scores["per_class"].items()]
    click.echo(Result(["class", "spellings", "precision", "recall", "kept apart", "with twin"], table).format())


@evaluate.command("pairs")
@click.option("--pairs", "pairs_path", type=click.Path(dir_okay=False, exists=True), default=None,
              help="Pair CSV (the columns of tests/fixtures/dedupe_pairs/pairs.csv); default: the shipped hand-labelled set.")
def evaluate_pairs(pairs_path: str | None) -> None:
    """Precision and recall of the catalogue's song identity on hand-labelled same/different song pairs,
    each pair scored alone as a catalogue of its two rows, per class (gloss, collaboration, neg_live ...)."""
    from quality import dedupe_pairs
    from spark_jobs.song_identity import identify_rows

    result = dedupe_pairs.evaluate(dedupe_pairs.load(pairs_path or dedupe_pairs.PAIRS), identify_rows)
    _echo_json(result)


@evaluate.command("covers")
@click.option("--ground-truth", "ground_truth_path", type=click.Path(dir_okay=False, exists=True), default=None,
              help="Ground-truth JSON (python -m demo_site ground-truth --scale S --seed N --out FILE); "
                   "default: generated for --scale and --seed.")
@click.option("--scale", default=None, help="Demo-site scale (default: SCENETUNE_DEMO_SCALE); crawled first when "
                                            "SCENETUNE_HOME holds no crawl yet.")
@click.option("--seed", type=int, default=None, help="Demo-site seed (default: SCENETUNE_DEMO_SEED).")
@click.option("--png", "png_path", type=click.Path(dir_okay=False), default=None,
              help="Where to save the confusion matrix (default: SCENETUNE_HOME/evaluations/covers-<scale>.png).")
@click.option("--json", "as_json", is_flag=True, help="Print the scores as JSON instead of a table.")
def evaluate_covers(ground_truth_path: str | None, scale: str | None, seed: int | None, png_path: str | None,
                    as_json: bool) -> None:
    """Precision and recall per cover kind, macro F1 and crop IoU of the cover verdicts; a confusion matrix PNG.

    Judges the cover verdicts the latest run in SCENETUNE_HOME recorded (its refresh's clean_covers); a run
    without verdicts made with today's rules is cleaned first. On a home without a crawl it crawls the
    embedded demo site at --scale first.
    """
    from core.runs import RunPartition
    from crawlers.run import crawl as crawl_to_bronze
    from scenetune import preflight
    from scenetune.site import demo_ground_truth, genie_site, site_key
    from schemas import bronze, silver
    from spark_jobs.clean_covers import clean_covers, recorded_verdicts
    from spark_jobs.covers import evaluate as cover_eval
    from warehouse import delta

    s = settings.load()
    scale = scale or s.demo_scale
    seed = s.demo_seed if seed is None else seed
    if scale not in settings.DEMO_SCALES:
        raise ScenetuneError(f"--scale must be one of {', '.join(settings.DEMO_SCALES)}, got {scale!r}")
    runs = delta.read_or_empty(bronze.CRAWL_RUNS, columns=("run_key",)).column("run_key").to_pylist()
    if not runs:
        if s.genie_base_url and not ground_truth_path:
            raise ScenetuneError("no crawl in SCENETUNE_HOME and GENIE_BASE_URL is set: the ground truth is the demo "
                                 "site's; unset GENIE_BASE_URL or give --ground-truth")
        preflight.require_writable_home(s.home)
        partition = RunPartition.at(datetime.now(timezone.utc))
        click.echo(f"No crawl in {s.home}: crawling the embedded demo site ({scale} scale) ...", err=True)
        with genie_site(None, scale=scale) as url:
            crawl_to_bronze(partition, url, site=site_key(url))
        runs = [partition.run_key]
    run_key = max(runs)
    version = recorded_verdicts(run_key)
    if version is None:
        click.echo(f"Cleaning the covers of run {run_key} ...", err=True)
        version = clean_covers(run_key)[silver.COVER_QUALITY.qualified_name]
    else:
        click.echo(f"Scoring the cover verdicts run {run_key} recorded ({silver.COVER_QUALITY.qualified_name} "
                   f"v{version}) ...", err=True)
    rows = delta.read(silver.COVER_QUALITY, version=version).to_pylist()
    truth = ground_truth_path or demo_ground_truth(scale, seed)
    result = cover_eval.evaluate(rows, truth)
    if result.missing_truth > 0.01 * max(len(rows), 1):
        raise ScenetuneError(f"{result.missing_truth} of {len(rows)} playlists in SCENETUNE_HOME are not in the ground "
                             f"truth of the {scale}-scale demo site (seed {seed}): give the --scale/--seed it was "
                             "crawled at, or use a fresh SCENETUNE_HOME")
    png = Path(png_path) if png_path else s.home / "evaluations" / f"covers-{scale}.png"
    cover_eval.confusion_png(result, png, title=f"covers, {scale} scale")
    if as_json:
        _echo_json({**result.summary(), "png": str(png), "delta_version": version})
    else:
        click.echo(result.table())
        click.echo(f"confusion matrix: {png}")


@evaluate.command("scoring")
@click.option("--out", "out_path", type=click.Path(dir_okay=False), default=None,
              help="Where to write the HTML report (default: SCENETUNE_HOME/evaluations/scoring-<model>.html).")
@click.option("--json", "as_json", is_flag=True, help="Print the numbers as JSON.")
def evaluate_scoring(out_path: str | None, as_json: bool) -> None:
    """Precision@K, coverage, genre constraint, diversity and popularity bias of both recommenders on held-out
    covers; the head, the zero-shot scorer and their blend on held-out covers and on hand-labelled real photos
    (scoring/real_photos, test split); scikit-image's photos with their tags and songs: an HTML report with plots."""
    from scoring import evaluate as scoring_eval
    from scoring.models import current_spec

    s = settings.load()
    out = Path(out_path) if out_path else s.home / "evaluations" / f"scoring-{current_spec().model_version}.html"
    report = scoring_eval.run(out)
    if as_json:
        _echo_json({**report, "html": str(out)})
        return
    click.echo(f"model {report['model_version']}, catalogue {report['catalogue_version']}, {report['queries']} queries "
               f"({report['query_source']})")
    for name, scores in report["recommenders"].items():
        click.echo(f"{name:<16} P@{report['k']} {scores['precision_at_k'] or 0:.3f}  coverage {scores['coverage']:.3f}  "
                   f"genre share {scores['genre_share'] or 0:.2f}  popularity pct {scores['popularity_percentile'] or 0:.0f}")
    maps = report["covers_map"]
    click.echo("held-out covers mAP: " + "  ".join(f"{n} {maps[f'{n}_map']:.3f}" for n in ("head", "zero_shot", "blend")
                                                   if maps.get(f"{n}_map") is not None))
    real = report["real_photos"]
    click.echo(f"real photos ({real['split']} split, {real['photos']}), top-1 hit rate / chance:")
    for source, groups in real["sources"].items():
        click.echo(f"  {source:<10} " + "  ".join(f"{g} {r['top1']:.2f}/{r['chance_top1']:.2f}"
                                               for g, r in groups.items() if r["top1"] is not None))
    for name, figures in (real.get("recommenders") or {}).items():
        click.echo(f"  {name:<16} distinct lists {figures['distinct_lists_ratio'] or 0:.2f}  distinct songs "
                   f"{figures['distinct_songs_ratio'] or 0:.2f}  popularity pct {figures['popularity_percentile'] or 0:.0f}")
    click.echo(f"report: {out}")


def main() -> None:
    try:
        # Without standalone mode click returns --help's and ctx.exit()'s code instead of exiting.
        returned = cli(standalone_mode=False)
        code = returned if isinstance(returned, int) else 0
    except click.exceptions.Abort:  # Ctrl-C (a refresh has stopped its process group by now)
        click.echo("scenetune: interrupted", err=True)
        code = 130
    except click.ClickException as exc:
        exc.show()
        code = exc.exit_code
    except ScenetuneError as exc:
        click.echo(f"scenetune: {exc}", err=True)
        code = 2
    except Exception as exc:  # noqa: BLE001 - the last line of defence for a one-line error
        if os.environ.get("SCENETUNE_DEBUG"):
            raise
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        click.echo(f"scenetune: unexpected {type(exc).__name__}: {first} (SCENETUNE_DEBUG=1 shows the traceback)", err=True)
        code = 1
    exit_now(code)


if __name__ == "__main__":
    main()
