"""Scrapy settings of the Genie crawler: ``base`` (shared), ``dev`` and ``prod``.

Chosen by SCRAPY_SETTINGS_MODULE (scrapy.cfg defaults to crawlers.settings.dev).
Values that differ between machines come from core.settings. A crawl of a site
on a loopback address (the embedded demo site, a test server) also gets
``LOCAL_SITE_SETTINGS`` (see base.py): the spider applies them when
:func:`is_local_site` says so.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit


def is_local_site(base_url: str) -> bool:
    """Is the site on this machine (127.0.0.0/8, ::1, localhost)? Never true for genie.co.kr."""
    host = (urlsplit(base_url).hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
