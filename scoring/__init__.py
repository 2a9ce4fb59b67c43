"""Bulk image scoring (next): uploads queue, the nightly Spark scoring job, image → tags → songs.

A stage package like crawlers/ and spark_jobs/: it may import core, schemas
and warehouse, and is called by the DAGs and the CLI. See the README's
folder map and ../shared/ROADMAP.md.
"""
