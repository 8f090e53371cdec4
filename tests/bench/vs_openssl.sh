#!/bin/bash
# vs_openssl.sh - benchmark 3: sslsocket.h (tlsbench) against OpenSSL's own
# tools on loopback, same certificate (ECDSA P-256), same suite
# (ECDHE-ECDSA-AES128-GCM-SHA256), TLS 1.2, every client verifying the chain.
#
#   tests/bench/vs_openssl.sh [--smoke]
#
# Each measurement is a 2x2: {OpenSSL client, library client} x
# {openssl s_server -WWW, library server}; the ratios compare the library
# with OpenSSL on the same peer.  Writes $BENCH_OUT/vs_openssl.md and .txt.
# Needs: openssl, curl; $BENCH_BIN (default $BENCH_OUT) holds tlsbench.
set -u
SMOKE=0
[ "${1:-}" = "--smoke" ] && SMOKE=1
OUT=${BENCH_OUT:-build/bench}
BIN=${BENCH_BIN:-$OUT}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
SRC=$(cd "$(dirname "$0")" && pwd)
BIN=$(cd "$BIN" && pwd)
TB="$BIN/tlsbench"
CIPHER=ECDHE-ECDSA-AES128-GCM-SHA256
IANA=TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
PAR=4
if [ $SMOKE = 1 ]; then
    HS_TIME=1; BIG_MB=4; FETCHES=1; TTFB_N=3; PRIM_S=0.05
else
    HS_TIME=4; BIG_MB=256; FETCHES=3; TTFB_N=21; PRIM_S=1
fi
T0=$(date +%s.%N)
export BENCH_OUT="$OUT"
CERTS=$("$TB" certs) || { echo "vs_openssl: cannot make certificates" >&2; exit 2; }
CERTS=$(cd "$CERTS" && pwd)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/sslsocket-bench-XXXXXX")
OSSL_PID=""
LIB_PID=""
LIB_IN=""
cleanup() {
    [ -n "${NGINX_PID:-}" ] && { kill "$NGINX_PID" 2>/dev/null; wait "$NGINX_PID" 2>/dev/null; }
    [ -n "$OSSL_PID" ] && kill "$OSSL_PID" 2>/dev/null && wait "$OSSL_PID" 2>/dev/null
    [ -n "$LIB_IN" ] && exec {LIB_IN}>&-
    [ -n "$LIB_PID" ] && { kill "$LIB_PID" 2>/dev/null; wait "$LIB_PID" 2>/dev/null; }
    rm -rf "$WORK"
}
trap cleanup EXIT
cd "$WORK" || exit 2
head -c $((BIG_MB * 1024 * 1024)) /dev/urandom > big.bin
head -c 100 /dev/zero | tr '\0' 'x' > small.txt

MD="$OUT/vs_openssl.md"
NUM="$OUT/vs_openssl.txt"
: > "$NUM"
out() { printf "$@" | tee -a "$MD"; }
num() { echo "$1 $2" >> "$NUM"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else printf "-" }'; }
: > "$MD"

# ---- servers -------------------------------------------------------------------
openssl s_server -accept 127.0.0.1:0 -cert "$CERTS/ec.pem" -key "$CERTS/ec.key" -WWW \
    -no_ticket -tls1_2 -cipher "$CIPHER" < /dev/null > ossl_server.log 2>&1 &
OSSL_PID=$!
mkfifo lib_in
"$TB" server "$WORK/lib.port" "$CERTS/ec.pem" "$CERTS/ec.key" "$IANA" < lib_in > lib_server.log 2>&1 &
LIB_PID=$!
exec {LIB_IN}> lib_in
for _ in $(seq 100); do
    OSSL_PORT=$(sed -n 's/^ACCEPT .*:\([0-9]*\)$/\1/p' ossl_server.log)
    [ -s lib.port ] && [ -n "$OSSL_PORT" ] && break
    sleep 0.05
done
LIB_PORT=$(cat lib.port 2>/dev/null)
if [ -z "$OSSL_PORT" ] || [ -z "$LIB_PORT" ]; then
    echo "vs_openssl: servers did not start" >&2
    cat ossl_server.log lib_server.log >&2
    exit 2
fi

# nginx (OpenSSL, one event-driven worker): the fair OpenSSL *server*, since
# s_server serves one connection at a time.  Optional: skipped if missing.
. "$SRC/nginx.sh"
NGINX_PORT=""
NGINX_PID=""
if command -v nginx > /dev/null && command -v python3 > /dev/null; then
    NGINX_PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    chmod 755 "$WORK"; chmod 644 big.bin small.txt
    nginx_conf "$NGINX_PORT" shared:SSL:1m
    nginx -p "$WORK" -c "$WORK/nginx.conf" > nginx.out 2>&1 &
    NGINX_PID=$!
    for _ in $(seq 100); do
        (exec 3<> "/dev/tcp/127.0.0.1/$NGINX_PORT") 2>/dev/null && break
        sleep 0.05
    done
    if ! kill -0 "$NGINX_PID" 2>/dev/null; then
        echo "vs_openssl: nginx did not start (skipped):" >&2; cat nginx.out nginx_error.log >&2
        NGINX_PORT=""; NGINX_PID=""
    fi
fi

group() { # ECDHE group an OpenSSL client gets from a server
    openssl s_client -connect "127.0.0.1:$1" -tls1_2 -cipher "$CIPHER" < /dev/null 2>/dev/null \
        | sed -n 's/^Server Temp Key: //p' | head -1
}

out "## 3. Against OpenSSL (loopback, %s, TLS 1.2)\n\n" "$CIPHER"
out "Same certificate (ECDSA P-256 leaf, P-256 CA) and suite everywhere; every client verifies the chain. "
out "Clients: OpenSSL 3 (\`openssl s_time\`, curl %s) and the library (\`tests/bench/tlsbench\`). " \
    "$(curl -V | head -1 | awk '{print $2}')"
out "Servers: \`openssl s_server -WWW -no_ticket\` (serves one connection at a time), nginx with one worker "
out "(OpenSSL, event-driven like the library: the fair server comparison; session cache on, tickets off) "
out "and the library (\`tlsbench server\`: one thread, epoll). "
out "All processes share the machine's 2 cores, so each figure is for the whole client+server system; "
out "the ratios compare the library with OpenSSL against the same peer.\n\n"
out "ECDHE group chosen for an OpenSSL client: s_server: %s; nginx: %s; library server: %s.\n\n" \
    "$(group "$OSSL_PORT")" "$([ -n "$NGINX_PORT" ] && group "$NGINX_PORT" || echo "-")" "$(group "$LIB_PORT")"

# ---- handshakes -----------------------------------------------------------------
s_time_rate() { # port mode(-new|-reuse) -> connections/s summed over PAR clients
    local port=$1 mode=$2 i start end total=0
    start=$(date +%s.%N)
    for i in $(seq $PAR); do
        openssl s_time -connect "127.0.0.1:$port" $mode -time $HS_TIME -tls1_2 -cipher "$CIPHER" \
            -CAfile "$CERTS/ca.pem" -verify 2 > "s_time.$i" 2>&1 &
    done
    wait $(jobs -p | grep -v -e "^$OSSL_PID\$" -e "^$LIB_PID\$" -e "^${NGINX_PID:-x}\$") 2>/dev/null
    end=$(date +%s.%N)
    for i in $(seq $PAR); do
        n=$(sed -n 's/^\([0-9]*\) connections in [0-9.]*s;.*/\1/p' "s_time.$i" | head -1)
        total=$((total + ${n:-0}))
    done
    awk -v n="$total" -v a="$start" -v b="$end" 'BEGIN { printf "%.0f", n / (b - a) }'
}
lib_rate() { # port [resume] -> connections/s summed over PAR library clients (one process each, like s_time)
    local port=$1 i start end
    start=$(date +%s.%N)
    for i in $(seq $PAR); do
        "$TB" hs "$port" "$CERTS/ca.pem" "$IANA" 1 $HS_TIME ${2:-} > "lib_hs.$i" 2>> lib_hs.err &
    done
    wait $(jobs -p | grep -v -e "^$OSSL_PID\$" -e "^$LIB_PID\$" -e "^${NGINX_PID:-x}\$") 2>/dev/null
    end=$(date +%s.%N)
    cat lib_hs.* | awk -v a="$start" -v b="$end" '{ n += $2; g = $12 } END { printf "%.0f %s", n / (b - a), g }'
}
KINDS=(full)
[ $SMOKE = 0 ] && KINDS=(full resumed)
SRV_KEYS=(ossl)
SRV_NAMES=("s_server")
[ -n "$NGINX_PORT" ] && { SRV_KEYS+=(nginx); SRV_NAMES+=("nginx"); }
SRV_KEYS+=(lib)
SRV_NAMES+=("library server")
REF=${SRV_KEYS[$(( ${#SRV_KEYS[@]} - 2 ))]} # nginx when present, else s_server
REF_NAME=${SRV_NAMES[$(( ${#SRV_NAMES[@]} - 2 ))]}
declare -A PORT_OF=([ossl]=$OSSL_PORT [nginx]=$NGINX_PORT [lib]=$LIB_PORT)
declare -A V
hdr() { # first columns
    local h="| $1 |" sep="|---|" n
    [ -n "${2:-}" ] && { h="$h $2 |"; sep="$sep---|"; }
    for n in "${SRV_NAMES[@]}"; do h="$h $n |"; sep="$sep---:|"; done
    out "%s library server / %s |\n%s---:|\n" "$h" "$REF_NAME" "$sep"
}
row() { # label1 label2 key-prefix
    local r="| $1 |" k
    [ -n "$2" ] && r="$r $2 |"
    for k in "${SRV_KEYS[@]}"; do r="$r ${V[$3_$k]:--} |"; done
    out "%s %s |\n" "$r" "$(ratio "${V[$3_lib]:-}" "${V[$3_$REF]:-}")"
}
out "### Handshakes per second (%d client processes in parallel, one connection at a time each, %d s)\n\n" $PAR $HS_TIME
hdr handshake client
for kind in "${KINDS[@]}"; do
    if [ "$kind" = full ]; then mode=-new; lres=""; else mode=-reuse; lres=resume; fi
    for k in "${SRV_KEYS[@]}"; do
        V[hs_${kind}_ossl_$k]=$(s_time_rate "${PORT_OF[$k]}" $mode)
        read -r V[hs_${kind}_lib_$k] g <<< "$(lib_rate "${PORT_OF[$k]}" $lres)"
        [ "$kind" = full ] && LIB_GROUPS="${LIB_GROUPS:-}${LIB_GROUPS:+, }${k}: $g"
        num "hs_${kind}_ossl_$k" "${V[hs_${kind}_ossl_$k]}"
        num "hs_${kind}_lib_$k" "${V[hs_${kind}_lib_$k]}"
        V[hs_${kind}_ratio_$k]=$(ratio "${V[hs_${kind}_lib_$k]}" "${V[hs_${kind}_ossl_$k]}")
    done
    row $kind "openssl s_time x$PAR" hs_${kind}_ossl
    row $kind "library x$PAR" hs_${kind}_lib
    r="| $kind | library client / s_time |"
    for k in "${SRV_KEYS[@]}"; do r="$r ${V[hs_${kind}_ratio_$k]} |"; done
    out "%s |\n" "$r"
done
[ -s lib_hs.err ] && { echo "tlsbench hs errors:"; head -5 lib_hs.err; } >&2
out "\nECDHE group the library client gets (TLS group id: 23 = P-256, 29 = X25519): %s.\n" "${LIB_GROUPS:-?}"

# ---- bulk and time to first byte -----------------------------------------------
curl_get() { # port file count -> "best_MBps median_ttfb_ms"
    local port=$1 file=$2 count=$3 i
    for i in $(seq "$count"); do
        curl -s -o /dev/null --cacert "$CERTS/ca.pem" --resolve "localhost:$port:127.0.0.1" \
            --tlsv1.2 --tls-max 1.2 --ciphers "$CIPHER" \
            -w '%{size_download} %{time_total} %{time_starttransfer}\n' "https://localhost:$port/$file"
    done > curl.out
    best=$(awk '{ r = $1 / $2 / 1e6; if (r > best) best = r } END { printf "%.1f", best }' curl.out)
    med=$(awk '{ print $3 * 1000 }' curl.out | sort -g | awk '{ t[NR] = $1 } END { printf "%.3f", t[int((NR + 1) / 2)] }')
    echo "$best $med"
}
lib_get() { # port file count -> "best_MBps median_ttfb_ms"
    "$TB" get "$1" "$CERTS/ca.pem" "$IANA" "$2" "$3" 2>> lib_get.err \
        | awk '{ printf "%.1f %.3f", $6, $8 }'
}
for k in "${SRV_KEYS[@]}"; do
    read -r V[mbps_curl_$k] _ <<< "$(curl_get "${PORT_OF[$k]}" big.bin $FETCHES)"
    read -r V[mbps_lib_$k] _ <<< "$(lib_get "${PORT_OF[$k]}" big.bin $FETCHES)"
    read -r _ V[ttfb_curl_$k] <<< "$(curl_get "${PORT_OF[$k]}" small.txt $TTFB_N)"
    read -r _ V[ttfb_lib_$k] <<< "$(lib_get "${PORT_OF[$k]}" small.txt $TTFB_N)"
    for m in mbps_curl mbps_lib ttfb_curl ttfb_lib; do num "${m}_$k" "${V[${m}_$k]}"; done
    V[mbps_ratio_$k]=$(ratio "${V[mbps_lib_$k]}" "${V[mbps_curl_$k]}")
    V[ttfb_ratio_$k]=$(ratio "${V[ttfb_lib_$k]}" "${V[ttfb_curl_$k]}")
done
[ -s lib_get.err ] && { echo "tlsbench get errors:"; head -5 lib_get.err; } >&2
out "\n### One connection: MB/s for a %d MiB file (best of %d)\n\n" $BIG_MB $FETCHES
hdr client
row "curl (OpenSSL)" "" mbps_curl
row "library" "" mbps_lib
r="| library client / curl |"; for k in "${SRV_KEYS[@]}"; do r="$r ${V[mbps_ratio_$k]} |"; done; out "%s |\n" "$r"
out "\n### Time to first byte, ms (connect + handshake + request + first response byte; median of %d, 100-byte file)\n\n" $TTFB_N
hdr client
row "curl (OpenSSL)" "" ttfb_curl
row "library" "" ttfb_lib
r="| library client / curl |"; for k in "${SRV_KEYS[@]}"; do r="$r ${V[ttfb_ratio_$k]} |"; done; out "%s |\n" "$r"

# ---- where the gap comes from: the primitives ---------------------------------------
"$TB" prims $PRIM_S > prims.txt
bs() { awk -v k="$1" '$1 == k { print $2 }' prims.txt; }
SPEED_SECS=1
: > speed_pk.txt
: > speed_cp.txt
if [ $SMOKE = 0 ]; then # smoke: only AES-GCM (openssl speed takes >= 1 s per algorithm)
    openssl speed -mr -seconds $SPEED_SECS ecdsap256 ecdhp256 ecdhx25519 > speed_pk.txt 2>/dev/null
    openssl speed -mr -seconds $SPEED_SECS -bytes 16384 -evp chacha20-poly1305 > speed_cp.txt 2>/dev/null
fi
openssl speed -mr -seconds $SPEED_SECS -bytes 16384 -evp aes-128-gcm > speed_gcm.txt 2>/dev/null
first() { awk -F: -v tag="$1" -v bits="$2" -v col="$3" \
    '$1 == tag && $3 == bits { printf "%.0f", $col; exit }' speed_pk.txt; }
o_sign=$(first +F4 256 4)
o_vrfy=$(first +F4 256 5)
o_p256=$(first +F5 256 4)
o_x25519=$(first +F5 253 4)
o_gcm=$(awk -F: '$1 == "+F" { printf "%.0f", $4 / 1e6; exit }' speed_gcm.txt)
o_cp=$(awk -F: '$1 == "+F" { printf "%.0f", $4 / 1e6; exit }' speed_cp.txt)
b_gcm=$(awk -v v="$(bs aes128_gcm_encrypt_16k_per_s)" 'BEGIN { printf "%.0f", v * 16384 / 1e6 }')
b_cp=$(awk -v v="$(bs chacha20_poly1305_encrypt_16k_per_s)" 'BEGIN { printf "%.0f", v * 16384 / 1e6 }')
fmt() { awk -v v="$1" 'BEGIN { if (v == "") printf "-"; else printf "%.0f", v }'; }
out "\n### Where the gap comes from: the primitives alone (one core)\n\n"
out "| operation | BearSSL 0.6 | OpenSSL 3 | BearSSL / OpenSSL |\n|---|---:|---:|---:|\n"
out "| ECDSA P-256 sign /s | %s | %s | %s |\n" "$(fmt "$(bs ecdsa_p256_sign_per_s)")" "${o_sign:--}" "$(ratio "$(bs ecdsa_p256_sign_per_s)" "${o_sign:-0}")"
out "| ECDSA P-256 verify /s | %s | %s | %s |\n" "$(fmt "$(bs ecdsa_p256_verify_per_s)")" "${o_vrfy:--}" "$(ratio "$(bs ecdsa_p256_verify_per_s)" "${o_vrfy:-0}")"
out "| ECDH P-256 /s | %s | %s | %s |\n" "$(fmt "$(bs ecdh_p256_per_s)")" "${o_p256:--}" "$(ratio "$(bs ecdh_p256_per_s)" "${o_p256:-0}")"
out "| X25519 /s | %s | %s | %s |\n" "$(fmt "$(bs x25519_per_s)")" "${o_x25519:--}" "$(ratio "$(bs x25519_per_s)" "${o_x25519:-0}")"
out "| AES-128-GCM encrypt, 16 KiB, MB/s | %s | %s | %s |\n" "$b_gcm" "${o_gcm:--}" "$(ratio "$b_gcm" "${o_gcm:-0}")"
out "| ChaCha20-Poly1305 encrypt, 16 KiB, MB/s | %s | %s | %s |\n" "$b_cp" "${o_cp:--}" "$(ratio "$b_cp" "${o_cp:-0}")"
out "\n"
for k in ecdsa_p256_sign_per_s ecdsa_p256_verify_per_s ecdh_p256_per_s x25519_per_s; do num "bearssl_$k" "$(bs $k)"; done
num bearssl_gcm_mbps "$b_gcm"; num bearssl_chapol_mbps "$b_cp"
num openssl_sign_per_s "${o_sign:-0}"; num openssl_verify_per_s "${o_vrfy:-0}"
num openssl_p256_per_s "${o_p256:-0}"; num openssl_x25519_per_s "${o_x25519:-0}"
num openssl_gcm_mbps "${o_gcm:-0}"; num openssl_chapol_mbps "${o_cp:-0}"

# ---- the servers must still be alive ------------------------------------------------
status=0
kill -0 "$OSSL_PID" 2>/dev/null || { echo "vs_openssl: s_server died" >&2; status=1; }
kill -0 "$LIB_PID" 2>/dev/null || { echo "vs_openssl: library server died" >&2; cat lib_server.log >&2; status=1; }
awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN { printf "vs_openssl: %.1f s\n", b - a }'
exit $status
