"""Command line: ``python -m demo_site serve|ground-truth|melon|derive-data``.

    python -m demo_site serve --scale demo --seed 7 --port 8800 [--revision N] [--faults default|none] [--latency-ms X]
        [--gone-below N] [--missing-status 200|404|410]
    python -m demo_site ground-truth --scale tiny --seed 7 --out FILE.json [--revision N] [--faults default|none]
    python -m demo_site melon --scale tiny|demo|full [--seed 7] [--faults none|default] OUT   # Kakao Arena's dataset
    python -m demo_site derive-data --source ../shared/reference   # rewrite demo_site/data from the source reference
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path

from demo_site.catalogue import SCALES
from demo_site.faults import FaultPlan


def _plan(name: str, seed: int, gone_below: int = 0, missing_status: int = 200) -> FaultPlan:
    options = {"gone_below": gone_below, "missing_status": missing_status}
    return FaultPlan.default(seed, **options) if name == "default" else FaultPlan(**options)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m demo_site", description="Genie-shaped local demo site.")
    sub = p.add_subparsers(dest="command", required=True)
    for name in ("serve", "ground-truth"):
        s = sub.add_parser(name)
        s.add_argument("--scale", choices=list(SCALES), default="demo")
        s.add_argument("--seed", type=int, default=7)
        s.add_argument("--revision", type=int, default=0)
        s.add_argument("--faults", choices=("default", "none"), default="default")
        s.add_argument("--gone-below", type=int, default=0,
                       help="ids below N answer HTTP 404 (deleted playlists): the 404-heavy site")
        s.add_argument("--missing-status", type=int, choices=(200, 404, 410), default=200,
                       help="how ids with no playlist answer: 200 (Genie's error page), 404 or 410")
    serve = sub.choices["serve"]
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8800)
    serve.add_argument("--latency-ms", type=float, default=0.0)
    serve.add_argument("--cache-dir", type=Path, default=None,
                       help="where rendered covers are kept (default: the settings' demo_site cache dir)")
    serve.add_argument("--no-cache-dir", action="store_true", help="keep covers in memory only")
    gt = sub.choices["ground-truth"]
    gt.add_argument("--out", type=Path, required=True)
    melon = sub.add_parser("melon", help="write the Melon Playlist Continuation dataset (Kakao Arena's files) "
                                         "made from the demo catalogue, with ground_truth.json beside it")
    melon.add_argument("--scale", choices=("tiny", "demo", "full"), default="tiny")
    melon.add_argument("--seed", type=int, default=7)
    melon.add_argument("--faults", choices=("none", "default"), default="none",
                       help="default: plant a few of each bad-input class (listed in ground_truth.json)")
    melon.add_argument("out", type=Path, help="folder to write train/val/test.json, song_meta.json, genre_gn_all.json")
    derive = sub.add_parser("derive-data", help="rewrite the shipped data files from a source reference folder")
    derive.add_argument("--source", type=Path, required=True)
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "derive-data":
        from demo_site.reference import derive_shipped_data

        for path in derive_shipped_data(args.source):
            print(f"wrote {path} ({path.stat().st_size:,} bytes)")
        return 0
    if args.command == "melon":
        from demo_site.melon import write_dataset

        for w in write_dataset(args.out, seed=args.seed, scale=args.scale, faults=args.faults):
            print(f"wrote {w.path} ({w.records:,} records, {w.size:,} bytes)", flush=True)
        return 0
    plan = _plan(args.faults, args.seed, args.gone_below, args.missing_status)
    if args.command == "ground-truth":
        import json

        from core import files
        from demo_site.catalogue import generate

        gt = generate(args.seed, args.scale, args.revision).ground_truth(plan)
        files.write_text(args.out, json.dumps(gt, ensure_ascii=False, sort_keys=True))
        print(f"wrote {args.out} ({gt['counts']['playlists']} playlists, {gt['counts']['rows']} rows)")
        return 0

    from demo_site.server import DemoSite

    cache_dir = None
    if not args.no_cache_dir:
        if args.cache_dir is not None:
            cache_dir = args.cache_dir
        else:
            from core import settings

            cache_dir = settings.load().demo_site_cache_dir
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    try:
        site = DemoSite(seed=args.seed, scale=args.scale, revision=args.revision, faults=plan, host=args.host,
                        port=args.port, cache_dir=cache_dir, latency_ms=args.latency_ms).start()
    except OSError as exc:
        print(f"demo_site: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    print(site.base_url, flush=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        site.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
