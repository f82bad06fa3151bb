#!/usr/bin/env bash
# Supply-chain checks: cargo deny (deny.toml: licences, duplicate versions, sources, and the
# RustSec advisories when their database can be fetched) and npm audit of the front end's
# runtime dependencies. Exits non-zero on any finding.
# The advisory databases live on GitHub (RustSec) and behind a POST endpoint of the npm
# registry; where those are unreachable (this project's CI allows package registries only) the
# check says NOT RUN on its own line, and the offline parts still run: see README, "Hostile input".
set -euo pipefail
cd "$(dirname "$0")/.."
CARGO_DENY_VERSION=0.20.2

if ! cargo deny --version 2>/dev/null | grep -q "$CARGO_DENY_VERSION"; then
  cargo install cargo-deny --version "$CARGO_DENY_VERSION" --locked
fi
cargo deny --locked check licenses bans sources
if cargo deny fetch db >/dev/null 2>&1; then
  cargo deny --locked check advisories
else
  echo "NOT RUN: cargo deny check advisories (the RustSec database at github.com/rustsec/advisory-db cannot be fetched from here)"
fi

# npm: the runtime tree must be exactly what web/package.json names (leaflet, no dependencies of
# its own), so nothing unaudited ships; then the audit itself when the endpoint answers.
cd web
runtime=$(npm ls --omit=dev --all --parseable 2>/dev/null | sed -n 's|.*/node_modules/||p' | sort | tr '\n' ' ')
if [ "$runtime" != "leaflet " ]; then
  echo "web/: the runtime dependencies changed (now: ${runtime:-none}); review them, then update this check and README (Hostile input)" >&2
  exit 1
fi
if out=$(npm audit --omit=dev 2>&1); then
  echo "npm audit --omit=dev: $out"
elif grep -qE 'audit endpoint returned an error|ENOTFOUND|ECONNREFUSED|ETIMEDOUT|405 Method Not Allowed' <<<"$out"; then
  echo "NOT RUN: npm audit --omit=dev (the registry's advisory endpoint refuses the request: $(grep -m1 -oE '[0-9]{3} [A-Za-z ]+ - POST [^ ]+' <<<"$out" || echo unreachable))"
else
  echo "$out" >&2
  exit 1
fi
