"""Backends, built from the configuration.  Imports are lazy so the local
default never loads the Google client libraries."""

from __future__ import annotations

from followupd.core.settings import Config
from followupd.backends.protocols import Backends, DraftSink, EventSink, EventSource


def build_backends(cfg: Config) -> Backends:
    """The source, the reminder sink and the draft sink the config asks for."""
    creds = None
    if cfg.calendar.backend == "google" or cfg.mail.backend == "gmail":
        from followupd.auth.google import load_credentials

        creds = load_credentials(cfg)

    source: EventSource
    events: EventSink
    if cfg.calendar.backend == "google":
        from followupd.backends.google_calendar import GoogleCalendar

        cal = GoogleCalendar(cfg, creds)
        source, events = cal, cal
        account = cfg.google.account
        watch, write_to = cfg.calendar.watch, cfg.calendar.write_to
    else:
        from followupd.backends.ics import IcsOutput, IcsSource

        source, events = IcsSource(cfg), IcsOutput(cfg)
        account = "local"
        watch, write_to = ("ics",), "ics"

    drafts: DraftSink
    if cfg.mail.backend == "gmail":
        from followupd.backends.gmail import GmailDrafts

        drafts = GmailDrafts(cfg, creds)
    else:
        from followupd.backends.maildir import MaildirDrafts

        drafts = MaildirDrafts(cfg)
    return Backends(source=source, events=events, drafts=drafts, account=account,
                    watch=tuple(watch), write_to=write_to)
