"""The CLI answers with one clear line, not a traceback."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

CLI = [sys.executable, "-m", "scenetune.cli"]


def run(args, home, **env):
    return subprocess.run(CLI + args, capture_output=True, text=True, env={**os.environ, "SCENETUNE_HOME": str(home), **env})


def test_help_lists_every_subcommand(tmp_path):
    out = run(["--help"], tmp_path).stdout
    for name in ("demo", "crawl", "refresh", "submit", "score", "status", "sql", "versions", "evaluate"):
        assert f"  {name} " in out


def test_sql_before_any_refresh_says_what_to_do(tmp_path):
    done = run(["sql", "select 1"], tmp_path)
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0
    assert "no published warehouse" in done.stderr and "scenetune refresh" in done.stderr


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_unwritable_home_is_one_line(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    done = run(["crawl"], locked / "home")
    assert done.returncode == 2 and "not writable" in done.stderr


def test_home_under_a_file_is_one_line(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    done = run(["crawl"], blocker / "home")
    assert done.returncode == 2
    assert done.stderr.startswith("scenetune: SCENETUNE_HOME=") and "not writable" in done.stderr
    assert "Traceback" not in done.stderr


def test_port_in_use_is_one_line(tmp_path):
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = run(["crawl"], tmp_path / "home", SCENETUNE_DEMO_PORT=str(port), GENIE_BASE_URL="")
    assert done.returncode == 2
    assert f"port {port} on 127.0.0.1 is in use" in done.stderr
    assert "Traceback" not in done.stderr


def test_missing_java_is_one_line(tmp_path):
    done = run(["refresh"], tmp_path / "home", PATH=os.path.dirname(sys.executable))
    assert done.returncode == 2
    assert "Java is missing" in done.stderr and "Traceback" not in done.stderr


def test_refresh_without_tesseract_language_data_fails_before_crawling(tmp_path):
    empty = tmp_path / "tessdata"
    empty.mkdir()
    done = run(["refresh"], tmp_path / "home", TESSDATA_PREFIX=str(empty))
    assert done.returncode == 2 and done.stderr.strip().count("\n") == 0, done.stderr
    assert done.stderr.startswith(f"scenetune: tesseract cannot load eng+kor: no readable eng.traineddata under "
                                  f"TESSDATA_PREFIX={empty}")
    assert not (tmp_path / "home" / "bronze").exists()  # nothing crawled


def test_submit_of_a_missing_folder_is_one_line(tmp_path):
    done = run(["submit", str(tmp_path / "no_such_folder")], tmp_path / "home")
    assert done.returncode == 2 and done.stderr.strip().count("\n") == 0
    assert "is not a folder" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize("make, says", [
    (lambda path: os.mkfifo(path), "not a regular file (a FIFO (named pipe), not a file)"),
    (lambda path: None, "no such file"),
])
def test_submit_with_captions_that_are_not_a_file_is_one_line(tmp_path, make, says):
    folder = tmp_path / "photos"
    folder.mkdir()
    captions = tmp_path / "captions.csv"
    make(captions)
    done = subprocess.run(CLI + ["submit", str(folder), "--captions", str(captions)], capture_output=True, text=True,
                          timeout=60, env={**os.environ, "SCENETUNE_HOME": str(tmp_path / "home")})
    assert done.returncode == 2 and done.stderr.strip().count("\n") == 0, done.stderr
    assert done.stderr.strip() == f"scenetune: --captions {captions}: {says}" + (": give a CSV file" if "regular" in says else "")


def test_result_table_aligns_korean_text():
    from rich.cells import cell_len

    from warehouse.query import Result

    text = Result(["title", "n"], [("밤편지", 1), ("Hey Ya!", 22)]).format(width=80)
    lines = text.splitlines()
    # "밤편지" is three wide characters: six terminal columns, padded like "Hey Ya!" (7 columns)
    assert any("밤편지" in line and " 1 " in line for line in lines)
    assert len({cell_len(line) for line in lines[:-1]}) == 1
    assert lines[-1] == "(2 rows)"


def test_status_names_missing_tesseract_and_its_fix(tmp_path):
    done = run(["status"], tmp_path / "home", PATH=os.path.dirname(sys.executable))
    assert done.returncode == 0, done.stderr
    line = next(l for l in done.stdout.splitlines() if l.startswith("tesseract"))
    assert "tesseract is missing" in line and "apt-get install tesseract-ocr" in line
    assert "not published yet" in done.stdout


def test_status_on_a_ready_machine(tmp_path):
    import shutil

    if shutil.which("tesseract") is None or shutil.which("java") is None:
        pytest.skip("make setup installs java and tesseract")
    out = run(["status"], tmp_path / "home").stdout
    assert "java                    ok" in out
    assert "tesseract (eng, kor)    ok" in out


@pytest.mark.parametrize("env, says", [
    ({"SPARK_MASTER": "bogus"}, "SPARK_MASTER='bogus' is not a Spark master URL"),
    ({"GENIE_BASE_URL": "genie.co.kr"}, "GENIE_BASE_URL='genie.co.kr' is not a site URL"),
    ({"SCENETUNE_DELTA_WRITER": "parquet"}, "SCENETUNE_DELTA_WRITER must be one of delta-rs, delta-spark"),
    ({"SCRAPY_SETTINGS_MODULE": "nope.mod"}, "SCRAPY_SETTINGS_MODULE='nope.mod' cannot be imported"),
    ({"SCENETUNE_DEMO_PORT": "70000"}, "SCENETUNE_DEMO_PORT must be a TCP port"),
])
def test_a_wrong_setting_fails_a_refresh_before_airflow_starts(tmp_path, env, says):
    home = tmp_path / "home"
    done = run(["refresh"], home, **env)
    assert done.returncode == 2
    assert done.stderr.strip() == f"scenetune: {says}" or done.stderr.startswith(f"scenetune: {says}")
    assert done.stderr.strip().count("\n") == 0
    assert not (home / "airflow").exists()  # no DAG run was started


def test_a_busy_demo_port_fails_a_refresh_before_airflow_starts(tmp_path):
    import socket

    home = tmp_path / "home"
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = run(["refresh"], home, SCENETUNE_DEMO_PORT=str(port), GENIE_BASE_URL="")
    assert done.returncode == 2 and f"port {port} on 127.0.0.1 is in use" in done.stderr
    assert not (home / "airflow").exists()


def test_crawl_checks_its_base_url_like_the_setting(tmp_path):
    done = run(["crawl", "--base-url", "genie.co.kr"], tmp_path / "home")
    assert done.returncode == 2
    assert done.stderr.strip() == "scenetune: --base-url='genie.co.kr' is not a site URL: use e.g. https://www.genie.co.kr"
