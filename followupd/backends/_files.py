"""Durable file writes shared by the local backends.

The ledger is committed right after a sink call returns, so a sink's write
must be on disk before it returns: otherwise a kill -9 (or a power cut) could
leave the ledger claiming a write the file does not hold.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def fsync_dir(folder: Path) -> None:
    """Make a rename or unlink inside ``folder`` durable."""
    fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path: Path, data: bytes, *, tmp_dir: Path | None = None) -> None:
    """Replace ``path`` with ``data`` atomically; the file ends up mode 0600.

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
            os.fchmod(fh.fileno(), 0o600)
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
