"""pytest fixtures for the Google emulator, and the never-send guard (SPEC §4.1).

Loaded from ``tests/conftest.py`` with ``pytest_plugins = ["emulator.fixtures"]``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Iterator

import pytest

from followupd.core.settings import CalendarConfig, Config, GoogleConfig, MailConfig, MeConfig

from .server import Emulator


@pytest.fixture
def google_emulator() -> Iterator[Emulator]:
    """A running emulator for one test; its account is ``me@example.com``."""
    with Emulator() as emu:
        yield emu


@pytest.fixture
def google_config(google_emulator: Emulator) -> Config:
    """A configuration pointing Calendar and Gmail at the emulator."""
    return emulator_config(google_emulator)


def emulator_config(emu: Emulator, base: Config | None = None) -> Config:
    """``base`` (or a default config) with the google backends aimed at ``emu``."""
    base = base or Config(me=MeConfig(name="Jordan Rivera", email=emu.account, phone="+1 555 0100"))
    return replace(base,
                   calendar=CalendarConfig(backend="google", watch=("primary",), write_to="primary"),
                   mail=MailConfig(backend="gmail"),
                   google=GoogleConfig(account=emu.account, api_endpoint=emu.base_url))


@pytest.fixture(autouse=True)
def _never_send() -> Iterator[None]:
    """Fail any test during which some emulator saw ``drafts.send`` or ``messages.send``."""
    Emulator.created.clear()
    yield
    violations = [v for emu in Emulator.created for v in emu.violations]
    Emulator.created.clear()
    if violations:
        pytest.fail(f"followupd tried to send mail (SPEC §4.1): {violations}", pytrace=False)
