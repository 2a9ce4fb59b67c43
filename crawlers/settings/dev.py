"""Development: the base settings plus an HTTP cache, so that parser work does not refetch pages.

Tests and benchmarks switch the cache off (HTTPCACHE_ENABLED=False); error
responses are never cached.
"""

from crawlers.settings.base import *
from crawlers.settings.base import _S, RETRY_HTTP_CODES

HTTPCACHE_ENABLED = True
HTTPCACHE_DIR = str(_S.cache_dir / "scrapy_httpcache")
HTTPCACHE_EXPIRATION_SECS = 3600
HTTPCACHE_IGNORE_HTTP_CODES = sorted({*RETRY_HTTP_CODES, 403, 404})
HTTPCACHE_GZIP = False
