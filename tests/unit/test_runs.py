"""The run partition: one key and one date, derived once, never from the clock."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from types import SimpleNamespace

import pytest

from core.errors import ScenetuneError
from core.runs import RunPartition, key_for


def test_key_is_utc_and_sortable():
    seoul = timezone(timedelta(hours=9))
    assert key_for(datetime(2026, 11, 16, 9, 0, tzinfo=seoul)) == "20261116T000000Z"
    assert key_for(datetime(2026, 11, 16)) == "20261116T000000Z"  # naive means UTC
    assert key_for(datetime(2026, 1, 2, 3, 4, 5)) < key_for(datetime(2026, 1, 2, 3, 4, 6))


def test_partition_date_is_the_utc_day_of_the_run():
    late_in_seoul = datetime(2026, 11, 17, 1, 0, tzinfo=timezone(timedelta(hours=9)))
    assert RunPartition.at(late_in_seoul) == RunPartition("20261116T160000Z", date(2026, 11, 16))


def test_parse_round_trips_and_rejects_other_shapes():
    assert RunPartition.parse("20261116T000000Z").run_date == date(2026, 11, 16)
    for bad in ("r1", "2026-11-16", "20261116T000000", "20261399T000000Z", "../../etc"):
        with pytest.raises(ScenetuneError, match="YYYYMMDDTHHMMSSZ"):
            RunPartition.parse(bad)


def test_from_airflow_prefers_the_logical_date():
    run = SimpleNamespace(run_after=datetime(2026, 11, 20, 5, tzinfo=timezone.utc))
    context = {"logical_date": datetime(2026, 11, 16, tzinfo=timezone.utc), "dag_run": run}
    assert RunPartition.from_airflow(context).run_key == "20261116T000000Z"


def test_an_asset_triggered_run_takes_the_time_it_was_created_for():
    """No logical date (Asset-triggered): the run's run_after, fixed across retries, not now()."""
    run = SimpleNamespace(run_after=datetime(2026, 11, 20, 5, 30, tzinfo=timezone.utc))
    first = RunPartition.from_airflow({"logical_date": None, "dag_run": run})
    again = RunPartition.from_airflow({"logical_date": None, "dag_run": run})
    assert first == again == RunPartition("20261120T053000Z", date(2026, 11, 20))


def test_xcom_round_trip():
    partition = RunPartition.parse("20261116T000000Z")
    assert RunPartition.from_xcom(partition.to_xcom()) == partition
