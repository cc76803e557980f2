"""The real ``followupd`` command with test doubles injected: ``python tests/followupd_under_test.py ARGS``.

The subprocess tests (kill -9, the daemon against the emulator) run this
instead of ``python -m followupd``.  Its knobs are read here, never by
followupd itself:

* ``FOLLOWUPD_TEST_SLOW_WRITES=<seconds>``: every backend write sleeps that
  long before and after the real call (``followupd.testing.slowed``), so a
  SIGKILL can land between a write and its ledger commit;
* ``FOLLOWUPD_TEST_AUTH_RETRY=<seconds>``: the daemon retries a missing
  authorization that often instead of hourly.
"""

from __future__ import annotations

import os
import sys

SLOW_WRITES = "FOLLOWUPD_TEST_SLOW_WRITES"
AUTH_RETRY = "FOLLOWUPD_TEST_AUTH_RETRY"
HERE = os.path.abspath(__file__)


def command(*args: str) -> list[str]:
    """The argv that runs followupd ARGS through this launcher."""
    return [sys.executable, HERE, *args]


def main() -> int:
    slow = float(os.environ.get(SLOW_WRITES) or 0)
    if slow > 0:
        import followupd.backends as backends
        from followupd.testing import slowed

        real = backends.build_backends
        backends.build_backends = lambda cfg: slowed(real(cfg), slow)  # type: ignore[assignment]
    retry = float(os.environ.get(AUTH_RETRY) or 0)
    if retry > 0:
        from followupd.runtime import daemon

        daemon.DEFAULT_AUTH_RETRY = retry
    from followupd.cli import main as followupd_main

    return followupd_main(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
