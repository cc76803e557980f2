"""``auth login --caldav/--imap``, ``auth status``, ``auth logout`` and ``doctor`` against the real
Radicale and Dovecot (issue #13)."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

from followupd.cli.app import main
from servers import Account, Dovecot, Radicale, followupd_toml
from test_caldav_calendar import Person


@pytest.fixture
def setup(radicale: Radicale, dovecot: Dovecot, tmp_path: Path) -> tuple[Path, Account, Account]:
    cal, mail = radicale.new_account(), dovecot.new_account()
    Person(radicale, cal).calendar("Work")
    config = tmp_path / "config.toml"
    (tmp_path / "out").mkdir()
    config.write_text(followupd_toml(radicale, cal, dovecot, mail))
    config.chmod(0o600)
    return config, cal, mail


def _login(config: Path, which: str, secret: str, monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr(sys, "stdin", io.StringIO(secret + "\n"))
    return main(["--config", str(config), "auth", "login", f"--{which}", "--password-stdin"])


def test_login_status_doctor_and_logout(setup: tuple[Path, Account, Account], monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    config, cal, mail = setup
    assert main(["--config", str(config), "doctor"]) == 3  # no app passwords yet
    out = capsys.readouterr().out
    assert "followupd auth login --caldav" in out and "followupd auth login --imap" in out
    assert _login(config, "caldav", "wrong", monkeypatch) == 3
    err = capsys.readouterr().err
    assert "refused the app password" in err and "wrong" not in err.replace("wrong_password", "")
    assert _login(config, "caldav", cal.password, monkeypatch) == 0
    assert _login(config, "imap", mail.password, monkeypatch) == 0
    out = capsys.readouterr().out
    assert cal.password not in out and mail.password not in out and "Stored the IMAP app password" in out
    assert main(["--config", str(config), "auth", "status"]) == 0
    out = capsys.readouterr().out
    assert "accepted" in out and "drafts mailbox 'Drafts'" in out
    assert main(["--config", str(config), "doctor"]) == 0, capsys.readouterr().out
    out = capsys.readouterr().out
    assert "reminders can be written" in out and "drafts go to 'Drafts'" in out
    assert main(["--config", str(config), "auth", "logout", "--imap"]) == 0
    assert "Deleted the IMAP app password" in capsys.readouterr().out
    assert main(["--config", str(config), "run", "--once"]) in (0, 3)  # the next draft needs the password


def test_run_once_without_a_caldav_password_is_exit_3_with_the_fix(
        setup: tuple[Path, Account, Account], capsys: pytest.CaptureFixture[str]) -> None:
    config, _, _ = setup
    assert main(["--config", str(config), "run", "--once"]) == 3
    err = capsys.readouterr().err
    assert "followupd auth login --caldav" in err and "Traceback" not in err


def test_explain_preview_run_status_and_outcome_on_caldav(setup: tuple[Path, Account, Account], radicale: Radicale,
                                                          monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    from datetime import timedelta

    from test_caldav_calendar import NOW

    config, cal, mail = setup
    Person(radicale, cal).invite("Work", "acme-1", NOW - timedelta(hours=3))
    assert _login(config, "caldav", cal.password, monkeypatch) == 0
    assert _login(config, "imap", mail.password, monkeypatch) == 0
    capsys.readouterr()
    assert main(["--config", str(config), "explain", "Acme"]) == 0
    assert "interview" in capsys.readouterr().out.lower()
    assert main(["--config", str(config), "preview", "Acme"]) == 0
    assert "Sam" in capsys.readouterr().out
    assert main(["--config", str(config), "run", "--once"]) == 0
    assert "wrote draft" in capsys.readouterr().out
    assert main(["--config", str(config), "status"]) == 0
    assert "Acme" in capsys.readouterr().out
    assert main(["--config", str(config), "outcome", "Acme", "rejected"]) == 0
    assert main(["--config", str(config), "run", "--once"]) == 0
