"""Whole catalogue build from bronze holding Genie full *and* Melon full; an incremental rebuild after 1 % of
the Melon playlists changed; the Genie-only full build as the baseline, all measured in the same run.

Bronze:

- Genie: bench_build's cached crawl of the full-scale demo site (``bench_build.ensure_bronze``, cached under
  ``$SCENETUNE_HOME/cache/bench_build/<scale>-seed7-<bronze schema hash>``);
- Melon: ``python -m demo_site melon --scale full --seed 7 OUT`` (Kakao Arena's files at the real sizes: ~149k
  playlists, ~708k songs, ~5.3M playlist-song rows; ground truth in OUT/ground_truth.json), imported with
  ``importers.melon.import_melon`` as the crawl's run.

Both are kept in a cached combined home (``$SCENETUNE_HOME/cache/bench_build_melon/<scale>-seed7-<bronze schema
hash>-melon<generator version>``: Genie's bronze tables copied in, the Melon import on top), so a later bench
run starts from bronze. Every run builds in a fresh working copy of that bronze (``.../work``), so the
incremental import never changes the cache.

Measured, each build in its own process as the Airflow task runs it (``spark_jobs.build_catalogue.build``, a
fresh local Spark session), wall time inside the process around the call, peak memory as the largest summed
RSS of the process tree (bench_build.run_child's sampler), the build's own log captured with timestamps and
parsed into stages:

- ours: ``build(run_key, force=True)`` over Genie + Melon, embeddings from an empty ``ops.embedding_cache``;
- incremental: 1 % of the Melon playlists get a song or a tag changed (train.json rewritten in a copy of the
  dataset folder), imported as a new run (only those playlists load), then ``build(new_run_key)`` (not forced;
  the embeddings come from the cache);
- baseline: today's build on the same data could not be run separately (ours *is* today's build), so the
  baseline is the per-row extrapolation of the Genie-only full build measured in this run (bench_build's
  cached home, ``build(force=True)``, empty embedding cache): Genie seconds x combined rows / Genie rows, and
  the same per stage. ``ratio`` here = value / baseline (below 1: faster than linear scaling).

Pair precision / recall (quality.catalogue_eval: overall, per source, across sources) of ours against the Genie
demo site's ground truth (``python -m demo_site ground-truth --faults none``: the crawl had no faults) and the
Melon generator's. Writes build_melon.json; a build that fails or times out (BUILD_TIMEOUT_S) is recorded with
the stage it reached and its error, not raised.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
import threading
import time
import traceback
from datetime import datetime
from pathlib import Path
from typing import Any

from bench import bench_build
from bench.runner import Measurement
from core import settings

DEFAULT_SCALE = "full"
SEED = bench_build.SEED
CRAWL_RUN = bench_build.CRAWL_RUN  # Genie's crawl; the Melon import is the same run, as a refresh imports it
BUILD_RUN = "20000103T000000Z"
INCREMENTAL_RUN = "20000105T000000Z"  # the 1 % change: imported and built as this run
GENERATE_TIMEOUT_S = 3600
IMPORT_TIMEOUT_S = 3600
BUILD_TIMEOUT_S = 3600
SCORE_TIMEOUT_S = 3600
CHANGE_SHARE = 0.01
CHANGE_SEED = 11
CONTENTION_SHARE = 0.05  # other processes' CPU above this share of the cores: the figures were measured sharing them
GOALS = {"total_s": 900, "incremental_s": 120, "peak_rss_mb": 8192, "sentences_per_s": 600}
# What the build writes, in the order it commits (build_catalogue: transform's outputs, then the embeddings).
WRITE_ORDER = ("silver.playlists", "silver.playlist_songs", "gold.songs", "gold.tags", "gold.artist_aliases",
               "gold.song_lineage", "gold.tag_cooccurrence", "gold.tag_map", "gold.sentence_embeddings",
               "gold.song_embeddings")
LINEAGE_COLUMNS = ("source", "plm_seq", "position", "song_id", "song_key", "artist_name", "song_title")


# --- where things are kept ------------------------------------------------------------------------
def _root() -> Path:
    return settings.load().cache_dir / "bench_build_melon"


def _melon_version() -> int:
    from demo_site.melon import GENERATOR_VERSION

    return GENERATOR_VERSION


def _genie_version() -> int:
    from demo_site.catalogue import GENERATOR_VERSION

    return GENERATOR_VERSION


def combined_home(scale: str) -> Path:
    """The cached bronze of Genie + Melon: bench_build's key plus the Melon generator's version."""
    return _root() / f"{scale}-seed{SEED}-{bench_build._bronze_schema_hash()}-melon{_melon_version()}"


def dataset_dir(scale: str) -> Path:
    """The generated Melon dataset (depends on the Melon and the Genie generators, not on the bronze schema)."""
    return _root() / f"melon-{scale}-seed{SEED}-v{_melon_version()}-genie{_genie_version()}"


def encoder_dir() -> Path:
    """One ONNX export of the sentence model for every home of this bench (exported before any timed build)."""
    return _root() / "encoders"


# --- running a child, measured --------------------------------------------------------------------
class _CpuShare:
    """How much of the machine's CPU time processes outside ``proc``'s tree used while it ran (0..1): what
    says whether a measurement shared the cores, rather than a load average that still holds earlier work."""

    EVERY_S = 2.0

    def __init__(self, proc) -> None:
        import psutil

        self.proc, self.psutil = proc, psutil
        self.cores = psutil.cpu_count() or 1
        self.started = self.last = time.monotonic()
        self.busy0 = self._busy()
        self.tree_cpu: dict[int, float] = {}  # pid -> its CPU seconds at the last sample
        self.tree_total = 0.0

    def _busy(self) -> float:
        t = self.psutil.cpu_times()
        return sum(t) - t.idle - getattr(t, "iowait", 0.0)

    def sample(self) -> None:
        if time.monotonic() - self.last < self.EVERY_S:
            return
        self.last = time.monotonic()
        try:
            parent = self.psutil.Process(self.proc.pid)
            procs = (parent, *parent.children(recursive=True))
        except self.psutil.Error:
            return
        for p in procs:
            try:
                times = p.cpu_times()
            except self.psutil.Error:
                continue
            used = times.user + times.system
            self.tree_total += used - self.tree_cpu.get(p.pid, 0.0)
            self.tree_cpu[p.pid] = used

    def other_share(self) -> float:
        elapsed = time.monotonic() - self.started  # the same span as the machine's busy time below
        if elapsed <= 0:
            return 0.0
        busy = self._busy() - self.busy0
        return round(max(0.0, busy - self.tree_total) / (elapsed * self.cores), 3)


JVM_FORK = "jvm_fork"


class _TreeMemory:
    """Peak memory of ``proc``'s process tree: summed RSS (what the goal names; it counts the pages forked
    PySpark workers share with their daemon once per process), summed PSS (each shared page split between its
    sharers: what the tree really holds), and who held what at the RSS peak, by role.

    RSS is read at every sample (/proc/PID/statm: microseconds). PSS is not: reading it walks every page
    table of the process under its memory lock (0.17 s for the build's 5 GB JVM), which sampled every 0.2 s
    took a core's worth of time and slowed the very build it measured. It is read near the RSS peaks only:
    when the tree's RSS is within 5 % of its peak so far, and then at most every PSS_EVERY_S unless the RSS
    grew 5 % past the last reading."""

    PSS_EVERY_S = 10.0
    NEAR_PEAK = 0.95

    def __init__(self, proc) -> None:
        import psutil

        self.proc, self.psutil = proc, psutil
        self.peak_rss = self.peak_pss = 0
        self.at_peak: dict[str, int] = {}
        self.pss_read_at, self.pss_read_rss = float("-inf"), 0

    @staticmethod
    def role(p) -> str:
        cmd = " ".join(p.cmdline())
        if "java" in p.name():
            return "jvm"
        if p.exe().endswith("/java"):
            # The JVM forked to start a process (a Python worker) and has not exec'd it yet: its pages are
            # the JVM's (copy-on-write), its name a JVM thread's ("Executor task launch worker"). Counting it
            # doubled the JVM once in a run's peak.
            return JVM_FORK
        if "pyspark.daemon" in cmd or "pyspark.worker" in cmd:
            return "python_workers"
        return "driver_python" if "--child" in cmd else p.name()

    def _procs(self) -> tuple:
        try:
            parent = self.psutil.Process(self.proc.pid)
            return (parent, *parent.children(recursive=True))
        except self.psutil.Error:
            return ()

    def sample(self) -> None:
        rss = 0
        by_role: dict[str, int] = {}
        counted = []
        for p in self._procs():
            try:
                held = p.memory_info().rss
                role = self.role(p)
            except self.psutil.Error:
                continue
            if role == JVM_FORK:  # (a vfork'd child reads the JVM's own address space: its PSS too)
                continue
            counted.append(p)
            rss += held
            by_role[role] = by_role.get(role, 0) + held
        if rss > self.peak_rss:
            self.peak_rss, self.at_peak = rss, by_role
        now = time.monotonic()
        if rss and rss >= self.NEAR_PEAK * self.peak_rss and (
                now - self.pss_read_at >= self.PSS_EVERY_S or rss > self.pss_read_rss / self.NEAR_PEAK):
            self.pss_read_at, self.pss_read_rss = now, rss
            self.peak_pss = max(self.peak_pss, self._pss(counted))

    def _pss(self, procs: list) -> int:
        total = 0
        for p in procs:
            try:
                info = p.memory_full_info()  # /proc/PID/smaps_rollup
            except self.psutil.Error:
                continue
            total += getattr(info, "pss", info.rss)
        return total

    def summary(self) -> dict:
        mb = 2**20
        return {"peak_rss_mb": round(self.peak_rss / mb), "peak_pss_mb": round(self.peak_pss / mb),
                "rss_at_peak_mb": {role: round(v / mb) for role, v in sorted(self.at_peak.items())}}


def run_measured(cmd: list[str], env: dict[str, str], timeout_s: float, log_dir: Path, name: str) -> dict:
    """Run ``cmd`` as its own process group, stdout/stderr to ``log_dir/name.{out,err}``; wall seconds,
    peak RSS of the process tree (0.2 s samples), exit code, and whether it hit ``timeout_s`` (then the
    group is stopped: SIGINT, SIGTERM, SIGKILL)."""
    from core.process import stop_group

    log_dir.mkdir(parents=True, exist_ok=True)
    out_path, err_path = log_dir / f"{name}.out", log_dir / f"{name}.err"
    started = time.perf_counter()
    with out_path.open("w") as out, err_path.open("w") as err:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=err, start_new_session=True)
        memory = _TreeMemory(proc)
        stop = threading.Event()
        cpu = _CpuShare(proc)

        def sample() -> None:
            while not stop.is_set():
                memory.sample()
                cpu.sample()
                stop.wait(0.2)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        timed_out = False
        try:
            proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            timed_out = True
            stop_group(proc)
        finally:
            stop.set()
            sampler.join()
    stdout = out_path.read_text(errors="replace")
    answer = None
    for line in reversed(stdout.strip().splitlines()):
        if line.startswith("{"):
            try:
                answer = json.loads(line)
            except ValueError:
                pass
            break
    return {"returncode": proc.returncode, "timed_out": timed_out, "wall_s": round(time.perf_counter() - started, 2),
            **memory.summary(), "other_cpu_share": cpu.other_share(), "answer": answer,
            "stdout": str(out_path), "stderr": str(err_path),
            "stderr_tail": err_path.read_text(errors="replace").strip().splitlines()[-25:]}


def _env(home: Path) -> dict[str, str]:
    return {**os.environ, "SCENETUNE_HOME": str(home), "SCENETUNE_ENCODER_DIR": str(encoder_dir()),
            "PYSPARK_PYTHON": sys.executable, "PYSPARK_DRIVER_PYTHON": sys.executable}


def _child_cmd(mode: str, *args: str) -> list[str]:
    return [sys.executable, "-m", "bench.bench_build_melon", "--child", mode, *args]


# --- bronze: the cached combined home -------------------------------------------------------------
def ensure_dataset(scale: str) -> dict:
    """Generate the Melon dataset once (``python -m demo_site melon``); later runs reuse it."""
    folder = dataset_dir(scale)
    done = folder.parent / f"{folder.name}.ready.json"
    if done.exists() and folder.is_dir():
        return json.loads(done.read_text())
    shutil.rmtree(folder, ignore_errors=True)
    ran = run_measured([sys.executable, "-m", "demo_site", "melon", "--scale", scale, "--seed", str(SEED),
                        "--faults", "none", str(folder)], {**os.environ}, GENERATE_TIMEOUT_S, _root() / "logs",
                       f"generate-{scale}")
    if ran["returncode"] != 0:
        raise RuntimeError(f"bench build_melon: generating the Melon dataset failed ({ran['returncode']}, "
                           f"timed out: {ran['timed_out']}): {ran['stderr_tail'][-5:]}")
    head = _truth_head(folder / "ground_truth.json")
    stats = {"generate_wall_s": ran["wall_s"], "generate_peak_rss_mb": ran["peak_rss_mb"],
             "files": {p.name: p.stat().st_size for p in sorted(folder.iterdir())}, "counts": head.get("counts")}
    done.write_text(json.dumps(stats))
    return stats


def _truth_head(path: Path) -> dict:
    """The ground truth's head (generator, counts) without reading its song map."""
    with path.open(encoding="utf-8") as fh:
        text = fh.read(20_000)
    cut = text.find(',"songs":{')
    return json.loads(text[:cut] + "}") if cut > 0 else {}


def ensure_combined(scale: str, genie_home: Path) -> dict:
    """The combined bronze, once: Genie's bronze tables copied from bench_build's home, the Melon dataset
    imported as the crawl's run. Returns what made it (crawl, generation and import figures)."""
    home = combined_home(scale)
    done = home / "bronze_ready.json"
    if done.exists():
        return json.loads(done.read_text())
    crawl = bench_build.ensure_bronze(scale, genie_home)
    generated = ensure_dataset(scale)
    shutil.rmtree(home, ignore_errors=True)
    bronze_dir = Path("warehouse", "delta", "bronze")
    shutil.copytree(genie_home / bronze_dir, home / bronze_dir)
    ran = run_measured(_child_cmd("import", "--dir", str(dataset_dir(scale)), "--run-key", CRAWL_RUN), _env(home),
                       IMPORT_TIMEOUT_S, home / "logs", "import")
    if ran["returncode"] != 0 or not ran["answer"] or "error" in ran["answer"]:
        raise RuntimeError(f"bench build_melon: the Melon import failed: "
                           f"{(ran['answer'] or {}).get('error') or ran['stderr_tail'][-5:]}")
    made = {"genie_crawl": crawl, "melon_generate": generated,
            "melon_import": {**ran["answer"]["stats"], "wall_s": ran["wall_s"], "peak_rss_mb": ran["peak_rss_mb"]}}
    done.write_text(json.dumps(made, default=str))
    return made


def fresh_work_home(scale: str) -> Path:
    """A working copy of the cached combined bronze: the builds and the incremental import write there."""
    work = _root() / "work"
    shutil.rmtree(work, ignore_errors=True)
    bronze_dir = Path("warehouse", "delta", "bronze")
    shutil.copytree(combined_home(scale) / bronze_dir, work / bronze_dir)
    return work


# --- the 1 % change -------------------------------------------------------------------------------
def change_playlists(records: list[dict], count: int, seed: int = CHANGE_SEED) -> list[int]:
    """Change ``count`` playlists of ``records`` in place (deterministic for ``seed``): every other one gets
    its last song replaced by a song another playlist lists (a song the dataset knows), the others one tag
    more (a tag another playlist has). Only playlists with songs are changed. Returns the changed ids."""
    candidates = [i for i, r in enumerate(records) if r.get("songs")]
    if count > len(candidates):
        raise ValueError(f"cannot change {count} playlists: only {len(candidates)} have songs")
    rng = random.Random(seed)
    chosen = sorted(rng.sample(candidates, count))
    song_pool = sorted({s for r in records for s in r.get("songs") or ()})
    tag_pool = sorted({t for r in records for t in r.get("tags") or ()}) or ["bench"]
    for n, i in enumerate(chosen):
        record = records[i]
        if n % 2 == 0 or len(tag_pool) <= len(record.get("tags") or ()):
            songs = list(record["songs"])
            have = set(songs)
            if len(have) >= len(song_pool):
                raise ValueError(f"playlist {record.get('id')} lists every song: nothing to swap in")
            new = rng.choice(song_pool)
            while new in have:
                new = rng.choice(song_pool)
            record["songs"] = [*songs[:-1], new]
        else:
            tags = list(record.get("tags") or ())
            new = rng.choice(tag_pool)
            while new in tags:
                new = rng.choice(tag_pool)
            record["tags"] = [*tags, new]
    return [records[i]["id"] for i in chosen]


def write_changed_dataset(source: Path, out: Path, share: float = CHANGE_SHARE) -> dict:
    """A copy of the dataset folder ``source`` in ``out`` with ``share`` of all its playlists (taken from
    train.json) changed; the other files are hard links (never written). Returns the change's figures."""
    from importers.melon import PLAYLIST_FILES

    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    total = 0
    for name in PLAYLIST_FILES[1:]:
        total += len(json.loads((source / name).read_text(encoding="utf-8")))
    train = json.loads((source / "train.json").read_text(encoding="utf-8"))
    total += len(train)
    count = max(1, round(share * total))
    changed = change_playlists(train, count)
    (out / "train.json").write_text(json.dumps(train, ensure_ascii=False), encoding="utf-8")
    for path in source.iterdir():
        if path.name != "train.json" and path.is_file():
            try:
                os.link(path, out / path.name)
            except OSError:
                shutil.copy2(path, out / path.name)
    return {"playlists": total, "changed": len(changed), "share": round(len(changed) / total, 5)}


# --- the build's log ------------------------------------------------------------------------------
_LINE = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}) (\w+) (\S+) (.*)$")
_IDENTITY = re.compile(r"song identity: (\d+) spellings -> (\d+) songs.*\(([\d.]+) s\)$")
_COOC = re.compile(r"tag co-occurrence: (\d+) tags, (\d+) ordered pairs over (\d+) tagged playlists; "
                   r"(\d+) tags merged \(([\d.]+) s\)$")
_SENTENCES = re.compile(r"sentences: (\d+) encoded now \((\d+) failed; ([\d.]+) s\).*; ([\d.]+) s in all$")
_HEATMAP = re.compile(r"tag co-occurrence heatmap: .* \(([\d.]+) s\)$")
_DELTA = re.compile(r"^(\S+): Delta version (\d+) \((\d+) rows\)$")
_REUSE = re.compile(r"bronze inputs and code unchanged since run")
STARTED, FINISHED = "bench: build started", "bench: build finished"


def _moment(stamp: str) -> float:
    return datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%f").timestamp()


def parse_build_log(lines: list[str]) -> dict:
    """Stage seconds of one build from its log lines (``<iso time>.<ms> LEVEL logger message``).

    Stages: ``read_titles_spellings`` (session, bronze reads, newest playlists, title parsing, the spellings to
    the driver), ``song_identity``, ``silver_rows`` (the row mapping and the song rows' checkpoint),
    ``tag_cooccurrence``, ``gold_songs`` (glossary, song tags, sentences UDF, checkpoint), ``embeddings`` (of
    which ``encode``), ``heatmap``, ``write_<table>`` per Delta commit (a table's lazy work included) and
    ``finish``. Also the figures the lines give and ``reached``: the stage under way when the log ends."""
    events: list[tuple[float, str]] = []
    for line in lines:
        m = _LINE.match(line.rstrip("\n"))
        if m:
            events.append((_moment(m.group(1)), m.group(4)))
    out: dict[str, Any] = {"stages": {}, "tables": {}, "reached": "not started"}
    stages = out["stages"]
    t0 = last = None
    after: dict[str, float] = {}
    for t, message in events:
        if message == STARTED:
            t0 = last = t
            out["reached"] = "reading bronze, parsing titles, spellings to the driver"
        elif t0 is None:
            continue
        elif _REUSE.search(message):
            out["reused"] = True
        elif m := _IDENTITY.search(message):
            seconds = float(m.group(3))
            stages["read_titles_spellings"] = round(t - seconds - t0, 1)
            stages["song_identity"] = seconds
            out.update(spellings=int(m.group(1)), songs=int(m.group(2)))
            after["identity"] = last = t
            out["reached"] = "silver song rows, tag co-occurrence"
        elif m := _COOC.search(message):
            seconds = float(m.group(5))
            stages["silver_rows"] = round(t - seconds - after.get("identity", t0), 1)
            stages["tag_cooccurrence"] = seconds
            out.update(tags=int(m.group(1)), tag_pairs=int(m.group(2)), tagged_playlists=int(m.group(3)),
                       tags_merged=int(m.group(4)))
            after["cooccurrence"] = last = t
            out["reached"] = "gold songs (tags, genres, sentences), then embeddings"
        elif m := _SENTENCES.search(message):
            total = float(m.group(4))
            stages["gold_songs"] = round(t - total - after.get("cooccurrence", t0), 1)
            stages["embeddings"] = total
            stages["encode"] = float(m.group(3))
            out.update(sentences_encoded=int(m.group(1)), sentences_failed=int(m.group(2)))
            last = t
            out["reached"] = "heatmap"
        elif m := _HEATMAP.search(message):
            stages["heatmap"] = float(m.group(1))
            last = t
            out["reached"] = f"writing {WRITE_ORDER[0]}"
        elif m := _DELTA.match(message):
            table = m.group(1)
            stages[f"write_{table}"] = round(t - last, 1)
            out["tables"][table] = {"version": int(m.group(2)), "rows": int(m.group(3))}
            last = t
            later = WRITE_ORDER[WRITE_ORDER.index(table) + 1:] if table in WRITE_ORDER else ()
            out["reached"] = f"writing {later[0]}" if later else "finishing (staging removed, build recorded)"
        elif message == FINISHED:
            stages["finish"] = round(t - last, 1)
            out["reached"] = "finished"
            out["total_s"] = round(t - t0, 1)
    writes = [v for k, v in stages.items() if k.startswith("write_")]
    if writes:
        out["writes_s"] = round(sum(writes), 1)
    if t0 is not None and events:
        out["logged_s"] = round(events[-1][0] - t0, 1)
    return out


def _build_result(ran: dict, log_path: Path) -> dict:
    lines = log_path.read_text(errors="replace").splitlines() if log_path.exists() else []
    parsed = parse_build_log(lines)
    answer = ran["answer"] or {}
    ok = ran["returncode"] == 0 and "seconds" in answer and not ran["timed_out"]
    result = {"ok": ok, "seconds": answer.get("seconds"), "wall_s": ran["wall_s"], "peak_rss_mb": ran["peak_rss_mb"],
              "peak_pss_mb": ran["peak_pss_mb"], "rss_at_peak_mb": ran["rss_at_peak_mb"],
              "other_cpu_share": ran["other_cpu_share"], "versions": answer.get("versions"), "log": str(log_path),
              "stderr": ran["stderr"], **parsed}
    if not ok:
        result["failure"] = ("timeout" if ran["timed_out"] else
                             "exception" if answer.get("error") else f"exit code {ran['returncode']}")
        result["error"] = answer.get("error") or "\n".join(ran["stderr_tail"])
        result["driver_log"] = answer.get("driver_log")
    return result


def run_build(home: Path, run_key: str, name: str, force: bool, empty_cache: bool) -> dict:
    log_dir = home / "bench_logs"
    log_path = log_dir / f"{name}.log"
    args = ["--run-key", run_key, "--log", str(log_path)] + (["--force"] if force else []) + \
        (["--empty-cache"] if empty_cache else [])
    ran = run_measured(_child_cmd("build", *args), _env(home), BUILD_TIMEOUT_S, log_dir, name)
    return _build_result(ran, log_path)


# --- the children -------------------------------------------------------------------------------------
def _child_build(run_key: str, log_path: str, force: bool, empty_cache: bool) -> dict:
    import logging

    handler = logging.FileHandler(log_path, mode="w", encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s.%(msecs)03d %(levelname)s %(name)s %(message)s",
                                           datefmt="%Y-%m-%dT%H:%M:%S"))
    logging.basicConfig(level=logging.INFO, handlers=[handler], force=True)
    for noisy in ("py4j", "urllib3", "filelock"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    log = logging.getLogger("bench.build_melon")
    from schemas import ops
    from spark_jobs.build_catalogue import build

    if empty_cache:
        shutil.rmtree(ops.EMBEDDING_CACHE.path, ignore_errors=True)  # every distinct sentence is encoded
    started = time.perf_counter()
    log.info(STARTED)
    try:
        versions = build(run_key, force=force)
    except BaseException:  # noqa: BLE001 - recorded in the result, with where it failed
        log.exception("bench: build failed")
        from spark_jobs import session

        driver = session.driver_log()
        return {"error": traceback.format_exc(), "seconds_to_failure": time.perf_counter() - started,
                "driver_log": str(driver) if driver else None}
    seconds = time.perf_counter() - started
    log.info(FINISHED)
    return {"seconds": seconds, "versions": versions}


def _child_import(directory: str, run_key: str) -> dict:
    import logging

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    from core.runs import RunPartition
    from importers.melon import import_melon

    started = time.perf_counter()
    try:
        imported = import_melon(Path(directory), RunPartition.parse(run_key))
    except BaseException:  # noqa: BLE001 - recorded in the result
        return {"error": traceback.format_exc()}
    return {"seconds": time.perf_counter() - started, "versions": imported.bronze_versions, "stats": imported.stats}


def _child_encoder() -> dict:
    from spark_jobs.embeddings import onnx_file

    return {"onnx": str(onnx_file())}


def _child_score(genie_truth: str, melon_truth: str, version: int) -> dict:
    """Pair scores of gold.song_lineage at ``version``: overall, per source, across sources; rows streamed
    from Arrow batches (5.5M rows as dicts at once would take several GB)."""
    from quality.catalogue_eval import (
        MelonTruth,
        classes_by_row,
        cross_source_scores,
        load_ground_truth,
        negatives_of,
        score_catalogue,
        truth_by_row,
    )
    from schemas import gold
    from warehouse import delta

    started = time.perf_counter()
    table = delta.read(gold.SONG_LINEAGE, version=version, columns=LINEAGE_COLUMNS)
    genie_doc = load_ground_truth(genie_truth)
    genie = (truth_by_row(genie_doc), classes_by_row(genie_doc), negatives_of(genie_doc))
    true_genie_songs = set(genie[0].values())
    del genie_doc
    melon_doc = load_ground_truth(melon_truth)
    melon = MelonTruth.of(melon_doc)
    del melon_doc

    def rows(source: str | None = None):
        for batch in table.to_batches(max_chunksize=200_000):
            for row in batch.to_pylist():
                if source is None or row["source"] == source:
                    yield row

    overall = score_catalogue(rows(), *genie, melon=melon).as_dict()
    by_source = {}
    for source in sorted(set(table.column("source").unique().to_pylist())):
        scored = score_catalogue(rows(source), *genie, melon=melon).as_dict()
        by_source[source] = {k: v for k, v in scored.items() if k != "per_class"}
    cross = cross_source_scores(rows(), genie[0], melon)
    import pyarrow.compute as pc

    counts = pc.value_counts(table.column("source"))
    return {
        "overall": overall, "by_source": by_source,
        "cross_source": {"pair_precision": round(cross.precision, 5), "pair_recall": round(cross.recall, 5),
                         **cross.as_dict()},
        "songs": pc.count_distinct(table.column("song_key")).as_py(),
        "true_songs": overall["rows"]["true_clusters"],  # the true songs of the rows scored
        "true_songs_all": len(true_genie_songs | set(melon.songs.values())),  # also songs in no playlist
        "rows_by_source": dict(zip(counts.field("values").to_pylist(), counts.field("counts").to_pylist())),
        "seconds": round(time.perf_counter() - started, 1),
    }


# --- the parent -------------------------------------------------------------------------------------
def _genie_truth(scale: str) -> Path:
    path = _root() / f"genie-truth-{scale}-seed{SEED}-v{_genie_version()}-nofaults.json"
    if not path.exists():
        subprocess.run([sys.executable, "-m", "demo_site", "ground-truth", "--scale", scale, "--seed", str(SEED),
                        "--faults", "none", "--out", str(path)], check=True, capture_output=True, text=True,
                       timeout=SCORE_TIMEOUT_S)
    return path


def _rows_of(build: dict, table: str = "silver.playlist_songs") -> int | None:
    found = build.get("tables", {}).get(table)
    return found["rows"] if found else None


def _short(build: dict) -> dict:
    keep = ("ok", "seconds", "wall_s", "peak_rss_mb", "peak_pss_mb", "rss_at_peak_mb", "stages", "writes_s", "reached", "failure", "error",
            "sentences_encoded", "sentences_failed", "spellings", "songs", "tags", "tag_pairs", "tagged_playlists",
            "tags_merged", "log", "driver_log")
    out = {k: build[k] for k in keep if build.get(k) is not None}
    out["rows"] = _rows_of(build)
    out["tables"] = {t: v["rows"] for t, v in build.get("tables", {}).items()}
    return out


def run(scale: str) -> Measurement:
    load_start = os.getloadavg()
    genie_home = bench_build.cached_home(scale)
    genie_home.mkdir(parents=True, exist_ok=True)
    bench_build.ensure_bronze(scale, genie_home)  # the Genie-only build reads it (done once, like bench_build)
    made = ensure_combined(scale, genie_home)
    ran = run_measured(_child_cmd("encoder"), _env(combined_home(scale)), 1800, _root() / "logs", "encoder")
    if ran["returncode"] != 0:
        raise RuntimeError(f"bench build_melon: exporting the sentence model failed: {ran['stderr_tail'][-5:]}")
    work = fresh_work_home(scale)

    genie = run_build(genie_home, BUILD_RUN, "genie_full", force=True, empty_cache=True)
    ours = run_build(work, BUILD_RUN, "combined_full", force=True, empty_cache=True)

    incremental = change = incremental_import = scores = None
    if ours["ok"]:
        change = write_changed_dataset(dataset_dir(scale), work / "melon_changed")
        imp = run_measured(_child_cmd("import", "--dir", str(work / "melon_changed"), "--run-key", INCREMENTAL_RUN),
                           _env(work), IMPORT_TIMEOUT_S, work / "bench_logs", "incremental_import")
        answer = imp["answer"] or {}
        incremental_import = {"ok": imp["returncode"] == 0 and "stats" in answer, "wall_s": imp["wall_s"],
                              "seconds": answer.get("seconds"), "peak_rss_mb": imp["peak_rss_mb"],
                              "error": answer.get("error") or (None if imp["returncode"] == 0
                                                               else "\n".join(imp["stderr_tail"]))}
        if incremental_import["ok"]:
            s = answer["stats"]
            incremental_import.update({k: s[k] for k in ("playlists_loaded", "playlists_unchanged",
                                                         "playlist_songs_loaded", "songs_loaded", "songs_unchanged")})
            incremental = run_build(work, INCREMENTAL_RUN, "incremental", force=False, empty_cache=False)
        shutil.rmtree(work / "melon_changed", ignore_errors=True)
        lineage_version = ours["versions"]["gold.song_lineage"]
        truth = _genie_truth(scale)
        scored = run_measured(_child_cmd("score", "--genie-truth", str(truth), "--melon-truth",
                                         str(dataset_dir(scale) / "ground_truth.json"), "--version",
                                         str(lineage_version)), _env(work), SCORE_TIMEOUT_S, work / "bench_logs",
                              "score")
        scores = scored["answer"] if scored["returncode"] == 0 and scored["answer"] else {
            "error": "\n".join(scored["stderr_tail"]), "computed": False}
        if "error" not in scores:
            scores["computed"] = True
            scores["peak_rss_mb"] = scored["peak_rss_mb"]

    return _measurement(scale, made, genie, ours, incremental, incremental_import, change, scores, load_start)


def _per_stage_extrapolation(genie: dict, factor: float) -> dict:
    return {k: round(v * factor, 1) for k, v in genie.get("stages", {}).items()}


def _measurement(scale: str, made: dict, genie: dict, ours: dict, incremental: dict | None,
                 incremental_import: dict | None, change: dict | None, scores: dict | None,
                 load_start: tuple) -> Measurement:
    genie_rows, our_rows = _rows_of(genie), _rows_of(ours)
    genie_s = genie["seconds"] if genie["ok"] else None
    melon_import = made["melon_import"]
    total_rows = our_rows or (genie_rows or 0) + melon_import.get("playlist_songs_loaded", 0)
    factor = total_rows / genie_rows if genie_rows else None
    baseline = genie_s * factor if genie_s and factor else 0.0
    value = ours["seconds"] if ours["ok"] else (ours.get("logged_s") or ours["wall_s"])
    encoded, encode_s = ours.get("sentences_encoded"), ours.get("stages", {}).get("encode")
    sentences_per_s = round(encoded / encode_s, 1) if encoded and encode_s else None
    distinct_sentences = ours.get("tables", {}).get("gold.sentence_embeddings", {}).get("rows")
    embed_s = ours.get("stages", {}).get("embeddings")
    incremental_s = incremental["seconds"] if incremental and incremental["ok"] else None
    overall = (scores or {}).get("overall", {})
    by_source = (scores or {}).get("by_source", {})
    cross = (scores or {}).get("cross_source", {})

    def goal(name: str, got: float | None, higher: bool = False) -> dict:
        target = GOALS[name]
        met = None if got is None else (got >= target if higher else got <= target)
        return {"goal": target, "got": got, "met": met}

    extra: dict[str, Any] = {
        "status": "ok" if ours["ok"] else ours.get("failure", "failed"),
        "ratio": round(value / baseline, 4) if baseline else None,  # value / baseline, as the issue asks
        # CPU time of processes outside the build's tree, as a share of the 2 cores over the build
        "other_cpu_share": ours.get("other_cpu_share"),
        "incremental_other_cpu_share": (incremental or {}).get("other_cpu_share"),
        "contention": max(ours.get("other_cpu_share") or 0,
                          (incremental or {}).get("other_cpu_share") or 0) > CONTENTION_SHARE,
        "load_average_start": [round(x, 2) for x in load_start],
        "load_average_end": [round(x, 2) for x in os.getloadavg()],
        "peak_rss_mb": ours["peak_rss_mb"],
        "peak_pss_mb": ours.get("peak_pss_mb"),  # shared pages counted once: what the tree really held
        "rss_at_peak_mb": ours.get("rss_at_peak_mb"),  # by role: jvm, driver_python, python_workers
        "rows": our_rows,
        "rows_by_source": (scores or {}).get("rows_by_source"),
        "distinct_sentences": distinct_sentences,
        "sentences_encoded": encoded,
        "sentences_per_s": sentences_per_s,
        "embedding_share": round(embed_s / value, 4) if embed_s and value else None,
        "stages": ours.get("stages", {}),
        "reached": ours.get("reached"),
        "incremental_s": incremental_s,
        "incremental": _short(incremental) if incremental else None,
        "incremental_import": incremental_import,
        "incremental_change": change,
        "genie_full_s": genie_s,
        "genie_rows": genie_rows,
        "genie_peak_rss_mb": genie["peak_rss_mb"],
        "genie_stages": genie.get("stages", {}),
        "genie_distinct_sentences": genie.get("tables", {}).get("gold.sentence_embeddings", {}).get("rows"),
        "genie_sentences_per_s": (round(genie["sentences_encoded"] / genie["stages"]["encode"], 1)
                                  if genie.get("sentences_encoded") and genie.get("stages", {}).get("encode")
                                  else None),
        "baseline_method": "extrapolation: Genie-only full build seconds (measured in this run) x combined rows / "
                           "Genie rows",
        "baseline_scale_factor": round(factor, 3) if factor else None,
        "baseline_stages": _per_stage_extrapolation(genie, factor) if factor else {},
        "build": _short(ours),
        "genie_build": _short(genie),
        "scores_computed": bool(scores and scores.get("computed")),
        "pair_precision": overall.get("pair_precision"), "pair_recall": overall.get("pair_recall"),
        "form_pair_precision": overall.get("form_pair_precision"), "form_pair_recall": overall.get("form_pair_recall"),
        "pair_scores_by_source": {s: {k: v[k] for k in ("pair_precision", "pair_recall", "form_pair_precision",
                                                         "form_pair_recall", "matched_rows", "unmatched_rows")}
                                  for s, v in by_source.items()},
        "cross_source_pair_precision": cross.get("pair_precision"),
        "cross_source_pair_recall": cross.get("pair_recall"),
        "cross_source": cross or None,
        "per_class": overall.get("per_class"),
        "matched_rows": overall.get("matched_rows"), "unmatched_rows": overall.get("unmatched_rows"),
        "songs": (scores or {}).get("songs"), "true_songs": (scores or {}).get("true_songs"),
        "scores_error": (scores or {}).get("error"),
        "goals": {"total_s": goal("total_s", value if ours["ok"] else None),
                  "incremental_s": goal("incremental_s", incremental_s),
                  "peak_rss_mb": goal("peak_rss_mb", ours["peak_rss_mb"]),
                  "sentences_per_s": goal("sentences_per_s", sentences_per_s, higher=True)},
        "bronze": {"genie_crawl": {k: made["genie_crawl"].get(k) for k in ("parsed", "items_songs", "songs_parsed",
                                                                           "crawl_wall_s")},
                   "melon_generate": {k: made["melon_generate"].get(k) for k in ("generate_wall_s",
                                                                                 "generate_peak_rss_mb", "counts")},
                   "melon_import": {k: melon_import.get(k) for k in (
                       "playlists_read", "playlists_loaded", "playlists_quarantined", "playlist_songs_loaded",
                       "song_refs_dropped", "songs_read", "songs_loaded", "songs_quarantined", "duration_s",
                       "wall_s", "peak_rss_mb")}},
    }
    if not ours["ok"]:
        extra["failure"] = {"kind": ours.get("failure"), "reached": ours.get("reached"),
                            "seconds_to_failure": value, "error": ours.get("error"), "log": ours.get("log"),
                            "driver_log": ours.get("driver_log")}
    if not genie["ok"]:
        extra["genie_failure"] = {"kind": genie.get("failure"), "reached": genie.get("reached"),
                                  "error": genie.get("error")}
    stage_text = ", ".join(f"{k} {v:.0f}" for k, v in ours.get("stages", {}).items() if not k.startswith("write_"))
    if ours.get("writes_s") is not None:
        stage_text += f", writes {ours['writes_s']:.0f}"
    status = ("" if ours["ok"] else f"FAILED ({ours.get('failure')}) while {ours.get('reached')} after {value:.0f} s. ")
    notes = (
        f"{status}Bronze: Genie {scale} (bench_build's cached crawl, {made['genie_crawl'].get('items_songs', 0):,} "
        f"song rows) + Melon {scale} (python -m demo_site melon --scale {scale}, imported: "
        f"{melon_import.get('playlists_loaded', 0):,} playlists, {melon_import.get('playlist_songs_loaded', 0):,} song "
        f"rows, {melon_import.get('songs_loaded', 0):,} songs), cached between bench runs. "
        f"Ours: build(force=True) in a fresh process from an empty embedding cache: {value:.0f} s "
        f"(goal ≤ 900 s), peak RSS {ours['peak_rss_mb']:,} MB (goal ≤ 8192), {our_rows or 0:,} rows, "
        f"{distinct_sentences or 0:,} distinct sentences, {sentences_per_s or 0} sentences/s encoded (goal ≥ 600); "
        f"stages (s): {stage_text or 'none logged'}. "
        + (f"Incremental (1% of Melon playlists changed, imported as a new run, build not forced): "
           f"{incremental_s:.0f} s (goal ≤ 120). " if incremental_s is not None else "Incremental: not measured. ")
        + (f"Baseline = Genie-only full build measured in this run ({genie_s:.0f} s, {genie_rows:,} rows) x "
           f"{factor:.1f} (rows ratio): {baseline:.0f} s; ratio here = value / baseline. " if baseline else
           "Baseline: the Genie-only build did not finish. ")
        + (f"Pairs: rows P {overall['pair_precision']:.4f} / R {overall['pair_recall']:.4f}; cross-source P "
           f"{cross['pair_precision']:.4f} / R {cross['pair_recall']:.4f}. " if overall and cross else
           "Pair scores not computed. ")
        + f"2 cores; other processes used {100 * (ours.get('other_cpu_share') or 0):.0f}% of them during the build"
        + (f", {100 * incremental['other_cpu_share']:.0f}% during the incremental one" if incremental else "") + "."
    )
    return Measurement(
        metric=f"whole catalogue build bronze → gold, Genie {scale} + Melon {scale} (embeddings from an empty cache)",
        unit="s", value=value, baseline=baseline, scale=scale, higher_is_better=False, notes=notes, extra=extra)


def _main() -> None:
    parser = argparse.ArgumentParser(description="one child of the build_melon bench, in its own process")
    parser.add_argument("--child", choices=("build", "import", "encoder", "score"), required=True)
    parser.add_argument("--run-key")
    parser.add_argument("--log")
    parser.add_argument("--force", action="store_true")
    parser.add_argument("--empty-cache", action="store_true")
    parser.add_argument("--dir")
    parser.add_argument("--genie-truth")
    parser.add_argument("--melon-truth")
    parser.add_argument("--version", type=int)
    args = parser.parse_args()
    if args.child == "build":
        answer = _child_build(args.run_key, args.log, args.force, args.empty_cache)
    elif args.child == "import":
        answer = _child_import(args.dir, args.run_key)
    elif args.child == "encoder":
        answer = _child_encoder()
    else:
        answer = _child_score(args.genie_truth, args.melon_truth, args.version)
    print(json.dumps(answer, default=str), flush=True)
    from core.process import exit_now

    exit_now(0)  # delta-rs / ONNX Runtime threads can abort the teardown: leave once the answer is out


if __name__ == "__main__":
    _main()
