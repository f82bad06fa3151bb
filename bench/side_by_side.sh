#!/usr/bin/env bash
# pallimap over HTTP beside PostgreSQL + PostGIS on the same synthetic set (issue 16, item 12).
#
#   bench/side_by_side.sh [--facilities 300000] [--duration 20] [--points 1000] [--zoom 9]
#                         [--pg-url postgres://postgres@127.0.0.1:5432] [--bin PATH]
#
# Loads var/synth-N/facilities.jsonl.gz (made with `pallimap data synth` when missing) into a
# fresh database `pallimap_bench` (PostGIS and pg_trgm; a geography column, partial GiST
# indexes per service and per kind, a trigram GIN index on the name, geohash-ordered rows,
# VACUUM ANALYZE) and into a fresh `pallimap serve` on SQLite, then runs each question with
# the same random query points at the same concurrency, one after the other:
# pgbench -c 32 -j 2 -T <duration> -M prepared against wrk -t2 -c32 -d<duration>.
#
#   10 nearest pharmacies          kind = pharmacy, KNN <->          | kind=pharmacy&near=…&limit=10
#   10 nearest PCUs                'pcu' = ANY(services), KNN <->    | service=pcu&near=…&limit=10
#   薬局 within 5 km, 10 nearest   name LIKE '%薬局%' AND ST_DWithin  | q=薬局&near=…&radius_km=5&sort=distance&limit=10
#   clustered view, zoom Z         ST_SnapToGrid on Web Mercator     | facilities.geojson?cluster=1&zoom=Z&bbox=…
#
# The query points are facility locations inside the 埼玉県 box, jittered by up to 0.02°; the
# clustered view's box is the prefecture's size (1.2° x 0.55°) centred on the point. PostGIS
# answers rows to pgbench (the database alone); pallimap answers JSON / GeoJSON over HTTP.
# Needs: PostgreSQL on --pg-url with trust auth, the Debian package postgresql-15-postgis-3
# (installed when missing), pgbench, psql, wrk, jq, python3.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
cd "$root"

facilities=300000
duration=20
npoints=1000
zoom=9
pg_url="postgres://postgres@127.0.0.1:5432"
bin="${PALLIMAP_BIN:-target/release/pallimap}"
while [ $# -gt 0 ]; do
    case "$1" in
        --facilities) facilities="$2"; shift 2 ;;
        --duration) duration="$2"; shift 2 ;;
        --points) npoints="$2"; shift 2 ;;
        --zoom) zoom="$2"; shift 2 ;;
        --pg-url) pg_url="$2"; shift 2 ;;
        --bin) bin="$2"; shift 2 ;;
        -h|--help) sed -n '2,24p' "$0"; exit 0 ;;
        *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
    esac
done
[ -x "$bin" ] || { echo "no release binary at $bin: run \`cargo build --release\` or pass --bin" >&2; exit 2; }

if ! dpkg -s postgresql-15-postgis-3 >/dev/null 2>&1; then
    echo "installing PostGIS (Debian package postgresql-15-postgis-3)…" >&2
    apt-get install -y postgresql-15-postgis-3 >/dev/null \
        || { apt-get update >/dev/null && apt-get install -y postgresql-15-postgis-3 >/dev/null; }
fi
command -v wrk >/dev/null || apt-get install -y wrk >/dev/null
for tool in psql pgbench jq python3 curl; do
    command -v "$tool" >/dev/null || { echo "$tool is needed" >&2; exit 2; }
done

data_dir="var/synth-$facilities"
if [ ! -f "$data_dir/facilities.jsonl.gz" ]; then
    echo "writing $data_dir (pallimap data synth)…" >&2
    "$bin" data synth --facilities "$facilities" --out "$data_dir" >&2
fi
work="var/side-$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$work/out"
echo "work directory: $work" >&2

# The query points, shared by both sides.
python3 - "$data_dir/facilities.jsonl.gz" "$npoints" "$work" <<'PY'
import gzip, json, random, sys
src, n, work = sys.argv[1], int(sys.argv[2]), sys.argv[3]
box = (138.70, 35.74, 139.92, 36.30)  # 埼玉県
inside = []
with gzip.open(src, "rt", encoding="utf-8") as f:
    for line in f:
        loc = json.loads(line).get("location")
        if loc and box[0] <= loc["lng"] <= box[2] and box[1] <= loc["lat"] <= box[3]:
            inside.append((loc["lat"], loc["lng"]))
rng = random.Random(12)
pts = [(la + rng.uniform(-0.02, 0.02), ln + rng.uniform(-0.02, 0.02)) for la, ln in rng.sample(inside, n)]
with open(f"{work}/points.txt", "w") as f:
    f.writelines(f"{la:.6f},{ln:.6f}\n" for la, ln in pts)
with open(f"{work}/points.csv", "w") as f:
    f.writelines(f"{i},{la:.6f},{ln:.6f}\n" for i, (la, ln) in enumerate(pts, 1))
print(f"{n} query points from {len(inside)} facilities inside the 埼玉県 box", file=sys.stderr)
PY

# PostgreSQL + PostGIS.
db="pallimap_bench"
psql_admin() { psql "$pg_url/postgres" -v ON_ERROR_STOP=1 -qAt "$@"; }
psql_bench() { psql "$pg_url/$db" -v ON_ERROR_STOP=1 -qAt "$@"; }
psql_admin -c "DROP DATABASE IF EXISTS $db"
# C.UTF-8 character classes, so pg_trgm treats kanji and kana as word characters.
psql_admin -c "CREATE DATABASE $db TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C.UTF-8'"
# Per-database settings a DBA would make for short read queries on cached data (the cluster
# is shared, so nothing server-wide is changed).
psql_admin -c "ALTER DATABASE $db SET jit = off" -c "ALTER DATABASE $db SET random_page_cost = 1.1" \
    -c "ALTER DATABASE $db SET work_mem = '32MB'"
psql_bench -f "$here/postgis/schema.sql"
t0=$(date +%s.%N)
# CSV with quote and delimiter characters that never occur, so each line arrives untouched.
zcat "$data_dir/facilities.jsonl.gz" \
    | psql_bench -c "\\copy staging (doc) FROM STDIN WITH (FORMAT csv, QUOTE E'\\x01', DELIMITER E'\\x02')"
psql_bench -c "\\copy bench_points (i, lat, lng) FROM '$work/points.csv' WITH (FORMAT csv)"
psql_bench -f "$here/postgis/load.sql"
t1=$(date +%s.%N)
rows=$(psql_bench -c "SELECT count(*) FROM facilities")
printf 'PostGIS: %s facilities loaded and indexed in %.1f s (%s)\n' "$rows" "$(awk "BEGIN {print $t1 - $t0}")" \
    "$(psql_bench -c "SELECT pg_size_pretty(pg_total_relation_size('facilities'))")" >&2

# pallimap on a fresh SQLite file, rate limits off.
rate_flags=()
for flag in $("$bin" serve --help | grep -o -- '--rate-[a-z-]*-per-min' | sort -u); do
    rate_flags+=("$flag" 0)
done
server_pid=""
trap '[ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; wait 2>/dev/null || true' EXIT
t0=$(date +%s)
PALLIMAP_LOG=warn "$bin" serve --bind 127.0.0.1:0 --database-url "sqlite://$work/pallimap.sqlite3" \
    --data-dir "$data_dir" "${rate_flags[@]}" >"$work/server.out" 2>"$work/server.log" &
server_pid=$!
base=""
for _ in $(seq 1 1800); do
    kill -0 "$server_pid" 2>/dev/null || { echo "the server stopped: $(tail -3 "$work/server.log")" >&2; exit 1; }
    [ -z "$base" ] && base=$(grep -o 'http://[0-9.:]*' "$work/server.out" | head -1 || true)
    if [ -n "$base" ] && curl -fs "$base/readyz" >/dev/null; then break; fi
    sleep 1
done
echo "pallimap: ready at $base after $(( $(date +%s) - t0 )) s (first start: load + catalog build)" >&2

# Web-Mercator metres of pallimap's 40 px cluster radius at the zoom (256 px tiles).
cell=$(python3 -c "import math; print(round(40 * 2 * math.pi * 6378137 / (256 * 2 ** $zoom), 1))")
box_w=1.2
box_h=0.55

# Sanity: the same answer on one point for the nearest shapes.
read -r lat lng < <(head -1 "$work/points.txt" | tr ',' ' ')
for pair in "pharmacy|kind=pharmacy|kind = 'pharmacy'" "pcu|service=pcu|'pcu' = ANY (services)"; do
    IFS='|' read -r name filter cond <<<"$pair"
    ours=$(curl -fs "$base/api/v1/facilities?$filter&near=$lat,$lng&limit=10" | jq -r '[.items[].id] | join(",")')
    theirs=$(psql_bench -c "SELECT string_agg(id, ',') FROM (SELECT id FROM facilities WHERE $cond
        ORDER BY geog <-> ST_SetSRID(ST_MakePoint($lng, $lat), 4326)::geography LIMIT 10) t")
    if [ "$ours" = "$theirs" ]; then echo "check: the 10 nearest ($name) agree at $lat,$lng" >&2
    else echo "check: the 10 nearest ($name) differ at $lat,$lng (a tie or a different distance): $ours / $theirs" >&2; fi
done
echo "plan of 薬局 within 5 km:" >&2
psql_bench -c "EXPLAIN (COSTS OFF) SELECT id FROM facilities WHERE name LIKE '%薬局%'
    AND ST_DWithin(geog, ST_SetSRID(ST_MakePoint($lng, $lat), 4326)::geography, 5000)
    ORDER BY geog <-> ST_SetSRID(ST_MakePoint($lng, $lat), 4326)::geography LIMIT 10" | sed 's/^/    /' >&2

export PALLIMAP_WRK_DIR="$here/wrk" PALLIMAP_LOAD_INPUTS="$work" PALLIMAP_BOX_W="$box_w" PALLIMAP_BOX_H="$box_h"
shapes=(
    "10 nearest pharmacies|nearest_pharmacies.sql|/api/v1/facilities?kind=pharmacy&near={lat},{lng}&limit=10"
    "10 nearest PCUs|nearest_pcu.sql|/api/v1/facilities?service=pcu&near={lat},{lng}&limit=10"
    "薬局 within 5 km|yakkyoku_5km.sql|/api/v1/facilities?q=%E8%96%AC%E5%B1%80&near={lat},{lng}&radius_km=5&sort=distance&limit=10"
    "clustered view, zoom $zoom|clustered_view.sql|/api/v1/facilities.geojson?cluster=1&zoom=$zoom&bbox={bbox}"
)
: >"$work/pairs.tsv"
failed=0
for s in "${shapes[@]}"; do
    IFS='|' read -r name sql path <<<"$s"
    echo "── $name" >&2
    pgbench "$pg_url/$db" -n -M prepared -c 32 -j 2 -T "$duration" -D npoints="$npoints" \
        -D w="$box_w" -D h="$box_h" -D cell="$cell" -f "$here/postgis/$sql" >"$work/out/$sql.pgbench" 2>&1 \
        || { echo "pgbench failed: $(tail -5 "$work/out/$sql.pgbench")" >&2; failed=1; continue; }
    tps=$(grep -o 'tps = [0-9.]*' "$work/out/$sql.pgbench" | head -1 | awk '{print $3}')
    pg_lat=$(grep -o 'latency average = [0-9.]* ms' "$work/out/$sql.pgbench" | awk '{print $4}')
    PALLIMAP_PATH="$path" PALLIMAP_SHAPE="$name" \
        wrk -t2 -c32 -d"${duration}s" --timeout 30s -s "$here/wrk/points.lua" "$base" >"$work/out/$sql.wrk" 2>&1
    r=$(grep '^PALLIMAP_RESULT ' "$work/out/$sql.wrk" | sed 's/^PALLIMAP_RESULT //')
    rps=$(jq -r '.requests / .duration_s' <<<"$r")
    bad=$(jq -r '.non_2xx + .socket_errors' <<<"$r")
    [ "$bad" = 0 ] || { echo "pallimap: $bad failed requests: $(jq -c .samples <<<"$r")" >&2; failed=1; }
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$tps" "$pg_lat" "$rps" "$(jq -r .mean_ms <<<"$r")" \
        "$(jq -r .p99_ms <<<"$r")" "$bad" >>"$work/pairs.tsv"
done

python3 - "$work/pairs.tsv" "$rows" "$duration" "$cell" <<'PY'
import sys
path, rows, duration, cell = sys.argv[1:5]
print(f"\nside by side: {int(rows):,} facilities, c32 for {duration} s each, same query points "
      f"(cluster grid {float(cell):,.0f} m)\n")
print("| question | PostGIS tps (mean ms) | pallimap req/s (mean / p99 ms) | ratio |")
print("|---|---:|---:|---:|")
for line in open(path, encoding="utf-8"):
    name, tps, pg_lat, rps, mean, p99, bad = line.rstrip("\n").split("\t")
    tps, rps = float(tps), float(rps)
    print(f"| {name} | {tps:,.0f} ({float(pg_lat):.1f}) | {rps:,.0f} ({float(mean):.1f} / {float(p99):.1f}) "
          f"| {rps / tps:.1f}× |")
PY
exit "$failed"
