"""Benchmark 4: does an idle pass cost more with a longer history?

Two state databases, seeded through ``followupd.state`` with settled history
(past interviews whose follow-ups were all written): 100 and 10,000 ledger
rows.  Each drives an in-process ``Engine`` against the same emulator calendar
(a few hundred events); once settled, the CPU time of idle passes is measured
with ``time.thread_time`` (the engine's own thread: the emulator serves from
another thread of this process).  SPEC §6: the per-pass cost grows with the
number of changes, not with the size of the history.

    python -m benchmarks.scaling [--small N] [--large N] [--passes N]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

from .harness import Emulator, Row, median, print_table, utc_now
from .idle import seed_idle_calendar

ROWS_PER_INTERVIEW = 10  # reminders and drafts of one past interview


def seed_history(state: object, rows: int, now: datetime) -> None:
    """``rows`` ledger rows of settled interviews from the past years."""
    from followupd.core.model import Attendee, CalendarEvent, Kind, LedgerEntry, Status, follow_up_key
    from followupd.core.tracking import InterviewRecord
    from followupd.store.state import State

    assert isinstance(state, State)
    steps = ("prepare", "thank-you", "references", "handwritten-note", "keep-applying", "check-in")
    made = 0
    n = 0
    while made < rows:
        start = now - timedelta(days=60 + n % 700, hours=n % 9)
        iv = f"past{n:06d}"
        event = CalendarEvent(id=iv, calendar_id="primary", title=f"Interview: Old Co {n}", start=start,
                              end=start + timedelta(hours=1), etag=f'"{n}"',
                              attendees=(Attendee("me@example.com", is_self=True),
                                         Attendee(f"lee{n}@old.example", "Lee Park")))
        state.put_interviews([InterviewRecord(event=event, first_seen=start - timedelta(days=3), settled=True)])
        for i in range(min(ROWS_PER_INTERVIEW, rows - made)):
            step = steps[i % len(steps)]
            kind = Kind.REMINDER if i < len(steps) else Kind.DRAFT
            recipient = "" if kind is Kind.REMINDER else f"r{i}@old.example"
            state.put_entry(LedgerEntry(key=follow_up_key(iv, step, kind, recipient), interview_id=iv, step=step,
                                        kind=kind, recipient=recipient, status=Status.WRITTEN, at=start,
                                        backend_id=f"b{n}x{i}", version="v1", content_hash="h", title=step))
            made += 1
        n += 1


def idle_pass_cpu(emu: Emulator, history: int, passes: int) -> tuple[float, float]:
    """(median CPU seconds of an idle pass, calendar requests per idle pass) with ``history`` ledger rows."""
    from followupd.backends.gmail import GmailDrafts
    from followupd.backends.google_calendar import GoogleCalendar
    from followupd.runtime.engine import Engine
    from followupd.backends.protocols import Backends
    from followupd.store.state import State
    from emulator.fixtures import emulator_config

    cfg = emulator_config(emu)
    creds = emu.credentials()
    cal = GoogleCalendar(cfg, creds)
    backends = Backends(source=cal, events=cal, drafts=GmailDrafts(cfg, creds),
                        watch=("primary",), write_to="primary", sink_observed_by_source=True)
    with tempfile.TemporaryDirectory(prefix="followupd-bench-") as tmp:
        state = State(Path(tmp) / "state.db")
        seed_history(state, history, utc_now())
        engine = Engine(cfg, backends, state, utc_now)
        try:
            for _ in range(4):  # the first sync, the writes it leads to, settling
                engine.run_pass()
            emu.clear_log()
            cpu: list[float] = []
            for _ in range(passes):
                started = time.thread_time()
                engine.run_pass()
                cpu.append(time.thread_time() - started)
            requests = len(emu.log("calendar")) + len(emu.log("gmail"))
        finally:
            engine.close()
    return median(cpu), requests / passes


def run(small: int = 100, large: int = 10_000, passes: int = 30, events: int = 300) -> list[Row]:
    with Emulator(account="me@example.com", time_zone="America/New_York") as emu:
        seed_idle_calendar(emu, events)
        cpu_small, req_small = idle_pass_cpu(emu, small, passes)
        cpu_large, req_large = idle_pass_cpu(emu, large, passes)
    ratio = cpu_large / cpu_small
    return [Row(f"idle pass CPU: {large} vs {small} ledger rows (median of {passes})",
                f"{cpu_large * 1e3:.2f} ms vs {cpu_small * 1e3:.2f} ms ({req_large:.0f} / {req_small:.0f} req)",
                "ratio close to 1", f"{ratio:.2f}x", ratio <= 1.25)]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scaling", description=__doc__.split("\n")[0])
    parser.add_argument("--small", type=int, default=100)
    parser.add_argument("--large", type=int, default=10_000)
    parser.add_argument("--passes", type=int, default=30)
    args = parser.parse_args(argv)
    print_table(run(args.small, args.large, args.passes))


if __name__ == "__main__":
    main()
