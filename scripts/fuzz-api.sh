#!/usr/bin/env bash
# The property-based API fuzz run: schemathesis (every check, every phase,
# stateful included) against `inbox-dev --memory` on a free loopback port,
# through the document the server serves at /openapi.json. Any finding or
# 5xx fails. Called by scripts/test.sh with the virtual environment ready;
# runs alone too (`bash scripts/fuzz-api.sh`, after a debug build).
#
# INBOX_FUZZ_EXAMPLES (default 100) sets the examples per operation;
# INBOX_FUZZ_SEED (default fixed, so a run is reproducible) the seed.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
venv="$root/.venv"
dev="${INBOX_DEV_BIN:-$root/target/debug/inbox-dev}"
examples="${INBOX_FUZZ_EXAMPLES:-100}"
seed="${INBOX_FUZZ_SEED:-20261201}"
secret="fuzz-$(date +%s)-$$"

. "$root/scripts/lib.sh"
port=$(free_port)
"$dev" --memory --addr "127.0.0.1:$port" --jwt-secret "$secret" >"$root/target/fuzz-server.log" 2>&1 &
dev_pid=$!
cleanup() { kill "$dev_pid" 2>/dev/null || true; wait "$dev_pid" 2>/dev/null || true; }
trap cleanup EXIT INT TERM
wait_for_url "http://127.0.0.1:$port/openapi.json" "$dev_pid" "$root/target/fuzz-server.log" "fuzz: inbox-dev"

# An owner whose id no generated value is likely to name, so that the run
# rarely demotes or removes its own caller (the directory's role decides).
token=$("$dev" token --workspace fuzz --sub "fuzz-owner-7c41" --role owner --name "Fuzz Owner" --ttl-seconds 7200 --jwt-secret "$secret" | tail -1)

echo "fuzz: schemathesis on http://127.0.0.1:$port, $examples examples per operation, seed $seed"
"$venv/bin/schemathesis" --config-file "$root/tests/schemathesis/schemathesis.toml" run \
  "http://127.0.0.1:$port/openapi.json" \
  --checks all \
  --max-examples "$examples" \
  --seed "$seed" \
  --header "Authorization: Bearer $token" \
  --no-color
