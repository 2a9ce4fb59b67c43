"""The Genie playlist crawler (a Scrapy project) and its bronze loader.

- ``genie_selectors.py`` every URL, CSS/XPath selector and regex for Genie markup (one-file fix)
- ``parsing.py``     pages -> raw dicts; ``normalize.py`` raw text -> typed values
- ``spiders/genie_playlists.py``  discovery (newest id walk, retry frontier, listings for a refresh) and parsing
- ``pipelines.py``   normalise, validate (JSON schema of schemas/bronze.py, fastjsonschema), covers, JSONL writer
- ``middlewares.py`` retries with backoff that honour Retry-After
- ``accounting.py``  one outcome per requested page, the failure budget; the run's crawl_runs row
- ``output.py``      the run folder (``raw/crawl/dt=.../run_key=...``) and its JSONL files
- ``frontier.py``    ids earlier runs left unresolved: attempts, back-off in runs, the attempt cap
- ``state.py``       what earlier crawls learned (from bronze), for the next run
- ``run.py``         ``crawl(partition, base_url)``: state -> Scrapy subprocess -> bronze (``bronze.load_run``)
- ``settings/``      Scrapy settings base / dev / prod (SCRAPY_SETTINGS_MODULE), LOCAL_SITE_SETTINGS

``scenetune crawl`` and the Airflow DAG both call ``crawlers.run.crawl``.
"""
