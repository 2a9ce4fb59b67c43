"""The run partition: the one value that names everything a refresh run writes.

A run is named by its ``run_key`` (``20261116T000000Z``, from the run's
logical date) and writes the ``dt=<run_date>`` partition of the raw crawl.
The DAG derives both once, from the Airflow run, and passes them down as
arguments; nothing below derives them again, and nothing uses ``now()``.
Every row scenetune writes carries the ``run_key`` of the run that wrote it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any, Mapping

from core.errors import ConfigurationError

RUN_KEY_FORMAT = "%Y%m%dT%H%M%SZ"
_RUN_KEY = re.compile(r"^\d{8}T\d{6}Z$")


def key_for(moment: datetime) -> str:
    """``20261121T030000Z``: sortable, filesystem- and SQL-safe."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).strftime(RUN_KEY_FORMAT)


@dataclass(frozen=True)
class RunPartition:
    run_key: str
    run_date: date  # the dt= partition of the raw crawl

    def __post_init__(self) -> None:
        if not _RUN_KEY.match(self.run_key):
            raise ConfigurationError(f"run key {self.run_key!r} is not of the form YYYYMMDDTHHMMSSZ")

    @classmethod
    def at(cls, moment: datetime) -> "RunPartition":
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=timezone.utc)
        moment = moment.astimezone(timezone.utc)
        return cls(key_for(moment), moment.date())

    @classmethod
    def parse(cls, run_key: str) -> "RunPartition":
        """The partition a run key names (for the CLI and ``spark-submit``, where a user types it)."""
        try:
            moment = datetime.strptime(run_key, RUN_KEY_FORMAT).replace(tzinfo=timezone.utc)
        except ValueError:
            raise ConfigurationError(f"run key {run_key!r} is not of the form YYYYMMDDTHHMMSSZ") from None
        return cls.at(moment)

    @classmethod
    def from_airflow(cls, context: Mapping[str, Any]) -> "RunPartition":
        """From a task's context: the logical date, else (Asset-triggered runs have none) the
        moment the run was created for, which is as fixed across task retries."""
        moment = context.get("logical_date") or context["dag_run"].run_after
        return cls.at(moment)

    def to_xcom(self) -> dict[str, str]:
        return {"run_key": self.run_key, "run_date": self.run_date.isoformat()}

    @classmethod
    def from_xcom(cls, value: Mapping[str, str]) -> "RunPartition":
        partition = cls.parse(value["run_key"])
        if partition.run_date.isoformat() != value["run_date"]:
            raise ConfigurationError(f"run {value['run_key']} names day {partition.run_date}, not {value['run_date']}")
        return partition
