"""Command line for the crawler alone: ``python -m crawlers crawl|load|state``.

    python -m crawlers crawl --base-url http://127.0.0.1:8000 --run-id r1 [--incremental] [--load]
    python -m crawlers load RUN_DIR --run-id r1
    python -m crawlers state [--out PATH]

``scenetune crawl`` (the project CLI) calls the same functions.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from crawlers.state import refresh_state_file
from scenetune import settings as scenetune_settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m crawlers", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    crawl = sub.add_parser("crawl", help="crawl a Genie(-shaped) site into a run folder")
    crawl.add_argument("--base-url", default=scenetune_settings.load().genie_base_url)
    crawl.add_argument("--run-id", required=True)
    crawl.add_argument("--incremental", action="store_true", help="fetch only new / changed playlists")
    crawl.add_argument("--jobdir", help="JOBDIR: a stopped crawl resumes from here")
    crawl.add_argument("--max-playlists", type=int)
    crawl.add_argument("--load", action="store_true", help="load the run into bronze Delta afterwards")
    load = sub.add_parser("load", help="load a run folder into bronze Delta")
    load.add_argument("run_dir")
    load.add_argument("--run-id", required=True)
    state = sub.add_parser("state", help="write the crawl state from bronze.playlists")
    state.add_argument("--out", type=Path)
    args = parser.parse_args(argv)

    try:
        if args.command == "crawl":
            from crawlers.run import run_crawl

            if not args.base_url:
                parser.error("--base-url is required (or set GENIE_BASE_URL)")
            state_path = refresh_state_file() if args.incremental else None
            result = run_crawl(args.base_url, args.run_id, state_path=state_path, jobdir=args.jobdir,
                               max_playlists=args.max_playlists)
            print(json.dumps({"run_dir": str(result.run_dir), **result.stats}, ensure_ascii=False, indent=1))
            if args.load:
                from crawlers.bronze import load_run

                print(json.dumps(load_run(result.run_dir, args.run_id)))
        elif args.command == "load":
            from crawlers.bronze import load_run

            print(json.dumps(load_run(Path(args.run_dir), args.run_id)))
        elif args.command == "state":
            print(refresh_state_file(args.out))
    except (RuntimeError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
