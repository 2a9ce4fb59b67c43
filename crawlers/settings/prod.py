"""Production (the real genie.co.kr): fewer requests in flight, slower start, no cache.

LOCAL_SITE_SETTINGS (base) only ever apply to a loopback base URL, never to genie.co.kr.
"""

from crawlers.settings.base import *
from crawlers.settings.base import _S

CONCURRENT_REQUESTS_PER_DOMAIN = min(_S.crawl_concurrency, 4)
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 2.0
DOWNLOAD_TIMEOUT = 20
CLOSESPIDER_ERRORCOUNT = 20
HTTPCACHE_ENABLED = False
