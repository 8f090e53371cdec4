#!/usr/bin/env bash
# The README's code blocks are programs: extract them, build them, run them
# against real peers, so the documentation cannot rot.
#   ```c 1    the C quick start, against openssl s_server -www
#   ```lua 1  the Lua quick start, in build/luahost and in lua5.4
#   ```c 2    the epoll program, three requests at once
#   ```c 3    the memory program; the README's sizes must match its output
#   `>>tag`   every documentation section the README names must exist
set -u
cd "$(dirname "$0")/.." || exit 1
B=build
T=$(mktemp -d)
PIDS=""
cleanup() {
  local pid
  for pid in $PIDS; do kill "$pid" 2>/dev/null; done
  rm -rf "$T"
}
trap cleanup EXIT
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

# An s_server -www on a fresh port (each run below gets its own).
s_server_www() {
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  (cd "$T" && exec openssl s_server -accept 127.0.0.1:$port -cert srv.pem -key srv.key -www -quiet) \
    > "$T/s_server_$port.log" 2>&1 &
  PIDS="$PIDS $!"
  wait_port $port
}

# 2. the Lua quick start, in luahost and in lua5.4 (the default configuration
#    is the system store, which honours SSL_CERT_FILE: the test CA only)
block lua 1 > "$B/readme_quickstart.lua"
if [ "$(grep -c . "$B/readme_quickstart.lua")" -gt 12 ]; then
  bad "lua_quickstart_short" "$(grep -c . "$B/readme_quickstart.lua") lines (10 or so promised)"
fi
make -s --no-print-directory "$B/luahost" "$B/sslsocket.so" > "$T/make.log" 2>&1 \
  || bad "lua_quickstart_builds" "$(tail -c 600 "$T/make.log")"
for runner in luahost lua5.4; do
  if ! s_server_www; then bad "lua_quickstart_$runner" "s_server did not start"; continue; fi
  case $runner in
    luahost) cmd=("$B/luahost") ;;
    lua5.4) cmd=(env "LUA_CPATH=$B/?.so" lua5.4) ;;
  esac
  if SSL_CERT_FILE="$T/ca.pem" SSL_CERT_DIR="" timeout 20 "${cmd[@]}" "$B/readme_quickstart.lua" \
       localhost $port > "$T/lua_out" 2> "$T/lua_err" \
     && grep -q "^TLSv1.3	TLS_AES_" "$T/lua_out" && grep -q "HTTP/1.0 200 ok" "$T/lua_out" \
     && grep -q "close_notify received" "$T/lua_err"; then
    ok "lua_quickstart_$runner"
  else
    bad "lua_quickstart_$runner" "$(head -c 300 "$T/lua_out" "$T/lua_err" | tr '\n' '|')"
  fi
done

# 3. the epoll program: three requests at once against one s_server
block c 2 > "$B/readme_epoll.c"
if ${CC:-cc} -std=c99 -I. -Wall -Wextra -Werror -pedantic -o "$B/readme_epoll" \
     "$B/readme_epoll.c" -lbearssl 2> "$T/cc2.log"; then
  ok "c_epoll_builds"
  if s_server_www && timeout 20 "$B/readme_epoll" localhost $port "$T/ca.pem" > "$T/ep_out" 2>&1 \
     && [ "$(grep -c '^request [0-2]: [1-9][0-9]* bytes, remote host closed the connection (close_notify received)$' "$T/ep_out")" = 3 ]; then
    ok "c_epoll_runs"
  else
    bad "c_epoll_runs" "$(head -c 400 "$T/ep_out" | tr '\n' '|')"
  fi
else
  bad "c_epoll_builds" "$(head -c 600 "$T/cc2.log")"
fi

# 4. the memory program, and the README's figures agree with it
block c 3 > "$B/readme_sizes.c"
if ${CC:-cc} -std=c99 -I. -Wall -Wextra -Werror -pedantic -o "$B/readme_sizes" \
     "$B/readme_sizes.c" -lbearssl 2> "$T/cc3.log" && "$B/readme_sizes" > "$T/sizes"; then
  bytes=$(awk '$1 == "sslsocket" {print $2}' "$T/sizes")
  kib=$(( (bytes + 512) / 1024 ))
  grouped=$(printf "%'d" "$bytes" 2>/dev/null)
  case $grouped in *,*) ;; *) grouped=$(echo "$bytes" | sed ':a;s/\B[0-9]\{3\}\>/,&/;ta') ;; esac
  if grep -q "sizeof(sslsocket)\` is about $kib KiB" README.md && grep -q "($grouped bytes)" README.md \
     && grep -q "static sslsocket s; .*~$kib KiB" README.md; then
    ok "memory_figures"
  else
    bad "memory_figures" "sizeof(sslsocket) is $bytes bytes (about $kib KiB): update README.md"
  fi
else
  bad "memory_program" "$(head -c 600 "$T/cc3.log")"
fi

# 5. every >>tag the README points to exists in the header
for tag in $(grep -o '`>>[a-z-]*`' README.md | tr -d '`' | sort -u); do
  if grep -qE "^   $tag( |\$)" sslsocket.h lua_sslsocket.c; then :; else
    bad "doc_tags" "$tag is not a section of sslsocket.h or lua_sslsocket.c"; tagbad=1
  fi
done
[ -z "${tagbad:-}" ] && ok "doc_tags"

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
