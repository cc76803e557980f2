"""Applications and rounds (SPEC §2 "Applications, rounds and kinds").

An application is the interviews for one company (and role, where both are
known) that follow each other within 60 days.  Thank-you and handwritten-note
steps happen once per round; references and check-in once per application:
the references hear after the first round (again only after 60 days of
silence), and the check-in waits for the latest round, so a new round
supersedes the check-in still pending from the previous one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from followupd.core.model import Interview
from followupd.core.people import employer_domain
from followupd.core.settings import Config

SILENCE = timedelta(days=60)


@dataclass(frozen=True)
class Round:
    """Where one interview stands in its application."""

    application: str  # a stable key: the company, else the employer's domain, else the series or event
    number: int = 1  # 1 for the first round
    rounds: int = 1  # how many rounds the application has (that followupd knows of)

    @property
    def first(self) -> bool:
        return self.number == 1

    @property
    def latest(self) -> bool:
        return self.number == self.rounds


ALONE = Round(application="", number=1, rounds=1)


def application_key(iv: Interview, cfg: Config) -> str:
    """What ties rounds together: the company, else the employer's domain, else the series."""
    if iv.company:
        return "company:" + re.sub(r"[^a-z0-9]+", "", iv.company.lower())
    for p in ([iv.organizer] if iv.organizer else []) + list(iv.interviewers):
        domain = employer_domain(p.email, cfg)
        if domain:
            return "domain:" + domain
    if iv.event.recurring_event_id:
        return "series:" + iv.event.recurring_event_id
    return "event:" + iv.id


def rounds(interviews: Iterable[Interview], cfg: Config) -> dict[str, Round]:
    """Each interview's round, by interview id.  Roles split an application only when both are known
    and differ; 60 days without an interview start a new application."""
    groups: dict[str, list[Interview]] = {}
    for iv in interviews:
        groups.setdefault(application_key(iv, cfg), []).append(iv)
    out: dict[str, Round] = {}
    for key, members in groups.items():
        members.sort(key=lambda iv: (iv.event.start, iv.id))
        runs: list[list[Interview]] = []
        for iv in members:
            run = next((r for r in runs if _continues(r, iv)), None)
            if run is None:
                runs.append([iv])
            else:
                run.append(iv)
        for n, run in enumerate(runs):
            app = f"{key}#{n}" if n else key
            for i, iv in enumerate(run, 1):
                out[iv.id] = Round(application=app, number=i, rounds=len(run))
    return out


def _continues(run: list[Interview], iv: Interview) -> bool:
    last = run[-1]
    if iv.event.start - last.event.end > SILENCE:
        return False
    roles = {r.role.lower() for r in run if r.role}
    return not (iv.role and roles and iv.role.lower() not in roles)
