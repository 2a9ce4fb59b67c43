"""A small catalogue written straight to Delta (no Spark): every published table, as a build records it.

For tests of the gate, catalogue versions, publish, rollback, versioned SQL and retention, which need
real Delta versions and build records but not the build itself.
"""

from __future__ import annotations

from datetime import datetime, timezone

import numpy as np
import pyarrow as pa

from schemas import bronze, gold, silver
from schemas.table import Table
from warehouse import builds, delta

_FILLER = {"string": "x", "int32": 1, "int64": 1, "float32": 1.0, "float64": 1.0, "bool": False,
           "timestamp": datetime(2026, 11, 1, tzinfo=timezone.utc), "list<string>": [], "list<float32>": None}


def unit_vector(seed: int) -> list[float]:
    v = np.random.default_rng(seed).standard_normal(gold.EMBEDDING_DIMENSIONS)
    return (v / np.linalg.norm(v)).astype(np.float32).tolist()


def _rows(table: Table, count: int, run: str, **columns) -> pa.Table:
    """``count`` rows of ``table``: key columns numbered, given columns as lists, filler elsewhere."""
    rows = []
    for i in range(count):
        row = {}
        for c in table.columns:
            if c.name in columns:
                row[c.name] = columns[c.name][i]
            elif c.name == "source":
                row[c.name] = "genie"  # a key column whose values are few (bronze.SOURCES)
            elif c.name in table.key:
                row[c.name] = i + 1 if c.type.startswith("int") else f"{c.name}-{i}"
            elif c.nullable:
                row[c.name] = None
            else:
                row[c.name] = _FILLER[c.type]
        if "run_key" in table.column_names and "run_key" not in columns:
            row["run_key"] = run
        rows.append(row)
    return pa.Table.from_pylist(rows, schema=table.arrow_schema())


def catalogue(run_key: str, songs: int = 4, playlists: int = 2, tag: str = "비오는날") -> dict[str, pa.Table]:
    """One consistent catalogue of ``songs`` songs in ``playlists`` playlists, keyed by layer.name."""
    keys = [f"artist{i}|song{i}" for i in range(songs)]
    sentences = [f"s{i % 2}" for i in range(songs)]  # songs share sentences
    out = {
        "gold.songs": _rows(gold.SONGS, songs, run_key, song_key=keys, title=[f"song{i}" for i in range(songs)],
                            artist=[f"artist{i}" for i in range(songs)], tags=[[tag]] * songs,
                            genres=[["발라드"] if i % 2 else ["POP"] for i in range(songs)],
                            genre_source=["song_page" if i % 3 else "playlist_tags" for i in range(songs)],
                            playlist_count=[1 + i % 2 for i in range(songs)], no_tags=[False] * songs),
        "gold.song_embeddings": _rows(gold.SONG_EMBEDDINGS, songs, run_key, song_key=keys, sentence_id=sentences,
                                      has_vector=[True] * songs),
        "gold.sentence_embeddings": _rows(gold.SENTENCE_EMBEDDINGS, 2, run_key, sentence_id=["s0", "s1"],
                                          vector=[unit_vector(0), unit_vector(1)]),
        "gold.tags": _rows(gold.TAGS, 1, run_key, tag=[tag]),
        "gold.tag_map": _rows(gold.TAG_MAP, 1, run_key, tag=[tag], label=[tag]),
        "gold.tag_cooccurrence": _rows(gold.TAG_COOCCURRENCE, 2, run_key, tag_a=[tag, "밤"], tag_b=["밤", tag],
                                       p_b_given_a=[0.5, 0.25], lift=[2.0, 2.0], playlists_both=[1, 1]),
        "gold.artist_aliases": _rows(gold.ARTIST_ALIASES, 1, run_key),
        "gold.song_lineage": _rows(gold.SONG_LINEAGE, songs, run_key, song_key=keys,
                                   plm_seq=[1 + i % playlists for i in range(songs)],
                                   position=list(range(1, songs + 1))),
        "silver.playlists": _rows(silver.PLAYLISTS, playlists, run_key,
                                  tags=[[tag]] * playlists, content_hash=[f"h{i}" for i in range(playlists)]),
        "silver.playlist_songs": _rows(silver.PLAYLIST_SONGS, songs, run_key,
                                       plm_seq=[1 + i % playlists for i in range(songs)],
                                       position=list(range(1, songs + 1)), song_key=keys),
        "silver.cover_quality": _rows(silver.COVER_QUALITY, playlists, run_key,
                                      verdict=["keep"] * playlists),
        "bronze.crawl_runs": _rows(bronze.CRAWL_RUNS, 1, run_key,
                                   base_url=["http://127.0.0.1:8765"], requested=[0], parsed=[0],
                                   quarantined=[0], failed=[0], songs_requested=[0], songs_parsed=[0],
                                   songs_quarantined=[0], songs_failed=[0]),
    }
    return out


def write(run_key: str, tables: dict[str, pa.Table]) -> dict[str, int]:
    """Commit each table (bronze: the run's partition; others whole) and record the build; the versions."""
    from schemas import TABLES

    versions = {}
    for name, data in tables.items():
        table = TABLES[name]
        if table.layer == "bronze":
            versions[name] = delta.replace_partition(table, data, {"run_key": run_key})
        else:
            versions[name] = delta.overwrite(table, data)
    builds.record(run_key, {n: v for n, v in versions.items() if not n.startswith("bronze.")}, run_key,
                  f"test-{run_key}")
    return versions
