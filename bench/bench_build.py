"""Whole catalogue build, bronze → silver and gold, at full scale; and a rebuild with nothing changed.

Bronze comes from one crawl of the full-scale demo site (seed 7, no faults, song pages up to the
default SCENETUNE_CRAWL_MAX_SONG_PAGES), kept in a cached home
(``$SCENETUNE_HOME/cache/bench_build/<scale>-<bronze schema hash>``) and reused by later bench runs
while the bronze schema is the same. Each build runs in its own process, as the Airflow task runs it
(``spark_jobs.build_catalogue.build``, a fresh local Spark session); its wall time is measured inside
the process around the call, and its peak memory as the largest summed RSS of the process tree
(Python driver, Spark's JVM, Python workers), sampled every 0.2 s.

- ours: ``build(run_key, force=True)``: every table recomputed, sentence embeddings from an empty
  ``ops.embedding_cache`` (removed first: every distinct sentence is encoded);
- baseline: the first build's transform (bench/baseline_build.py), same bronze, same session
  settings, its four outputs staged and committed to Delta the same way, in a scratch folder;
- no change: ``build(later run_key)`` with the same bronze and code: the reuse in warehouse.builds.

Pair precision / recall (quality.catalogue_eval) of both builds against the demo site's ground truth,
over rows and over distinct (artist, title) spellings; the tag merges (quality.tag_merge_eval) against
the groups the site planted and, where the project's reference folder is beside the repository
(``../shared/reference`` or SCENETUNE_REFERENCE_DIR), against IMGenie's hand-made map (adjusted Rand
index; the map is read there, never copied in). Writes build.json and refresh_nochange.json.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from bench import runner
from bench.runner import Measurement
from core import settings

DEFAULT_SCALE = "full"
SEED = 7
CRAWL_RUN = "20000102T000000Z"
BUILD_RUN = "20000103T000000Z"
NOCHANGE_RUN = "20000104T000000Z"
CRAWL_TIMEOUT_S = 3600
BUILD_TIMEOUT_S = 1800


def _bronze_schema_hash() -> str:
    """The bronze schema and the demo site's generator version: a change to either crawls again."""
    from demo_site.catalogue import GENERATOR_VERSION
    from schemas import bronze

    text = json.dumps({"tables": {t.qualified_name: t.column_names for t in bronze.TABLES},
                       "generator": GENERATOR_VERSION})
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def cached_home(scale: str) -> Path:
    return settings.load().cache_dir / "bench_build" / f"{scale}-seed{SEED}-{_bronze_schema_hash()}"


def ensure_bronze(scale: str, home: Path) -> dict:
    """Crawl the demo site into ``home`` once; later runs reuse it. Returns the crawl's stats."""
    done = home / "bronze_ready.json"
    if done.exists():
        return json.loads(done.read_text())
    env = {**os.environ, "SCENETUNE_HOME": str(home)}
    code = (
        "import json, sys\n"
        "from core import settings\n"
        "from core.runs import RunPartition\n"
        "from crawlers.run import crawl\n"
        "from demo_site.server import DemoSite\n"
        f"with DemoSite(seed={SEED}, scale={scale!r}, faults=None, cache_dir=sys.argv[1]) as site:\n"
        f"    crawled = crawl(RunPartition.parse({CRAWL_RUN!r}), site.base_url, timeout_s={CRAWL_TIMEOUT_S})\n"
        "print(json.dumps(crawled.stats))\n"
    )
    started = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code, str(settings.load().demo_site_cache_dir)], env=env,
                         capture_output=True, text=True, timeout=CRAWL_TIMEOUT_S)
    if out.returncode != 0:
        raise RuntimeError(f"bench build: the bronze crawl failed: {out.stderr.strip().splitlines()[-1:]}")
    stats = json.loads(out.stdout.strip().splitlines()[-1])
    stats["crawl_wall_s"] = round(time.perf_counter() - started, 1)
    done.write_text(json.dumps(stats))
    return stats


def _tree_rss(proc) -> int:
    import psutil

    total = 0
    try:
        parent = psutil.Process(proc.pid)
        for p in (parent, *parent.children(recursive=True)):
            try:
                total += p.memory_info().rss
            except psutil.Error:
                pass
    except psutil.Error:
        pass
    return total


def run_child(mode: str, home: Path, run_key: str, module: str = "bench.bench_build") -> dict:
    """Run one child of ``module`` (a build here) in a fresh process; returns its JSON answer plus
    peak_rss_mb of its process tree."""
    env = {**os.environ, "SCENETUNE_HOME": str(home), "PYSPARK_PYTHON": sys.executable,
           "PYSPARK_DRIVER_PYTHON": sys.executable}
    proc = subprocess.Popen([sys.executable, "-m", module, "--child", mode, "--run-key", run_key],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = 0
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not stop.is_set():
            peak = max(peak, _tree_rss(proc))
            stop.wait(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        stdout, stderr = proc.communicate(timeout=BUILD_TIMEOUT_S)
    finally:
        stop.set()
        sampler.join()
    if proc.returncode != 0:
        raise RuntimeError(f"bench build {mode} failed: {stderr.strip().splitlines()[-3:]}")
    answer = json.loads(stdout.strip().splitlines()[-1])
    answer["peak_rss_mb"] = round(peak / 2**20)
    return answer


# --- the child process ---------------------------------------------------------------------------
def _child(mode: str, run_key: str) -> dict:
    import logging

    logging.basicConfig(level=logging.WARNING)
    if mode == "baseline":
        return _baseline_child(run_key)
    import shutil

    from schemas import ops
    from spark_jobs.build_catalogue import build

    if mode == "ours":
        shutil.rmtree(ops.EMBEDDING_CACHE.path, ignore_errors=True)  # embeddings from an empty cache
    started = time.perf_counter()
    versions = build(run_key, force=(mode == "ours"))
    return {"seconds": time.perf_counter() - started, "versions": versions}


def _baseline_child(run_key: str) -> dict:
    """The first build's transform on the same bronze, written the same way (stage Parquet, commit Delta)."""
    import shutil

    import pyarrow.dataset as pads
    from deltalake import write_deltalake

    from bench import baseline_build
    from schemas import bronze
    from spark_jobs.io import read_delta
    from spark_jobs.session import spark_session

    scratch = settings.load().home / "bench_baseline"
    started = time.perf_counter()
    with spark_session("scenetune-bench-baseline") as spark:
        outputs = baseline_build.transform(read_delta(spark, bronze.PLAYLISTS), read_delta(spark, bronze.PLAYLIST_SONGS),
                                           run_key)
        cached = [outputs[name].persist() for name in ("silver.playlists", "silver.playlist_songs")]
        for name, df in outputs.items():
            staged = scratch / "staging" / name
            df.write.mode("overwrite").parquet(str(staged))
            write_deltalake(str(scratch / "delta" / name), pads.dataset(str(staged), format="parquet").to_table(),
                            mode="overwrite", schema_mode="overwrite")
        seconds = time.perf_counter() - started
        for df in cached:
            df.unpersist()
    rows = pads.dataset(str(scratch / "staging" / "silver.playlist_songs"), format="parquet").to_table(
        columns=["plm_seq", "position", "song_key", "artist_name", "song_title"]).to_pylist()
    shutil.rmtree(scratch, ignore_errors=True)
    return {"seconds": seconds, "rows": rows}


# --- the parent -----------------------------------------------------------------------------------
def _scores(rows: list[dict], truth: dict, ground_truth: dict) -> dict:
    from quality.catalogue_eval import classes_by_row, negatives_of, score_catalogue

    out = score_catalogue(rows, truth, classes_by_row(ground_truth), negatives_of(ground_truth))
    return {**out.as_dict(), "songs": len({r["song_key"] for r in rows})}


def _our_rows(home: Path, version: int, table=None, columns=("plm_seq", "position", "song_key", "artist_name",
                                                                  "song_title")) -> list[dict]:
    from warehouse import delta

    old = os.environ.get("SCENETUNE_HOME")
    os.environ["SCENETUNE_HOME"] = str(home)
    try:
        from schemas import gold

        return delta.read(table or gold.SONG_LINEAGE, version=version, columns=columns).to_pylist()
    finally:
        if old is None:
            os.environ.pop("SCENETUNE_HOME", None)
        else:
            os.environ["SCENETUNE_HOME"] = old


def run(scale: str) -> Measurement:
    from demo_site.catalogue import generate
    from quality.catalogue_eval import truth_by_row

    home = cached_home(scale)
    home.mkdir(parents=True, exist_ok=True)
    crawl = ensure_bronze(scale, home)
    ours = run_child("ours", home, BUILD_RUN)
    nochange = run_child("nochange", home, NOCHANGE_RUN)
    if nochange["versions"] != ours["versions"]:
        raise RuntimeError(f"the no-change rebuild did not reuse the build: {nochange['versions']} vs {ours['versions']}")
    baseline = run_child("baseline", home, BUILD_RUN)

    ground_truth = generate(SEED, scale).ground_truth()
    truth = truth_by_row(ground_truth)
    our_scores = _scores(_our_rows(home, ours["versions"]["gold.song_lineage"]), truth, ground_truth)
    base_scores = _scores(baseline.pop("rows"), truth, ground_truth)
    true_songs = len(set(truth.values()))

    nochange_ratio = nochange["seconds"] / ours["seconds"]
    runner.record("refresh_nochange", Measurement(
        metric=f"catalogue rebuild with nothing changed, {scale}-scale bronze (share of the full build)",
        unit="s", value=nochange["seconds"], baseline=ours["seconds"], scale=scale, higher_is_better=False,
        extra={"ratio": round(nochange_ratio, 4), "peak_rss_mb": nochange["peak_rss_mb"]},
        notes=(f"build(run_key) with the same bronze files and code as the full build: warehouse.builds "
               f"finds the earlier build's versions and reuses them (no Spark session). {nochange['seconds']:.2f} s "
               f"vs the full build's {ours['seconds']:.1f} s = {100 * nochange_ratio:.1f}% (goal ≤ 15%); "
               f"ratio here = no-change time / full build time (baseline = the full build)."),
    ))

    merges = _tag_merges(home, ours["versions"], ground_truth)
    extra = {
        "peak_rss_mb": ours["peak_rss_mb"],
        "pair_precision": our_scores["pair_precision"], "pair_recall": our_scores["pair_recall"],
        "form_pair_precision": our_scores["form_pair_precision"], "form_pair_recall": our_scores["form_pair_recall"],
        "songs": our_scores["songs"], "true_songs": true_songs,
        "per_class": our_scores["per_class"], "baseline_per_class": base_scores["per_class"],
        "baseline_peak_rss_mb": baseline["peak_rss_mb"],
        "baseline_pair_precision": base_scores["pair_precision"], "baseline_pair_recall": base_scores["pair_recall"],
        "baseline_form_pair_precision": base_scores["form_pair_precision"],
        "baseline_form_pair_recall": base_scores["form_pair_recall"], "baseline_songs": base_scores["songs"],
        "distinct_sentences": merges["sentences"], "songs_with_vector": merges["songs_with_vector"],
        "tags_merged": merges["merged"], "planted_groups_recovered": merges["planted_recovered"],
        "planted_groups": merges["planted"], "imgenie_map_agreement": merges["imgenie"],
    }
    notes = (
        f"Bronze: {crawl['parsed']:,} playlists, {crawl['items_songs']:,} song rows, {crawl['songs_parsed']:,} song "
        f"pages (bound SCENETUNE_CRAWL_MAX_SONG_PAGES; {crawl['songs_pending']:,} ids left for later runs) from one "
        f"crawl of the {scale}-scale demo site (seed {SEED}, no faults), cached between bench runs. "
        f"Ours: spark_jobs.build_catalogue.build(force=True) in a fresh process, local[*] Spark: "
        f"{ours['seconds']:.1f} s, peak RSS {ours['peak_rss_mb']:,} MB (driver + JVM + workers); "
        f"{our_scores['songs']:,} songs for {true_songs:,} true ones; rows P {our_scores['pair_precision']:.4f} / "
        f"R {our_scores['pair_recall']:.4f}, spellings P {our_scores['form_pair_precision']:.4f} / "
        f"R {our_scores['form_pair_recall']:.4f}. Baseline: the first build's transform (bench/baseline_build.py: "
        f"case/space folding, '(Feat.)' dropped, key on artist|title only), same bronze, written the same way: "
        f"{baseline['seconds']:.1f} s, peak RSS {baseline['peak_rss_mb']:,} MB, {base_scores['songs']:,} songs; rows "
        f"P {base_scores['pair_precision']:.4f} / R {base_scores['pair_recall']:.4f}, spellings "
        f"P {base_scores['form_pair_precision']:.4f} / R {base_scores['form_pair_recall']:.4f}. "
        f"Tag merges: {merges['merged']} tags merged ({merges['merged_list']}); planted groups recovered "
        f"{merges['planted_recovered']}/{len(merges['planted'])}; {merges['imgenie_note']} "
        f"Embeddings from an empty cache: {merges['sentences']:,} distinct sentences for "
        f"{merges['songs_with_vector']:,} songs. "
        f"Ratio = baseline time / ours (ours does more: genres, six tag lists, aliases, lineage, tag co-occurrence "
        f"and merges, sentence embeddings, six more tables)."
    )
    return Measurement(
        metric=f"whole catalogue build bronze → gold, {scale}-scale bronze (embeddings from an empty cache)",
        unit="s", value=ours["seconds"], baseline=baseline["seconds"], scale=scale, higher_is_better=False,
        notes=notes, extra=extra,
    )


def imgenie_map_path() -> Path | None:
    """IMGenie's hand-made merge map in the reference folder SCENETUNE_REFERENCE_DIR names (it is not
    shipped: the merges are learnt, the map is only compared with); None when that is not set."""
    reference = settings.load().reference_dir
    return reference / "imgenie_tag_merge_map.csv" if reference else None


def _tag_merges(home: Path, versions: dict[str, int], ground_truth: dict) -> dict:
    from quality import tag_merge_eval
    from schemas import gold

    tag_map = _our_rows(home, versions["gold.tag_map"], gold.TAG_MAP, gold.TAG_MAP.column_names)
    planted = tag_merge_eval.planted_recovery(tag_map, ground_truth["planted_tag_groups"])
    song_rows = _our_rows(home, versions["gold.song_embeddings"], gold.SONG_EMBEDDINGS, ("has_vector",))
    merged = sorted((r["tag"], r["label"]) for r in tag_map if r["merged"])
    reference = imgenie_map_path()
    if reference is not None and reference.is_file():
        imgenie = tag_merge_eval.agreement(tag_map, tag_merge_eval.read_reference_map(reference))
        imgenie_note = (f"against IMGenie's hand-made map ({imgenie['tags_compared']} tags in both, "
                        f"{imgenie['reference_labels']} labels there, {imgenie['our_labels']} here): adjusted Rand "
                        f"index {imgenie['ari']}, pair precision {imgenie['pair_precision']} / recall "
                        f"{imgenie['pair_recall']}.")
    else:
        imgenie, imgenie_note = None, ("IMGenie's map not compared (set SCENETUNE_REFERENCE_DIR to the folder "
                                       f"holding imgenie_tag_merge_map.csv; {reference} has none)." if reference else
                                       "IMGenie's map not compared (SCENETUNE_REFERENCE_DIR is not set).")
    return {
        "merged": len(merged), "merged_list": ", ".join(f"{t}→{label}" for t, label in merged),
        "planted": planted, "planted_recovered": sum(r["recovered"] for r in planted),
        "imgenie": imgenie, "imgenie_note": imgenie_note,
        "sentences": delta_count(home, gold.SENTENCE_EMBEDDINGS, versions["gold.sentence_embeddings"]),
        "songs_with_vector": sum(r["has_vector"] for r in song_rows),
    }


def delta_count(home: Path, table, version: int) -> int:
    return len(_our_rows(home, version, table, ("run_key",)))


def _main() -> None:
    parser = argparse.ArgumentParser(description="one build of the build bench, in its own process")
    parser.add_argument("--child", choices=("ours", "nochange", "baseline"), required=True)
    parser.add_argument("--run-key", required=True)
    args = parser.parse_args()
    print(json.dumps(_child(args.child, args.run_key), default=str), flush=True)
    sys.stderr.flush()
    # delta-rs's runtime can abort the interpreter at exit ("terminate called without an active exception")
    # after everything is written: leave without the teardown so the answer's exit status stays 0.
    os._exit(0)


if __name__ == "__main__":
    _main()
