"""The edges: the command line.  ``main`` is the entry point (``followupd = followupd.cli:main``)."""

from followupd.cli.app import main

__all__ = ["main"]
