"""kill -9 at random moments of the real daemon (``followupd run --interval 1``) against Google.

The Google emulator of ``tests/emulator`` plays Calendar and Gmail; the
daemon is a subprocess with its credentials in keyrings.alt's plaintext file
keyring (test-only, see ``daemon_process.file_keyring_env``).  Writes are
slowed with ``FOLLOWUPD_TEST_SLOW_WRITES`` (read by ``tests/followupd_under_test.py``) so the SIGKILLs
land between the intent, the backend call and the ledger commit.

What it exercises (SPEC §4.4):

* reminders: deterministic event ids; a repeated insert gets a 409 and the
  event is adopted;
* drafts: Gmail takes no client id, so the intent is committed before
  ``drafts.create`` and a pending intent is resolved after the restart by
  ``drafts.list(q=to:…)`` and the ``X-Followupd-Key`` header.

Two kills are planted first, by an emulator hook that SIGKILLs the daemon while
it handles a reminder insert and then a draft create: the write lands, its
answer never arrives, and the restart must adopt it.  Then 20 SIGKILLs at
seeded random moments (0.2–2.5 s after each start).

Between kills: never two reminders for one ``(interview, step)``, never two
drafts with one key.  After a final clean ``run --once``: exactly what an
uninterrupted run writes into a second emulator, nothing left pending, and
nothing sent.
"""

from __future__ import annotations

import os
import random
import sqlite3
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from daemon_helpers import NotifyListener
from daemon_process import DaemonProcess, file_keyring_env, followupd, write_grant
from emulator import Emulator
from followupd.core import ids
from followupd_under_test import SLOW_WRITES as SLOW_WRITES_ENV
from followupd.core.model import DRAFT_KEY_HEADER, PROP_INTERVIEW, PROP_STEP

pytestmark = pytest.mark.slow

SEED = 20261124
KILLS = 20
SLOW_WRITES = "0.1"  # seconds slept before and after each backend write
ACCOUNT = "me@example.com"
PAST_INTERVIEWS = 4  # ended 20–50 minutes ago: thank-you and references drafts are due now
FUTURE_INTERVIEWS = 3
INTERVIEWERS = 3
REFERENCES = (("Dana Lee", "dana@example.org"), ("Sam Okafor", "sam@example.net"))


# ---- the calendar ----------------------------------------------------------------------------

def seed_interviews(emu: Emulator, now: datetime) -> list[str]:
    """The same interviews (same ids, same times) in any emulator; returns their ids."""
    made: list[str] = []
    ends = [now - timedelta(minutes=20 + 10 * i) for i in range(PAST_INTERVIEWS)]
    ends += [now + timedelta(days=1 + i, hours=2) for i in range(FUTURE_INTERVIEWS)]
    for i, end in enumerate(ends):
        company = f"company{i}.example"
        people = [{"email": f"person{j}@{company}", "displayName": f"Person{j} Company{i}",
                   "responseStatus": "accepted"} for j in range(INTERVIEWERS)]
        event = emu.seed_event(
            "primary", id=f"crashiv{i:04d}", summary=f"Interview: Company{i} — Engineer", status="confirmed",
            start={"dateTime": (end - timedelta(hours=1)).isoformat()}, end={"dateTime": end.isoformat()},
            organizer={"email": people[0]["email"]},
            attendees=[{"email": ACCOUNT, "self": True, "responseStatus": "accepted"}, *people])
        made.append(str(event["id"]))
    return made


# ---- what the emulator holds -----------------------------------------------------------------

@dataclass(frozen=True)
class Written:
    """followupd's reminders and drafts in one emulator: how many of each, and what they say."""

    reminders: Counter[tuple[str, str]] = field(default_factory=Counter)  # (interview, step)
    drafts: Counter[str] = field(default_factory=Counter)  # X-Followupd-Key
    says: dict[object, tuple[str, ...]] = field(default_factory=dict)  # either key -> its content

    @property
    def total(self) -> int:
        return sum(self.reminders.values()) + sum(self.drafts.values())

    def duplicates(self) -> list[object]:
        return [k for k, n in self.reminders.items() if n > 1] + [k for k, n in self.drafts.items() if n > 1]


def written(emu: Emulator) -> Written:
    out = Written()
    for event in emu.events("primary"):
        private = event.get("extendedProperties", {}).get("private", {})
        if PROP_INTERVIEW not in private:
            continue
        interview, step = private[PROP_INTERVIEW], private[PROP_STEP]
        # a reminder lives under its deterministic id, never under a server-chosen one
        assert event["id"] == ids.calendar_event_id(ACCOUNT, "primary", interview, step), event
        out.reminders[(interview, step)] += 1
        out.says[(interview, step)] = (event["summary"], event.get("description", ""),
                                       event["start"]["dateTime"], event["end"]["dateTime"])
    for _, _, msg in emu.drafts():
        key = str(msg.get(DRAFT_KEY_HEADER, "")).strip()
        assert key, f"a draft without {DRAFT_KEY_HEADER}: {msg['Subject']!r}"
        out.drafts[key] += 1
        body = msg.get_body(preferencelist=("plain",))
        out.says[key] = (str(msg["To"]), str(msg["Subject"]), str(body.get_content() if body else ""))
    return out


def pending_intents(state_db: Path) -> int:
    """Intents left in the killed daemon's state.db: the kill landed inside a write."""
    if not state_db.exists():
        return 0
    db = sqlite3.connect(state_db)
    try:
        return int(db.execute("SELECT COUNT(*) FROM intents").fetchone()[0])
    except sqlite3.OperationalError:  # killed before the schema was committed
        return 0
    finally:
        db.close()


# ---- one followupd installation ----------------------------------------------------------------

@dataclass
class Install:
    """A home of its own (config, state, file keyring) aimed at one emulator."""

    home: Path
    config: Path

    @property
    def env(self) -> dict[str, str]:
        """What the subprocess needs on top of the test's environment."""
        home = self.home
        return {"HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"),
                "XDG_STATE_HOME": str(home / ".local" / "state"),
                "XDG_DATA_HOME": str(home / ".local" / "share"), "XDG_CACHE_HOME": str(home / ".cache"),
                **file_keyring_env()}

    @property
    def state_db(self) -> Path:
        return self.home / ".local" / "state" / "followupd" / "state.db"

    def followupd(self, *args: str) -> str:
        """``followupd --config CFG ARGS`` to completion (exit 0 required); its stdout."""
        done = followupd("--config", str(self.config), *args, env={**os.environ, **self.env})
        assert done.returncode == 0, f"followupd {' '.join(args)} exited {done.returncode}:\n{done.stderr}"
        return done.stdout


def install(home: Path, emu: Emulator, refresh_token: str) -> Install:
    """Config with two references, and an imported grant, as ``followupd auth import`` does it."""
    config = home / ".config" / "followupd" / "config.toml"
    config.parent.mkdir(parents=True)
    references = "".join(f'\n[[references]]\nname = "{n}"\nemail = "{e}"\n' for n, e in REFERENCES)
    config.write_text(
        f'[me]\nname = "Jordan Rivera"\nemail = "{ACCOUNT}"\n\n'
        '[calendar]\nbackend = "google"\nwatch = ["primary"]\nwrite_to = "primary"\n\n'
        '[mail]\nbackend = "gmail"\n\n'
        f'[google]\naccount = "{ACCOUNT}"\napi_endpoint = "{emu.base_url}"\n\n'
        f'[security]\nallow_insecure_keyring = true\n{references}', encoding="utf-8")
    inst = Install(home, config)
    grant = write_grant(home / "grant.json", emu.token_uri, refresh_token)
    inst.followupd("auth", "import", str(grant))
    grant.unlink()
    return inst


# ---- the test ----------------------------------------------------------------------------------

INSERT_REMINDER = ("POST", r"^/calendar/v3/calendars/[^/]+/events$")
CREATE_DRAFT = ("POST", r"^/gmail/v1/users/[^/]+/drafts$")



@dataclass
class Soak:
    """What the random kills saw: how many landed inside a write or with the work half done."""

    inside_write: int = 0  # intents were pending afterwards
    partial: int = 0  # some but not all of the follow-ups were written
    progress: list[int] = field(default_factory=list)  # follow-ups written after each kill


def test_kill9_of_the_daemon_against_google_never_duplicates_never_loses(
        tmp_path: Path, listener: NotifyListener, daemons: list[DaemonProcess]) -> None:
    now = datetime.now(timezone.utc).replace(microsecond=0)
    with Emulator() as reference_emu, Emulator() as emu:
        seed_interviews(reference_emu, now)
        seed_interviews(emu, now)

        reference = install(tmp_path / "reference", reference_emu, "rt-reference")
        reference.followupd("run", "--once")
        expected = written(reference_emu)
        assert len(expected.drafts) == PAST_INTERVIEWS * (INTERVIEWERS + len(REFERENCES)), expected
        assert len(expected.reminders) >= 30 and not expected.duplicates(), expected

        inst = install(tmp_path / "killed", emu, "rt-killed")

        def daemon(**extra_env: str) -> DaemonProcess:
            d = DaemonProcess(inst.config, listener, tmp_path, interval=1, watchdog_usec=None,
                              extra_env={**inst.env, **extra_env})
            daemons.append(d)
            return d

        # Two kills at known moments first: the write has landed in Google, its answer never
        # reaches the daemon, and the ledger still says PLANNED.  The restarts must adopt them.
        for (method, path), skip in ((INSERT_REMINDER, 2), (CREATE_DRAFT, 1)):
            d = daemon()
            fault = emu.on_request(method, path, d.proc.kill, skip=skip)
            assert d.wait(30) == -9, f"not killed by the {method} {path} hook:\n{d.log()}"
            assert fault.hits == skip + 1 and pending_intents(inst.state_db) >= 1
            assert not written(emu).duplicates()

        # Then SIGKILLs at seeded random moments, writes slowed so they land inside them.
        rng = random.Random(SEED)
        soak = Soak()
        for _ in range(KILLS):
            d = daemon(**{SLOW_WRITES_ENV: SLOW_WRITES})
            time.sleep(rng.uniform(0.2, 2.5))
            assert d.alive(), f"the daemon exited on its own ({d.proc.poll()}):\n{d.log()}"
            d.kill()  # SIGKILL
            now_written = written(emu)
            assert not now_written.duplicates(), (now_written.duplicates(), d.log())
            soak.progress.append(now_written.total)
            soak.inside_write += pending_intents(inst.state_db) > 0
            soak.partial += 0 < now_written.total < expected.total

        final = inst.followupd("run", "--once")
        again = inst.followupd("run", "--once")
        got = written(emu)
        said = "".join(d.log() for d in daemons) + final

    assert soak.inside_write >= 3 and soak.partial >= 3, soak
    assert got == expected, (soak, said)
    assert again.strip() == "nothing to do", again
    assert pending_intents(inst.state_db) == 0
    assert emu.violations == [] and reference_emu.violations == []
    # the two planted interrupted writes were adopted, not written again (the counts above say so too)
    assert "resolved the interrupted write of reminder" in said, said
    assert "found it, adopted" in said, said
