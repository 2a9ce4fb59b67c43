# scenetune: the two commands a newcomer needs are `make demo` and `make test`.
VENV   := .venv
PY     := $(VENV)/bin/python
export PYSPARK_PYTHON := $(CURDIR)/$(PY)

.PHONY: setup demo test test-fast test-deployment bench serve-demo-site clean

setup:            ## install system packages, the venv and the project (idempotent)
	@bash scripts/setup.sh

demo: setup       ## run catalogue_refresh through Airflow on the embedded demo site, then query it
	@$(VENV)/bin/scenetune demo

# Three test processes even on 2 cores: the tests wait on Airflow, JVM and Scrapy start-ups, so a serial
# run leaves about half the CPU idle. Each file runs in one process, so its module fixtures are made once.
TEST_WORKERS ?= 3

test: setup       ## the whole test suite (what CI runs)
	@$(PY) -m pytest -q -p no:cacheprovider -n $(TEST_WORKERS) --dist loadfile --durations=15

test-fast: setup  ## unit and DAG-integrity tests only
	@$(PY) -m pytest -q -p no:cacheprovider tests/unit tests/dags

test-deployment: setup  ## also what `make test` skips: Airflow (api-server, scheduler, dag-processor) on Postgres, scoring on a Spark cluster
	@SCENETUNE_TEST_DEPLOYMENT=1 $(PY) -m pytest -q -p no:cacheprovider tests/integration/test_airflow_deployment.py tests/integration/test_spark_cluster.py

bench: setup      ## run the benchmarks (NAME=crawl for one) and refresh docs/BENCHMARKS.md
	@$(PY) -m bench $(NAME)

serve-demo-site: setup  ## serve the Genie-shaped demo site on 127.0.0.1:8800
	@$(PY) -m demo_site serve --scale $${SCENETUNE_DEMO_SCALE:-demo} --port 8800

clean:            ## remove caches of the build (not SCENETUNE_HOME)
	rm -rf .pytest_cache spark-warehouse metastore_db derby.log
