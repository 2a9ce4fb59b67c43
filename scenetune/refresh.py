"""The steps of a catalogue refresh, shared by the Airflow DAG and the CLI.

crawl → build → gate → publish. Each step is keyed by the run's key and can
be re-run for the same key with the same result.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Iterator

from scenetune import settings

log = logging.getLogger(__name__)


@contextlib.contextmanager
def genie_site(base_url: str | None = None) -> Iterator[str]:
    """The site to crawl: the given URL, ``GENIE_BASE_URL``, or else the embedded demo site."""
    s = settings.load()
    url = base_url or s.genie_base_url
    if url:
        yield url.rstrip("/")
        return
    from demo_site.faults import FaultPlan
    from demo_site.server import DemoSite
    from scenetune import preflight

    preflight.require_free_port(s.demo_port)
    with DemoSite(
        seed=s.demo_seed,
        scale=s.demo_scale,
        faults=FaultPlan.default(s.demo_seed),
        port=s.demo_port,
        cache_dir=s.demo_site_cache_dir,
    ) as site:
        log.info("embedded demo site (%s scale) at %s", s.demo_scale, site.base_url)
        yield site.base_url


def crawl(run_key: str, base_url: str | None = None, full: bool = False, max_playlists: int | None = None) -> dict:
    """Crawl Genie playlists into bronze Delta tables; incremental unless ``full``."""
    from crawlers.bronze import load_run
    from crawlers.run import run_crawl
    from crawlers.state import build_state, write_state
    from schemas import bronze
    from scenetune.errors import ScenetuneError
    from scenetune.runs import date_of

    s = settings.load()
    with genie_site(base_url) as url:
        state_path = None
        if not full:
            # Known playlists come from earlier runs only: a retried task must not
            # take the rows it wrote itself for "already known".
            state = build_state(s.delta_path("bronze", bronze.PLAYLISTS.name), exclude_run_id=run_key)
            if state["playlists"]:
                state_path = write_state(state, s.crawl_state_dir / f"{run_key}.json")
        result = run_crawl(url, run_key, state_path=state_path, max_playlists=max_playlists,
                           crawl_date=date_of(run_key))
    loaded = load_run(result.run_dir, run_key)  # a failed run's failures are recorded too
    if result.status == "failed":
        raise ScenetuneError(
            f"crawl {run_key} of {url} failed: {result.stats.get('failed', 0)} page(s) failed; "
            f"see bronze.crawl_failures and {result.log_path}"
        )
    return {"run_key": run_key, "base_url": url, "mode": "full" if state_path is None else "incremental",
            "stats": result.stats, "loaded": loaded}


def build(run_key: str) -> dict:
    from spark_jobs.build_catalogue import build as build_catalogue

    return build_catalogue(run_key)


def gate(run_key: str) -> list[dict]:
    from quality.checks import gate as quality_gate

    return [{"table": r.table, "rows": r.rows} for r in quality_gate(run_key)]


def publish(run_key: str) -> dict:
    from warehouse.publish import publish as publish_duckdb

    published = publish_duckdb(run_key)
    return {"path": str(published.path), "build_id": published.build_id, "rows": published.rows}
