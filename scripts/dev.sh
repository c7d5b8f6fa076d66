#!/usr/bin/env bash
# Runs the product: builds the web inbox when it is not built yet (or when
# its sources are newer than the build), then starts the dev server with the
# demo workspace and the fake providers, serving the page at its URL.
# Arguments go to `inbox-dev` (instead of `--demo --fake-providers`).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f web/dist/index.html ] || [ -n "$(find web/src web/index.html web/package.json docs/openapi.json -newer web/dist/index.html 2>/dev/null | head -1)" ]; then
  echo "dev: building the web inbox (web/)"
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm --prefix web ci --no-audit --no-fund --loglevel=error
  npm --prefix web run build --silent
fi
if [ "$#" -eq 0 ]; then
  set -- --demo --fake-providers
fi
exec cargo run -p inbox-dev -- "$@"
