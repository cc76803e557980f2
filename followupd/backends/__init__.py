"""Backends, built from the configuration.  Imports are lazy so the local
default never loads the Google client libraries."""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from followupd.core.settings import CalendarBackend, Config, MailBackend
from followupd.backends.protocols import Backends, DraftSink, EventSink, EventSource

if TYPE_CHECKING:
    from followupd.backends.caldav_calendar import CalDavCalendar


def build_source(cfg: Config) -> tuple[EventSource, tuple[str, ...]]:
    """Only the event source and the calendars it watches (``explain``, ``preview``): no sink is
    opened, so the reminders file is not read and the Gmail service is not built."""
    if cfg.calendar.backend == CalendarBackend.GOOGLE:
        from followupd.auth.google import load_credentials
        from followupd.backends.google_calendar import GoogleCalendar

        return GoogleCalendar(cfg, load_credentials(cfg)), tuple(cfg.calendar.watch)
    if cfg.calendar.backend == CalendarBackend.CALDAV:
        return _caldav(cfg), tuple(cfg.calendar.watch)
    from followupd.backends.ics_source import IcsSource

    return IcsSource(cfg), ("ics",)


def build_backends(cfg: Config) -> Backends:
    """The source, the reminder sink and the draft sink the config asks for."""
    creds = None
    if cfg.calendar.backend == CalendarBackend.GOOGLE or cfg.mail.backend == MailBackend.GMAIL:
        from followupd.auth.google import load_credentials

        creds = load_credentials(cfg)

    source: EventSource
    events: EventSink
    if cfg.calendar.backend == CalendarBackend.GOOGLE:
        from followupd.backends.google_calendar import GoogleCalendar

        cal = GoogleCalendar(cfg, creds)
        source, events, observed = cal, cal, True
        watch, write_to = cfg.calendar.watch, cfg.calendar.write_to
    elif cfg.calendar.backend == CalendarBackend.CALDAV:
        dav = _caldav(cfg)
        source, events, observed = dav, dav, True
        watch, write_to = cfg.calendar.watch, cfg.calendar.write_to
    else:
        from followupd.backends.ics import IcsOutput, IcsSource

        source, events, observed = IcsSource(cfg), IcsOutput(cfg), False
        watch, write_to = ("ics",), "ics"

    drafts: DraftSink
    if cfg.mail.backend == MailBackend.GMAIL:
        from followupd.backends.gmail import GmailDrafts

        drafts = GmailDrafts(cfg, creds)
    elif cfg.mail.backend == MailBackend.IMAP:
        from followupd.backends.imap_drafts import ImapDrafts

        drafts = ImapDrafts(cfg, _password(cfg, "imap"))
    else:
        from followupd.backends.maildir import MaildirDrafts

        drafts = MaildirDrafts(cfg)
    return Backends(source=source, events=events, drafts=drafts, watch=tuple(watch), write_to=write_to,
                    sink_observed_by_source=observed)


def _password(cfg: Config, which: str) -> Callable[[], str]:
    """The app password.  CalDAV's is read now, once (the source syncs on every pass, so a missing
    one is said at start-up); IMAP's when first needed, so an idle pass never reads it.  Either
    way the backend's session keeps it."""
    from followupd.auth.passwords import Service, password

    service = Service(which)
    if service is Service.CALDAV:
        secret = password(cfg, service)
        return lambda: secret
    return lambda: password(cfg, service)


def _caldav(cfg: Config) -> CalDavCalendar:
    from followupd.backends.caldav_calendar import CalDavCalendar

    return CalDavCalendar(cfg, _password(cfg, "caldav"))
