"""Real servers for the CalDAV and IMAP tests: Radicale and Dovecot on 127.0.0.1 (issue #13).

Each is started once per test session in a temporary folder, with a generated
configuration and a self-signed certificate for 127.0.0.1 (its CA is the
certificate itself, handed to followupd as ``cafile``).  Every test gets its own
account (``new_account``, from a pool written before the server starts), so
tests never see each other's calendars or drafts.

In CI (``$CI`` set) a missing server is a failure; elsewhere the tests skip,
saying how to install it.  Loaded from ``tests/conftest.py``.
"""

from __future__ import annotations

import itertools
import os
import secrets
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest

_accounts = itertools.count(1)
POOL = 400  # accounts written before a server starts: a password file changed within the same
# second as the last read may not be read again, so no test waits for a new one to be noticed


@dataclass(frozen=True)
class Account:
    username: str
    password: str


def _account() -> Account:
    return Account(f"user{next(_accounts)}-{secrets.token_hex(3)}", secrets.token_urlsafe(12))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _need(what: str, found: bool, how: str) -> None:
    if found:
        return
    message = f"needs {what}: {how}"
    if os.environ.get("CI"):
        pytest.fail(f"{message} (CI must run these tests, never skip them)", pytrace=False)
    pytest.skip(message)


def make_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost; ``(cert, key)``."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    key.chmod(0o600)
    return cert, key


def _wait_tls(port: int, cafile: Path, process: subprocess.Popen[bytes], log: Path, seconds: float = 20) -> None:
    context = ssl.create_default_context(cafile=str(cafile))
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited ({process.returncode}): {log.read_text(errors='replace')[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as raw:
                with context.wrap_socket(raw, server_hostname="127.0.0.1"):
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"the server did not answer on 127.0.0.1:{port}: {log.read_text(errors='replace')[-2000:]}")


def _wait_port(port: int, process: subprocess.Popen[bytes], log: Path, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited ({process.returncode}): {log.read_text(errors='replace')[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"the server did not listen on 127.0.0.1:{port}: {log.read_text(errors='replace')[-2000:]}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Stop the server and every process it started (each connection's, for Dovecot): the
    server is gone, as when it stops for real."""
    import signal

    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        except ProcessLookupError:
            pass
    try:
        os.killpg(process.pid, signal.SIGKILL)  # children still there
    except (ProcessLookupError, PermissionError):
        pass


class _Server:
    """What both servers share: a folder, a certificate, a password file of pooled accounts
    (``line`` formats one), a log, and a process of their own that ``stop`` ends with its children."""

    def __init__(self, folder: Path, log_name: str, line: str) -> None:
        self.folder = folder
        self.cert, self.key = make_certificate(folder)
        self.users = folder / "users"
        self._pool = [_account() for _ in range(POOL)]
        self.users.write_text("".join(line.format(a=a) + "\n" for a in self._pool))
        self.log = folder / log_name
        self.process: subprocess.Popen[bytes] | None = None

    def _launch(self, argv: list[str]) -> subprocess.Popen[bytes]:
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        return self.process

    def stop(self) -> None:
        if self.process is not None:
            _stop(self.process)

    def new_account(self) -> Account:
        return self._pool.pop()


# ---------------------------------------------------------------- Radicale

class Radicale(_Server):
    """Radicale over TLS with htpasswd (plain) accounts."""

    def __init__(self, folder: Path) -> None:
        super().__init__(folder, "radicale.log", "{a.username}:{a.password}")
        self.port = _free_port()
        self.config = folder / "config"
        self.config.write_text(f"""[server]
hosts = 127.0.0.1:{self.port}
ssl = True
certificate = {self.cert}
key = {self.key}
[auth]
type = htpasswd
htpasswd_filename = {self.users}
htpasswd_encryption = plain
delay = 0
[storage]
filesystem_folder = {folder / "collections"}
[rights]
type = owner_only
[logging]
level = warning
""")

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}/"

    def start(self) -> Radicale:
        process = self._launch([sys.executable, "-m", "radicale", "--config", str(self.config)])
        _wait_tls(self.port, self.cert, process, self.log)
        return self


# ---------------------------------------------------------------- Dovecot

class Dovecot(_Server):
    """Dovecot IMAP (993 TLS and 143 STARTTLS) with passwd-file accounts and Maildir mailboxes;
    the Drafts mailbox carries SPECIAL-USE \\Drafts."""

    def __init__(self, folder: Path, binary: str) -> None:
        super().__init__(folder, "dovecot.log", "{a.username}:{{PLAIN}}{a.password}")
        self.binary = binary
        self.tls_port, self.starttls_port = _free_port(), _free_port()
        self.config = folder / "dovecot.conf"
        import pwd

        uid, gid = os.getuid(), os.getgid()
        me = pwd.getpwuid(uid).pw_name
        internal = "" if uid == 0 else f"default_internal_user = {me}\ndefault_login_user = {me}\n"
        for sub in ("run", "state", "mail"):
            (folder / sub).mkdir()
        if uid == 0:  # Dovecot refuses to deliver as root: the mailboxes belong to an unprivileged user
            mail_user = pwd.getpwnam("nobody")
            uid, gid = mail_user.pw_uid, mail_user.pw_gid
            os.chown(folder / "mail", uid, gid)
        self.config.write_text(f"""protocols = imap
listen = 127.0.0.1
base_dir = {folder / "run"}
state_dir = {folder / "state"}
log_path = {self.log}
info_log_path = {self.log}
{internal}ssl = required
ssl_cert = <{self.cert}
ssl_key = <{self.key}
disable_plaintext_auth = yes
auth_mechanisms = plain login
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {self.users}
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={folder / "mail"}/%u
}}
mail_location = maildir:~/Maildir
first_valid_uid = 0
namespace inbox {{
  inbox = yes
  separator = /
  mailbox Drafts {{
    special_use = \\Drafts
    auto = subscribe
  }}
  mailbox Sent {{
    special_use = \\Sent
    auto = subscribe
  }}
  mailbox Trash {{
    special_use = \\Trash
    auto = subscribe
  }}
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.starttls_port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {self.tls_port}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
}}
""")

    def start(self) -> Dovecot:
        process = self._launch([self.binary, "-F", "-c", str(self.config)])
        _wait_tls(self.tls_port, self.cert, process, self.log)
        _wait_port(self.starttls_port, process, self.log)
        return self


def followupd_toml(radicale: Radicale, cal: Account, dovecot: Dovecot, mail: Account, extra: str = "") -> str:
    """A followupd configuration on these servers and accounts ("Work" watched and written to)."""
    return f"""[me]
name = "Jordan Rivera"
email = "jordan@example.org"

[calendar]
backend = "caldav"
watch = ["Work"]
write_to = "Work"

[mail]
backend = "imap"

[caldav]
url = "{radicale.url}"
username = "{cal.username}"
cafile = "{radicale.cert}"

[imap]
host = "127.0.0.1"
port = {dovecot.tls_port}
username = "{mail.username}"
cafile = "{dovecot.cert}"
{extra}"""


# ---------------------------------------------------------------- fixtures

@pytest.fixture(scope="session")
def radicale() -> Iterator[Radicale]:
    import importlib.util

    _need("Radicale", importlib.util.find_spec("radicale") is not None,
          "pip install radicale (the test extra installs it)")
    _need("openssl", shutil.which("openssl") is not None, "apt install openssl")
    folder = Path(tempfile.mkdtemp(prefix="followupd-radicale-"))
    server = Radicale(folder).start()
    yield server
    server.stop()
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def dovecot() -> Iterator[Dovecot]:
    binary = shutil.which("dovecot") or ("/usr/sbin/dovecot" if os.path.exists("/usr/sbin/dovecot") else None)
    _need("Dovecot", binary is not None, "sudo apt install dovecot-imapd (.ci/run installs it)")
    _need("openssl", shutil.which("openssl") is not None, "apt install openssl")
    assert binary is not None
    folder = Path(tempfile.mkdtemp(prefix="followupd-dovecot-"))
    folder.chmod(0o755)
    server = Dovecot(folder, binary).start()
    yield server
    server.stop()
    shutil.rmtree(folder, ignore_errors=True)


__all__ = ["Account", "Dovecot", "followupd_toml", "Radicale", "dovecot", "make_certificate", "radicale"]
