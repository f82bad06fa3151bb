#!/usr/bin/env bash
# Load test of a release `pallimap serve` with a realistic mix of requests (issue 16, item 1).
#
#   bench/load.sh [--facilities N | --data-dir DIR] [--duration 10m] [--connections 64]
#                 [--warmup 60] [--write-share 1] [--signin-share 0.1] [--bin PATH]
#
# Starts the server on a fresh SQLite file under var/load-<time>/ (the default dataset `data/`,
# or `var/synth-N` made with `pallimap data synth` when missing), creates an admin (API token,
# for the writes) and a professional (for the sign-ins), reads real ids, points and addresses
# from the served CSV export, then runs one wrk process per request shape in parallel, their
# connections summing to --connections:
#
#   text search   /api/v1/facilities?q=<word>
#   near search   /api/v1/facilities?near=lat,lng&service=<s> | kind=<k>
#   panning       /api/v1/facilities.geojson?cluster=1&zoom=Z&bbox=<a walking viewport>
#   detail        /api/v1/facilities/{id}
#   geocode       /api/v1/geocode?address=<address>
#   sign-in       POST /api/v1/session            paced: --signin-share % of the reads
#   write         GET + PATCH with If-Match       paced: --write-share % of the reads
#
# One process per shape because wrk's Lua cannot tell which request an answer belongs to
# when a thread holds several connections: a process per shape gets wrk's own latency
# histogram per shape, exactly. The paced shapes' rate is set from a 15 s calibration run of
# the read shapes. The server's RSS is sampled every 10 s into rss.csv; growth is measured
# from the first sample after --warmup seconds. Exit status 1 when any request got a non-2xx
# answer or a socket error, or the RSS grew more than 5 % after the warm-up.
#
# Needs: wrk (installed with apt-get when missing), curl, jq, python3.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
cd "$root"

facilities=""
data_dir="data"
duration="10m"
connections=64
warmup=60
write_share=1
signin_share=0.1
bin="${PALLIMAP_BIN:-target/release/pallimap}"

while [ $# -gt 0 ]; do
    case "$1" in
        --facilities) facilities="$2"; shift 2 ;;
        --data-dir) data_dir="$2"; shift 2 ;;
        --duration) duration="$2"; shift 2 ;;
        --connections) connections="$2"; shift 2 ;;
        --warmup) warmup="$2"; shift 2 ;;
        --write-share) write_share="$2"; shift 2 ;;
        --signin-share) signin_share="$2"; shift 2 ;;
        --bin) bin="$2"; shift 2 ;;
        -h|--help) sed -n '2,28p' "$0"; exit 0 ;;
        *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
    esac
done

if [ "$connections" -lt 12 ]; then
    echo "--connections must be at least 12 (two for each paced shape, one or more per read shape)" >&2
    exit 2
fi
if [ ! -x "$bin" ]; then
    echo "no release binary at $bin: run \`cargo build --release\` or pass --bin / PALLIMAP_BIN" >&2
    exit 2
fi
if ! command -v wrk >/dev/null; then
    echo "installing wrk (Debian package)…" >&2
    apt-get install -y wrk >/dev/null || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; }
fi
for tool in curl jq python3; do
    command -v "$tool" >/dev/null || { echo "$tool is needed" >&2; exit 2; }
done

# wrk's -d takes 10s / 2m / 1h; the RSS loop needs seconds.
duration_s=$(python3 -c '
import re, sys
m = re.fullmatch(r"(\d+)([smh]?)", sys.argv[1])
if not m: sys.exit("--duration: e.g. 90s, 10m, 1h")
print(int(m.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600}[m.group(2)])' "$duration")

if [ -n "$facilities" ]; then
    data_dir="var/synth-$facilities"
    if [ ! -f "$data_dir/facilities.jsonl.gz" ]; then
        echo "writing $data_dir (pallimap data synth)…" >&2
        "$bin" data synth --facilities "$facilities" --out "$data_dir" >&2
    fi
fi
[ -f "$data_dir/facilities.jsonl.gz" ] || { echo "no dataset in $data_dir" >&2; exit 2; }

work="var/load-$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$work/inputs" "$work/out"
db="sqlite://$work/load.sqlite3"
echo "work directory: $work" >&2

# Per-address rate limits off, whichever of them this build has.
rate_flags=()
for flag in $("$bin" serve --help | grep -o -- '--rate-[a-z-]*-per-min' | sort -u); do
    rate_flags+=("$flag" 0)
done

server_pid=""
sampler_pid=""
cleanup() {
    [ -n "$sampler_pid" ] && kill "$sampler_pid" 2>/dev/null || true
    if [ -n "$server_pid" ]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
}
trap cleanup EXIT

start=$(date +%s)
PALLIMAP_LOG=warn "$bin" serve --bind 127.0.0.1:0 --database-url "$db" --data-dir "$data_dir" \
    "${rate_flags[@]}" >"$work/server.out" 2>"$work/server.log" &
server_pid=$!

base=""
for _ in $(seq 1 1800); do
    if ! kill -0 "$server_pid" 2>/dev/null; then
        echo "the server stopped; see $work/server.log" >&2
        tail -5 "$work/server.log" >&2
        exit 1
    fi
    if [ -z "$base" ]; then
        addr=$(grep -o 'listening on http://[0-9.:]*' "$work/server.out" | head -1 | sed 's/listening on //' || true)
        [ -n "$addr" ] && base="$addr"
    fi
    if [ -n "$base" ] && curl -fs "$base/readyz" >/dev/null; then break; fi
    sleep 1
done
[ -n "$base" ] || { echo "the server never listened" >&2; exit 1; }
echo "server ready at $base after $(( $(date +%s) - start )) s (pid $server_pid, rate limits off: ${rate_flags[*]:-none in this build})" >&2

# Accounts: an admin (API token, for the writes) and a professional (for the sign-ins).
password="load-test-password-$(date +%s)"
printf '%s\n' "$password" | "$bin" user add --database-url "$db" --email load-admin@example.jp --role admin >/dev/null
printf '%s\n' "$password" | "$bin" user add --database-url "$db" --email load-pro@example.jp --role professional >/dev/null
token=$("$bin" token create --database-url "$db" --email load-admin@example.jp --name load 2>/dev/null)

# Inputs from the service itself: ids, points, addresses, names (the CSV export), the codes of
# services and kinds (the vocabulary), the municipalities (areas).
curl -fs "$base/api/v1/facilities.csv" -o "$work/inputs/facilities.csv"
curl -fs "$base/api/v1/vocabulary" -o "$work/inputs/vocabulary.json"
curl -fs "$base/api/v1/areas" -o "$work/inputs/areas.json"
python3 - "$work/inputs" "$base" <<'PY'
import csv, json, random, sys, urllib.error, urllib.parse, urllib.request
out, base = sys.argv[1], sys.argv[2]
rng = random.Random(16)
enc = lambda s: urllib.parse.quote(s, safe="")
rows = list(csv.reader(open(f"{out}/facilities.csv", encoding="utf-8-sig", newline="")))
head = rows[0]
def col(*names):
    for n in names:
        if n in head:
            return head.index(n)
    sys.exit(f"the CSV export has none of {names}: {head}")
i_id, i_name, i_addr = col("施設ID", "id"), col("名称", "name"), col("所在地", "address")
i_lat, i_lng = col("緯度", "lat"), col("経度", "lng")
recs = [r for r in rows[1:] if len(r) == len(head)]
placed = [r for r in recs if r[i_lat] and r[i_lng]]
def write(name, lines):
    with open(f"{out}/{name}", "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
write("ids.txt", [r[i_id] for r in rng.sample(recs, min(20000, len(recs)))])
pts = []
for r in rng.sample(placed, min(2000, len(placed))):
    lat = float(r[i_lat]) + rng.uniform(-0.02, 0.02)
    lng = float(r[i_lng]) + rng.uniform(-0.02, 0.02)
    pts.append(f"{lat:.5f},{lng:.5f}")
write("points.txt", pts)
lats = [float(r[i_lat]) for r in placed]
lngs = [float(r[i_lng]) for r in placed]
write("region.txt", [f"{min(lngs):.4f},{min(lats):.4f},{max(lngs):.4f},{max(lats):.4f}"])
def answers(path):
    try:
        with urllib.request.urlopen(base + path, timeout=60) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code
def valid(name, paths_of, entries):
    # Only requests the service answers 2xx belong to the "valid" mix: an address outside
    # the geocoder's coverage (422) or a filter the public may not use (401) is left out.
    kept, dropped = [], {}
    for e in entries:
        st = answers(paths_of(e))
        if 200 <= st < 300:
            kept.append(e)
        else:
            dropped[st] = dropped.get(st, 0) + 1
    if dropped:
        print(f"{name}: {len(entries) - len(kept)} of {len(entries)} left out, answered {dropped}", file=sys.stderr)
    if not kept:
        sys.exit(f"{name}: nothing the service answers 2xx")
    write(f"{name}.txt", kept)
valid("addresses", lambda a: f"/api/v1/geocode?address={a}",
      [enc(r[i_addr]) for r in rng.sample(recs, min(1000, len(recs))) if r[i_addr]])
vocab = json.load(open(f"{out}/vocabulary.json", encoding="utf-8"))
def codes(key):
    v = vocab.get(key, [])
    return [x["code"] if isinstance(x, dict) else x for x in v]
services, kinds = codes("services"), codes("kinds")
if not services or not kinds:
    sys.exit(f"the vocabulary lists no services/kinds: {list(vocab)}")
valid("filters", lambda f: f"/api/v1/facilities?near={pts[0]}&{f}&limit=20",
      [f"service={s}" for s in services] + [f"kind={k}" for k in kinds])
common = ["薬局", "クリニック", "病院", "訪問看護", "歯科", "在宅", "緩和ケア", "内科", "外科",
          "整形外科", "小児科", "眼科", "皮膚科", "ステーション", "調剤", "往診", "がん", "ホスピス",
          "在宅療養支援診療所", "訪問診療", "麻薬", "24時間"]
areas = json.load(open(f"{out}/areas.json", encoding="utf-8"))
area_list = areas["items"]
munis = sorted({m["name"] for a in area_list for m in a.get("municipalities", []) if isinstance(m, dict) and m.get("name")})
words = [enc(w) for w in common]
words += [enc(f"{rng.choice(common)} {m}") for m in munis]
words += [enc(r[i_name]) for r in rng.sample(recs, min(300, len(recs)))]
valid("words", lambda w: f"/api/v1/facilities?q={w}&limit=20", words)
# Facilities the writers edit: a pool larger than the writers, checked by the shell below.
write("write-candidates.txt", [r[i_id] for r in rng.sample(recs, min(200, len(recs)))])
print(f"inputs: {len(recs)} facilities, {len(pts)} points, {len(services)} services, "
      f"{len(kinds)} kinds, {len(munis)} municipalities, {len(words)} words", file=sys.stderr)
PY

# Keep only facilities a PATCH of their notes is accepted for (the write shape must be valid);
# a refusal here is a finding and is printed.
: >"$work/inputs/writes.txt"
rejected=0
while read -r id; do
    etag=$(curl -fs -D - -o /dev/null -H "Authorization: Bearer $token" "$base/api/v1/facilities/$id" \
        | tr -d '\r' | awk 'tolower($1)=="etag:" {print $2}')
    status=$(curl -s -o "$work/out/probe.json" -w '%{http_code}' -X PATCH \
        -H "Authorization: Bearer $token" -H 'Content-Type: application/json' -H "If-Match: $etag" \
        --data '{"notes":"負荷試験の準備"}' "$base/api/v1/facilities/$id")
    if [ "${status:0:1}" = 2 ]; then
        echo "$id" >>"$work/inputs/writes.txt"
    else
        rejected=$((rejected + 1))
        [ "$rejected" -le 3 ] && echo "PATCH of $id refused ($status): $(head -c 300 "$work/out/probe.json")" >&2
    fi
    [ "$(wc -l <"$work/inputs/writes.txt")" -ge 32 ] && break
done <"$work/inputs/write-candidates.txt"
echo "write pool: $(wc -l <"$work/inputs/writes.txt") facilities ($rejected refused)" >&2
[ -s "$work/inputs/writes.txt" ] || { echo "no facility accepts a PATCH" >&2; exit 1; }

# Connections: two for each paced shape, the rest shared by the read shapes.
reads=$((connections - 4))
c_search=$((reads * 22 / 100)); c_near=$((reads * 22 / 100)); c_pan=$((reads * 20 / 100))
c_detail=$((reads * 20 / 100)); c_geocode=$((reads - c_search - c_near - c_pan - c_detail))
export PALLIMAP_WRK_DIR="$here/wrk" PALLIMAP_LOAD_INPUTS="$work/inputs"

run_reads() { # $1 = wrk duration, $2 = output suffix
    local pids=()
    wrk -t1 -c"$c_search" -d"$1" --timeout 30s -s "$here/wrk/search.lua" "$base" >"$work/out/search$2" 2>&1 & pids+=($!)
    wrk -t1 -c"$c_near" -d"$1" --timeout 30s -s "$here/wrk/near.lua" "$base" >"$work/out/near$2" 2>&1 & pids+=($!)
    wrk -t1 -c"$c_pan" -d"$1" --timeout 30s -s "$here/wrk/pan.lua" "$base" >"$work/out/pan$2" 2>&1 & pids+=($!)
    wrk -t1 -c"$c_detail" -d"$1" --timeout 30s -s "$here/wrk/detail.lua" "$base" >"$work/out/detail$2" 2>&1 & pids+=($!)
    wrk -t1 -c"$c_geocode" -d"$1" --timeout 30s -s "$here/wrk/geocode.lua" "$base" >"$work/out/geocode$2" 2>&1 & pids+=($!)
    read_pids=("${pids[@]}")
}
results_of() { cat "$@" | grep -h '^PALLIMAP_RESULT ' | sed 's/^PALLIMAP_RESULT //'; }

echo "calibrating the read mix for 15 s…" >&2
run_reads 15s .calibration
wait "${read_pids[@]}"
read_rps=$(results_of "$work"/out/*.calibration | jq -s '[.[] | .requests / .duration_s] | add')
write_rate=$(jq -n "$read_rps * $write_share / 100")
signin_rate=$(jq -n "$read_rps * $signin_share / 100")
printf 'reads alone: %.0f req/s → writes paced to %.1f pairs/s, sign-ins to %.1f/s\n' \
    "$read_rps" "$write_rate" "$signin_rate" >&2

# RSS every 10 s, from the start of the main run.
echo "t_s,vmrss_kb,vmhwm_kb" >"$work/rss.csv"
(
    t=0
    while kill -0 "$server_pid" 2>/dev/null; do
        rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$server_pid/status")
        hwm=$(awk '/^VmHWM:/ {print $2}' "/proc/$server_pid/status")
        echo "$t,$rss,$hwm" >>"$work/rss.csv"
        sleep 10
        t=$((t + 10))
    done
) &
sampler_pid=$!

echo "running the mix for $duration at $connections connections " \
    "(search $c_search, near $c_near, panning $c_pan, detail $c_detail, geocode $c_geocode, sign-in 2, write 2)…" >&2
run_reads "$duration" .txt
PALLIMAP_LOAD_RATE="$signin_rate" PALLIMAP_LOAD_CONNECTIONS=2 \
    PALLIMAP_LOAD_EMAIL=load-pro@example.jp PALLIMAP_LOAD_PASSWORD="$password" \
    wrk -t1 -c2 -d"$duration" --timeout 30s -s "$here/wrk/signin.lua" "$base" >"$work/out/signin.txt" 2>&1 &
signin_pid=$!
PALLIMAP_LOAD_RATE="$write_rate" PALLIMAP_LOAD_THREADS=2 PALLIMAP_LOAD_TOKEN="$token" \
    wrk -t2 -c2 -d"$duration" --timeout 30s -s "$here/wrk/write.lua" "$base" >"$work/out/write.txt" 2>&1 &
write_pid=$!
wait "${read_pids[@]}" "$signin_pid" "$write_pid"
sleep 1
kill "$sampler_pid" 2>/dev/null || true
sampler_pid=""

results_of "$work"/out/*.txt >"$work/results.jsonl"
python3 - "$work" "$warmup" "$duration" "$connections" "$data_dir" <<'PY'
import csv, json, sys
work, warmup, duration, conns, data_dir = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
res = [json.loads(l) for l in open(f"{work}/results.jsonl", encoding="utf-8")]
total = sum(r["requests"] for r in res)
print(f"\npallimap load test: {data_dir}, {duration}, {conns} connections ({work})\n")
print(f"| shape | requests | share | req/s | non-2xx | socket errors | p50 ms | p99 ms | max ms |")
print(f"|---|---:|---:|---:|---:|---:|---:|---:|---:|")
bad = 0
for r in res:
    rows = [(r["shape"], r["requests"], r["p50_ms"], r["p99_ms"], r["max_ms"])]
    for label, t in r["timed"].items():
        rows.append((f"  {label}", t["count"], t["p50_ms"], t["p99_ms"], None))
    for i, (name, n, p50, p99, mx) in enumerate(rows):
        if i == 0:
            print(f"| {name} | {n:,} | {100 * n / total:.2f}% | {n / r['duration_s']:,.0f} | "
                  f"{r['non_2xx']} | {r['socket_errors']} | {p50:.1f} | {p99:.1f} | {mx:.0f} |")
        else:
            print(f"| {name} | {n:,} | | | | | {p50:.1f} | {p99:.1f} | |")
    bad += r["non_2xx"] + r["socket_errors"]
    for s in r["samples"]:
        print(f"    unexpected: {s}")
print(f"| all | {total:,} | | {sum(r['requests'] / r['duration_s'] for r in res):,.0f} | "
      f"{sum(r['non_2xx'] for r in res)} | {sum(r['socket_errors'] for r in res)} | | | |")
rss = [(int(t), int(k)) for t, k, _ in list(csv.reader(open(f"{work}/rss.csv")))[1:] if k]
after = [(t, k) for t, k in rss if t >= warmup]
if len(after) < 2:
    print(f"\nRSS: too few samples after the {warmup} s warm-up ({len(rss)} samples)")
    growth = 0.0
else:
    base = after[0][1]
    peak = max(k for _, k in after)
    growth = 100 * (peak - base) / base
    print(f"\nRSS (every 10 s, {work}/rss.csv): {rss[0][1] / 1024:.0f} MB at start, "
          f"{base / 1024:.0f} MB after the {warmup} s warm-up, max {peak / 1024:.0f} MB after it "
          f"(+{growth:.2f}%), {after[-1][1] / 1024:.0f} MB at the end")
ok = bad == 0 and growth <= 5.0
print(f"\n{'PASS' if ok else 'FAIL'}: {bad} non-2xx or failed requests, RSS growth {growth:.2f}% (limit 5%)")
sys.exit(0 if ok else 1)
PY
