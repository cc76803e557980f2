"""Running the real ``followupd`` as a subprocess, for the daemon tests.

Also a pytest plugin (registered in conftest.py): the ``listener`` and
``daemons`` fixtures the subprocess tests share.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterator

import icalendar
import pytest

from daemon_helpers import NotifyListener

from followupd_under_test import command

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def listener() -> Iterator[NotifyListener]:
    """A notify socket owned by the test (``NOTIFY_SOCKET`` for the daemon)."""
    lst = NotifyListener()
    yield lst
    lst.close()


@pytest.fixture
def daemons() -> Iterator[list["DaemonProcess"]]:
    """Every daemon a test starts; none outlives the test, whatever happens."""
    started: list[DaemonProcess] = []
    yield started
    for d in started:
        d.kill()


def followupd(*args: str, env: dict[str, str] | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """``followupd ARGS`` to completion (through the test launcher)."""
    return subprocess.run(command(*args), env=env or dict(os.environ),
                          cwd=ROOT, capture_output=True, text=True, timeout=timeout)


class DaemonProcess:
    """``followupd --config CFG run --interval N`` with a test-owned notify socket.

    stderr goes to a file (``log()``), so a chatty daemon never blocks on a
    full pipe.
    """

    def __init__(self, config: Path, listener: NotifyListener, workdir: Path, *, interval: int = 1,
                 watchdog_usec: int | None = 2_000_000, extra_env: dict[str, str] | None = None,
                 args: tuple[str, ...] = (), journal: bool = False) -> None:
        self.listener = listener
        self.log_path = workdir / f"daemon-{time.monotonic_ns()}.log"
        self._stderr = open(self.log_path, "w")  # noqa: SIM115 - closed in wait()
        env = dict(os.environ)
        env["NOTIFY_SOCKET"] = listener.path
        env.pop("WATCHDOG_PID", None)
        if watchdog_usec is not None:
            env["WATCHDOG_USEC"] = str(watchdog_usec)
        if journal:
            st = os.fstat(self._stderr.fileno())
            env["JOURNAL_STREAM"] = f"{st.st_dev}:{st.st_ino}"
        env.update(extra_env or {})
        self.proc = subprocess.Popen(
            command(*args, "--config", str(config), "run", "--interval", str(interval)),
            env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=self._stderr)

    def log(self) -> str:
        return self.log_path.read_text()

    def wait_log(self, needle: str, timeout: float = 15) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.log()
            if needle in text:
                return text
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError(f"{needle!r} not logged within {timeout}s (exit {self.proc.poll()}):\n{self.log()}")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def signal(self, signum: int) -> None:
        self.proc.send_signal(signum)

    def stop(self, timeout: float = 10) -> tuple[int, float]:
        """SIGTERM; returns (exit code, seconds it took)."""
        started = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        return self.wait(timeout), time.monotonic() - started

    def wait(self, timeout: float = 10) -> int:
        try:
            return self.proc.wait(timeout)
        finally:
            if self.proc.poll() is not None:
                self._stderr.close()

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self._stderr.close()


def write_ics(path: Path, events: list[dict[str, Any]]) -> None:
    """An iCalendar file with the given events (uid, summary, start, end, attendees)."""
    cal = icalendar.Calendar()
    cal.add("prodid", "-//followupd tests//EN")
    cal.add("version", "2.0")
    for e in events:
        ev = icalendar.Event()
        ev.add("uid", e["uid"])
        ev.add("summary", e["summary"])
        ev.add("dtstart", e["start"])
        ev.add("dtend", e["end"])
        ev.add("dtstamp", datetime(2025, 1, 1, tzinfo=timezone.utc))
        if e.get("description"):
            ev.add("description", e["description"])
        organizer = e.get("organizer")
        if organizer:
            ev.add("organizer", icalendar.vCalAddress(f"mailto:{organizer}"))
        for email, name in e.get("attendees", []):
            who = icalendar.vCalAddress(f"mailto:{email}")
            who.params["CN"] = name
            who.params["PARTSTAT"] = "ACCEPTED"
            ev.add("attendee", who, encode=False)
        cal.add_component(ev)
    path.write_bytes(cal.to_ical())


def interview(uid: str, ended_minutes_ago: int = 20, *, interviewers: int = 2) -> dict[str, Any]:
    """An interview that ended a little while ago: its thank-you drafts are due now."""
    end = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(minutes=ended_minutes_ago)
    people = [(f"person{i}@acme.example", f"Person{i} Interviewer") for i in range(interviewers)]
    return {"uid": uid, "summary": f"Interview: Acme ({uid})", "start": end - timedelta(hours=1), "end": end,
            "organizer": people[0][0], "attendees": [("me@example.com", "Jordan Rivera"), *people]}


def local_config(home: Path, *, name: str = "config.toml", output: str = "followups.ics",
                 maildir: str = "Mail/Drafts", extra: str = "") -> Path:
    """A local-default config (ICS source + output, Maildir drafts) under ``home``."""
    path = home / ".config" / "followupd" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        '[me]\nname = "Jordan Rivera"\nemail = "me@example.com"\n\n'
        '[calendar]\nbackend = "ics"\n\n[mail]\nbackend = "maildir"\n\n'
        f'[ics]\nsource = "{home}/interviews.ics"\noutput = "{home}/{output}"\n\n'
        f'[maildir]\npath = "{home}/{maildir}"\n\n'
        '[[references]]\nname = "Dana Lee"\nemail = "dana@example.org"\n' + extra,
        encoding="utf-8")
    return path


def google_config(home: Path, base_url: str, account: str = "me@example.com") -> Path:
    """A Google config aimed at the emulator, with a file keyring allowed (test-only)."""
    path = home / ".config" / "followupd" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        f'[me]\nname = "Jordan Rivera"\nemail = "{account}"\n\n'
        '[calendar]\nbackend = "google"\nwatch = ["primary"]\nwrite_to = "primary"\n\n'
        '[mail]\nbackend = "gmail"\n\n'
        f'[google]\naccount = "{account}"\napi_endpoint = "{base_url}"\n\n'
        '[security]\nallow_insecure_keyring = true\n', encoding="utf-8")
    return path


def file_keyring_env() -> dict[str, str]:
    """The subprocess keyring: keyrings.alt's plaintext file under the test's XDG_DATA_HOME.

    The in-memory keyring of conftest does not cross processes; this one does,
    and the config's ``allow_insecure_keyring = true`` makes followupd accept it.
    """
    return {"PYTHON_KEYRING_BACKEND": "keyrings.alt.file.PlaintextKeyring"}


def write_grant(path: Path, token_uri: str, refresh_token: str) -> Path:
    path.write_text(json.dumps({
        "client_id": "cid.apps.googleusercontent.com", "client_secret": "cs",
        "refresh_token": refresh_token, "token_uri": token_uri,
        "scopes": ["https://www.googleapis.com/auth/calendar.events",
                   "https://www.googleapis.com/auth/gmail.compose"],
    }))
    return path
