"""`scenetune sql` as a user runs it: a subprocess with SCENETUNE_HOME set."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from core import settings
from tests.unit.test_sql_guard import SONGS, build_warehouse, songs_in

CLI = [sys.executable, "-m", "scenetune.cli", "sql"]


def sql(home, *args: str, stdin: bytes = b"") -> subprocess.CompletedProcess:
    done = subprocess.run(CLI + list(args), input=stdin, capture_output=True, check=False,
                          env={**os.environ, "SCENETUNE_HOME": str(home)})
    done.stdout_text, done.stderr_text = done.stdout.decode("utf-8"), done.stderr.decode("utf-8")
    return done


def assert_one_line_error(done: subprocess.CompletedProcess, starts: str) -> None:
    assert done.returncode == 2
    assert done.stdout == b""
    assert done.stderr_text.startswith(f"scenetune: {starts}")
    assert done.stderr_text.count("\n") == 1 and "Traceback" not in done.stderr_text


@pytest.fixture
def warehouse(home):
    return build_warehouse()


def test_table_with_korean_text(home, warehouse):
    done = sql(home, "SELECT title, artist, tags FROM songs ORDER BY title")
    assert done.returncode == 0, done.stderr_text
    lines = done.stdout_text.splitlines()
    assert any("밤편지" in line and "아이유" in line and "[비오는날, 새벽]" in line for line in lines)
    assert lines[-1] == "(3 rows)"


def test_max_rows_and_more_not_fetched(home, warehouse):
    done = sql(home, "--max-rows", "2", "SELECT * FROM range(10000000)")
    assert done.returncode == 0, done.stderr_text
    assert done.stdout_text.splitlines()[-1] == "2 rows shown, more not fetched"


def test_query_from_file(home, warehouse, tmp_path):
    file = tmp_path / "top.sql"
    file.write_text("-- songs for rainy days\nSELECT title FROM songs WHERE list_contains(tags, '비오는날');\n",
                    encoding="utf-8")
    done = sql(home, "-f", str(file))
    assert done.returncode == 0, done.stderr_text
    assert "밤편지" in done.stdout_text and "봄날" not in done.stdout_text


def test_query_from_stdin(home, warehouse):
    done = sql(home, "-", stdin=b"SELECT count(*) AS n FROM songs")
    assert done.returncode == 0, done.stderr_text
    assert "│ 3 │" in done.stdout_text


def test_param_is_bound(home, warehouse):
    done = sql(home, "--json", "--param", "tag=비오는날", "SELECT title FROM songs WHERE list_contains(tags, $tag)")
    assert done.returncode == 0, done.stderr_text
    assert [json.loads(line) for line in done.stdout_text.splitlines()] == [{"title": "밤편지"}]


def test_json_lines(home, warehouse):
    done = sql(home, "--json", "SELECT title, artist, tags FROM songs ORDER BY title")
    assert done.returncode == 0, done.stderr_text
    rows = [json.loads(line) for line in done.stdout_text.splitlines()]
    assert rows == sorted(({"title": t, "artist": a, "tags": tags} for t, a, tags in SONGS), key=lambda r: r["title"])
    assert "밤편지" in done.stdout_text  # not \\ubc24 escapes


def test_csv_prints_every_row(home, warehouse):
    done = sql(home, "--format", "csv", "--max-rows", "5", "SELECT i, 'ㄱ' AS k FROM range(12000) t(i)")
    assert done.returncode == 0, done.stderr_text
    rows = list(csv.reader(io.StringIO(done.stdout_text)))
    assert rows[0] == ["i", "k"] and rows[1] == ["0", "ㄱ"] and len(rows) == 12001


@pytest.mark.parametrize("args", [[""], ["   "], ["--", "-- a comment"]])  # after --, a QUERY may start with -
def test_empty_query(home, warehouse, args):
    assert_one_line_error(sql(home, *args), "empty query")


def test_query_file_that_is_not_utf8(home, warehouse, tmp_path):
    file = tmp_path / "latin1.sql"
    file.write_bytes("SELECT 'café'".encode("latin-1"))
    assert_one_line_error(sql(home, "-f", str(file)), f"query file {file} is not UTF-8 text: byte 0xe9")


def test_stdin_that_is_not_utf8(home, warehouse):
    assert_one_line_error(sql(home, "-", stdin="SELECT '밤'".encode("euc-kr")), "query on stdin is not UTF-8 text")


def test_refused_copy_leaves_the_warehouse_whole(home, warehouse):
    done = sql(home, f"COPY (SELECT 'x') TO '{settings.load().duckdb_path}'")
    assert_one_line_error(done, "refused: COPY statement")
    assert len(songs_in(warehouse)) == len(SONGS)


def test_refused_file_read(home, warehouse):
    done = sql(home, "SELECT content FROM read_text('/etc/passwd')")
    assert_one_line_error(done, "refused: Permission Error")
    assert "root:" not in done.stderr_text


def test_bad_param(home, warehouse):
    assert_one_line_error(sql(home, "--param", "tag", "SELECT $tag"), "--param 'tag': expected NAME=VALUE")


def test_syntax_error(home, warehouse):
    assert_one_line_error(sql(home, "SELEC 1"), "SQL error: Parser Error")


def test_missing_warehouse(home):
    assert_one_line_error(sql(home, "SELECT 1"), "no published warehouse at ")


# A query that runs until it is stopped (10^12 rows).
ENDLESS = "SELECT sum(a.range * b.range) FROM range(1000000) a, range(1000000) b"


# Each far more than a pipe holds (64 KiB); the table format renders all its rows before writing any.
@pytest.mark.parametrize(("output_format", "rows"), [("csv", 100000), ("json", 100000), ("table", 20000)])
def test_a_reader_that_closes_the_pipe_ends_it_quietly(home, warehouse, output_format, rows):
    # `scenetune sql ... | head -3`: once head has its lines, scenetune exits 0 and says nothing.
    proc = subprocess.Popen(CLI + ["--format", output_format, "--max-rows", str(rows), "SELECT * FROM range(5000000)"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, "SCENETUNE_HOME": str(home)})
    head = [proc.stdout.readline() for _ in range(3)]
    proc.stdout.close()
    _, stderr = proc.communicate(timeout=120)
    assert all(head) and proc.returncode == 0 and stderr == b"", stderr


def test_ctrl_c_stops_a_running_query_within_seconds(home, warehouse):
    proc = subprocess.Popen(CLI + ["--format", "csv", ENDLESS], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, "SCENETUNE_HOME": str(home)},
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    time.sleep(6)  # started and inside the query (the CLI starts in ~2 s; the query never ends by itself)
    assert proc.poll() is None
    proc.send_signal(signal.SIGINT)
    try:
        _, stderr = proc.communicate(timeout=15)
    finally:
        proc.kill()
    assert proc.returncode == 130 and stderr.decode().strip() == "scenetune: interrupted", stderr


def test_timeout_stops_a_runaway_query(home, warehouse):
    done = sql(home, "--timeout", "1", ENDLESS)
    assert_one_line_error(done, "the query ran longer than 1 s and was stopped: raise --timeout")
    done = subprocess.run(CLI + [ENDLESS], capture_output=True, timeout=120,
                          env={**os.environ, "SCENETUNE_HOME": str(home), "SCENETUNE_SQL_TIMEOUT_S": "1.5"})
    assert done.returncode == 2 and b"longer than 1.5 s" in done.stderr
