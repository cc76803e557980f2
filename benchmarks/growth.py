"""Benchmark 7: nothing grows with time (issue #12).

10,000 idle passes of the daemon's own loop body (``Daemon.run_one_pass``:
the engine, the Google backends through the real google-api-python-client,
the state database), in this process, against the emulator in a child
process (so its request log and tokens are not counted).  Every 7th listing
fails once with a 503, which the retry policy repeats; every 350th fails five
times in a row, which reaches the daemon as a transient failure and its
backoff.  The resident set (VmRSS) is read after pass 100 and after the last
one; growth must be at most 1 MB.

    python -m benchmarks.growth [--passes N] [--events N]
"""

from __future__ import annotations

import argparse
import gc
import itertools
import json
import logging
import multiprocessing
import os
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any

from .harness import ACCOUNT, Emulator, Row, print_table, rss_kib, seed_calendar, utc_now

from emulator.faults import Fault  # noqa: E402  (harness puts tests/ on sys.path)

TARGET_KIB = 1024
FIRST = 100
EVENTS_PATH = r"/calendar/v3/calendars/[^/]+/events$"


def _serve(events: int, conn: Any) -> None:
    """The child: an emulator with a seeded calendar and periodic listing failures."""
    with Emulator(account=ACCOUNT, time_zone="America/New_York") as emu:
        now = utc_now()
        seed_calendar(emu, events=events, interviews=max(events // 60, 1), start=now - timedelta(days=14), days=28)
        listings = itertools.count(1)

        def flaky(method: str, path: str, body: bytes) -> bool:
            n = next(listings)
            return n % 7 == 0 or n % 350 < 5

        emu.faults.add(Fault("GET", EVENTS_PATH, "status", 10**9, 503, "backendError", "emulated 503", about=flaky))
        conn.send((emu.base_url, json.loads(emu.credentials().to_json())))
        conn.recv()  # until the parent is done


def run(passes: int = 10_000, events: int = 300) -> list[Row]:
    ctx = multiprocessing.get_context("fork")
    parent, child = ctx.Pipe()
    server = ctx.Process(target=_serve, args=(events, child), daemon=True)
    server.start()
    base_url, grant = parent.recv()
    try:
        first, last, transient = _passes(base_url, grant, passes)
    finally:
        parent.send("done")
        server.join(timeout=10)
    growth = last - first
    return [Row(f"RSS growth over {passes:,} idle passes (retries injected)",
                f"{first / 1024:.1f} MB at pass {FIRST} → {last / 1024:.1f} MB at pass {passes:,} "
                f"({growth:+d} KiB; {transient} transient failures)",
                f"<= {TARGET_KIB // 1024} MB", f"{max(growth, 0) / TARGET_KIB:.2f}x target", growth <= TARGET_KIB)]


def _passes(base_url: str, grant: dict[str, Any], passes: int) -> tuple[int, int, int]:
    from followupd.auth import google as auth
    from followupd.backends.gmail import GmailDrafts
    from followupd.backends.google_calendar import GoogleCalendar
    from followupd.backends.protocols import Backends
    from followupd.backends.retry import RetryPolicy
    from followupd.core.settings import CalendarConfig, Config, GoogleConfig, MailConfig, MeConfig
    from followupd.runtime.backoff import Backoff
    from followupd.runtime.daemon import Daemon
    from followupd.runtime.engine import Engine
    from followupd.runtime.notify import Notifier
    from followupd.store.state import State
    from followupd.testing.memory_keyring import MemoryKeyring

    import keyring

    logging.getLogger("followupd").setLevel(logging.ERROR)  # the injected 503s would log a warning each
    keyring.set_keyring(MemoryKeyring())
    home = Path(tempfile.mkdtemp(prefix="followupd-growth-"))
    os.environ["XDG_STATE_HOME"] = str(home / "state")
    cfg = Config(me=MeConfig(name="Jordan Rivera", email=ACCOUNT),
                 calendar=CalendarConfig(backend="google", watch=("primary",), write_to="primary"),
                 mail=MailConfig(backend="gmail"), google=GoogleConfig(account=ACCOUNT, api_endpoint=base_url))
    auth.store_authorized_user(cfg, grant)
    retry = RetryPolicy(sleep=lambda _s: None)  # retried for real, without waiting

    def engine(cfg: Config) -> Engine:
        creds = auth.load_credentials(cfg)
        cal = GoogleCalendar(cfg, creds, retry=retry)
        backends = Backends(source=cal, events=cal, drafts=GmailDrafts(cfg, creds, retry=retry),
                            watch=cfg.calendar.watch, write_to=cfg.calendar.write_to, sink_observed_by_source=True)
        return Engine(cfg, backends, State(), utc_now)

    daemon = Daemon(cfg, home / "config.toml", interval=60, dry_run=False, notifier=Notifier(None, None),
                    open_engine=engine, load_config=lambda _p: cfg, backoff=Backoff(60))
    first = transient = 0
    for n in range(1, passes + 1):
        if daemon.run_one_pass() != 60:
            transient += 1
        if n == FIRST:
            gc.collect()
            first = rss_kib()
    gc.collect()
    return first, rss_kib(), transient


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.growth", description=__doc__.split("\n")[0])
    parser.add_argument("--passes", type=int, default=10_000)
    parser.add_argument("--events", type=int, default=300)
    args = parser.parse_args(argv)
    print_table(run(args.passes, args.events))


if __name__ == "__main__":
    main()
