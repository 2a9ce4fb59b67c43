"""The key that names one refresh run's partitions and build."""

from __future__ import annotations

import re
from datetime import date, datetime, timezone


def key_for(moment: datetime) -> str:
    """``20261121T030000Z``: sortable, filesystem- and SQL-safe."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def key_from_context(context: dict) -> str:
    """Key a task's writes on the run's logical date, never on ``now()``.

    Runs triggered by an Asset have no logical date; they fall back to the
    run id, which is as stable across task retries.
    """
    logical = context.get("logical_date")
    if logical is not None:
        return key_for(logical)
    run_id = context["dag_run"].run_id
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", run_id)


def date_of(key: str) -> date | None:
    """The calendar day a key names (the crawl's ``dt=`` partition), if it is a date key."""
    try:
        return datetime.strptime(key[:8], "%Y%m%d").date()
    except ValueError:
        return None


def now_key() -> str:
    return key_for(datetime.now(timezone.utc))
