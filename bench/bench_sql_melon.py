"""bench_sql at the size of Genie full + Melon full (709k songs, 86k distinct sentences), as its own result.

The same queries, baselines and synthetic warehouse as ``bench_sql`` (see its docstring), only larger, so
``bench/results/sql.json`` keeps the Genie-scale figure and ``sql_melon.json`` holds this one. Issue 17's goals:
p50 ≤ 5 ms for both queries, and the nearest-song tables built inside the publish (index_build_s).
"""

from __future__ import annotations

from bench import bench_sql
from bench.runner import Measurement

DEFAULT_SCALE = "melon"


def run(scale: str) -> Measurement:
    return bench_sql.run(scale)
