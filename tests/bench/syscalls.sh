#!/bin/bash
# syscalls.sh - benchmark 7: system calls (strace -f -c) and heap allocations
# (an LD_PRELOAD counter, tests/bench/alloccount.c) per connection and per
# MiB transferred, for the library's client and server and for their peers:
#
#   client side  library client (tlsbench get) vs curl, fetching from nginx
#                (or openssl s_server when nginx is missing)
#   server side  library server (tlsbench server) vs nginx vs openssl
#                s_server -WWW, serving curl
#
#   tests/bench/syscalls.sh [--smoke]
#
# Every program is measured in three runs of its own process: one 100-byte
# fetch (base), N fetches of it, one connection each (conns), and one fetch
# of a BIG_MB file (big).  Per connection = (conns - base) / (N - 1); per MiB
# = (big - base) / BIG_MB: process start-up, certificate loading and the
# server's set-up cancel out.  Full handshakes everywhere (ECDHE-ECDSA P-256,
# AES-128-GCM, TLS 1.2, chain verified): nginx and s_server refuse session
# reuse (ssl_session_cache off, -no_cache), curl runs with --no-sessionid.
# Heap allocations: the library's programs count from their first socket()
# (client) or epoll_create1() (server) call, after their own set-up, to the
# exit: every such allocation would be the core's (expected 0); the peers
# count everything, differenced like the system calls.
# Writes $BENCH_OUT/syscalls.md and syscalls.txt.  Needs strace, curl,
# openssl, a C compiler; nginx optional.  $BENCH_BIN holds tlsbench.
set -u
SMOKE=0
[ "${1:-}" = "--smoke" ] && SMOKE=1
SRC=$(cd "$(dirname "$0")" && pwd)
OUT=${BENCH_OUT:-build/bench}
BIN=${BENCH_BIN:-$OUT}
mkdir -p "$OUT" "$BIN"
OUT=$(cd "$OUT" && pwd)
BIN=$(cd "$BIN" && pwd)
TB="$BIN/tlsbench"
CC=${CC:-cc}
CIPHER=ECDHE-ECDSA-AES128-GCM-SHA256
IANA=TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
if [ $SMOKE = 1 ]; then BIG_MB=4; CONNS=4; else BIG_MB=64; CONNS=20; fi
LIMIT=120 # seconds any one traced process may take
T0=$(date +%s.%N)
export BENCH_OUT="$OUT"
for tool in strace curl openssl "$CC" timeout; do
    command -v "$tool" > /dev/null || { echo "syscalls: $tool is missing (make bench-deps)" >&2; exit 2; }
done
[ -x "$TB" ] || { echo "syscalls: $TB missing (make bench-build)" >&2; exit 2; }
AC="$BIN/alloccount.so"
"$CC" -std=c99 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -shared -fPIC -o "$AC" "$SRC/alloccount.c" -ldl \
    || { echo "syscalls: cannot build alloccount.so" >&2; exit 2; }
CERTS=$("$TB" certs) || { echo "syscalls: cannot make certificates" >&2; exit 2; }
CERTS=$(cd "$CERTS" && pwd)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/sslsocket-syscalls-XXXXXX")
PIDS=()
LIB_FD=""
cleanup() {
    local p
    [ -n "$LIB_FD" ] && exec {LIB_FD}>&-
    for p in "${PIDS[@]}"; do kill "$p" 2> /dev/null; done
    for p in "${PIDS[@]}"; do wait "$p" 2> /dev/null; done
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
cd "$WORK" || exit 2
chmod 755 "$WORK"
head -c $((BIG_MB * 1024 * 1024)) /dev/urandom > big.bin
head -c 100 /dev/zero | tr '\0' 'x' > small.txt
chmod 644 big.bin small.txt
BIG_BYTES=$((BIG_MB * 1024 * 1024))
FAIL=0
fail() { echo "syscalls: $*" >&2; FAIL=1; }

MD="$OUT/syscalls.md"
NUM="$OUT/syscalls.txt"
: > "$MD"
: > "$NUM"
out() { printf "$@" | tee -a "$MD"; }
num() { echo "$1 $2" >> "$NUM"; }

# ---- measuring ------------------------------------------------------------------
# trace_cmd NAME MARKER: set TRACE to the words that run a command under
# strace -f -c and the allocation counter (window from the first call of
# MARKER; "" = whole process), bounded by timeout; results in NAME.st
# (per-syscall "name calls [errors]" lines) and NAME.ac.
trace_cmd() {
    local name=$1 marker=$2
    rm -f "$name.st"
    : > "$name.ac"
    chmod 666 "$name.ac" # nginx's worker runs as another user
    TRACE=(timeout -k 5 $LIMIT strace -f -qq -c -U name,calls,errors -o "$WORK/$name.st"
           -E LD_PRELOAD="$AC" -E ALLOCCOUNT_OUT="$WORK/$name.ac" -E ALLOCCOUNT_START="$marker")
}
calls() { # total system calls in NAME.st
    awk '$2 ~ /^[0-9]+$/ && $1 != "total" { n += $2 } END { print n + 0 }' "$1.st" 2> /dev/null
}
allocs() { # NAME [window|all]: allocation calls summed over the processes
    awk -v what="${2:-all}" '$1 == "alloc" { w += $7; b += $5 }
        END { print (what == "window") ? w + 0 : w + b }' "$1.ac" 2> /dev/null
}
per() { # (a - b) / d, one decimal
    awk -v a="$1" -v b="$2" -v d="$3" 'BEGIN { if (a == "" || b == "") print "-"; else printf "%.1f", (a - b) / d }'
}
top_calls() { # BIG BASE D: the system calls that grow with the transfer, per MiB
    awk -v d="$3" 'FNR == NR { if ($2 ~ /^[0-9]+$/) { base[$1] = $2; berr[$1] = $3 + 0 }; next }
        $2 ~ /^[0-9]+$/ && $1 != "total" { v = ($2 - base[$1]) / d; e = ($3 - berr[$1]) / d
            if (v >= 0.5) print v, $1, e }' \
        "$2.st" "$1.st" | sort -gr | head -4 \
        | awk '{ printf "%s%s %.0f", (NR > 1 ? ", " : ""), $2, $1; if ($3 >= 0.5) printf " (%.0f failed)", $3 }'
}
# A program's three runs give: per-connection and per-MiB system calls and
# allocations (window only for the library), and its top calls per MiB.
declare -A R
summarize() { # KEY ALLOC_WHAT
    local k=$1 w=$2
    R[sc_conn_$k]=$(per "$(calls ${k}_conns)" "$(calls ${k}_base)" $((CONNS - 1)))
    R[sc_mib_$k]=$(per "$(calls ${k}_big)" "$(calls ${k}_base)" $BIG_MB)
    R[sc_top_$k]=$(top_calls ${k}_big ${k}_base $BIG_MB)
    R[sc_base_$k]=$(calls ${k}_base)
    R[al_conn_$k]=$(per "$(allocs ${k}_conns $w)" "$(allocs ${k}_base $w)" $((CONNS - 1)))
    R[al_mib_$k]=$(per "$(allocs ${k}_big $w)" "$(allocs ${k}_base $w)" $BIG_MB)
    R[al_base_$k]=$(allocs ${k}_base $w)
    R[al_setup_$k]=$(awk '$1 == "alloc" { b += $5 } END { print b + 0 }' ${k}_base.ac 2> /dev/null)
    R[al_window_$k]=$(( $(allocs ${k}_base window) + $(allocs ${k}_conns window) + $(allocs ${k}_big window) ))
    local r
    for r in base conns big; do
        [ -s ${k}_$r.st ] || fail "$k $r: no strace summary"
        [ -s ${k}_$r.ac ] || fail "$k $r: no allocation count"
    done
}

# ---- servers ------------------------------------------------------------------
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
listening() { # PORT: is something listening on 127.0.0.1:PORT (no connection made)
    awk -v p="$(printf '%04X' "$1")" '$2 == "0100007F:" p && $4 == "0A" { f = 1 } END { exit !f }' /proc/net/tcp
}
wait_for() { # CMD...: until it succeeds, at most 10 s
    local i
    for i in $(seq 200); do "$@" && return 0; sleep 0.05; done
    return 1
}
HAVE_NGINX=0
command -v nginx > /dev/null && command -v python3 > /dev/null && HAVE_NGINX=1
. "$SRC/nginx.sh"
SPID=""
PORT=""
# start_server KIND NAME ACCEPTS: KIND lib|nginx|ossl, traced as NAME when
# NAME is not empty; s_server exits by itself after ACCEPTS connections.
start_server() {
    local kind=$1 name=$2 n=$3 pre=(timeout -k 5 600)
    if [ -n "$name" ]; then
        trace_cmd "$name" "$([ "$kind" = lib ] && echo epoll_create1)"
        pre=("${TRACE[@]}")
    fi
    PORT=""
    case $kind in
    lib)
        rm -f lib.port lib_in
        mkfifo lib_in
        "${pre[@]}" "$TB" server "$WORK/lib.port" "$CERTS/ec.pem" "$CERTS/ec.key" "$IANA" \
            < lib_in > lib_server.log 2>&1 &
        SPID=$!
        exec {LIB_FD}> lib_in
        wait_for test -s lib.port && PORT=$(cat lib.port)
        ;;
    nginx)
        PORT=$(free_port)
        nginx_conf "$PORT" off
        rm -f nginx.pid
        "${pre[@]}" nginx -p "$WORK" -c "$WORK/nginx.conf" > nginx.out 2>&1 &
        SPID=$!
        wait_for listening "$PORT" || PORT=""
        ;;
    ossl)
        local extra=()
        [ -n "$name" ] && extra=(-naccept "$n")
        : > ossl_server.log
        "${pre[@]}" openssl s_server -accept 127.0.0.1:0 -cert "$CERTS/ec.pem" -key "$CERTS/ec.key" \
            -WWW -no_ticket -no_cache -tls1_2 -cipher "$CIPHER" "${extra[@]}" < /dev/null > ossl_server.log 2>&1 &
        SPID=$!
        wait_for grep -q '^ACCEPT' ossl_server.log \
            && PORT=$(sed -n 's/^ACCEPT .*:\([0-9]*\)$/\1/p' ossl_server.log | head -1)
        ;;
    esac
    PIDS+=("$SPID")
    [ -n "$PORT" ] || { fail "$kind server did not start"; cat lib_server.log nginx.out nginx_error.log ossl_server.log 2> /dev/null >&2; }
}
stop_server() { # KIND
    case $1 in
    lib) exec {LIB_FD}>&-; LIB_FD="" ;;
    nginx) [ -s nginx.pid ] && kill -QUIT "$(cat nginx.pid)" ;;
    ossl) [ -n "$2" ] || kill "$SPID" 2> /dev/null ;; # a traced s_server ends after its -naccept
    esac
    wait "$SPID" 2> /dev/null
}

# ---- clients --------------------------------------------------------------------
curl_get() { # PORT FILE COUNT [PREFIX...]: prints the bytes received in all
    local port=$1 file=$2 count=$3 i args=()
    shift 3
    for i in $(seq "$count"); do args+=(-o /dev/null "https://localhost:$port/$file"); done
    "$@" curl -s --max-time $LIMIT --cacert "$CERTS/ca.pem" --resolve "localhost:$port:127.0.0.1" --tlsv1.2 --tls-max 1.2 \
        --ciphers "$CIPHER" --no-sessionid -w '%{size_download}\n' "${args[@]}" \
        | awk '{ n += $1 } END { print n + 0 }'
}
check_bytes() { # WHAT GOT WANT
    [ "$2" = "$3" ] || fail "$1: received $2 bytes, expected $3"
}

# ---- client side: the library's client vs curl, against one server ------------
PEER=ossl; PEER_NAME="openssl s_server -WWW"
[ $HAVE_NGINX = 1 ] && { PEER=nginx; PEER_NAME="nginx (1 worker)"; }
start_server $PEER "" 0
CPORT=$PORT
if [ -n "$CPORT" ]; then
    for r in base conns big; do
        case $r in base) f=small.txt; n=1; want=100 ;; conns) f=small.txt; n=$CONNS; want=100 ;;
                   big) f=big.bin; n=1; want=$BIG_BYTES ;; esac
        trace_cmd libc_$r socket
        got=$("${TRACE[@]}" "$TB" get "$CPORT" "$CERTS/ca.pem" "$IANA" "$f" $n | awk '{ print $2 }')
        check_bytes "library client $r" "$got" "$want"
        trace_cmd curl_$r ""
        got=$(curl_get "$CPORT" "$f" $n "${TRACE[@]}")
        check_bytes "curl $r" "$got" $((want * n))
    done
    summarize libc window
    summarize curl all
fi
stop_server $PEER ""

# ---- server side: library server, nginx, s_server, each serving curl ---------------
SKINDS=(lib)
[ $HAVE_NGINX = 1 ] && SKINDS+=(nginx)
SKINDS+=(ossl)
for k in "${SKINDS[@]}"; do
    for r in base conns big; do
        case $r in base) f=small.txt; n=1; want=100 ;; conns) f=small.txt; n=$CONNS; want=$((100 * CONNS)) ;;
                   big) f=big.bin; n=1; want=$BIG_BYTES ;; esac
        start_server $k srv_${k}_$r $n
        [ -n "$PORT" ] || continue
        got=$(curl_get "$PORT" "$f" $n)
        check_bytes "$k server $r" "$got" "$want"
        stop_server $k traced
    done
    summarize srv_$k $([ $k = lib ] && echo window || echo all)
done

# ---- the report --------------------------------------------------------------------
NAME_lib="library server (\`tlsbench server\`, epoll)"
NAME_nginx="nginx (OpenSSL, 1 worker)"
NAME_ossl="openssl s_server -WWW"
out "## 7. System calls and heap allocations\n\n"
out "Counted with \`strace -f -c\` (every thread and child process) and an LD_PRELOAD counter of "
out "malloc/calloc/realloc/posix_memalign/aligned_alloc/memalign/valloc (\`tests/bench/alloccount.c\`). "
out "Each program runs three times in a process of its own: one 100-byte HTTPS GET, %d of them "  $CONNS
out "(one connection and one full ECDHE-ECDSA handshake each, TLS 1.2, AES-128-GCM, chain verified; "
out "sessions never reused: nginx \`ssl_session_cache off\`, s_server \`-no_cache\`, curl \`--no-sessionid\`), one %d MiB GET. " $BIG_MB
out "Per connection = (%d GETs - 1 GET) / %d; per MiB = (%d MiB GET - 1 GET) / %d: process start-up, "  $CONNS $((CONNS - 1)) $BIG_MB $BIG_MB
out "configuration and certificate loading cancel out.\n\n"
out "### System calls\n\n"
out "| side | program | per connection | per MiB | the calls that grow with the transfer, per MiB |\n|---|---|---:|---:|---|\n"
if [ -n "${R[sc_mib_libc]:-}" ]; then
    out "| client (server: %s) | library client (\`tlsbench get\`) | %s | **%s** | %s |\n" "$PEER_NAME" \
        "${R[sc_conn_libc]}" "${R[sc_mib_libc]}" "${R[sc_top_libc]}"
    out "| | curl %s (OpenSSL) | %s | **%s** | %s |\n" "$(curl -V | head -1 | awk '{print $2}')" \
        "${R[sc_conn_curl]}" "${R[sc_mib_curl]}" "${R[sc_top_curl]}"
fi
for k in "${SKINDS[@]}"; do
    eval "label=\$NAME_$k"
    out "| server (client: curl) | %s | %s | **%s** | %s |\n" "$label" "${R[sc_conn_srv_$k]:--}" \
        "${R[sc_mib_srv_$k]:--}" "${R[sc_top_srv_$k]:--}"
done
out '\nFailed calls are EAGAIN on a nonblocking socket. File reads (`pread64`, `read`) are the servers'"'"' own '
out '(tlsbench reads 16 KiB per chunk, nginx 32 KiB); curl'"'"'s extra `write`s go to its output file (/dev/null), '
out 'which `tlsbench get` does not write.\n'
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a != "" && b != "" && a != "-" && b != "-" && b > 0) printf "%.2f", a / b; else printf "-" }'; }
SREF=srv_ossl; SREF_NAME="s_server"
[ $HAVE_NGINX = 1 ] && { SREF=srv_nginx; SREF_NAME="nginx"; }
out "\nSystem calls per MiB, library / peer: client %s (vs curl), server %s (vs %s).\n\n" \
    "$(ratio "${R[sc_mib_libc]:-}" "${R[sc_mib_curl]:-}")" \
    "$(ratio "${R[sc_mib_srv_lib]:-}" "${R[sc_mib_$SREF]:-}")" "$SREF_NAME"

out "### Heap allocations\n\n"
out "The library's programs count from their first \`socket()\` (client) or \`epoll_create1()\` (server) call "
out "to their exit, so that the program's own set-up (its socket array, the port file) stays outside: "
out "everything counted there (connections, handshakes, transfers, closes) would be the core's. "
out "The peers count their whole process, differenced as above.\n\n"
out "| program | per connection | per MiB | counted in the window (all 3 runs) | set-up, before the window (1 run) |\n|---|---:|---:|---:|---:|\n"
CORE=0
for k in libc srv_lib; do
    [ -n "${R[al_mib_$k]:-}" ] || continue
    label=$([ $k = libc ] && echo "library client (\`tlsbench get\`)" || echo "library server (\`tlsbench server\`)")
    out "| %s | %s | %s | **%s** | %s (program + configuration) |\n" "$label" "${R[al_conn_$k]}" "${R[al_mib_$k]}" \
        "${R[al_window_$k]}" "${R[al_setup_$k]}"
    CORE=$((CORE + R[al_window_$k]))
done
for k in curl "${SKINDS[@]/#/srv_}"; do
    [ "$k" = srv_lib ] && continue
    [ -n "${R[al_mib_$k]:-}" ] || continue
    case $k in curl) label="curl (OpenSSL)" ;; srv_nginx) label=$NAME_nginx ;; srv_ossl) label=$NAME_ossl ;; esac
    out "| %s | %s | %s | | |\n" "$label" "${R[al_conn_$k]}" "${R[al_mib_$k]}"
done
out "\nHeap allocations in the library core (client and server, every connection, handshake, transfer and close above): **%s**%s.\n\n" \
    "$CORE" "$([ "$CORE" = 0 ] && echo " — none, as designed" || echo " — **the core allocated**")"

for k in libc curl srv_lib srv_nginx srv_ossl; do
    key=$(case $k in libc) echo lib_client ;; curl) echo curl ;; srv_lib) echo lib_server ;;
          srv_nginx) echo nginx ;; srv_ossl) echo s_server ;; esac)
    [ -n "${R[sc_mib_$k]:-}" ] || continue
    num syscalls_per_mib_$key "${R[sc_mib_$k]}"
    num syscalls_per_conn_$key "${R[sc_conn_$k]}"
    num allocs_per_mib_$key "${R[al_mib_$k]}"
    num allocs_per_conn_$key "${R[al_conn_$k]}"
done
num allocs_core "$CORE"
num syscalls_mib "$BIG_MB"
[ -n "${R[sc_mib_$SREF]:-}" ] && { num syscalls_per_mib_server_ref "${R[sc_mib_$SREF]}"; num server_ref_name "$SREF_NAME"; }
awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN { printf "syscalls: %.1f s\n", b - a }'
[ "$CORE" = 0 ] || echo "syscalls: the library core allocated $CORE times" >&2
exit $FAIL
