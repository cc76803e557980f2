"""Test helpers for the daemon: a notify socket that records what a daemon says,
and a scriptable fake engine."""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from followupd.core.settings import Config


@dataclass
class Datagram:
    at: float  # time.monotonic() when received
    fields: dict[str, str]

    @property
    def text(self) -> str:
        return "\n".join(f"{k}={v}" for k, v in self.fields.items())


class NotifyListener:
    """An ``AF_UNIX``/``SOCK_DGRAM`` socket standing in for systemd's notify socket.

    Bound in a short temporary directory (socket paths are limited to 108
    bytes, and pytest's tmp_path can be longer); a thread records every
    datagram with its arrival time.
    """

    def __init__(self) -> None:
        self._dir = tempfile.mkdtemp(prefix="fud-", dir="/tmp")
        self.path = os.path.join(self._dir, "notify")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.sock.settimeout(0.1)
        self.received: list[Datagram] = []
        self._lock = threading.Lock()
        self._closed = False
        self._thread = threading.Thread(target=self._receive, daemon=True)
        self._thread.start()

    def _receive(self) -> None:
        while not self._closed:
            try:
                data = self.sock.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                return
            fields = dict(line.split("=", 1) for line in data.decode().split("\n") if "=" in line)
            with self._lock:
                self.received.append(Datagram(time.monotonic(), fields))

    def messages(self, key: str | None = None) -> list[Datagram]:
        with self._lock:
            return [d for d in self.received if key is None or key in d.fields]

    def statuses(self) -> list[str]:
        return [d.fields["STATUS"] for d in self.messages("STATUS")]

    def wait_for(self, predicate: Callable[[Datagram], bool], timeout: float = 10.0) -> Datagram:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for d in self.messages():
                if predicate(d):
                    return d
            time.sleep(0.02)
        raise AssertionError(f"no matching notification within {timeout}s; got {self.statuses()!r}")

    def wait_status(self, needle: str, timeout: float = 10.0) -> Datagram:
        return self.wait_for(lambda d: needle in d.fields.get("STATUS", ""), timeout)

    def close(self) -> None:
        self._closed = True
        self._thread.join(timeout=1)
        self.sock.close()
        shutil.rmtree(self._dir, ignore_errors=True)


@dataclass
class FakeReport:
    actions: list[str] = field(default_factory=list)
    interviews: int = 0
    next_due: None = None
    summary: str = "watching 1 calendar · 0 interviews"


class FakeEngine:
    """Runs a script of outcomes: each item is a FakeReport to return or an exception to raise."""

    def __init__(self, script: list[FakeReport | BaseException] | None = None,
                 on_pass: Callable[[FakeEngine], None] | None = None) -> None:
        self.script = list(script or [])
        self.passes = 0
        self.stop_requested = False
        self.closed = False
        self.on_pass = on_pass

    def run_pass(self, dry_run: bool = False) -> FakeReport:
        self.passes += 1
        if self.on_pass is not None:
            self.on_pass(self)
        outcome = self.script.pop(0) if self.script else FakeReport()
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    def request_stop(self) -> None:
        self.stop_requested = True

    def close(self) -> None:
        self.closed = True


def config_with(tmp: Path) -> Config:
    return Config(path=tmp / "config.toml")
