#!/usr/bin/env bash
# Make PostgreSQL available to the tests. A reachable server (VIGIL_TEST_POSTGRES_URL or
# 127.0.0.1:5432) is used as is; otherwise the PostgreSQL binaries are installed here so
# the test run can start a throwaway server from them (tests/support/postgres.py).
set -euo pipefail
url="${VIGIL_TEST_POSTGRES_URL:-postgresql://postgres@127.0.0.1:5432/postgres}"
if command -v pg_isready >/dev/null && pg_isready -q -d "$url" 2>/dev/null; then
  exit 0
fi
if compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || command -v initdb >/dev/null; then
  exit 0
fi
if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
  echo "installing PostgreSQL from Debian's packages for the tests" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  exit 0
fi
echo "error: no PostgreSQL server reachable and none installed; install 'postgresql' or set VIGIL_TEST_POSTGRES_URL" >&2
exit 1
