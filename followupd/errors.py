"""The one error hierarchy of followupd.

The CLI maps each class to an exit code (see ``EXIT_CODES``); nothing else in the
package decides exit codes.  Messages are written for the person reading the
terminal: they say what is wrong and what to do, and never carry a secret.
"""

from __future__ import annotations


class FollowupdError(Exception):
    """Base class of every error followupd raises on purpose."""

    exit_code = 1


class ConfigError(FollowupdError):
    """Raised when the configuration or the command line cannot be used.

    Raised by ``config.load`` (with *every* problem found, each naming the file
    and the key), by the CLI for bad arguments (an unknown EVENT, a bad date),
    and by backends whose configured location is unusable (an ICS source that
    does not exist or does not parse).  Exit code 2.
    """

    exit_code = 2

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        self.problems = list(problems or [])
        if self.problems:
            message = message + "\n" + "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(message)


class AccessDenied(ConfigError):
    """The account may not write where the configuration says to write.

    A ``[calendar] write_to`` that the account can only read (Google's
    ``accessRole: reader``, a 403 ``requiredAccessLevel``), or a mailbox it may
    not change.  The message names the calendar and the fix.  Exit code 2: it
    is not "unexpected", and retrying every interval cannot fix it.
    """


class AuthError(FollowupdError):
    """Raised when followupd needs the person to authorize it again.

    Raised when no credentials are stored, when the refresh token was revoked or
    expired (``invalid_grant``), when the keyring is refused as insecure, or when
    the keyring is locked or does not answer in time.  Exit code 3; the message
    says to run ``followupd auth login``.
    """

    exit_code = 3


class KeyringUnusable(AuthError):
    """Raised when the OS keyring cannot be used: refused as insecure (a
    plaintext backend), locked, failing, or not answering in time.

    Still exit code 3 (followupd cannot reach its credentials), but the fix is
    the keyring, not a new login, so the message names that fix instead.
    """


class TransientError(FollowupdError):
    """Raised when a remote call failed in a way that may pass by itself.

    Network errors, timeouts, connection resets, HTTP 5xx, 429 and 403 rate or
    quota limits.  The daemon backs off with jitter and keeps running; the
    pass's pending work stays pending.  With ``run --once`` it exits 1.
    """

    exit_code = 1


class SafetyStop(FollowupdError):
    """Raised before acting when a pass looks destructive (SPEC §4.6).

    A pass that would withdraw more than 20 follow-ups, or a full listing that
    comes back empty while interviews were known.  Nothing is written; the
    reason is reported.  Exit code 4.
    """

    exit_code = 4


class Conflict(FollowupdError):
    """A backend found that the person changed something followupd wrote.

    Not an error for the person: ``apply`` catches it and records the user's
    word in the ledger.  Never escapes to the CLI.
    """


class UserEdited(Conflict):
    """The item's etag, message id or content hash differs from what was written."""


class UserDeleted(Conflict):
    """The item followupd wrote is gone (deleted, or a draft that was sent)."""


EXIT_OK = 0
EXIT_UNEXPECTED = 1
EXIT_CONFIG = 2
EXIT_AUTH = 3
EXIT_SAFETY = 4
