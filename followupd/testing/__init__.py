"""Test doubles shipped inside the package (structlog's habit), so that users'
and contributors' tests can use the same fakes the project's own suite uses.

Production code never imports this package (an import-linter contract says so).
"""

from followupd.testing.memory import MemoryCalendar, MemoryDrafts
from followupd.testing.memory_keyring import MemoryKeyring
from followupd.testing.slow import slowed

__all__ = ["MemoryCalendar", "MemoryDrafts", "MemoryKeyring", "slowed"]
