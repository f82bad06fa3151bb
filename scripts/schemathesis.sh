#!/usr/bin/env bash
# Fuzz every read route (GET) of a local pallimap with schemathesis, all checks on. Write
# routes need accounts and versions; the account tests cover them.
# Usage: scripts/schemathesis.sh [max-examples per operation, default 100]
set -euo pipefail
cd "$(dirname "$0")/.."
command -v st >/dev/null || pip install -q schemathesis
cargo build -q
dir=$(mktemp -d)
bin="$dir/pallimap"
cp "${CARGO_TARGET_DIR:-target}/debug/pallimap" "$bin"
"$bin" serve --bind 127.0.0.1:0 --database-url "sqlite://$dir/db.sqlite3" --data-dir data >"$dir/out" 2>"$dir/err" &
pid=$!
trap 'kill $pid 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 1 120); do grep -q listening "$dir/out" 2>/dev/null && break; sleep 0.5; done
base=$(sed -n 's/^listening on //p' "$dir/out" | head -1)
# An admin token, so the routes for signed-in users are fuzzed too.
printf 'schemathesis passphrase\n' | "$bin" user add --email st@example.jp --role admin --database-url "sqlite://$dir/db.sqlite3" >/dev/null
export PALLIMAP_ST_TOKEN
PALLIMAP_ST_TOKEN=$("$bin" token create --email st@example.jp --database-url "sqlite://$dir/db.sqlite3" 2>/dev/null)
st --config-file schemathesis.toml run "$base/api/v1/openapi.json" --checks all \
  --include-method GET --max-examples "${1:-100}" --workers 2 --generation-deterministic
