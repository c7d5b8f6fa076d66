#!/usr/bin/env bash
# Prints the figures of the one Lambda binary that infra/README.md reports: a
# clean release build (in a target directory of its own, so nothing is
# reused), the binary's size stripped and zipped, and its start-up time (exec
# to the first line it prints, 20 runs, against a closed runtime API port so
# it stops right after building its clients). Host build (x86_64 here); the
# deploy build is arm64 (cargo lambda build --release --arm64).
#   scripts/lambda-figures.sh            # clean build in a fresh temporary target
#   LAMBDA_FIGURES_TARGET=dir scripts/lambda-figures.sh   # reuse a target dir
set -euo pipefail
cd "$(dirname "$0")/.."
target=${LAMBDA_FIGURES_TARGET:-$(mktemp -d)}
echo "figures: target directory $target, $(nproc) cores"

started=$(date +%s.%N)
CARGO_TARGET_DIR="$target" cargo build --release --locked -p inbox-lambda --bin inbox-lambda
ended=$(date +%s.%N)
bin="$target/release/inbox-lambda"

python3 - "$bin" "$started" "$ended" <<'PY'
import os, statistics, subprocess, sys, tempfile, time, zipfile
bin_path, started, ended = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
build = ended - started
print(f"figures: release build of inbox-lambda: {build/60:.1f} min ({build:.0f} s)")
size = os.path.getsize(bin_path)
with tempfile.TemporaryDirectory() as d:
    z = os.path.join(d, "bootstrap.zip")
    with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as f:
        f.write(bin_path, "bootstrap")
    zipped = os.path.getsize(z)
print(f"figures: binary {size/1e6:.1f} MB stripped, {zipped/1e6:.1f} MB zipped (deflate -9)")
env = dict(os.environ,
           INBOX_FUNCTION="conversation-get", INBOX_TABLE_NAME="figures",
           AWS_LAMBDA_RUNTIME_API="127.0.0.1:9", AWS_LAMBDA_FUNCTION_NAME="conversation-get",
           AWS_LAMBDA_FUNCTION_MEMORY_SIZE="256", AWS_LAMBDA_FUNCTION_VERSION="1",
           AWS_REGION="us-east-1", AWS_ACCESS_KEY_ID="figures", AWS_SECRET_ACCESS_KEY="figures")
times = []
for _ in range(20):
    t0 = time.perf_counter()
    p = subprocess.Popen([bin_path], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    first = p.stdout.readline()
    times.append((time.perf_counter() - t0) * 1000)
    p.kill(); p.wait()
times.sort()
print(f"figures: exec to first log line: median {statistics.median(times):.1f} ms, "
      f"p90 {times[int(len(times)*0.9)-1]:.1f} ms, min {times[0]:.1f} ms over {len(times)} runs")
print(f"figures: first line: {first.decode(errors='replace').strip()[:160]}")
PY
