"""Google credentials, kept only in the OS keyring (SPEC §4.8, §4.9).

Keyring layout (service ``followupd``):

====================  ==========================================================
user name             value (JSON text)
====================  ==========================================================
``<account>``         the authorized user: ``Credentials.to_json()`` without the
                      short-lived ``token`` and ``expiry`` (``client_id``,
                      ``client_secret``, ``refresh_token``, ``token_uri``,
                      ``scopes``, ...)
``<account>:client``  the OAuth client JSON downloaded from Google Cloud Console
                      (``{"installed": {...}}``), kept so that a later
                      ``auth login`` needs no file
====================  ==========================================================

``<account>`` is ``[google] account``.  Access tokens are never stored: they
last an hour and google-auth gets a new one from the refresh token.  Nothing
here is pickled, logged or printed.
"""

from __future__ import annotations

import json
import logging
from typing import Any, Callable, Mapping, cast
from urllib.parse import urlencode, urlsplit, urlunsplit

import google.auth.exceptions
import google.auth.transport
from google.oauth2.credentials import Credentials

from followupd.core.settings import Config
from followupd.errors import AuthError, ConfigError, TransientError
from followupd.auth.keystore import SecretStore

log = logging.getLogger("followupd.auth")

SCOPES = (
    "https://www.googleapis.com/auth/calendar.events",
    "https://www.googleapis.com/auth/gmail.compose",
)
SERVICE = "followupd"
CLIENT_SUFFIX = ":client"
GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"
REQUIRED_USER_FIELDS = ("client_id", "client_secret", "refresh_token")
HTTP_TIMEOUT_SECONDS = 30
# Fields never written to the keyring: short-lived, and useless after an hour.
_VOLATILE_FIELDS = ("token", "expiry")

_LOGIN_HINT = "Run `followupd auth login` (or `followupd auth import FILE`) to authorize followupd."


def account(cfg: Config) -> str:
    """``[google] account``, the keyring user name; ConfigError when unset."""
    name = cfg.google.account.strip()
    if not name:
        where = f" in {cfg.path}" if cfg.path else ""
        raise ConfigError(f"[google] account is not set{where}: set it to your Google address "
                          "(e.g. account = \"me@example.com\"); followupd keeps your credentials "
                          "in the OS keyring under that name.")
    return name


def open_store(cfg: Config) -> SecretStore:
    """The keyring, refused if insecure (unless the config allows it)."""
    return SecretStore(SERVICE, allow_insecure=cfg.security.allow_insecure_keyring)


def check_keyring(cfg: Config) -> str:
    """The backend's name, after checking it is secure and answers in time.

    Raises AuthError when the backend is refused, locked or silent.
    """
    store = open_store(cfg)
    store.get(account(cfg) if cfg.google.account.strip() else "followupd-probe")
    return store.name


# --- authorized user ---------------------------------------------------------------------------

def validate_authorized_user(info: Any, source: str = "the authorized-user JSON") -> dict[str, Any]:
    """Check the shape of ``Credentials.to_json()`` output.

    Raises ConfigError naming the missing or malformed fields (never their values).
    """
    if not isinstance(info, dict):
        raise ConfigError(f"{source} is not a JSON object: expected the output of "
                          "google.oauth2.credentials.Credentials.to_json().")
    if "installed" in info or "web" in info:
        raise ConfigError(f"{source} is an OAuth client file, not an authorized user: use "
                          "`followupd auth login --client-secrets FILE` with it instead.")
    problems = [f"missing field '{name}'" for name in REQUIRED_USER_FIELDS
                if not isinstance(info.get(name), str) or not info.get(name)]
    if "token_uri" in info and not _acceptable_token_uri(info["token_uri"]):
        problems.append("field 'token_uri' must be an https URL (http only to 127.0.0.1 or localhost)")
    scopes = info.get("scopes")
    if scopes is not None and not (isinstance(scopes, list) and all(isinstance(s, str) for s in scopes)):
        problems.append("field 'scopes' must be a list of strings")
    if problems:
        raise ConfigError(f"{source} cannot be used:", problems)
    clean = {k: v for k, v in info.items() if k not in _VOLATILE_FIELDS}
    clean.setdefault("token_uri", GOOGLE_TOKEN_URI)
    return clean


def _acceptable_token_uri(value: Any) -> bool:
    """https anywhere; plain http only on loopback, where nothing can overhear the secrets."""
    if not isinstance(value, str):
        return False
    parts = urlsplit(value)
    if parts.scheme == "https" and parts.hostname:
        return True
    return parts.scheme == "http" and parts.hostname in {"127.0.0.1", "localhost", "::1"}


def is_google_token_uri(token_uri: str) -> bool:
    return urlsplit(token_uri).hostname in {"oauth2.googleapis.com", "accounts.google.com",
                                            "www.googleapis.com"}


def missing_scopes(info: Mapping[str, Any]) -> list[str]:
    """Required scopes the stored grant does not list (empty if it lists none: unknown)."""
    granted = info.get("scopes") or []
    if not granted:
        return []
    return [s for s in SCOPES if s not in granted]


def store_authorized_user(cfg: Config, info: dict[str, Any]) -> None:
    """Validate and store an authorized-user dict (without its access token)."""
    clean = validate_authorized_user(info)
    open_store(cfg).set(account(cfg), json.dumps(clean, sort_keys=True))


def load_authorized_user(cfg: Config) -> dict[str, Any] | None:
    """The stored authorized-user dict, or None when nothing is stored."""
    text = open_store(cfg).get(account(cfg))
    if text is None:
        return None
    try:
        info = json.loads(text)
    except ValueError:
        raise AuthError("the credentials stored in the keyring are damaged (not JSON). "
                        + _LOGIN_HINT) from None
    try:
        return validate_authorized_user(info, "the credentials stored in the keyring")
    except ConfigError as exc:
        raise AuthError(f"{exc}\n{_LOGIN_HINT}") from None


class KeyringCredentials(Credentials):
    """``Credentials`` whose refresh errors speak followupd's error hierarchy and
    whose refresh token, should Google rotate it, is written back to the keyring.

    * ``invalid_grant`` (revoked or expired grant) and other final refresh
      failures → ``AuthError`` (exit 3, "run followupd auth login");
    * network failures and retryable token-endpoint errors → ``TransientError``.
    """

    _on_rotate: Callable[[Credentials], None] | None = None

    def refresh(self, request: google.auth.transport.Request) -> None:
        before = self.refresh_token
        try:
            super().refresh(request)  # type: ignore[no-untyped-call]  # google-auth is unannotated
        except google.auth.exceptions.RefreshError as exc:
            raise refresh_error(exc) from None
        except (google.auth.exceptions.TransportError, OSError) as exc:
            # httplib2's transport lets socket errors (refused, reset, timeout) through unwrapped
            raise TransientError(f"could not reach the Google token endpoint: {_safe(exc)}") from None
        if self.refresh_token != before and self._on_rotate is not None:
            self._on_rotate(self)

    def _make_copy(self) -> Credentials:
        copy = cast(KeyringCredentials, super()._make_copy())  # type: ignore[no-untyped-call]
        copy._on_rotate = self._on_rotate
        return copy


def refresh_error(exc: google.auth.exceptions.RefreshError) -> AuthError | TransientError:
    """Map a google-auth RefreshError to AuthError (final) or TransientError (retryable)."""
    code = _oauth_error_code(exc)
    if getattr(exc, "retryable", False) or code in {"temporarily_unavailable", "server_error",
                                                     "internal_failure"}:
        return TransientError(f"the Google token endpoint failed for now ({code or 'error'}); "
                              "followupd will try again.")
    if code == "invalid_grant":
        return AuthError("Google refused the stored authorization (invalid_grant): it was revoked, "
                         "expired, or the password changed. Run `followupd auth login` to authorize again.")
    if code == "invalid_client":
        return AuthError("Google does not recognise the OAuth client (invalid_client): it was deleted "
                         "or its secret changed. Run `followupd auth login --client-secrets FILE` "
                         "with a current client file.")
    return AuthError(f"the token refresh failed ({code or 'unknown error'}). {_LOGIN_HINT}")


def _oauth_error_code(exc: google.auth.exceptions.RefreshError) -> str:
    """The OAuth ``error`` code of a RefreshError (args[1] is the response body)."""
    if len(exc.args) > 1 and isinstance(exc.args[1], Mapping):
        code = exc.args[1].get("error")
        if isinstance(code, str):
            return code
    text = str(exc.args[0]) if exc.args else ""
    return text.split(":", 1)[0].strip() if ":" in text else ""


def _safe(exc: BaseException) -> str:
    """An exception's text, trimmed: transport errors never carry request bodies."""
    return f"{type(exc).__name__}: {str(exc)[:200]}"


def load_credentials(cfg: Config) -> Credentials:
    """Credentials for the Google backends, from the keyring.

    Raises AuthError when none are stored, when they are damaged, or when the
    keyring is refused or locked.  The returned object refreshes itself against
    the stored ``token_uri``; see :class:`KeyringCredentials`.
    """
    info = load_authorized_user(cfg)
    if info is None:
        raise AuthError(f"not authorized yet: no credentials for {account(cfg)!r} in the keyring. "
                        + _LOGIN_HINT)
    # google-auth >= 2.4x ignores the file's token_uri here ("always overrides"), a
    # defence against crafted credential files.  SPEC §5 asks for the stored one (the
    # test emulator, proxies); the keyring copy is trusted, and validation admits
    # only https, or http to a loopback address.
    base = KeyringCredentials.from_authorized_user_info(info, list(SCOPES))  # type: ignore[no-untyped-call]
    base._on_rotate = lambda c: _store_rotated(cfg, info, c)
    creds = base.with_token_uri(info["token_uri"])
    assert isinstance(creds, KeyringCredentials)
    return creds


def _store_rotated(cfg: Config, info: dict[str, Any], creds: Credentials) -> None:
    info = dict(info, refresh_token=creds.refresh_token)
    store_authorized_user(cfg, info)
    log.info("Google issued a new refresh token; stored it in the keyring")


def http_request(timeout: int = HTTP_TIMEOUT_SECONDS) -> google.auth.transport.Request:
    """A google-auth transport with a timeout (httplib2, as the API client uses)."""
    import google_auth_httplib2
    import httplib2

    return cast(google.auth.transport.Request, google_auth_httplib2.Request(httplib2.Http(timeout=timeout)))


# --- OAuth client secrets ----------------------------------------------------------------------

def validate_client_secrets(info: Any, source: str = "the OAuth client file") -> dict[str, Any]:
    """Check a Google Cloud Console client JSON (``{"installed": {...}}``)."""
    if not isinstance(info, dict) or not ({"installed", "web"} & info.keys()):
        raise ConfigError(f"{source} is not an OAuth client file: download it from Google Cloud "
                          "Console → APIs & Services → Credentials → Create credentials → OAuth client "
                          "ID → Desktop app → Download JSON.")
    kind = "installed" if "installed" in info else "web"
    body = info[kind]
    problems = [f"missing field '{kind}.{name}'" for name in ("client_id", "client_secret", "auth_uri",
                                                              "token_uri")
                if not isinstance(body, dict) or not isinstance(body.get(name), str) or not body.get(name)]
    if problems:
        raise ConfigError(f"{source} cannot be used:", problems)
    return info


def store_client_secrets(cfg: Config, info: dict[str, Any]) -> None:
    clean = validate_client_secrets(info)
    open_store(cfg).set(account(cfg) + CLIENT_SUFFIX, json.dumps(clean, sort_keys=True))


def load_client_secrets(cfg: Config) -> dict[str, Any] | None:
    text = open_store(cfg).get(account(cfg) + CLIENT_SUFFIX)
    if text is None:
        return None
    try:
        return validate_client_secrets(json.loads(text), "the OAuth client stored in the keyring")
    except (ValueError, ConfigError):
        log.warning("the OAuth client stored in the keyring is damaged; ignoring it")
        return None


def delete_all(cfg: Config) -> None:
    """Remove every entry followupd keeps for this account."""
    store = open_store(cfg)
    name = account(cfg)
    for user in (name, name + CLIENT_SUFFIX):
        store.delete(user)


# --- revocation --------------------------------------------------------------------------------

def revoke_uri(token_uri: str) -> str:
    """The revocation endpoint beside ``token_uri``.

    Google's ``https://oauth2.googleapis.com/token`` pairs with ``.../revoke``
    (and the legacy ``accounts.google.com/o/oauth2/token`` with ``.../revoke``);
    any other server following that layout (the test emulator) works the same.
    """
    parts = urlsplit(token_uri or GOOGLE_TOKEN_URI)
    path = parts.path.rstrip("/")
    head, _, last = path.rpartition("/")
    path = f"{head}/revoke" if last == "token" else f"{path}/revoke"
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def revoke(info: Mapping[str, Any], request: google.auth.transport.Request | None = None) -> None:
    """Revoke the grant behind the stored refresh token.

    The token goes in the POST body, never in the URL (URLs end up in logs).
    Raises TransientError when the endpoint cannot be reached or fails; an
    already-invalid token (HTTP 400 ``invalid_token``) counts as revoked.
    """
    request = request or http_request()
    url = revoke_uri(str(info.get("token_uri", "")))
    body = urlencode({"token": info["refresh_token"]}).encode()
    try:
        response = request(url, method="POST", body=body,
                           headers={"Content-Type": "application/x-www-form-urlencoded"})
    except (google.auth.exceptions.TransportError, OSError) as exc:
        raise TransientError(f"could not reach {url}: {_safe(exc)}") from None
    if response.status == 200:
        return
    if response.status == 400:
        try:
            code = json.loads(response.data or b"{}").get("error", "")
        except (ValueError, AttributeError):
            code = ""
        if code in {"invalid_token", "invalid_grant"}:
            return
    raise TransientError(f"{url} answered HTTP {response.status}")
