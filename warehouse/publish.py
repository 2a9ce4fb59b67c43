"""Publish the catalogue: copy audited Delta table versions into one DuckDB file.

Publish copies exactly the versions it is given, after checking that the
run's quality gate recorded each of them as passed (``warehouse.audits``);
it never reads "the latest version". The file is built beside the live one
and swapped in with an atomic rename, so a reader sees either the old
catalogue or the new one, never half; temp files a crashed publish left are
removed first.

Each publish is a catalogue version (warehouse.versions): its row is written
once the new file is in place. ``rollback`` publishes an earlier version's pins
again as a new version; ``publish_scoring_results`` rebuilds the file of the
live version with the latest scoring tables (score_uploads' last task). The
file also holds the features of warehouse.features (song vectors, views).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from core import files, settings
from core.errors import ScenetuneError
from schemas import TABLES, bronze, gold, scoring, silver
from schemas.table import Table
from warehouse import audits, delta, features
from warehouse import versions as catalogue_versions

# DuckDB table name -> the Delta table it is copied from.
PUBLISHED: dict[str, Table] = {
    "songs": gold.SONGS,
    "tags": gold.TAGS,
    "artist_aliases": gold.ARTIST_ALIASES,
    "song_lineage": gold.SONG_LINEAGE,
    "tag_cooccurrence": gold.TAG_COOCCURRENCE,
    "tag_map": gold.TAG_MAP,
    "sentence_embeddings": gold.SENTENCE_EMBEDDINGS,
    "song_embeddings": gold.SONG_EMBEDDINGS,
    "playlists": silver.PLAYLISTS,
    "playlist_songs": silver.PLAYLIST_SONGS,
    "cover_quality": silver.COVER_QUALITY,
    "crawl_runs": bronze.CRAWL_RUNS,
    "import_runs": bronze.IMPORT_RUNS,
}
OPTIONAL = (bronze.IMPORT_RUNS,)  # published when some run imported a dataset


def bronze_published(bronze_versions: dict[str, int]) -> dict[str, int]:
    """Of the versions a crawl committed, those of the bronze tables the warehouse publishes."""
    out = {}
    for table in (t for t in PUBLISHED.values() if t.layer == "bronze"):
        # The import's books when this run imported nothing (no SCENETUNE_MELON_DIR): those of earlier imports.
        version = bronze_versions.get(table.qualified_name, delta.version(table) if table in OPTIONAL else None)
        if version is not None:
            out[table.qualified_name] = version
    return out


# Scoring results: the latest version of each, when it exists (score_uploads runs between refreshes).
SCORING: dict[str, Table] = {"image_uploads": scoring.IMAGE_UPLOADS, "image_tags": scoring.IMAGE_TAGS,
                             "recommendations": scoring.RECOMMENDATIONS}


@dataclass(frozen=True)
class Published:
    path: Path
    run_key: str
    versions: dict[str, int]
    rows: dict[str, int]
    catalogue_version: int | None = None


def publish(run_key: str, versions: dict[str, int]) -> Published:
    """Copy ``{"layer.table": delta_version}`` (every published table, audited) into the warehouse.

    The refresh becomes a ``published`` catalogue version pinning every version it was given (the same
    refresh published again keeps its number and row). The row is written once the new file is in
    place: a publish that dies before leaves the previous file, and the previous version, live.
    """

    missing = [t.qualified_name for t in PUBLISHED.values() if t.qualified_name not in versions and t not in OPTIONAL]
    if missing:
        raise audits.NotAudited(f"run {run_key} cannot be published: no audited version of {missing}")
    audits.require_passed(run_key, dict(versions))
    row = catalogue_versions.make_row(
        run_key, catalogue_versions.run_time(run_key), versions, status=catalogue_versions.PUBLISHED,
        quality_failures=[], data_docs=catalogue_versions.data_docs_link(run_key))
    return _publish_version(row)


def rollback(number: int) -> Published:
    """Publish again what catalogue version ``number`` pinned, as a new ``rolled back`` version."""
    from datetime import datetime, timezone

    target = catalogue_versions.get(number)
    if target["status"] == catalogue_versions.REJECTED:
        raise ScenetuneError(f"catalogue version {number} was rejected by its quality gate: it was never published")
    unreadable = [f"{name} v{v}" for name, v in sorted(target["table_versions"].items())
                  if not delta.readable(TABLES[name], v)]
    if unreadable:
        raise ScenetuneError(f"catalogue version {number} can no longer be read ({', '.join(unreadable[:3])} "
                             "vacuumed: retention keeps the last SCENETUNE_KEEP_VERSIONS versions)")
    row = catalogue_versions.make_row(
        target["run_key"], datetime.now(timezone.utc).replace(microsecond=0), target["table_versions"],
        status=catalogue_versions.ROLLED_BACK, quality_failures=target["quality_failures"],
        data_docs=target["data_docs"], rolled_back_to=target["rolled_back_to"] or number)
    return _publish_version(row)


def publish_scoring_results(run_key: str) -> Published:
    """Rebuild the warehouse from the live catalogue version's pins plus the latest scoring tables
    (the last task of score_uploads). The catalogue version does not change."""
    live = catalogue_versions.live()
    if live is None:
        raise ScenetuneError(f"scoring run {run_key}: no catalogue version is live yet (run `scenetune refresh`)")
    return _publish_version(live, record=False)


def publish_scoring_if_live(run_key: str) -> dict:
    """What a scoring run ends with (the score_uploads DAG's publish, and `scenetune score`): the scoring
    tables queryable beside the live catalogue, or why not (no catalogue is live yet)."""
    if catalogue_versions.live() is None:
        return {"published": False, "reason": "no catalogue version is live yet: nothing to publish into "
                                              "(`scenetune refresh` publishes one)"}
    published = publish_scoring_results(run_key)
    return {"published": True, "path": str(published.path), "rows": published.rows}


def _publish_version(row: dict, record: bool = True) -> Published:
    """Build the file of one version row beside the live one, swap it in, then record the row."""
    final = settings.load().duckdb_path
    # One publisher at a time: only then are temp files beside the warehouse a crashed one's leftovers.
    with files.exclusive_lock(final.with_name(f".{final.name}.lock")):
        files.remove_stale_temps(final)
        history = [r for r in catalogue_versions.all_versions() if r["version"] != row["version"]] + [row]
        with files.atomic_path(final) as tmp:
            rows, copied = _write_warehouse(tmp, row["run_key"], row["table_versions"],
                                            sorted(history, key=lambda r: r["version"]))
        if record:
            catalogue_versions.write_row(row)
    return Published(final, row["run_key"], copied, rows, row["version"])


def _write_warehouse(path: Path, run_key: str, versions: dict[str, int],
                     history: list[dict]) -> tuple[dict[str, int], dict[str, int]]:
    """Create the DuckDB file at ``path`` from the pinned versions; returns rows per table and the pinned
    versions copied (``catalogue_build``: what the gate audited; the scoring tables are not in it)."""
    import duckdb

    rows: dict[str, int] = {}
    con = duckdb.connect(str(path))
    try:
        lineage = []
        for name, table in PUBLISHED.items():
            version = versions.get(table.qualified_name)
            if version is None:  # an optional table no run has written (no import yet)
                continue
            rows[name] = _copy(con, name, delta.read(table, version=version).select(table.column_names))
            lineage.append((run_key, name, table.qualified_name, version, rows[name]))
        for name, table in SCORING.items():
            version = delta.version(table)
            if version is not None:
                rows[name] = _copy(con, name, delta.read(table, version=version).select(table.column_names))
        con.execute(
            "CREATE TABLE catalogue_build (run_key VARCHAR, table_name VARCHAR, source VARCHAR,"
            " delta_version BIGINT, row_count BIGINT)"
        )
        con.executemany("INSERT INTO catalogue_build VALUES (?, ?, ?, ?, ?)", lineage)
        rows["catalogue_versions"] = _copy(con, "catalogue_versions", catalogue_versions.arrow_rows(history))
        # the live file lends its nearest-sentence search when the vectors are the same
        features.create(con, previous=settings.load().duckdb_path)
        con.execute("CHECKPOINT")
    finally:
        con.close()
    return rows, {source: version for _, _, source, version, _ in lineage}


def _copy(con, name: str, data) -> int:
    con.register("incoming", data)
    con.execute(f'CREATE TABLE "{name}" AS SELECT * FROM incoming')
    con.unregister("incoming")
    return data.num_rows
