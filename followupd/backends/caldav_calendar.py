"""CalDAV: the event source and the reminder sink for any standards calendar server
(Fastmail, iCloud, Nextcloud, mailbox.org, Radicale …; SPEC §5 "CalDAV and IMAP").

Built on the maintained ``caldav`` library: its ``DAVClient`` carries the
session, authentication, TLS verification and the principal's calendar-home-set
discovery; the requests whose headers and bodies matter are made explicitly.

* **Calendars** are named in ``[calendar] watch`` / ``write_to`` by display
  name (or the last part of their URL), or by URL, and found from the principal.
* **Sync** is the sync-collection REPORT (RFC 6578) asking for the ETag and the
  calendar data of what changed, so a first sync of thousands of events is one
  request and an idle pass one small one.  Where a server lacks it (or refuses
  the token), a calendar-query listing is compared by ETag instead.  Recurring
  events are expanded with recurring-ical-events, as for an ``.ics`` source.
  The sync token stored between passes also maps each resource to the event
  ids it held, so a deleted resource (CalDAV reports only its href) becomes
  tombstones with the right ids.
* **Reminders** get deterministic UIDs and resource names (``<uid>.ics``) and
  are created under ``If-None-Match: *``: a 412 means it exists, and it is
  adopted only if it still says what followupd writes (else the person edited
  it).  Updates and deletes go under ``If-Match``: a 412 means the person
  edited it, a 404 that they deleted it.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import replace
from functools import partial
from datetime import datetime, timezone
from typing import Any, Callable, Iterable
from urllib.parse import unquote, urljoin, urlsplit
from zoneinfo import ZoneInfo

import icalendar

from followupd.backends.ics_events import expand
from followupd.backends.ics_output import PRODID, build_reminder, event_version
from followupd.backends.ics_source import HORIZON
from followupd.backends.caldav_sync import NS, QUERY, SYNC, TIMEZONE, Token, items, plain_text, tombstone, xml_text
from followupd.backends.protocols import Screen, Written
from followupd.backends.tzname import iana_name, system_timezone
from followupd.core import ids
from followupd.core.model import CalendarEvent, FollowUp, LedgerEntry, SyncResult
from followupd.core.settings import Config
from followupd.errors import AccessDenied, ConfigError, FollowupdError, TransientError, UserDeleted, UserEdited

log = logging.getLogger("followupd.backends.caldav")

TIMEOUT = 30
ACCOUNT_PREFIX = "caldav"
class CalDavCalendar:
    """Implements ``protocols.EventSource`` and ``protocols.EventSink`` over CalDAV."""

    def __init__(self, cfg: Config, password: Callable[[], str]) -> None:
        self._cfg = cfg
        self._password = password
        self._client: Any = None
        self._urls: dict[str, str] = {}  # configured calendar id -> collection URL
        self._zones: dict[str, str] = {}
        self._where = f"[caldav] in {cfg.path}" if cfg.path else "[caldav]"

    # ---- the session -------------------------------------------------------------
    def client(self) -> Any:
        if self._client is None:
            from caldav.davclient import DAVClient

            cafile = self._cfg.caldav.cafile
            self._client = DAVClient(url=self._cfg.caldav.url, username=self._cfg.caldav.username,
                                            password=self._password(), timeout=TIMEOUT,
                                            ssl_verify_cert=str(cafile) if cafile else True,
                                            enable_rfc6764=False)
        return self._client

    def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            client.close()

    def _request(self, what: str, url: str, method: str, body: str = "",
                 headers: dict[str, str] | None = None) -> Any:
        """One request; the library's and the network's errors in followupd's terms."""
        from caldav.lib import error

        try:
            return self.client().request(url, method, body, headers or {})
        except error.AuthorizationError as exc:
            raise self._refused(what, exc) from None
        except error.RateLimitError as exc:
            raise TransientError(f"{what}: the CalDAV server asks to wait ({exc})") from None
        except Exception as exc:  # niquests' connection, timeout and TLS errors, among others
            raise _network_error(what, self._cfg.caldav.url, exc) from None

    def _refused(self, what: str, exc: Exception) -> FollowupdError:
        from followupd.auth.passwords import Service, wrong_password

        text = str(exc)
        if "403" in text or "Forbidden" in text:
            return AccessDenied(f"{what}: the CalDAV server forbids it for {self._cfg.caldav.username!r} "
                                f"(403): check that [calendar] write_to names a calendar you may change")
        return wrong_password(Service.CALDAV, self._cfg.caldav.username, "401")

    def calendar_url(self, calendar_id: str) -> str:
        """The collection URL of a configured calendar: a URL as given, else found by name."""
        if calendar_id not in self._urls:
            if calendar_id.startswith(("https://", "http://")):
                self._urls[calendar_id] = calendar_id.rstrip("/") + "/"
            else:
                self._urls.update(self._discover(calendar_id))
        return self._urls[calendar_id]

    def _discover(self, wanted: str) -> dict[str, str]:
        from caldav.lib import error

        try:
            calendars = self.client().principal().calendars()
            found = {str(c.url): (c.get_display_name() or "") for c in calendars}
        except error.AuthorizationError as exc:
            raise self._refused("finding your calendars", exc) from None
        except error.DAVError as exc:
            raise ConfigError(f"{self._where}: no CalDAV calendars found at {self._cfg.caldav.url} ({exc}); "
                              "check [caldav] url (the server's root or your principal URL)") from None
        except Exception as exc:  # noqa: BLE001 - the network's errors
            raise _network_error("finding your calendars", self._cfg.caldav.url, exc) from None
        for url, name in found.items():
            last = unquote(urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1])
            if wanted.casefold() in (name.casefold(), last.casefold()):
                return {wanted: url.rstrip("/") + "/"}
        names = ", ".join(repr(n or u) for u, n in found.items()) or "none"
        raise ConfigError(f"[calendar]: there is no CalDAV calendar named {wanted!r} for "
                          f"{self._cfg.caldav.username!r} (found: {names}); use one of those names, or its URL")

    def may_write(self, calendar_id: str) -> bool | None:
        """Whether the account may add events to the calendar (``current-user-privilege-set``),
        or None when the server does not say."""
        body = ('<?xml version="1.0" encoding="utf-8"?><d:propfind xmlns:d="DAV:"><d:prop>'
                "<d:current-user-privilege-set/></d:prop></d:propfind>")
        response = self._request(f"reading calendar {calendar_id!r}", self.calendar_url(calendar_id), "PROPFIND",
                                 body, {"Depth": "0", "Content-Type": "application/xml"})
        tree = getattr(response, "tree", None)
        if tree is None:
            return None
        privileges = tree.findall(".//d:current-user-privilege-set/d:privilege/*", namespaces=NS)
        if not privileges:
            return None
        names = {p.tag.rsplit("}", 1)[-1] for p in privileges}
        return bool(names & {"all", "write", "write-content", "bind"})

    # ---- EventSource -----------------------------------------------------------------
    def timezone(self, calendar_id: str) -> str:
        """The calendar's ``calendar-timezone`` (its VTIMEZONE's TZID), else the system zone."""
        if calendar_id not in self._zones:
            response = self._request(f"reading calendar {calendar_id!r}", self.calendar_url(calendar_id),
                                     "PROPFIND", TIMEZONE, {"Depth": "0", "Content-Type": "application/xml"})
            name = None
            tree = getattr(response, "tree", None)
            data = tree.findtext(".//c:calendar-timezone", namespaces=NS) if tree is not None else None
            if data:
                try:
                    vtz = next(iter(icalendar.Calendar.from_ical(data).walk("VTIMEZONE")), None)
                    name = iana_name(str(vtz.get("TZID"))) if vtz is not None else None
                except ValueError:
                    name = None
            self._zones[calendar_id] = name or system_timezone()
        return self._zones[calendar_id]

    def sync(self, calendar_id: str, token: str | None, time_min: datetime) -> SyncResult:
        return self._sync(calendar_id, token, time_min, None)

    def sync_screened(self, calendar_id: str, token: str | None, time_min: datetime, screen: Screen) -> SyncResult:
        """``sync``, building only followupd's own events and those ``screen`` lets through; a plain
        single event it rules out is kept unparsed in ``passed_over`` (most of a first sync)."""
        return self._sync(calendar_id, token, time_min, screen)

    def _sync(self, calendar_id: str, token: str | None, time_min: datetime, screen: Screen | None) -> SyncResult:
        state = Token.parse(token)
        url = self.calendar_url(calendar_id)
        now = datetime.now(timezone.utc)
        window = (time_min, now + HORIZON)
        if state.mode != "etags":
            try:
                response = self._request(f"syncing calendar {calendar_id!r}", url, "REPORT",
                                         SYNC.format(token=xml_text(state.server or "")),
                                         {"Depth": "1", "Content-Type": "application/xml; charset=utf-8"})
            except AccessDenied:
                if not state.server:
                    raise
                # 403 valid-sync-token (RFC 6578 §3.2): the token expired or is not this calendar's
                log.info("the sync token of calendar %r was refused; syncing it in full", calendar_id)
                return self._sync(calendar_id, None, time_min, screen)
            if response.status in (403, 409) and state.server:  # the token is no longer valid
                log.info("the sync token of calendar %r was refused; syncing it in full", calendar_id)
                return self._sync(calendar_id, None, time_min, screen)
            if response.status == 207:
                return self._absorb(calendar_id, response.tree, state, full=not state.server, window=window,
                                    screen=screen)
            log.info("calendar %r does not answer sync-collection (%s); comparing ETags instead",
                     calendar_id, response.status)
        return self._by_etags(calendar_id, url, state, window, screen)

    def _by_etags(self, calendar_id: str, url: str, state: Token, window: tuple[datetime, datetime],
                  screen: Screen | None) -> SyncResult:
        response = self._request(f"listing calendar {calendar_id!r}", url, "REPORT", QUERY,
                                 {"Depth": "1", "Content-Type": "application/xml; charset=utf-8"})
        if response.status != 207:
            raise FollowupdError(f"listing calendar {calendar_id!r}: the CalDAV server answered {response.status}")
        listed = list(items(response.tree))
        digest = hashlib.sha256(json.dumps(sorted((h, e) for h, e, _, _ in listed)).encode()).hexdigest()[:32]
        day = datetime.now(timezone.utc).strftime("%Y%m%d")
        if state.mode == "etags" and state.server == f"{digest}.{day}":
            return SyncResult((), state.dump(), full=False)
        fresh = Token(mode="etags", server=f"{digest}.{day}", hrefs={})
        events, passed = self._events(calendar_id, [(h, e, d) for h, e, d, _ in listed if d], fresh, window, screen)
        return SyncResult(tuple(events), fresh.dump(), full=True, passed_over=passed)

    def _absorb(self, calendar_id: str, tree: Any, state: Token, *, full: bool,
                window: tuple[datetime, datetime], screen: Screen | None) -> SyncResult:
        fresh = Token(mode="sync", server=tree.findtext("d:sync-token", namespaces=NS) or "",
                       hrefs={} if full else dict(state.hrefs))
        changed: list[tuple[str, str, str]] = []
        gone: list[str] = []
        for href, etag, data, status in items(tree):
            if status == 404 or data is None:
                gone.append(href)
            else:
                changed.append((href, etag, data))
        events: list[CalendarEvent] = []
        for href in gone:
            for event_id in fresh.hrefs.pop(href, []):
                events.append(tombstone(event_id, calendar_id))
        before = {h: set(fresh.hrefs.get(h, [])) for h, _, _ in changed}
        listed, passed = self._events(calendar_id, changed, fresh, window, screen)
        events.extend(listed)
        for href, old in before.items():  # instances no longer there (an EXDATE, a moved series)
            events.extend(tombstone(i, calendar_id) for i in sorted(old - set(fresh.hrefs.get(href, []))))
        return SyncResult(tuple(events), fresh.dump(), full=full, passed_over=passed)

    def _events(self, calendar_id: str, resources: Iterable[tuple[str, str, str]], token: Token,
                window: tuple[datetime, datetime],
                screen: Screen | None) -> tuple[list[CalendarEvent], dict[str, Callable[[], CalendarEvent]]]:
        """The events of these resources ``(href, etag, data)``, and, with a screen, the plain
        events it rules out, kept unparsed (by id) to be built only if the tracker knows them."""
        found: list[CalendarEvent] = []
        passed: dict[str, Callable[[], CalendarEvent]] = {}
        for href, etag, data in resources:
            plain = plain_text(data) if screen is not None else None
            if plain is not None and screen is not None and not screen(plain[1], plain[2]):
                uid = plain[0]
                token.hrefs[href] = [uid]  # one plain event: its id is its UID
                passed[uid] = partial(self._one, calendar_id, uid, href, etag, data, window)
                continue
            found.extend(self._build(calendar_id, href, etag, data, token, window))
        return found, passed

    def _one(self, calendar_id: str, uid: str, href: str, etag: str, data: str,
             window: tuple[datetime, datetime]) -> CalendarEvent:
        """A passed-over event, built when the tracker asks for it (it knew it as an interview)."""
        built = self._build(calendar_id, href, etag, data, Token("sync", None, {}), window)
        # moved out of the window: gone from it, as a resource that no longer holds an instance is
        return built[0] if built else tombstone(uid, calendar_id)

    def _build(self, calendar_id: str, href: str, etag: str, data: str, token: Token,
               window: tuple[datetime, datetime]) -> list[CalendarEvent]:
        """One resource's event instances in the window.  followupd's own reminders carry the
        resource's ETag, which the sink recorded when it wrote them (others keep the content hash
        ``expand`` gives, which changes only when what matters changes)."""
        try:
            cal = icalendar.Calendar.from_ical(data)
        except ValueError as exc:
            log.warning("calendar %r: skipped %s, which does not parse (%s)", calendar_id, href, exc)
            return []
        listed = expand(cal, calendar_id=calendar_id, zone=ZoneInfo(self.timezone(calendar_id)), start=window[0],
                        end=window[1], me=self._cfg.me.email.strip().lower(), source=f"{calendar_id}:{href}")
        token.hrefs[href] = [e.id for e in listed]
        return [replace(e, etag=etag) if e.written_by_followupd and etag else e for e in listed]

    # ---- EventSink ----------------------------------------------------------------------
    def _uid(self, f: FollowUp) -> str:
        account = f"{ACCOUNT_PREFIX}:{self._cfg.caldav.username}"
        return ids.calendar_event_id(account, self._cfg.calendar.write_to, f.interview_id, f.step)

    def _href(self, uid: str) -> str:
        return urljoin(self.calendar_url(self._cfg.calendar.write_to), f"{uid}.ics")

    def _body(self, uid: str, f: FollowUp) -> tuple[str, icalendar.Event]:
        event = build_reminder(uid, f, datetime.now(timezone.utc))
        cal = icalendar.Calendar()
        cal.add("PRODID", PRODID)
        cal.add("VERSION", "2.0")
        cal.add_component(event)
        cal.add_missing_timezones()
        return cal.to_ical().decode("utf-8"), event

    def _put(self, what: str, href: str, body: str, condition: dict[str, str]) -> Any:
        return self._request(what, href, "PUT", body, {"Content-Type": "text/calendar; charset=utf-8", **condition})

    def _etag(self, response: Any, href: str, what: str) -> str:
        etag = response.headers.get("ETag") if getattr(response, "headers", None) is not None else None
        if etag:
            return str(etag)
        current = self._request(what, href, "GET")
        return str(current.headers.get("ETag") or "")

    def create(self, f: FollowUp) -> Written:
        uid = self._uid(f)
        href = self._href(uid)
        body, event = self._body(uid, f)
        made = self._put(f"creating reminder {f.step!r}", href, body, {"If-None-Match": "*"})
        if made.status in (200, 201, 204):
            return Written(uid, self._etag(made, href, f"reading reminder {uid}"))
        if made.status != 412:
            raise _unexpected(f"creating reminder {f.step!r}", made)
        existing = self._request(f"reading reminder {uid}", href, "GET")
        if existing.status == 404:  # deleted between the two requests
            raise UserDeleted(f"reminder {uid} was deleted by the person")
        there = _first_event(existing.raw)
        if there is None or event_version(there) != event_version(event):
            raise UserEdited(f"reminder {uid} was changed by the person after an interrupted write")
        return Written(uid, str(existing.headers.get("ETag") or ""))

    def update(self, f: FollowUp, entry: LedgerEntry) -> Written:
        href = self._href(entry.backend_id)
        body, _ = self._body(entry.backend_id, f)
        made = self._put(f"moving reminder {f.step!r}", href, body, {"If-Match": entry.version})
        if made.status in (200, 201, 204):
            return Written(entry.backend_id, self._etag(made, href, f"reading reminder {entry.backend_id}"))
        raise self._conflict(made, entry, f"moving reminder {f.step!r}")

    def delete(self, entry: LedgerEntry) -> None:
        made = self._request(f"withdrawing reminder {entry.backend_id}", self._href(entry.backend_id), "DELETE",
                             headers={"If-Match": entry.version})
        if made.status in (200, 204):
            return
        raise self._conflict(made, entry, f"withdrawing reminder {entry.backend_id}")

    def _conflict(self, response: Any, entry: LedgerEntry, what: str) -> Exception:
        if response.status == 412:
            # If-Match also fails on a resource that is no longer there
            current = self._request(f"reading reminder {entry.backend_id}", self._href(entry.backend_id), "GET")
            if current.status == 404:
                return UserDeleted(f"reminder {entry.backend_id} is gone")
            return UserEdited(f"reminder {entry.backend_id} was edited by the person")
        if response.status in (404, 410):
            return UserDeleted(f"reminder {entry.backend_id} is gone")
        return _unexpected(what, response)


# ---- helpers -----------------------------------------------------------------------------

def _first_event(text: str) -> icalendar.Component | None:
    try:
        return next(iter(icalendar.Calendar.from_ical(text).walk("VEVENT")), None)
    except ValueError:
        return None


def _unexpected(what: str, response: Any) -> FollowupdError:
    if response.status in (429, 500, 502, 503, 504):
        return TransientError(f"{what}: the CalDAV server answered {response.status}; will try again")
    return FollowupdError(f"{what}: the CalDAV server answered {response.status}")


def _network_error(what: str, url: str, exc: Exception) -> FollowupdError:
    import ssl

    text = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, ssl.SSLCertVerificationError) or "CERTIFICATE_VERIFY_FAILED" in text or \
            "certificate verify failed" in text:
        return ConfigError(f"{what}: the certificate of {url} cannot be trusted; for a self-hosted server set "
                           "[caldav] cafile")
    return TransientError(f"{what}: cannot reach the CalDAV server {url} ({type(exc).__name__})")


__all__ = ["CalDavCalendar"]
