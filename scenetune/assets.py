"""Every Airflow Asset scenetune produces or consumes, named once.

DAGs import their outlets and schedules from here so producers and consumers
never drift apart.
"""

from airflow.sdk import Asset

BRONZE_CRAWL = Asset(name="bronze_crawl", uri="scenetune://warehouse/bronze/crawl")
CATALOGUE_AUDITED = Asset(name="catalogue_audited", uri="scenetune://warehouse/gold")
CATALOGUE_DUCKDB = Asset(name="catalogue_duckdb", uri="scenetune://warehouse/scenetune.duckdb")
# score_uploads' results in the DuckDB file (not CATALOGUE_DUCKDB: score_uploads is scheduled on that one).
SCORING_RESULTS = Asset(name="scoring_results", uri="scenetune://warehouse/scenetune.duckdb/scoring")
