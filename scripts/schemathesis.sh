#!/usr/bin/env bash
# schemathesis (PyPI) with every check against a local pallimap, once per role: anonymous,
# professional, facility_editor, coordinator and admin, each with an API token of its own.
# Every operation of the served document /api/v1/openapi.json is run except the few listed in
# EXCLUDED below (why: README, "Hostile input"). API tokens need no CSRF header
# (src/http/auth.rs), so the write routes are driven as each role.
# Usage: scripts/schemathesis.sh [max-examples per operation, default 100] [role …, default all]
# CI runs it with a small number (.ci/run); a failure exits non-zero.
set -euo pipefail
cd "$(dirname "$0")/.."
ST_VERSION=4.32.5
examples=${1:-100}
shift || true
roles=("$@")
[ ${#roles[@]} -gt 0 ] || roles=(anonymous professional facility_editor coordinator admin)

if ! st --version 2>/dev/null | grep -q "$ST_VERSION"; then
  python3 -m pip install -q --disable-pip-version-check "schemathesis==$ST_VERSION"
fi
cargo build -q --locked
dir=$(mktemp -d)
bin="$dir/pallimap"
cp "${CARGO_TARGET_DIR:-target}/debug/pallimap" "$bin"
db="sqlite://$dir/db.sqlite3"
# The sample answers give the professional fields (formularies, bed status, admission rules)
# something to hide from the roles that may not see them.
"$bin" serve --bind 127.0.0.1:0 --database-url "$db" --data-dir data --with-sample --rate-search-per-min 0 --rate-signin-per-min 0 --rate-corrections-per-min 0 >"$dir/out" 2>"$dir/err" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 1 240); do grep -q listening "$dir/out" 2>/dev/null && break; sleep 0.5; done
base=$(sed -n 's/^listening on //p' "$dir/out" | head -1)
[ -n "$base" ] || { cat "$dir/err" >&2; echo "the server did not start" >&2; exit 1; }

# One account and token per role; the editor is bound to a facility of area 1104 (さいたま),
# which is the coordinator's area.
declare -A token
for role in professional facility_editor coordinator admin; do
  extra=()
  [ "$role" = facility_editor ] && extra=(--facility hic-1110104851)
  [ "$role" = coordinator ] && extra=(--area 1104)
  printf 'schemathesis passphrase\n' |
    "$bin" user add --email "st-$role@example.jp" --role "$role" "${extra[@]}" --database-url "$db" >/dev/null
  token[$role]=$("$bin" token create --email "st-$role@example.jp" --database-url "$db" 2>/dev/null)
done

# Operations left out, with the reason in README.md ("Hostile input"):
EXCLUDED=(
  # Signing in with generated passwords trips the per-address limit (20 failures / 15 min,
  # then 429 for everyone from 127.0.0.1); tests/accounts covers sign-in and its limit.
  --exclude-operation-id sign_in
  # Would disable or demote the account whose token the run uses, and every later request
  # would rightly answer 401; tests/accounts covers account changes.
  --exclude-operation-id update_user
)

# The anonymous run must not send a token: its config is the shared one without [auth].
sed '/^\[auth/,$d' schemathesis.toml >"$dir/anonymous.toml"
failed=()
for role in "${roles[@]}"; do
  config=schemathesis.toml
  export PALLIMAP_ST_TOKEN=
  if [ "$role" = anonymous ]; then config="$dir/anonymous.toml"; else PALLIMAP_ST_TOKEN=${token[$role]}; fi
  echo "== schemathesis as $role ($examples examples per operation)"
  start=$(date +%s)
  if ! st --config-file "$config" run "$base/api/v1/openapi.json" --checks all \
      "${EXCLUDED[@]}" --max-examples "$examples" --workers 2 --generation-deterministic \
      --request-timeout 30 \
      --no-color >"$dir/$role.log" 2>&1; then
    failed+=("$role")
    cat "$dir/$role.log"
  else
    grep -E '^(Test cases|Summary|[0-9]+ operations|.* passed)' "$dir/$role.log" | tail -4 || tail -3 "$dir/$role.log"
  fi
  echo "   $role: $(( $(date +%s) - start )) s"
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "schemathesis FAILED as: ${failed[*]}" >&2
  exit 1
fi
