"""Catalogue versions end to end on real Delta tables, Great Expectations and DuckDB files (no Spark):
gate → publish records a version; a failing gate rejects it and quarantines rows; rollback; a killed publish."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from html.parser import HTMLParser

import duckdb
import pyarrow as pa
import pytest

from core import settings
from core.errors import ScenetuneError
from quality.checks import QualityGateFailed, gate
from tests.integration import catalogue_rows
from warehouse import versions
from warehouse.publish import publish, rollback

FIRST, SECOND, THIRD = "20261101T000000Z", "20261108T000000Z", "20261115T000000Z"
REPO = settings.REPO_ROOT


def refresh(run_key: str, **kwargs) -> dict[str, int]:
    pinned = catalogue_rows.write(run_key, catalogue_rows.catalogue(run_key, **kwargs))
    gate(run_key, pinned)
    publish(run_key, pinned)
    return pinned


def contents() -> dict[str, list]:
    """Every table of the published file, rows sorted (the file's bytes differ between builds)."""
    con = duckdb.connect(str(settings.load().duckdb_path), read_only=True)
    try:
        names = [r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() ORDER BY 1").fetchall()]
        return {n: sorted(map(repr, con.execute(f'SELECT * FROM "{n}"').fetchall())) for n in names}
    finally:
        con.close()


def digest() -> str:
    return hashlib.sha256(settings.load().duckdb_path.read_bytes()).hexdigest()


def test_the_same_refresh_twice_gives_one_version_and_the_same_contents(home):
    pinned = refresh(FIRST)
    first = contents()
    [row] = versions.all_versions()
    assert row["version"] == 1 and row["status"] == "published" and row["quality_passed"]
    assert row["table_versions"] == pinned and row["row_counts"]["gold.songs"] == 4
    assert row["source"] == "http://127.0.0.1:8765" and row["crawl_runs"] == [FIRST]
    assert row["data_docs"].endswith(f"data_docs/{FIRST}/summary.html") and row["code_version"]
    gate(FIRST, pinned)
    publish(FIRST, pinned)
    assert versions.all_versions() == [row]
    assert contents() == first
    assert first["catalogue_versions"] and first["songs"]


def write_bad_songs(run_key: str) -> dict[str, int]:
    """A catalogue whose gold.songs has a duplicated song key and a song in no playlist, written."""
    bad = catalogue_rows.catalogue(run_key, songs=6)
    songs = bad["gold.songs"]
    songs = pa.concat_tables([songs, songs.slice(0, 1)])
    counts = songs.column("playlist_count").to_pylist()
    counts[2] = 0
    bad["gold.songs"] = songs.set_column(songs.schema.get_field_index("playlist_count"), "playlist_count",
                                         pa.array(counts, pa.int64()))
    return catalogue_rows.write(run_key, bad)


def test_a_failing_gate_publishes_nothing_rejects_the_version_and_quarantines_the_rows(home):
    refresh(FIRST)
    live = digest()
    pinned = write_bad_songs(SECOND)
    with pytest.raises(QualityGateFailed) as failed:
        gate(SECOND, pinned)
    message = str(failed.value)
    assert "catalogue version 2 rejected" in message and "3 row(s) quarantined" in message
    assert "gold.songs v1: key (song_key) not unique" in message and "playlist_count: a song in no playlist" in message

    assert digest() == live  # nothing was published
    rejected = versions.get(2)
    assert rejected["status"] == "rejected" and not rejected["quality_passed"]
    assert any("key (song_key) not unique" in f for f in rejected["quality_failures"])
    assert os.path.exists(rejected["data_docs"])
    assert versions.live()["version"] == 1
    rows = versions.quarantined(SECOND).to_pylist()
    assert sorted((r["expectation"], r["row_key"]) for r in rows) == [
        ("key (song_key) not unique", '{"song_key": "artist0|song0"}'),
        ("key (song_key) not unique", '{"song_key": "artist0|song0"}'),
        ("playlist_count: a song in no playlist", '{"song_key": "artist2|song2"}')]
    assert {r["table_name"] for r in rows} == {"gold.songs"} and {r["version"] for r in rows} == {2}
    assert len({r["row_number"] for r in rows}) == 3  # where each is in the version as read
    assert all('"title": "song' in r["evidence"] for r in rows)

    # Fixed and run again: the same run keeps number 2, now published, and its quarantine is emptied.
    refresh(SECOND, songs=6)
    assert [(r["version"], r["status"]) for r in versions.all_versions()] == [(1, "published"), (2, "published")]
    assert versions.quarantined(SECOND).num_rows == 0


def test_a_table_shrinking_past_the_bound_is_rejected(home, monkeypatch):
    refresh(FIRST, songs=10)
    monkeypatch.setenv("SCENETUNE_QUALITY_MAX_ROW_DROP", "0.3")
    pinned = catalogue_rows.write(SECOND, catalogue_rows.catalogue(SECOND, songs=6))
    with pytest.raises(QualityGateFailed, match=r"gold.songs v1: rows: more than 30% fewer than the last "
                                                 r"published version \(10, SCENETUNE_QUALITY_MAX_ROW_DROP\): observed 6"):
        gate(SECOND, pinned)
    # A crawl that found no songs: the cause comes first, before the tables that shrank with it (the DAG
    # shows the first line of the error, cut short).
    empty = catalogue_rows.catalogue(THIRD, songs=6)
    empty["gold.songs"] = empty["gold.songs"].slice(0, 0)
    with pytest.raises(QualityGateFailed) as failed:
        gate(THIRD, catalogue_rows.write(THIRD, empty))
    assert str(failed.value).startswith(f"quality gate failed for run {THIRD}: gold.songs v2: no songs: the crawl "
                                        "produced nothing to publish: observed 0, rows: more than 30% fewer")


def test_rollback_publishes_the_old_contents_as_one_more_version(home):
    refresh(FIRST, songs=4)
    old = contents()
    refresh(SECOND, songs=6)
    history = versions.all_versions()
    published = rollback(1)
    assert published.catalogue_version == 3
    now = contents()
    assert {n: v for n, v in now.items() if n != "catalogue_versions"} == {
        n: v for n, v in old.items() if n != "catalogue_versions"}
    rows = versions.all_versions()
    assert rows[:2] == history  # history is never rewritten
    assert (rows[2]["status"], rows[2]["rolled_back_to"], rows[2]["table_versions"]) == (
        "rolled back", 1, history[0]["table_versions"])
    assert versions.live()["version"] == 3
    with pytest.raises(ScenetuneError, match="no catalogue version 9"):
        rollback(9)


KILLED_PUBLISH = """
import sys
from warehouse.publish import publish
import json
publish(sys.argv[1], json.loads(sys.argv[2]))
"""


def test_a_publish_killed_midway_leaves_the_previous_version_live(home):
    refresh(FIRST)
    live, before = digest(), contents()
    big = catalogue_rows.write(SECOND, catalogue_rows.catalogue(SECOND, songs=3000, playlists=300))
    gate(SECOND, big)
    final = settings.load().duckdb_path
    env = {**os.environ, "SCENETUNE_HOME": str(home), "PYTHONPATH": str(REPO)}
    import json

    proc = subprocess.Popen([sys.executable, "-c", KILLED_PUBLISH, SECOND, json.dumps(big)], env=env, cwd=REPO)
    deadline = time.monotonic() + 120
    while not list(final.parent.glob(f".{final.name}.*.tmp")) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    assert proc.poll() is None, "publish ended before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert digest() == live and contents() == before
    assert versions.live()["version"] == 1 and [r["version"] for r in versions.all_versions()] == [1]
    # The next publish clears what the killed one left, and goes live.
    publish(SECOND, big)
    assert not list(final.parent.glob(f".{final.name}.*.tmp*"))
    assert versions.live()["version"] == 2


class _VisibleText(HTMLParser):
    """The text a page shows: what is outside <head>, <script>, <style>, <noscript> and <template>."""

    HIDDEN = {"head", "script", "style", "noscript", "template"}

    def __init__(self):
        super().__init__()
        self.hidden, self.parts = 0, []

    def handle_starttag(self, tag, attrs):
        self.hidden += tag in self.HIDDEN

    def handle_endtag(self, tag):
        self.hidden -= tag in self.HIDDEN

    def handle_data(self, data):
        if not self.hidden:
            self.parts.append(data)


# No network for Chromium: every proxied request goes to a closed port, every name resolves to nothing.
OFFLINE = ["--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>", "--host-resolver-rules=MAP * ~NOTFOUND"]
EXTERNAL = re.compile(r"""(?:src|href|action)\s*=\s*["']?\s*(?:https?:)?//|url\(\s*["']?\s*(?:https?:)?//|@import""", re.I)


def test_the_data_docs_render_offline(home, tmp_path):
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("chromium is installed by scripts/setup.sh")
    passing = refresh(FIRST)
    with pytest.raises(QualityGateFailed):
        gate(SECOND, write_bad_songs(SECOND))
    flags = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync", *OFFLINE,
             f"--user-data-dir={tmp_path / 'chromium'}", "--hide-scrollbars", "--window-size=1280,900"]

    def shown(page: str) -> str:
        """The page's text as Chromium shows it offline (the DOM after load, without scripts and styles)."""
        source = open(page, encoding="utf-8").read()
        assert not EXTERNAL.search(source) and "<script" not in source.lower(), "the page needs the network"
        dom = subprocess.run([*flags, "--dump-dom", f"file://{page}"], capture_output=True, text=True, timeout=120)
        assert dom.returncode == 0, dom.stderr
        text = _VisibleText()
        text.feed(dom.stdout)
        return " ".join(" ".join(text.parts).split())

    def verdicts(text: str) -> dict[str, str]:
        return dict(re.findall(r"(\S+) v\d+: \d+ rows, (passed|failed)", text))

    rejected = versions.get(2)["data_docs"]
    text = shown(rejected)
    assert f"Quality gate of run {SECOND}: rejected" in text and "Nothing from this run is published" in text
    for failure in versions.get(2)["quality_failures"]:
        assert failure in text
    assert "gold.songs v1: 7 rows, failed" in text
    assert verdicts(text) == {name: "failed" if name == "gold.songs" else "passed" for name in versions.get(2)[
        "table_versions"]}
    assert "key (song_key) not unique failed 2 row(s), e.g. ['artist0|song0', 'artist0|song0']" in text
    assert "playlist_count: a song in no playlist failed 1 row(s)" in text
    assert "key (tag) not unique passed" in text  # gold.tags held
    # GX's own site is beside it, linked.
    assert 'href="index.html"' in open(rejected, encoding="utf-8").read()
    assert os.path.exists(os.path.join(os.path.dirname(rejected), "index.html"))

    text = shown(versions.get(1)["data_docs"])
    assert f"Quality gate of run {FIRST}: passed" in text and "Every table passed every check" in text
    assert verdicts(text) == dict.fromkeys(passing, "passed")
    assert "key (song_key) not unique passed 0 row(s)" in text

    shot = tmp_path / "data_docs.png"
    subprocess.run([*flags, f"--screenshot={shot}", f"file://{rejected}"], capture_output=True, timeout=120,
                   check=True)
    from PIL import Image

    with Image.open(shot) as picture:
        assert picture.size == (1280, 900)
        assert len(picture.convert("RGB").getcolors(maxcolors=1 << 20) or []) > 20  # drawn, not a blank page


def cli(home, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "scenetune.cli", *args], capture_output=True, text=True, cwd=REPO,
                          env={**os.environ, "SCENETUNE_HOME": str(home)})


def test_versions_diff_sql_version_and_rollback_from_the_cli(home, tmp_path):
    from deltalake import write_deltalake

    from warehouse.query import run_sql

    refresh(FIRST, songs=4)
    refresh(SECOND, songs=6, tag="드라이브")
    listed = cli(home, "versions")
    assert listed.returncode == 0, listed.stderr
    assert "2 (live)" in listed.stdout and listed.stdout.count("published") == 2

    diff = cli(home, "versions", "diff", "1", "2")
    assert diff.returncode == 0, diff.stderr
    assert "songs: +2 -0" in diff.stdout and "tag map: 2 tag(s) relabelled" in diff.stdout
    assert "드라이브: None -> 드라이브" in diff.stdout

    # Version 1 stays queryable through the Delta versions it pinned, with the same views.
    assert run_sql("SELECT count(*), count(embedding) FROM songs", version=1).rows == [(4, 4)]
    assert run_sql("SELECT count(*) FROM songs").rows == [(6,)]
    assert run_sql("SELECT DISTINCT tag FROM songs_by_tag", version=1).rows == [("비오는날",)]
    assert run_sql("SELECT max(version) FROM catalogue_versions", version=1).rows == [(2,)]
    pinned = cli(home, "sql", "--version", "1", "--json", "SELECT song_key FROM songs ORDER BY 1 LIMIT 1")
    assert pinned.returncode == 0 and pinned.stdout == '{"song_key": "artist0|song0"}\n', pinned.stderr

    # The lockdown holds: the delta extension's functions and SQL-as-text are refused, files outside unreadable.
    outside = tmp_path / "outside"
    write_deltalake(str(outside), pa.table({"secret": ["s3cret"]}))
    for query, says in [
        (f"SELECT * FROM delta_scan('{outside}')", "refused: delta_scan() with --version"),
        (f"SELECT * FROM query('SELECT * FROM delta_scan(''{outside}'')')", "refused: query() with --version"),
        (f"SELECT * FROM read_parquet('{outside}/*.parquet')", "refused: read_parquet() with --version"),
        ("COPY songs TO 'x.csv'", "refused: COPY statement"),
    ]:
        with pytest.raises(ScenetuneError, match=re.escape(says)):
            run_sql(query, version=1)
    # What an allow-list still lets through works.
    assert run_sql("SELECT count(*) FROM range(3)", version=1).rows == [(3,)]
    assert run_sql("SELECT count(*) > 0 FROM duckdb_views() WHERE view_name = 'songs'", version=1).rows == [(True,)]
    refused = cli(home, "sql", "--version", "9", "SELECT 1")
    assert refused.returncode == 2 and refused.stderr == (
        "scenetune: there is no catalogue version 9: `scenetune versions` lists them\n")

    rolled = cli(home, "rollback", "1")
    assert rolled.returncode == 0, rolled.stderr
    assert "catalogue version 3 is live: version 1 rolled back (4 songs)" in rolled.stdout
    assert run_sql("SELECT count(*) FROM songs").rows == [(4,)]
    assert run_sql("SELECT version, status, rolled_back_to FROM live_version").rows == [(3, "rolled back", 1)]


def delta_extension_functions() -> list[tuple[str, str]]:
    """(name, type) of every function the delta extension adds, read from duckdb_functions() around its LOAD."""
    from warehouse import features

    con = duckdb.connect(config={"autoinstall_known_extensions": False, "autoload_known_extensions": False})
    listed = "SELECT DISTINCT function_name, function_type FROM duckdb_functions()"
    before = set(con.execute(listed).fetchall())
    con.execute(f"LOAD '{features.extension_path('delta')}'")
    added = sorted(set(con.execute(listed).fetchall()) - before)
    con.close()
    return added


def test_sql_version_refuses_every_function_of_the_delta_extension(home, tmp_path):
    from deltalake import write_deltalake

    from warehouse.query import run_sql

    refresh(FIRST, songs=4)
    outside = tmp_path / "outside"
    write_deltalake(str(outside), pa.table({"secret": ["s3cret"]}))
    added = delta_extension_functions()
    assert {"delta_scan", "delta_list_files", "delta_domain_metadata"} <= {name for name, _ in added}
    for name, kind in added:
        call = f"{name}('{outside}')"
        query = f"SELECT * FROM {call}" if kind in ("table", "table_macro") else f"SELECT {call}"
        for wrapped in (query, f"SELECT * FROM (SELECT 1) s, LATERAL ({query})",
                        f"WITH t AS ({query}) SELECT count(*) FROM t"):
            with pytest.raises(ScenetuneError, match=rf"^refused: {re.escape(name)}\(\)"):
                run_sql(wrapped, version=1)


def _ipc(data: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, data.schema) as writer:
        writer.write_table(data)
    return sink.getvalue().to_pybytes()


def test_retention_keeps_every_kept_version_byte_identical(home):
    from schemas import TABLES
    from warehouse import delta, maintenance

    for run_key, songs in ((FIRST, 4), (SECOND, 5), (THIRD, 6)):
        refresh(run_key, songs=songs)
    pins = {r["version"]: r["table_versions"] for r in versions.all_versions()}
    before = {(number, name): _ipc(delta.read(TABLES[name], version=v))
              for number in (2, 3) for name, v in pins[number].items()}
    done = maintenance.apply(keep=2, min_age_hours=0)
    assert done.kept_versions == [2, 3] and done.dropped_versions == [1]
    assert done.deleted_files["gold.songs"] >= 1
    after = {(number, name): _ipc(delta.read(TABLES[name], version=v))
             for number in (2, 3) for name, v in pins[number].items()}
    assert after == before
    assert not delta.readable(TABLES["gold.songs"], pins[1]["gold.songs"])
    # Run again: nothing more to delete.
    assert sum(maintenance.apply(keep=2, min_age_hours=0).deleted_files.values()) == 0
    with pytest.raises(ScenetuneError, match="catalogue version 1 can no longer be read"):
        rollback(1)
    assert rollback(2).rows["songs"] == 5


def test_scoring_results_are_published_with_the_live_catalogue(home):
    from schemas import scoring
    from warehouse import delta
    from warehouse.publish import publish_scoring_results
    from warehouse.query import run_sql

    with pytest.raises(ScenetuneError, match="no catalogue version is live yet"):
        publish_scoring_results("20261102T000000Z")
    refresh(FIRST)
    assert "image_uploads" not in contents()
    catalogue = contents()
    for table in (scoring.IMAGE_UPLOADS, scoring.IMAGE_TAGS, scoring.RECOMMENDATIONS):
        delta.overwrite(table, catalogue_rows._rows(table, 2, "20261102T000000Z"))
    published = publish_scoring_results("20261102T000000Z")
    assert published.catalogue_version == 1 and len(versions.all_versions()) == 1
    assert {n: published.rows[n] for n in ("image_uploads", "image_tags", "recommendations")} == {
        "image_uploads": 2, "image_tags": 2, "recommendations": 2}
    now = contents()
    assert {n: v for n, v in now.items() if n in catalogue} == catalogue
    assert run_sql("SELECT count(*) FROM recommendations").rows == [(2,)]
