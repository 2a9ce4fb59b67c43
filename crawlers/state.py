"""What earlier crawls learned, so that a refresh fetches only what it must.

The state is derived from the bronze tables of the earlier crawl runs of the
same site (``crawl_runs.site``; never the run being (re)done, so a retried
run behaves like its first try, and never the rows of an import):

- ``playlists``: per plm_seq the latest parsed row's song count, tags and
  content hash (bronze.playlists), for the refresh's "unchanged" decision;
- ``frontier``: ids still without an answer (failed, quarantined or not
  fetched), their attempts and whether this run should retry them
  (crawlers.frontier; from crawl_failures, crawl_quarantine, playlists, crawl_runs);
- ``max_plm_seq``: the highest id any earlier run has an outcome for; the id
  walk of the next run starts above it (everything below is resolved or in the
  frontier).
- ``songs``: song pages (genres). ``resolved``: song ids an earlier run has an
  answer for (a parsed page, or "no such song"); ``attempts``: unresolved ids
  whose page failed or was quarantined, with the number of runs that tried;
  ``pending``: song ids seen in playlists (bronze.playlist_songs) without an
  answer yet, with how many song rows list them (the most listed are fetched first).

It is handed to the spider as a JSON file (``-a state=PATH``):

    {"max_plm_seq": 1234, "max_attempts": 5, "source": "...",
     "playlists": {"17": {"song_count": 16, "tags": ["드라이브"], "content_hash": "..."}, ...},
     "frontier": {"40": {"attempts": 1, "status": "due", "last_result": "error", ...}, ...},
     "songs": {"resolved": ["86040001", ...], "attempts": {"86040002": 1}, "pending": {"86040003": 12, ...}}}
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core import files
from core import settings as scenetune_settings
from crawlers import frontier
from crawlers.normalize import SOURCE
from schemas import bronze

STATE_COLUMNS = ("plm_seq", "song_count", "tags", "content_hash", "fetched_at", "run_key")


def empty_state() -> dict[str, Any]:
    return {"max_plm_seq": None, "playlists": {}, "frontier": {}, "max_attempts": None, "songs": empty_songs()}


def empty_songs() -> dict[str, Any]:
    return {"resolved": [], "attempts": {}, "pending": {}}


@dataclass(frozen=True)
class Runs:
    """The earlier runs a state is learned from: ``keys`` (None: every run) but never ``excluded``."""

    keys: frozenset[str] | None
    excluded: str | None = None


def site_runs(site: str | None = None, exclude_run_key: str | None = None) -> Runs:
    """The earlier crawl runs of ``site`` (:func:`site_of`; every run when None): a site's state is
    learned from its own crawls only, never from another site's rows."""
    from warehouse import delta

    if site is None:
        return Runs(None, exclude_run_key)
    rows = delta.read_or_empty(bronze.CRAWL_RUNS, columns=("run_key", "base_url", "site")).to_pylist()
    return Runs(frozenset(r["run_key"] for r in rows if (r["site"] or site_of(r["base_url"])) == site),
                exclude_run_key)


def site_of(base_url: str) -> str:
    """A site as crawl state keys it: its base URL, lower case, without a trailing slash."""
    return base_url.strip().rstrip("/").lower()


def _crawled_rows(table, columns: tuple[str, ...], runs: Runs) -> list[dict[str, Any]]:
    """Rows of ``runs`` in a bronze table, of the crawl's own source where the table is shared (never an
    import's rows)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from warehouse import delta

    shared = table in bronze.SHARED_TABLES
    data = delta.read_or_empty(table, columns=(*columns, "source") if shared else columns)
    if not data.num_rows:
        return []
    keep = pc.not_equal(data["run_key"], runs.excluded or "")
    if runs.keys is not None:
        keep = pc.and_(keep, pc.is_in(data["run_key"], value_set=pa.array(sorted(runs.keys), pa.string())))
    if shared:  # filtered in Arrow: an imported source can hold millions of rows
        keep = pc.and_(keep, pc.equal(data["source"], SOURCE))
    return data.filter(keep).select(list(columns)).to_pylist()


def song_history(runs: Runs) -> dict[str, Any]:
    """What the crawl runs ``runs`` learned about song pages, and the song ids still waiting for one."""
    from collections import Counter

    def earlier(table, columns):
        return _crawled_rows(table, columns, runs)

    resolved = {r["song_id"] for r in earlier(bronze.SONGS_INFO, ("run_key", "song_id"))}
    attempts: dict[str, set[str]] = {}
    for table in (bronze.CRAWL_FAILURES, bronze.CRAWL_QUARANTINE):
        columns = ("run_key", "song_id", "kind", "outcome") if table is bronze.CRAWL_FAILURES else (
            "run_key", "song_id", "kind")
        for row in earlier(table, columns):
            if row["kind"] != "song" or row["song_id"] is None:
                continue
            if row.get("outcome") == "not_found":
                resolved.add(row["song_id"])
            elif row.get("outcome") != "not_fetched":  # a page not fetched is no try
                attempts.setdefault(row["song_id"], set()).add(row["run_key"])
    listed = Counter(r["song_id"] for r in earlier(bronze.PLAYLIST_SONGS, ("run_key", "song_id"))
                     if r["song_id"] is not None)
    pending = {song_id: n for song_id, n in listed.items() if song_id not in resolved}
    return {"resolved": sorted(resolved),
            "attempts": {k: len(v) for k, v in sorted(attempts.items()) if k not in resolved},
            "pending": dict(sorted(pending.items()))}


def has_history(state: dict[str, Any]) -> bool:
    """Did any earlier run leave an outcome? (Then the next crawl is incremental.)"""
    return state.get("max_plm_seq") is not None


def history_outcomes(runs: Runs) -> tuple[list[frontier.Outcome], list[str]]:
    """Every detail-page outcome of the crawl runs ``runs``, and their keys."""
    def rows(table, columns):
        return [r for r in _crawled_rows(table, columns, runs) if r.get("plm_seq") is not None]

    outcomes = [frontier.Outcome(r["run_key"], r["plm_seq"], "parsed")
                for r in rows(bronze.PLAYLISTS, ("run_key", "plm_seq"))]
    outcomes += [frontier.Outcome(r["run_key"], r["plm_seq"], "quarantined")
                 for r in rows(bronze.CRAWL_QUARANTINE, ("run_key", "plm_seq", "kind")) if r["kind"] == "detail"]
    outcomes += [frontier.Outcome(r["run_key"], r["plm_seq"], r["outcome"])
                 for r in rows(bronze.CRAWL_FAILURES, ("run_key", "plm_seq", "kind", "outcome"))
                 if r["kind"] == "detail"]
    return outcomes, sorted(r["run_key"] for r in _crawled_rows(bronze.CRAWL_RUNS, ("run_key",), runs))


def build_state(exclude_run_key: str | None = None, max_attempts: int | None = None,
                site: str | None = None) -> dict[str, Any]:
    """State from the bronze Delta tables; no tables give the empty state.

    ``exclude_run_key`` leaves out the rows of the run being (re)done, so that a
    retried crawl does not take what it wrote itself for "already known".
    ``max_attempts`` defaults to SCENETUNE_CRAWL_MAX_ATTEMPTS. ``site``: the site
    to be crawled (:func:`site_of`); only its own earlier crawls count (None: every crawl).
    """
    if max_attempts is None:
        max_attempts = scenetune_settings.load().crawl_max_attempts
    state = empty_state()
    state["source"] = str(bronze.PLAYLISTS.path.parent)
    state["max_attempts"] = max_attempts
    runs = site_runs(site, exclude_run_key)
    rows = _crawled_rows(bronze.PLAYLISTS, STATE_COLUMNS, runs)
    # The latest fetch of a playlist wins; run key breaks ties so the result never depends on order.
    rows.sort(key=lambda r: (r["fetched_at"], r["run_key"]))
    playlists: dict[str, dict[str, Any]] = {}
    for row in rows:
        playlists[str(row["plm_seq"])] = {
            "song_count": row["song_count"],
            "tags": list(row["tags"] or []),
            "content_hash": row["content_hash"],
        }
    state["playlists"] = dict(sorted(playlists.items(), key=lambda kv: int(kv[0])))
    outcomes, run_keys = history_outcomes(runs)
    found = frontier.build(outcomes, run_keys, max_attempts)
    state["frontier"] = {str(seq): entry.to_json() for seq, entry in found.entries.items()}
    state["max_plm_seq"] = found.high_water
    state["songs"] = song_history(runs)
    return state


def write_state(state: dict[str, Any], path: Path | str) -> Path:
    """Write the state JSON atomically (a crawl never reads a half-written file)."""
    return files.write_text(path, json.dumps(state, ensure_ascii=False, indent=1))


def read_state(path: Path | str) -> dict[str, Any]:
    """A state file as the spider uses it: plm_seq keys as ints."""
    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise ValueError(f"cannot read crawl state {path}: {err}") from None
    if (not isinstance(raw, dict) or not isinstance(raw.get("playlists", {}), dict)
            or not isinstance(raw.get("frontier", {}), dict)):
        raise ValueError(  # noqa: TRY004 - a bad file, not a bad argument: callers catch ValueError
            f"crawl state {path}: expected an object with 'playlists' and 'frontier' objects")
    playlists = {int(k): v for k, v in (raw.get("playlists") or {}).items()}
    unresolved = {int(k): v for k, v in (raw.get("frontier") or {}).items()}
    max_seen = raw.get("max_plm_seq")
    songs = raw.get("songs") or empty_songs()
    return {"max_plm_seq": int(max_seen) if max_seen is not None else None, "playlists": playlists,
            "frontier": unresolved, "max_attempts": raw.get("max_attempts"),
            "songs": {"resolved": set(songs.get("resolved") or ()), "attempts": dict(songs.get("attempts") or {}),
                      "pending": dict(songs.get("pending") or {})}}
