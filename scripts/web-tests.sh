#!/usr/bin/env bash
# The web inbox's build and browser tests: installs Debian's `chromium` when
# it is missing (browser downloads are not possible everywhere), builds the
# page (`npm ci`, `npm run build` in web/), starts the dev server on the
# embedded store and, when INBOX_TEST_AWS_ENDPOINT names moto, a second one on
# the DynamoDB adapter, both with --demo and the built page, runs Playwright
# against them, and stops them. Called by scripts/test.sh (moto running);
# runs alone too after a debug build (the embedded store only, without moto).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
venv="$root/.venv"
dev="${INBOX_DEV_BIN:-$root/target/debug/inbox-dev}"
. "$root/scripts/lib.sh"

chromium="${INBOX_CHROMIUM:-$(command -v chromium || true)}"
if [ -z "$chromium" ]; then
  echo "web: installing Debian's chromium"
  sudo_=""
  [ "$(id -u)" = "0" ] || sudo_="sudo"
  $sudo_ apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_ apt-get install -y -qq --no-install-recommends chromium >/dev/null
  chromium=$(command -v chromium)
fi
export INBOX_CHROMIUM="$chromium"
echo "web: $("$chromium" --version 2>/dev/null || echo "$chromium")"

# Playwright's own browser download is never used: the system's Chromium is.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
npm --prefix web ci --no-audit --no-fund --loglevel=error
npm --prefix web run build --silent

# Both servers sign dev tokens with it; the tests mint the AI agent's with it.
export INBOX_WEB_JWT_SECRET="web-tests-$(date +%s)-$$"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
}
trap cleanup EXIT INT TERM

# Starts a dev server with the page and the demo; sets $base to its URL.
start() {
  local name=$1; shift
  local port; port=$(free_port)
  "$dev" --addr "127.0.0.1:$port" --demo --fake-providers --web-dir "$root/web/dist" --sweep-interval-ms 200 \
    --jwt-secret "$INBOX_WEB_JWT_SECRET" \
    "$@" >"$root/target/web-$name.log" 2>&1 &
  pids+=($!)
  wait_for_url "http://127.0.0.1:$port/config.json" "$!" "$root/target/web-$name.log" "web: inbox-dev ($name)"
  base="http://127.0.0.1:$port"
  # Where its fake providers listen (printed before it listens): the flows that make a send fail use them.
  fakes=$(grep -o 'fake providers on http://[0-9.:]*' "$root/target/web-$name.log" | head -1 | cut -d' ' -f4)
}

start embedded --memory
export INBOX_WEB_BASE_EMBEDDED=$base INBOX_WEB_FAKES_EMBEDDED=$fakes
if [ -n "${INBOX_TEST_AWS_ENDPOINT:-}" ]; then
  export AWS_ENDPOINT_URL="$INBOX_TEST_AWS_ENDPOINT" INBOX_TABLE_NAME="web-$(date +%s)-$$"
  start dynamodb --create-table --data-dir "$root/target/web-dynamodb-data"
  unset AWS_ENDPOINT_URL INBOX_TABLE_NAME
  export INBOX_WEB_BASE_DYNAMODB=$base INBOX_WEB_FAKES_DYNAMODB=$fakes
fi
echo "web: browser tests against $INBOX_WEB_BASE_EMBEDDED${INBOX_WEB_BASE_DYNAMODB:+ and $INBOX_WEB_BASE_DYNAMODB}"
(cd web && npx playwright test)
