"""`scenetune sql` reads the warehouse and nothing else, changes nothing, and fails in one line.

Each probe of the review (issue #6, section 7) runs against a real DuckDB warehouse file and
checks that the harm did not happen, not only that an error was raised.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import duckdb
import pytest
from rich.cells import cell_len

from core import settings
from core.errors import ScenetuneError
from warehouse.query import export, open_warehouse, parse_params, read_query, run_sql

SONGS = [
    ("밤편지", "아이유", ["비오는날", "새벽"]),
    ("봄날", "방탄소년단", ["봄", "이별"]),
    ("Hey Ya!", "OutKast", ["party"]),
]
SECRET = "not for scenetune sql"


def build_warehouse() -> Path:
    """A published warehouse in the current SCENETUNE_HOME, a sibling folder and a Delta folder with files."""
    s = settings.load()
    s.warehouse_dir.mkdir(parents=True)
    con = duckdb.connect(str(s.duckdb_path))
    con.execute("CREATE TABLE songs (title VARCHAR, artist VARCHAR, tags VARCHAR[])")
    con.executemany("INSERT INTO songs VALUES (?, ?, ?)", SONGS)
    con.execute("CREATE TABLE tags AS SELECT DISTINCT unnest(tags) AS tag FROM songs")
    con.close()
    keep = s.home / "keep"
    keep.mkdir()
    (keep / "secret.txt").write_text(SECRET)
    (keep / "a=1").mkdir()
    (keep / "a=1" / "data.csv").write_text("a\n1\n")
    log = s.delta_dir / "gold" / "songs" / "_delta_log"
    log.mkdir(parents=True)
    (log / "00000000000000000000.json").write_text('{"commitInfo": {}}\n')
    return s.duckdb_path


def files_under(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def songs_in(path: Path) -> list[tuple]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute("SELECT title, artist, tags FROM songs").fetchall()
    finally:
        con.close()


def refusal(query: str, **kwargs) -> str:
    with pytest.raises(ScenetuneError) as raised:
        run_sql(query, **kwargs)
    message = str(raised.value)
    assert "\n" not in message
    return message


@pytest.fixture
def warehouse(home) -> Path:
    return build_warehouse()


# --- the probes of the review -------------------------------------------------------------

def test_copy_over_the_warehouse_file_is_refused(warehouse):
    message = refusal(f"COPY (SELECT 'x') TO '{warehouse}'")
    assert message.startswith("refused: COPY statement")
    assert songs_in(warehouse) == [(t, a, tags) for t, a, tags in SONGS]


def test_copy_to_the_warehouse_wal_is_refused(warehouse):
    # DuckDB lets a read-only connection write its own .wal: only the statement check stops this.
    wal = warehouse.with_name(warehouse.name + ".wal")
    assert refusal(f"COPY (SELECT 'junk') TO '{wal}' (FORMAT csv)").startswith("refused: COPY statement")
    assert not wal.exists()
    assert len(songs_in(warehouse)) == len(SONGS)


@pytest.mark.parametrize("folder", ["sibling", "delta"])
def test_copy_partitioned_overwrite_is_refused_and_the_folder_keeps_its_files(warehouse, folder):
    # The Delta folder is one DuckDB may read, so only the statement check stands between it and COPY.
    target = warehouse.parent.parent / "keep" if folder == "sibling" else settings.load().delta_dir
    before = files_under(target)
    message = refusal(f"COPY (SELECT 1 AS a, 2 AS b) TO '{target}' (FORMAT parquet, PARTITION_BY (a), OVERWRITE)")
    assert message.startswith("refused: COPY statement")
    assert files_under(target) == before and before


@pytest.mark.parametrize("explain", ["EXPLAIN ANALYZE", "EXPLAIN (ANALYZE false)", 'EXPLAIN ("analyze")', "EXPLAIN"])
def test_explain_of_a_copy_is_refused_whatever_its_options(warehouse, explain):
    target = settings.load().delta_dir / "written.csv"
    message = refusal(f"{explain} COPY (SELECT 1) TO '{target}'")
    assert message.startswith("refused: EXPLAIN of a COPY statement")
    assert not target.exists()


def test_attach_read_write_then_drop_is_refused_and_the_other_database_is_unchanged(warehouse, tmp_path):
    other = tmp_path / "other.duckdb"
    con = duckdb.connect(str(other))
    con.execute("CREATE TABLE t AS SELECT 42 AS answer")
    con.close()
    message = refusal(f"ATTACH '{other}' AS other (READ_WRITE); DROP TABLE other.t")
    assert message.startswith("refused: ATTACH statement")
    con = duckdb.connect(str(other), read_only=True)
    assert con.execute("SELECT answer FROM t").fetchall() == [(42,)]
    con.close()


@pytest.mark.parametrize("read", [
    "SELECT content FROM read_text('/etc/passwd')",
    "SELECT * FROM glob('/root/*')",
    "SELECT content FROM read_text('{home}/keep/secret.txt')",
    "SELECT * FROM read_csv('{home}/keep/a=1/data.csv')",
    "SELECT content FROM read_text('{delta}/../../keep/secret.txt')",  # out of the allowed folder by ..
])
def test_reading_files_outside_the_warehouse_is_refused(warehouse, read):
    s = settings.load()
    message = refusal(read.format(home=s.home, delta=s.delta_dir))
    assert message.startswith("refused: Permission Error")
    assert "root:" not in message and SECRET not in message


def test_set_cannot_undo_the_limits(warehouse):
    assert refusal("SET enable_external_access = true").startswith("refused: SET statement")
    # And were a SET to get through, the locked connection ignores it.
    with open_warehouse() as con:
        for undo in ("SET enable_external_access = true", "SET lock_configuration = false",
                     "SET allowed_directories = ['/']", "RESET enable_external_access"):
            with pytest.raises(duckdb.Error, match="locked"):
                con.execute(undo)
        assert con.execute("SELECT current_setting('enable_external_access')").fetchone() == (False,)
        with pytest.raises(duckdb.PermissionException):
            con.execute("SELECT content FROM read_text('/etc/passwd')")


def test_the_connection_alone_refuses_attach_install_load_and_copy_out(warehouse, tmp_path):
    """The first lock without the statement check: file access stops all of these."""
    import duckdb_extension_vss

    vss = next(Path(duckdb_extension_vss.__file__).parent.rglob("*.duckdb_extension"))
    with open_warehouse() as con:
        for statement in (f"ATTACH '{tmp_path / 'new.duckdb'}'", "INSTALL vss", f"LOAD '{vss}'",
                          f"COPY (SELECT 1) TO '{tmp_path / 'out.csv'}'", f"COPY songs TO '{warehouse}'"):
            with pytest.raises(duckdb.PermissionException):
                con.execute(statement)
        assert con.execute("SELECT count(*) FROM songs").fetchone() == (len(SONGS),)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["home"]
    assert len(songs_in(warehouse)) == len(SONGS)


def test_the_delta_folder_is_readable(warehouse):
    delta = settings.load().delta_dir
    result = run_sql(f"SELECT count(*) AS commits FROM read_text('{delta}/gold/songs/_delta_log/*.json')")
    assert result.rows == [(1,)]


def test_only_the_rows_shown_are_fetched(warehouse):
    result = run_sql("SELECT * FROM range(10000000)")
    assert len(result.rows) == 50 and result.more_rows
    assert result.format().endswith("50 rows shown, more not fetched")


def test_rows_past_the_shown_ones_are_not_even_computed(warehouse):
    # Row 1,000,000 raises if DuckDB computes it: the table view must stop long before
    # (DuckDB streams and computes ahead at most ~1 MB), a full export must reach it.
    query = "SELECT i, if(i < 1000000, i, error('computed past the shown rows')) AS v FROM range(100000000) t(i)"
    assert len(run_sql(query, max_rows=10).rows) == 10
    with open(os.devnull, "w") as sink, pytest.raises(ScenetuneError, match="computed past the shown rows"):
        export(query, None, "csv", sink)


def test_a_small_answer_is_complete(warehouse):
    result = run_sql("SELECT title FROM songs ORDER BY title")
    assert not result.more_rows and len(result.rows) == 3
    assert result.format().endswith("(3 rows)")


# --- every bad query is one line ----------------------------------------------------------

@pytest.mark.parametrize("query", ["", "   \n\t", "-- only a comment", "/* a block */ ;"])
def test_empty_query(warehouse, query):
    assert refusal(query).startswith("empty query")


def test_syntax_error(warehouse):
    assert refusal("SELEC title FROM songs").startswith("SQL error: Parser Error: syntax error")


def test_unknown_table_suggests_the_right_one(warehouse):
    message = refusal("SELECT * FROM song")
    assert message.startswith("SQL error: Catalog Error: Table with name song does not exist")
    assert 'Did you mean "songs"' in message


def test_one_statement_at_a_time(warehouse):
    assert refusal("SELECT 1; SELECT 2").startswith("one statement at a time")


@pytest.mark.parametrize(("query", "kind"), [
    ("SET threads = 1", "SET"),
    ("USE memory", "SET"),
    ("PRAGMA enable_profiling", "PRAGMA"),
    ("CALL pragma_version()", "CALL"),
    ("CHECKPOINT", "CALL"),
    ("CREATE TABLE t (a INT)", "CREATE"),
    ("INSERT INTO songs VALUES ('x', 'y', [])", "INSERT"),
    ("DELETE FROM songs", "DELETE"),
    ("DROP TABLE songs", "DROP"),
    ("EXPORT DATABASE 'dump'", "EXPORT"),
    ("INSTALL delta", "LOAD"),
    ("LOAD delta", "LOAD"),
    ("DETACH scenetune", "DETACH"),
    ("BEGIN", "TRANSACTION"),
    ("VACUUM", "VACUUM"),
    ("PIVOT songs ON artist", "CREATE"),  # DuckDB runs a PIVOT without IN (...) as CREATE TYPE + SELECT
])
def test_statements_that_are_not_read_queries_are_refused_by_type(warehouse, query, kind):
    assert refusal(query).startswith(f"refused: {kind} statement")
    assert len(songs_in(warehouse)) == len(SONGS)


@pytest.mark.parametrize("query", [
    "SELECT * FROM songs",
    "FROM songs",
    "WITH t AS (SELECT 1 AS a) SELECT a FROM t",
    "VALUES (1), (2)",
    "SHOW TABLES",
    "DESCRIBE songs",
    "SUMMARIZE songs",
    "PRAGMA show_tables",
    "EXPLAIN SELECT * FROM songs",
    "EXPLAIN ANALYZE SELECT * FROM songs",
    "/* why */ EXPLAIN (FORMAT json) (SELECT 1)",
])
def test_read_queries_run(warehouse, query):
    assert run_sql(query).rows


def test_missing_warehouse_says_what_to_do(home):
    message = refusal("SELECT 1")
    assert message == (f"no published warehouse at {settings.load().duckdb_path}: "
                       "run `scenetune refresh` (or `make demo`) first")


# --- parameters are bound ------------------------------------------------------------------

def test_named_parameters_are_bound(warehouse):
    query = "SELECT title FROM songs WHERE list_contains(tags, $tag)"
    assert run_sql(query, parse_params(["tag=비오는날"])).rows == [("밤편지",)]
    # A value that would change an interpolated query is only a value.
    assert run_sql("SELECT title FROM songs WHERE title = $t", {"t": "x' OR '1'='1"}).rows == []


@pytest.mark.parametrize(("query", "params", "expected"), [
    ("SELECT $tag", {}, "the query uses $tag: give --param tag=VALUE"),
    ("SELECT 1", {"tag": "x"}, "--param tag is not used: the query has no $tag"),
    ("SELECT ?", {}, "positional parameters ($1, ?) are not supported"),
])
def test_parameters_that_do_not_match_the_query(warehouse, query, params, expected):
    assert refusal(query, params=params).startswith(expected)


@pytest.mark.parametrize("pairs", [["tag"], ["=x"], ["1tag=x"], ["t-ag=x"], ["tag=a", "tag=b"]])
def test_bad_param(pairs):
    with pytest.raises(ScenetuneError, match="--param") as raised:
        parse_params(pairs)
    assert "\n" not in str(raised.value)


def test_param_value_may_hold_an_equals_sign():
    assert parse_params(["expr=a=b", "empty="]) == {"expr": "a=b", "empty": ""}


# --- where the query comes from ------------------------------------------------------------

def test_query_from_file_stdin_or_argument(tmp_path):
    file = tmp_path / "q.sql"
    file.write_text("SELECT '밤편지'", encoding="utf-8")
    assert read_query(None, str(file), io.BytesIO()) == "SELECT '밤편지'"
    assert read_query("-", None, io.BytesIO("SELECT '봄날'".encode())) == "SELECT '봄날'"
    assert read_query("SELECT 1", None, io.BytesIO()) == "SELECT 1"


@pytest.mark.parametrize("source", ["file", "stdin", "argument"])
def test_query_that_is_not_utf8(tmp_path, source):
    data = b"SELECT '\xff\xfe'"
    file = tmp_path / "q.sql"
    file.write_bytes(data)
    with pytest.raises(ScenetuneError, match=r"is not UTF-8 text: byte 0xff at offset 8") as raised:
        if source == "file":
            read_query(None, str(file), io.BytesIO())
        elif source == "stdin":
            read_query("-", None, io.BytesIO(data))
        else:
            read_query(os.fsdecode(data), None, io.BytesIO())  # how Python hands over such an argv
    assert "\n" not in str(raised.value)


@pytest.mark.parametrize(("argument", "file"), [(None, None), ("SELECT 1", "q.sql")])
def test_query_comes_one_way(argument, file):
    with pytest.raises(ScenetuneError, match="give the query one way"):
        read_query(argument, file, io.BytesIO())


def test_missing_query_file(tmp_path):
    with pytest.raises(ScenetuneError, match="cannot read query file .*No such file"):
        read_query(None, str(tmp_path / "nope.sql"), io.BytesIO())


# --- output --------------------------------------------------------------------------------

def test_table_aligns_korean_text(warehouse):
    text = run_sql("SELECT title, artist, tags FROM songs ORDER BY title", max_rows=5).format(width=200)
    lines = text.splitlines()
    table, footer = lines[:-1], lines[-1]
    assert footer == "(3 rows)"
    # Hangul takes two terminal columns: every line of the table is equally wide on screen.
    assert len({cell_len(line) for line in table}) == 1
    assert any("밤편지" in line and "아이유" in line and "[비오는날, 새벽]" in line for line in table)


def test_values_cannot_style_or_drive_the_terminal(warehouse):
    text = run_sql("SELECT '[bold]x[/bold]' AS markup, chr(27) || '[2J' AS escape").format(width=100)
    assert "[bold]x[/bold]" in text
    assert "\x1b" not in text and "\\x1b[2J" in text


def test_export_streams_every_row_in_batches(warehouse):
    out = io.StringIO()
    assert export("SELECT i FROM range(25000) t(i)", None, "csv", out) == 25000  # more than two batches
    lines = out.getvalue().splitlines()
    assert lines[0] == "i" and lines[1] == "0" and lines[-1] == "24999" and len(lines) == 25001


def test_export_json_lines_keeps_korean_and_lists(warehouse):
    out = io.StringIO()
    export("SELECT title, tags FROM songs WHERE artist = $a", {"a": "아이유"}, "json", out)
    assert out.getvalue() == '{"title": "밤편지", "tags": ["비오는날", "새벽"]}\n'
