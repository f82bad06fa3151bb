#!/usr/bin/env bash
# Memory and start time of a release `pallimap serve` (issue 16, items 9 and 10).
#
#   bench/memory.sh [--facilities 300000 | --data-dir DIR] [--bin PATH]
#
# Starts the server three times on a fresh SQLite file: first on the empty database (it loads
# the dataset, builds the catalog and saves its text index), then on the loaded database (reads
# the store and opens the saved text index), then again without the saved index
# (`--no-saved-index`: what a start after a write, or of a new build, does). For each start it prints the seconds until /readyz answers 200, the resident
# memory once ready (VmRSS) and the peak since the process started (VmHWM), both from
# /proc/PID/status. The synthetic set is made with `pallimap data synth` when missing.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

facilities=300000
data_dir=""
bin="${PALLIMAP_BIN:-}"
while [ $# -gt 0 ]; do
  case "$1" in
    --facilities) facilities="$2"; shift 2 ;;
    --data-dir) data_dir="$2"; shift 2 ;;
    --bin) bin="$2"; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
if [ -z "$bin" ]; then
  cargo build --release --locked -q
  bin="${CARGO_TARGET_DIR:-target}/release/pallimap"
fi
if [ -z "$data_dir" ]; then
  data_dir="var/synth-$facilities"
  [ -f "$data_dir/facilities.jsonl.gz" ] ||
    "$bin" data synth --facilities "$facilities" --out "$data_dir"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/pallimap-memory.XXXXXX")
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
pid=""

kb() { awk -v k="$1" '$1 == k":" { print $2 }' "/proc/$pid/status"; }

start() {
  local label="$1" t0 port
  shift
  t0=$(date +%s.%N)
  PALLIMAP_LOG="${PALLIMAP_LOG:-warn}" "$bin" serve --data-dir "$data_dir" \
    --database-url "sqlite://$work/db.sqlite3" --bind 127.0.0.1:0 \
    --rate-search-per-min 0 --rate-signin-per-min 0 --rate-corrections-per-min 0 "$@" \
    >"$work/out" 2>"$work/err" &
  pid=$!
  until grep -q '^listening on ' "$work/out" 2>/dev/null; do
    kill -0 "$pid" 2>/dev/null || { cat "$work/err" >&2; exit 1; }
    sleep 0.1
  done
  port=$(sed -n 's|^listening on http://127.0.0.1:||p' "$work/out" | head -1)
  until curl -fs -o /dev/null "http://127.0.0.1:$port/readyz"; do sleep 0.1; done
  local ready
  ready=$(echo "$(date +%s.%N) - $t0" | bc)
  printf '%-16s ready %6.1f s   RSS %6d MB   peak (VmHWM) %6d MB\n' "$label" "$ready" \
    $(($(kb VmRSS) / 1024)) $(($(kb VmHWM) / 1024))
  kill "$pid"
  wait "$pid" 2>/dev/null || true
}

echo "dataset $data_dir, $(zcat "$data_dir/facilities.jsonl.gz" | wc -l) facilities, $bin"
start "first start"
start "later start"
start "later, indexing" --no-saved-index
