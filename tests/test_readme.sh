#!/usr/bin/env bash
# The README's code blocks are programs: extract them, build them, run them
# against real peers, so the documentation cannot rot.
set -u
cd "$(dirname "$0")/.."
B=build
T=$(mktemp -d)
PIDS=""
trap 'for p in $PIDS; do kill $p 2>/dev/null; done; rm -rf "$T"' EXIT
pass=0; fail=0
ok()   { echo "[ OK   ] $1"; pass=$((pass + 1)); }
bad()  { echo "[ FAIL ] $1: $2"; fail=$((fail + 1)); }

# n-th ```LANG block of README.md
block() { awk -v lang="$1" -v want="$2" '
  $0 == "```" lang { n++; inb = (n == want); next }
  /^```/ { inb = 0; next }
  inb { print }' README.md; }

wait_port() { i=0; while [ $i -lt 250 ]; do
  (exec 3<>/dev/tcp/127.0.0.1/$1) 2>/dev/null && return 0; i=$((i + 1)); sleep 0.02; done; return 1; }

# certificates for the peers
( cd "$T" &&
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca.key \
    -out ca.pem -days 30 -subj "/CN=readme CA" -addext basicConstraints=critical,CA:TRUE \
    -addext keyUsage=critical,keyCertSign &&
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout srv.key \
    -out srv.csr -subj "/CN=localhost" &&
  printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' > ext &&
  openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 30 \
    -extfile ext -out srv.pem ) > "$T/setup.log" 2>&1 || { echo "setup failed"; cat "$T/setup.log"; exit 1; }

# 1. the C quick start
block c 1 > "$B/readme_quickstart.c"
if ${CC:-cc} -std=c99 -I. -Wall -Wextra -Werror -pedantic -o "$B/readme_quickstart" \
     "$B/readme_quickstart.c" -lbearssl 2> "$T/cc.log"; then
  ok "c_quickstart_builds"
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  (cd "$T" && exec openssl s_server -accept 127.0.0.1:$port -cert srv.pem -key srv.key -www -quiet) \
    > "$T/s_server.log" 2>&1 &
  PIDS="$PIDS $!"
  wait_port $port || bad c_quickstart_runs "s_server did not start"
  if timeout 20 "$B/readme_quickstart" localhost $port "$T/ca.pem" > "$T/out" 2> "$T/err" \
     && grep -q "HTTP/1.0 200 ok" "$T/out"; then
    ok "c_quickstart_runs"
  else
    bad "c_quickstart_runs" "$(head -c 300 "$T/err")"
  fi
else
  bad "c_quickstart_builds" "$(head -c 600 "$T/cc.log")"
fi

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
