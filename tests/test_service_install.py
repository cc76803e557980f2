"""``followupd service install`` and the unit file it installs."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from followupd.cli import service
from followupd.cli.app import main
from followupd.core.settings import Config, IcsConfig, MaildirConfig

ROOT = Path(__file__).resolve().parent.parent
CANONICAL = ROOT / "systemd" / "followupd.service"


def write_config(home: Path, extra: str = "") -> Path:
    cfg = home / ".config" / "followupd" / "config.toml"
    cfg.parent.mkdir(parents=True, exist_ok=True)
    cfg.write_text(
        '[me]\nname = "Jordan Rivera"\nemail = "me@example.com"\n\n'
        '[calendar]\nbackend = "ics"\n[mail]\nbackend = "maildir"\n\n'
        f'[ics]\nsource = "{home}/cal/interviews.ics"\noutput = "{home}/out/followups.ics"\n\n'
        f'[maildir]\npath = "{home}/Mail/Drafts"\n' + extra
    )
    (home / "cal").mkdir(exist_ok=True)
    (home / "cal" / "interviews.ics").write_text("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\n"
                                                 "END:VCALENDAR\r\n")
    return cfg


def unit_path(home: Path) -> Path:
    return home / ".config" / "systemd" / "user" / "followupd.service"


def test_package_copy_is_identical_to_the_canonical_unit() -> None:
    packaged = ROOT / "followupd" / "data" / "followupd.service"
    assert packaged.read_bytes() == CANONICAL.read_bytes()
    assert service.unit_template() == CANONICAL.read_text()


def test_canonical_unit_has_the_promised_settings() -> None:
    lines = set(CANONICAL.read_text().splitlines())
    for expected in ("Type=notify", "NotifyAccess=main", "Restart=on-failure",
                     "RestartPreventExitStatus=2 3", "PrivateUsers=yes", "ProtectSystem=strict",
                     "ProtectHome=read-only", "NoNewPrivileges=yes", "UMask=0077",
                     "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6", "WantedBy=default.target"):
        assert expected in lines, expected
    assert any(line.startswith("WatchdogSec=") for line in lines)


def test_install_writes_the_unit_with_real_paths(
        isolated_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_config(isolated_home)
    assert main(["service", "install"]) == 0
    out = capsys.readouterr().out
    text = unit_path(isolated_home).read_text()
    exec_line = next(line for line in text.splitlines() if line.startswith("ExecStart="))
    argv0 = exec_line.removeprefix("ExecStart=").split()[0]
    assert Path(argv0).is_absolute() and os.access(argv0, os.X_OK)
    assert exec_line.endswith(" run") and "--config" not in exec_line  # the default config
    rw = [line.removeprefix("ReadWritePaths=") for line in text.splitlines()
          if line.startswith("ReadWritePaths=")]
    assert rw == [f"-{isolated_home}/.local/state/followupd", f"-{isolated_home}/.cache/followupd",
                  f"-{isolated_home}/out", f"-{isolated_home}/Mail/Drafts"]
    for folder in (isolated_home / ".local/state/followupd", isolated_home / "out",
                   isolated_home / "Mail/Drafts"):
        assert folder.is_dir()  # the sandboxed service could not create them itself
    assert "systemctl --user enable --now followupd" in out
    assert "loginctl enable-linger $USER" in out
    assert f"Installed {unit_path(isolated_home)}" in out


def test_install_twice_is_unchanged_and_a_changed_unit_is_replaced(
        isolated_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_config(isolated_home)
    assert main(["service", "install"]) == 0
    capsys.readouterr()
    assert main(["service", "install"]) == 0
    assert "already up to date" in capsys.readouterr().out
    unit_path(isolated_home).write_text(unit_path(isolated_home).read_text() + "# edited\n")
    assert main(["service", "install"]) == 0
    out = capsys.readouterr().out
    assert "Replaced" in out and "differed" in out and "daemon-reload" in out
    assert "# edited" not in unit_path(isolated_home).read_text()


def test_non_default_config_is_passed_and_quoted(
        isolated_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = write_config(isolated_home)
    odd = tmp_path / "my configs" / "100%.toml"
    odd.parent.mkdir()
    odd.write_text(cfg.read_text())
    assert main(["--config", str(odd), "service", "install"]) == 0
    exec_line = next(line for line in unit_path(isolated_home).read_text().splitlines()
                     if line.startswith("ExecStart="))
    assert exec_line.endswith(f'--config "{tmp_path}/my configs/100%%.toml" run')


def test_bad_config_is_refused_before_installing(
        isolated_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_config(isolated_home, extra="[plan]\nlookback_days = 'soon'\n")
    assert main(["service", "install"]) == 2
    assert "lookback_days" in capsys.readouterr().err
    assert not unit_path(isolated_home).exists()


def test_exec_start_is_the_running_followupd_not_the_first_on_path(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    stale = tmp_path / "stale-bin"
    stale.mkdir()
    (stale / "followupd").write_text("#!/bin/sh\n")
    (stale / "followupd").chmod(0o755)
    monkeypatch.setenv("PATH", f"{stale}:{__import__('os').environ['PATH']}")
    beside = Path(sys.executable).absolute().parent / "followupd"
    expected = [str(beside)] if beside.is_file() else [str(Path(sys.executable).absolute()), "-m", "followupd"]
    assert service.executable_argv() == expected


def test_python_dash_m_when_no_script_beside_the_interpreter(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    python = tmp_path / "bin" / "python3"
    python.parent.mkdir()
    python.symlink_to(sys.executable)
    monkeypatch.setattr(service.sys, "executable", str(python))
    assert service.executable_argv() == [str(python), "-m", "followupd"]


def test_ics_output_in_home_is_flagged(isolated_home: Path) -> None:
    cfg = Config(ics=IcsConfig(output=isolated_home / "followups.ics"),
                 maildir=MaildirConfig(path=isolated_home / "Mail" / "Drafts"))
    writable, notes = service.write_paths(cfg)
    assert isolated_home in writable
    assert notes and "home folder" in notes[0]


def test_quoting() -> None:
    assert service.systemd_quote("/usr/bin/followupd") == "/usr/bin/followupd"
    assert service.systemd_quote("/a b/$HOME%n") == '"/a b/$$HOME%%n"'
    assert service.systemd_quote('/a"b\\c') == '"/a\\"b\\\\c"'
    assert service.systemd_quote("/a$b", command=False) == "/a$b"


def test_pinned_state_home(isolated_home: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert service.pinned_environment() == {}  # conftest's XDG_STATE_HOME is the default place
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "elsewhere"))
    assert service.pinned_environment() == {"XDG_STATE_HOME": str(tmp_path / "elsewhere")}
    text = service.render_unit(service.unit_template(), "/bin/followupd run", ["/s"],
                               service.pinned_environment())
    assert f"Environment=XDG_STATE_HOME={tmp_path}/elsewhere\nExecStart=/bin/followupd run" in text


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_installed_unit_passes_systemd_analyze_verify(
        isolated_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_config(isolated_home)
    assert main(["service", "install"]) == 0
    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o700)
    env = {**os.environ, "XDG_RUNTIME_DIR": str(runtime), "SYSTEMD_LOG_COLOR": "0"}
    proc = subprocess.run(["systemd-analyze", "--user", "verify", str(unit_path(isolated_home))],
                          env=env, capture_output=True, text=True, timeout=60)
    # verify exits 0 even for unknown keys; it warns "ignoring" instead, so check the output too
    assert proc.returncode == 0, proc.stderr
    assert "ignoring" not in proc.stderr.lower() and "unknown" not in proc.stderr.lower(), proc.stderr
