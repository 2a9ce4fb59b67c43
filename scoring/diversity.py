"""How varied a recommender's answers are over a set of photos: pure functions of the song lists.

A *list* is one photo's recommended songs (catalogue indices). Over a set of photos' lists:

- ``distinct_lists_ratio``: distinct lists / photos. Two lists are the same when they hold the same
  songs, in any order (a re-ordered list tells the user nothing new). 1.0 = every photo its own answer.
- ``distinct_songs_ratio``: distinct songs / recommended slots. 1.0 = no song given twice.
- ``mean_popularity_percentile``: the mean popularity percentile of the recommended songs, by
  ``playlist_count`` (``popularity_percentiles``); 50 = no popularity bias, 100 = only the most listed.

Percentiles use mid-ranks: songs listed by as many playlists share one percentile (most of a
catalogue is listed once or twice; an arbitrary order among them would be noise), and the
catalogue's mean percentile is exactly 50.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
from scipy.stats import rankdata


def popularity_percentiles(popularity: Sequence[int] | np.ndarray) -> np.ndarray:
    """Each song's percentile 0-100 by ``playlist_count``: its mid-rank among all songs, ties sharing one."""
    values = np.asarray(popularity, dtype=np.float64)
    if len(values) < 2:
        return np.full(len(values), 50.0)
    # Ties get the mean of the ranks they span ("average"); ranks from 0.
    return (rankdata(values, method="average") - 1) / (len(values) - 1) * 100


def distinct_lists_ratio(lists: Sequence[Sequence[int]]) -> float | None:
    """Distinct lists (as sets of songs) / photos answered (empty lists are not answers); None without any."""
    answered = [frozenset(int(s) for s in songs) for songs in lists if len(songs)]
    return len(set(answered)) / len(answered) if answered else None


def distinct_songs_ratio(lists: Sequence[Sequence[int]]) -> float | None:
    """Distinct songs / recommended slots over all lists; None without any slot."""
    slots = [int(s) for songs in lists for s in songs]
    return len(set(slots)) / len(slots) if slots else None


def mean_popularity_percentile(lists: Sequence[Sequence[int]], percentiles: np.ndarray) -> float | None:
    """Mean percentile (``popularity_percentiles``) of every recommended slot; None without any."""
    slots = [int(s) for songs in lists for s in songs]
    return float(np.mean(percentiles[slots])) if slots else None


def figures(lists: Sequence[Sequence[int]], popularity: Sequence[int] | np.ndarray) -> dict[str, float | None]:
    """The three figures for one recommender's lists over a set of photos."""
    return {
        "photos": sum(1 for songs in lists if len(songs)),
        "distinct_lists_ratio": distinct_lists_ratio(lists),
        "distinct_songs_ratio": distinct_songs_ratio(lists),
        "popularity_percentile": mean_popularity_percentile(lists, popularity_percentiles(popularity)),
    }
