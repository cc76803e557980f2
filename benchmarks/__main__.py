"""``python -m benchmarks``: every benchmark, one table (about four minutes).

    python -m benchmarks [--only idle first_sync memory growth scaling latency commands caldav]
"""

from __future__ import annotations

import argparse
import platform
import sys
from typing import Callable

from . import caldav, commands, first_sync, growth, idle, latency, memory, scaling
from .harness import Row, print_table

BENCHMARKS: dict[str, Callable[[], list[Row]]] = {
    "idle": idle.run,
    "first_sync": first_sync.run,
    "memory": memory.run,
    "growth": growth.run,
    "scaling": scaling.run,
    "latency": latency.run,
    "commands": commands.run,
    "caldav": caldav.run,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description="followupd's benchmarks (SPEC §6)")
    parser.add_argument("--only", nargs="+", choices=sorted(BENCHMARKS), metavar="NAME",
                        help=f"run only these ({', '.join(BENCHMARKS)})")
    args = parser.parse_args(argv)
    rows: list[Row] = []
    for name, run in BENCHMARKS.items():
        if args.only and name not in args.only:
            continue
        print(f"running {name} …", file=sys.stderr, flush=True)
        rows.extend(run())
    print(f"Python {platform.python_version()} on {platform.system()} {platform.machine()}, "
          f"{platform.processor() or 'unknown CPU'}\n")
    print_table(rows)
    return 0 if all(r.ok is not False for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
