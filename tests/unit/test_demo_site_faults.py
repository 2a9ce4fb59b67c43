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
