#!/usr/bin/env bash
# The whole test suite, with a throw-away PostgreSQL cluster for the tests that run on both
# engines. TEST_POSTGRES_URL set already: that server is used (and must answer).
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ -z "${TEST_POSTGRES_URL:-}" ]]; then
    cluster=$(mktemp -d /tmp/cnscd-pg.XXXXXX)
    trap 'scripts/pg_cluster.sh stop "$cluster"' EXIT
    TEST_POSTGRES_URL=$(scripts/pg_cluster.sh start "$cluster")
    export TEST_POSTGRES_URL
fi
.venv/bin/python -m pytest -q "$@"
