"""``followupd auth login | import | status | logout`` (SPEC §5, §4.8).

Output carries only non-secret facts: the account, the scopes, the keyring
backend, the OAuth client id and the token endpoint's host.  Secrets are read
from files or the browser flow and go straight to the keyring.
"""

from __future__ import annotations

import argparse
import errno
import json
import socket
import stat
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable
from urllib.parse import urlsplit

from followupd.auth import google as auth
from followupd.errors import AuthError, ConfigError, TransientError

if TYPE_CHECKING:
    from followupd.cli.context import Context
    from followupd.core.settings import Config

# How long `auth login` waits for the browser to come back to the loopback port.
LOGIN_TIMEOUT_SECONDS = 600

_CLIENT_HELP = ("Create one in Google Cloud Console → APIs & Services → Credentials → Create "
                "credentials → OAuth client ID → Application type: Desktop app, download its JSON, "
                "then run `followupd auth login --client-secrets FILE` (followupd keeps it in the "
                "keyring, so you can delete the file afterwards).")


def cmd_auth(args: argparse.Namespace, ctx: Context) -> int:
    from followupd.cli import auth_servers as servers

    cfg = ctx.config()
    picked = servers.chosen(args)
    if args.auth_command == "login" and picked:
        return servers.login(args, cfg, picked[0])
    if args.auth_command in ("status", "logout") and (picked or not _uses_google(cfg)):
        wanted = picked or servers.configured(cfg)
        if not wanted:
            print("no account to show: this configuration uses no Google, CalDAV or IMAP backend")
            return 0
        return (servers.status if args.auth_command == "status" else servers.logout)(cfg, wanted)
    actions: dict[str, Callable[[argparse.Namespace, Config], int]] = {
        "login": _login, "import": _import, "status": _status, "logout": _logout,
    }
    code = actions[args.auth_command](args, cfg)
    if args.auth_command in ("status", "logout") and servers.configured(cfg):
        code = max(code, (servers.status if args.auth_command == "status" else servers.logout)(
            cfg, servers.configured(cfg)))
    return code


def _uses_google(cfg: Config) -> bool:
    return cfg.calendar.backend == "google" or cfg.mail.backend == "gmail"


# --- login -------------------------------------------------------------------------------------

def _login(args: argparse.Namespace, cfg: Config) -> int:
    from google_auth_oauthlib.flow import InstalledAppFlow

    name = auth.account(cfg)
    backend = auth.check_keyring(cfg)  # fail before the browser dance, not after it
    secrets_file = Path(args.client_secrets).expanduser() if args.client_secrets else None
    if secrets_file is not None:
        secrets = auth.validate_client_secrets(_read_json(secrets_file, "the OAuth client file"),
                                               str(secrets_file))
    else:
        stored = auth.load_client_secrets(cfg)
        if stored is None:
            raise ConfigError(f"no OAuth client is known for {name!r}. {_CLIENT_HELP}")
        secrets = stored

    port = args.port or (_free_port() if args.no_browser else 0)
    flow = InstalledAppFlow.from_client_config(secrets, list(auth.SCOPES))
    prompt = _prompt(args.no_browser, port)
    try:
        creds = flow.run_local_server(
            host="localhost", port=port, open_browser=not args.no_browser,
            authorization_prompt_message=prompt,
            success_message="followupd is authorized. You can close this tab.",
            timeout_seconds=LOGIN_TIMEOUT_SECONDS,
            access_type="offline", prompt="consent", login_hint=name)
    except OSError as exc:
        if exc.errno not in (errno.EADDRINUSE, errno.EACCES, errno.EADDRNOTAVAIL):
            raise _login_error(exc) from None
        raise ConfigError(f"cannot listen on localhost:{port} ({exc.strerror}): pick a free port "
                          "with --port N") from None
    except Exception as exc:  # oauthlib / requests / WSGITimeoutError: map them without their payloads
        raise _login_error(exc) from None

    info = json.loads(creds.to_json())
    if not info.get("refresh_token"):
        raise AuthError("Google returned no refresh token. Remove followupd's access at "
                        "https://myaccount.google.com/permissions and run `followupd auth login` again.")
    granted = list(creds.granted_scopes or creds.scopes or auth.SCOPES)
    info["scopes"] = granted
    auth.store_authorized_user(cfg, info)
    if secrets_file is not None:
        auth.store_client_secrets(cfg, secrets)
    print(f"Authorized {name}.")
    print(f"Granted scopes: {', '.join(_short(s) for s in granted)}")
    print(f"Stored in the keyring ({backend}), service {auth.SERVICE!r}.")
    _warn_missing_scopes(info)
    if secrets_file is not None:
        print(f"The OAuth client is now in the keyring too: you may delete {secrets_file} "
              f"(e.g. `shred -u {secrets_file}`).")
    return 0


def _prompt(no_browser: bool, port: int) -> str:
    """The message run_local_server prints; ``{url}`` is its placeholder."""
    if not no_browser:
        return "If no browser window opened, visit this URL to authorize followupd:\n{url}"
    return ("Open this URL in a browser to authorize followupd:\n\n{url}\n\n"
            "Google sends the browser back to http://localhost:" + str(port) + "/ when you approve. "
            "If that browser runs on another machine, forward the port first, from that machine:\n"
            "    ssh -L " + f"{port}:localhost:{port}" + " THIS-SERVER\n"
            "Waiting for the answer…")


def _login_error(exc: Exception) -> AuthError | TransientError:
    """Turn a failure of the loopback flow into one of our errors, without payloads."""
    name = type(exc).__name__
    if name == "WSGITimeoutError":
        return AuthError(f"no answer from the browser within {LOGIN_TIMEOUT_SECONDS} s; "
                         "run `followupd auth login` again when ready.")
    if isinstance(exc, Warning) and "Scope has changed" in str(exc):
        granted = " ".join(getattr(exc, "new_scope", None) or [])
        missing = [_short(s) for s in auth.SCOPES if s not in granted.split()]
        return AuthError("not every permission was granted (missing: " + ", ".join(missing or ["?"])
                         + "). Run `followupd auth login` again and tick every box on Google's "
                         "consent screen.")
    error = getattr(exc, "error", None)
    if isinstance(error, str) and error:  # an oauthlib OAuth2Error: access_denied, invalid_grant, ...
        return AuthError(f"Google did not authorize followupd ({error}). "
                         "Run `followupd auth login` to try again.")
    if name in {"ConnectionError", "Timeout", "ConnectTimeout", "ReadTimeout"}:
        return TransientError(f"could not reach Google's token endpoint ({name}); try again.")
    return AuthError(f"the authorization failed ({name}). Run `followupd auth login` to try again.")


def _free_port() -> int:
    """A free loopback port, so the ssh hint can name it before the server starts."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- import ------------------------------------------------------------------------------------

def _import(args: argparse.Namespace, cfg: Config) -> int:
    path = Path(args.file).expanduser()
    info = auth.validate_authorized_user(_read_json(path, "the authorized-user file"), str(path))
    backend = auth.check_keyring(cfg)
    if not auth.is_google_token_uri(info["token_uri"]):
        print(f"note: these credentials refresh at {urlsplit(info['token_uri']).netloc}, not at Google; "
              "the client secret and refresh token will be sent there.", file=sys.stderr)
    auth.store_authorized_user(cfg, info)
    print(f"Stored the credentials for {auth.account(cfg)} in the keyring ({backend}).")
    _warn_missing_scopes(info)
    print(f"Delete {path} now that the keyring holds it: `shred -u {path}`.")
    return 0


def _read_json(path: Path, what: str) -> Any:
    """Parse a JSON file; errors name the file but never echo its content."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{what} {path} does not exist.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {what} {path}: {type(exc).__name__}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:  # its message quotes no content, but say only where
        raise ConfigError(f"{what} {path} is not valid JSON (line {exc.lineno}, column {exc.colno}).") from None
    try:
        if path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            print(f"warning: {path} is readable by other users; it holds a secret.", file=sys.stderr)
    except OSError:
        pass
    return data


# --- status ------------------------------------------------------------------------------------

def _status(args: argparse.Namespace, cfg: Config) -> int:
    name = auth.account(cfg)
    _fact("account", name)
    _fact("keyring", auth.check_keyring(cfg))
    _fact("OAuth client", "stored in the keyring" if auth.load_client_secrets(cfg) else "not stored")
    info = auth.load_authorized_user(cfg)
    if info is None:
        _fact("credentials", "none")
        raise AuthError(f"not authorized yet: no credentials for {name!r} in the keyring.")
    _fact("credentials", "stored in the keyring")
    _fact("client id", info["client_id"])
    _fact("token server", urlsplit(info["token_uri"]).netloc)
    scopes = info.get("scopes") or []
    _fact("scopes", ", ".join(_short(s) for s in scopes) if scopes else "not recorded")
    _warn_missing_scopes(info)
    creds = auth.load_credentials(cfg)
    try:
        creds.refresh(auth.http_request())
    except AuthError as exc:
        _fact("token refresh", "FAILED")
        raise AuthError(str(exc)) from None
    except TransientError as exc:
        _fact("token refresh", f"unreachable ({exc})")
        return 1
    _fact("token refresh", "ok")
    return 0


def _fact(label: str, value: str) -> None:
    print(f"{label + ':':<15}{value}")


def _warn_missing_scopes(info: dict[str, Any]) -> None:
    missing = auth.missing_scopes(info)
    if missing:
        print("warning: this grant lacks " + ", ".join(_short(s) for s in missing)
              + "; the matching backend will be refused by Google. Run `followupd auth login`.",
              file=sys.stderr)


def _short(scope: str) -> str:
    return scope.rsplit("/", 1)[-1]


# --- logout ------------------------------------------------------------------------------------

def _logout(args: argparse.Namespace, cfg: Config) -> int:
    name = auth.account(cfg)
    info = auth.load_authorized_user(cfg)
    if info is None:
        print(f"No credentials stored for {name}.")
    else:
        try:
            auth.revoke(info)
            print(f"Revoked followupd's access to {name} at {urlsplit(auth.revoke_uri(info['token_uri'])).netloc}.")
        except TransientError as exc:
            print(f"warning: could not revoke the grant ({exc}); the local copy is deleted anyway. "
                  "Remove followupd at https://myaccount.google.com/permissions to revoke it.",
                  file=sys.stderr)
    auth.delete_all(cfg)
    print(f"Deleted followupd's entries for {name} from the keyring.")
    return 0
