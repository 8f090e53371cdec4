#!/bin/bash
# vs_luasec.sh - benchmark 5: a Lua echo server and client on sslsocket.so
# against the same on LuaSec (+ LuaSocket), Lua 5.4, loopback 127.0.0.1.
#
#   tests/bench/vs_luasec.sh [--smoke]
#
# Same certificate (ECDSA P-256 leaf for "localhost" under a P-256 CA, made
# here with the openssl CLI into $BENCH_OUT/luasec/certs), same suite
# (ECDHE-ECDSA-AES128-GCM-SHA256), TLS 1.2 only, every client verifies the
# chain and the name.  The programs are in tests/bench/lua/: ss_* on
# sslsocket.so, ls_* on LuaSec, common.lua shared.  Measures
#   - full handshakes/s (PAR client processes: connect, handshake, close,
#     again) and resumed ones (sslsocket.so clients only: LuaSec can neither
#     offer a saved session nor cache one on its servers);
#   - one-connection echo MB/s (BULK_MB MiB through the echo server, at most
#     256 KiB in flight, best of REPS) and MB per CPU-second of both processes;
#   - resident memory per idle connection: a fresh server, one warm-up
#     connection, then IDLE connections opened by a client process and left
#     idle; the server's VmRSS growth after a full GC, divided by IDLE;
#   - echo MB/s again while the server holds those IDLE idle connections.
# Every pairing {sslsocket.so, LuaSec} client x {sslsocket.so, LuaSec} server
# is run for handshakes and MB/s; the main comparison is sslsocket.so with
# itself against LuaSec with itself.  Writes $BENCH_OUT/vs_luasec.md and
# $BENCH_OUT/vs_luasec.txt ("key value" lines).  Exit status 0 when
# everything ran (whatever the figures), 1 when a measurement failed, 2 when
# it could not start.  Needs: lua5.4, lua-sec, lua-socket, openssl, make + cc
# (build/sslsocket.so is built with `make -f lua.mk build/sslsocket.so`).
set -u
SMOKE=0
[ "${1:-}" = "--smoke" ] && SMOKE=1
T0=$(date +%s.%N)
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${BENCH_OUT:-build/bench}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
LDIR=$ROOT/tests/bench/lua
LUA=${LUA:-lua5.4}
CIPHER=ECDHE-ECDSA-AES128-GCM-SHA256
if [ $SMOKE = 1 ]; then
    HS_TIME=0.3; PAR=1; BULK_MB=4; REPS=1; IDLE=50; IDLE_BULK_MB=2
else
    HS_TIME=2.5; PAR=2; BULK_MB=128; REPS=3; IDLE=1000; IDLE_BULK_MB=16
fi
CLIENT_TIMEOUT=90
export BENCH_LIFETIME=$((SMOKE ? 60 : 300)) # servers exit by themselves after this

die() { echo "vs_luasec: $*" >&2; exit 2; }
command -v "$LUA" > /dev/null || die "$LUA not found (apt-get install lua5.4)"
command -v openssl > /dev/null || die "openssl not found"
"$LUA" -e 'require "ssl"; require "socket"' 2> /dev/null \
    || die "LuaSec / LuaSocket not found for $LUA (apt-get install lua-sec lua-socket)"
(cd "$ROOT" && make -s -f lua.mk build/sslsocket.so) || die "cannot build build/sslsocket.so"
export LUA_CPATH="$ROOT/build/?.so;;"
"$LUA" -e 'require "sslsocket"' || die "build/sslsocket.so does not load"

# Both processes hold IDLE sockets (LuaSec's socket.select and sslsocket_wait
# both stop at descriptor 1024, so IDLE stays at 1,000).
NOFILE=$((IDLE + 256))
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt $NOFILE ]; then
    ulimit -n $NOFILE 2> /dev/null || die "cannot raise ulimit -n to $NOFILE (hard limit $(ulimit -Hn))"
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/sslsocket-luasec-XXXXXX")
PIDS=()
cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill "$p" 2> /dev/null; done
    for p in "${PIDS[@]}"; do wait "$p" 2> /dev/null; done
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
STATUS=0
LAST=$T0
phase() { # elapsed time per phase, on stderr
    local t
    t=$(date +%s.%N)
    awk -v a="$LAST" -v b="$t" -v n="$1" 'BEGIN { printf "vs_luasec: %s %.1f s\n", n, b - a }' >&2
    LAST=$t
}
bad() { echo "vs_luasec: $*" >&2; STATUS=1; echo "$*" >> "$WORK/failures"; } # (also from subshells)

# ---- certificates ------------------------------------------------------------------
CERTS=$OUT/luasec/certs
rm -rf "$CERTS"
mkdir -p "$CERTS"
(
    set -e
    cd "$CERTS"
    openssl ecparam -name prime256v1 -genkey -noout -out ca.key
    openssl req -x509 -new -key ca.key -sha256 -days 30 -subj '/CN=sslsocket bench CA' \
        -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
        -out ca.pem
    printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n' > leaf.ext
    openssl ecparam -name prime256v1 -genkey -noout -out ec.key
    openssl req -new -key ec.key -subj '/CN=localhost' -out ec.csr
    openssl x509 -req -in ec.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 30 -sha256 \
        -extfile leaf.ext -out ec.pem
) > "$WORK/certs.log" 2>&1 || { cat "$WORK/certs.log" >&2; die "cannot make certificates"; }

# ---- helpers -------------------------------------------------------------------------
declare -A PORT PID
CLK=$(getconf CLK_TCK)
cpu() { awk -v t="$CLK" '{ printf "%.3f", ($14 + $15) / t }' "/proc/$1/stat" 2> /dev/null || echo 0; }
now() { date +%s.%N; }
calc() { awk "BEGIN { $1 }"; }
ratio() { awk -v a="${1:-}" -v b="${2:-}" 'BEGIN { if (a != "" && a != "-" && b != "" && b != "-" && b > 0) printf "%.2f", a / b; else printf "-" }'; }

# start_server NAME ss|ls [HOLD [CACHE]]: PORT[NAME], PID[NAME]
start_server() {
    local name=$1 lib=$2 pid
    shift 2
    rm -f "$WORK/$name.port"
    "$LUA" "$LDIR/${lib}_server.lua" "$CERTS/ec.pem" "$CERTS/ec.key" "$WORK/$name.port" "$@" \
        > "$WORK/$name.out" 2> "$WORK/$name.err" &
    pid=$!
    PIDS+=("$pid")
    for _ in $(seq 200); do
        [ -s "$WORK/$name.port" ] && break
        kill -0 "$pid" 2> /dev/null || break
        sleep 0.05
    done
    [ -s "$WORK/$name.port" ] || { cat "$WORK/$name.err" >&2; die "server $name ($lib) did not start"; }
    PORT[$name]=$(cat "$WORK/$name.port")
    PID[$name]=$pid
}
stop() { kill "$1" 2> /dev/null; wait "$1" 2> /dev/null; }

# client ss|ls SERVER ARGS... -> its output line (stderr to $WORK/client.err)
client() {
    local lib=$1 srv=$2
    shift 2
    timeout $CLIENT_TIMEOUT "$LUA" "$LDIR/${lib}_client.lua" "${PORT[$srv]}" "$CERTS/ca.pem" "$@" \
        2>> "$WORK/client.err" || { bad "$lib client against $srv ($*) failed"; return 1; }
}

# handshakes CLIENT SERVER [resume] -> "per_s per_cpu_s resumed connections"
handshakes() {
    local lib=$1 srv=$2 i c0 c1 pids=()
    c0=$(cpu "${PID[$srv]}")
    for i in $(seq $PAR); do
        client "$lib" "$srv" hs $HS_TIME ${3:-} > "$WORK/hs.$i" &
        pids+=($!)
    done
    for i in "${pids[@]}"; do wait "$i" || STATUS=1; done
    c1=$(cpu "${PID[$srv]}")
    cat "$WORK"/hs.* | awk -v s="$(calc "print $c1 - $c0")" '
        $1 == "hs" { n += $2; r += $4; c += $5; if ($3 > w) w = $3 }
        END { if (n == 0 || w == 0) print "- - - 0"; else printf "%.0f %.0f %d %d\n", n / w, n / (c + s), r, n }'
    rm -f "$WORK"/hs.*
}

# bulk CLIENT SERVER [MiB [REPS]] -> "best_MB/s best_MB_per_cpu_s" over REPS
# echo runs of BULK_MB MiB
bulk() {
    local lib=$1 srv=$2 mb=${3:-$BULK_MB} i c0 c1 line
    : > "$WORK/bulk.runs"
    for i in $(seq ${4:-$REPS}); do
        c0=$(cpu "${PID[$srv]}")
        line=$(client "$lib" "$srv" bulk $((mb * 1024 * 1024))) || continue
        c1=$(cpu "${PID[$srv]}")
        echo "$line $c0 $c1" >> "$WORK/bulk.runs"
    done
    awk '$1 == "bulk" && $3 > 0 {
            m = $2 / 1e6 / $3; c = $2 / 1e6 / ($4 + $6 - $5)
            if (m > best) best = m; if (c > bestc) bestc = c }
         END { if (best == 0) print "- -"; else printf "%.1f %.1f\n", best, bestc }' "$WORK/bulk.runs"
}

wait_line() { # file pattern seconds pid
    local i
    for i in $(seq $(($3 * 20))); do
        grep -q "$2" "$1" 2> /dev/null && return 0
        [ -n "${4:-}" ] && ! kill -0 "$4" 2> /dev/null && break
        sleep 0.05
    done
    grep -q "$2" "$1" 2> /dev/null
}

# memory LIB: fresh server holding IDLE connections from a client of the same
# library.  Sets M[LIB_*]; leaves the loaded server running as mem_LIB.
declare -A M
memory() {
    local lib=$1 srv=mem_$1 holder
    start_server "$srv" "$lib" $IDLE
    client "$lib" "$srv" hold 1 > /dev/null || return 1
    wait_line "$WORK/$srv.out" "^mem base" 10 "${PID[$srv]}" || { bad "$srv: no baseline"; return 1; }
    timeout $CLIENT_TIMEOUT "$LUA" "$LDIR/${lib}_client.lua" "${PORT[$srv]}" "$CERTS/ca.pem" \
        hold $IDLE $((CLIENT_TIMEOUT + 30)) > "$WORK/hold_$lib.out" 2>> "$WORK/client.err" &
    holder=$!
    PIDS+=("$holder")
    HOLDER[$lib]=$holder
    if ! wait_line "$WORK/hold_$lib.out" "^held $IDLE" $CLIENT_TIMEOUT "$holder" \
        || ! wait_line "$WORK/$srv.out" "^mem held" 10 "${PID[$srv]}"; then
        bad "$lib: $IDLE idle connections not established"
        return 1
    fi
    # mem LABEL N RSS RSS_AFTER_GC LUA_HEAP LUA_HEAP_BEFORE_GC
    read -r M[${lib}_srv] M[${lib}_srv_nogc] M[${lib}_srv_lua] M[${lib}_srv_garbage] <<< "$(awk -v n=$IDLE '
        $2 == "base" { b = $5; bn = $4; bl = $6 } $2 == "held" { h = $5; hn = $4; hl = $6; g = $7 - $6 }
        END { printf "%.0f %.0f %.0f %.0f\n", (h - b) / n, (hn - bn) / n, (hl - bl) / n, g / n }' "$WORK/$srv.out")"
    read -r M[${lib}_cli] <<< "$(awk -v n=$IDLE '
        $2 == "client-base" { b = $5 } $2 == "client-held" { h = $5 }
        END { printf "%.0f\n", (h - b) / n }' "$WORK/hold_$lib.out")"
}
declare -A HOLDER
kib() { awk -v b="${1:-}" 'BEGIN { if (b == "" || b == "-") printf "-"; else printf "%.1f", b / 1024 }'; }

# ---- servers ------------------------------------------------------------------------------
start_server ss ss 0 0         # sslsocket.so, no session cache (as LuaSec)
start_server ss_cache ss 0 65536 # sslsocket.so with a 64 KiB session cache, for resumption
start_server ls ls 0
group() { # ECDHE group an OpenSSL client gets from server $1
    openssl s_client -connect "127.0.0.1:${PORT[$1]}" -tls1_2 -cipher "$CIPHER" -servername localhost \
        < /dev/null 2> /dev/null | sed -n 's/^Server Temp Key: //p' | head -1
}
GROUP_SS=$(group ss)
GROUP_LS=$(group ls)

declare -A V
NAME_ss="sslsocket.so"
NAME_ls="LuaSec"
for c in ss ls; do
    for s in ss ls; do
        read -r V[hs_${c}_$s] V[hscpu_${c}_$s] _ _ <<< "$(handshakes $c $s)"
        read -r V[mbps_${c}_$s] V[mbpscpu_${c}_$s] <<< "$(bulk $c $s)"
    done
done
read -r V[hsres_ss_ss] V[hsrescpu_ss_ss] RES_N RES_TOTAL <<< "$(handshakes ss ss_cache resume)"
[ "${RES_N:-0}" -gt 0 ] && [ "$RES_N" -ge $((RES_TOTAL - PAR)) ] \
    || bad "resumption: $RES_N of $RES_TOTAL connections resumed"
read -r _ _ RES_LS _ <<< "$(handshakes ss ls resume)"
phase "handshakes and echo"
stop "${PID[ss]}"; stop "${PID[ss_cache]}"; stop "${PID[ls]}"

for lib in ss ls; do
    memory $lib
    read -r V[mbpsidle_$lib] _ <<< "$(bulk $lib mem_$lib $IDLE_BULK_MB 1)"
    [ -n "${HOLDER[$lib]:-}" ] && stop "${HOLDER[$lib]}"
    stop "${PID[mem_$lib]}"
    phase "memory ($lib)"
done

# ---- report -------------------------------------------------------------------------------
MD=$OUT/vs_luasec.md
NUM=$OUT/vs_luasec.txt
: > "$MD"
: > "$NUM"
out() { printf "$@" | tee -a "$MD"; }
num() { echo "$1 ${2:--}" >> "$NUM"; }
ver() { dpkg-query -W -f='${Version}' "$1" 2> /dev/null || echo "?"; }

num hs_full_sslsocket "${V[hs_ss_ss]}"
num hs_full_luasec "${V[hs_ls_ls]}"
num hs_full_cpu_sslsocket "${V[hscpu_ss_ss]}"
num hs_full_cpu_luasec "${V[hscpu_ls_ls]}"
num hs_resumed_sslsocket "${V[hsres_ss_ss]}"
num mbps_sslsocket "${V[mbps_ss_ss]}"
num mbps_luasec "${V[mbps_ls_ls]}"
num mbps_cpu_sslsocket "${V[mbpscpu_ss_ss]}"
num mbps_cpu_luasec "${V[mbpscpu_ls_ls]}"
num rss_idle_sslsocket "${M[ss_srv]:-}"
num rss_idle_luasec "${M[ls_srv]:-}"
num rss_idle_nogc_sslsocket "${M[ss_srv_nogc]:-}"
num rss_idle_nogc_luasec "${M[ls_srv_nogc]:-}"
num lua_heap_idle_sslsocket "${M[ss_srv_lua]:-}"
num lua_heap_idle_luasec "${M[ls_srv_lua]:-}"
num lua_garbage_idle_sslsocket "${M[ss_srv_garbage]:-}"
num lua_garbage_idle_luasec "${M[ls_srv_garbage]:-}"
num rss_idle_client_sslsocket "${M[ss_cli]:-}"
num rss_idle_client_luasec "${M[ls_cli]:-}"
num mbps_idle_sslsocket "${V[mbpsidle_ss]:-}"
num mbps_idle_luasec "${V[mbpsidle_ls]:-}"
num idle_connections $IDLE
for c in ss ls; do for s in ss ls; do
    num hs_full_${c}_$s "${V[hs_${c}_$s]}"
    num mbps_${c}_$s "${V[mbps_${c}_$s]}"
done; done

out "## 5. Against LuaSec (Lua 5.4, loopback)\n\n"
out "A Lua echo server and client on \`sslsocket.so\` (\`tests/bench/lua/ss_*.lua\`: TcpServer with an "
out "ssl_configuration, handlers, \`net.run\` / \`net.poll\`) against the same on LuaSec %s + LuaSocket %s " \
    "$(ver lua-sec)" "$(ver lua-socket)"
out "(\`ls_*.lua\`: non-blocking sockets, one \`socket.select\` loop, one shared context) "
out "on Lua %s, OpenSSL %s; sslsocket.so built by lua.mk (defaults: 33 KiB record buffer, 4 KiB read and write buffers). " \
    "$(ver lua5.4)" "$(openssl version | awk '{print $2}')"
out "Same certificate (ECDSA P-256 leaf, P-256 CA, made at run time), %s, TLS 1.2 only; " "$CIPHER"
out "every client verifies the chain and the name \`localhost\` (LuaSec checks no names: its client "
out "reads the subjectAltName itself). ECDHE group an OpenSSL client gets: sslsocket.so server %s, LuaSec server %s. " \
    "${GROUP_SS:-?}" "${GROUP_LS:-?}"
out "Client and server are separate processes sharing the machine's %s cores, so rates are for the " "$(nproc)"
out "whole client+server system; the per-CPU-second figures divide by the CPU time of both processes "
out "and do not move when other jobs share the machine.\n\n"

out "| measure | sslsocket.so client + server | LuaSec client + server | sslsocket.so / LuaSec |\n|---|---:|---:|---:|\n"
out "| full handshakes/s (%d client processes, %s s) | %s | %s | %s |\n" $PAR $HS_TIME \
    "${V[hs_ss_ss]}" "${V[hs_ls_ls]}" "$(ratio "${V[hs_ss_ss]}" "${V[hs_ls_ls]}")"
out "| full handshakes per CPU-second | %s | %s | %s |\n" \
    "${V[hscpu_ss_ss]}" "${V[hscpu_ls_ls]}" "$(ratio "${V[hscpu_ss_ss]}" "${V[hscpu_ls_ls]}")"
out "| resumed handshakes/s (server session cache of 64 KiB) | %s | - (no resumption in LuaSec) | - |\n" \
    "${V[hsres_ss_ss]}"
out "| one-connection echo MB/s (%d MiB, best of %d) | %s | %s | %s |\n" $BULK_MB $REPS \
    "${V[mbps_ss_ss]}" "${V[mbps_ls_ls]}" "$(ratio "${V[mbps_ss_ss]}" "${V[mbps_ls_ls]}")"
out "| echo MB per CPU-second | %s | %s | %s |\n" \
    "${V[mbpscpu_ss_ss]}" "${V[mbpscpu_ls_ls]}" "$(ratio "${V[mbpscpu_ss_ss]}" "${V[mbpscpu_ls_ls]}")"
out "| server resident memory per idle connection, KiB (%d connections) | %s | %s | %s |\n" $IDLE \
    "$(kib "${M[ss_srv]:-}")" "$(kib "${M[ls_srv]:-}")" "$(ratio "${M[ss_srv]:-}" "${M[ls_srv]:-}")"
out "| the same before the full GC, KiB | %s | %s | %s |\n" \
    "$(kib "${M[ss_srv_nogc]:-}")" "$(kib "${M[ls_srv_nogc]:-}")" "$(ratio "${M[ss_srv_nogc]:-}" "${M[ls_srv_nogc]:-}")"
out "| Lua heap per connection after the GC, KiB | %s | %s | |\n" "$(kib "${M[ss_srv_lua]:-}")" "$(kib "${M[ls_srv_lua]:-}")"
out "| Lua garbage the GC found at that moment, KiB per connection | %s | %s | |\n" \
    "$(kib "${M[ss_srv_garbage]:-}")" "$(kib "${M[ls_srv_garbage]:-}")"
out "| client resident memory per idle connection, KiB | %s | %s | %s |\n" \
    "$(kib "${M[ss_cli]:-}")" "$(kib "${M[ls_cli]:-}")" "$(ratio "${M[ss_cli]:-}" "${M[ls_cli]:-}")"
out "| echo MB/s while the server holds the %d idle connections (%d MiB, once) | %s | %s | %s |\n" $IDLE $IDLE_BULK_MB \
    "${V[mbpsidle_ss]:-}" "${V[mbpsidle_ls]:-}" "$(ratio "${V[mbpsidle_ss]:-}" "${V[mbpsidle_ls]:-}")"

out "\n### Every pairing (full handshakes/s; echo MB/s)\n\n"
out "| client | sslsocket.so server | LuaSec server | sslsocket.so server / LuaSec server |\n|---|---:|---:|---:|\n"
for c in ss ls; do
    eval "n=\$NAME_$c"
    out "| %s, handshakes/s | %s | %s | %s |\n" "$n" "${V[hs_${c}_ss]}" "${V[hs_${c}_ls]}" \
        "$(ratio "${V[hs_${c}_ss]}" "${V[hs_${c}_ls]}")"
done
for c in ss ls; do
    eval "n=\$NAME_$c"
    out "| %s, MB/s | %s | %s | %s |\n" "$n" "${V[mbps_${c}_ss]}" "${V[mbps_${c}_ls]}" \
        "$(ratio "${V[mbps_${c}_ss]}" "${V[mbps_${c}_ls]}")"
done
out "| sslsocket.so client / LuaSec client, handshakes/s | %s | %s | |\n" \
    "$(ratio "${V[hs_ss_ss]}" "${V[hs_ls_ss]}")" "$(ratio "${V[hs_ss_ls]}" "${V[hs_ls_ls]}")"
out "| sslsocket.so client / LuaSec client, MB/s | %s | %s | |\n" \
    "$(ratio "${V[mbps_ss_ss]}" "${V[mbps_ls_ss]}")" "$(ratio "${V[mbps_ss_ls]}" "${V[mbps_ls_ls]}")"
out "\nResumption against the LuaSec server: %s of the sslsocket.so client's connections resumed " "${RES_LS:-?}"
out "(LuaSec turns OpenSSL's session cache off, and its clients have no session API).\n\n"
out "Where the gaps come from: a full handshake is ECDHE plus an ECDSA P-256 signature on the server "
out "and a chain verification on the client, and BearSSL's constant-time generic EC code (m31) is "
out "several times slower than OpenSSL's assembly P-256 and X25519 (section 3 lists the primitives). "
out "Bulk data goes through AES-NI GCM in both libraries, so the echo rate is mostly the Lua side "
out "(a string per read, the loop around it). "
out "Memory: an sslsocket.so connection is one Lua userdata holding the whole \`sslsocket\` "
out "(~53 KiB, mostly the full-duplex record buffer); only the pages a connection touches are "
out "resident, and after 1 s without traffic (idle_release_ms = 1000 in ss_server.lua; 10 s by "
out "default) the library gives the record buffer's pages back (sslsocket_config_set_idle_release), "
out "as OpenSSL frees its buffers on idle connections "
out "(LuaSec sets SSL_MODE_RELEASE_BUFFERS); both servers are measured %s s after the last "  "$(sed -n 's/^C.IDLE_SECONDS = //p' "$ROOT/tests/bench/lua/common.lua")"
out "connection came up. "
IDLE_DROP=$(ratio "${V[mbpsidle_ss]:-}" "${V[mbps_ss_ss]}")
out "With %d idle connections held, the sslsocket.so echo rate is %s of its rate without them: "  $IDLE "$IDLE_DROP"
out "a round of the Lua loop polls only the sockets that woke up, but still builds the poll(2) "
out "set of every active socket (LuaSec's loop hands socket.select() a list it keeps)."
out "\n\n"

[ -s "$WORK/client.err" ] && { echo "client errors:"; head -5 "$WORK/client.err"; } >&2
for f in "$WORK"/*.err; do
    [ -s "$f" ] && { echo "$(basename "$f"):"; head -3 "$f"; } >&2
done
for k in hs_ss_ss hs_ls_ls mbps_ss_ss mbps_ls_ls; do
    [ -z "${V[$k]:-}" ] || [ "${V[$k]}" = "-" ] && bad "no figure for $k"
done
[ -z "${M[ss_srv]:-}" ] || [ -z "${M[ls_srv]:-}" ] && bad "no memory figure"
[ -s "$WORK/failures" ] && STATUS=1
awk -v a="$T0" -v b="$(now)" 'BEGIN { printf "vs_luasec: %.1f s\n", b - a }'
exit $STATUS
