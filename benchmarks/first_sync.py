"""Benchmark 2: the first sync of a 10,000-event calendar.

10,000 events (40 of them interviews) in the four weeks around now.  Measured:
the requests ``followupd run --once --dry-run`` makes (target: at most 6 with
``maxResults=2500``), and its wall time divided by the wall time of a bare
google-api-python-client loop paging the same events
(``benchmarks/bare_client.py``).  Both run as fresh subprocesses against the
same warm emulator, interleaved, and the median of the runs is compared.

    python -m benchmarks.first_sync [--events N] [--interviews N] [--runs N]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import timedelta

from .harness import ROOT, Emulator, Row, Sandbox, median, print_table, seed_calendar, utc_now

LOOKBACK_DAYS = 14  # followupd's default [plan] lookback_days: its full sync starts there


@dataclass(frozen=True)
class FirstSync:
    requests: int  # Calendar + Gmail requests of one dry run (token refreshes not counted)
    oauth: int
    ours: list[float]  # wall seconds per run
    bare: list[float]
    actions: int  # lines the dry run printed

    @property
    def ratio(self) -> float:
        return median(self.ours) / median(self.bare)


def _timed(cmd: list[str], box: Sandbox) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(cmd, env=box.env, cwd=ROOT, capture_output=True, text=True, timeout=600)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:4])}… exited {done.returncode}: {done.stderr[-2000:]}")
    return elapsed, done.stdout


def measure(events: int = 10_000, interviews: int = 40, runs: int = 5) -> FirstSync:
    with Emulator(account="me@example.com", time_zone="America/New_York") as emu:
        seed_calendar(emu, events=events, interviews=interviews, start=utc_now() - timedelta(days=14), days=28)
        with Sandbox(emu) as box:
            ours_cmd = [sys.executable, "-m", "followupd", "--config", str(box.config), "run", "--once", "--dry-run"]
            ours: list[float] = []
            bare: list[float] = []
            requests = oauth = actions = 0
            for n in range(-1, runs):  # run -1 warms up: byte code, the page cache
                box.reset_state()  # every run is a first sync (a dry run stores nothing anyway)
                emu.clear_log()
                elapsed, out = _timed(ours_cmd, box)
                if n >= 0:
                    ours.append(elapsed)
                if n == 0:
                    requests = len(emu.log("calendar")) + len(emu.log("gmail"))
                    oauth = len(emu.log("oauth"))
                    actions = len([line for line in out.splitlines() if line.strip()])
                time_min = (utc_now() - timedelta(days=LOOKBACK_DAYS)).isoformat()
                bare_cmd = [sys.executable, "-m", "benchmarks.bare_client", str(box.grant), emu.base_url, time_min]
                elapsed, out = _timed(bare_cmd, box)
                if int(out.strip() or 0) != events:
                    raise RuntimeError(f"the bare client listed {out.strip()} events, not {events}")
                if n >= 0:
                    bare.append(elapsed)
    return FirstSync(requests, oauth, ours, bare, actions)


def run(events: int = 10_000, interviews: int = 40, runs: int = 5) -> list[Row]:
    m = measure(events, interviews, runs)
    return [
        Row(f"first sync of {events} events: requests", f"{m.requests} (+{m.oauth} token refresh)", "<= 6",
            f"{m.requests / 6:.2f}x target", m.requests <= 6),
        Row(f"first sync: run --once --dry-run wall time (median of {runs})",
            f"{median(m.ours):.2f} s vs bare client {median(m.bare):.2f} s", "<= 1.5x bare client",
            f"{m.ratio:.2f}x", m.ratio <= 1.5),
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.first_sync", description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--interviews", type=int, default=40)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    print_table(run(args.events, args.interviews, args.runs))


if __name__ == "__main__":
    main()
