"""Unusable output locations are configuration errors caught before anything is written (issue #12,
SPEC §4.11), run through the real CLI in a subprocess.

A read-only folder is made for real: with mode 0555 for an ordinary user, and, since root writes
through modes, as a read-only bind mount in a private mount namespace (``unshare -m``) for root.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

CONFIG = """\
[me]
name = "Jordan Rivera"
email = "jordan@example.org"

[ics]
source = "{source}"
output = "{output}"

[maildir]
path = "{maildir}"
"""

EVENT = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//test//EN
BEGIN:VEVENT
UID:iv1@test
DTSTAMP:20261101T000000Z
DTSTART:{start}
DTEND:{end}
SUMMARY:Interview: Acme
ORGANIZER;CN=Sam Park:mailto:sam@acme.com
ATTENDEE;CN=Sam Park:mailto:sam@acme.com
ATTENDEE;CN=Jordan Rivera;PARTSTAT=ACCEPTED:mailto:jordan@example.org
END:VEVENT
END:VCALENDAR
"""


def _setup(tmp_path: Path, output: Path, maildir: Path) -> tuple[Path, dict[str, str]]:
    start = datetime.now(timezone.utc) - timedelta(hours=3)
    fmt = "%Y%m%dT%H%M%SZ"
    source = tmp_path / "in.ics"
    source.write_text(EVENT.format(start=start.strftime(fmt), end=(start + timedelta(hours=1)).strftime(fmt)))
    config = tmp_path / "config.toml"
    config.write_text(CONFIG.format(source=source, output=output, maildir=maildir))
    config.chmod(0o600)
    env = dict(os.environ, XDG_STATE_HOME=str(tmp_path / "state"), XDG_CACHE_HOME=str(tmp_path / "cache"),
               XDG_CONFIG_HOME=str(tmp_path / "xdg"))
    return config, env


def _run(config: Path, env: dict[str, str], *args: str, read_only: Path | None = None) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "followupd", "--config", str(config), *args]
    if read_only is not None:
        if os.geteuid() != 0:
            read_only.chmod(0o555)
        else:
            if shutil.which("unshare") is None:
                pytest.skip("needs unshare(1) to make a read-only folder as root (util-linux)")
            script = 'mount --bind "$0" "$0" && mount -o remount,bind,ro "$0" "$0" && exec "$@"'
            command = ["unshare", "-m", "sh", "-c", script, str(read_only), *command]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)


def test_a_read_only_output_folder_is_exit_2_naming_the_key_and_nothing_is_written(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    config, env = _setup(tmp_path, out / "followups.ics", tmp_path / "Drafts")
    done = _run(config, env, "run", "--once", read_only=out)
    assert done.returncode == 2, done
    assert "[ics] output" in done.stderr and str(config) in done.stderr and "read-only" in done.stderr
    assert "Traceback" not in done.stderr and "unexpected" not in done.stderr
    assert not (tmp_path / "Drafts").exists() and os.listdir(out) == []


def test_a_missing_output_folder_is_exit_2(tmp_path: Path) -> None:
    config, env = _setup(tmp_path, tmp_path / "nowhere" / "followups.ics", tmp_path / "Drafts")
    done = _run(config, env, "run", "--once")
    assert done.returncode == 2 and "[ics] output" in done.stderr and "does not exist" in done.stderr
    assert not (tmp_path / "nowhere").exists() and not (tmp_path / "Drafts").exists()


def test_a_maildir_path_that_is_a_file_is_exit_2_and_doctor_fails_it(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    drafts = tmp_path / "Drafts"
    drafts.write_text("not a folder")
    config, env = _setup(tmp_path, tmp_path / "out" / "followups.ics", drafts)
    done = _run(config, env, "run", "--once")
    assert done.returncode == 2 and "[maildir] path" in done.stderr and "is a file" in done.stderr
    assert not (tmp_path / "out" / "followups.ics").exists()
    doctor = _run(config, env, "doctor")
    assert doctor.returncode == 2 and any(line.startswith("FAIL  maildir") for line in doctor.stdout.splitlines())


def test_writing_into_the_home_folder_leaves_its_mode_alone(tmp_path: Path) -> None:
    home = tmp_path / "person"
    home.mkdir()
    home.chmod(0o755)
    config, env = _setup(tmp_path, home / "followups.ics", home / "Mail" / "Drafts")
    done = _run(config, env, "run", "--once")
    assert done.returncode == 0, done
    assert (home / "followups.ics").exists() and (home.stat().st_mode & 0o777) == 0o755
    assert ((home / "Mail").stat().st_mode & 0o777) == 0o700  # made by followupd: private
