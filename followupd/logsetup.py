"""Logging: one line per action; no timestamps under the journal ($JOURNAL_STREAM)."""

from __future__ import annotations

import logging
import os
import sys


def configure(verbose: bool = False, quiet: bool = False) -> None:
    level = logging.DEBUG if verbose else logging.WARNING if quiet else logging.INFO
    if os.environ.get("JOURNAL_STREAM"):
        fmt = "%(levelname)s %(message)s"
    else:
        fmt = "%(asctime)s %(levelname)s %(message)s"
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(fmt, datefmt="%Y-%m-%d %H:%M:%S"))
    root = logging.getLogger("followupd")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False
    if not verbose:  # the Google client logs file_cache warnings and request URLs at INFO
        logging.getLogger("googleapiclient").setLevel(logging.ERROR)
