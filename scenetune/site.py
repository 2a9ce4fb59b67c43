"""The Genie site a crawl reads: ``GENIE_BASE_URL``, or else the embedded demo site.

The demo site is a development tool; this is the one place that starts it,
so it stays out of the pipeline's own import graph.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Iterator

from core import settings

log = logging.getLogger(__name__)


@contextlib.contextmanager
def genie_site(base_url: str | None = None, scale: str | None = None) -> Iterator[str]:
    """Yield the base URL to crawl: the given one, ``GENIE_BASE_URL``, or the embedded demo site
    (at ``scale``, default SCENETUNE_DEMO_SCALE)."""
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
        scale=scale or s.demo_scale,
        faults=FaultPlan.default(s.demo_seed),
        port=s.demo_port,
        cache_dir=s.demo_site_cache_dir,
    ) as site:
        log.info("embedded demo site (%s scale) at %s", scale or s.demo_scale, site.base_url)
        _EMBEDDED[site.base_url] = f"demo-site {scale or s.demo_scale} seed {s.demo_seed}"
        try:
            yield site.base_url
        finally:
            _EMBEDDED.pop(site.base_url, None)


# The embedded demo site listens on a new port each time: crawl state knows it by its scale and seed.
_EMBEDDED: dict[str, str] = {}


def site_key(base_url: str) -> str | None:
    """What crawl state keys ``base_url`` by when it is the embedded demo site; None for any other site."""
    return _EMBEDDED.get(base_url)


def demo_ground_truth(scale: str, seed: int) -> dict:
    """The demo site's ground truth for (seed, scale), as ``python -m demo_site ground-truth`` writes it."""
    from demo_site.catalogue import generate
    from demo_site.faults import FaultPlan

    return generate(seed, scale).ground_truth(FaultPlan.default(seed))
