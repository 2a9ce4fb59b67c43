"""Publish the catalogue: copy audited Delta table versions into one DuckDB file.

Publish copies exactly the versions it is given, after checking that the
run's quality gate recorded each of them as passed (``warehouse.audits``);
it never reads "the latest version". The file is built beside the live one
and swapped in with an atomic rename, so a reader sees either the old
catalogue or the new one, never half; temp files a crashed publish left are
removed first.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from core import files, settings
from schemas import bronze, gold, silver
from schemas.table import Table
from warehouse import audits, delta

# DuckDB table name -> the Delta table it is copied from.
PUBLISHED: dict[str, Table] = {
    "songs": gold.SONGS,
    "tags": gold.TAGS,
    "playlists": silver.PLAYLISTS,
    "playlist_songs": silver.PLAYLIST_SONGS,
    "crawl_runs": bronze.CRAWL_RUNS,
}


def bronze_published(bronze_versions: dict[str, int]) -> dict[str, int]:
    """Of the versions a crawl committed, those of the bronze tables the warehouse publishes."""
    return {t.qualified_name: bronze_versions[t.qualified_name] for t in PUBLISHED.values() if t.layer == "bronze"}


@dataclass(frozen=True)
class Published:
    path: Path
    run_key: str
    versions: dict[str, int]
    rows: dict[str, int]


def publish(run_key: str, versions: dict[str, int]) -> Published:
    """Copy ``{"layer.table": delta_version}`` (every published table, audited) into the warehouse."""
    import duckdb

    missing = [t.qualified_name for t in PUBLISHED.values() if t.qualified_name not in versions]
    if missing:
        raise audits.NotAudited(f"run {run_key} cannot be published: no audited version of {missing}")
    audits.require_passed(run_key, {t.qualified_name: versions[t.qualified_name] for t in PUBLISHED.values()})
    final = settings.load().duckdb_path
    files.remove_stale_temps(final)
    rows: dict[str, int] = {}
    with files.atomic_path(final) as tmp:
        con = duckdb.connect(str(tmp))
        try:
            lineage = []
            for name, table in PUBLISHED.items():
                version = versions[table.qualified_name]
                data = delta.read(table, version=version).select(table.column_names)
                con.register("incoming", data)
                con.execute(f'CREATE TABLE "{name}" AS SELECT * FROM incoming')
                con.unregister("incoming")
                rows[name] = data.num_rows
                lineage.append((run_key, name, table.qualified_name, version, data.num_rows))
            con.execute(
                "CREATE TABLE catalogue_build (run_key VARCHAR, table_name VARCHAR, source VARCHAR,"
                " delta_version BIGINT, row_count BIGINT)"
            )
            con.executemany("INSERT INTO catalogue_build VALUES (?, ?, ?, ?, ?)", lineage)
            con.execute("CHECKPOINT")
        finally:
            con.close()
    return Published(final, run_key, {t.qualified_name: versions[t.qualified_name] for t in PUBLISHED.values()}, rows)
