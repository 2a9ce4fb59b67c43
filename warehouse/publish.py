"""Publish the catalogue: copy the Delta tables users query into one DuckDB file.

The file is built beside the live one and swapped in with an atomic rename,
so a reader sees either the old catalogue or the new one, never half.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from schemas import bronze, gold, silver
from schemas.table import Table
from scenetune import settings
from warehouse import delta

# DuckDB table name -> the Delta table it is copied from.
PUBLISHED: dict[str, Table] = {
    "songs": gold.SONGS,
    "tags": gold.TAGS,
    "playlists": silver.PLAYLISTS,
    "playlist_songs": silver.PLAYLIST_SONGS,
    "crawl_runs": bronze.CRAWL_RUNS,
}


@dataclass(frozen=True)
class Published:
    path: Path
    build_id: str
    rows: dict[str, int]


def publish(build_id: str) -> Published:
    import duckdb

    s = settings.load()
    s.warehouse_dir.mkdir(parents=True, exist_ok=True)
    final = s.duckdb_path
    tmp = final.with_name(f".{final.name}.{build_id}.tmp")
    tmp.unlink(missing_ok=True)
    rows: dict[str, int] = {}
    con = duckdb.connect(str(tmp))
    try:
        versions = []
        for name, table in PUBLISHED.items():
            path = s.delta_path(table.layer, table.name)
            if delta.exists(path):
                data = delta.read(path).select(table.column_names)
            else:  # e.g. no crawl run recorded yet: publish the declared, empty table
                data = table.arrow_schema().empty_table()
            con.register("incoming", data)
            con.execute(f'CREATE TABLE "{name}" AS SELECT * FROM incoming')
            con.unregister("incoming")
            rows[name] = data.num_rows
            versions.append((build_id, name, table.qualified_name, delta.version(path), data.num_rows))
        con.execute(
            "CREATE TABLE catalogue_build (build_id VARCHAR, table_name VARCHAR, source VARCHAR,"
            " delta_version BIGINT, row_count BIGINT)"
        )
        con.executemany("INSERT INTO catalogue_build VALUES (?, ?, ?, ?, ?)", versions)
        con.execute("CHECKPOINT")
    finally:
        con.close()
    os.replace(tmp, final)  # atomic on one filesystem
    return Published(final, build_id, rows)
