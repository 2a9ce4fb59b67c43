"""Fault plans: deterministic per plmSeq, realistic share by default, explicit for tests."""

from __future__ import annotations

import threading
from collections import Counter

import pytest

from demo_site.faults import FAULT_KINDS, OUTCOMES, Fault, FaultCounter, FaultPlan


def test_none_plants_nothing():
    plan = FaultPlan.none()
    assert all(plan.fault_for(i) is None for i in range(1, 2000))


def test_default_share_is_small_even_and_deterministic():
    plan = FaultPlan.default(7)
    faults = {i: plan.fault_for(i) for i in range(1, 5001)}
    hit = {i: f for i, f in faults.items() if f}
    assert 0.03 <= len(hit) / 5000 <= 0.05
    assert set(Counter(f.kind for f in hit.values())) == set(FAULT_KINDS)
    # even at tiny scale (ids 1..52) a few playlists are affected
    assert 1 <= sum(1 for i in range(1, 53) if plan.fault_for(i)) <= 4
    again = FaultPlan.default(7)
    assert all(again.fault_for(i) == f for i, f in faults.items())
    other = FaultPlan.default(8)
    assert {i for i in range(1, 5001) if other.fault_for(i)} != set(hit)


def test_explicit_assignments_and_outcomes():
    plan = FaultPlan({3: "burst_503", 4: Fault("timeout", delay_s=2.0), 5: "rate_limit_429"}, hang_seconds=9)
    assert plan.fault_for(3).expected_outcome == "item_after_retry" and plan.fault_for(3).failures == 2
    assert plan.delay_for(plan.fault_for(4)) == 2.0
    assert plan.fault_for(5).failures == 1 and plan.fault_for(5).retry_after == 1
    assert plan.fault_for(6) is None
    merged = FaultPlan.default(7).with_overrides({6: "cover_404"})
    assert merged.fault_for(6).expected_outcome == "item_bad_cover"
    assert set(OUTCOMES.values()) == {"item", "item_after_retry", "quarantine", "failed", "item_bad_cover"}
    assert plan.describe()["explicit"]["4"]["kind"] == "timeout"


def test_unknown_kind_is_rejected():
    with pytest.raises(ValueError, match="unknown fault kind"):
        FaultPlan({1: "meteor"})


def test_counter_is_thread_safe():
    counter = FaultCounter()
    threads = [threading.Thread(target=lambda: [counter.hit("detail", 1) for _ in range(500)]) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert counter.hit("detail", 1) == 4001
    assert counter.hit("mainSongList", 1) == 1
    counter.reset()
    assert counter.hit("detail", 1) == 1


def test_a_not_found_heavy_site_answers_404_below_the_line():
    plan = FaultPlan.not_found_heavy(40)
    assert plan.fault_for(3).kind == "gone_404" and plan.fault_for(3).expected_outcome == "not_found"
    assert plan.fault_for(40) is None
    assert plan.gone_status(3, has_playlist=True) == 404  # a deleted playlist, said with HTTP 404
    assert plan.gone_status(3, has_playlist=False) == 404
    assert plan.gone_status(45, has_playlist=False) == 404  # every id without a playlist: 404, not Genie's page
    assert plan.gone_status(45, has_playlist=True) is None  # served as usual
    gone_410 = FaultPlan.not_found_heavy(10, status=410)
    assert gone_410.gone_status(5, True) == 410 and gone_410.describe()["missing_status"] == 410
    # The options survive with_overrides, and an explicit fault still wins below the line.
    merged = plan.with_overrides({5: "persistent_500"})
    assert merged.fault_for(5).kind == "persistent_500" and merged.fault_for(6).kind == "gone_404"


def test_site_options_leave_the_default_plan_as_it_was():
    plan = FaultPlan.default(7)
    assert set(plan.describe()) == {"rate", "seed", "hang_seconds", "slow_seconds", "burst_failures", "retry_after",
                                    "explicit", "outcomes"}
    assert plan.describe()["outcomes"] == OUTCOMES
    assert all(plan.gone_status(i, True) is None for i in range(1, 2000))
    assert all(plan.gone_status(i, False) == 200 for i in range(1, 50))  # Genie's own "no such playlist" page
    # Site-only kinds are never planted by the seeded rate.
    assert {plan.fault_for(i).kind for i in range(1, 5001) if plan.fault_for(i)} <= set(FAULT_KINDS)


def test_explicit_site_kinds_and_bad_options():
    plan = FaultPlan({5: "gone_410", 6: "no_cover_meta"})
    assert plan.fault_for(5).expected_outcome == "not_found" and plan.fault_for(6).expected_outcome == "item"
    assert plan.describe()["outcomes"]["gone_410"] == "not_found"
    with pytest.raises(ValueError, match="missing_status"):
        FaultPlan(missing_status=500)
    with pytest.raises(ValueError, match="gone_kind"):
        FaultPlan(gone_below=3, gone_kind="persistent_500")
