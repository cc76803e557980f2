"""Slowed sinks: each write sleeps before and after the real call.

The kill -9 tests wrap the real backends in these, so a SIGKILL can land
between a landed write and its ledger commit.  Nothing in followupd itself
knows about them: ``tests/followupd_under_test.py`` injects them.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

from followupd.backends.protocols import Backends, DraftSink, EventSink, Written
from followupd.core.model import FollowUp, LedgerEntry


class _Slow:
    def __init__(self, inner: Any, seconds: float) -> None:
        self._inner = inner
        self._seconds = seconds

    def _around(self, call: Any, *args: Any) -> Any:
        time.sleep(self._seconds)
        result = call(*args)
        time.sleep(self._seconds)
        return result

    def create(self, f: FollowUp) -> Written:
        return self._around(self._inner.create, f)  # type: ignore[no-any-return]

    def update(self, f: FollowUp, entry: LedgerEntry) -> Written:
        return self._around(self._inner.update, f, entry)  # type: ignore[no-any-return]

    def delete(self, entry: LedgerEntry) -> None:
        self._around(self._inner.delete, entry)

    def __getattr__(self, name: str) -> Any:  # find, and each backend's own extras
        return getattr(self._inner, name)


class SlowEvents(_Slow, EventSink):
    pass


class SlowDrafts(_Slow, DraftSink):
    def find(self, f: FollowUp) -> Written | None:
        return self._inner.find(f)  # type: ignore[no-any-return]


def slowed(backends: Backends, seconds: float) -> Backends:
    """``backends`` with every create, update and delete taking ``2 × seconds`` longer."""
    return replace(backends, events=SlowEvents(backends.events, seconds),
                   drafts=SlowDrafts(backends.drafts, seconds))
