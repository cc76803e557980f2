"""The emulator itself keeps Google's documented semantics, seen through the real client."""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

import google_auth_httplib2
import httplib2
import pytest
from google.auth.exceptions import RefreshError
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError

from emulator import Emulator

WHEN = {"start": {"dateTime": "2030-01-07T15:00:00Z"}, "end": {"dateTime": "2030-01-07T16:00:00Z"}}


def _services(emu: Emulator) -> tuple[Any, Any]:
    http = google_auth_httplib2.AuthorizedHttp(emu.credentials(), http=httplib2.Http(timeout=5))
    cal = build("calendar", "v3", http=http, static_discovery=True, cache_discovery=False,
                client_options={"api_endpoint": emu.base_url + "/calendar/v3/"})
    gmail = build("gmail", "v1", http=http, static_discovery=True, cache_discovery=False,
                  client_options={"api_endpoint": emu.base_url + "/"})
    return cal, gmail


def _status(call: Any) -> tuple[int, str]:
    with pytest.raises(HttpError) as info:
        call.execute()
    return info.value.resp.status, info.value.error_details[0]["reason"]


def test_insert_validates_ids_and_refuses_reuse_even_after_delete(google_emulator: Emulator) -> None:
    cal, _ = _services(google_emulator)
    assert _status(cal.events().insert(calendarId="primary", body={"id": "UPPER123", **WHEN})) == (400, "invalid")
    assert _status(cal.events().insert(calendarId="primary", body={"id": "abcw1", **WHEN})) == (400, "invalid")
    created = cal.events().insert(calendarId="primary", body={"id": "abcde", **WHEN}).execute()
    assert created["status"] == "confirmed" and created["etag"]
    cal.events().delete(calendarId="primary", eventId="abcde").execute()
    assert _status(cal.events().insert(calendarId="primary", body={"id": "abcde", **WHEN})) == (409, "duplicate")
    assert cal.events().get(calendarId="primary", eventId="abcde").execute()["status"] == "cancelled"
    assert _status(cal.events().delete(calendarId="primary", eventId="abcde"))[0] == 410


def test_if_match_and_changing_etags(google_emulator: Emulator) -> None:
    cal, _ = _services(google_emulator)
    first = cal.events().insert(calendarId="primary", body={"id": "abcdef", "summary": "a", **WHEN}).execute()
    req = cal.events().patch(calendarId="primary", eventId="abcdef", body={"summary": "b"})
    req.headers["If-Match"] = first["etag"]
    second = req.execute()
    assert second["etag"] != first["etag"] and second["summary"] == "b" and second["start"] == WHEN["start"]
    stale = cal.events().delete(calendarId="primary", eventId="abcdef")
    stale.headers["If-Match"] = first["etag"]
    assert _status(stale) == (412, "conditionNotMet")
    assert google_emulator.event("primary", "abcdef")["status"] == "confirmed"  # type: ignore[index]


def test_sync_tokens_report_changes_and_deletions_and_expire(google_emulator: Emulator) -> None:
    emu = google_emulator
    cal, _ = _services(emu)
    for i in range(5):
        emu.seed_event(id=f"evt{i:03d}", summary=f"e{i}", **WHEN)
    pages, token, page_token = [], None, None
    while True:
        resp = cal.events().list(calendarId="primary", singleEvents=True, maxResults=2,
                                 timeMin="2029-01-01T00:00:00Z", pageToken=page_token).execute()
        pages.append([e["id"] for e in resp["items"]])
        page_token = resp.get("nextPageToken")
        if not page_token:
            token = resp["nextSyncToken"]
            break
        assert "nextSyncToken" not in resp
    assert pages == [["evt000", "evt001"], ["evt002", "evt003"], ["evt004"]]
    emu.user_edit_event("primary", "evt001", summary="moved")
    emu.user_delete_event("primary", "evt003")
    changes = cal.events().list(calendarId="primary", syncToken=token).execute()
    assert [(e["id"], e["status"]) for e in changes["items"]] == [("evt001", "confirmed"), ("evt003", "cancelled")]
    assert "start" not in changes["items"][1]  # deletions come reduced to id/etag/status
    assert _status(cal.events().list(calendarId="primary", syncToken=token, timeMin="2029-01-01T00:00:00Z"))[0] == 400
    emu.invalidate_sync_tokens()
    assert _status(cal.events().list(calendarId="primary", syncToken=changes["nextSyncToken"])) == (
        410, "fullSyncRequired")


def test_expired_access_token_is_refreshed_and_revoked_grant_is_invalid_grant(google_emulator: Emulator) -> None:
    emu = google_emulator
    cal, _ = _services(emu)
    cal.events().list(calendarId="primary", maxResults=1).execute()
    emu.expire_access_tokens()
    assert cal.events().list(calendarId="primary", maxResults=1).execute()["timeZone"] == "America/New_York"
    assert emu.oauth.refresh_count == 2
    emu.revoke_grant()
    with pytest.raises(RefreshError, match="invalid_grant"):
        cal.events().list(calendarId="primary", maxResults=1).execute()


def test_methods_outside_the_least_privilege_grant_are_refused(google_emulator: Emulator) -> None:
    """SPEC §4.9: with calendar.events + gmail.compose, Google refuses calendars.get
    (it needs calendar.readonly or broader); the emulator reads the accepted scopes
    from the client's own discovery documents and refuses the same way."""
    cal, _ = _services(google_emulator)
    assert _status(cal.calendars().get(calendarId="primary")) == (403, "insufficientPermissions")
    assert cal.events().list(calendarId="primary", maxResults=1).execute()["timeZone"] == "America/New_York"


def test_drafts_create_list_get_update_and_send_is_a_violation(google_emulator: Emulator) -> None:
    emu = google_emulator
    _, gmail = _services(emu)
    raw = base64.urlsafe_b64encode(b"To: Ann <ann@x.org>\r\nSubject: Thank you, Ann\r\n"
                                   b"X-Followupd-Key: k1\r\n\r\nHello\r\n").decode().rstrip("=")
    drafts = gmail.users().drafts()
    created = drafts.create(userId="me", body={"message": {"raw": raw}}).execute()
    assert drafts.list(userId="me", q='to:ann@x.org subject:"thank you"').execute()["drafts"][0]["id"] == created["id"]
    assert drafts.list(userId="me", q="to:bob@x.org").execute() == {"resultSizeEstimate": 0}
    meta = drafts.get(userId="me", id=created["id"], format="metadata").execute()
    assert {"name": "X-Followupd-Key", "value": "k1"} in meta["message"]["payload"]["headers"]
    updated = drafts.update(userId="me", id=created["id"], body={"message": {"raw": raw}}).execute()
    assert updated["id"] == created["id"] and updated["message"]["id"] != created["message"]["id"]
    assert _status(drafts.send(userId="me", body={"id": created["id"]}))[0] == 403
    assert len(emu.violations) == 1
    emu.gmail.violations.clear()  # this test sends on purpose; the never-send guard would fail it


def test_faults_status_and_drop_after_commit(google_emulator: Emulator) -> None:
    emu = google_emulator
    cal, _ = _services(emu)
    emu.fail("GET", r"/events$", 403, "rateLimitExceeded")
    assert _status(cal.events().list(calendarId="primary")) == (403, "rateLimitExceeded")
    assert cal.events().list(calendarId="primary").execute()["items"] == []
    emu.drop_after_commit("POST", r"/events$")
    with pytest.raises((ConnectionError, httplib2.HttpLib2Error, OSError)):
        # plain httplib2 without resend protection: a fresh connection per request
        http = httplib2.Http(timeout=5)
        http.request(f"{emu.base_url}/calendar/v3/calendars/primary/events", "POST",
                     body=json.dumps({"id": "abcdefg", **WHEN}),
                     headers={"Authorization": "Bearer " + emu.oauth.issue_access_token(),
                              "Connection": "close"})
        raise ConnectionError("unreachable if the drop reached the client")
    assert emu.event("primary", "abcdefg") is not None  # committed although the answer was lost


def test_consent_endpoint_redirects_with_a_code_that_the_token_endpoint_redeems(google_emulator: Emulator) -> None:
    emu = google_emulator
    query = urllib.parse.urlencode({"redirect_uri": "http://127.0.0.1:1/cb", "state": "s1", "client_id": "c"})

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any) -> None:
            return None

    opener = urllib.request.build_opener(NoRedirect)
    with pytest.raises(urllib.error.HTTPError) as info:
        opener.open(f"{emu.base_url}/o/oauth2/auth?{query}")
    location = urllib.parse.urlsplit(info.value.headers["Location"])
    params = dict(urllib.parse.parse_qsl(location.query))
    assert params["state"] == "s1"
    form = urllib.parse.urlencode({"grant_type": "authorization_code", "code": params["code"],
                                   "client_id": "c", "client_secret": "s"}).encode()
    with urllib.request.urlopen(f"{emu.base_url}/token", data=form) as resp:
        body = json.loads(resp.read())
    assert body["refresh_token"].startswith("rt-") and body["expires_in"] > 0
