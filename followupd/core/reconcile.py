"""Desired × ledger × observed → actions.  Pure: no I/O, no sqlite3, no clock.

The rules (SPEC §4, rules 3–5), for each follow-up key:

* **Create** a desired follow-up only when it is due to be written
  (``write_from <= now``) and the ledger has no row for its key.  A key the
  ledger knows is never created again, whatever its status: a follow-up the
  person deleted stays deleted, and one followupd withdrew stays withdrawn
  (Google keeps a deleted event's id, so it could not come back anyway).
* A **PLANNED** row is an intent whose backend call may or may not have
  happened: **ResolveIntent** finds it before creating anything.  If the
  follow-up is no longer desired, the intent is withdrawn instead (``apply``
  finds the item first and removes it if it exists).
* What the person did wins: an observed deletion → **MarkDeleted**; an observed
  version different from the one recorded at write time → **MarkEdited**.  Such
  rows are never touched again.
* A **WRITTEN** row of an interview that is no longer live (cancelled, deleted,
  declined, untagged) or of a follow-up no longer desired (a check-in cancelled
  by an outcome, a disabled step) → **Withdraw**.
* A **WRITTEN** row whose desired content changed (the interview moved, the
  title changed) → **Update**: an untouched reminder moves with the interview,
  an untouched, unsent draft is rewritten.  This holds even when a reschedule
  pushes the step into the future: a draft already written stays (rewritten
  with the new date) rather than being withdrawn, because a withdrawn key never
  comes back and the person may already be relying on it.  Drafts not yet
  written simply wait for their new moment.
* **Skip** records a follow-up that ``plan`` dropped as already past when the
  interview was first seen, so that it is never written later.

Actions come out in a deterministic order: per interview, by time, then key and kind of action.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import AbstractSet, Mapping, Sequence, Union

from followupd.core.model import FollowUp, LedgerEntry, Observed, Status


@dataclass(frozen=True)
class Create:
    followup: FollowUp


@dataclass(frozen=True)
class Update:
    followup: FollowUp
    entry: LedgerEntry


@dataclass(frozen=True)
class Withdraw:
    entry: LedgerEntry
    reason: str


@dataclass(frozen=True)
class MarkEdited:
    entry: LedgerEntry


@dataclass(frozen=True)
class MarkDeleted:
    entry: LedgerEntry


@dataclass(frozen=True)
class Skip:
    followup: FollowUp
    reason: str


@dataclass(frozen=True)
class ResolveIntent:
    followup: FollowUp
    entry: LedgerEntry


Action = Union[Create, Update, Withdraw, MarkEdited, MarkDeleted, Skip, ResolveIntent]

_RANK: dict[type, int] = {MarkDeleted: 0, MarkEdited: 1, ResolveIntent: 2, Withdraw: 3, Update: 4, Create: 5, Skip: 6}

NOT_LIVE = "interview no longer on the calendar"
NOT_DESIRED = "no longer planned"
PAST_WHEN_SEEN = "already past when first seen"


def action_key(action: Action) -> str:
    """The follow-up key an action is about."""
    if isinstance(action, (Create, Skip)):
        return action.followup.key
    return action.entry.key


def _sort_key(action: Action) -> tuple[str, datetime, str, int]:
    """Per interview, in the order the follow-ups happen; ties broken by key."""
    item = action.followup if isinstance(action, (Create, Skip)) else action.entry
    return item.interview_id, item.at, action_key(action), _RANK[type(action)]


def reconcile(
    desired: Sequence[FollowUp],
    ledger: Mapping[str, LedgerEntry],
    observed: Mapping[str, Observed],
    live_interviews: AbstractSet[str],
    now: datetime,
    *,
    skipped: Sequence[FollowUp] = (),
    gone_reasons: Mapping[str, str] | None = None,
) -> list[Action]:
    """The actions that bring the written follow-ups in line with the plan.

    ``desired`` holds the follow-ups of live interviews (due or not);
    ``ledger`` the rows of every interview under consideration; ``observed``
    what the calendar reported this pass of items followupd wrote;
    ``live_interviews`` the ids of interviews still live; ``skipped`` the
    follow-ups ``plan`` dropped as already past when first seen;
    ``gone_reasons`` why an interview is no longer live (for the log line).
    """
    reasons = gone_reasons or {}
    wanted: dict[str, FollowUp] = {}
    for d in desired:
        if d.interview_id in live_interviews:
            wanted.setdefault(d.key, d)
    actions: list[Action] = []

    for key, entry in ledger.items():
        f = wanted.get(key)
        obs = observed.get(key)
        live = entry.interview_id in live_interviews
        if entry.status == Status.PLANNED:
            if f is not None:
                actions.append(ResolveIntent(f, entry))
            else:
                actions.append(Withdraw(entry, NOT_DESIRED if live else reasons.get(entry.interview_id, NOT_LIVE)))
            continue
        if obs is not None and obs.deleted and entry.status in (Status.WRITTEN, Status.EDITED):
            actions.append(MarkDeleted(entry))
            continue
        if entry.status != Status.WRITTEN:
            continue  # the person's word, or already settled: never touched again
        if obs is not None and obs.version != entry.version:
            actions.append(MarkEdited(entry))
        elif not live:
            actions.append(Withdraw(entry, reasons.get(entry.interview_id, NOT_LIVE)))
        elif f is None:
            actions.append(Withdraw(entry, NOT_DESIRED))
        elif f.content_hash != entry.content_hash:
            actions.append(Update(f, entry))

    for key, due in wanted.items():
        if key not in ledger and due.write_from <= now:
            actions.append(Create(due))
    seen = set(wanted)
    for past in skipped:
        if past.interview_id in live_interviews and past.key not in ledger and past.key not in seen:
            seen.add(past.key)
            actions.append(Skip(past, PAST_WHEN_SEEN))

    actions.sort(key=_sort_key)
    return actions


def withdrawals(actions: Sequence[Action]) -> int:
    """How many follow-ups the actions would remove (for the safety stop)."""
    return sum(1 for a in actions if isinstance(a, Withdraw))
