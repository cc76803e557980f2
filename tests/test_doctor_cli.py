"""`followupd doctor`: one line per check, a fix for each failure, the most serious exit code."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import keyring
import pytest
from keyrings.alt.file import PlaintextKeyring

from followupd.cli.app import main
from followupd.cli.doctor import Failed, Report

from auth_helpers import authorized_user, write_config
from emulator import Emulator

ICS = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//test//EN
X-WR-TIMEZONE:Europe/Berlin
END:VCALENDAR
"""


def _lines(out: str) -> dict[str, str]:
    """check name -> status (the last line of that name wins)."""
    result = {}
    for line in out.splitlines():
        m = re.match(r"^(ok|FAIL|skip|info)\s+(\S+(?: \S+)?)\s{2,}", line)
        if m:
            result[m.group(2)] = m.group(1)
    return result


def _install_unit(home: Path, config: Path | None = None) -> None:
    """``followupd service install`` for this config (the unit with its ReadWritePaths)."""
    from followupd.cli import service
    from followupd.config.loader import load

    config = config or home / ".config" / "followupd" / "config.toml"
    plan = service.plan_install(load(config), config)
    service.install_unit(plan.text, plan.destination)


def _doctor(config: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["--config", str(config), "doctor"])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out


@pytest.fixture
def local_config(isolated_home: Path) -> Path:
    (isolated_home / "interviews.ics").write_text(ICS)
    return write_config(isolated_home, calendar="ics", mail="maildir")


def test_missing_config(isolated_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = _doctor(isolated_home / "nope.toml", capsys)
    assert code == 2
    assert _lines(out) == {"config": "FAIL", "everything else": "skip"}
    assert "followupd init" in out


def test_local_setup_all_ok(local_config: Path, isolated_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _install_unit(isolated_home, local_config)
    code, out = _doctor(local_config, capsys)
    assert code == 0, out
    assert _lines(out) == {"config": "ok", "me": "ok", "state directory": "skip", "follow-ups": "skip",
                           "google": "skip", "ics source": "ok", "ics output": "ok", "maildir": "ok",
                           "systemd unit": "ok"}
    assert "(will be created)" in out


def test_a_unit_not_installed_is_information_and_a_healthy_local_setup_exits_0(
        local_config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = _doctor(local_config, capsys)
    assert code == 0, out
    assert _lines(out)["systemd unit"] == "info" and "followupd service install" in out
    assert "FAIL" not in out


def test_a_unit_whose_write_paths_the_config_moved_fails_with_the_fix(
        local_config: Path, isolated_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _install_unit(isolated_home, local_config)
    (isolated_home / "Mail2").mkdir()
    local_config.write_text(local_config.read_text().replace("Mail/Drafts", "Mail2/Drafts"))
    code, out = _doctor(local_config, capsys)
    assert code == 1 and _lines(out)["systemd unit"] == "FAIL"
    assert "Mail2/Drafts" in out and "run `followupd service install` again" in out


def test_the_starters_placeholder_me_fails(local_config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = re.sub(r'email = ".*"', 'email = "you@example.com"', local_config.read_text(), count=1)
    local_config.write_text(text)
    code, out = _doctor(local_config, capsys)
    assert code == 2 and _lines(out)["me"] == "FAIL" and "placeholder" in out


def test_follow_ups_needing_attention_are_listed_with_the_fix(
        local_config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from datetime import datetime, timezone

    from followupd.core.model import Failure, Kind, LedgerEntry, Status
    from followupd.store.state import State

    with State() as st:
        st.put_entry(LedgerEntry("k", "iv1", "thank-you", Kind.DRAFT, "sam@acme.com", Status.PLANNED,
                                 datetime(2026, 11, 24, tzinfo=timezone.utc), title="Great speaking with you",
                                 failure=Failure("write", 5, "Gmail answered 400 invalidArgument", None)))
    code, out = _doctor(local_config, capsys)
    assert code == 1 and _lines(out)["follow-ups"] == "FAIL"
    assert "Great speaking with you" in out and "invalidArgument" in out and "followupd retry" in out
    assert main(["--config", str(local_config), "retry"]) == 0
    assert "will try again: draft 'Great speaking with you' to sam@acme.com" in capsys.readouterr().out
    code, out = _doctor(local_config, capsys)
    assert code == 0 and _lines(out)["follow-ups"] == "ok"


def test_unreadable_ics_source_is_a_config_failure(local_config: Path, isolated_home: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    _install_unit(isolated_home)
    (isolated_home / "interviews.ics").unlink()
    code, out = _doctor(local_config, capsys)
    assert code == 2
    assert _lines(out)["ics source"] == "FAIL"


def test_config_writable_by_others(local_config: Path, isolated_home: Path,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    _install_unit(isolated_home)
    local_config.chmod(0o666)
    code, out = _doctor(local_config, capsys)
    assert code == 2 and f"fix: chmod 600 {local_config}" in out


def test_state_dir_not_private(local_config: Path, isolated_home: Path,
                               capsys: pytest.CaptureFixture[str]) -> None:
    _install_unit(isolated_home)
    state = isolated_home / ".local" / "state" / "followupd"
    state.mkdir(parents=True, mode=0o755)
    state.chmod(0o755)
    (state / "state.db").write_bytes(b"")
    code, out = _doctor(local_config, capsys)
    assert code == 1
    assert _lines(out)["state directory"] == "FAIL" and "chmod 700" in out


# --- Google ------------------------------------------------------------------------------------

@pytest.fixture
def google_setup(isolated_home: Path, google_emulator: Emulator, tmp_path: Path) -> Path:
    config = write_config(isolated_home, account=google_emulator.account, api_endpoint=google_emulator.base_url)
    creds = tmp_path / "u.json"
    creds.write_text(json.dumps(authorized_user(token_uri=google_emulator.token_uri)))
    assert main(["--config", str(config), "auth", "import", str(creds)]) == 0
    _install_unit(isolated_home)
    return config


def test_google_setup_all_ok(google_setup: Path, google_emulator: Emulator,
                             capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    code, out = _doctor(google_setup, capsys)
    assert code == 0, out
    lines = _lines(out)
    for name in ("keyring", "credentials", "token refresh", "calendar", "gmail"):
        assert lines[name] == "ok", out
    assert "'primary' reachable (time zone America/New_York, access owner) · reminders are written here" in out
    # only cheap calls: one events.list of one item, one drafts.list of one item
    api = [(r.method, r.path, r.query) for r in google_emulator.log() if r.api != "oauth"]
    assert [(m, p) for m, p, _ in api] == [("GET", "/calendar/v3/calendars/primary/events"),
                                          ("GET", "/gmail/v1/users/me/drafts")]
    assert all("maxResults=1" in q for _, _, q in api)


def test_a_write_to_calendar_the_account_may_only_read_fails_with_the_fix(
        google_setup: Path, google_emulator: Emulator, capsys: pytest.CaptureFixture[str]) -> None:
    google_emulator.set_access_role("primary", "reader")
    capsys.readouterr()
    code, out = _doctor(google_setup, capsys)
    assert code == 2 and _lines(out)["calendar"] == "FAIL"
    assert "accessRole reader" in out and "Make changes to events" in out and "[calendar] write_to" in out


def test_google_without_credentials(isolated_home: Path, google_emulator: Emulator,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(isolated_home, account=google_emulator.account, api_endpoint=google_emulator.base_url)
    code, out = _doctor(config, capsys)
    assert code == 3
    lines = _lines(out)
    assert lines["credentials"] == "FAIL"
    assert lines["token refresh"] == lines["calendar"] == lines["gmail"] == "skip"
    assert "fix: run `followupd auth login`" in out


def test_google_with_an_insecure_keyring(isolated_home: Path, google_emulator: Emulator,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(isolated_home, account=google_emulator.account, api_endpoint=google_emulator.base_url)
    keyring.set_keyring(PlaintextKeyring())
    code, out = _doctor(config, capsys)
    assert code == 3
    assert _lines(out)["keyring"] == "FAIL"
    assert "insecure keyring" in out and "allow_insecure_keyring" in out


def test_google_with_a_revoked_grant(google_setup: Path, google_emulator: Emulator,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    google_emulator.revoke_grant()
    capsys.readouterr()
    code, out = _doctor(google_setup, capsys)
    assert code == 3
    assert _lines(out)["token refresh"] == "FAIL" and "invalid_grant" in out


def test_google_with_an_unknown_calendar(isolated_home: Path, google_emulator: Emulator, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(isolated_home, account=google_emulator.account, api_endpoint=google_emulator.base_url)
    text = config.read_text().replace('backend = "google"', 'backend = "google"\nwatch = ["nope@group.calendar.google.com"]', 1)
    config.write_text(text)
    creds = tmp_path / "u.json"
    creds.write_text(json.dumps(authorized_user(token_uri=google_emulator.token_uri)))
    main(["--config", str(config), "auth", "import", str(creds)])
    _install_unit(isolated_home)
    capsys.readouterr()
    code, out = _doctor(config, capsys)
    assert code == 2, out
    assert "'nope@group.calendar.google.com': not found (404)" in out
    assert "'primary' reachable" in out  # write_to is checked too


def test_google_unreachable(google_setup: Path, google_emulator: Emulator,
                            capsys: pytest.CaptureFixture[str]) -> None:
    google_emulator.stop()
    capsys.readouterr()
    code, out = _doctor(google_setup, capsys)
    assert code == 1
    assert _lines(out)["token refresh"] == "FAIL" and "could not reach" in out


def test_config_failures_outrank_auth_failures() -> None:
    report = Report(io.StringIO())

    def fail(code: int) -> str:
        raise Failed("x", "y", code)

    report.run("a", lambda: fail(1))
    assert report.code == 1
    report.run("b", lambda: fail(2))
    report.run("c", lambda: fail(3))
    assert report.code == 2
