"""What a crawl that did not finish tells its user: `scenetune crawl` exits non-zero with one line,
and a URL that is not a Genie site gets the recorded reason (HTTP 404, refused, DNS, no ids).

Real crawls: the CLI in a subprocess (`python -m scenetune.cli crawl`) with SCENETUNE_HOME set, and
crawlers.run.crawl against servers on 127.0.0.1 started by the test.
"""

from __future__ import annotations

import http.server
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from core.errors import NotRetryable
from core.runs import RunPartition
from crawlers.run import CrawlIncomplete, crawl
from demo_site.faults import FaultPlan
from demo_site.server import DemoSite
from schemas import bronze
from warehouse import delta

pytestmark = pytest.mark.timeout(240)

REPO = Path(__file__).resolve().parents[2]
RUN_KEY = "20261116T000000Z"
FAST = {"HTTPCACHE_ENABLED": False, "DOWNLOAD_TIMEOUT": 1.5, "RETRY_TIMES": 1}


def scenetune_crawl(home: Path, base_url: str, run_key: str = RUN_KEY) -> subprocess.CompletedProcess:
    env = {**os.environ, "SCENETUNE_HOME": str(home)}
    return subprocess.run([sys.executable, "-m", "scenetune.cli", "crawl", "--base-url", base_url, "--run-key", run_key],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=200, check=False)


def crawl_runs_row(run_key: str = RUN_KEY) -> dict:
    (row,) = delta.read(bronze.CRAWL_RUNS, filters=[("run_key", "=", run_key)]).to_pylist()
    return row


def test_cli_exits_non_zero_with_one_line_when_the_crawl_stops_early(home):
    # A site that is down behind its listing: every detail page answers 500, the default
    # budget (100 in a row) stops the crawl long before its 1,040 ids are asked for.
    down = FaultPlan(rate=1.0, seed=7, weights={"persistent_500": 1.0})
    with DemoSite(seed=7, scale="demo", faults=down) as site:
        done = scenetune_crawl(home, site.base_url)
        base_url = site.base_url
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    row = crawl_runs_row()
    assert row["status"] == "partial" and 0 < row["not_fetched"] < row["requested"]
    assert lines[0] == (
        f"scenetune: crawl {RUN_KEY} of {base_url} stopped early (failure_budget: 100 detail pages in a row "
        f"failed, last: HTTP 500 after 2 retries); {row['not_fetched']:,} playlists not fetched will be retried "
        f"by the next run (`scenetune crawl`), or redo this run with `scenetune crawl --run-key {RUN_KEY}` "
        "(add --jobdir DIR to make a run resumable)"
    )
    assert done.stdout == ""  # no stats printed as if it had worked


def test_cli_on_a_url_that_is_not_genie_prints_the_reason(home):
    with DemoSite(seed=7, scale="tiny") as site:
        url = site.base_url + "/not-genie"  # every page under it answers 404
        done = scenetune_crawl(home, url)
    assert done.returncode != 0
    (line,) = done.stderr.strip().splitlines()
    assert line == (f"scenetune: crawl {RUN_KEY} of {url} failed: newest listing {url}/playlist/popular?sortOrd=RDD: "
                    "HTTP 404; is it a Genie site? (bronze.crawl_failures / crawl_quarantine rows of kind listing)")
    assert "page(s) failed" not in line


class _NotGenie(http.server.BaseHTTPRequestHandler):
    """Some other web site: every page is 200 HTML without a playlist in it."""

    def do_GET(self) -> None:
        body = b"<!DOCTYPE html><html><body><h1>Welcome to my blog</h1></body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=UTF-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def not_genie():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _NotGenie)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _refused_url() -> str:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


@pytest.mark.parametrize(
    ("site", "reason", "retry_may_help"),
    [
        ("refused", "connection refused after 1 retries", True),  # an outage, maybe over by the retry
        ("dns", "DNS lookup failed", True),
        ("not_genie", "newest listing shows no playlist ids (HTTP 200)", False),  # a wrong URL: fail at once
    ],
)
def test_a_site_that_is_not_genie_gets_the_recorded_reason(home, not_genie, site, reason, retry_may_help):
    url = {"refused": _refused_url(), "dns": "http://scenetune-test.invalid", "not_genie": not_genie}[site]
    with pytest.raises(CrawlIncomplete) as failed:
        crawl(RunPartition.parse(RUN_KEY), url, timeout_s=120, extra_settings=FAST)
    assert isinstance(failed.value, NotRetryable) is not retry_may_help
    message = str(failed.value)
    row = crawl_runs_row()
    assert row["status"] == "failed" and row["requested"] == 0
    assert row["stop_reason"].startswith(f"newest listing {url}/playlist/popular?sortOrd=RDD: ")
    assert reason in row["stop_reason"] and row["stop_reason"] in message
    assert message.startswith(f"crawl {RUN_KEY} of {url} failed: ") and "\n" not in message
    assert "page(s) failed" not in message
