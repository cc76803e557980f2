"""Benchmark 5: from an interview's end to its thank-you drafts existing.

The daemon runs with the default-like ``--interval 60``.  The interview is in
the calendar before the daemon starts and ends a few seconds after its first
pass, so the measurement includes the wait for the pass that finds the drafts
due.  Measured: seconds from the end to the moment every thank-you and
references draft exists in the emulator.  Target: at most one interval.

    python -m benchmarks.latency [--interval S] [--ends-in S]
"""

from __future__ import annotations

import argparse
import time
from datetime import timedelta

from .harness import ACCOUNT, Daemon, Emulator, Row, Sandbox, print_table, utc_now

INTERVIEWERS = ("lee@acme.example", "kim@acme.example")
DRAFTS = len(INTERVIEWERS) + 1  # one thank-you per interviewer, one heads-up to the reference


def measure(interval: int = 60, ends_in: float = 8.0) -> float:
    """Seconds from the interview's end until all its drafts exist."""
    with Emulator(account=ACCOUNT, time_zone="America/New_York") as emu:
        # Stamp the end relative to the monotonic clock too, so the wall clock is read once.
        end = (utc_now() + timedelta(seconds=ends_in + 3)).replace(microsecond=0)
        end_mono = time.monotonic() + (end - utc_now()).total_seconds()
        emu.seed_event("primary", id="interview0001", summary="Interview: Acme – Engineer",
                       start={"dateTime": (end - timedelta(hours=1)).isoformat()},
                       end={"dateTime": end.isoformat()}, organizer={"email": INTERVIEWERS[0]},
                       attendees=[{"email": ACCOUNT, "self": True, "responseStatus": "accepted"},
                                  *({"email": e, "responseStatus": "accepted"} for e in INTERVIEWERS)])
        with Sandbox(emu) as box, Daemon(box, interval=interval) as daemon:
            daemon.wait_passes(1, timeout=60)
            if time.monotonic() >= end_mono:
                raise RuntimeError("the daemon's first pass ended after the interview: raise --ends-in")
            deadline = end_mono + 3 * interval
            while time.monotonic() < deadline:
                if len(emu.drafts()) >= DRAFTS:
                    return time.monotonic() - end_mono
                time.sleep(0.05)
    raise RuntimeError(f"the drafts did not appear within {3 * interval}s of the interview's end")


def run(interval: int = 60, ends_in: float = 8.0) -> list[Row]:
    latency = measure(interval, ends_in)
    return [Row(f"interview end -> thank-you drafts (--interval {interval})", f"{latency:.1f} s",
                f"<= {interval} s", f"{latency / interval:.2f}x interval", latency <= interval)]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.latency", description=__doc__.split("\n")[0])
    parser.add_argument("--interval", type=int, default=60)
    parser.add_argument("--ends-in", type=float, default=8.0, help="seconds after start-up the interview ends")
    args = parser.parse_args(argv)
    print_table(run(args.interval, args.ends_in))


if __name__ == "__main__":
    main()
