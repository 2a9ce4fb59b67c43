"""``python -m bench [NAME ...] [--scale S]``: run benchmarks, write results and docs/BENCHMARKS.md."""

from __future__ import annotations

import argparse
import json

from bench import runner


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("names", nargs="*", help=f"benchmarks to run (default: all): {', '.join(runner.available())}")
    parser.add_argument("--scale", default=None, help="override the benchmark's default scale")
    args = parser.parse_args()
    for name in args.names or runner.available():
        print(json.dumps(runner.run(name, args.scale), ensure_ascii=False))
    print(f"wrote {runner.write_doc()}")


if __name__ == "__main__":
    main()
