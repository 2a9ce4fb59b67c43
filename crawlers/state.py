"""What the previous crawls saw, so that a refresh fetches only new or changed playlists.

The state is derived from bronze.playlists (every run's partition): per
plm_seq the latest row's song count, tags and content hash, plus the largest
plm_seq seen. It is handed to the spider as a JSON file (``-a state=PATH``).

    {"max_plm_seq": 1234, "built_at": "...", "source": "...",
     "playlists": {"17": {"song_count": 16, "tags": ["드라이브"], "content_hash": "..."}, ...}}
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from scenetune import settings as scenetune_settings

STATE_COLUMNS = ("plm_seq", "song_count", "tags", "content_hash", "fetched_at", "crawl_run_id")


def empty_state() -> dict[str, Any]:
    return {"max_plm_seq": None, "playlists": {}}


def build_state(bronze_playlists_path: Path | str, exclude_run_id: str | None = None) -> dict[str, Any]:
    """State from the bronze.playlists Delta table; an absent table gives the empty state.

    ``exclude_run_id`` leaves out the rows of the run being (re)done, so that a
    retried crawl does not take what it wrote itself for "already known".
    """
    from warehouse import delta  # deltalake is only needed here, not in the crawl process

    state = empty_state()
    state["source"] = str(bronze_playlists_path)
    state["built_at"] = datetime.now(timezone.utc).isoformat()
    if not delta.exists(bronze_playlists_path):
        return state
    rows = delta.read(bronze_playlists_path, columns=STATE_COLUMNS).to_pylist()
    if exclude_run_id is not None:
        rows = [r for r in rows if r["crawl_run_id"] != exclude_run_id]
    # The latest fetch of a playlist wins; run id breaks ties so the result never depends on order.
    rows.sort(key=lambda r: (r["fetched_at"], r["crawl_run_id"]))
    playlists: dict[str, dict[str, Any]] = {}
    for row in rows:
        playlists[str(row["plm_seq"])] = {
            "song_count": row["song_count"],
            "tags": list(row["tags"] or []),
            "content_hash": row["content_hash"],
        }
    state["playlists"] = dict(sorted(playlists.items(), key=lambda kv: int(kv[0])))
    state["max_plm_seq"] = max((int(k) for k in playlists), default=None)
    return state


def write_state(state: dict[str, Any], path: Path | str) -> Path:
    """Write the state JSON atomically (a crawl never reads a half-written file)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(state, ensure_ascii=False, indent=1), encoding="utf-8")
    tmp.replace(path)
    return path


def read_state(path: Path | str) -> dict[str, Any]:
    """A state file as the spider uses it: plm_seq keys as ints."""
    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise ValueError(f"cannot read crawl state {path}: {err}") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("playlists", {}), dict):
        raise ValueError(f"crawl state {path}: expected an object with a 'playlists' object")
    playlists = {int(k): v for k, v in (raw.get("playlists") or {}).items()}
    max_seen = raw.get("max_plm_seq")
    return {"max_plm_seq": int(max_seen) if max_seen is not None else None, "playlists": playlists}


def default_state_path() -> Path:
    return scenetune_settings.load().crawl_state_dir / "genie_state.json"


def refresh_state_file(path: Path | str | None = None) -> Path:
    """Build the state from the bronze.playlists table under SCENETUNE_HOME and write it (a refresh's input)."""
    s = scenetune_settings.load()
    return write_state(build_state(s.delta_path("bronze", "playlists")), path or default_state_path())
