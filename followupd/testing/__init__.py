"""Test doubles shipped inside the package (structlog's habit), so that users'
and contributors' tests can use the same fakes the project's own suite uses."""
