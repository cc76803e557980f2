"""State and config are created private: 0700 folders, 0600 files (SPEC §4.8),
even under a permissive umask."""

from __future__ import annotations

import os
import stat
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Iterator

import pytest

from followupd import paths
from followupd.cli.app import main

from auth_helpers import write_config


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def permissive_umask() -> Iterator[None]:
    previous = os.umask(0)
    try:
        yield
    finally:
        os.umask(previous)


def test_init_writes_a_private_config(isolated_home: Path, permissive_umask: None,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["init"]) == 0
    config = paths.config_file()
    assert config.is_file()
    assert _mode(config) == 0o600
    assert _mode(config.parent) == 0o700


def _ics(start: datetime) -> str:
    fmt = "%Y%m%dT%H%M%SZ"
    return ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:i1@test\r\n"
            f"DTSTAMP:{start:{fmt}}\r\nDTSTART:{start:{fmt}}\r\nDTEND:{start + timedelta(hours=1):{fmt}}\r\n"
            "SUMMARY:Interview: Acme\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")


def test_a_pass_leaves_only_private_state(isolated_home: Path, permissive_umask: None,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    start = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(days=2)
    (isolated_home / "interviews.ics").write_text(_ics(start))
    config = write_config(isolated_home, calendar="ics", mail="maildir")
    assert main(["--config", str(config), "run", "--once"]) == 0
    state = paths.state_dir()
    files = [p for p in state.rglob("*")]
    assert files, "the pass should have written its state"
    assert _mode(state) == 0o700
    for path in files:
        assert _mode(path) == (0o700 if path.is_dir() else 0o600), path
    output = isolated_home / "followups.ics"
    assert output.exists() and _mode(output) == 0o600


def test_private_dir_never_changes_an_existing_folder(tmp_path: Path, permissive_umask: None) -> None:
    """SPEC §4.11: only the folders it creates get 0700 (not the home directory, not a served one)."""
    served = tmp_path / "served"
    served.mkdir()
    served.chmod(0o755)
    paths.private_dir(served / "a" / "b")
    assert _mode(served) == 0o755
    assert _mode(served / "a") == 0o700 and _mode(served / "a" / "b") == 0o700


def test_private_file_creates_0600_without_truncating(tmp_path: Path, permissive_umask: None) -> None:
    target = tmp_path / "sub" / "state.db"
    paths.private_file(target)
    assert _mode(target) == 0o600 and _mode(target.parent) == 0o700
    target.write_bytes(b"keep")
    target.chmod(0o644)
    paths.private_file(target)
    assert target.read_bytes() == b"keep" and _mode(target) == 0o600
