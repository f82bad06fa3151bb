#!/usr/bin/env bash
# The long fuzzing recipe: cargo-fuzz (libFuzzer, coverage-guided, AddressSanitizer) on nightly
# over the harnesses of src/fuzzing.rs, one target after another.
# Usage: scripts/fuzz.sh [seconds per target, default 600] [target …, default all]
# An input taking over 1 s (-timeout=1) or more than 2 GB (-rss_limit_mb) is a failure like a
# crash; libFuzzer writes it to fuzz/artifacts/<target>/. New inputs go to a scratch corpus
# (printed), the committed seeds in fuzz/corpus/<target>/ are only read: add an input there
# (and a regression test) once the bug it found is fixed. CI runs the same bodies for a short
# budget on stable Rust (tests/fuzz); this is the recipe for hours.
set -euo pipefail
cd "$(dirname "$0")/.."
CARGO_FUZZ_VERSION=0.13.2
secs=${1:-600}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(address query text import survey)

rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
if ! cargo fuzz --version 2>/dev/null | grep -q "$CARGO_FUZZ_VERSION"; then
  cargo install cargo-fuzz --version "$CARGO_FUZZ_VERSION" --locked
fi
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-fuzz/target}
scratch=$(mktemp -d /tmp/pallimap-fuzz.XXXXXX)
echo "scratch corpora in $scratch"

nice -n 19 cargo +nightly fuzz build --release
failed=()
for t in "${targets[@]}"; do
  mkdir -p "$scratch/$t" "fuzz/artifacts/$t"
  max_len=4096
  [ "$t" = import ] && max_len=65536
  echo "== $t: ${secs} s"
  if ! nice -n 19 cargo +nightly fuzz run --release "$t" "$scratch/$t" "fuzz/corpus/$t" -- \
      -max_total_time="$secs" -timeout=1 -rss_limit_mb=2048 -max_len="$max_len" \
      -dict="fuzz/dicts/$t.dict" -artifact_prefix="fuzz/artifacts/$t/" -print_final_stats=1 \
      2>"$scratch/$t.log"; then
    failed+=("$t")
  fi
  grep -E '^(#[0-9]+ +DONE|stat::number_of_executed_units|stat::peak_rss_mb|==[0-9]+==ERROR|SUMMARY)' "$scratch/$t.log" || tail -5 "$scratch/$t.log"
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "FAILED: ${failed[*]} (inputs in fuzz/artifacts/, logs in $scratch)" >&2
  exit 1
fi
echo "fuzz: ${targets[*]}: 0 crashes, 0 timeouts over 1 s"
