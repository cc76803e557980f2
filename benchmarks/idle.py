"""Benchmark 1: what an idle pass costs, against a reference "window poller".

The daemon (``followupd run --interval 1``, a subprocess) watches a calendar of
a few hundred events in which nothing changes.  After it has settled, the
emulator's request log is read over a run of passes: requests and response
bytes per pass, projected to a day at the default 60 s interval.

The window poller is what the automation platforms' Google Calendar triggers
do: on every poll, list what was updated since the last check
(``updatedMin=last_check``, ``singleEvents``, ``orderBy=updated``,
``showDeleted``), through the same google-api-python-client, against the
same calendar.

    python -m benchmarks.idle [--events N] [--passes N]
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from datetime import timedelta

from .harness import Daemon, Emulator, Row, Sandbox, print_table, seed_calendar, utc_now

DEFAULT_INTERVAL = 60
PER_DAY = 24 * 3600 // DEFAULT_INTERVAL


@dataclass(frozen=True)
class IdleCost:
    passes: int
    calendar: float  # requests per pass, by API
    gmail: float
    oauth: float
    response_bytes: float  # per pass
    request_bytes: float


def _cost(emu: Emulator, passes: int) -> IdleCost:
    log = emu.log()
    n = max(passes, 1)
    return IdleCost(passes, sum(r.api == "calendar" for r in log) / n, sum(r.api == "gmail" for r in log) / n,
                    sum(r.api == "oauth" for r in log) / n, sum(r.response_bytes for r in log) / n,
                    sum(r.request_bytes for r in log) / n)


def seed_idle_calendar(emu: Emulator, events: int) -> None:
    """``events`` events over the four weeks around now, a few of them interviews."""
    now = utc_now()
    seed_calendar(emu, events=events, interviews=max(events // 60, 1), start=now - timedelta(days=14), days=28)


def measure_daemon(emu: Emulator, box: Sandbox, passes: int, settle: int = 5) -> IdleCost:
    """Idle passes of the real daemon, once its first passes (writes, settling) are behind it."""
    with Daemon(box, interval=1) as daemon:
        daemon.wait_passes(settle, timeout=120)
        emu.clear_log()  # the daemon now naps ~1 s before its next pass
        daemon.wait_passes(settle + passes, timeout=passes * 3 + 60)
        cost = _cost(emu, passes)  # read at once: the next pass is ~1 s away
    return cost


def measure_window_poller(emu: Emulator, box: Sandbox, polls: int) -> IdleCost:
    """The reference poller, in-process, over the same calendar and the same client library."""
    from google.oauth2.credentials import Credentials
    from googleapiclient.discovery import build

    info = box.grant_info()
    creds = Credentials.from_authorized_user_info(info, info["scopes"]).with_token_uri(info["token_uri"])
    service = build("calendar", "v3", credentials=creds, static_discovery=True, cache_discovery=False,
                    client_options={"api_endpoint": emu.base_url + "/calendar/v3/"})
    events = service.events()
    last_check = utc_now()
    events.list(calendarId="primary", maxResults=1).execute()  # the token refresh, outside the count
    emu.clear_log()
    for _ in range(polls):
        now = utc_now()
        page_token: str | None = None
        while True:
            page = events.list(calendarId="primary", updatedMin=last_check.isoformat(), singleEvents=True,
                               orderBy="updated", showDeleted=True, pageToken=page_token).execute()
            page_token = page.get("nextPageToken")
            if not page_token:
                break
        last_check = now
    return _cost(emu, polls)


def run(events: int = 300, passes: int = 15) -> list[Row]:
    with Emulator(account="me@example.com", time_zone="America/New_York") as emu:
        seed_idle_calendar(emu, events)
        with Sandbox(emu) as box:
            ours = measure_daemon(emu, box, passes)
            poller = measure_window_poller(emu, box, passes)
    req_ratio = ours.calendar / poller.calendar if poller.calendar else float("nan")
    byte_ratio = ours.response_bytes / poller.response_bytes if poller.response_bytes else float("nan")
    meets = ours.calendar == 1.0 and ours.gmail == 0.0
    return [
        Row(f"idle pass: requests ({events} events, {passes} passes)",
            f"{ours.calendar:.2f} calendar + {ours.gmail:.2f} gmail + {ours.oauth:.2f} oauth",
            "1 per calendar, 0 gmail", f"{req_ratio:.2f}x window poller", meets),
        Row("idle pass: response bytes",
            f"{ours.response_bytes:.0f} B/pass", "-", f"{byte_ratio:.2f}x window poller"),
        Row(f"idle day at {DEFAULT_INTERVAL} s: requests / bytes",
            f"{(ours.calendar + ours.gmail) * PER_DAY:.0f} req, "
            f"{(ours.response_bytes + ours.request_bytes) * PER_DAY / 1e6:.2f} MB",
            f"{PER_DAY} req", f"poller: {(poller.calendar + poller.gmail) * PER_DAY:.0f} req, "
            f"{(poller.response_bytes + poller.request_bytes) * PER_DAY / 1e6:.2f} MB",
            (ours.calendar + ours.gmail) * PER_DAY <= PER_DAY),
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.idle", description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=300)
    parser.add_argument("--passes", type=int, default=15)
    args = parser.parse_args(argv)
    print_table(run(args.events, args.passes))


if __name__ == "__main__":
    main()
