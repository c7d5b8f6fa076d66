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

port=$("$venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$dev" --memory --addr "127.0.0.1:$port" --jwt-secret "$secret" >"$root/target/fuzz-server.log" 2>&1 &
dev_pid=$!
cleanup() { kill "$dev_pid" 2>/dev/null || true; wait "$dev_pid" 2>/dev/null || true; }
trap cleanup EXIT INT TERM
for _ in $(seq 1 100); do
  if "$venv/bin/python" -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/openapi.json')" 2>/dev/null; then
    break
  fi
  kill -0 "$dev_pid" 2>/dev/null || { echo "fuzz: inbox-dev failed to start:"; cat "$root/target/fuzz-server.log"; exit 1; }
  sleep 0.2
done

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
