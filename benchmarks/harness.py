"""What the benchmarks share: a throw-away home with a Google config aimed at the
test emulator, credentials the ``followupd`` subprocesses can read, seeded
calendars, a daemon subprocess whose passes can be counted, and the result rows.

The emulator and the notify-socket listener come from ``tests/`` (put on
``sys.path`` here), so the benchmarks drive exactly what the test suite drives.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parent.parent
TESTS = ROOT / "tests"
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))

from daemon_helpers import NotifyListener  # noqa: E402  (tests/ must be on sys.path first)
from emulator import Emulator  # noqa: E402

SCOPES = ["https://www.googleapis.com/auth/calendar.events", "https://www.googleapis.com/auth/gmail.compose"]
ACCOUNT = "me@example.com"
PYCACHE = Path(tempfile.gettempdir()) / "followupd-bench-pycache"
TIME_ZONE = "America/New_York"
_OTHER_TITLES = ("Standup", "1:1 with Sam", "Dentist", "Gym", "Lunch with Alex", "Team sync",
                 "Planning", "Focus time", "Book club", "Groceries", "Call mom", "Yoga")


# ---------------------------------------------------------------- results

@dataclass(frozen=True)
class Row:
    """One line of the results table."""

    benchmark: str
    measured: str
    target: str
    ratio: str = ""
    ok: bool | None = None  # None: informational, no target

    @property
    def verdict(self) -> str:
        return {True: "PASS", False: "MISS", None: "info"}[self.ok]


def print_table(rows: list[Row], out: Callable[[str], None] = print) -> None:
    """The rows as a markdown table (it pastes straight into the README)."""
    head = ("benchmark", "measured", "target", "ratio", "verdict")
    cells = [head] + [(r.benchmark, r.measured, r.target, r.ratio, r.verdict) for r in rows]
    widths = [max(len(c[i]) for c in cells) for i in range(len(head))]
    for n, line in enumerate(cells):
        out("| " + " | ".join(c.ljust(w) for c, w in zip(line, widths)) + " |")
        if n == 0:
            out("|" + "|".join("-" * (w + 2) for w in widths) + "|")


def median(values: list[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def rss_kib(pid: int | str = "self") -> int:
    """Resident set size (``VmRSS``) of a process, in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (``/proc/<pid>/stat``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# ---------------------------------------------------------------- calendars

def seed_calendar(emu: Emulator, *, events: int, interviews: int, start: datetime, days: float,
                  calendar_id: str = "primary") -> list[str]:
    """``events`` timed events spread evenly over ``days`` from ``start``, of which
    ``interviews`` (spread evenly too) are interviews with two interviewers.
    Returns the interview ids."""
    step = timedelta(days=days) / max(events, 1)
    every = max(events // max(interviews, 1), 1)
    interview_ids: list[str] = []
    for n in range(events):
        begin = (start + step * n).replace(microsecond=0)
        resource: dict[str, Any] = {
            "id": f"ev{n:07d}", "start": {"dateTime": begin.isoformat()},
            "end": {"dateTime": (begin + timedelta(minutes=45)).isoformat()},
            "attendees": [{"email": ACCOUNT, "self": True, "responseStatus": "accepted"},
                          {"email": f"friend{n % 17}@example.org", "displayName": f"Friend {n % 17}",
                           "responseStatus": "accepted"}],
        }
        if n % every == every // 2 and len(interview_ids) < interviews:
            interview_ids.append(resource["id"])
            resource.update(
                summary=f"Interview: Company {n} – Engineer", organizer={"email": f"lee{n}@company{n}.example"},
                description="Video call. decision: " + (begin + timedelta(days=20)).date().isoformat())
            resource["attendees"] = [resource["attendees"][0],
                                     {"email": f"lee{n}@company{n}.example", "displayName": f"Lee Park {n}",
                                      "responseStatus": "accepted"},
                                     {"email": f"kim{n}@company{n}.example", "displayName": f"Kim Tran {n}",
                                      "responseStatus": "accepted"}]
        else:
            resource.update(summary=_OTHER_TITLES[n % len(_OTHER_TITLES)],
                            description="Notes: bring the laptop and the agenda. " * 2)
        emu.seed_event(calendar_id, **resource)
    return interview_ids


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


# ---------------------------------------------------------------- a throw-away home

class Sandbox:
    """A temporary HOME/XDG tree with a Google config aimed at ``emu`` and a stored grant.

    The ``followupd`` subprocesses keep their credentials in keyrings.alt's
    plaintext file keyring (under this sandbox's XDG_DATA_HOME), which the
    config accepts with ``allow_insecure_keyring = true``.  That is fine for a
    benchmark against an emulator and nothing else: a real install uses the
    OS keyring.
    """

    def __init__(self, emu: Emulator, *, extra_config: str = "") -> None:
        self.emu = emu
        self.dir = Path(tempfile.mkdtemp(prefix="followupd-bench-"))
        self.home = self.dir / "home"
        self.env = dict(os.environ)
        for key in ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "JOURNAL_STREAM", "FOLLOWUPD_CONFIG",
                    "PYTHONDONTWRITEBYTECODE"):
            self.env.pop(key, None)
        # An installed followupd has byte code; a checkout run with PYTHONDONTWRITEBYTECODE would
        # compile every module on every start.  Keep the byte code out of the checkout.
        self.env["PYTHONPYCACHEPREFIX"] = str(PYCACHE)
        self.env.update(
            HOME=str(self.home), XDG_CONFIG_HOME=str(self.home / ".config"),
            XDG_STATE_HOME=str(self.home / ".local" / "state"), XDG_DATA_HOME=str(self.home / ".local" / "share"),
            XDG_CACHE_HOME=str(self.home / ".cache"), PYTHON_KEYRING_BACKEND="keyrings.alt.file.PlaintextKeyring",
            PYTHONPATH=str(ROOT))
        self.config = self.home / ".config" / "followupd" / "config.toml"
        self.config.parent.mkdir(parents=True)
        self.config.write_text(
            f'[me]\nname = "Jordan Rivera"\nemail = "{ACCOUNT}"\n\n'
            '[calendar]\nbackend = "google"\nwatch = ["primary"]\nwrite_to = "primary"\n\n'
            '[mail]\nbackend = "gmail"\n\n'
            f'[google]\naccount = "{ACCOUNT}"\napi_endpoint = "{emu.base_url}"\n\n'
            '[[references]]\nname = "Dana Lee"\nemail = "dana@example.org"\n\n'
            '[security]\nallow_insecure_keyring = true  # benchmark only: a file keyring the subprocess can read\n'
            + extra_config, encoding="utf-8")
        self.grant = self.dir / "grant.json"
        self.grant.write_text(json.dumps(self.grant_info()), encoding="utf-8")
        done = self.followupd("auth", "import", str(self.grant))
        if done.returncode != 0:
            raise RuntimeError(f"auth import failed: {done.stderr}")

    def grant_info(self) -> dict[str, Any]:
        """An authorized-user dict whose refreshes go to the emulator."""
        return {"client_id": "cid.apps.googleusercontent.com", "client_secret": "cs",
                "refresh_token": "rt-bench", "token_uri": self.emu.token_uri, "scopes": SCOPES}

    def followupd(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        """``python -m followupd --config CFG ARGS`` to completion."""
        return subprocess.run([sys.executable, "-m", "followupd", "--config", str(self.config), *args],
                              env=self.env, cwd=ROOT, capture_output=True, text=True, timeout=timeout)

    def reset_state(self) -> None:
        """Forget everything followupd remembered (sync tokens, ledger)."""
        shutil.rmtree(self.home / ".local" / "state", ignore_errors=True)

    def close(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Daemon:
    """``followupd run --interval N`` as a subprocess; each pass ends with a ``STATUS=``
    on our notify socket, which is how passes are counted."""

    def __init__(self, box: Sandbox, interval: int) -> None:
        self.listener = NotifyListener()
        self.log_path = box.dir / f"daemon-{time.monotonic_ns()}.log"
        self._log = open(self.log_path, "w")  # noqa: SIM115 - closed in stop()
        env = dict(box.env, NOTIFY_SOCKET=self.listener.path)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "followupd", "--config", str(box.config), "run", "--interval", str(interval)],
            env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=self._log)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def passes(self) -> int:
        return len(self.listener.statuses())

    def wait_passes(self, count: int, timeout: float) -> float:
        """Wait until ``count`` passes have ended; returns the monotonic time the last one did."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            statuses = self.listener.messages("STATUS")
            if len(statuses) >= count:
                return statuses[count - 1].at
            if self.proc.poll() is not None:
                break
            time.sleep(0.005)
        raise RuntimeError(f"the daemon made {self.passes()} of {count} passes within {timeout}s "
                           f"(exit {self.proc.poll()}):\n{self.log_path.read_text()[-2000:]}")

    def last_status(self) -> str:
        statuses = self.listener.statuses()
        return statuses[-1] if statuses else ""

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(15)
        self._log.close()
        self.listener.close()

    def __enter__(self) -> Daemon:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
