"""`python -m sim.data OUT --rows N [--seed S] [--format csv|jsonl] [--dirty-share F] [--dirty-kinds a,b]`.

Prints the `GenerationReport` as JSON, so a shell script can check counts against the ETL's summary.
"""

from __future__ import annotations

import argparse
import json
import sys

from sim.data.generator import DIRTY_KINDS, GeneratorError, generate


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sim.data", description="Generate a raw customer file.")
    parser.add_argument("out", help="file to write (parent directories are created)")
    parser.add_argument("--rows", type=int, required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--format", dest="fmt", choices=["csv", "jsonl"], default="csv")
    parser.add_argument("--dirty-share", type=float, default=0.0)
    parser.add_argument(
        "--dirty-kinds",
        default=None,
        help=f"comma-separated subset of {','.join(DIRTY_KINDS)} (default: all)",
    )
    args = parser.parse_args(argv)
    kinds = [k.strip() for k in args.dirty_kinds.split(",") if k.strip()] if args.dirty_kinds else None
    try:
        report = generate(
            args.out,
            rows=args.rows,
            seed=args.seed,
            fmt=args.fmt,
            dirty_share=args.dirty_share,
            dirty_kinds=kinds,
        )
    except GeneratorError as exc:
        parser.error(str(exc))
    json.dump(report.to_dict(), sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
