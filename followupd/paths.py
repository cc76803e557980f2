"""Where followupd keeps its files (XDG, through platformdirs), created private."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP = "followupd"


def config_file(explicit: str | os.PathLike[str] | None = None) -> Path:
    """``--config``, else ``$FOLLOWUPD_CONFIG``, else ``$XDG_CONFIG_HOME/followupd/config.toml``."""
    if explicit:
        return Path(explicit).expanduser()
    env = os.environ.get("FOLLOWUPD_CONFIG")
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_config_dir(APP)) / "config.toml"


def state_dir() -> Path:
    """``$XDG_STATE_HOME/followupd`` (default ``~/.local/state/followupd``)."""
    return Path(platformdirs.user_state_dir(APP))


def private_dir(path: Path) -> Path:
    """Create ``path`` (and missing parents) with mode 0700; tighten it if it exists."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path, 0o700)
    return path


def private_file(path: Path) -> Path:
    """Ensure ``path`` exists with mode 0600 without truncating it."""
    private_dir(path.parent)
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
    os.close(fd)
    os.chmod(path, 0o600)
    return path


def display_path(path: Path) -> str:
    """``path`` with the home directory shown as ``~`` (for messages)."""
    try:
        return "~/" + str(path.resolve().relative_to(Path.home().resolve()))
    except (ValueError, OSError, RuntimeError):
        return str(path)
