"""The demo site: a local HTTP server on 127.0.0.1 serving Genie-shaped pages from a Catalogue.

    with DemoSite(seed=7, scale="tiny", faults=FaultPlan.default(7)) as site:
        requests.get(site.base_url + "/playlist/detailView?plmSeq=1")

A ThreadingHTTPServer (daemon threads, HTTP/1.1 keep-alive) serves concurrent crawlers
concurrently; ``latency_ms`` adds a simulated network round trip to every response.
``set_revision(n)`` switches the content live; ``request_log`` records (method, path, status).
"""

from __future__ import annotations

import json
import re
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from core import files
from demo_site import catalogue as catalogue_mod
from demo_site import pages
from demo_site.covers import MAX_RESIZE, CoverStore
from demo_site.faults import CONTENT_FAULTS, COVER_FAULTS, FaultCounter, FaultPlan

COVER_RE = re.compile(r"^/Y/IMAGE/Playlist/Channel/GENIE/PLAYLIST_(\d{14})\.JPG(?:/dims/resize/Q_(\d+),(\d+))?$")
ALBUM_RE = re.compile(r"^/Y/IMAGE/IMG_ALBUM/\d{3}/\d{3}/\d{3}/(\d+)_\d+_(\d+)x(\d+)\.JPG$")


class RequestLog:
    """Thread-safe record of served requests: (method, path with query, status)."""

    def __init__(self) -> None:
        self._entries: list[tuple[str, str, int]] = []
        self._lock = threading.Lock()

    def append(self, method: str, path: str, status: int) -> None:
        with self._lock:
            self._entries.append((method, path, status))

    def entries(self) -> list[tuple[str, str, int]]:
        with self._lock:
            return list(self._entries)

    def __iter__(self) -> Iterator[tuple[str, str, int]]:
        return iter(self.entries())

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def count(self, prefix: str = "", status: int | None = None, method: str | None = None) -> int:
        return sum(1 for m, p, s in self.entries()
                   if p.startswith(prefix) and (status is None or s == status) and (method is None or m == method))

    def paths(self, prefix: str = "") -> list[str]:
        return [p for _m, p, _s in self.entries() if p.startswith(prefix)]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def __init__(self, addr: tuple[str, int], handler: type, site: DemoSite):
        self.site = site
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__(addr, handler)

    def process_request(self, request, client_address):  # type: ignore[override]
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request):  # type: ignore[override]
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def close_open_connections(self) -> None:
        with self._open_lock:
            open_now = list(self._open)
        for sock in open_now:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # http.server sends headers and body in two writes; with Nagle on, the body waits for
    # the client's delayed ACK (~40 ms a response), a stall no real web server has.
    disable_nagle_algorithm = True
    server_version = "Apache"
    sys_version = ""
    timeout = 30  # idle keep-alive connections end after this many seconds
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    # ---- plumbing
    def _send(self, status: int, body: bytes | str, content_type: str = "text/html; charset=UTF-8",
              headers: dict[str, str] | None = None) -> None:
        data = body.encode("utf-8") if isinstance(body, str) else body
        site = self.server.site
        if site.latency_ms > 0:
            site._sleep(site.latency_ms / 1000.0)
        # Logged before the answer goes out: a client that has its answer finds it in the log.
        site.request_log.append(self.command, self.path, status)
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", "no-cache")
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)
        except (TimeoutError, BrokenPipeError, ConnectionResetError, OSError):
            self.close_connection = True

    def do_HEAD(self) -> None:
        self.do_GET()

    def do_GET(self) -> None:
        self._route({})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode("utf-8", "replace") if length else ""
        form = {k: v[-1] for k, v in parse_qs(raw, keep_blank_values=True).items()}
        self._route(form)

    # ---- routing
    def _route(self, form: dict[str, str]) -> None:
        site = self.server.site
        host = site.host_port
        parts = urlsplit(self.path)
        path = parts.path
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        cat = site.catalogue
        try:
            if path == "/robots.txt":
                return self._send(200, pages.ROBOTS_TXT, "text/plain; charset=UTF-8")
            if path == "/playlist/detailView":
                return self._playlist(cat, "detail", query.get("plmSeq", ""), query)
            if path == "/playlist/mainSongList":
                return self._playlist(cat, "mainSongList", query.get("plmSeq", ""), query)
            if path == "/playlist/allSongList":
                seq = form.get("plmSeq") or query.get("plmSeq", "")
                return self._playlist(cat, "allSongList", seq, query)
            if path == "/playlist/popular":
                newest = query.get("sortOrd", "").upper() == "RDD"
                return self._send(200, pages.popular_page(host, cat, newest, _page_number(query)))
            if path == "/playlist/tags":
                if query.get("tags"):
                    return self._send(200, pages.tag_results_page(host, cat, query["tags"], _page_number(query)))
                return self._send(200, pages.tag_index_page(host, cat))
            m = COVER_RE.match(path)
            if m:
                return self._cover(cat, m.group(1), m.group(2), m.group(3))
            m = ALBUM_RE.match(path)
            if m:
                w, h = int(m.group(2)), int(m.group(3))
                if not (1 <= w <= MAX_RESIZE and 1 <= h <= MAX_RESIZE):
                    return self._send(404, pages.error_page(host, 404))
                return self._send(200, site.covers.album_art(m.group(1), w, h), "image/jpeg")
            if path == "/detail/songInfo":
                page = pages.song_info_page(host, cat, query.get("xgnm", ""))
                return self._send(200 if page else 404, page or pages.error_page(host, 404))
            if path.startswith(("/search/", "/member/", "/myMusic/")):
                # Disallowed by robots.txt; served so a crawler that ignores robots shows up in the log.
                return self._send(200, pages.search_page(host, query.get("query", "")))
            if path in ("/", "/index.html"):
                return self._send(302, b"", headers={"Location": "/playlist/popular"})
            return self._send(404, pages.error_page(host, 404))
        except Exception as exc:  # noqa: BLE001 - one bad request must not kill the server
            site.errors.append(f"{self.command} {self.path}: {exc!r}")
            return self._send(500, pages.error_page(host, 500))

    def _playlist(self, cat: catalogue_mod.Catalogue, endpoint: str, raw_seq: str, query: dict[str, str]) -> None:
        site = self.server.site
        host = site.host_port
        seq = int(raw_seq) if raw_seq.isdigit() else -1
        pl = cat.get(seq)
        gone = site.faults.gone_status(seq, pl is not None)
        if gone is not None and gone != 200:  # "no such playlist" said with an HTTP status (404 / 410)
            return self._send(gone, pages.error_page(host, gone))
        fault = site.faults.fault_for(seq) if pl is not None else None
        kind = fault.kind if fault else None
        if fault and kind in ("slow", "timeout"):
            site._sleep(site.faults.delay_for(fault))
        if (fault and kind in ("burst_500", "burst_503", "rate_limit_429")
                and site.fault_counter.hit(endpoint, seq) <= fault.failures):
            if kind == "rate_limit_429":
                return self._send(429, pages.error_page(host, 429), headers={"Retry-After": str(fault.retry_after)})
            status = 500 if kind == "burst_500" else 503
            return self._send(status, pages.error_page(host, status))
        if kind == "persistent_500":
            return self._send(500, pages.error_page(host, 500))
        if endpoint != "detail":
            return self._send(200, pages.song_list_json(host, pl), "application/json; charset=UTF-8")
        if pl is None:
            return self._send(200, pages.not_found_page(host))
        if kind == "redirect" and "ref" not in query:
            return self._send(302, b"", headers={"Location": f"/playlist/detailView?plmSeq={seq}&ref=genie"})
        content_fault = kind if kind in CONTENT_FAULTS else None
        return self._send(200, pages.detail_page(host, pl, content_fault))

    def _cover(self, cat: catalogue_mod.Catalogue, stamp: str, w: str | None, h: str | None) -> None:
        site = self.server.site
        host = site.host_port
        seq = cat.by_cover_stamp.get(stamp)
        pl = cat.get(seq) if seq is not None else None
        if pl is None:
            return self._send(404, pages.error_page(host, 404))
        fault = site.faults.fault_for(pl.plm_seq)
        if fault and fault.kind in COVER_FAULTS:
            if fault.kind == "cover_404":
                return self._send(404, pages.error_page(host, 404))
            return self._send(200, pages.error_page(host, 200), "image/jpeg")  # HTML bytes labelled JPEG
        if w is None:
            return self._send(200, site.covers.cover(pl, cat.get), "image/jpeg")
        width, height = int(w), int(h or w)
        if not (1 <= width <= MAX_RESIZE and 1 <= height <= MAX_RESIZE):
            return self._send(404, pages.error_page(host, 404))
        return self._send(200, site.covers.resized(pl, cat.get, width, height), "image/jpeg")


def _page_number(query: dict[str, str]) -> int:
    raw = query.get("pg", "1")
    return int(raw) if raw.isdigit() and int(raw) >= 1 else 1


class DemoSite:
    """A Genie-shaped site on 127.0.0.1 with deterministic content, planted faults and ground truth."""

    def __init__(self, seed: int = 7, scale: str = "tiny", revision: int = 0, faults: FaultPlan | None = None,
                 host: str = "127.0.0.1", port: int = 0, cache_dir: Path | None = None, latency_ms: float = 0.0):
        self.seed = seed
        self.scale = scale
        self.faults = faults or FaultPlan.none()
        self.host = host
        self.port = port
        self.latency_ms = float(latency_ms)
        self.covers = CoverStore(seed, scale, cache_dir)
        self.request_log = RequestLog()
        self.fault_counter = FaultCounter()
        self.errors: list[str] = []  # unexpected handler exceptions (tests assert it stays empty)
        self._catalogue = catalogue_mod.generate(seed, scale, revision)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    # ---- lifecycle
    def start(self) -> DemoSite:
        if self._server is not None:
            return self
        self._stopping.clear()
        self._server = _Server((self.host, self.port), _Handler, self)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1},
                                        name=f"demo-site-{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # wakes handlers sleeping in slow/timeout faults or latency
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.close_open_connections()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> DemoSite:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _sleep(self, seconds: float) -> None:
        """Sleep that ends early when the site stops."""
        self._stopping.wait(seconds)

    # ---- state
    @property
    def host_port(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("DemoSite is not running; call start() or use it as a context manager")
        return f"http://{self.host_port}"

    @property
    def catalogue(self) -> catalogue_mod.Catalogue:
        return self._catalogue

    @property
    def revision(self) -> int:
        return self._catalogue.revision

    def set_revision(self, revision: int) -> None:
        """Serve ``revision`` from now on (new and changed playlists appear at once)."""
        current = self._catalogue
        if revision >= current.revision:
            self._catalogue = current.at_revision(revision)
        else:
            self._catalogue = catalogue_mod.generate(self.seed, self.scale, revision)

    def reset_fault_state(self) -> None:
        """Forget burst counters, so bursts fail again from their first request."""
        self.fault_counter.reset()

    def ground_truth(self) -> dict[str, Any]:
        return self._catalogue.ground_truth(self.faults)

    def write_ground_truth(self, path: str | Path) -> Path:
        return files.write_text(path, json.dumps(self.ground_truth(), ensure_ascii=False, sort_keys=True))

    def __repr__(self) -> str:
        state = self.base_url if self._server else "stopped"
        return f"DemoSite(seed={self.seed}, scale={self.scale!r}, revision={self.revision}, {state})"
