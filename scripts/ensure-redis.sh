#!/bin/sh
# Make sure redis-server is installed: the test suite starts a real one on a loopback port (tests/redis_server.py).
# Installs Debian's redis-server package where the binary is missing: as root with apt-get, otherwise with
# sudo -n (never a password prompt). Quiet and idempotent: does nothing when redis-server is already there.
set -eu

if command -v "${REDIS_SERVER:-redis-server}" >/dev/null 2>&1; then
    exit 0
fi

fail() {
    echo "ensure-redis: $1" >&2
    echo "ensure-redis: the tests need redis-server (a real one, on loopback); install it (Debian/Ubuntu:" \
        "apt-get install redis-server) and run make test again." >&2
    exit 1
}

if ! command -v apt-get >/dev/null 2>&1; then
    fail "redis-server is missing and this is not a Debian-like system (no apt-get)."
fi
if [ "$(id -u)" -eq 0 ]; then
    as_root=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    as_root="sudo -n"
else
    fail "redis-server is missing and installing it needs root (not root, and no password-less sudo)."
fi

echo "ensure-redis: installing Debian's redis-server package (the tests start one on loopback)"
# The package's service is not needed (the tests start their own server); where no init system runs, its start
# attempt is harmless.
apt() {
    # Quiet unless it fails; then show what apt-get said.
    if ! output=$($as_root env DEBIAN_FRONTEND=noninteractive apt-get -qq "$@" 2>&1); then
        echo "$output" >&2
        fail "apt-get $* failed."
    fi
}
apt update
apt install -y --no-install-recommends redis-server
command -v redis-server >/dev/null 2>&1 || fail "redis-server is still not on PATH after installing the package."
