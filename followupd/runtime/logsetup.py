"""Logging for a terminal and for the journal.

* One line per action at INFO (the engine logs those); one line per pass only
  with ``--verbose`` (DEBUG).
* Under systemd's journal (``$JOURNAL_STREAM`` names our stderr) there are no
  timestamps — journald adds its own — and each line starts with a
  ``<N>`` syslog priority prefix, so ``journalctl -p warning`` works.
* Nothing that looks like an OAuth token or client secret reaches a log line,
  whatever a library or an exception message puts in it (SPEC §4.8).
"""

from __future__ import annotations

import logging
import os
import re
import sys
from typing import TextIO

# Shapes of Google secrets: access tokens, refresh tokens, client secrets,
# authorization codes, and the same values as JSON fields or URL parameters.
_SECRET_PATTERNS = (
    re.compile(r"ya29\.[A-Za-z0-9_\-.]+"),
    re.compile(r"\b1//[A-Za-z0-9_\-]{10,}"),
    re.compile(r"\bGOCSPX-[A-Za-z0-9_\-]+"),
    re.compile(r"\b4/[0-9A-Za-z_\-]{10,}"),
    re.compile(
        r"""(?ix)
        (["']?\b(?:access_token|refresh_token|client_secret|id_token|token|password|assertion)\b["']?
         \s*[:=]\s*["']?)
        ([^\s"'&,;}]+)
        """
    ),
    re.compile(r"(?i)(\bBearer\s+)([A-Za-z0-9_\-.~+/]+=*)"),
)

# logging level -> syslog priority (sd-daemon(3) SD_* prefixes)
_PRIORITY = ((logging.CRITICAL, 2), (logging.ERROR, 3), (logging.WARNING, 4), (logging.INFO, 6))


def redact(text: str) -> str:
    """``text`` with anything shaped like a credential replaced by ``[redacted]``."""
    for pattern in _SECRET_PATTERNS:
        if pattern.groups >= 2:
            text = pattern.sub(lambda m: m.group(1) + "[redacted]", text)
        else:
            text = pattern.sub("[redacted]", text)
    return text


def syslog_priority(levelno: int) -> int:
    for level, priority in _PRIORITY:
        if levelno >= level:
            return priority
    return 7  # debug


def under_journal(stream: TextIO | None = None, env: dict[str, str] | None = None) -> bool:
    """True when ``stream`` (default stderr) is connected to the journal.

    systemd sets ``$JOURNAL_STREAM`` to ``DEVICE:INODE`` of the stream it gave
    us.  It is inherited by child processes whose stderr may go elsewhere, so
    systemd.exec(5) says to compare it with the stream's own ``fstat``.  A
    value we cannot parse, or a stream without a file descriptor, is taken at
    its word (better to lose timestamps than to double them).
    """
    value = (env if env is not None else os.environ).get("JOURNAL_STREAM", "")
    if not value:
        return False
    stream = sys.stderr if stream is None else stream
    dev, _, ino = value.partition(":")
    try:
        st = os.fstat(stream.fileno())
        return st.st_dev == int(dev) and st.st_ino == int(ino)
    except (ValueError, OSError, AttributeError):
        return True


class RedactingFormatter(logging.Formatter):
    """Formats as usual, then scrubs credentials from the whole text (traceback included)."""

    def __init__(self, fmt: str, journal: bool) -> None:
        super().__init__(fmt, datefmt="%Y-%m-%d %H:%M:%S")
        self.journal = journal

    def format(self, record: logging.LogRecord) -> str:
        text = redact(super().format(record))
        if self.journal:
            prefix = f"<{syslog_priority(record.levelno)}>"
            # journald splits on newlines; give continuation lines (tracebacks) the same priority
            text = "\n".join(prefix + line for line in text.split("\n"))
        return text


def configure(verbose: bool = False, quiet: bool = False) -> None:
    """Set up the ``followupd`` logger for this process (idempotent)."""
    level = logging.DEBUG if verbose else logging.WARNING if quiet else logging.INFO
    journal = under_journal()
    fmt = "%(levelname)s %(message)s" if journal else "%(asctime)s %(levelname)s %(message)s"
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(RedactingFormatter(fmt, journal))
    root = logging.getLogger("followupd")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False
    if not verbose:  # the Google client logs file_cache warnings and request URLs at INFO
        logging.getLogger("googleapiclient").setLevel(logging.ERROR)
