#!/usr/bin/env bash
# The project's one test command. It makes a Python virtual environment with a
# pinned moto server (the local stand-in for DynamoDB, SQS, EventBridge and
# Cognito), cfn-lint and schemathesis, starts moto on a free loopback port,
# runs every test of the workspace against it, builds the web inbox and runs
# its browser tests (scripts/web-tests.sh: Node's npm, Debian's chromium),
# stops moto, and then fuzzes the API with schemathesis against the dev
# server (scripts/fuzz-api.sh). Extra
# arguments go to `cargo test`; INBOX_SKIP_FUZZ=1 skips the fuzz run.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

MOTO_VERSION="5.1.22"
CFN_LINT_VERSION="1.41.0"
SCHEMATHESIS_VERSION="4.32.5"
# The outgoing-webhook receiver verifies deliveries with it (not our code).
STANDARDWEBHOOKS_VERSION="1.1.0"
venv="$root/.venv"
mkdir -p "$root/target"

pinned_ok() {
  "$venv/bin/python" - "$MOTO_VERSION" "$SCHEMATHESIS_VERSION" "$STANDARDWEBHOOKS_VERSION" <<'PY' 2>/dev/null
import sys
from importlib.metadata import version
sys.exit(not (version("moto") == sys.argv[1] and version("schemathesis") == sys.argv[2]
              and version("standardwebhooks") == sys.argv[3]))
PY
}
if [ ! -x "$venv/bin/moto_server" ] || ! pinned_ok; then
  echo "test: installing moto[server]==$MOTO_VERSION, cfn-lint==$CFN_LINT_VERSION, schemathesis==$SCHEMATHESIS_VERSION and standardwebhooks==$STANDARDWEBHOOKS_VERSION into .venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check \
    "moto[server]==$MOTO_VERSION" "cfn-lint==$CFN_LINT_VERSION" "schemathesis==$SCHEMATHESIS_VERSION" \
    "standardwebhooks==$STANDARDWEBHOOKS_VERSION"
fi

. "$root/scripts/lib.sh"
port=$(free_port)
# moto's server with DynamoDB requests serialized (conditional writes atomic, as on AWS).
"$venv/bin/python" "$root/scripts/moto_server.py" 127.0.0.1 "$port" >"$root/target/moto.log" 2>&1 &
moto_pid=$!
cleanup() { kill "$moto_pid" 2>/dev/null || true; wait "$moto_pid" 2>/dev/null || true; }
trap cleanup EXIT INT TERM

wait_for_url "http://127.0.0.1:$port/moto-api/" "$moto_pid" "$root/target/moto.log" "test: moto"
echo "test: moto $MOTO_VERSION on http://127.0.0.1:$port"

# The AWS-protocol tests read this endpoint; they fail loudly without it.
export INBOX_TEST_AWS_ENDPOINT="http://127.0.0.1:$port"
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1
export PATH="$venv/bin:$PATH"
# The receiver of the outgoing-webhook flows runs on the environment's Python.
export INBOX_TEST_PYTHON="$venv/bin/python"

# On CI (a fresh clone, built once) incremental caches and line tables only
# cost disk: the workspace's ~90 test and tool binaries link the AWS SDK, and
# a CI machine's disk may be small. Free space is printed so that a run that
# runs out of it says so.
if [ -n "${CI:-}" ]; then
  export CARGO_INCREMENTAL=0 CARGO_PROFILE_DEV_DEBUG=false
fi
echo "test: $(df -h --output=avail "$root" | tail -1 | tr -d ' ') free on the disk before the build"

# Build every target once, with the features the tests resolve (a plain
# `--bins` build would resolve others and compile the workspace twice): the
# Lambda binary, the dev server the end-to-end tests start (INBOX_DEV_BIN, so
# they do not build it a third way), the examples and every test.
cargo build --workspace --all-targets --locked
echo "test: target/ is $(du -sh "$root/target" | cut -f1), $(df -h --output=avail "$root" | tail -1 | tr -d ' ') free after the build"
export INBOX_DEV_BIN="$root/target/debug/inbox-dev"
cargo test --workspace --locked "$@"
# The web inbox: built, then driven in headless Chromium on both stores.
bash "$root/scripts/web-tests.sh"
cleanup

if [ "${INBOX_SKIP_FUZZ:-0}" != "1" ]; then
  bash "$root/scripts/fuzz-api.sh"
fi
