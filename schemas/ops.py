"""Ops: what the pipeline records about its own runs (audits, publications)."""

from schemas.table import Column as C
from schemas.table import Table

CATALOGUE_AUDITS = Table(
    name="catalogue_audits",
    layer="ops",
    grain="one row per table version that a run's quality gate audited",
    key=("run_key", "table_name"),
    partition_by=("run_key",),
    doc=(
        "Only versions recorded here as passed are ever published: a rejected build stays"
        " in Delta history but never reaches the warehouse."
    ),
    columns=(
        C("run_key", "string", False, "run whose gate audited the version"),
        C("table_name", "string", False, "layer.name of the audited table"),
        C("delta_version", "int64", False, "the Delta version audited"),
        C("row_count", "int64", False, "rows in that version"),
        C("passed", "bool", False, "every check passed"),
        C("failures", "list<string>", False, "one line per failed check; empty when passed"),
    ),
)

CATALOGUE_BUILDS = Table(
    name="catalogue_builds",
    layer="ops",
    grain="one row per silver or gold table a run's build committed or reused",
    key=("run_key", "table_name"),
    partition_by=("run_key",),
    doc=(
        "A build whose inputs (the bronze files it reads) and code are those of an earlier build"
        " reuses that build's table versions instead of recomputing them: `built_by` names the"
        " run whose build wrote the version, and that run's key is on every row of it."
    ),
    columns=(
        C("run_key", "string", False, "run whose build task this is"),
        C("table_name", "string", False, "layer.name of the built table"),
        C("delta_version", "int64", False, "the Delta version the run's catalogue uses"),
        C("built_by", "string", False, "run whose build wrote that version (= run_key unless reused)"),
        C("table_id", "string", False, "the Delta table's id: a table deleted and written anew gets another"),
        C("inputs_fingerprint", "string", False, "sha256 of the build code and the bronze files read"),
    ),
)

EMBEDDING_CACHE = Table(
    name="embedding_cache",
    layer="ops",
    grain="one row per (model, sentence) ever embedded by a catalogue build",
    key=("model", "sentence"),
    doc=(
        "Sentence vectors kept across refreshes: a build encodes only sentences missing here for its model and"
        " adds them by a merge on the key (new keys only: the table grows, is never rewritten whole, and a"
        " re-run adds nothing). Neither audited nor published: gold.sentence_embeddings is the published copy."
    ),
    columns=(
        C("model", "string", False, "name@weights digest/precision, e.g. all-MiniLM-L6-v2@53aa51172d14/fp32"),
        C("sentence", "string", False, "the English sentence"),
        C("vector", "list<float32>", False, "its L2-normalised embedding"),
        C("embedded_by", "string", False, "run whose build embedded it"),
    ),
)

CATALOGUE_VERSIONS = Table(
    name="catalogue_versions",
    layer="ops",
    grain="one row per catalogue version: a refresh that reached the quality gate, or a rollback",
    key=("version",),
    doc=(
        "Written by warehouse.versions: `published` when the refresh went live, `rejected` when its gate failed"
        " (nothing published, the previous version stays live), `rolled back` for `scenetune rollback N` (a new"
        " row pinning what version N pinned; history is never rewritten). A refresh run again keeps its number"
        " and replaces its row. The live version is the newest published or rolled-back one."
    ),
    columns=(
        C("version", "int64", False, "catalogue version number (1, 2, ...)"),
        C("run_key", "string", False, "refresh run that made it (a rollback: the run of the version restored)"),
        C("created_at", "timestamp", False, "the run's time (from its run key); a rollback: when it was asked for"),
        C("status", "string", False, "published | rejected | rolled back"),
        C("rolled_back_to", "int64", True, "rolled back: the version whose pins it restores; null otherwise"),
        C("source", "string", False, "base URL of the crawled site (the demo site's or genie.co.kr)"),
        C("crawl_runs", "list<string>", False, "crawl runs in the pinned bronze.crawl_runs version"),
        C("table_versions", "string", False, 'JSON {"layer.table": delta_version} of every table it pins'),
        C("row_counts", "string", False, 'JSON {"layer.table": rows} of those versions'),
        C("quality_passed", "bool", False, "every expectation of its quality gate passed"),
        C("quality_failures", "list<string>", False, "one line per failed check; empty when passed"),
        C("data_docs", "string", True, "the Great Expectations Data Docs page of its gate (under SCENETUNE_HOME)"),
        C("code_version", "string", False, "git describe of the code that built it, else the package version"),
    ),
)

QUARANTINE = Table(
    name="quarantine",
    layer="ops",
    grain="one row per (run, table, check, row) that a quality gate rejected",
    key=("run_key", "table_name", "expectation", "row_number"),
    partition_by=("run_key",),
    doc=(
        "The failing rows of a rejected refresh, with the expectation that caught each (a row failing two"
        " checks is two rows). Table-level failures (row counts) have no rows here: the version row of"
        " ops.catalogue_versions says them. Re-running the gate of a run replaces its partition."
    ),
    columns=(
        C("run_key", "string", False, "run whose gate caught the row"),
        C("version", "int64", False, "catalogue version (rejected) the run was recorded as"),
        C("table_name", "string", False, "layer.name of the table"),
        C("delta_version", "int64", False, "the Delta version the row is in"),
        C("expectation", "string", False, "the failed check and its column, e.g. key (song_key) not unique"),
        C("row_number", "int64", False, "0-based row index in that version as read"),
        C("row_key", "string", False, "JSON of the row's declared key"),
        C("evidence", "string", False, "JSON of the whole row, without its vectors"),
    ),
)

PIPELINE_RUNS = Table(
    name="pipeline_runs",
    layer="ops",
    grain="one row per DAG run (dag_id, run_key), written by the run's last task, also when the run failed",
    key=("dag_id", "run_key"),
    doc=(
        "Written by scenetune.run_summary from the `record_run` teardown task (it runs after the other tasks"
        " whatever their outcome, and does not change the run's state). Re-running a run replaces its row."
        " `scenetune runs` lists them; `make demo` prints the last one."
    ),
    columns=(
        C("dag_id", "string", False, "the DAG, e.g. catalogue_refresh"),
        C("run_key", "string", False, "the run's partition key (from its logical date, or when it was created for)"),
        C("run_id", "string", False, "Airflow's run id of the run recorded last under this key"),
        C("state", "string", False,
          "success | failed (any stage failed or was skipped by a failure upstream) | running (started by scenetune,"
          " not recorded yet) | killed (its command died first; closed by the next run or `scenetune runs`)"),
        C("started_at", "timestamp", True, "when the DAG run started"),
        C("recorded_at", "timestamp", False, "when the summary was written (the end of the run's last stage)"),
        C("duration_s", "float64", True, "recorded_at - started_at, in seconds"),
        C("stage_states", "string", False, 'JSON {"task_id": state} of every stage but the recording one'),
        C("stage_durations", "string", False, 'JSON {"task_id": seconds} of the stages that ran'),
        C("failed_stage", "string", True, "the first stage that failed; null when the run succeeded"),
        C("failure", "string", True, "one paragraph: what failed, the error, whether it was retried"),
        C("row_counts", "string", False,
          'JSON {"layer.table": rows} audited (else built; score_uploads: published) by the run; {} if none'),
        C("quality_passed", "bool", True, "every check of the run's quality gate passed; null when no gate ran"),
        C("quality_failures", "list<string>", False, "one line per failed check; empty when passed or not run"),
        C("crawl_books", "string", True, "JSON of the crawl's books (requested, parsed, failed, ...)"),
        C("catalogue_version", "int64", True,
          "the ops.catalogue_versions number the run got (score_uploads: the one it scored against), if any"),
        C("catalogue_status", "string", True, "that version's status (published | rejected | rolled back)"),
        C("model_version", "string", True, "the image tag head the run trained (or used)"),
        C("details", "string", False,
          "JSON of the DAG's own books: score_uploads {submission_id, claimed, scored, failed, ...},"
          " warehouse_maintenance {kept_versions, dropped_versions, deleted_files, scratch_removed}; catalogue_refresh"
          " {stats: the Melon import's books, note} when it imported, {skipped: why} when not"),
    ),
)

TABLES = (CATALOGUE_AUDITS, CATALOGUE_BUILDS, EMBEDDING_CACHE, CATALOGUE_VERSIONS, QUARANTINE, PIPELINE_RUNS)
