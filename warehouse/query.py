"""Read-only SQL over the published DuckDB warehouse (``scenetune sql``, ``demo``, ``status``).

Security model: a query may read the warehouse and nothing else, and can change nothing.
Two locks; either alone stops most probes, the two together stop every one we know of:

1. The connection. The DuckDB file is opened read-only; DuckDB may touch files only in
   ``allowed_directories`` (the Delta folder, where the views over ``delta_scan`` planned
   for a later issue will read; DuckDB itself adds the database file, its ``.wal`` and its
   spill folder ``<file>.tmp/``); ``enable_external_access = false`` refuses every other
   file, ATTACH, INSTALL and LOAD; ``lock_configuration = true`` so no SET can undo this.
2. The statement. DuckDB would still write where it may read (COPY TO the Delta folder
   or to the warehouse's ``.wal``), so only one read statement runs: SELECT (in DuckDB
   this also covers SHOW, DESCRIBE, SUMMARIZE, VALUES, FROM-first queries and the PRAGMAs
   that return a table, e.g. ``PRAGMA show_tables``) or EXPLAIN of such a SELECT (EXPLAIN
   ANALYZE runs what it explains). Everything else (COPY, ATTACH, SET, PRAGMA, CALL,
   CREATE, EXPORT, ...) is refused by its type.

Results stream: the table view fetches ``max_rows + 1`` rows, exports fetch in batches.
Named parameters (``$tag``) are bound by DuckDB, never pasted into the SQL.
Every failure is a one-line :class:`ScenetuneError`.
"""

from __future__ import annotations

import contextlib
import csv
import functools
import io
import json
import os
import re
import shutil
import sys
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, TextIO

from core import settings
from core.errors import ScenetuneError

if TYPE_CHECKING:
    import duckdb
    import pyarrow

DEFAULT_MAX_ROWS = 50
EXPORT_FORMATS = ("json", "csv")
EXPORT_BATCH_ROWS = 10_000
_UNFOLDED_WIDTH = 10_000  # columns of a table not printed to a terminal
READ_QUERIES = "SELECT, SHOW, DESCRIBE, SUMMARIZE, EXPLAIN SELECT"
_PARAM_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
# Control characters except newline and tab: shown escaped so a value cannot drive the terminal.
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


# --- where the query comes from -----------------------------------------------------------

def read_query(argument: str | None, file: str | None, stdin: BinaryIO) -> str:
    """The query text from exactly one source: the argument, ``-`` (stdin) or ``-f FILE``."""
    if (argument is None) == (file is None):
        raise ScenetuneError("give the query one way: as an argument, with -f FILE, or `-` to read it from stdin")
    if file is not None:
        try:
            data = Path(file).read_bytes()
        except OSError as exc:
            raise ScenetuneError(f"cannot read query file {file}: {exc.strerror}") from None
        return _utf8(data, f"query file {file}")
    if argument == "-":
        return _utf8(stdin.read(), "query on stdin")
    # fsencode gives back the bytes Python could not decode from the command line.
    return _utf8(os.fsencode(argument), "query argument")


def parse_params(pairs: Sequence[str]) -> dict[str, str]:
    """``["tag=비오는날"]`` -> ``{"tag": "비오는날"}``, bound to ``$tag`` as text."""
    params: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not _PARAM_NAME.match(name):
            raise ScenetuneError(f"--param {pair!r}: expected NAME=VALUE, NAME a letter or _ then letters, digits or _")
        if name in params:
            raise ScenetuneError(f"--param {name} is given twice")
        params[name] = _utf8(os.fsencode(value), f"--param {name}")
    return params


def _utf8(data: bytes, source: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ScenetuneError(
            f"{source} is not UTF-8 text: byte 0x{data[exc.start]:02x} at offset {exc.start}"
        ) from None


# --- the locked connection and the statement check ----------------------------------------

@contextlib.contextmanager
def open_warehouse(version: int | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection to the published file that can read the warehouse and nothing else; given a
    catalogue ``version``, one over the Delta versions it pinned (:func:`open_version`)."""
    import duckdb

    if version is not None:
        with open_version(version) as con:
            yield con
        return
    s = settings.load()
    if not s.duckdb_path.exists():
        raise ScenetuneError(f"no published warehouse at {s.duckdb_path}: run `scenetune refresh` (or `make demo`) first")
    try:
        con = duckdb.connect(
            str(s.duckdb_path), read_only=True,
            config={"autoinstall_known_extensions": False, "autoload_known_extensions": False},
        )
    except duckdb.Error as exc:
        raise ScenetuneError(f"cannot open the warehouse {s.duckdb_path}: {_first_line(exc)}") from None
    try:
        # allowed_directories can only be set once the database runs, and only before the lock.
        con.execute("SET allowed_directories = $dirs", {"dirs": [str(s.delta_dir)]})
        con.execute("SET enable_external_access = false")
        con.execute("SET lock_configuration = true")
        yield con
    finally:
        con.close()


@contextlib.contextmanager
def open_version(number: int) -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory database whose tables are views over the Delta versions catalogue version ``number``
    pinned (``delta_scan(path, version => v)``), locked down like the published file.

    delta_scan reads a table's log through the Delta kernel, not DuckDB's file system, so the
    ``allowed_directories`` check does not cover the log (the data files it lists are still checked).
    A query may therefore call only allow-listed table functions and none of the extension's
    (:func:`_refuse_file_readers`); only the views made here read Delta.
    """
    import duckdb

    from schemas import ops
    from warehouse import delta, features
    from warehouse import versions as catalogue_versions
    from warehouse.publish import PUBLISHED

    s = settings.load()
    row = catalogue_versions.get(number)
    if row["status"] == catalogue_versions.REJECTED:
        raise ScenetuneError(f"catalogue version {number} was rejected by its quality gate: nothing to query "
                             "(`scenetune versions` lists the published ones)")
    con = duckdb.connect(":memory:", config={"autoinstall_known_extensions": False,
                                             "autoload_known_extensions": False})
    try:
        con.execute(f"LOAD '{_literal(str(features.extension_path('delta')))}'")
        con.execute("CREATE SCHEMA pinned")
        for name, table in PUBLISHED.items():
            pinned = row["table_versions"].get(table.qualified_name)
            if pinned is None:
                continue
            if not delta.readable(table, pinned):
                raise ScenetuneError(f"catalogue version {number} can no longer be read ({table.qualified_name} "
                                     f"v{pinned} was vacuumed: retention keeps SCENETUNE_KEEP_VERSIONS versions)")
            con.execute(f'CREATE VIEW pinned."{name}" AS SELECT * FROM '
                        f"delta_scan('{_literal(str(table.path))}', version => {int(pinned)})")
        for table in (ops.CATALOGUE_VERSIONS, ops.QUARANTINE):  # the record as it is now
            if delta.exists(table):
                con.execute(f'CREATE VIEW pinned."{table.name}" AS SELECT * FROM '
                            f"delta_scan('{_literal(str(table.path))}')")
        features.create(con, pinned="pinned")
        con.execute("SET allowed_directories = $dirs", {"dirs": [str(s.delta_dir)]})
        con.execute("SET enable_external_access = false")
        con.execute("SET lock_configuration = true")
    except duckdb.Error as exc:
        con.close()
        raise ScenetuneError(f"cannot open catalogue version {number}: {_first_line(exc)}") from None
    except BaseException:
        con.close()
        raise
    try:
        yield con
    finally:
        con.close()


def _literal(text: str) -> str:
    return text.replace("'", "''")


# With --version the delta extension is loaded, and its functions read Delta logs (and list files) through the
# Delta kernel, outside DuckDB's file checks. So a query there may call only these table functions (an
# allow-list: whatever a later extension adds stays refused) and none of the extension's other functions;
# query/query_table (SQL given as text) are not listed. Only the views open_version makes read Delta.
_ALLOWED_TABLE_FUNCTIONS = frozenset({
    "range", "generate_series", "unnest", "json_each", "json_tree",
    "duckdb_columns", "duckdb_constraints", "duckdb_databases", "duckdb_dependencies", "duckdb_functions",
    "duckdb_indexes", "duckdb_keywords", "duckdb_schemas", "duckdb_sequences", "duckdb_tables", "duckdb_types",
    "duckdb_views", "pragma_table_info", "pragma_show", "pragma_version", "pragma_platform",
})


def _called(node, node_type: str) -> Iterator[str]:
    """The names of the functions a parsed statement calls: ``TABLE_FUNCTION`` (FROM) or ``FUNCTION`` nodes."""
    if isinstance(node, dict):
        if node_type == "TABLE_FUNCTION" and node.get("type") == "TABLE_FUNCTION":
            yield str((node.get("function") or {}).get("function_name", "")).lower()
        elif node_type == "FUNCTION" and node.get("class") == "FUNCTION":
            yield str(node.get("function_name", "")).lower()
        for value in node.values():
            yield from _called(value, node_type)
    elif isinstance(node, list):
        for value in node:
            yield from _called(value, node_type)


@functools.lru_cache(maxsize=1)
def delta_extension_functions() -> frozenset[str]:
    """Every function the delta extension registers (whatever its type): those on a connection after LOAD
    that a bare connection lacks."""
    import duckdb

    from warehouse import features

    con = duckdb.connect(":memory:", config={"autoinstall_known_extensions": False,
                                             "autoload_known_extensions": False})
    try:
        listed = "SELECT DISTINCT lower(function_name) FROM duckdb_functions()"
        before = {r[0] for r in con.execute(listed).fetchall()}
        con.execute(f"LOAD '{_literal(str(features.extension_path('delta')))}'")
        return frozenset(r[0] for r in con.execute(listed).fetchall()) - before
    finally:
        con.close()


def _refuse_file_readers(con: duckdb.DuckDBPyConnection, sql: str) -> None:
    found = json.loads(con.execute("SELECT json_serialize_sql($q)", {"q": sql}).fetchone()[0])
    if found.get("error"):
        raise ScenetuneError(f"refused with --version: {found.get('error_message', 'the query cannot be checked')}"
                             " (use SELECT over the catalogue's tables)")
    table_functions = sorted(set(_called(found, "TABLE_FUNCTION")) - _ALLOWED_TABLE_FUNCTIONS)
    if table_functions:
        raise ScenetuneError(f"refused: {table_functions[0]}() with --version: query the catalogue's tables (views "
                             "over the pinned Delta versions); table functions allowed: "
                             f"{', '.join(sorted(_ALLOWED_TABLE_FUNCTIONS))}")
    delta_functions = sorted(set(_called(found, "FUNCTION")) & delta_extension_functions())
    if delta_functions:
        raise ScenetuneError(f"refused: {delta_functions[0]}() belongs to the delta extension, which only the "
                             "catalogue's views may use")


def _read_statement(con: duckdb.DuckDBPyConnection, query: str) -> duckdb.Statement:
    """The query's one statement, if it only reads; else a one-line refusal."""
    statements = con.extract_statements(query)  # on the locked connection: IMPORT reads files while parsing
    if not statements:
        raise ScenetuneError("empty query: nothing to run (only whitespace or comments)")
    for statement in statements:
        kind = _type_name(statement)
        if kind == "EXPLAIN":
            explained = _explained_type(con, statement.query)
            if explained != "SELECT":
                raise ScenetuneError(f"refused: EXPLAIN of a {explained} statement (EXPLAIN ANALYZE runs it): "
                                     f"`scenetune sql` runs only read queries ({READ_QUERIES})")
        elif kind != "SELECT":
            raise ScenetuneError(f"refused: {kind} statement: `scenetune sql` runs only read queries ({READ_QUERIES})")
    if len(statements) > 1:
        raise ScenetuneError(f"one statement at a time: the query holds {len(statements)}")
    if _is_pinned(con):
        _refuse_file_readers(con, statements[0].query)
    return statements[0]


def _is_pinned(con: duckdb.DuckDBPyConnection) -> bool:
    return bool(con.execute("SELECT count(*) FROM duckdb_schemas() WHERE schema_name = 'pinned'").fetchone()[0])


def _type_name(statement: duckdb.Statement) -> str:
    name = statement.type.name
    return name if name.isalpha() else "UNKNOWN"  # DuckDB names a few types "???"


def _explained_type(con: duckdb.DuckDBPyConnection, explain: str) -> str:
    """The type of the statement an EXPLAIN explains.

    EXPLAIN's options come in many spellings (``ANALYZE``, ``(ANALYZE false)``, ``("analyze")``),
    so rather than parse them: the explained statement is the longest tail of the text,
    starting at a token after EXPLAIN, that DuckDB parses as one statement.
    """
    import duckdb

    text = explain.encode("utf-8")  # token positions are byte offsets
    for start, _ in duckdb.tokenize(explain)[1:]:
        try:
            inner = con.extract_statements(text[start:].decode("utf-8"))
        except duckdb.Error:
            continue
        return _type_name(inner[0]) if len(inner) == 1 else "UNKNOWN"
    return "UNKNOWN"


def _check_params(statement: duckdb.Statement, params: Mapping[str, object]) -> None:
    wanted = statement.named_parameters
    if any(name.isdigit() for name in wanted):
        raise ScenetuneError("positional parameters ($1, ?) are not supported: name them ($tag) and give --param tag=VALUE")
    missing, unused = sorted(wanted - params.keys()), sorted(params.keys() - wanted)
    if missing:
        raise ScenetuneError(f"the query uses ${missing[0]}: give --param {missing[0]}=VALUE")
    if unused:
        raise ScenetuneError(f"--param {unused[0]} is not used: the query has no ${unused[0]}")


def _sql_error(exc: Exception) -> ScenetuneError:
    line = _first_line(exc)
    if line.startswith("Permission Error"):
        return ScenetuneError(f"refused: {line} (`scenetune sql` reads only the warehouse)")
    return ScenetuneError(f"SQL error: {line}")


def _first_line(exc: Exception) -> str:
    lines = str(exc).strip().splitlines() or [type(exc).__name__]
    hint = next((line for line in lines[1:] if line.startswith("Did you mean")), None)
    return f"{lines[0]} {hint}" if hint else lines[0]


class _Running:
    """The connections with a query running now, so a timeout or Ctrl-C can interrupt them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._connections: set[duckdb.DuckDBPyConnection] = set()
        self.ctrl_c = threading.Event()

    @contextlib.contextmanager
    def holding(self, con: duckdb.DuckDBPyConnection) -> Iterator[None]:
        with self._lock:
            self._connections.add(con)
            if self.ctrl_c.is_set():  # Ctrl-C came before this query started
                self._connections.discard(con)
                raise KeyboardInterrupt
        try:
            yield
        except BaseException:
            con.interrupt()  # a query still running would hold up the connection's close
            raise
        finally:
            with self._lock:
                self._connections.discard(con)

    def interrupt(self) -> None:
        with self._lock:
            for con in self._connections:
                con.interrupt()


_RUNNING = _Running()


def interrupt_running() -> None:
    """Ctrl-C: stop every running query (called from another thread: see core.process.on_ctrl_c)."""
    _RUNNING.ctrl_c.set()
    _RUNNING.interrupt()


@contextlib.contextmanager
def _time_limit(con: duckdb.DuckDBPyConnection, timeout_s: float | None) -> Iterator[threading.Event]:
    """Interrupt ``con``'s query after ``timeout_s`` seconds (None: the setting; 0: never); the event says it did."""
    limit = settings.load().sql_timeout_s if timeout_s is None else timeout_s
    if limit < 0:
        raise ScenetuneError(f"--timeout must be 0 (no limit) or more seconds, got {limit:g}")
    expired = threading.Event()

    def expire() -> None:
        expired.set()
        con.interrupt()

    timer = threading.Timer(limit, expire) if limit else None
    if timer:
        timer.daemon = True
        timer.start()
    try:
        yield expired
    finally:
        if timer:
            timer.cancel()


@contextlib.contextmanager
def _stream(con: duckdb.DuckDBPyConnection, query: str, params: Mapping[str, object] | None,
            batch_rows: int, timeout_s: float | None = None) -> Iterator[tuple[list[str], Iterator[list[tuple]]]]:
    """The column names and the rows in batches, each computed when it is read; the query is
    interrupted after ``timeout_s`` or by :func:`interrupt_running`, as a one-line error.

    Arrow record batches rather than ``fetchmany``: DuckDB 1.5.5 turns an error raised
    mid-stream in ``fetchmany`` into "Attempting to execute an unsuccessful or closed pending
    query result" and prints the real one to stdout (duckdb/duckdb#18106); the Arrow reader
    raises it, as an OSError, and prints nothing.
    """
    import duckdb

    with _RUNNING.holding(con), _time_limit(con, timeout_s) as expired:
        def stopped(exc: Exception) -> Exception:
            # DuckDB's own SIGINT check turns Ctrl-C into RuntimeError("Query interrupted"), at times before
            # interrupt_running has heard of it.
            if _RUNNING.ctrl_c.is_set() or (isinstance(exc, RuntimeError) and "interrupted" in str(exc).lower()
                                            and not expired.is_set()):
                return KeyboardInterrupt()
            if isinstance(exc, RuntimeError) and not expired.is_set():
                return exc
            if expired.is_set():
                limit = settings.load().sql_timeout_s if timeout_s is None else timeout_s
                return ScenetuneError(f"the query ran longer than {limit:g} s and was stopped: raise --timeout "
                                      "(or SCENETUNE_SQL_TIMEOUT_S; 0 means no limit)")
            return _sql_error(exc)

        try:
            statement = _read_statement(con, query)
            _check_params(statement, params or {})
            reader = con.execute(statement, dict(params or {})).to_arrow_reader(batch_rows)
        except duckdb.Error as exc:
            raise stopped(exc) from None
        except RuntimeError as exc:
            raise stopped(exc) from None
        with reader:
            yield reader.schema.names, _row_batches(reader, stopped)


def _row_batches(reader: pyarrow.RecordBatchReader,
                 stopped: Callable[[Exception], Exception]) -> Iterator[list[tuple]]:
    while True:
        try:
            batch = reader.read_next_batch()
        except StopIteration:
            return
        except (OSError, RuntimeError) as exc:  # how pyarrow hands over DuckDB's error
            raise stopped(exc) from None
        yield list(zip(*(column.to_pylist() for column in batch.columns)))


# --- results ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Result:
    """The first rows of a query's answer; ``more_rows``: the query has rows not fetched."""

    columns: list[str]
    rows: list[tuple]
    more_rows: bool = False

    def footer(self) -> str:
        if self.more_rows:
            return f"{len(self.rows)} rows shown, more not fetched"
        return f"({len(self.rows)} row{'' if len(self.rows) == 1 else 's'})"

    def format(self, width: int | None = None) -> str:
        """The rows as a table (rich: Hangul and other wide characters align), then the footer."""
        from rich import box
        from rich.console import Console
        from rich.table import Table
        from rich.text import Text

        table = Table(box=box.ROUNDED)
        for i, name in enumerate(self.columns):
            numeric = all(_is_number(row[i]) for row in self.rows if row[i] is not None)
            # fold, not "…": a narrow terminal wraps a value rather than hiding part of it
            table.add_column(Text(_cell_text(name)), justify="right" if numeric and self.rows else "left",
                             overflow="fold")
        for row in self.rows:
            table.add_row(*(Text(_cell_text(v)) for v in row))
        if width is None:
            # A terminal folds the table to its width; a pipe or file gets it whole.
            width = shutil.get_terminal_size().columns if sys.stdout.isatty() else _UNFOLDED_WIDTH
        out = io.StringIO()
        console = Console(file=out, width=width, color_system=None, markup=False, emoji=False, highlight=False)
        console.print(table)
        console.print(Text(self.footer()))
        return out.getvalue().rstrip("\n")


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)


def _cell_text(value: object) -> str:
    """A value as DuckDB prints it: NULL, true, [a, b], {k: v}; control characters escaped."""
    if value is None:
        text = "NULL"
    elif isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, (list, tuple)):
        text = "[" + ", ".join(_cell_text(v) for v in value) + "]"
    elif isinstance(value, dict):
        text = "{" + ", ".join(f"{_cell_text(k)}: {_cell_text(v)}" for k, v in value.items()) + "}"
    else:
        text = str(value)
    return _CONTROL_CHARS.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def run_sql(query: str, params: Mapping[str, object] | None = None, max_rows: int = DEFAULT_MAX_ROWS,
            version: int | None = None, timeout_s: float | None = None) -> Result:
    """Run one read query; fetch at most ``max_rows`` rows (one more, to know whether more exist).
    ``version``: over the Delta versions that catalogue version pinned, not the published file;
    ``timeout_s``: stop the query after that long (None: ``SCENETUNE_SQL_TIMEOUT_S``; 0: no limit)."""
    if max_rows < 1:
        raise ScenetuneError(f"--max-rows must be at least 1, got {max_rows}")
    with open_warehouse(version) as con, _stream(con, query, params, max_rows + 1, timeout_s) as (columns, batches):
        rows: list[tuple] = []
        for batch in batches:
            rows.extend(batch)
            if len(rows) > max_rows:
                break
    return Result(columns, rows[:max_rows], more_rows=len(rows) > max_rows)


def export(query: str, params: Mapping[str, object] | None, output_format: str, out: TextIO,
           version: int | None = None, timeout_s: float | None = None) -> int:
    """Write every row to ``out`` as JSON lines or CSV (with a header), fetched in batches; the row count."""
    if output_format not in EXPORT_FORMATS:
        raise ScenetuneError(f"unknown export format {output_format!r}: use {' or '.join(EXPORT_FORMATS)}")
    count = 0
    with open_warehouse(version) as con, _stream(con, query, params, EXPORT_BATCH_ROWS, timeout_s) as (columns, batches):
        write_row = _row_writer(output_format, columns, out)
        for batch in batches:
            for row in batch:
                write_row(row)
            count += len(batch)
    return count


def _row_writer(output_format: str, columns: list[str], out: TextIO) -> Callable[[tuple], object]:
    if output_format == "json":
        return lambda row: out.write(json.dumps(dict(zip(columns, row)), ensure_ascii=False, default=str) + "\n")
    writer = csv.writer(out)
    writer.writerow(columns)
    # Text as it is; NULL as an empty field; lists and structs as DuckDB prints them.
    return lambda row: writer.writerow(["" if v is None else v if isinstance(v, str) else _cell_text(v) for v in row])
