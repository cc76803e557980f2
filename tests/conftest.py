"""Shared fixtures: every test runs with its own HOME and XDG directories and an
in-memory keyring, so no test reads or writes the developer's real files or secrets.

Area-specific fixtures live beside their tests (``tests/*_helpers.py``) or in
``tests/emulator/``; keep this file small.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Iterator

import keyring
import pytest

from followupd.testing.memory_keyring import MemoryKeyring

ROOT = Path(__file__).resolve().parent.parent

pytest_plugins = [
    "emulator.fixtures",  # the Google emulator (tests/emulator/)
    "daemon_process",  # listener/daemons fixtures for the subprocess tests
    "servers",  # real Radicale (CalDAV) and Dovecot (IMAP) on 127.0.0.1
]


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / ".local" / "state"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    monkeypatch.delenv("FOLLOWUPD_CONFIG", raising=False)
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    monkeypatch.delenv("WATCHDOG_USEC", raising=False)
    monkeypatch.delenv("JOURNAL_STREAM", raising=False)
    return home


@pytest.fixture(autouse=True)
def memory_keyring(request: pytest.FixtureRequest) -> MemoryKeyring | None:
    """An in-memory keyring for every test, except those marked ``secret_service``."""
    if request.node.get_closest_marker("secret_service"):
        yield None
        return
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.set_keyring(previous)


@pytest.fixture(autouse=True)
def restore_followupd_logger() -> Iterator[None]:
    """``cli.main`` configures the ``followupd`` logger (its own handler,
    ``propagate=False``); undo that after each test so ``caplog``, which listens
    on the root logger, sees records whatever ran before."""
    logger = logging.getLogger("followupd")
    saved = (list(logger.handlers), logger.propagate, logger.level)
    yield
    logger.handlers[:], logger.propagate, logger.level = saved[0], saved[1], saved[2]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked ``secret_service`` run only when FOLLOWUPD_SECRET_SERVICE=1
    (set by .ci/run inside dbus-run-session with gnome-keyring unlocked)."""
    if os.environ.get("FOLLOWUPD_SECRET_SERVICE") == "1":
        return
    skip = pytest.mark.skip(reason="needs a real Secret Service: run under .ci/run (FOLLOWUPD_SECRET_SERVICE=1)")
    for item in items:
        if item.get_closest_marker("secret_service"):
            item.add_marker(skip)
