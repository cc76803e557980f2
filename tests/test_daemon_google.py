"""The real ``followupd run`` against the Google emulator, as a subprocess.

The subprocess keeps its credentials in keyrings.alt's plaintext file keyring
(under the test's own XDG_DATA_HOME), accepted only because the test config
sets ``allow_insecure_keyring = true``: conftest's in-memory keyring cannot
cross into another process.
"""

from __future__ import annotations

import signal
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from daemon_helpers import NotifyListener
from daemon_process import DaemonProcess, file_keyring_env, followupd, google_config, write_grant
from emulator import Emulator

pytestmark = pytest.mark.slow

WRITES = ("POST", "PUT", "PATCH", "DELETE")



@pytest.fixture
def keyring_env(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    for key, value in file_keyring_env().items():
        monkeypatch.setenv(key, value)
    return file_keyring_env()


def seed_interview(emu: Emulator, ends_in_minutes: int = 30) -> dict[str, Any]:
    end = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(minutes=ends_in_minutes)
    return emu.seed_event(
        "primary", summary="Interview: Acme", status="confirmed",
        start={"dateTime": (end - timedelta(hours=1)).isoformat()}, end={"dateTime": end.isoformat()},
        organizer={"email": "lee@acme.example"},
        attendees=[{"email": emu.account, "self": True, "responseStatus": "accepted"},
                   {"email": "lee@acme.example", "displayName": "Lee Park", "responseStatus": "accepted"}])


def import_grant(home: Path, cfg: Path, emu: Emulator, refresh_token: str) -> None:
    grant = write_grant(home / f"{refresh_token}.json", emu.token_uri, refresh_token)
    done = followupd("--config", str(cfg), "auth", "import", str(grant))
    assert done.returncode == 0, done.stderr


def test_idle_passes_cost_one_request_each(
        isolated_home: Path, tmp_path: Path, listener: NotifyListener, daemons: list[DaemonProcess],
        google_emulator: Emulator, keyring_env: dict[str, str]) -> None:
    emu = google_emulator
    seed_interview(emu, ends_in_minutes=600)
    cfg = google_config(isolated_home, emu.base_url)
    import_grant(isolated_home, cfg, emu, "rt-idle")
    d = DaemonProcess(cfg, listener, tmp_path, interval=1)
    daemons.append(d)
    listener.wait_for(lambda m: m.fields.get("READY") == "1", timeout=30)
    listener.wait_for(lambda m: len(listener.statuses()) >= 4, timeout=20)  # settled after the first passes

    d.signal(signal.SIGSTOP)  # freeze it so the request log and the status count line up
    try:
        time.sleep(0.2)
        emu.clear_log()
        before = len(listener.statuses())
    finally:
        d.signal(signal.SIGCONT)
    listener.wait_for(lambda m: len(listener.statuses()) >= before + 4, timeout=20)
    d.signal(signal.SIGSTOP)
    try:
        time.sleep(0.2)
        passes = len(listener.statuses()) - before
        requests = emu.log()
    finally:
        d.signal(signal.SIGCONT)
    assert d.stop()[0] == 0
    assert all(r.api == "calendar" and r.method == "GET" for r in requests), requests
    # one events.list per pass; a pass frozen between its request and its STATUS shifts the count by one
    assert passes >= 4 and passes - 1 <= len(requests) <= passes, (passes, requests)
    assert emu.log("gmail") == []


def test_revoked_grant_waits_writes_nothing_and_recovers_after_import(
        isolated_home: Path, tmp_path: Path, listener: NotifyListener, daemons: list[DaemonProcess],
        google_emulator: Emulator, keyring_env: dict[str, str]) -> None:
    emu = google_emulator
    cfg = google_config(isolated_home, emu.base_url)
    import_grant(isolated_home, cfg, emu, "rt-old")
    d = DaemonProcess(cfg, listener, tmp_path, interval=1,
                      extra_env={"FOLLOWUPD_TEST_AUTH_RETRY": "2"})
    daemons.append(d)
    listener.wait_status("watching", timeout=30)

    emu.revoke_grant()  # every refresh token so far, and any used later, until restored
    emu.expire_access_tokens()
    listener.wait_status("authorization needed: run followupd auth login", timeout=15)
    assert "followupd auth login" in d.log()
    emu.clear_log()
    seed_interview(emu)  # a new interview while unauthorized: nothing may be written for it
    time.sleep(3)  # at least one retry while still revoked
    assert [r for r in emu.log() if r.method in WRITES and r.api != "oauth"] == []
    assert d.alive()

    emu.restore_grant()  # the person authorizes again; a fresh grant is imported
    import_grant(isolated_home, cfg, emu, "rt-new")
    imported = time.monotonic()
    listener.wait_for(lambda m: "watching" in m.fields.get("STATUS", "") and m.at > imported, timeout=15)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and not [e for e in emu.events() if "followupd_interview" in
                                               e.get("extendedProperties", {}).get("private", {})]:
        time.sleep(0.1)
    assert [e for e in emu.events() if "followupd_interview" in e.get("extendedProperties", {}).get("private", {})]
    assert d.stop()[0] == 0
    assert "rt-old" not in d.log() and "rt-new" not in d.log()  # no token in the log


def test_transient_outage_backs_off_and_the_daemon_survives(
        isolated_home: Path, tmp_path: Path, listener: NotifyListener, daemons: list[DaemonProcess],
        google_emulator: Emulator, keyring_env: dict[str, str]) -> None:
    emu = google_emulator
    cfg = google_config(isolated_home, emu.base_url)
    import_grant(isolated_home, cfg, emu, "rt-flaky")
    emu.fail("GET", "/calendar/v3/calendars/primary/events", status=503, times=50)
    d = DaemonProcess(cfg, listener, tmp_path, interval=1)
    daemons.append(d)
    listener.wait_status("retrying in", timeout=60)
    assert d.alive()
    assert "temporary failure" in d.log()
    assert d.stop()[0] == 0
