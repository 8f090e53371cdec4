#!/usr/bin/env bash
# test_examples.sh - the example programs against real peers on loopback.
#
# Runs build/tls_client, build/tls_server and build/https_get (it builds
# nothing: `make test-examples` builds them first) against openssl s_server /
# s_client, gnutls-serv, curl and a small Python HTTPS server, with
# certificates made here by the openssl CLI in a temporary directory.  Every
# peer listens on an ephemeral port; the script learns the port from the
# peer's own output (or polls /proc/net/tcp), never by sleeping.
#
# Output: "[ OK   ] name" or "[ FAIL ] name  why" per test, then
# "N passed, N failed"; the exit status is non-zero when anything failed.
# Test names on the command line select tests (substring match);
# KEEP_FIXTURES=1 keeps the temporary directory.

set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${BIN:-$ROOT/build}
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
T=$(mktemp -d "${TMPDIR:-/tmp}/sslsocket-examples-XXXXXX") || exit 1
PIDS=""
declare -A CPID CFD
passed=0
failed=0

cleanup() {
    local p
    for p in $PIDS; do kill "$p" 2>/dev/null; done
    for p in $PIDS; do wait "$p" 2>/dev/null; done
    [ -n "${KEEP_FIXTURES:-}" ] && echo "fixtures kept in $T" || rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for b in tls_client tls_server https_get; do
    [ -x "$BIN/$b" ] || { echo "missing $BIN/$b (run: make test-examples)"; exit 1; }
done

# ---------------------------------------------------------------- helpers

# wait_until SECONDS CMD...: run CMD every 20 ms until it succeeds (0) or
# the time is up (1).  The sleep is a polling interval, not synchronisation.
wait_until() {
    local end=$(($(date +%s%N) / 1000000 + $1 * 1000))
    shift
    until "$@"; do
        [ $(($(date +%s%N) / 1000000)) -ge $end ] && return 1
        sleep 0.02
    done
}

# start NAME CMD...: run CMD in the background in $T, output to $T/NAME.log.
start() {
    local name=$1
    shift
    (cd "$T" && exec "$@") >"$T/$name.log" 2>&1 &
    LAST_PID=$!
    PIDS="$PIDS $LAST_PID"
}

stop() { kill "$1" 2>/dev/null; wait "$1" 2>/dev/null; }

# port_in LOG SED-EXPR: wait until the peer logs its port, print it.
port_in() {
    wait_until 10 sh -c "sed -n '$2' '$1' | grep -q ." || return 1
    sed -n "$2" "$1" | head -n 1
}

# s_server NAME ARGS...: openssl s_server on 127.0.0.1, ephemeral port -> $PORT.
s_server() {
    local name=$1
    shift
    start "$name" openssl s_server -accept 127.0.0.1:0 "$@"
    SPID=$LAST_PID
    PORT=$(port_in "$T/$name.log" 's/^ACCEPT 127.0.0.1:\([0-9]*\).*/\1/p')
}

# tls_server NAME ARGS...: the example server, ephemeral port -> $PORT.
tls_server() {
    local name=$1
    shift
    start "$name" "$BIN/tls_server" --address 127.0.0.1 --port 0 "$@"
    SERVER_PID=$LAST_PID
    PORT=$(port_in "$T/$name.log" 's/^listening on 127.0.0.1:\([0-9]*\)$/\1/p')
}

# listening PORT: something listens on TCP PORT (checked without connecting).
listening() {
    grep -qiE "^ *[0-9]+: [0-9A-F]+:$(printf '%04X' "$1") [0-9A-F]+:0000 0A " \
        /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

free_port() {
    "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# A client with a pipe on its stdin that stays open until close_client:
#   open_client NAME CMD...   start; stdout in $T/NAME.out, stderr in $T/NAME.err
#   send NAME LINE            write LINE and a newline to its stdin
#   close_client NAME         end its input, wait for it; exit status in $RC
open_client() {
    local name=$1 fd
    shift
    mkfifo "$T/$name.in"
    exec {fd}<>"$T/$name.in"
    CFD[$name]=$fd
    # the child keeps no write end of any client's pipe, or that one never sees EOF
    (for fd in "${CFD[@]}"; do eval "exec $fd>&-"; done
     cd "$T" && exec timeout 15 "$@") <"$T/$name.in" >"$T/$name.out" 2>"$T/$name.err" &
    CPID[$name]=$!
}
send() { printf '%s\n' "$2" >&"${CFD[$1]}"; }
close_client() {
    eval "exec ${CFD[$1]}>&-"
    unset "CFD[$1]"
    wait "${CPID[$1]}"
    RC=$?
}
# talk NAME LINE EXPECT CMD...: send LINE, wait until EXPECT is on stdout, close.
talk() {
    local name=$1 line=$2 expect=$3
    shift 3
    open_client "$name" "$@"
    send "$name" "$line"
    wait_until 10 grep -qF -- "$expect" "$T/$name.out"
    close_client "$name"
}

# run NAME: call t_NAME; on failure the test sets WHY.
run() {
    local sel
    if [ ${#SELECT[@]} -gt 0 ]; then
        for sel in "${SELECT[@]}"; do [[ $1 == *"$sel"* ]] && break; sel=""; done
        [ -n "$sel" ] || return 0
    fi
    WHY=""
    if "t_$1"; then
        echo "[ OK   ] $1"
        passed=$((passed + 1))
    else
        echo "[ FAIL ] $1  ${WHY:-}"
        failed=$((failed + 1))
    fi
}
# has FILE TEXT: FILE contains the fixed string TEXT (else WHY says what it had).
has() {
    grep -qF -- "$2" "$1" && return 0
    WHY="expected '$2' in $(basename "$1"), got: $(head -c 300 "$1" | tr '\n' '|')"
    return 1
}
status() { # status WANT: $RC is WANT ("0" or "nonzero")
    if [ "$1" = 0 ] && [ "$RC" = 0 ]; then return 0; fi
    if [ "$1" = nonzero ] && [ "$RC" != 0 ] && [ "$RC" != 124 ]; then return 0; fi
    WHY="${WHY:+$WHY; }exit status $RC, wanted $1"
    return 1
}

# ---------------------------------------------------------------- fixtures

fixtures() {
    cd "$T" || return 1
    cat >ca.cnf <<'EOF'
[ ca ]
default_ca = tca
[ tca ]
dir = .
database = index.txt
serial = serial
new_certs_dir = .
certificate = ca.pem
private_key = ca.key
default_md = sha256
policy = anything
unique_subject = no
[ anything ]
commonName = supplied
[ server ]
subjectAltName = DNS:localhost,IP:127.0.0.1
extendedKeyUsage = serverAuth
basicConstraints = CA:FALSE
[ wronghost ]
subjectAltName = DNS:wrong.example
extendedKeyUsage = serverAuth
[ client ]
extendedKeyUsage = clientAuth
EOF
    : >index.txt
    echo 1000 >serial
    ec() { openssl ecparam -name prime256v1 -genkey -noout -out "$1"; }
    # sign NAME SECTION [CA-ARGS]: a certificate for key srv.key (or NAME.key)
    sign() {
        local key=srv.key
        [ -f "$1.key" ] && key=$1.key
        openssl req -new -key "$key" -subj "/CN=${CN:-localhost}" -out "$1.csr" &&
            openssl ca -batch -config ca.cnf -notext -extensions "$2" -in "$1.csr" \
                -out "$1.pem" "${@:3}"
    }
    ec ca.key && ec srv.key && ec client.key && ec ca2.key && ec ss.key &&
        openssl req -x509 -new -key ca.key -sha256 -days 3650 -subj '/CN=examples test CA' \
            -addext basicConstraints=critical,CA:TRUE \
            -addext keyUsage=critical,keyCertSign,cRLSign -out ca.pem &&
        sign server server -days 3650 &&
        sign expired server -startdate 20200101000000Z -enddate 20210101000000Z &&
        sign wronghost wronghost -days 3650 &&
        CN="example client" sign client client -days 3650 &&
        openssl req -x509 -new -key ca2.key -sha256 -days 3650 -subj '/CN=some other CA' \
            -addext basicConstraints=critical,CA:TRUE \
            -addext keyUsage=critical,keyCertSign,cRLSign -out ca2.pem &&
        openssl x509 -req -in server.csr -CA ca2.pem -CAkey ca2.key -CAcreateserial \
            -days 3650 -sha256 -extfile <(printf 'subjectAltName=DNS:localhost\n') \
            -out untrusted.pem &&
        openssl req -x509 -new -key ss.key -sha256 -days 3650 -subj '/CN=localhost' \
            -addext subjectAltName=DNS:localhost,IP:127.0.0.1 -out selfsigned.pem &&
        head -c 300000 /dev/urandom >data.bin &&
        printf 'hello, world\n' >small.txt
}

# An HTTPS server in Python: /chunked/F sends file F with chunked transfer
# coding (uneven chunks, a chunk extension, a trailer), /length/F with
# Content-Length, /cut/F the first half of F with neither and then closes
# TCP without close_notify (a truncation), anything else is a 404.
cat >"$T/httpd.py" <<'EOF'
import os, socket, ssl, sys
cert, key, portfile = sys.argv[1:4]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
ls = socket.socket()
ls.bind(("127.0.0.1", 0))
ls.listen(8)
ls.settimeout(60)
with open(portfile + ".tmp", "w") as f:
    f.write("%d\n" % ls.getsockname()[1])
os.rename(portfile + ".tmp", portfile)
while True:
    conn, _ = ls.accept()
    conn.settimeout(10)
    try:
        c = ctx.wrap_socket(conn, server_side=True)
        req = b""
        while b"\r\n\r\n" not in req:
            d = c.recv(4096)
            if not d:
                break
            req += d
        path = req.split(b" ")[1].decode()
        kind, _, name = path.lstrip("/").partition("/")
        body = open(name, "rb").read() if name and os.path.isfile(name) else None
        if kind == "chunked" and body is not None:
            c.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
                      b"Content-Type: application/octet-stream\r\n\r\n")
            pos, sizes = 0, [1, 10, 100, 4096, 5000, 16384, 70000]
            for i, n in enumerate(sizes + [len(body)]):
                part = body[pos:pos + n]
                if not part:
                    break
                ext = b";ext=1" if i == 2 else b""
                c.sendall(b"%x%s\r\n%s\r\n" % (len(part), ext, part))
                pos += len(part)
            c.sendall(b"0\r\nX-Trailer: done\r\n\r\n")
        elif kind == "cut" and body is not None:
            c.sendall(b"HTTP/1.1 200 OK\r\n\r\n" + body[:len(body) // 2])
            c.close()  # without unwrap(): no close_notify
            continue
        elif kind == "length" and body is not None:
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
        else:
            c.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 10\r\n\r\nnot found\n")
        try:
            c.unwrap()
        except (OSError, ssl.SSLError):
            pass
    except (OSError, ssl.SSLError, IndexError):
        pass
    conn.close()
EOF

# A mail server that turns every client away in its greeting.
cat >"$T/greeter.py" <<'EOF'
import os, socket, sys
ls = socket.socket()
ls.bind(("127.0.0.1", 0))
ls.listen(1)
ls.settimeout(20)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write("%d\n" % ls.getsockname()[1])
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
c, _ = ls.accept()
c.sendall(b"554 no service here\r\n")
c.recv(100)
EOF

# A one-client IMAP or POP3 server with STARTTLS: greets, answers the
# upgrade command (IMAP with an untagged line first), switches to TLS and
# echoes one line back as "echo: LINE".
cat >"$T/starttlsd.py" <<'EOF'
import os, socket, ssl, sys
proto, cert, key, portfile = sys.argv[1:5]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
ls = socket.socket()
ls.bind(("127.0.0.1", 0))
ls.listen(1)
ls.settimeout(20)
with open(portfile + ".tmp", "w") as f:
    f.write("%d\n" % ls.getsockname()[1])
os.rename(portfile + ".tmp", portfile)
c, _ = ls.accept()
c.settimeout(10)
def line():  # byte by byte: what follows the command is the ClientHello
    b = b""
    while not b.endswith(b"\n"):
        d = c.recv(1)
        if not d:
            sys.exit("eof before the command")
        b += d
    return b
if proto == "imap":
    c.sendall(b"* OK [CAPABILITY IMAP4rev1 STARTTLS] ready\r\n")
    tag = line().split(b" ")[0]
    c.sendall(b"* CAPABILITY IMAP4rev1 STARTTLS\r\n" + tag + b" OK begin TLS now\r\n")
else:
    c.sendall(b"+OK POP3 ready\r\n")
    if line().strip().upper() != b"STLS":
        sys.exit("not STLS")
    c.sendall(b"+OK begin TLS now\r\n")
t = ctx.wrap_socket(c, server_side=True)
got = b""
while not got.endswith(b"\n"):
    d = t.recv(1000)
    if not d:
        break
    got += d
t.sendall(b"echo: " + got)
try:
    t.unwrap()
except (OSError, ssl.SSLError):
    pass
EOF

# ---------------------------------------------------------------- tls_client

CLIENT="$BIN/tls_client"

t_client_openssl_rev() {
    s_server rev -cert server.pem -key srv.key -rev || { WHY="s_server did not start"; return 1; }
    talk rev "hello world" "dlrow olleh" "$CLIENT" --cafile ca.pem localhost "$PORT"
    stop "$SPID"
    local fp
    fp=$(openssl x509 -in "$T/server.pem" -noout -fingerprint -sha256 | sed 's/.*=//')
    has "$T/rev.out" "dlrow olleh" && status 0 &&
        has "$T/rev.err" "protocol   TLSv1.2" && has "$T/rev.err" "subject    CN=localhost" &&
        has "$T/rev.err" "issuer     CN=examples test CA" &&
        has "$T/rev.err" "SANs       DNS:localhost, IP:127.0.0.1" &&
        has "$T/rev.err" "SHA-256    $fp" && has "$T/rev.err" "not after"
}

t_client_openssl_www() {
    s_server www -cert server.pem -key srv.key -www || { WHY="s_server did not start"; return 1; }
    # the server answers and closes: the client ends by itself
    open_client www "$CLIENT" --quiet --cafile ca.pem localhost "$PORT"
    send www $'GET / HTTP/1.0\r'
    send www $'\r'
    wait_until 10 grep -q "</HTML>" "$T/www.out"
    close_client www
    stop "$SPID"
    has "$T/www.out" "HTTP/1.0 200 ok" && status 0 && [ ! -s "$T/www.err" ] ||
        { WHY="${WHY:-stderr: $(cat "$T/www.err")}"; return 1; }
}

t_client_gnutls_echo() {
    local port
    port=$(free_port)
    start gnutls gnutls-serv --echo -p "$port" --x509certfile server.pem --x509keyfile srv.key
    wait_until 10 listening "$port" || { WHY="gnutls-serv did not listen"; return 1; }
    talk gnutls "echo through gnutls" "echo through gnutls" \
        "$CLIENT" --cafile ca.pem --alpn h2,http/1.1 127.0.0.1 "$port"
    stop "$LAST_PID"
    has "$T/gnutls.out" "echo through gnutls" && status 0 && has "$T/gnutls.err" "TLSv1.2"
}

t_client_alpn_and_versions() {
    s_server alpn -cert server.pem -key srv.key -rev -alpn http/1.1 -tls1_2 ||
        { WHY="s_server did not start"; return 1; }
    talk alpn "abc" "cba" "$CLIENT" --cafile ca.pem --alpn h2,http/1.1 \
        --min-version 1.1 --max-version 1.2 localhost "$PORT"
    stop "$SPID"
    status 0 && has "$T/alpn.err" "ALPN       http/1.1"
}

t_client_certificate() {
    s_server ccert -cert server.pem -key srv.key -rev -Verify 1 -CAfile ca.pem ||
        { WHY="s_server did not start"; return 1; }
    talk ccert "with a client cert" "trec tneilc a htiw" \
        "$CLIENT" --cafile ca.pem --cert client.pem --key client.key localhost "$PORT"
    stop "$SPID"
    status 0 && has "$T/ccert.log" "depth=0 CN = example client"
}

t_client_servername_by_address() {
    s_server sni -cert server.pem -key srv.key -rev || { WHY="s_server did not start"; return 1; }
    talk sni "by address" "sserdda yb" \
        "$CLIENT" --cafile ca.pem --servername localhost 127.0.0.1 "$PORT"
    stop "$SPID"
    status 0
}

# bad_cert NAME CERT KEY EXPECT [ARGS]: the handshake must fail for exactly this
# reason, and nothing may reach standard output.
bad_cert() {
    local name=$1 cert=$2 key=$3 expect=$4
    shift 4
    s_server "$name" -cert "$cert" -key "$key" -rev || { WHY="s_server did not start"; return 1; }
    (cd "$T" && timeout 15 "$CLIENT" "$@" localhost "$PORT") </dev/null \
        >"$T/$name.out" 2>"$T/$name.err"
    RC=$?
    stop "$SPID"
    status nonzero && has "$T/$name.err" "tls_client: TLS handshake failed: $expect" &&
        [ ! -s "$T/$name.out" ]
}
t_client_rejects_expired() {
    bad_cert expired expired.pem srv.key "certificate verification failed: certificate expired" \
        --cafile ca.pem
}
t_client_rejects_wrong_host() {
    bad_cert wrong wronghost.pem srv.key \
        "certificate verification failed: host name mismatch: expected localhost" --cafile ca.pem
}
t_client_rejects_untrusted() {
    bad_cert untrusted untrusted.pem srv.key \
        "certificate verification failed: certificate is not trusted (unknown issuer)" \
        --cafile ca.pem
}
t_client_rejects_self_signed() {
    bad_cert selfsigned selfsigned.pem ss.key \
        "certificate verification failed: certificate is not trusted (unknown issuer)" \
        --cafile ca.pem
}
t_client_rejects_self_signed_system_store() {
    bad_cert selfsys selfsigned.pem ss.key \
        "certificate verification failed: certificate is not trusted (unknown issuer)"
}
t_client_rejects_wrong_pin() {
    bad_cert wrongpin server.pem srv.key \
        "certificate verification failed: public key pin mismatch" --cafile ca.pem \
        --pin "sha256/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
}

t_client_insecure_self_signed() {
    s_server insecure -cert selfsigned.pem -key ss.key -rev ||
        { WHY="s_server did not start"; return 1; }
    talk insecure "no checks" "skcehc on" "$CLIENT" --insecure localhost "$PORT"
    stop "$SPID"
    status 0 && has "$T/insecure.err" "subject    CN=localhost"
}

t_client_pin_self_signed() {
    local pin
    pin=$(openssl x509 -in "$T/selfsigned.pem" -pubkey -noout | openssl pkey -pubin -outform der |
        openssl dgst -sha256 -binary | base64)
    s_server pin -cert selfsigned.pem -key ss.key -rev ||
        { WHY="s_server did not start"; return 1; }
    talk pin "pinned" "dennip" "$CLIENT" --pin "sha256/$pin" localhost "$PORT"
    stop "$SPID"
    status 0
}

t_client_refused() {
    local port
    port=$(free_port)
    (cd "$T" && timeout 15 "$CLIENT" 127.0.0.1 "$port") </dev/null \
        >"$T/refused.out" 2>"$T/refused.err"
    RC=$?
    status nonzero && has "$T/refused.err" "tls_client: connection refused"
}

t_client_host_not_found() {
    start dns "$PY" "$ROOT/tests/fakedns.py" nxdomain "$T/dns.port"
    wait_until 10 test -s "$T/dns.port" || { WHY="fakedns did not start"; return 1; }
    (cd "$T" && timeout 15 "$CLIENT" --nameserver "127.0.0.1:$(cat "$T/dns.port")" \
        nowhere.example 443) </dev/null >"$T/nx.out" 2>"$T/nx.err"
    RC=$?
    stop "$LAST_PID"
    status nonzero && has "$T/nx.err" "tls_client: host not found: nowhere.example"
}

t_client_resolves_name() {
    start dns2 "$PY" "$ROOT/tests/fakedns.py" answer "$T/dns2.port"
    wait_until 10 test -s "$T/dns2.port" || { WHY="fakedns did not start"; return 1; }
    s_server named -cert server.pem -key srv.key -rev || { WHY="s_server did not start"; return 1; }
    talk named "looked up" "pu dekool" "$CLIENT" --cafile ca.pem --servername localhost \
        --nameserver "127.0.0.1:$(cat "$T/dns2.port")" www.example.test "$PORT"
    stop "$SPID"
    status 0
}

t_client_starttls_smtp() {
    tls_server smtp --cert server.pem --key srv.key --starttls --once ||
        { WHY="tls_server did not start"; return 1; }
    talk smtpc "after starttls" "after starttls" \
        "$CLIENT" --cafile ca.pem --starttls smtp localhost "$PORT"
    wait "$SERVER_PID"
    local srv=$?
    status 0 && has "$T/smtpc.err" "< 220 go ahead" && has "$T/smtpc.err" "protocol   TLSv1.2" &&
        [ "$srv" = 0 ] || { WHY="${WHY:-server exit $srv}"; return 1; }
}

# starttls_py PROTO: tls_client --starttls PROTO against the Python server.
starttls_py() {
    start "std$1" "$PY" "$T/starttlsd.py" "$1" server.pem srv.key "$T/std$1.port"
    wait_until 10 test -s "$T/std$1.port" || { WHY="python server did not start"; return 1; }
    talk "st$1" "over $1" "echo: over $1" \
        "$CLIENT" --cafile ca.pem --starttls "$1" localhost "$(cat "$T/std$1.port")"
    stop "$LAST_PID"
    status 0 && has "$T/st$1.out" "echo: over $1" && has "$T/st$1.err" "protocol   TLSv1.2"
}
t_client_starttls_imap() { starttls_py imap; }
t_client_starttls_pop3() { starttls_py pop3; }

t_client_starttls_refused() {
    start greeter "$PY" "$T/greeter.py" "$T/greet.port"
    wait_until 10 test -s "$T/greet.port" || { WHY="greeter did not start"; return 1; }
    (cd "$T" && timeout 15 "$CLIENT" --starttls smtp localhost "$(cat "$T/greet.port")") \
        </dev/null >"$T/greet.out" 2>"$T/greet.err"
    RC=$?
    stop "$LAST_PID"
    status nonzero &&
        has "$T/greet.err" "tls_client: STARTTLS refused by the server: 554 no service here"
}

# ---------------------------------------------------------------- tls_server

S_CLIENT_ARGS="-CAfile ca.pem -verify_return_error -verify_hostname localhost -quiet -no_ign_eof"

t_server_openssl_client() {
    tls_server srv1 --cert server.pem --key srv.key --once ||
        { WHY="tls_server did not start"; return 1; }
    # shellcheck disable=SC2086
    talk sc1 "echo me" "echo me" openssl s_client -connect "127.0.0.1:$PORT" $S_CLIENT_ARGS
    wait "$SERVER_PID"
    local srv=$?
    status 0 && has "$T/sc1.out" "echo me" &&
        has "$T/srv1.log" "TLSv1.2" && has "$T/srv1.log" "close_notify received" &&
        [ "$srv" = 0 ] || { WHY="${WHY:-server exit $srv}"; return 1; }
}

t_server_openssl_starttls_smtp() {
    tls_server srv2 --cert server.pem --key srv.key --starttls --once ||
        { WHY="tls_server did not start"; return 1; }
    # shellcheck disable=SC2086
    talk sc2 "hello over smtp" "hello over smtp" \
        openssl s_client -connect "127.0.0.1:$PORT" -starttls smtp $S_CLIENT_ARGS
    wait "$SERVER_PID"
    status 0 && has "$T/sc2.out" "hello over smtp" && has "$T/srv2.log" "TLSv1.2" &&
        ! grep -q "discarded" "$T/srv2.log"
}

t_server_client_certificate() {
    tls_server srv3 --cert server.pem --key srv.key --cafile ca.pem --verify ||
        { WHY="tls_server did not start"; return 1; }
    # shellcheck disable=SC2086
    talk sc3 "certified" "certified" openssl s_client -connect "127.0.0.1:$PORT" \
        -cert client.pem -key client.key $S_CLIENT_ARGS
    status 0 && has "$T/sc3.out" "certified" &&
        has "$T/srv3.log" "client certificate: CN=example client" || return 1
    # without a certificate the server refuses the handshake
    # shellcheck disable=SC2086
    echo uncertified | (cd "$T" && timeout 15 openssl s_client -connect "127.0.0.1:$PORT" \
        $S_CLIENT_ARGS) >"$T/sc4.out" 2>&1
    RC=$?
    # (the server logs the failure on its next poll: wait for it, bounded)
    wait_until 10 grep -q "TLS handshake failed" "$T/srv3.log"
    stop "$SERVER_PID"
    status nonzero && has "$T/srv3.log" "TLS handshake failed"
}

t_server_many_clients() {
    local i
    tls_server srv4 --cert server.pem --key srv.key --max-clients 3 ||
        { WHY="tls_server did not start"; return 1; }
    for i in 1 2 3; do
        open_client "mc$i" "$CLIENT" --quiet --cafile ca.pem localhost "$PORT"
    done
    for i in 3 2 1; do send "mc$i" "line $i from client $i"; done
    for i in 1 2 3; do wait_until 10 grep -q "line $i from client $i" "$T/mc$i.out"; done
    for i in 1 2 3; do send "mc$i" "second line $i"; done
    for i in 1 2 3; do wait_until 10 grep -q "second line $i" "$T/mc$i.out"; done
    for i in 1 2 3; do
        close_client "mc$i"
        status 0 && has "$T/mc$i.out" "second line $i" || { stop "$SERVER_PID"; return 1; }
        grep -q "line [^$i]" "$T/mc$i.out" && { WHY="client $i got another's line"; return 1; }
    done
    stop "$SERVER_PID"
    [ "$(grep -c "disconnected" "$T/srv4.log")" = 3 ] || { WHY="$(cat "$T/srv4.log")"; return 1; }
}

# ---------------------------------------------------------------- https_get

GET="$BIN/https_get"

t_https_get_openssl_www() {
    s_server www2 -cert server.pem -key srv.key -WWW || { WHY="s_server did not start"; return 1; }
    (cd "$T" && timeout 15 "$GET" --cafile ca.pem "https://localhost:$PORT/data.bin") \
        >"$T/get1.out" 2>"$T/get1.err"
    RC=$?
    status 0 && cmp -s "$T/data.bin" "$T/get1.out" || { WHY="${WHY:-bytes differ}"; return 1; }
    # cross-check: curl fetches the same file from the same server
    curl -sS --cacert "$T/ca.pem" --resolve "localhost:$PORT:127.0.0.1" \
        "https://localhost:$PORT/data.bin" -o "$T/curl.out" 2>"$T/curl.err" &&
        cmp -s "$T/curl.out" "$T/get1.out" || { WHY="curl: $(cat "$T/curl.err")"; return 1; }
}

start_httpd() {
    [ -n "${HTTPD_PORT:-}" ] && return 0
    start httpd "$PY" "$T/httpd.py" server.pem srv.key "$T/httpd.port"
    wait_until 10 test -s "$T/httpd.port" || return 1
    HTTPD_PORT=$(cat "$T/httpd.port")
}

t_https_get_chunked() {
    start_httpd || { WHY="python server did not start"; return 1; }
    (cd "$T" &&
        timeout 15 "$GET" --cafile ca.pem "https://localhost:$HTTPD_PORT/chunked/data.bin") \
        >"$T/get2.out" 2>"$T/get2.err"
    RC=$?
    status 0 && cmp -s "$T/data.bin" "$T/get2.out" || { WHY="${WHY:-bytes differ}"; return 1; }
}

t_https_get_content_length() {
    start_httpd || { WHY="python server did not start"; return 1; }
    (cd "$T" &&
        timeout 15 "$GET" --cafile ca.pem "https://127.0.0.1:$HTTPD_PORT/length/small.txt") \
        >"$T/get3.out" 2>"$T/get3.err"
    RC=$?
    status 0 && cmp -s "$T/small.txt" "$T/get3.out" || { WHY="${WHY:-bytes differ}"; return 1; }
}

t_https_get_truncated() {
    start_httpd || { WHY="python server did not start"; return 1; }
    (cd "$T" && timeout 15 "$GET" --cafile ca.pem "https://localhost:$HTTPD_PORT/cut/data.bin") \
        >"$T/get7.out" 2>"$T/get7.err"
    RC=$?
    status nonzero && has "$T/get7.err" "https_get: response truncated"
}

t_client_reports_truncation() {
    start_httpd || { WHY="python server did not start"; return 1; }
    open_client trunc "$CLIENT" --quiet --cafile ca.pem localhost "$HTTPD_PORT"
    send trunc $'GET /cut/small.txt HTTP/1.0\r\n\r'
    wait_until 10 grep -q "truncated" "$T/trunc.err" # the server closes first
    close_client trunc
    status nonzero && has "$T/trunc.out" "hello" &&
        has "$T/trunc.err" "tls_client: connection truncated: the peer closed TCP without"
}

t_https_get_404() {
    start_httpd || { WHY="python server did not start"; return 1; }
    (cd "$T" && timeout 15 "$GET" --cafile ca.pem "https://localhost:$HTTPD_PORT/nothing") \
        >"$T/get4.out" 2>"$T/get4.err"
    RC=$?
    status nonzero && has "$T/get4.err" "https_get: HTTP status 404"
}

t_https_get_untrusted() {
    start_httpd || { WHY="python server did not start"; return 1; }
    (cd "$T" && timeout 15 "$GET" "https://localhost:$HTTPD_PORT/length/small.txt") \
        >"$T/get5.out" 2>"$T/get5.err"
    RC=$?
    status nonzero && has "$T/get5.err" "not trusted" && [ ! -s "$T/get5.out" ]
}

t_https_get_insecure() {
    start_httpd || { WHY="python server did not start"; return 1; }
    (cd "$T" && timeout 15 "$GET" --insecure "https://localhost:$HTTPD_PORT/length/small.txt") \
        >"$T/get6.out" 2>"$T/get6.err"
    RC=$?
    status 0 && cmp -s "$T/small.txt" "$T/get6.out" || { WHY="${WHY:-bytes differ}"; return 1; }
}

# ---------------------------------------------------------------- main

SELECT=("$@")
fixtures >"$T/fixtures.log" 2>&1 || { cat "$T/fixtures.log"; echo "fixtures failed"; exit 1; }
cd "$T" || exit 1
for t in client_openssl_rev client_openssl_www client_gnutls_echo client_alpn_and_versions \
    client_certificate client_servername_by_address client_rejects_expired \
    client_rejects_wrong_host client_rejects_untrusted client_rejects_self_signed \
    client_rejects_self_signed_system_store client_rejects_wrong_pin \
    client_insecure_self_signed client_pin_self_signed client_refused client_host_not_found \
    client_resolves_name client_starttls_smtp client_starttls_imap client_starttls_pop3 \
    client_starttls_refused \
    server_openssl_client server_openssl_starttls_smtp server_client_certificate \
    server_many_clients https_get_openssl_www https_get_chunked https_get_content_length \
    https_get_truncated client_reports_truncation https_get_404 https_get_untrusted \
    https_get_insecure; do
    run "$t"
done
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
