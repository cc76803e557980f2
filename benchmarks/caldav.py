"""Benchmark 8: CalDAV against a real Radicale (issue #13).

* **Idle pass.** The engine on CalDAV + IMAP (Dovecot), settled on a calendar of a few hundred
  events: requests per pass to the CalDAV server (one sync-collection REPORT per watched calendar
  is the target) and IMAP connections (none is the target).
* **First sync of 2,000 events** through ``CalDavCalendar.sync_screened``, as the engine makes it
  (one sync-collection REPORT with the calendar data; the events that may be interviews parsed and
  expanded, the others kept unparsed until needed), against listing the same calendar with the bare
  ``caldav`` client (``calendar.events()``: a calendar-query REPORT, parsed into objects).  Median
  of 5, interleaved; target at most 1.5x.

    python -m benchmarks.caldav [--events N]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from .harness import Row, print_table

from servers import Dovecot, Radicale  # noqa: E402  (harness puts tests/ on sys.path)

TARGET = 1.5


def _ics(uid: str, start: datetime, title: str) -> str:
    return (f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//bench//EN\r\nBEGIN:VEVENT\r\nUID:{uid}\r\n"
            f"DTSTAMP:{start:%Y%m%dT%H%M%SZ}\r\nDTSTART:{start:%Y%m%dT%H%M%SZ}\r\n"
            f"DTEND:{start + timedelta(minutes=45):%Y%m%dT%H%M%SZ}\r\nSUMMARY:{title}\r\n"
            "ORGANIZER;CN=Sam Park:mailto:sam@acme.com\r\nATTENDEE;CN=Sam Park:mailto:sam@acme.com\r\n"
            "END:VEVENT\r\nEND:VCALENDAR\r\n")


def _seed(radicale: Radicale, account: Any, events: int) -> str:
    """A "Work" calendar of ``events`` events over four weeks around now, written into Radicale's
    storage while it is stopped (thousands of PUTs would measure Radicale, not followupd)."""
    import caldav

    client = caldav.DAVClient(radicale.url, username=account.username, password=account.password,
                              ssl_verify_cert=str(radicale.cert))
    calendar = client.principal().make_calendar(name="Work")
    path = Path(str(calendar.url).split(str(radicale.port), 1)[1].lstrip("/"))
    radicale.stop()
    folder = radicale.folder / "collections" / "collection-root" / path
    now = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)
    titles = ("Standup", "Dentist", "Interview: Acme", "Lunch", "Planning", "Gym")
    for i in range(events):
        uid = str(uuid.UUID(int=i + 1))
        start = now - timedelta(days=14) + timedelta(minutes=(i * 28 * 24 * 60) // events)
        (folder / f"{uid}.ics").write_text(_ics(uid, start, titles[i % len(titles)]), newline="")
    shutil.rmtree(folder / ".Radicale.cache", ignore_errors=True)
    radicale.start()
    return str(calendar.url)


def first_sync(events: int = 2000, runs: int = 5) -> Row:
    from followupd.backends.caldav_calendar import CalDavCalendar
    from followupd.core.settings import CalDavConfig, CalendarConfig, Config, MeConfig

    import caldav

    folder = Path(tempfile.mkdtemp(prefix="followupd-bench-caldav-"))
    radicale = Radicale(folder).start()
    try:
        account = radicale.new_account()
        url = _seed(radicale, account, events)
        cfg = Config(me=MeConfig(name="Jordan Rivera", email="jordan@example.org"),
                     calendar=CalendarConfig(backend="caldav", watch=("Work",), write_to="Work"),
                     caldav=CalDavConfig(url=radicale.url, username=account.username, cafile=radicale.cert))
        since = datetime.now(timezone.utc) - timedelta(days=15)

        from followupd.core import detect

        def screen(title: str, description: str) -> bool:
            return detect.may_be_interview(title, description, cfg)

        def ours() -> float:  # as the engine syncs: screened
            dav = CalDavCalendar(cfg, lambda: account.password)
            dav.calendar_url("Work")  # discovery is not the listing
            dav.timezone("Work")
            began = time.perf_counter()
            listed = dav.sync_screened("Work", None, since, screen)
            took = time.perf_counter() - began
            assert len(listed.events) + len(listed.passed_over) == events, len(listed.events)
            dav.close()
            return took

        def bare() -> float:
            client = caldav.DAVClient(radicale.url, username=account.username, password=account.password,
                                      ssl_verify_cert=str(radicale.cert))
            calendar = client.calendar(url=url)
            began = time.perf_counter()
            found = calendar.events()
            took = time.perf_counter() - began
            assert len(found) == events, len(found)
            return took

        ours(), bare()  # warm both (Radicale's cache, imports)
        mine, theirs = [], []
        for _ in range(runs):
            mine.append(ours())
            theirs.append(bare())
    finally:
        radicale.stop()
        shutil.rmtree(folder, ignore_errors=True)
    a, b = statistics.median(mine), statistics.median(theirs)
    return Row(f"CalDAV first sync of {events} events (median of {runs})", f"{a:.2f} s vs bare caldav {b:.2f} s",
               f"<= {TARGET}x bare caldav", f"{a / b:.2f}x", a / b <= TARGET)


def idle(events: int = 300, passes: int = 10) -> Row:
    import keyring

    from followupd.auth import passwords
    from followupd.auth.passwords import Service
    from followupd.backends import caldav_calendar, imap_drafts
    from followupd.core.settings import CalDavConfig, CalendarConfig, Config, ImapConfig, MailConfig, MeConfig
    from followupd.runtime.engine import open_engine
    from followupd.testing.memory_keyring import MemoryKeyring

    keyring.set_keyring(MemoryKeyring())
    folder = Path(tempfile.mkdtemp(prefix="followupd-bench-idle-"))
    folder.chmod(0o755)
    (folder / "r").mkdir()
    (folder / "d").mkdir()
    (folder / "d").chmod(0o755)
    os.environ["XDG_STATE_HOME"] = str(folder / "state")
    radicale = Radicale(folder / "r").start()
    dovecot = Dovecot(folder / "d", shutil.which("dovecot") or "/usr/sbin/dovecot").start()
    counts = {"caldav": 0, "imap": 0}
    real_request, real_connect = caldav_calendar.CalDavCalendar._request, imap_drafts.ImapDrafts._connect

    def request(self: Any, *args: Any, **kw: Any) -> Any:
        counts["caldav"] += 1
        return real_request(self, *args, **kw)

    def connect(self: Any) -> Any:
        counts["imap"] += 1
        return real_connect(self)

    try:
        cal, mail = radicale.new_account(), dovecot.new_account()
        _seed(radicale, cal, events)
        cfg = Config(me=MeConfig(name="Jordan Rivera", email="jordan@example.org"),
                     calendar=CalendarConfig(backend="caldav", watch=("Work",), write_to="Work"),
                     mail=MailConfig(backend="imap"),
                     caldav=CalDavConfig(url=radicale.url, username=cal.username, cafile=radicale.cert),
                     imap=ImapConfig(host="127.0.0.1", port=dovecot.tls_port, username=mail.username,
                                     cafile=dovecot.cert))
        passwords.store(cfg, Service.CALDAV, cal.password)
        passwords.store(cfg, Service.IMAP, mail.password)
        engine = open_engine(cfg)
        engine.run_pass()  # the first sync and whatever is due
        engine.close()
        engine = open_engine(cfg)  # a restarted daemon: discovery and the zone once, then idle passes
        engine.run_pass()
        caldav_calendar.CalDavCalendar._request = request  # type: ignore[method-assign]
        imap_drafts.ImapDrafts._connect = connect  # type: ignore[method-assign]
        for _ in range(passes):
            engine.run_pass()
        engine.close()
    finally:
        caldav_calendar.CalDavCalendar._request = real_request  # type: ignore[method-assign]
        imap_drafts.ImapDrafts._connect = real_connect  # type: ignore[method-assign]
        radicale.stop()
        dovecot.stop()
        shutil.rmtree(folder, ignore_errors=True)
    per_pass = counts["caldav"] / passes
    return Row(f"CalDAV idle pass: requests ({events} events, {passes} passes)",
               f"{per_pass:.2f} CalDAV + {counts['imap']} IMAP connections", "1 per calendar, 0 IMAP",
               f"{per_pass:.2f}x target", per_pass == 1 and counts["imap"] == 0)


def run(events: int = 2000) -> list[Row]:
    return [idle(), first_sync(events)]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.caldav", description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=2000)
    args = parser.parse_args(argv)
    print_table(run(args.events))


if __name__ == "__main__":
    main()
