"""Which faults the demo site plants, per playlist, and the crawl outcome each one should produce.

A fault belongs to one plmSeq and is deterministic: the same plan always faults the same
playlists the same way, so the ground truth can state the expected outcome of each playlist.

| kind               | what the site does                                                     | expected outcome  |
|--------------------|------------------------------------------------------------------------|-------------------|
| burst_500          | detail page: first ``failures`` requests answer 500, then 200          | item_after_retry  |
| burst_503          | same with 503                                                           | item_after_retry  |
| rate_limit_429     | first ``failures`` requests answer 429 with ``Retry-After: N``          | item_after_retry  |
| truncated_html     | 200, but the HTML stops inside the song table (no closing tags); the   | quarantine        |
|                    | rows present are fewer than dd[1] says                                  |                   |
| missing_title      | 200, ``.info__title`` is empty                                          | quarantine        |
| missing_song_table | 200, the page has no ``.music-list-wrap`` (CMS fragment missing)        | quarantine        |
| persistent_500     | every request answers 500                                              | failed            |
| timeout            | the server waits ``delay_s`` (default 30 s, above any sane client       | failed            |
|                    | timeout) before answering, every time                                   |                   |
| cover_not_image    | the cover URL (and its resize variants) answers 200 ``image/jpeg`` with | item_bad_cover    |
|                    | HTML bytes                                                              |                   |
| cover_404          | the cover URL answers 404                                              | item_bad_cover    |
| redirect           | the detail URL answers 302 to the same URL plus ``&ref=genie`` (the     | item              |
|                    | canonical URL), which serves the page                                   |                   |
| slow               | the detail page waits ``delay_s`` (default 1.5 s) then answers normally | item              |

HTTP-level faults (bursts, 429, persistent 500, timeout, slow) apply to the detail page and to the
two JSON song-list endpoints of that plmSeq (each URL kind has its own burst counter). Content
faults (truncated, missing fields) change only the HTML detail page. Cover faults change only the
cover image URLs. Ids with no playlist give a 200 "not found" page (outcome "not_found"; not a fault).

Site-level options, never planted by the seeded ``rate`` (so FaultPlan.default is unchanged):

| option / kind      | what the site does                                                      | expected outcome  |
|--------------------|-------------------------------------------------------------------------|-------------------|
| gone_404, gone_410 | the playlist is deleted and the site says so with HTTP 404 / 410         | not_found         |
|                    | (detail page and JSON song lists)                                       |                   |
| no_cover_meta      | 200, the page has no ``og:image`` meta tags (the playlist has no cover)  | item (cover       |
|                    |                                                                         | missing)          |
| ``gone_below=N``   | every id below N answers like ``gone_kind`` (default gone_404): a site   | not_found         |
|                    | whose low ids are mostly deleted playlists                              |                   |
| ``missing_status`` | how ids with no playlist answer: 200 (Genie's error page, the default),  | not_found         |
|                    | 404 or 410                                                              |                   |

``FaultPlan.not_found_heavy(below)`` combines the last two: the 404-heavy site of issue #6.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import asdict, dataclass
from typing import Any

OUTCOMES: dict[str, str] = {
    "burst_500": "item_after_retry",
    "burst_503": "item_after_retry",
    "rate_limit_429": "item_after_retry",
    "truncated_html": "quarantine",
    "missing_title": "quarantine",
    "missing_song_table": "quarantine",
    "persistent_500": "failed",
    "timeout": "failed",
    "cover_not_image": "item_bad_cover",
    "cover_404": "item_bad_cover",
    "redirect": "item",
    "slow": "item",
}
FAULT_KINDS = tuple(OUTCOMES)  # what the seeded ``rate`` plants
# Kinds only planted explicitly or by a site option (gone_below), never by the seeded rate.
SITE_OUTCOMES: dict[str, str] = {"gone_404": "not_found", "gone_410": "not_found", "no_cover_meta": "item"}
ALL_OUTCOMES: dict[str, str] = {**OUTCOMES, **SITE_OUTCOMES}
GONE_STATUS = {"gone_404": 404, "gone_410": 410}
MISSING_STATUSES = (200, 404, 410)
HTTP_FAULTS = {"burst_500", "burst_503", "rate_limit_429", "persistent_500", "timeout", "slow"}
CONTENT_FAULTS = {"truncated_html", "missing_title", "missing_song_table", "no_cover_meta"}
COVER_FAULTS = {"cover_not_image", "cover_404"}

# Relative frequency of each kind in FaultPlan.default (transient errors are the most common).
DEFAULT_WEIGHTS: dict[str, float] = {
    "burst_500": 0.6, "burst_503": 0.45, "rate_limit_429": 0.6, "truncated_html": 0.35, "missing_title": 0.2,
    "missing_song_table": 0.25, "persistent_500": 0.3, "timeout": 0.2, "cover_not_image": 0.3, "cover_404": 0.3,
    "redirect": 0.5, "slow": 0.45,
}


@dataclass(frozen=True)
class Fault:
    kind: str
    failures: int = 2  # bursts and 429: how many requests fail before the page is served
    retry_after: int = 1  # seconds, sent with 429
    delay_s: float = 0.0  # slow: wait before answering; timeout: wait (0 = the plan's hang_seconds)

    def __post_init__(self) -> None:
        if self.kind not in ALL_OUTCOMES:
            raise ValueError(f"unknown fault kind {self.kind!r}; known: {', '.join(ALL_OUTCOMES)}")

    @property
    def expected_outcome(self) -> str:
        return ALL_OUTCOMES[self.kind]

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


_GOLDEN = 0.6180339887498949
_SQRT2 = 0.41421356237309515


def _unit(seed: int, salt: str, plm_seq: int) -> float:
    digest = hashlib.blake2b(f"{salt}:{seed}:{plm_seq}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


class FaultPlan:
    """Faults by plmSeq: explicit ``assignments`` win, then a seeded ``rate`` share of all ids.

    >>> FaultPlan({12: "burst_503", 15: Fault("timeout", delay_s=3)})   # explicit, for tests
    >>> FaultPlan.default(7)                                             # ~4% of playlists
    >>> FaultPlan.none()
    """

    def __init__(self, assignments: dict[int, Fault | str] | None = None, *, rate: float = 0.0, seed: int = 0,
                 weights: dict[str, float] | None = None, hang_seconds: float = 30.0, slow_seconds: float = 1.5,
                 burst_failures: int = 2, retry_after: int = 1, gone_below: int = 0, gone_kind: str = "gone_404",
                 missing_status: int = 200):
        self.assignments: dict[int, Fault] = {}
        for seq, f in (assignments or {}).items():
            self.assignments[int(seq)] = f if isinstance(f, Fault) else Fault(
                f, failures=burst_failures if f != "rate_limit_429" else 1, retry_after=retry_after)
        if not 0.0 <= rate <= 1.0:
            raise ValueError("rate must be between 0 and 1")
        self.rate = rate
        self.seed = seed
        self.weights = dict(weights or DEFAULT_WEIGHTS)
        unknown = set(self.weights) - set(OUTCOMES)
        if unknown:
            raise ValueError(f"unknown fault kinds in weights: {sorted(unknown)}")
        self.hang_seconds = hang_seconds
        self.slow_seconds = slow_seconds
        self.burst_failures = burst_failures
        self.retry_after = retry_after
        if gone_kind not in GONE_STATUS:
            raise ValueError(f"gone_kind must be one of {', '.join(GONE_STATUS)}, got {gone_kind!r}")
        if missing_status not in MISSING_STATUSES:
            raise ValueError(f"missing_status must be one of {MISSING_STATUSES}, got {missing_status!r}")
        self.gone_below = int(gone_below)
        self.gone_kind = gone_kind
        self.missing_status = missing_status
        total = sum(self.weights.values())
        self._cumulative: list[tuple[float, str]] = []
        acc = 0.0
        for kind, w in self.weights.items():
            acc += w / total if total else 0
            self._cumulative.append((acc, kind))

    @classmethod
    def none(cls) -> FaultPlan:
        return cls()

    @classmethod
    def default(cls, seed: int = 7, rate: float = 0.04, **kwargs: Any) -> FaultPlan:
        """A small realistic share of faulty playlists (``rate`` of ids), at every scale."""
        return cls(rate=rate, seed=seed, **kwargs)

    @classmethod
    def not_found_heavy(cls, below: int, status: int = 404, **kwargs: Any) -> FaultPlan:
        """A site whose ids below ``below`` (and every id without a playlist) answer HTTP ``status``.

        The 404-heavy site of issue #6: a walk over its low ids sees mostly 404s, which
        are answers ("no such playlist"), not signs of an outage.
        """
        return cls(gone_below=below, gone_kind=f"gone_{status}", missing_status=status, **kwargs)

    def with_overrides(self, assignments: dict[int, Fault | str]) -> FaultPlan:
        plan = FaultPlan(dict(self.assignments), rate=self.rate, seed=self.seed, weights=self.weights,
                         hang_seconds=self.hang_seconds, slow_seconds=self.slow_seconds,
                         burst_failures=self.burst_failures, retry_after=self.retry_after,
                         gone_below=self.gone_below, gone_kind=self.gone_kind, missing_status=self.missing_status)
        for seq, f in assignments.items():
            plan.assignments[int(seq)] = f if isinstance(f, Fault) else Fault(
                f, failures=self.burst_failures if f != "rate_limit_429" else 1, retry_after=self.retry_after)
        return plan

    def fault_for(self, plm_seq: int) -> Fault | None:
        if plm_seq in self.assignments:
            return self.assignments[plm_seq]
        if plm_seq < self.gone_below:
            return Fault(self.gone_kind)
        # Weyl sequences (frac(n * irrational + offset)) spread the faulty ids evenly, so every
        # scale - even tiny's 50 playlists - gets close to ``rate`` of them, and the kinds rotate.
        if self.rate <= 0 or (plm_seq * _GOLDEN + _unit(self.seed, "fault", 0)) % 1.0 >= self.rate:
            return None
        u = (plm_seq * _SQRT2 / self.rate + _unit(self.seed, "fault-kind", 0)) % 1.0
        kind = next((k for acc, k in self._cumulative if u < acc), self._cumulative[-1][1])
        if kind == "rate_limit_429":
            return Fault(kind, failures=1, retry_after=self.retry_after)
        if kind in ("burst_500", "burst_503"):
            return Fault(kind, failures=self.burst_failures)
        return Fault(kind)

    def gone_status(self, plm_seq: int, has_playlist: bool) -> int | None:
        """The HTTP status that says "no such playlist" for this id, or None when its page is served.

        200 means Genie's own error page (an id with no playlist, by default).
        """
        fault = self.fault_for(plm_seq) if has_playlist else None
        if fault is not None and fault.kind in GONE_STATUS:
            return GONE_STATUS[fault.kind]
        if has_playlist:
            return None
        if 0 < plm_seq < self.gone_below:
            return GONE_STATUS[self.gone_kind]
        return self.missing_status

    def delay_for(self, fault: Fault) -> float:
        if fault.kind == "timeout":
            return fault.delay_s or self.hang_seconds
        if fault.kind == "slow":
            return fault.delay_s or self.slow_seconds
        return 0.0

    def describe(self) -> dict[str, Any]:
        described = {"rate": self.rate, "seed": self.seed, "hang_seconds": self.hang_seconds,
                     "slow_seconds": self.slow_seconds, "burst_failures": self.burst_failures,
                     "retry_after": self.retry_after,
                     "explicit": {str(k): v.to_json() for k, v in sorted(self.assignments.items())},
                     "outcomes": dict(OUTCOMES)}
        # Site options appear only when used, so the default plan's description is unchanged.
        if self.gone_below:
            described.update(gone_below=self.gone_below, gone_kind=self.gone_kind)
        if self.missing_status != 200:
            described["missing_status"] = self.missing_status
        used = {f.kind for f in self.assignments.values()} | ({self.gone_kind} if self.gone_below else set())
        if used & set(SITE_OUTCOMES):
            described["outcomes"] = {**OUTCOMES, **{k: SITE_OUTCOMES[k] for k in sorted(used & set(SITE_OUTCOMES))}}
        return described

    def __repr__(self) -> str:
        extra = f", gone_below={self.gone_below}" if self.gone_below else ""
        extra += f", missing_status={self.missing_status}" if self.missing_status != 200 else ""
        return f"FaultPlan(explicit={len(self.assignments)}, rate={self.rate}, seed={self.seed}{extra})"


class FaultCounter:
    """Per-URL request counts, so a burst fails the first N requests and then lets them through."""

    def __init__(self) -> None:
        self._counts: dict[tuple[str, int], int] = {}
        self._lock = threading.Lock()

    def hit(self, endpoint: str, plm_seq: int) -> int:
        """Count one request and return its number (1 for the first)."""
        with self._lock:
            n = self._counts.get((endpoint, plm_seq), 0) + 1
            self._counts[(endpoint, plm_seq)] = n
            return n

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()
