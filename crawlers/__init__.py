"""The Genie playlist crawler (a Scrapy project) and its bronze loader.

- ``genie_selectors.py`` every URL, CSS/XPath selector and regex for Genie markup (one-file fix)
- ``parsing.py``     pages -> raw dicts; ``normalize.py`` raw text -> typed values
- ``spiders/genie_playlists.py``  discovery (newest id walk, listings for a refresh) and parsing
- ``pipelines.py``   normalise, validate (JSON schema of schemas/bronze.py), covers, JSONL writer
- ``middlewares.py`` retries with backoff that honour Retry-After
- ``accounting.py``  one outcome per requested page; the run's crawl_runs row
- ``output.py``      the run folder (``raw/crawl/dt=.../run_id=...``) and its JSONL files
- ``state.py``       what earlier crawls saw (from bronze.playlists), for a refresh
- ``run.py``         ``run_crawl(...)``: one crawl as a subprocess; ``bronze.py``: ``load_run(...)``
- ``settings/``      Scrapy settings base / dev / prod (SCRAPY_SETTINGS_MODULE)

``python -m crawlers crawl --base-url URL --run-id ID [--incremental] [--load]`` runs it alone.
"""
