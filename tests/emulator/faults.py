"""Fault injection: what the next N requests matching a method and path pattern suffer.

Actions:
* ``status``: answer ``status`` with Google's error body (``errors[0].reason``)
  *without* handling the request;
* ``drop_after``: handle (commit) the request, then close the connection
  without answering: the client sees a reset, as when a response is lost;
* ``drop_before``: close the connection without handling anything;
* ``delay``: sleep ``seconds`` before handling (longer than the client's
  timeout, it is a lost response too: the write still happens);
* ``hook``: call ``callback()`` before handling (e.g. invalidate sync tokens
  in the middle of a run).

A rule with ``about`` applies only to requests for which ``about(method, path,
body)`` is true: a permanent failure of one item (``Emulator.fail_item``).
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from typing import Callable, Literal

Action = Literal["status", "drop_after", "drop_before", "delay", "hook"]


@dataclass
class Fault:
    method: str | None  # "GET", "POST", …; None matches any
    path: str  # a regular expression searched in the URL path (without the query)
    action: Action = "status"
    times: int = 1  # how many matching requests it affects
    status: int = 503
    reason: str = "backendError"
    message: str = "The service is currently unavailable."
    seconds: float = 0.0
    callback: Callable[[], None] | None = None
    skip: int = 0  # let this many matching requests through first
    about: Callable[[str, str, bytes], bool] | None = None
    hits: int = field(default=0, init=False)

    def matches(self, method: str, path: str, body: bytes = b"") -> bool:
        return ((self.method is None or self.method == method) and re.search(self.path, path) is not None
                and (self.about is None or self.about(method, path, body)))


class Faults:
    """The active fault rules; the first matching rule with requests left wins."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.rules: list[Fault] = []

    def add(self, fault: Fault) -> Fault:
        with self._lock:
            self.rules.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self.rules.clear()

    def take(self, method: str, path: str, body: bytes = b"") -> Fault | None:
        """The fault that applies to this request, counting it as used."""
        with self._lock:
            for fault in self.rules:
                if fault.hits < fault.times + fault.skip and fault.matches(method, path, body):
                    fault.hits += 1
                    if fault.hits <= fault.skip:
                        return None
                    return fault
        return None

    @property
    def pending(self) -> list[Fault]:
        """Rules that have not fired as often as asked (a test left them unused)."""
        with self._lock:
            return [f for f in self.rules if f.hits < f.times + f.skip]
