"""The baseline of the first-sync benchmark: page a calendar with the bare
google-api-python-client and nothing else (run as a fresh subprocess, like
``followupd run --once``, so both pay interpreter start-up and imports).

    python -m benchmarks.bare_client GRANT_JSON API_ENDPOINT TIME_MIN

Prints the number of events listed.
"""

from __future__ import annotations

import json
import sys


def page_all(grant_path: str, api_endpoint: str, time_min: str) -> int:
    from google.oauth2.credentials import Credentials
    from googleapiclient.discovery import build

    with open(grant_path, encoding="utf-8") as fh:
        info = json.load(fh)
    creds = Credentials.from_authorized_user_info(info, info["scopes"]).with_token_uri(info["token_uri"])
    service = build("calendar", "v3", credentials=creds, static_discovery=True, cache_discovery=False,
                    client_options={"api_endpoint": api_endpoint.rstrip("/") + "/calendar/v3/"})
    events = service.events()
    count = 0
    page_token: str | None = None
    while True:
        page = events.list(calendarId="primary", singleEvents=True, maxResults=2500, timeMin=time_min,
                           pageToken=page_token).execute()
        count += len(page.get("items", ()))
        page_token = page.get("nextPageToken")
        if not page_token:
            return count


if __name__ == "__main__":
    print(page_all(*sys.argv[1:4]))
