"""crawlers.frontier: which ids earlier runs left without an answer, their attempts, back-off and cap."""

from __future__ import annotations

import pytest

from crawlers.frontier import DEFERRED, DUE, EXHAUSTED, Outcome, backoff_runs, build

RUNS = [f"202611{day:02d}T000000Z" for day in range(1, 21)]


def outcomes(plm_seq: int, *results: str, start: int = 0) -> list[Outcome]:
    """One outcome per run, in run order from RUNS[start]."""
    return [Outcome(RUNS[start + i], plm_seq, r) for i, r in enumerate(results)]


def test_backoff_doubles_in_runs():
    assert [backoff_runs(n) for n in range(1, 7)] == [0, 1, 3, 7, 15, 31]


def test_answers_resolve_and_everything_else_stays_in_the_frontier():
    history = (outcomes(1, "parsed") + outcomes(2, "not_found") + outcomes(3, "error")
               + outcomes(4, "quarantined") + outcomes(5, "not_fetched") + outcomes(6, "error", "parsed")
               + outcomes(7, "parsed", "error"))
    frontier = build(history, RUNS[:2], max_attempts=5)
    assert set(frontier.entries) == {3, 4, 5, 7}
    assert frontier.entries[3].attempts == 1 and frontier.entries[3].last_tried_run == RUNS[0]
    assert frontier.entries[5].attempts == 0 and frontier.entries[5].last_tried_run is None
    assert frontier.entries[7].attempts == 1 and frontier.entries[7].last_tried_run == RUNS[1]
    assert frontier.high_water == 7
    assert frontier.with_status(DUE) == [3, 4, 5, 7]


def test_a_page_not_fetched_is_no_attempt_and_never_waits():
    # Ten early stops in a row: the id keeps its one real try and stays due.
    history = outcomes(9, "error", *["not_fetched"] * 10)
    entry = build(history, RUNS[:11], max_attempts=2).entries[9]
    assert entry.attempts == 1 and entry.status == DUE and entry.last_result == "not_fetched"


def test_back_off_is_counted_in_runs_after_the_last_try():
    # Tried and failed in runs 0 and 1: attempt 2 waits one run.
    history = outcomes(4, "error", "quarantined")
    assert build(history, RUNS[:2], max_attempts=5).entries[4].status == DEFERRED
    assert build(history, RUNS[:3], max_attempts=5).entries[4].status == DUE
    # Three failed tries wait three runs; runs without this id count too.
    history = outcomes(4, "error", "error", "error")
    statuses = [build(history, RUNS[:n], max_attempts=5).entries[4].status for n in range(3, 8)]
    assert statuses == [DEFERRED, DEFERRED, DEFERRED, DUE, DUE]


def test_the_cap_parks_an_id_and_an_answer_starts_the_count_again():
    history = outcomes(4, "error", "error", "error")
    entry = build(history, RUNS[:10], max_attempts=3).entries[4]
    assert entry.status == EXHAUSTED and entry.attempts == 3
    assert build(history, RUNS[:10], max_attempts=3).counts() == {DUE: 0, DEFERRED: 0, EXHAUSTED: 1}
    history += outcomes(4, "parsed", "error", start=3)
    entry = build(history, RUNS[:5], max_attempts=3).entries[4]
    assert entry.attempts == 1 and entry.status == DUE


def test_the_best_outcome_of_a_run_counts_and_order_of_input_does_not_matter():
    # A resumed run may book an id twice: parsed wins over the failure of the first part.
    history = [Outcome(RUNS[0], 5, "not_fetched"), Outcome(RUNS[0], 5, "parsed"), Outcome(RUNS[1], 6, "error"),
               Outcome(RUNS[0], 6, "error"), Outcome(RUNS[2], 6, "not_fetched")]
    one = build(history, RUNS[:3], max_attempts=5)
    two = build(list(reversed(history)), list(reversed(RUNS[:3])), max_attempts=5)
    assert one == two
    assert 5 not in one.entries
    assert one.entries[6].attempts == 2 and one.entries[6].last_tried_run == RUNS[1]
    assert one.entries[6].runs_since_try == 1 and one.entries[6].status == DUE


def test_no_history_and_bad_input():
    empty = build([], [], max_attempts=5)
    assert empty.entries == {} and empty.high_water is None
    with pytest.raises(ValueError, match="unknown outcome"):
        Outcome(RUNS[0], 1, "lost")
    with pytest.raises(ValueError, match="max_attempts"):
        build([], [], max_attempts=0)
