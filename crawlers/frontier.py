"""The retry frontier: playlist ids earlier runs left without an answer, and when to ask again.

Every detail page a run requests ends as one outcome (crawlers.accounting):
``parsed``, ``not_found`` (Genie's 200 error page, HTTP 404 or 410: the site
answered that there is no such playlist), ``quarantined``, ``error`` (5xx after
retries, timeout, refused connection ...) or ``not_fetched`` (never asked: the
crawl stopped early). Parsed and not found are answers: the id is *resolved*.
The others leave it *unresolved*, and later runs ask again:

- **attempts**: runs that tried the id since it was last resolved. A page not
  fetched is no try, so an early stop never uses up an id's attempts.
- **back-off, counted in runs** (no clock in the data path): after its n-th
  failed try an id waits ``2**(n-1) - 1`` crawl runs, i.e. it is tried again by
  the next run after one failure, then one run is skipped, then 3, then 7 ...
  "Runs" are the rows of bronze.crawl_runs, so the same bronze history always
  gives the same frontier.
- **cap**: an id with ``max_attempts`` (SCENETUNE_CRAWL_MAX_ATTEMPTS) failed
  tries is *exhausted*: incremental runs stop asking for it. Never silently:
  its last failure or quarantine row says ``attempt = max_attempts``, and every
  later run counts it in ``crawl_runs.retry_exhausted`` until it is resolved;
  ``scenetune crawl --full`` walks every id and so tries it again.

The id walk: every id at or below the highest id any earlier run has an
outcome for (``high_water``) is resolved or in the frontier, so the newest-id
walk of the next run starts above it and no id is skipped.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

RESOLVED = ("parsed", "not_found")  # answers: never asked again by the frontier
TRIED = ("error", "quarantined")  # asked, no answer: one attempt each
NOT_FETCHED = "not_fetched"  # never asked: no attempt
RESULTS = (*RESOLVED, *TRIED, NOT_FETCHED)
# When one run booked several outcomes for an id (a resumed run), the best one counts.
_PRECEDENCE = {"parsed": 0, "not_found": 1, "quarantined": 2, "error": 3, "not_fetched": 4}

DUE, DEFERRED, EXHAUSTED = "due", "deferred", "exhausted"


@dataclass(frozen=True)
class Outcome:
    """What one run learned about one playlist id."""

    run_key: str
    plm_seq: int
    result: str  # one of RESULTS

    def __post_init__(self) -> None:
        if self.result not in RESULTS:
            raise ValueError(f"unknown outcome {self.result!r}; known: {', '.join(RESULTS)}")


@dataclass(frozen=True)
class Entry:
    """An unresolved id: how often it was tried, and whether this run should try it."""

    plm_seq: int
    attempts: int  # failed tries since the id was last resolved
    last_result: str  # error | quarantined | not_fetched
    last_tried_run: str | None  # run key of the last failed try (None: never tried)
    runs_since_try: int  # crawl runs recorded after last_tried_run
    status: str  # due | deferred | exhausted

    def to_json(self) -> dict:
        return {"attempts": self.attempts, "status": self.status, "last_result": self.last_result,
                "last_tried_run": self.last_tried_run, "runs_since_try": self.runs_since_try}


def backoff_runs(attempts: int) -> int:
    """Runs an id waits after its ``attempts``-th failed try: 0, 1, 3, 7, 15 ..."""
    return 0 if attempts <= 1 else 2 ** (attempts - 1) - 1


def status_of(attempts: int, runs_since_try: int, max_attempts: int) -> str:
    if attempts >= max_attempts:
        return EXHAUSTED
    if attempts == 0 or runs_since_try >= backoff_runs(attempts):
        return DUE
    return DEFERRED


@dataclass(frozen=True)
class Frontier:
    entries: dict[int, Entry]  # unresolved ids only
    high_water: int | None  # highest id any run has an outcome for

    def with_status(self, status: str) -> list[int]:
        return sorted(seq for seq, e in self.entries.items() if e.status == status)

    def counts(self) -> dict[str, int]:
        return {s: len(self.with_status(s)) for s in (DUE, DEFERRED, EXHAUSTED)}


def build(outcomes: Iterable[Outcome], run_keys: Iterable[str], max_attempts: int) -> Frontier:
    """The frontier after the given outcomes of earlier runs.

    ``run_keys`` are the earlier runs (bronze.crawl_runs), to count back-off in
    runs; run keys sort in time order (YYYYMMDDTHHMMSSZ).
    """
    if max_attempts < 1:
        raise ValueError("max_attempts must be 1 or more")
    per_run: dict[tuple[int, str], str] = {}
    for o in outcomes:
        key = (o.plm_seq, o.run_key)
        if key not in per_run or _PRECEDENCE[o.result] < _PRECEDENCE[per_run[key]]:
            per_run[key] = o.result
    history: dict[int, list[tuple[str, str]]] = {}
    for (plm_seq, run_key), result in per_run.items():
        history.setdefault(plm_seq, []).append((run_key, result))
    runs = sorted(set(run_keys))
    entries: dict[int, Entry] = {}
    for plm_seq, events in history.items():
        events.sort()
        attempts, last_tried = 0, None
        for run_key, result in events:
            if result in RESOLVED:
                attempts, last_tried = 0, None
            elif result in TRIED:
                attempts, last_tried = attempts + 1, run_key
        last_result = events[-1][1]
        if last_result in RESOLVED:
            continue
        since = sum(1 for r in runs if r > last_tried) if last_tried is not None else 0
        entries[plm_seq] = Entry(plm_seq, attempts, last_result, last_tried, since,
                                 status_of(attempts, since, max_attempts))
    return Frontier(dict(sorted(entries.items())), max(history, default=None))
