"""Scrapy settings every environment shares: politeness, retries, error budget, pipelines."""

from core import settings as _scenetune_settings

_S = _scenetune_settings.load()

BOT_NAME = "scenetune"
SPIDER_MODULES = ["crawlers.spiders"]
NEWSPIDER_MODULE = "crawlers.spiders"

# --- identity and politeness ----------------------------------------------------------
USER_AGENT = _S.user_agent
ROBOTSTXT_OBEY = _S.crawl_obey_robots
COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False
CONCURRENT_REQUESTS = _S.crawl_concurrency
CONCURRENT_REQUESTS_PER_DOMAIN = _S.crawl_concurrency
DOWNLOAD_DELAY = 0.0
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 0.25
AUTOTHROTTLE_MAX_DELAY = 30.0
# Aim for this many requests in flight per site; AutoThrottle backs off when latency grows.
AUTOTHROTTLE_TARGET_CONCURRENCY = float(_S.crawl_concurrency)
# Scrapy starts CONCURRENT_ITEMS asyncio tasks for every response's output; a detail page
# yields one item, so the default 100 only burns CPU (it was ~10% of the crawl's time).
CONCURRENT_ITEMS = 8
DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 20 * 1024 * 1024

# --- retries: backoff, Retry-After honoured (crawlers.middlewares) --------------------
RETRY_ENABLED = True
RETRY_TIMES = 3
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
RETRY_BACKOFF_BASE_S = 0.5
RETRY_BACKOFF_MAX_S = 30.0
RETRY_AFTER_MAX_S = 120.0
DOWNLOADER_MIDDLEWARES = {
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "crawlers.middlewares.BackoffRetryMiddleware": 550,
}

# --- a site on this machine (the embedded demo site, test servers) ----------------------------
# Politeness protects a real site; a loopback site is ours, and a page slower than a few seconds
# there is a planted fault, not load (AutoThrottle would widen its delay after every slow or
# timed-out page and crawl the rest slowly). The spider applies these at priority "spider" when
# its base URL is loopback (crawlers.settings.is_local_site), so `-s` settings still win; they
# never apply to genie.co.kr.
LOCAL_SITE_SETTINGS = {
    "AUTOTHROTTLE_ENABLED": False,
    "DOWNLOAD_DELAY": 0.0,
    "DOWNLOAD_TIMEOUT": 3,
    "RETRY_TIMES": 2,
    "RETRY_BACKOFF_BASE_S": 0.1,
    "RETRY_BACKOFF_MAX_S": 1.0,
    "RETRY_AFTER_MAX_S": 2.0,
}

# --- error budget: stop a crawl of a site that is down --------------------------------------
CLOSESPIDER_ERRORCOUNT = 50  # exceptions in callbacks (parser bugs; bad pages are quarantined)
# Detail pages in a row that failed with a sign of an outage (5xx after retries, 403/408/429,
# timeouts, refused connections, DNS): the site is down. A page the site answered (404, 410,
# Genie's "no such playlist" page) is not a sign of an outage and ends the streak.
GENIE_FAILURE_BUDGET = 100

# --- discovery ---------------------------------------------------------------------------
GENIE_MIN_PLM_SEQ = 1  # first id of the walk when there is no previous crawl state
# Song pages (genres) per run, for song ids without an answer yet, the most listed first (crawlers.state).
GENIE_MAX_SONG_PAGES = _S.crawl_max_song_pages

# --- items ---------------------------------------------------------------------------------
ITEM_PIPELINES = {
    "crawlers.pipelines.NormalizePipeline": 100,
    "crawlers.pipelines.ValidatePipeline": 200,
    "crawlers.pipelines.CoverPipeline": 300,
    "crawlers.pipelines.RunWriterPipeline": 900,
}
FILES_STORE = str(_S.covers_dir)
MEDIA_ALLOW_REDIRECTS = True
EXTENSIONS = {
    "crawlers.accounting.CrawlAccounting": 500,
}

LOG_LEVEL = "INFO"
LOGSTATS_INTERVAL = 30.0
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
FEED_EXPORT_ENCODING = "utf-8"
