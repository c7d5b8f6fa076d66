# Helpers shared by scripts/test.sh and scripts/fuzz-api.sh (sourced; they
# expect $venv, the project's virtual environment).

# A free loopback TCP port.
free_port() {
  "$venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Waits until `url` answers, for up to 20 s; fails, showing `log`, if process
# `pid` dies first. Usage: wait_for_url URL PID LOG WHAT
wait_for_url() {
  local url=$1 pid=$2 log=$3 what=$4
  for _ in $(seq 1 100); do
    if "$venv/bin/python" -c "import urllib.request; urllib.request.urlopen('$url')" 2>/dev/null; then
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || { echo "$what failed to start:"; cat "$log"; return 1; }
    sleep 0.2
  done
  echo "$what did not answer at $url within 20 s:"; cat "$log"; return 1
}
