"""The local calendar backends: the ICS source and the ICS reminder output.

``backends.build_backends`` imports both from here; the work is split across
``ics_fetch`` (reading a file or URL), ``ics_events`` (expansion and
conversion), ``ics_source`` and ``ics_output``.
"""

from __future__ import annotations

from followupd.backends.ics_output import IcsOutput
from followupd.backends.ics_source import IcsSource

__all__ = ["IcsOutput", "IcsSource"]
