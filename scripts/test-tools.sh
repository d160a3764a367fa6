#!/usr/bin/env bash
# The programs some tests start themselves, and the C headers a dev extra builds
# against, installed where we may install them.
#
# PgBouncer is not one of the machine's services: tests/backends/test_pgbouncer.py
# starts a private one. mysqlclient (the mysql extra) compiles against the MariaDB
# client library: libmariadb-dev and pkg-config. As root with apt-get (CI, a fresh
# machine) they are installed here; elsewhere the tests that need them skip with
# the reason (under CI they fail), and `pip install` says what is missing.
# The dashboard's browser tests drive Debian's chromium (Playwright's own browser
# download does not work here): /usr/bin/chromium.
set -u
missing=()
command -v pgbouncer >/dev/null 2>&1 || [ -x /usr/sbin/pgbouncer ] || missing+=(pgbouncer)
command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
{ pkg-config --exists libmariadb 2>/dev/null || pkg-config --exists mysqlclient 2>/dev/null; } \
  || missing+=(libmariadb-dev)
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "test-tools: ${missing[*]} not installed and cannot install here (needs root and apt-get); their tests skip" >&2
  exit 0
fi
echo "test-tools: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1 \
  || { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1; } \
  || echo "test-tools: could not install ${missing[*]}" >&2
exit 0
