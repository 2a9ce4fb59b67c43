"""What each table must satisfy, as Great Expectations 1.x expectations derived from ``schemas/``.

Every table gets, from its declaration: its declared columns, not-null for each
not-null column, uniqueness of its key, run keys of the right form; silver and
gold tables also that every row comes from the build that wrote the version.
Tables add their own rules below (the crawl's books balance, songs exist and sit
in a playlist, tag values in the taxonomy or recorded as other, embeddings of
length 384 and unit norm, cover verdicts from the allowed set), and every table
may shrink at most by a set share against the last published catalogue version.

GX hashes the whole frame it validates (a 125k-row frame with array columns
costs seconds), so checks run on a *projection*: the scalar columns the
expectations name plus computed scalar columns (``tags__is_null``, an
embedding's norm), never the arrays themselves.

Each expectation carries a ``check`` (its ``meta``): the one line a failure is
reported under and the quarantine names the row's reason with.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from schemas import gold
from schemas.bronze import SOURCES
from schemas.table import Table

# A computed column: the table's rows in, one scalar per row out.
Computed = Callable[[pa.Table], pa.Array]
SCALAR_TYPES = {"string", "int32", "int64", "float32", "float64", "bool", "timestamp", "date"}
RUN_KEY_PATTERN = r"^\d{8}T\d{6}Z$"
# silver.cover_quality.verdict, as its column doc states them.
COVER_VERDICTS = ("keep", "crop", "drop", "unreadable")
NORM_TOLERANCE = 1e-3
ROW_COUNT_CHECK = "rows: "  # how the row-count bound's failures start


@dataclass
class Suite:
    """The expectations of one table version and the frame columns they read."""

    table: Table
    expectations: list = field(default_factory=list)  # gx Expectation objects
    columns: set[str] = field(default_factory=set)  # stored scalar columns the expectations name
    computed: dict[str, Computed] = field(default_factory=dict)

    def expect(self, expectation, check: str, columns: tuple[str, ...] = (),
               computed: dict[str, Computed] | None = None) -> None:
        expectation.meta = {**(expectation.meta or {}), "check": check}
        self.expectations.append(expectation)
        self.columns.update(columns)
        self.computed.update(computed or {})

    def frame(self, data: pa.Table):
        """The pandas frame GX validates: named scalar columns plus computed ones, nothing else."""
        columns = {name: data.column(name) for name in sorted(self.columns)}
        columns.update({name: fn(data) for name, fn in sorted(self.computed.items())})
        if not columns:  # GX needs a column to count rows
            columns["__row"] = pa.array(range(data.num_rows), pa.int64())
        return pa.table(columns).to_pandas()


def _is_null(column: str) -> Computed:
    return lambda data: data.column(column).is_null()


def suite_for(table: Table, *, built_by: str | None, last_published_rows: int | None,
              max_row_drop: float) -> Suite:
    """The suite of ``table``: from its declaration, its own rules, and the row-count bound."""
    import great_expectations as gx

    suite = Suite(table)
    for column in table.columns:
        if column.nullable:
            continue
        check = f"{column.name}: null in a not-null column"
        if column.type in SCALAR_TYPES:
            suite.expect(gx.expectations.ExpectColumnValuesToNotBeNull(column=column.name), check, (column.name,))
        else:  # arrays: checked through a computed scalar, never hashed whole
            flag = f"{column.name}__is_null"
            suite.expect(gx.expectations.ExpectColumnValuesToBeInSet(column=flag, value_set=[False]), check,
                         computed={flag: _is_null(column.name)})
    key = list(table.key)
    check = f"key ({', '.join(key)}) not unique"
    if len(key) == 1:
        suite.expect(gx.expectations.ExpectColumnValuesToBeUnique(column=key[0]), check, tuple(key))
    else:
        suite.expect(gx.expectations.ExpectCompoundColumnsToBeUnique(column_list=key), check, tuple(key))
    if "run_key" in table.column_names:
        suite.expect(gx.expectations.ExpectColumnValuesToMatchRegex(column="run_key", regex=RUN_KEY_PATTERN),
                     "run_key: not of the form YYYYMMDDTHHMMSSZ", ("run_key",))
    if built_by is not None and table.layer in ("silver", "gold"):
        suite.expect(gx.expectations.ExpectColumnValuesToBeInSet(column="run_key", value_set=[built_by]),
                     f"run_key: rows from other runs than {built_by}, which built the version", ("run_key",))
    if last_published_rows:
        least = math.ceil(last_published_rows * (1 - max_row_drop))
        suite.expect(gx.expectations.ExpectTableRowCountToBeBetween(min_value=least),
                     f"{ROW_COUNT_CHECK}more than {max_row_drop:.0%} fewer than the last published version "
                     f"({last_published_rows}, SCENETUNE_QUALITY_MAX_ROW_DROP)")
    for rule in RULES.get(table.qualified_name, ()):
        rule(suite)
    return suite


# --- rules of particular tables ----------------------------------------------------------------

def _books_balance(suite: Suite) -> None:
    """bronze.crawl_runs: every requested page ended as one outcome (also for song pages)."""
    import great_expectations as gx

    def gap(requested: str, *outcomes: str) -> Computed:
        def compute(data: pa.Table) -> pa.Array:
            total = data.column(outcomes[0])
            for name in outcomes[1:]:
                total = pc.add(total, data.column(name))
            return pc.subtract(data.column(requested), total)
        return compute

    names = set(suite.table.column_names)
    books = {"books_gap": gap("requested", "parsed", "quarantined", "failed")}
    if {"songs_requested", "songs_parsed", "songs_quarantined", "songs_failed"} <= names:
        books["song_books_gap"] = gap("songs_requested", "songs_parsed", "songs_quarantined", "songs_failed")
    for name, compute in books.items():
        suite.expect(gx.expectations.ExpectColumnValuesToBeInSet(column=name, value_set=[0]),
                     f"{name}: the crawl's books do not balance (requested != parsed + quarantined + failed)",
                     computed={name: compute})


def _import_books_balance(suite: Suite) -> None:
    """bronze.import_runs: every record read was loaded, unchanged or quarantined (playlists and songs)."""
    import great_expectations as gx

    def gap(kind: str) -> Computed:
        def compute(data: pa.Table) -> pa.Array:
            done = pc.add(pc.add(data.column(f"{kind}_loaded"), data.column(f"{kind}_unchanged")),
                          data.column(f"{kind}_quarantined"))
            return pc.subtract(data.column(f"{kind}_read"), done)
        return compute

    for kind in ("playlists", "songs"):
        name = f"{kind}_books_gap"
        suite.expect(gx.expectations.ExpectColumnValuesToBeInSet(column=name, value_set=[0]),
                     f"{name}: the import's books do not balance (read != loaded + unchanged + quarantined)",
                     computed={name: gap(kind)})


def _songs_exist(suite: Suite) -> None:
    import great_expectations as gx

    suite.expect(gx.expectations.ExpectTableRowCountToBeBetween(min_value=1),
                 "no songs: the crawl produced nothing to publish")
    suite.expect(gx.expectations.ExpectColumnValuesToBeBetween(column="playlist_count", min_value=1),
                 "playlist_count: a song in no playlist", ("playlist_count",))


def _no_tags_flag(suite: Suite) -> None:
    """gold.songs: ``no_tags`` is true exactly when the tag set is empty (an empty set is never silent)."""
    import great_expectations as gx

    def mismatch(data: pa.Table) -> pa.Array:
        empty = pc.equal(pc.list_value_length(data.column("tags")), 0)
        return pc.not_equal(empty, data.column("no_tags"))

    suite.expect(gx.expectations.ExpectColumnValuesToBeInSet(column="tags__empty_mismatch", value_set=[False]),
                 "no_tags: disagrees with an empty tag set", computed={"tags__empty_mismatch": mismatch})


def _count_per_row(data: pa.Table, column: str, flags) -> pa.Array:
    """Per row of ``data``: how many values of the list ``column`` have ``flags(values)`` true."""
    lists = data.column(column).combine_chunks()
    bad = np.asarray(flags(pc.list_flatten(lists)).to_numpy(zero_copy_only=False), dtype=np.float64)
    parents = pc.list_parent_indices(lists).to_numpy()
    return pa.array(np.bincount(parents, weights=bad, minlength=data.num_rows).astype("int64"))


def _tags_in_taxonomy(suite: Suite) -> None:
    """gold.songs: each category list holds only tags of that category; ``tags_other`` none of the taxonomy's."""
    import great_expectations as gx

    from schemas import taxonomy

    every = pa.array(sorted({t for tags in taxonomy.categories().values() for t in tags}))
    for category, tags in taxonomy.categories().items():
        column = f"tags_{category}"
        if column not in suite.table.column_names:
            continue
        allowed = pa.array(sorted(tags))
        name = f"{column}__outside_taxonomy"

        def outside(data: pa.Table, column=column, allowed=allowed) -> pa.Array:
            return _count_per_row(data, column, lambda v: pc.invert(pc.is_in(v, value_set=allowed)))

        suite.expect(gx.expectations.ExpectColumnValuesToBeInSet(column=name, value_set=[0]),
                     f"{column}: a tag not of the {category} category", computed={name: outside})
    if "tags_other" in suite.table.column_names:
        def misfiled(data: pa.Table) -> pa.Array:
            return _count_per_row(data, "tags_other", lambda v: pc.is_in(v, value_set=every))

        suite.expect(gx.expectations.ExpectColumnValuesToBeInSet(column="tags_other__in_taxonomy", value_set=[0]),
                     "tags_other: a tag of the taxonomy recorded as other",
                     computed={"tags_other__in_taxonomy": misfiled})


def _vectors(suite: Suite) -> None:
    """gold.sentence_embeddings: 384 floats of unit L2 norm, or no vector and the reason why."""
    import great_expectations as gx

    def length(data: pa.Table) -> pa.Array:
        return pc.list_value_length(data.column("vector"))  # null where there is no vector

    def norm_off(data: pa.Table) -> pa.Array:
        """|norm - 1| rounded to 1e-6; null without a vector; NaN or a wrong length as 1e9 (fails)."""
        vectors = data.column("vector").combine_chunks()
        out = np.full(len(vectors), np.nan)
        valid = vectors.is_valid().to_numpy(zero_copy_only=False)
        lengths = pc.fill_null(pc.list_value_length(vectors), 0).to_numpy(zero_copy_only=False)
        ok = valid & (lengths == gold.EMBEDDING_DIMENSIONS)
        out[valid & ~ok] = 1e9
        if ok.any():
            values = pc.list_flatten(vectors.filter(pa.array(ok))).to_numpy(zero_copy_only=False)
            norms = np.linalg.norm(values.reshape(-1, gold.EMBEDDING_DIMENSIONS).astype(np.float64), axis=1)
            out[ok] = np.where(np.isfinite(norms), np.round(np.abs(norms - 1), 6), 1e9)
        return pa.array(out, mask=~valid)

    def unexplained(data: pa.Table) -> pa.Array:
        return pc.and_(data.column("vector").is_null(), data.column("error").is_null())

    suite.expect(gx.expectations.ExpectColumnValuesToBeInSet(column="vector__length",
                                                             value_set=[gold.EMBEDDING_DIMENSIONS]),
                 f"vector: not of length {gold.EMBEDDING_DIMENSIONS}", computed={"vector__length": length})
    suite.expect(gx.expectations.ExpectColumnValuesToBeBetween(column="vector__norm_off", max_value=NORM_TOLERANCE),
                 "vector: not of unit L2 norm", computed={"vector__norm_off": norm_off})
    suite.expect(gx.expectations.ExpectColumnValuesToBeInSet(column="vector__unexplained", value_set=[False]),
                 "vector: missing without an error", computed={"vector__unexplained": unexplained})


def _cover_verdicts(suite: Suite) -> None:
    import great_expectations as gx

    suite.expect(gx.expectations.ExpectColumnValuesToBeInSet(column="verdict", value_set=list(COVER_VERDICTS)),
                 f"verdict: not one of {', '.join(COVER_VERDICTS)}", ("verdict",))


def _playlist_ids(suite: Suite) -> None:
    import great_expectations as gx

    suite.expect(gx.expectations.ExpectColumnValuesToBeBetween(column="plm_seq", min_value=0),
                 "plm_seq: not a playlist id (Genie's start at 1, Melon's at 0)", ("plm_seq",))


def _sources(suite: Suite) -> None:
    import great_expectations as gx

    suite.expect(gx.expectations.ExpectColumnValuesToBeInSet(column="source", value_set=list(SOURCES)),
                 f"source: not one of {', '.join(SOURCES)}", ("source",))


RULES: dict[str, tuple[Callable[[Suite], None], ...]] = {
    "bronze.crawl_runs": (_books_balance,),
    "bronze.import_runs": (_import_books_balance, _sources),
    "silver.playlists": (_playlist_ids, _sources),
    "silver.playlist_songs": (_playlist_ids, _sources),
    "silver.cover_quality": (_playlist_ids, _cover_verdicts),
    "gold.songs": (_songs_exist, _no_tags_flag, _tags_in_taxonomy),
    "gold.sentence_embeddings": (_vectors,),
}
