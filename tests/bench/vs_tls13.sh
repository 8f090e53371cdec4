#!/bin/bash
# vs_tls13.sh - benchmark 8: the library's TLS 1.3 client, side by side with
# its TLS 1.2 client and with OpenSSL's client (libssl 3: tests/bench/
# osslbench.c, the same loop, verification and output as tlsbench), all
# against `openssl s_server -WWW` (the library has no TLS 1.3 server yet):
#
#   1. full handshakes/s, client side, ECDSA P-256 and RSA-2048 certificates,
#      with the CPU time per handshake of the client (getrusage) and of
#      s_server (/proc/PID/stat);
#   2. one-connection bulk MB/s for a large file, AES-128-GCM and
#      ChaCha20-Poly1305, with MB per client CPU-second;
#   3. time to first byte with a real round-trip time: netem on the loopback
#      of a network namespace made here when the kernel has netem, else
#      tests/bench/delayrelay (a relay on 127.0.0.1 that holds every byte
#      RTT/2 in each direction); skipped, with the reason, if neither works.
#
#   tests/bench/vs_tls13.sh [--smoke]
#
# Writes $BENCH_OUT/vs_tls13.md and vs_tls13.txt.  Talks to 127.0.0.1 only
# (in the host's namespace or in the one it makes); every client runs under
# `timeout`, every server and relay is stopped by PID and the namespace
# deleted on exit.  Needs openssl; $BENCH_BIN holds tlsbench, osslbench and
# delayrelay.  Prints no verdict on timings: only a failed handshake or
# transfer, or a wrong protocol, makes it exit non-zero.
set -u
SMOKE=0
[ "${1:-}" = "--smoke" ] && SMOKE=1
OUT=${BENCH_OUT:-build/bench}
BIN=${BENCH_BIN:-$OUT}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
BIN=$(cd "$BIN" && pwd)
TB="$BIN/tlsbench"
OB="$BIN/osslbench"
RELAY="$BIN/delayrelay"
RTT_MS=${BENCH_RTT_MS:-20}
if [ $SMOKE = 1 ]; then
    HS_TIME=0.3; BIG_MB=4; FETCHES=1; TTFB_N=3
else
    HS_TIME=2.5; BIG_MB=128; FETCHES=5; TTFB_N=15
fi
LIMIT=120 # seconds any one client run may take
for p in "$TB" "$RELAY"; do
    [ -x "$p" ] || { echo "vs_tls13: $p missing (make bench-build)" >&2; exit 2; }
done
# osslbench needs libssl-dev (in BENCH_DEB); without it the OpenSSL rows are "-"
HAVE_OB=0
[ -x "$OB" ] && HAVE_OB=1
T0=$(date +%s.%N)
export BENCH_OUT="$OUT"
CERTS=$("$TB" certs) || { echo "vs_tls13: cannot make certificates" >&2; exit 2; }
CERTS=$(cd "$CERTS" && pwd)
CA="$CERTS/ca.pem"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/sslsocket-bench13-XXXXXX")
PIDS=()
NS=""
RELAY_PID=""
RELAY_FD=""
cleanup() {
    local p
    [ -n "$RELAY_FD" ] && exec {RELAY_FD}>&-
    for p in "${PIDS[@]}" $RELAY_PID; do kill "$p" 2> /dev/null; done
    for p in "${PIDS[@]}" $RELAY_PID; do wait "$p" 2> /dev/null; done
    [ -n "$NS" ] && ip netns del "$NS" 2> /dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 2' INT TERM
cd "$WORK" || exit 2
head -c $((BIG_MB * 1024 * 1024)) /dev/urandom > big.bin
head -c 100 /dev/zero | tr '\0' 'x' > small.txt

MD="$OUT/vs_tls13.md"
NUM="$OUT/vs_tls13.txt"
: > "$MD"
: > "$NUM"
STATUS=0
out() { printf "$@" | tee -a "$MD"; }
num() { echo "$1 $2" >> "$NUM"; }
fail() { echo "vs_tls13: $*" >&2; STATUS=1; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a != "" && b != "" && a + 0 > 0 && b + 0 > 0) printf "%.2f", a / b; else printf "-" }'; }
fmt() { awk -v v="$1" -v d="$2" 'BEGIN { if (v == "" || v == "-") printf "-"; else printf "%.*f", d, v }'; }
field() { # LINE NAME: the value after NAME in a "name value name value" line
    awk -v k="$2" '{ for (i = 1; i < NF; i++) if ($i == k) { print $(i + 1); exit } }' <<< "$1"
}
wait_for() { # CMD...: until it succeeds, at most 10 s (polls; no fixed sleep)
    local i
    for i in $(seq 500); do "$@" && return 0; sleep 0.02; done
    return 1
}
CLK_TCK=$(getconf CLK_TCK)
cpu_ticks() { # PID: user + system clock ticks so far
    awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/$1/stat" 2> /dev/null || echo 0
}

# start_server NAME CERT [s_server options...]: s_server -WWW on 127.0.0.1
# (in the namespace when $NSX is set), port in SPORT[NAME], pid in SPID[NAME].
# Tickets off (BearSSL has none; no client here would use them) and both
# versions allowed: every client pins its own.
declare -A SPORT SPID
NSX=()
start_server() {
    local name=$1 cert=$2 log="srv_$1.log"
    shift 2
    : > "$log"
    "${NSX[@]}" openssl s_server -accept 127.0.0.1:0 -cert "$CERTS/$cert.pem" -key "$CERTS/$cert.key" \
        -WWW -no_ticket -num_tickets 0 "$@" < /dev/null > "$log" 2>&1 &
    SPID[$name]=$!
    PIDS+=($!)
    if wait_for grep -q '^ACCEPT' "$log"; then
        SPORT[$name]=$(sed -n 's/^ACCEPT .*:\([0-9]*\)$/\1/p' "$log" | head -1)
    else
        SPORT[$name]=""
        fail "s_server $name did not start: $(head -3 "$log")"
    fi
}
stop_server() {
    kill "${SPID[$1]}" 2> /dev/null
    wait "${SPID[$1]}" 2> /dev/null
}
SUITES12="ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256"
declare -A IANA12=([ec]=TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 [rsa]=TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256)

# run_client WHO ... : WHO lib13|lib12|ossl13|ossl12, the rest tlsbench's
# arguments after the cipher (hs: PAR SECONDS; get: PATH COUNT), port first.
run_client() { # WHO CMD PORT CERT ARGS...
    local who=$1 cmd=$2 port=$3 cert=$4
    shift 4
    case $who in
    lib13) timeout -k 5 $LIMIT "${NSX[@]}" "$TB" --tls13 "$cmd" "$port" "$CA" - "$@" ;;
    lib12) timeout -k 5 $LIMIT "${NSX[@]}" "$TB" --tls12 "$cmd" "$port" "$CA" "${IANA12[$cert]}" "$@" ;;
    ossl13 | ossl12)
        [ $HAVE_OB = 1 ] || return 0
        [ "$cmd" = hs ] && shift # osslbench hs has no PARALLEL argument
        timeout -k 5 $LIMIT "${NSX[@]}" "$OB" "$cmd" "$port" "$CA" "1.${who: -1}" "$@" ;;
    esac
}
proto_of() { case $1 in *13) echo TLSv1.3 ;; *) echo TLSv1.2 ;; esac; }
group_name() { case $1 in 23) echo P-256 ;; 24) echo P-384 ;; 29) echo X25519 ;; *) echo "$1" ;; esac; }

declare -A V

out "## 8. TLS 1.3 client: library TLS 1.3 vs library TLS 1.2 vs OpenSSL's client\n\n"
out "Client side only (the library has no TLS 1.3 server yet), against \`openssl s_server -WWW -no_ticket -num_tickets 0\` "
out "(OpenSSL %s; one connection at a time, no tickets). Clients: the library (\`tlsbench --tls13\` / \`--tls12\`: " "$(openssl version | awk '{print $2}')"
out "one version pinned with \`sslsocket_config_set_versions\`) and OpenSSL's libssl (\`tests/bench/osslbench.c\`: the same loop, "
out "SNI, chain and host name verification, TCP_NODELAY, no session reuse, the version pinned with SSL_CTX_set_min/max_proto_version). "
out "Certificates: the fixture CA (P-256) and its ECDSA P-256 or RSA-2048 leaf. "
out "TLS 1.3: TLS_AES_128_GCM_SHA256 unless said otherwise (s_server \`-ciphersuites\`); TLS 1.2: ECDHE-ECDSA- or ECDHE-RSA-AES128-GCM-SHA256 (\`-cipher\`).\n\n"
[ $HAVE_OB = 0 ] && out "OpenSSL's client: skipped: %s was not built (libssl-dev missing: \`make bench-deps\`).\n\n" "$OB"

# ---- 1. handshakes ----------------------------------------------------------------
start_server ec ec -cipher "$SUITES12" -ciphersuites TLS_AES_128_GCM_SHA256
start_server rsa rsa -cipher "$SUITES12" -ciphersuites TLS_AES_128_GCM_SHA256
# the same, X25519 only: the library's TLS 1.2 client lists P-256 first and
# s_server follows the client's order; this isolates the protocol from the group
start_server ecx ec -cipher "$SUITES12" -ciphersuites TLS_AES_128_GCM_SHA256 -groups X25519
start_server rsax rsa -cipher "$SUITES12" -ciphersuites TLS_AES_128_GCM_SHA256 -groups X25519
HS_CASES=(lib13 lib12 lib12x ossl13 ossl12)
for cert in ec rsa; do
    for who in "${HS_CASES[@]}"; do
        [ $HAVE_OB = 0 ] && [ "${who#ossl}" != "$who" ] && continue
        srv=$cert; client=$who
        [ $who = lib12x ] && { srv=${cert}x; client=lib12; }
        port=${SPORT[$srv]}
        [ -n "$port" ] || continue
        c0=$(cpu_ticks "${SPID[$srv]}")
        line=$(run_client $client hs "$port" $cert 1 $HS_TIME 2>> hs.err)
        c1=$(cpu_ticks "${SPID[$srv]}")
        n=$(field "$line" handshakes)
        k=hs_${cert}_$who
        if [ -z "$n" ] || [ "$n" -le 0 ] || [ "$(field "$line" failed)" != 0 ]; then
            fail "handshakes $cert $who: ${line:-no output} $(tail -2 hs.err)"
            continue
        fi
        [ "$(field "$line" protocol)" = "$(proto_of $client)" ] \
            || fail "handshakes $cert $who: protocol $(field "$line" protocol), not $(proto_of $client)"
        V[${k}_per_s]=$(fmt "$(field "$line" per_s)" 0)
        V[${k}_cpu_us]=$(fmt "$(field "$line" cpu_us)" 0)
        V[${k}_srv_us]=$(awk -v a="$c0" -v b="$c1" -v n="$n" -v hz="$CLK_TCK" 'BEGIN { printf "%.0f", (b - a) / hz * 1e6 / n }')
        V[${k}_group]=$(group_name "$(field "$line" group)")
        for m in per_s cpu_us srv_us; do num "${k}_$m" "${V[${k}_$m]}"; done
    done
done
out "### Full handshakes per second, client side (one connection at a time, %s s per case)\n\n" "$HS_TIME"
out "handshakes/s is wall time for the whole client + s_server system; the two take turns (one connection at a time), "
out "so it is about 1 / (client CPU + server CPU + the kernel's loopback work) per handshake. "
out "Client CPU: the client process's user + system time (getrusage) per handshake; s_server CPU: the server's (/proc/PID/stat, %s ticks/s) per handshake. " "$CLK_TCK"
out "Every client verifies the chain and the name \`localhost\` and sends close_notify.\n\n"
out "| client | protocol, key exchange | ECDSA P-256: handshakes/s | client CPU, us | s_server CPU, us | RSA 2048: handshakes/s | client CPU, us | s_server CPU, us |\n"
out "|---|---|---:|---:|---:|---:|---:|---:|\n"
for who in "${HS_CASES[@]}"; do
    case $who in
    lib13) label="library"; pv="TLS 1.3" ;;
    lib12) label="library"; pv="TLS 1.2" ;;
    lib12x) label="library"; pv="TLS 1.2" ;;
    ossl13) label="OpenSSL (libssl)"; pv="TLS 1.3" ;;
    ossl12) label="OpenSSL (libssl)"; pv="TLS 1.2" ;;
    esac
    g=${V[hs_ec_${who}_group]:-?}
    [ $who = lib12x ] && g="$g (s_server \`-groups X25519\`)"
    r="| $label | $pv, $g |"
    for cert in ec rsa; do
        k=hs_${cert}_$who
        r="$r ${V[${k}_per_s]:--} | ${V[${k}_cpu_us]:--} | ${V[${k}_srv_us]:--} |"
    done
    out "%s\n" "$r"
done
for pair in lib13:lib12:"library TLS 1.3 / library TLS 1.2" lib13:lib12x:"library TLS 1.3 / library TLS 1.2 over X25519" \
            lib13:ossl13:"library TLS 1.3 / OpenSSL TLS 1.3" lib12:ossl12:"library TLS 1.2 / OpenSSL TLS 1.2"; do
    a=${pair%%:*}; rest=${pair#*:}; b=${rest%%:*}; label=${rest#*:}
    r="| $label | |"
    for cert in ec rsa; do
        for m in per_s cpu_us srv_us; do
            r="$r $(ratio "${V[hs_${cert}_${a}_$m]:-}" "${V[hs_${cert}_${b}_$m]:-}") |"
        done
    done
    out "%s\n" "$r"
done
# which side's CPU dominates
dom() { # who cert
    local c=${V[hs_$2_$1_cpu_us]:-} s=${V[hs_$2_$1_srv_us]:-}
    awk -v c="$c" -v s="$s" 'BEGIN { if (c == "" || s == "" || s + 0 == 0) { printf "-"; exit }
        printf "%.1f", c / s }'
}
out "\nClient CPU / s_server CPU per handshake (ECDSA; RSA): library TLS 1.3 %s; %s, library TLS 1.2 %s; %s, " \
    "$(dom lib13 ec)" "$(dom lib13 rsa)" "$(dom lib12 ec)" "$(dom lib12 rsa)"
out "OpenSSL TLS 1.3 %s; %s, OpenSSL TLS 1.2 %s; %s. " "$(dom ossl13 ec)" "$(dom ossl13 rsa)" "$(dom ossl12 ec)" "$(dom ossl12 rsa)"
out "Above 1 the client's CPU is the larger part of a handshake, below 1 the server's. "
out "The library's client spends its time in BearSSL's constant-time elliptic-curve code (section 3's primitives): "
out "an ECDHE key pair and shared secret (X25519 in TLS 1.3; in TLS 1.2 P-256, which BearSSL computes about 3 times slower than X25519, "
out "unless the server allows X25519 only) and two signature checks, the CA's ECDSA P-256 signature on the leaf and the server's "
out "(ECDSA CertificateVerify / ServerKeyExchange with the ECDSA leaf; RSA-PSS / PKCS#1 with the RSA leaf, cheap to verify). "
out "The protocol itself costs about the same: compare TLS 1.3 with TLS 1.2 over X25519.\n"
[ -s hs.err ] && { echo "vs_tls13: client errors (handshakes):"; head -5 hs.err; } >&2
for s in ecx rsax; do stop_server $s; done

# ---- 2. bulk --------------------------------------------------------------------------
start_server cc ec -cipher ECDHE-ECDSA-CHACHA20-POLY1305 -ciphersuites TLS_CHACHA20_POLY1305_SHA256
BULK_CASES=(lib13 lib12 ossl13 ossl12)
for aead in gcm chapol; do
    srv=$([ $aead = gcm ] && echo ec || echo cc)
    port=${SPORT[$srv]}
    [ -n "$port" ] || continue
    for who in "${BULK_CASES[@]}"; do
        [ $HAVE_OB = 0 ] && [ "${who#ossl}" != "$who" ] && continue
        k=bulk_${aead}_$who
        if [ $who = lib12 ]; then # the suite of this server
            line=$(timeout -k 5 $LIMIT "$TB" --tls12 get "$port" "$CA" \
                "$([ $aead = gcm ] && echo TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 || echo TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256)" \
                big.bin $FETCHES 2>> bulk.err)
        else
            line=$(run_client $who get "$port" ec big.bin $FETCHES 2>> bulk.err)
        fi
        b=$(field "$line" bytes)
        if [ "${b:-0}" != $((BIG_MB * 1024 * 1024)) ]; then
            fail "bulk $aead $who: ${line:-no output} $(tail -2 bulk.err)"
            continue
        fi
        [ "$(field "$line" protocol)" = "$(proto_of $who)" ] \
            || fail "bulk $aead $who: protocol $(field "$line" protocol), not $(proto_of $who)"
        V[${k}_mbps]=$(fmt "$(field "$line" mbps)" 1)
        V[${k}_cpu]=$(awk -v b="$b" -v c="$(field "$line" cpu_s)" 'BEGIN { if (c > 0) printf "%.0f", b / 1e6 / c; else printf "-" }')
        num "${k}_mbps" "${V[${k}_mbps]}"
        num "${k}_mb_per_cpu_s" "${V[${k}_cpu]}"
    done
done
stop_server cc
out "\n### One connection: MB/s for a %d MiB file from s_server -WWW (best of %d)\n\n" $BIG_MB $FETCHES
out "TLS 1.3: TLS_AES_128_GCM_SHA256 / TLS_CHACHA20_POLY1305_SHA256; TLS 1.2: ECDHE-ECDSA-AES128-GCM-SHA256 / ECDHE-ECDSA-CHACHA20-POLY1305; "
out "ECDSA P-256 certificate. MB per client CPU-second: the body bytes over the client process's CPU time for that fetch "
out "(handshake included). One fetch takes 0.1-0.3 s, and on this shared 2-core machine its MB/s moves by 20-30%% from run to run "
out "(client and s_server compete for the cores with each other and with other jobs); MB per client CPU-second is the steadier figure.\n\n"
out "| client | protocol | AES-128-GCM MB/s | MB per client CPU-s | ChaCha20-Poly1305 MB/s | MB per client CPU-s |\n|---|---|---:|---:|---:|---:|\n"
for who in "${BULK_CASES[@]}"; do
    label=$([ ${who#lib} != $who ] && echo library || echo "OpenSSL (libssl)")
    out "| %s | %s | %s | %s | %s | %s |\n" "$label" "TLS 1.${who: -1}" \
        "${V[bulk_gcm_${who}_mbps]:--}" "${V[bulk_gcm_${who}_cpu]:--}" "${V[bulk_chapol_${who}_mbps]:--}" "${V[bulk_chapol_${who}_cpu]:--}"
done
for pair in lib13:lib12:"library TLS 1.3 / library TLS 1.2" lib13:ossl13:"library TLS 1.3 / OpenSSL TLS 1.3" \
            lib12:ossl12:"library TLS 1.2 / OpenSSL TLS 1.2"; do
    a=${pair%%:*}; rest=${pair#*:}; b=${rest%%:*}; label=${rest#*:}
    r="| $label | |"
    for aead in gcm chapol; do
        r="$r $(ratio "${V[bulk_${aead}_${a}_mbps]:-}" "${V[bulk_${aead}_${b}_mbps]:-}") | $(ratio "${V[bulk_${aead}_${a}_cpu]:-}" "${V[bulk_${aead}_${b}_cpu]:-}") |"
    done
    out "%s\n" "$r"
done
[ -s bulk.err ] && { echo "vs_tls13: client errors (bulk):"; head -5 bulk.err; } >&2

# ---- 3. time to first byte with a round-trip time -----------------------------------
# How the delay is made: netem on the loopback of a namespace of our own
# (every packet crosses lo once: RTT/2 per direction), else the relay.
RTT_HOW=""
RTT_WHY=""
HALF=$(awk -v r="$RTT_MS" 'BEGIN { printf "%g", r / 2 }')
if [ "$(id -u)" != 0 ]; then
    RTT_WHY="not root: no network namespace"
elif ! command -v ip > /dev/null || ! command -v tc > /dev/null; then
    RTT_WHY="ip or tc missing (iproute2)"
else
    NS="sslsocket-bench-$$"
    if ! ip netns add "$NS" 2> ns.err; then
        RTT_WHY="ip netns add: $(head -1 ns.err)"; NS=""
    elif ! ip -n "$NS" link set lo up 2> ns.err \
         || ! ip netns exec "$NS" tc qdisc add dev lo root netem delay "${HALF}ms" 2> ns.err; then
        RTT_WHY="netem in a network namespace: $(head -1 ns.err)"
        ip netns del "$NS" 2> /dev/null; NS=""
    else
        RTT_HOW=netem
    fi
fi
TTFB_CASES=(lib13 lib12 ossl13 ossl12)
if [ "$RTT_HOW" = netem ]; then
    NSX=(ip netns exec "$NS")
    start_server ns ec -cipher "$SUITES12" -ciphersuites TLS_AES_128_GCM_SHA256
    DPORT=${SPORT[ns]}
    [ -n "$DPORT" ] || { RTT_HOW=""; RTT_WHY="s_server did not start in the namespace"; NSX=(); }
fi
if [ -z "$RTT_HOW" ] && [ -n "${SPORT[ec]}" ]; then
    rm -f relay.port relay_in
    mkfifo relay_in
    "$RELAY" "$WORK/relay.port" "${SPORT[ec]}" "$HALF" 600 < relay_in > relay.log 2>&1 &
    RELAY_PID=$!
    exec {RELAY_FD}> relay_in
    if wait_for test -s relay.port; then
        RTT_HOW=relay
        DPORT=$(cat relay.port)
    else
        RTT_WHY="$RTT_WHY; the relay did not start: $(head -2 relay.log)"
    fi
fi
ttfb_run() { # WHO PORT -> median ms
    local line
    line=$(run_client "$1" get "$2" ec small.txt $TTFB_N 2>> ttfb.err)
    [ "$(field "$line" bytes)" = 100 ] || { fail "ttfb $1: ${line:-no output} $(tail -2 ttfb.err)"; return; }
    [ "$(field "$line" protocol)" = "$(proto_of "$1")" ] || fail "ttfb $1: protocol $(field "$line" protocol)"
    fmt "$(field "$line" ttfb_ms)" 2
}
out "\n### Time to first byte with a round-trip time of %s ms (median of %d; 100-byte file)\n\n" "$RTT_MS" $TTFB_N
if [ -z "$RTT_HOW" ]; then
    out "skipped: %s.\n" "${RTT_WHY:-no server}"
    num ttfb_skipped 1
else
    for who in "${TTFB_CASES[@]}"; do
        [ $HAVE_OB = 0 ] && [ "${who#ossl}" != "$who" ] && continue
        NSX=()
        V[ttfb_${who}_lo]=$(ttfb_run $who "${SPORT[ec]}")
        [ $RTT_HOW = netem ] && NSX=(ip netns exec "$NS")
        V[ttfb_${who}_rtt]=$(ttfb_run $who "$DPORT")
        NSX=()
        V[ttfb_${who}_trips]=$(awk -v a="${V[ttfb_${who}_rtt]}" -v b="${V[ttfb_${who}_lo]}" -v r="$RTT_MS" \
            'BEGIN { if (a == "" || b == "") printf "-"; else printf "%.2f", (a - b) / r }')
        for m in lo rtt trips; do num "ttfb_${who}_$m" "${V[ttfb_${who}_$m]}"; done
    done
    num ttfb_rtt_ms "$RTT_MS"
    num ttfb_netem "$([ $RTT_HOW = netem ] && echo 1 || echo 0)"
    if [ $RTT_HOW = netem ]; then
        out "Delay: \`tc qdisc add dev lo root netem delay %sms\` on the loopback of a network namespace made for this run " "$HALF"
        out "(client and s_server inside it, 127.0.0.1), so every packet waits %s ms and a round trip takes %s ms: " "$HALF" "$RTT_MS"
        out "the TCP handshake costs one round trip too. "
        out "Expected: TLS 1.3 about 3 round trips (TCP, ClientHello to server Finished, client Finished + request to response), TLS 1.2 about 4.\n\n"
    else
        out "Delay: \`tests/bench/delayrelay\` between client and s_server on 127.0.0.1, holding every byte %s ms in each direction " "$HALF"
        out "(netem was not available: %s). The relay accepts the client's TCP connection at once, so connect() costs no round trip here: " "$RTT_WHY"
        out "TLS 1.3 should take about 2 round trips (ClientHello to server Finished; client Finished + request to response), "
        out "TLS 1.2 about 3 (no False Start in BearSSL or, by default, in OpenSSL).\n\n"
    fi
    out "Round trips = (TTFB with the delay - TTFB on plain loopback) / %s ms: the CPU time cancels out.\n\n" "$RTT_MS"
    out "| client | protocol | plain loopback, ms | RTT %s ms, ms | round trips |\n|---|---|---:|---:|---:|\n" "$RTT_MS"
    for who in "${TTFB_CASES[@]}"; do
        label=$([ ${who#lib} != $who ] && echo library || echo "OpenSSL (libssl)")
        out "| %s | TLS 1.%s | %s | %s | %s |\n" "$label" "${who: -1}" "${V[ttfb_${who}_lo]:--}" "${V[ttfb_${who}_rtt]:--}" "${V[ttfb_${who}_trips]:--}"
    done
    for pair in lib13:lib12:"library TLS 1.3 / TLS 1.2" ossl13:ossl12:"OpenSSL TLS 1.3 / TLS 1.2" \
                lib13:ossl13:"library TLS 1.3 / OpenSSL TLS 1.3"; do
        a=${pair%%:*}; rest=${pair#*:}; b=${rest%%:*}; label=${rest#*:}
        out "| %s (lower is better) | | %s | %s | %s |\n" "$label" "$(ratio "${V[ttfb_${a}_lo]:-}" "${V[ttfb_${b}_lo]:-}")" \
            "$(ratio "${V[ttfb_${a}_rtt]:-}" "${V[ttfb_${b}_rtt]:-}")" "$(ratio "${V[ttfb_${a}_trips]:-}" "${V[ttfb_${b}_trips]:-}")"
    done
    [ -s ttfb.err ] && { echo "vs_tls13: client errors (ttfb):"; head -5 ttfb.err; } >&2
fi
out "\n"

# ---- the servers must still be alive --------------------------------------------------
for s in ec rsa; do
    kill -0 "${SPID[$s]}" 2> /dev/null || fail "s_server $s died"
done
awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN { printf "vs_tls13: %.1f s\n", b - a }'
exit $STATUS
