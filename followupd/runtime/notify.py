"""The systemd notify protocol (sd_notify(3)), spoken directly over ``$NOTIFY_SOCKET``.

No libsystemd binding is needed: the protocol is one datagram of
newline-separated ``KEY=value`` assignments sent to an ``AF_UNIX`` socket.
Outside systemd (``$NOTIFY_SOCKET`` unset) every call is a no-op, so the daemon
runs the same way in a terminal.

The watchdog is pinged by the caller's main loop, never by a side thread: a
thread would keep pinging while the loop itself hangs, and systemd's restart
would never come.
"""

from __future__ import annotations

import logging
import os
import re
import socket
import time
from typing import Callable, Mapping

from followupd.runtime.logsetup import redact

log = logging.getLogger("followupd.notify")

# STATUS= is shown by `systemctl status`; keep it to one readable line.
STATUS_MAX = 200
_CONTROL = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]+")


def socket_address(value: str) -> str | bytes | None:
    """The address to ``sendto`` for a ``$NOTIFY_SOCKET`` value, or ``None`` if unusable.

    ``@name`` is a socket in the abstract namespace (a leading NUL byte);
    anything else must be an absolute path.  (systemd also allows
    ``vsock:`` addresses, used only for virtual machines; those are ignored.)
    """
    if value.startswith("@") and len(value) > 1:
        return b"\0" + value[1:].encode()
    if value.startswith("/"):
        return value
    return None


def watchdog_period(env: Mapping[str, str], pid: int) -> float | None:
    """How often to ping, in seconds: half of ``$WATCHDOG_USEC``, or ``None``.

    ``$WATCHDOG_PID``, when set, names the process systemd expects the pings
    from; if it is not us (an inherited environment), we must not ping.
    """
    usec = env.get("WATCHDOG_USEC", "")
    if not usec.isdigit() or int(usec) == 0:
        return None
    wd_pid = env.get("WATCHDOG_PID", "")
    if wd_pid and (not wd_pid.isdigit() or int(wd_pid) != pid):
        return None
    return int(usec) / 1_000_000 / 2


def one_line(text: str) -> str:
    """``text`` as a single, secret-free, bounded line for ``STATUS=``."""
    line = _CONTROL.sub(" ", redact(text)).strip()
    if len(line) > STATUS_MAX:
        line = line[: STATUS_MAX - 1] + "…"
    return line


class Notifier:
    """Sends ``READY=1``, ``WATCHDOG=1``, ``STATUS=`` and ``STOPPING=1`` to systemd.

    Send failures are otherwise ignored (a daemon must not die because its
    supervisor's socket went away), but the first one is logged at WARNING: a
    lost ``READY=1`` makes systemd time the unit out, and the journal must say
    why.  Later ones go to DEBUG.
    """

    def __init__(self, address: str | bytes | None, watchdog: float | None,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.address = address
        self.watchdog_every = watchdog if address is not None else None
        self._monotonic = monotonic
        self._sock: socket.socket | None = None
        self._last_ping: float | None = None
        self._last_status = ""
        self._warned = False

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Notifier:
        """A notifier for this process's ``$NOTIFY_SOCKET`` / ``$WATCHDOG_*``."""
        env = os.environ if env is None else env
        address = socket_address(env.get("NOTIFY_SOCKET", ""))
        return cls(address, watchdog_period(env, os.getpid()))

    @property
    def enabled(self) -> bool:
        return self.address is not None

    def send(self, *assignments: str) -> bool:
        """Send one datagram; True when it was delivered to the socket."""
        if self.address is None:
            return False
        payload = "\n".join(assignments).encode("utf-8", "replace")
        try:
            if self._sock is None:
                self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
            self._sock.sendto(payload, self.address)
        except OSError as exc:
            what = assignments[0].split("=", 1)[0]
            if not self._warned:
                self._warned = True
                log.warning("could not notify systemd (%s through $NOTIFY_SOCKET=%r): %s; if the unit times out "
                            "at start, this is why", what, self.address, exc)
            else:
                log.debug("sd_notify %s failed: %s", what, exc)
            return False
        return True

    def ready(self, status: str = "") -> None:
        """``READY=1`` (with a first ``STATUS=`` line, if given)."""
        fields = ["READY=1"]
        if status:
            self._last_status = one_line(status)
            fields.append(f"STATUS={self._last_status}")
        self.send(*fields)  # not a watchdog ping: systemd counts only WATCHDOG=1

    def status(self, text: str) -> None:
        """``STATUS=`` one line; repeated identical lines are still sent (cheap, and
        the test harness and ``systemctl status`` see the daemon is alive)."""
        self._last_status = one_line(text)
        self.send(f"STATUS={self._last_status}")

    @property
    def last_status(self) -> str:
        return self._last_status

    def watchdog_due(self) -> float | None:
        """Seconds until the next ping is due (0 = now), or ``None`` without a watchdog."""
        if self.watchdog_every is None:
            return None
        if self._last_ping is None:
            return 0.0
        return max(0.0, self._last_ping + self.watchdog_every - self._monotonic())

    def ping(self) -> None:
        """``WATCHDOG=1`` if a watchdog is configured and a ping is due."""
        due = self.watchdog_due()
        if due is not None and due <= 0:
            self.send("WATCHDOG=1")
            self._last_ping = self._monotonic()

    def stopping(self, status: str = "") -> None:
        fields = ["STOPPING=1"]
        if status:
            fields.append(f"STATUS={one_line(status)}")
        self.send(*fields)

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None
