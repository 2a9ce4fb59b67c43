"""Which crawled rows are one song: Genie song ids and normalised keys, merged transitively.

Two rows are the same song when they share a Genie song id, or when they
share a normalised ``artist|title`` key (spark_jobs.normalise, aliases
resolved). Re-releases carry another song id but the same key; a variant
spelling may carry the canonical id: merging both ways, transitively
(connected components of the id–key graph), finds the song either way.

The graph has one edge per distinct (song id, key) pair (~150k at full
scale), so the components are computed on the Spark driver with a union-find
in pure Python (well under a second); the build joins the result back.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[tuple[str, str], tuple[str, str]] = {}

    def find(self, node: tuple[str, str]) -> tuple[str, str]:
        parent = self.parent.setdefault(node, node)
        root = node
        while parent != root:
            root, parent = parent, self.parent[parent]
        while node != root:  # path compression
            self.parent[node], node = root, self.parent[node]
        return root

    def union(self, a: tuple[str, str], b: tuple[str, str]) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def song_keys(edges: Iterable[tuple[str | None, str, int]]) -> dict[str, str]:
    """``{normalised key: song key}`` from ``(song id or None, normalised key, rows)``.

    Keys linked through shared song ids form one song; its song key is the
    member key with the most rows (ties: the smallest), so it reads like a
    normalised 'artist|title' and stays put while that spelling dominates.
    """
    uf = _UnionFind()
    rows: Counter = Counter()
    for song_id, key, count in edges:
        rows[key] += count
        uf.find(("k", key))
        if song_id:
            uf.union(("k", key), ("i", song_id))
    members: dict[tuple[str, str], list[str]] = {}
    for key in rows:
        members.setdefault(uf.find(("k", key)), []).append(key)
    out: dict[str, str] = {}
    for keys in members.values():
        chosen = min(keys, key=lambda k: (-rows[k], k))
        for key in keys:
            out[key] = chosen
    return out
