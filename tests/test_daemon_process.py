"""The real ``followupd run`` as a subprocess, on the local default (ICS + Maildir).

Each test owns a notify socket standing in for systemd's and sets
``WATCHDOG_USEC``, so READY/WATCHDOG/STATUS/STOPPING are observed as systemd
would see them.
"""

from __future__ import annotations

import os
import re
import signal
import time
from pathlib import Path

import icalendar
import pytest

from daemon_helpers import NotifyListener
from daemon_process import DaemonProcess, followupd, interview, local_config, write_ics

pytestmark = pytest.mark.slow

TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d")



def drafts_in(maildir: Path) -> list[str]:
    """The ``X-Followupd-Key`` of every draft in a Maildir."""
    keys = []
    for sub in ("new", "cur"):
        folder = maildir / sub
        for f in sorted(folder.iterdir()) if folder.is_dir() else []:
            found = re.search(r"^X-Followupd-Key:\s*(\S+)", f.read_text(errors="replace"), re.MULTILINE)
            assert found, f"a draft without its key: {f}"
            keys.append(found.group(1))
    return keys


def reminders_in(ics: Path) -> list[str]:
    if not ics.exists():
        return []
    cal = icalendar.Calendar.from_ical(ics.read_bytes())
    return [str(e["UID"]) for e in cal.walk("VEVENT")]


def test_ready_watchdog_status_and_sigterm(isolated_home: Path, tmp_path: Path, listener: NotifyListener,
                                           daemons: list[DaemonProcess]) -> None:
    write_ics(isolated_home / "interviews.ics", [interview("a1")])
    d = DaemonProcess(local_config(isolated_home), listener, tmp_path, interval=1, watchdog_usec=2_000_000)
    daemons.append(d)
    ready = listener.wait_for(lambda m: m.fields.get("READY") == "1", timeout=30)
    listener.wait_for(lambda m: m.at > ready.at + 3.5 and "WATCHDOG" in m.fields, timeout=10)
    pings = [m.at for m in listener.messages("WATCHDOG") if m.at > ready.at]
    assert len(pings) >= 3
    gaps = [b - a for a, b in zip(pings, pings[1:])]
    assert max(gaps) <= 1.0 + 0.35, gaps  # every half of WATCHDOG_USEC (plus scheduling slack)
    statuses = listener.statuses()
    assert len(statuses) >= 3 and all("\n" not in s for s in statuses)
    assert any("interview" in s for s in statuses), statuses
    code, took = d.stop()
    assert code == 0 and took < 5, d.log()
    assert listener.wait_for(lambda m: "STOPPING" in m.fields, timeout=2)
    assert "Traceback" not in d.log()


def test_no_watchdog_pings_meant_for_another_process(
        isolated_home: Path, tmp_path: Path, listener: NotifyListener, daemons: list[DaemonProcess]) -> None:
    write_ics(isolated_home / "interviews.ics", [])
    d = DaemonProcess(local_config(isolated_home), listener, tmp_path, extra_env={"WATCHDOG_PID": "1"})
    daemons.append(d)
    listener.wait_for(lambda m: m.fields.get("READY") == "1", timeout=30)
    time.sleep(1.5)
    assert listener.messages("WATCHDOG") == []
    assert d.stop()[0] == 0


def test_sighup_reload_refuses_a_bad_config_and_applies_a_good_one(
        isolated_home: Path, tmp_path: Path, listener: NotifyListener, daemons: list[DaemonProcess]) -> None:
    write_ics(isolated_home / "interviews.ics", [interview("r1")])
    cfg = local_config(isolated_home)
    good = cfg.read_text()
    d = DaemonProcess(cfg, listener, tmp_path)
    daemons.append(d)
    listener.wait_for(lambda m: m.fields.get("READY") == "1", timeout=30)
    d.wait_log("created")
    assert reminders_in(isolated_home / "followups.ics")

    cfg.write_text(good + "\n[plan]\nlookback_days = 'fourteen'\n")
    d.signal(signal.SIGHUP)
    text = d.wait_log("reload refused")
    refused = [line for line in text.splitlines() if "reload refused" in line]
    assert len(refused) == 1 and "lookback_days" in refused[0]
    n = len(listener.statuses())
    listener.wait_for(lambda m: len(listener.statuses()) >= n + 2, timeout=10)  # still passing
    assert d.alive()

    # a good config reading another calendar, which has one more interview: the new engine uses it
    before = reminders_in(isolated_home / "followups.ics")
    write_ics(isolated_home / "other.ics", [interview("r1"), interview("r2")])
    cfg.write_text(good.replace("interviews.ics", "other.ics"))
    d.signal(signal.SIGHUP)
    d.wait_log("configuration reloaded")
    deadline = time.monotonic() + 15
    while len(reminders_in(isolated_home / "followups.ics")) <= len(before) and time.monotonic() < deadline:
        time.sleep(0.1)
    after = set(reminders_in(isolated_home / "followups.ics"))
    assert after - set(before), "the new engine read the other calendar"
    # r1 and r2 are two rounds of one application: only r1's check-in gives way to r2's (SPEC §2)
    assert len(set(before) - after) <= 1
    assert d.stop()[0] == 0


def test_journal_mode_has_priorities_and_no_timestamps(
        isolated_home: Path, tmp_path: Path, listener: NotifyListener, daemons: list[DaemonProcess]) -> None:
    write_ics(isolated_home / "interviews.ics", [interview("j1")])
    d = DaemonProcess(local_config(isolated_home), listener, tmp_path, journal=True, args=("--verbose",))
    daemons.append(d)
    d.wait_log("pass done")
    assert d.stop()[0] == 0
    lines = [line for line in d.log().splitlines() if line]
    assert lines and all(re.match(r"<[0-7]>", line) for line in lines), lines
    assert not any(TIMESTAMP.match(line[3:]) for line in lines), lines
    assert any(line.startswith("<6>") and "created" in line for line in lines)


def test_terminal_mode_has_timestamps(isolated_home: Path, tmp_path: Path, listener: NotifyListener,
                                      daemons: list[DaemonProcess]) -> None:
    write_ics(isolated_home / "interviews.ics", [interview("t1")])
    d = DaemonProcess(local_config(isolated_home), listener, tmp_path)
    daemons.append(d)
    d.wait_log("created")
    assert d.stop()[0] == 0
    assert all(TIMESTAMP.match(line) for line in d.log().splitlines() if line)


def test_config_error_at_startup_exits_2(isolated_home: Path, tmp_path: Path, listener: NotifyListener,
                                         daemons: list[DaemonProcess]) -> None:
    cfg = local_config(isolated_home, extra="[plan]\nlookback_days = -3\n")
    d = DaemonProcess(cfg, listener, tmp_path)
    daemons.append(d)
    assert d.wait(30) == 2
    assert "lookback_days" in d.log() and "Traceback" not in d.log()


def test_sigterm_during_a_slow_write_commits_it(
        isolated_home: Path, tmp_path: Path, listener: NotifyListener, daemons: list[DaemonProcess]) -> None:
    """Stopped mid-pass, the write in flight is committed; the next run neither
    repeats it nor loses what was still to do."""
    write_ics(isolated_home / "interviews.ics", [interview("s1", interviewers=3)])
    cfg = local_config(isolated_home)
    d = DaemonProcess(cfg, listener, tmp_path, extra_env={"FOLLOWUPD_TEST_SLOW_WRITES": "0.7"})
    daemons.append(d)
    d.wait_log("created", timeout=30)  # at least one write done, more in flight
    code, took = d.stop()
    assert code == 0 and took < 5, d.log()
    assert "Traceback" not in d.log()

    done = followupd("--config", str(cfg), "run", "--once")
    assert done.returncode == 0, done.stderr
    maildir = isolated_home / "Mail" / "Drafts"
    keys = drafts_in(maildir)
    uids = reminders_in(isolated_home / "followups.ics")
    assert len(keys) == len(set(keys)) and len(uids) == len(set(uids))  # no duplicates

    # the same calendar planned in one uninterrupted run: nothing was lost
    ref_cfg = local_config(isolated_home, name="ref.toml", output="ref.ics", maildir="Ref/Drafts")
    ref_env = {**os.environ, "XDG_STATE_HOME": str(tmp_path / "ref-state")}
    ref = followupd("--config", str(ref_cfg), "run", "--once", env=ref_env)
    assert ref.returncode == 0, ref.stderr
    assert sorted(keys) == sorted(drafts_in(isolated_home / "Ref" / "Drafts"))
    assert len(uids) == len(reminders_in(isolated_home / "ref.ics"))
    assert keys, "the scenario should have written drafts"
    written_before_stop = d.log().count("created ")
    assert 0 < written_before_stop < len(ref.stdout.splitlines()), "SIGTERM should have landed mid-pass"
