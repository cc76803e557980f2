"""Where followupd keeps its files (XDG, through platformdirs), created private, replaced atomically.

A write must be on disk before the call returns: the ledger is committed right
after a sink call, so otherwise a kill -9 (or a power cut) could leave the
ledger claiming a write the file does not hold.
"""

from __future__ import annotations

import os
import tempfile
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


def cache_dir() -> Path:
    """``$XDG_CACHE_HOME/followupd`` (default ``~/.cache/followupd``): what can be rebuilt at any time."""
    return Path(platformdirs.user_cache_dir(APP))


def private_dir(path: Path) -> Path:
    """Create ``path`` and its missing parents with mode 0700 (whatever the umask).

    Only the folders created here get that mode: an existing folder (the home
    directory, a web-served one) is never changed (SPEC §4.11).
    """
    missing: list[Path] = []
    folder = path
    while not folder.exists() and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=0o700)
        except FileExistsError:  # made meanwhile by someone else: theirs, left as it is
            continue
        os.chmod(folder, 0o700)
    if not path.is_dir():
        raise NotADirectoryError(f"{path} is not a folder")
    return path


def write_problem(folder: Path) -> str | None:
    """Why files cannot be created in ``folder``, in words, or None when they can.

    ``os.access`` sees read-only mounts as well as permissions (and, for root,
    that only a read-only mount stops it).
    """
    if not folder.exists():
        return f"the folder {folder} does not exist"
    if not folder.is_dir():
        return f"{folder} is not a folder"
    if not os.access(folder, os.W_OK | os.X_OK):
        return f"the folder {folder} is read-only for followupd"
    return None


def file_mode(path: Path, default: int = 0o600) -> int:
    """The permission bits ``path`` has now (a file replaced keeps them), or ``default``."""
    try:
        return path.stat().st_mode & 0o7777
    except FileNotFoundError:
        return default


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


def fsync_dir(folder: Path) -> None:
    """Make a rename or unlink inside ``folder`` durable."""
    fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path: Path, data: bytes, *, tmp_dir: Path | None = None, mode: int = 0o600) -> None:
    """Replace ``path`` with ``data`` atomically; the file ends up with ``mode`` (0600 unless told).

    The bytes go to a temporary file (in ``tmp_dir``, default the target's
    folder; it must be on the same file system), which is fsynced, renamed over
    the target and followed by an fsync of the folder.  Readers see either the
    old file or the new one, never a mix, and no temporary file is left behind
    on failure.
    """
    folder = tmp_dir or path.parent
    fd, tmp_name = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            os.fchmod(fh.fileno(), mode)
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        try:
            os.unlink(tmp_name)
        except FileNotFoundError:
            pass
        raise
    fsync_dir(path.parent)
