"""sd_notify spoken over a real datagram socket (followupd.notify)."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator

import pytest

from daemon_helpers import NotifyListener
from followupd.runtime.notify import Notifier, one_line, socket_address, watchdog_period


@pytest.fixture
def listener() -> Iterator[NotifyListener]:
    lst = NotifyListener()
    yield lst
    lst.close()


def test_address_forms() -> None:
    assert socket_address("/run/user/1000/systemd/notify") == "/run/user/1000/systemd/notify"
    assert socket_address("@/org/freedesktop/systemd1/notify") == b"\0/org/freedesktop/systemd1/notify"
    assert socket_address("") is None
    assert socket_address("@") is None
    assert socket_address("relative/path") is None
    assert socket_address("vsock:2:1234") is None


def test_watchdog_period_is_half_of_watchdog_usec() -> None:
    pid = os.getpid()
    assert watchdog_period({"WATCHDOG_USEC": "2000000"}, pid) == 1.0
    assert watchdog_period({"WATCHDOG_USEC": "2000000", "WATCHDOG_PID": str(pid)}, pid) == 1.0
    assert watchdog_period({}, pid) is None
    assert watchdog_period({"WATCHDOG_USEC": "0"}, pid) is None
    assert watchdog_period({"WATCHDOG_USEC": "garbage"}, pid) is None


def test_watchdog_meant_for_another_process_is_not_pinged() -> None:
    assert watchdog_period({"WATCHDOG_USEC": "2000000", "WATCHDOG_PID": "1"}, os.getpid()) is None


def test_no_socket_means_no_op() -> None:
    notifier = Notifier.from_env({"WATCHDOG_USEC": "2000000"})
    assert not notifier.enabled
    assert notifier.send("READY=1") is False
    assert notifier.watchdog_due() is None  # a watchdog without a socket to ping is ignored
    notifier.ready("x")
    notifier.ping()
    notifier.close()


def test_messages_arrive_over_a_path_socket(listener: NotifyListener) -> None:
    notifier = Notifier.from_env({"NOTIFY_SOCKET": listener.path})
    notifier.ready("first pass running")
    notifier.status("watching 1 calendar · 3 interviews")
    notifier.stopping("stopping")
    listener.wait_for(lambda d: "STOPPING" in d.fields)
    got = listener.messages()
    assert got[0].fields == {"READY": "1", "STATUS": "first pass running"}
    assert got[1].fields == {"STATUS": "watching 1 calendar · 3 interviews"}
    assert got[2].fields == {"STOPPING": "1", "STATUS": "stopping"}
    notifier.close()


def test_abstract_namespace_socket() -> None:
    name = f"followupd-test-{uuid.uuid4().hex}"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(b"\0" + name.encode())
    sock.settimeout(5)
    try:
        notifier = Notifier.from_env({"NOTIFY_SOCKET": "@" + name})
        assert notifier.send("READY=1")
        assert sock.recv(100) == b"READY=1"
        notifier.close()
    finally:
        sock.close()


def test_watchdog_pings_only_when_due(listener: NotifyListener) -> None:
    now = [100.0]
    notifier = Notifier(listener.path, watchdog=1.0, monotonic=lambda: now[0])
    assert notifier.watchdog_due() == 0.0
    notifier.ping()  # never pinged: due at once
    notifier.ping()  # just pinged: not due
    now[0] += 0.6
    assert notifier.watchdog_due() == pytest.approx(0.4)
    notifier.ping()
    now[0] += 0.4
    notifier.ping()
    listener.wait_for(lambda d: len(listener.messages("WATCHDOG")) >= 2, timeout=2)
    assert len(listener.messages("WATCHDOG")) == 2
    notifier.close()


def test_a_vanished_socket_does_not_raise(tmp_path: os.PathLike[str]) -> None:
    notifier = Notifier.from_env({"NOTIFY_SOCKET": "/nonexistent/notify"})
    assert notifier.send("READY=1") is False
    notifier.status("still fine")
    notifier.close()


def test_status_is_one_line_without_secrets() -> None:
    line = one_line("first\nsecond\r\nthird\u2028fourth \x00 token=ya29.SECRET refresh_token: 1//0gSECRETSECRET")
    assert "\n" not in line and "\r" not in line and "\u2028" not in line and "\x00" not in line
    assert "SECRET" not in line
    assert line.startswith("first second third fourth")
    assert len(one_line("x" * 5000)) <= 200
