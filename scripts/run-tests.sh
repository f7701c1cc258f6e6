#!/usr/bin/env bash
# Run the whole suite on SQLite, then again on a throwaway PostgreSQL cluster
# (the cluster test runs once, in the SQLite pass: it starts a PostgreSQL of its own).
# The cluster is stopped (by its pid) however the run ends.
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
mkdir -p test-output
export PYTHONDONTWRITEBYTECODE=1

pgdir=$(mktemp -d /tmp/kefu-pg-XXXXXX)
pgport=$($BIN/python scripts/free-port.py)
cleanup() { bash scripts/pg.sh stop "$pgdir"; }
trap cleanup EXIT
bash scripts/pg.sh start "$pgdir" "$pgport" || { echo "could not start PostgreSQL"; exit 1; }

status=0
echo "== SQLite =="
KEFU_TEST_DATABASE_URL= $BIN/python -m pytest -p no:cacheprovider "$@" || status=1
echo "== PostgreSQL =="
KEFU_TEST_DATABASE_URL="postgresql+psycopg://postgres@127.0.0.1:$pgport/kefu_test" \
  $BIN/python -m pytest -p no:cacheprovider -m "not sqlite_only and not cluster" "$@" || status=1
exit $status
