#!/usr/bin/env bash
# Run a command against a real Secret Service: gnome-keyring inside a private
# D-Bus session, its login collection created and unlocked with a throwaway
# password.  Used by .ci/run:
#     bash tests/secret_service_session.sh .venv/bin/python -m pytest -m secret_service
# Installs gnome-keyring and dbus-run-session (dbus-x11 / dbus-daemon) when
# missing; that part needs root on Debian/Ubuntu.
set -euo pipefail

if [ $# -eq 0 ]; then
    echo "usage: $0 COMMAND [ARG...]" >&2
    exit 2
fi

need=()
command -v gnome-keyring-daemon >/dev/null 2>&1 || need+=(gnome-keyring)
command -v dbus-run-session >/dev/null 2>&1 || need+=(dbus-x11)
if [ ${#need[@]} -gt 0 ]; then
    if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
        echo "secret_service_session: please install ${need[*]} (needs root and apt-get)" >&2
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq "${need[@]}" >/dev/null
fi

# A private runtime dir: gnome-keyring puts its control socket there, and the
# keyring files go to a throwaway XDG_DATA_HOME so the caller's are never touched.
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
mkdir -m 0700 "$scratch/runtime" "$scratch/data"
export XDG_RUNTIME_DIR="$scratch/runtime" XDG_DATA_HOME="$scratch/data"

# Inside the session: start the daemon with the secrets component, unlocking
# (creating) the login collection with a password read from stdin; export the
# variables it prints; then run the command with the suite switched on.
exec dbus-run-session -- bash -c '
    set -euo pipefail
    eval "$(printf "%s" followupd-ci | gnome-keyring-daemon --unlock --components=secrets)"
    export GNOME_KEYRING_CONTROL
    # the tests re-unlock the collection with it after locking it on purpose
    FOLLOWUPD_SECRET_SERVICE=1 FOLLOWUPD_TEST_KEYRING_PASSWORD=followupd-ci "$@"
' secret-service-session "$@"
