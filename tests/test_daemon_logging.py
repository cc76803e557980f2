"""Logging for the terminal and the journal (followupd.logsetup)."""

from __future__ import annotations

import io
import logging
import os
import re
import subprocess
import sys
from pathlib import Path

from followupd.runtime.logsetup import RedactingFormatter, redact, syslog_priority, under_journal

TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")


def record(level: int, msg: str, exc: bool = False) -> logging.LogRecord:
    exc_info = None
    if exc:
        try:
            raise RuntimeError("token=ya29.LEAKED")
        except RuntimeError:
            exc_info = sys.exc_info()
    return logging.LogRecord("followupd.t", level, __file__, 1, msg, None, exc_info)


def test_terminal_lines_have_timestamps() -> None:
    fmt = RedactingFormatter("%(asctime)s %(levelname)s %(message)s", journal=False)
    line = fmt.format(record(logging.INFO, "created reminder 'Prepare' for 'Interview: Acme'"))
    assert TIMESTAMP.match(line)
    assert not line.startswith("<")


def test_journal_lines_carry_priority_and_no_timestamp() -> None:
    fmt = RedactingFormatter("%(levelname)s %(message)s", journal=True)
    assert fmt.format(record(logging.INFO, "created")) == "<6>INFO created"
    assert fmt.format(record(logging.WARNING, "w")).startswith("<4>")
    assert fmt.format(record(logging.DEBUG, "d")).startswith("<7>")
    traceback_text = fmt.format(record(logging.ERROR, "unexpected", exc=True))
    lines = traceback_text.split("\n")
    assert len(lines) > 2 and all(line.startswith("<3>") for line in lines)
    assert not TIMESTAMP.search(traceback_text)
    assert "LEAKED" not in traceback_text  # even inside a traceback


def test_priorities() -> None:
    assert [syslog_priority(x) for x in (10, 20, 30, 40, 50)] == [7, 6, 4, 3, 2]


def test_journal_stream_must_name_our_stderr(tmp_path: Path) -> None:
    log_file = tmp_path / "err.log"
    with open(log_file, "w") as stream:
        st = os.fstat(stream.fileno())
        assert under_journal(stream, {"JOURNAL_STREAM": f"{st.st_dev}:{st.st_ino}"})
        assert not under_journal(stream, {"JOURNAL_STREAM": f"{st.st_dev}:{st.st_ino + 1}"})
        assert not under_journal(stream, {})
    assert under_journal(io.StringIO(), {"JOURNAL_STREAM": "8:1234"})  # no fd to compare: trust it


def test_redaction_of_credential_shapes() -> None:
    text = redact('{"access_token": "ya29.abc", "refresh_token": "1//0gXYZabcdefghij", '
                  '"client_secret": "GOCSPX-s3cr3t"} Authorization: Bearer abc.def')
    for secret in ("ya29.abc", "1//0gXYZ", "GOCSPX-s3cr3t", "abc.def"):
        assert secret not in text
    assert redact("exit code 2; syncToken=CPDAlvWDx70CEPDAlvWDx70CGAU=") == \
        "exit code 2; syncToken=CPDAlvWDx70CEPDAlvWDx70CGAU="  # not a credential


def test_cli_under_journal_has_no_timestamps(tmp_path: Path) -> None:
    """The real CLI, its stderr a file whose device:inode is in $JOURNAL_STREAM."""
    err_path = tmp_path / "stderr"
    with open(err_path, "w") as err:
        st = os.fstat(err.fileno())
        env = {**os.environ, "JOURNAL_STREAM": f"{st.st_dev}:{st.st_ino}",
               "FOLLOWUPD_CONFIG": str(tmp_path / "config.toml")}
        code = (
            "import logging, sys\n"
            "from followupd.runtime.logsetup import configure\n"
            "configure()\n"
            "logging.getLogger('followupd.engine').info('created reminder %r', 'Prepare')\n"
            "logging.getLogger('followupd.engine').warning('slow')\n"
        )
        subprocess.run([sys.executable, "-c", code], env=env, stderr=err, check=True, timeout=60)
    lines = err_path.read_text().splitlines()
    assert lines == ["<6>INFO created reminder 'Prepare'", "<4>WARNING slow"]
