"""Inside an Airflow task: errors a retry cannot fix fail the task at once."""

from __future__ import annotations

import contextlib
from typing import Iterator

from core.errors import NotRetryable


@contextlib.contextmanager
def fail_fast() -> Iterator[None]:
    """Turn :class:`~core.errors.NotRetryable` (bad configuration, a failed audit) into
    ``AirflowFailException``, so the task's retries are kept for what can recover."""
    from airflow.sdk.exceptions import AirflowFailException

    try:
        yield
    except NotRetryable as exc:
        raise AirflowFailException(f"{type(exc).__name__}: {exc}") from exc
