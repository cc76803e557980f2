"""Benchmark 3: memory of the idle daemon.

The resident set (``VmRSS``) of ``followupd run --interval 1`` once it has
settled on a calendar of a few hundred events, next to what the imports alone
cost (a fresh interpreter that imports what the daemon imports for a Google
config, and one that imports only the local default's modules) and a bare
interpreter.

    python -m benchmarks.memory [--events N]
"""

from __future__ import annotations

import argparse
import subprocess
import sys

from .harness import ROOT, Daemon, Emulator, Row, Sandbox, print_table, rss_kib
from .idle import seed_idle_calendar

TARGET_MB = 60.0
# What ``followupd run`` loads for the Google backends, and for the local default.
GOOGLE_IMPORTS = ("followupd.cli.app", "followupd.runtime.daemon", "followupd.config.loader", "followupd.runtime.engine", "followupd.auth.google",
                  "followupd.backends.google_calendar", "followupd.backends.gmail")
LOCAL_IMPORTS = ("followupd.cli.app", "followupd.runtime.daemon", "followupd.config.loader", "followupd.runtime.engine",
                 "followupd.backends.ics", "followupd.backends.maildir")


def imports_rss_kib(modules: tuple[str, ...], box: Sandbox) -> int:
    """VmRSS of a fresh interpreter after importing ``modules``."""
    code = ("import importlib, sys\nfor m in sys.argv[1:]: importlib.import_module(m)\n"
            "print(next(l.split()[1] for l in open('/proc/self/status') if l.startswith('VmRSS:')))")
    done = subprocess.run([sys.executable, "-c", code, *modules], env=box.env, cwd=ROOT, capture_output=True,
                          text=True, timeout=120, check=True)
    return int(done.stdout.strip())


def daemon_rss_kib(box: Sandbox, settle: int = 8, samples: int = 5) -> int:
    """The idle daemon's VmRSS: the largest of a few samples taken between passes."""
    with Daemon(box, interval=1) as daemon:
        daemon.wait_passes(settle, timeout=120)
        seen = []
        for n in range(samples):
            daemon.wait_passes(settle + n + 1, timeout=30)
            seen.append(rss_kib(daemon.pid))
    return max(seen)


def run(events: int = 300) -> list[Row]:
    with Emulator(account="me@example.com", time_zone="America/New_York") as emu:
        seed_idle_calendar(emu, events)
        with Sandbox(emu) as box:
            daemon = daemon_rss_kib(box) / 1024
            google = imports_rss_kib(GOOGLE_IMPORTS, box) / 1024
            local = imports_rss_kib(LOCAL_IMPORTS, box) / 1024
            bare = imports_rss_kib((), box) / 1024
    return [
        Row(f"idle daemon RSS (google, {events} events)", f"{daemon:.1f} MB", f"<= {TARGET_MB:.0f} MB",
            f"{daemon / TARGET_MB:.2f}x target", daemon <= TARGET_MB),
        Row("imports alone: google / local default / bare python",
            f"{google:.1f} / {local:.1f} / {bare:.1f} MB", "-", f"{google / daemon:.2f}x of idle RSS"),
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.memory", description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=300)
    args = parser.parse_args(argv)
    print_table(run(args.events))


if __name__ == "__main__":
    main()
