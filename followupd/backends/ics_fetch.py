"""Reading the ``[ics] source``: a local file or an http(s) URL.

A calendar's "secret iCal address" carries its secret in the URL path or
query, so the full URL is never logged, printed or put into an error message:
:func:`shown` redacts everything after the host.
"""

from __future__ import annotations

import re
import urllib.parse
from pathlib import Path

from followupd import __version__
from followupd.errors import ConfigError, TransientError

TIMEOUT_SECONDS = 30.0
MAX_BYTES = 64 * 1024 * 1024  # a calendar larger than this is a mistake, not a calendar
_URL = re.compile(r"(?i)^(https?|webcal)://")
# Answers that say "this address does not work" rather than "try again later".
_PERMANENT = {400, 401, 403, 404, 405, 406, 410, 414, 451}


def is_url(source: str) -> bool:
    return bool(_URL.match(source.strip()))


def shown(source: str) -> str:
    """``source`` safe to show: a path as is; a URL as scheme://host/… only."""
    if not is_url(source):
        return source
    try:
        parts = urllib.parse.urlsplit(source.strip())
        host = parts.hostname or "?"
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "an http(s) URL"
    rest = "/…" if (parts.path not in ("", "/") or parts.query or parts.fragment) else ""
    return f"{parts.scheme.lower()}://{host}{port}{rest}"


def read_source(source: str, *, timeout: float = TIMEOUT_SECONDS) -> bytes:
    """The bytes of the calendar at ``source``.

    Raises ConfigError when the location cannot work (missing file, 404, 401,
    403, a certificate that is not trusted) and TransientError when trying
    again later may help (network errors, timeouts, 5xx, 429).
    """
    if is_url(source):
        return _read_url(source.strip(), timeout)
    return _read_file(Path(source).expanduser())


def _read_file(path: Path) -> bytes:
    try:
        with path.open("rb") as fh:
            data = fh.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file; check [ics] source") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a folder, not an .ics file; check [ics] source") from None
    except PermissionError:
        raise ConfigError(f"{path}: permission denied; check [ics] source") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.strerror or type(exc).__name__}); "
                          "check [ics] source") from None
    if len(data) > MAX_BYTES:
        raise ConfigError(f"{path}: larger than {MAX_BYTES // (1024 * 1024)} MiB; "
                          "this does not look like a calendar ([ics] source)")
    return data


def _read_url(url: str, timeout: float) -> bytes:
    import http.client  # only a URL source needs the HTTP client (a file source starts faster)
    import ssl
    import urllib.error
    import urllib.request

    name = shown(url)
    if url.lower().startswith("webcal://"):
        url = "https://" + url[len("webcal://"):]
    try:
        request = urllib.request.Request(url, headers={
            "User-Agent": f"followupd/{__version__}",
            "Accept": "text/calendar, */*;q=0.5",
        })
    except ValueError:
        raise ConfigError(f"{name}: not a usable URL; check [ics] source") from None
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (http/https only)
            data: bytes = response.read(MAX_BYTES + 1)
    except urllib.error.HTTPError as exc:
        raise _http_error(name, exc.code, exc.reason) from None
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, ssl.SSLCertVerificationError):
            raise ConfigError(f"{name}: the server's TLS certificate is not trusted "
                              f"({exc.reason.verify_message}); check [ics] source") from None
        raise TransientError(f"{name}: cannot reach the server ({_reason(exc.reason)})") from None
    except (TimeoutError, ConnectionError, http.client.HTTPException, ssl.SSLError) as exc:
        raise TransientError(f"{name}: the download failed ({type(exc).__name__})") from None
    except ValueError:  # http.client.InvalidURL and friends
        raise ConfigError(f"{name}: not a usable URL; check [ics] source") from None
    except OSError as exc:
        raise TransientError(f"{name}: the download failed ({_reason(exc)})") from None
    if len(data) > MAX_BYTES:
        raise ConfigError(f"{name}: the calendar is larger than {MAX_BYTES // (1024 * 1024)} MiB "
                          "([ics] source)")
    return data


def _http_error(name: str, code: int, reason: object) -> ConfigError | TransientError:
    text = f"{name}: the server answered {code} {_reason(reason)}".rstrip()
    if code in (401, 403, 404, 410):
        return ConfigError(f"{text}; check [ics] source (a secret address stops working "
                           "when it is reset)")
    if code in _PERMANENT or (400 <= code < 500 and code not in (408, 425, 429)):
        return ConfigError(f"{text}; check [ics] source")
    return TransientError(text)


def _reason(reason: object) -> str:
    """A short reason with no URL in it (some exceptions quote the URL they failed on)."""
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror
    if isinstance(reason, str) and "://" not in reason and "/" not in reason:
        return reason
    if isinstance(reason, BaseException):
        return type(reason).__name__
    return ""
