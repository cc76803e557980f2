"""``followupd retry [EVENT]``: try the failing follow-ups again on the next pass (SPEC §4.10).

A follow-up whose write kept failing is set aside as *needs attention*; once the
person fixed the cause (an address, a calendar's sharing, a follow-up deleted by
hand), this makes it (and any other failing one) due now, so the next pass tries
each once more; one that fails again is set aside again at once.  Offline: it
only changes state.db, which a running daemon reads on its next pass.
"""

from __future__ import annotations

import argparse
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from followupd.store.state import State

if TYPE_CHECKING:
    from followupd.cli.context import Context


def cmd_retry(args: argparse.Namespace, ctx: Context) -> int:
    ctx.config()  # the configuration must be usable, as for every command that reads state
    with State() as st:
        ids = None
        if args.event:
            from followupd.cli.status import find_interview

            rec = find_interview(st.all_interviews(), args.event, datetime.now(timezone.utc))
            ids = [rec.id]
        cleared = st.retry_now(datetime.now(timezone.utc), ids)
    if not cleared:
        print("nothing is failing" + (f" for '{args.event}'" if args.event else "") + "; nothing to retry")
        return 0
    for e in cleared:
        assert e.failure is not None
        what = f"{e.kind.value} '{e.title or e.step}'" + (f" to {e.recipient}" if e.recipient else "")
        print(f"will try again: {what} (its {e.failure.action} had failed {e.failure.attempts} "
              f"time{'s' if e.failure.attempts != 1 else ''}: {e.failure.error})")
    print(f"{len(cleared)} follow-up{'s' if len(cleared) != 1 else ''} will be tried on the next pass "
          "(now: `followupd run --once`, or `systemctl --user reload followupd` for the service)")
    return 0
