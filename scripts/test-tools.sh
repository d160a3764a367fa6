#!/usr/bin/env bash
# The programs some tests start themselves, installed where we may install them.
#
# PgBouncer is not one of the machine's services: tests/backends/test_pgbouncer.py
# starts a private one. As root with apt-get (CI, a fresh machine) it is installed
# here; elsewhere its tests skip with the reason, and under CI they fail.
set -u
missing=()
command -v pgbouncer >/dev/null 2>&1 || [ -x /usr/sbin/pgbouncer ] || missing+=(pgbouncer)
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
