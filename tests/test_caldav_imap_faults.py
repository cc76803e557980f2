"""Faults on CalDAV + IMAP against real servers (issue #13): a server that stops in the middle of a pass
and comes back, and kill -9 of ``run --once`` at random moments.  After each: every follow-up once,
nothing lost, nothing said to be "unexpected"."""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import tempfile
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Iterator

import pytest

from followupd.core.model import DRAFT_KEY_HEADER
from followupd.errors import TransientError
from followupd_under_test import SLOW_WRITES, command
from servers import Dovecot, Radicale, followupd_toml
from test_caldav_calendar import NOW, Person as CalendarPerson
from test_caldav_imap_e2e import World
from test_imap_drafts import Person as MailPerson

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def own_servers() -> Iterator[tuple[Radicale, Dovecot]]:
    """Servers of this test alone: it stops and starts them."""
    binary = shutil.which("dovecot") or "/usr/sbin/dovecot"
    folder = Path(tempfile.mkdtemp(prefix="followupd-faults-"))
    folder.chmod(0o755)
    (folder / "r").mkdir()
    (folder / "d").mkdir()
    (folder / "d").chmod(0o755)
    radicale, dovecot = Radicale(folder / "r"), Dovecot(folder / "d", binary)
    radicale.start()
    dovecot.start()
    yield radicale, dovecot
    radicale.stop()
    dovecot.stop()
    shutil.rmtree(folder, ignore_errors=True)


def _invite_four(person: CalendarPerson) -> None:
    for i, hours in enumerate((-26, -3, 30, 75)):
        person.invite("Work", f"interview-{i}", NOW + timedelta(hours=hours), title=f"Interview: Company{i}")


def _drafts(person: MailPerson) -> Counter[str]:
    person.imap.noop()
    typ, data = person.imap.uid("SEARCH", "ALL")
    keys: Counter[str] = Counter()
    for uid in data[0].split():
        typ, got = person.imap.uid("FETCH", uid, f"(BODY.PEEK[HEADER.FIELDS ({DRAFT_KEY_HEADER})])")
        keys[got[0][1].decode().split(":", 1)[1].strip()] += 1
    return keys


def _reminders(person: CalendarPerson) -> Counter[tuple[str, str]]:
    found: Counter[tuple[str, str]] = Counter()
    for e in person.calendar("Work").events():
        comp = e.icalendar_component
        if comp.get("X-FOLLOWUPD-INTERVIEW") is not None:
            found[(str(comp["X-FOLLOWUPD-INTERVIEW"]), str(comp["X-FOLLOWUPD-STEP"]))] += 1
    return found


@pytest.mark.parametrize("which", ["dovecot", "radicale"])
def test_a_server_that_stops_mid_pass_and_comes_back(own_servers: tuple[Radicale, Dovecot], which: str) -> None:
    radicale, dovecot = own_servers
    world = World(radicale, dovecot)
    _invite_four(world.calendar)
    engine = world.engine
    sink = engine.backends.drafts if which == "dovecot" else engine.backends.events
    server = dovecot if which == "dovecot" else radicale
    real = sink.create
    writes = []

    def create(f):  # type: ignore[no-untyped-def]
        made = real(f)
        writes.append(made)
        if len(writes) == 1:
            server.stop()  # the server goes away right after the first write of the pass
        return made

    sink.create = create  # type: ignore[method-assign]
    with pytest.raises(TransientError) as failed:
        engine.run_pass()
    assert "unexpected" not in str(failed.value)
    server.start()
    sink.create = real  # type: ignore[method-assign]
    world.now += timedelta(minutes=1)
    engine.run_pass()
    reminders, drafts = _reminders(world.calendar), _drafts(world.mail())
    assert reminders and drafts
    assert all(n == 1 for n in reminders.values()) and all(n == 1 for n in drafts.values())
    assert not engine.state.pending_intents() and not engine.state.failing()
    world.restart()


@pytest.mark.slow
def test_kill9_never_duplicates_never_loses(radicale: Radicale, dovecot: Dovecot, tmp_path: Path) -> None:
    def setup(name: str) -> tuple[Path, dict[str, str], CalendarPerson, MailPerson]:
        cal, mail = radicale.new_account(), dovecot.new_account()
        person = CalendarPerson(radicale, cal)
        person.calendar("Work")
        _invite_four(person)
        base = tmp_path / name
        base.mkdir()
        config = base / "config.toml"
        config.write_text(followupd_toml(radicale, cal, dovecot, mail, extra="""
[security]
allow_insecure_keyring = true   # the subprocesses keep the app passwords in a file keyring in this HOME

[[references]]
name = "Dana Lee"
email = "dana@example.org"
"""))
        config.chmod(0o600)
        env = dict(os.environ, HOME=str(base), XDG_STATE_HOME=str(base / "state"), XDG_CONFIG_HOME=str(base / "cfg"),
                   XDG_DATA_HOME=str(base / "data"), PYTHON_KEYRING_BACKEND="keyrings.alt.file.PlaintextKeyring",
                   PYTHONPATH=str(ROOT))
        for which, secret in (("caldav", cal.password), ("imap", mail.password)):
            done = subprocess.run(command("--config", str(config), "auth", "login", f"--{which}", "--password-stdin"),
                                  input=secret + "\n", env=env, capture_output=True, text=True, timeout=120)
            assert done.returncode == 0, done.stderr
        return config, env, person, MailPerson(dovecot, mail)

    def run(config: Path, env: dict[str, str], kill_after: float | None = None) -> None:
        proc = subprocess.Popen(command("--config", str(config), "--quiet", "run", "--once"), env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if kill_after is None:
            _, err = proc.communicate(timeout=180)
            assert proc.returncode == 0, err.decode()
            return
        time.sleep(kill_after)
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=30)

    ref_config, ref_env, ref_cal, ref_mail = setup("reference")
    run(ref_config, ref_env)
    expected_reminders, expected_drafts = _reminders(ref_cal), _drafts(ref_mail)
    assert expected_reminders and expected_drafts

    config, env, cal, mail = setup("killed")
    env[SLOW_WRITES] = "0.05"
    rng = random.Random(20261202)
    progress = []
    for _ in range(15):
        run(config, env, kill_after=rng.uniform(0.8, 3.5))
        reminders, drafts = _reminders(cal), _drafts(mail)
        assert all(n == 1 for n in reminders.values()), reminders
        assert all(n == 1 for n in drafts.values()), drafts
        progress.append(len(reminders) + len(drafts))
    total = len(expected_reminders) + len(expected_drafts)
    assert any(0 < n < total for n in progress), f"no kill landed mid-pass: {progress}"
    run(config, env)
    assert _reminders(cal) == expected_reminders
    assert _drafts(mail) == expected_drafts
