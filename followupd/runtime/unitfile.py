"""What the daemon and ``service install`` both know of the systemd user unit: where it is
installed, which folders it must let the service write (``ReadWritePaths=``), and whether
the installed one still covers the configuration's folders.

``ProtectHome=read-only`` makes everything else read-only for the service, so a
config that moved ``[ics] output`` or ``[maildir] path`` since the unit was
installed makes the service fail there; ``doctor`` and a SIGHUP reload say so.
"""

from __future__ import annotations

import os
import shlex
from pathlib import Path

from followupd import paths
from followupd.core.settings import Config

UNIT_NAME = "followupd.service"


def unit_dir() -> Path:
    """Where the user manager looks for units: ``$XDG_CONFIG_HOME/systemd/user``."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "systemd" / "user"


def write_paths(cfg: Config) -> tuple[list[Path], list[str]]:
    """Folders the service must be able to write, and notes for the person."""
    found: list[Path] = [paths.state_dir().absolute(), paths.cache_dir().absolute()]
    notes: list[str] = []
    home = Path.home().absolute()
    if cfg.calendar.backend == "ics":
        folder = cfg.ics.output.expanduser().absolute().parent
        found.append(folder)
        if folder == home:
            notes.append(f"[ics] output is directly in your home folder, so the service may write "
                         f"anywhere in {home}; an output in a subfolder keeps the rest read-only")
    if cfg.mail.backend == "maildir":
        found.append(cfg.maildir.path.expanduser().absolute())
    unique: list[Path] = []
    for p in found:
        if p not in unique:
            unique.append(p)
    return unique, notes


def unit_write_paths(text: str) -> set[Path]:
    """The ``ReadWritePaths=`` of a unit's text (``-`` prefixes and quotes dropped)."""
    found: set[Path] = set()
    for line in text.splitlines():
        if line.startswith("ReadWritePaths="):
            for word in shlex.split(line.partition("=")[2]):
                found.add(Path(word.lstrip("-+").replace("%%", "%")))
    return found


def stale_write_paths(cfg: Config) -> list[Path] | None:
    """The folders this config writes that the installed unit does not let the service write
    (the config moved a path since ``service install``); None when no unit is installed."""
    unit = unit_dir() / UNIT_NAME
    try:
        text = unit.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    allowed = unit_write_paths(text)
    wanted, _ = write_paths(cfg)
    return [p for p in wanted if p not in allowed and p != paths.cache_dir().absolute()]


__all__ = ["UNIT_NAME", "stale_write_paths", "unit_dir", "unit_write_paths", "write_paths"]
