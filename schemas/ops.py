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
        C("inputs_fingerprint", "string", False, "sha256 of the build code and the bronze files read"),
    ),
)

TABLES = (CATALOGUE_AUDITS, CATALOGUE_BUILDS)
