#!/usr/bin/env bash
# test_lua_examples.sh - the Lua example scripts against real peers on loopback.
#
#   examples/imaps_client.lua   against dovecot (IMAPS, static passdb), started
#                               here unprivileged from a private config file
#   examples/smtp_starttls.lua  against build/tls_server --starttls and a small
#                               Python SMTP server (STARTTLS, then real replies)
#   examples/echo_server.lua    with openssl s_client clients, several at once,
#                               and a Python client pushing 400 KB through it
#   examples/chat_client.lua    against build/tls_server (a line-echo server),
#                               lines from the command line and from stdin
#
# Scripts run in build/luahost, some also in lua5.4 with build/sslsocket.so.
# It builds those first (make, quietly).  Every peer listens on an ephemeral
# port, learnt from the peer's own output or from /proc/net/tcp, never by
# sleeping.  Certificates are made here with the openssl CLI.
#
# Output: "[ OK   ] name" or "[ FAIL ] name  why" per test, then
# "N passed, N failed"; the exit status is non-zero when anything failed.
# Test names on the command line select tests (substring match);
# KEEP_FIXTURES=1 keeps the temporary directory.

set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${BIN:-$ROOT/build}
EX=$ROOT/examples
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
SELECT=("$@")
T=$(mktemp -d "${TMPDIR:-/tmp}/sslsocket-luaex-XXXXXX") || exit 1
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

make -s -C "$ROOT" --no-print-directory "$BIN/luahost" "$BIN/sslsocket.so" "$BIN/tls_server" \
    >"$T/make.log" 2>&1 || { cat "$T/make.log"; echo "build failed"; exit 1; }
LUAHOST=${LUAHOST:-$BIN/luahost} # LUAHOST=build/luahost-asan: the binding under ASan
export LUA_CPATH="$BIN/?.so;;" # for the runs under plain lua5.4

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
    (cd "$T" && exec "$@") >"$T/$name.log" 2>&1 </dev/null &
    LAST_PID=$!
    PIDS="$PIDS $LAST_PID"
}
stop() { kill "$1" 2>/dev/null; wait "$1" 2>/dev/null; }

# port_in LOG SED-EXPR: wait until the peer logs its port, print it.
port_in() {
    wait_until 10 sh -c "sed -n '$2' '$1' | grep -q ." || return 1
    sed -n "$2" "$1" | head -n 1
}

# listening PORT: something listens on TCP PORT (checked without connecting).
listening() {
    grep -qiE "^ *[0-9]+: [0-9A-F]+:$(printf '%04X' "$1") [0-9A-F]+:0000 0A " \
        /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

free_port() {
    "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# tls_server NAME ARGS...: the C example server, ephemeral port -> $PORT.
tls_server() {
    local name=$1
    shift
    start "$name" "$BIN/tls_server" --cert server.pem --key server.key --address 127.0.0.1 \
        --port 0 "$@"
    SERVER_PID=$LAST_PID
    PORT=$(port_in "$T/$name.log" 's/^listening on 127.0.0.1:\([0-9]*\)$/\1/p')
}

# script NAME RUNNER SCRIPT ARGS...: run an example to completion (20 s at
# most) in $T with RUNNER "luahost" (build/luahost) or "lua5.4"; stdout in
# $T/NAME.out, stderr in $T/NAME.err, exit status in $RC.
script() {
    local name=$1 runner=$2 file=$3
    shift 3
    [ "$runner" = luahost ] && runner=$LUAHOST
    (cd "$T" && exec timeout 20 "$runner" "$EX/$file" "$@") >"$T/$name.out" 2>"$T/$name.err" \
        </dev/null
    RC=$?
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
     cd "$T" && exec timeout 20 "$@") <"$T/$name.in" >"$T/$name.out" 2>"$T/$name.err" &
    CPID[$name]=$!
}
send() { printf '%s\n' "$2" >&"${CFD[$1]}"; }
close_client() {
    eval "exec ${CFD[$1]}>&-"
    unset "CFD[$1]"
    wait "${CPID[$1]}"
    RC=$?
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
    WHY="${WHY:+$WHY; }expected '$2' in $(basename "$1"), got: $(head -c 400 "$1" | tr '\n' '|')"
    return 1
}
hasnt() {
    grep -qF -- "$2" "$1" || return 0
    WHY="${WHY:+$WHY; }did not expect '$2' in $(basename "$1")"
    return 1
}
status() { # status WANT: $RC is WANT ("0" or "nonzero"; a timeout is neither)
    if [ "$1" = 0 ] && [ "$RC" = 0 ]; then return 0; fi
    if [ "$1" = nonzero ] && [ "$RC" != 0 ] && [ "$RC" != 124 ]; then return 0; fi
    WHY="${WHY:+$WHY; }exit status $RC, wanted $1; stderr: $(head -c 300 "$T/$2.err" 2>/dev/null | tr '\n' '|')"
    return 1
}

# ---------------------------------------------------------------- fixtures

fixtures() (
    cd "$T" || exit 1
    ec() { openssl ecparam -name prime256v1 -genkey -noout -out "$1"; }
    ec ca.key && ec server.key &&
        openssl req -x509 -new -key ca.key -sha256 -days 30 -subj '/CN=lua examples test CA' \
            -addext basicConstraints=critical,CA:TRUE \
            -addext keyUsage=critical,keyCertSign,cRLSign -out ca.pem &&
        openssl req -new -key server.key -subj '/CN=localhost' -out server.csr &&
        printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' \
            >server.ext &&
        openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 30 \
            -sha256 -extfile server.ext -out server.pem &&
        openssl genrsa -out rsa.key 2048 &&
        openssl req -new -key rsa.key -subj '/CN=localhost' -out rsa.csr &&
        openssl x509 -req -in rsa.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 30 \
            -sha256 -extfile server.ext -out rsa.pem &&
        head -c 300000 /dev/urandom | base64 >bulk.txt &&
        head -c 200000 /dev/urandom | base64 -w 100 >lines.txt
) >"$T/fixtures.log" 2>&1

# dovecot-imapd as an IMAPS server on 127.0.0.1:$IMAPS_PORT, user "user" with
# password "pass" (static passdb), everything inside $T/dovecot.  As root it
# runs as nobody (setpriv); otherwise as the running user.  Its login
# service is not chrooted, so it needs no privilege (shared/TEST-PEERS.md).
DOVECOT_PID=""
dovecot_start() {
    local d=$T/dovecot user group uid gid
    [ -n "$DOVECOT_PID" ] && return 0
    command -v dovecot >/dev/null || { WHY="dovecot is not installed (make deps)"; return 1; }
    if [ "$(id -u)" = 0 ]; then
        user=nobody uid=$(id -u nobody) gid=$(id -g nobody) group=$(id -gn nobody)
    else
        user=$(id -un) uid=$(id -u) gid=$(id -g) group=$(id -gn)
    fi
    mkdir -p "$d/run" "$d/state" "$d/mail" "$d/home" &&
        cp "$T/server.pem" "$d/cert.pem" && cp "$T/server.key" "$d/key.pem" &&
        openssl genpkey -genparam -algorithm DH -pkeyopt group:ffdhe2048 -out "$d/dh.pem" \
            2>/dev/null || { WHY="dovecot fixture"; return 1; }
    IMAPS_PORT=$(free_port)
    cat >"$d/dovecot.conf" <<EOF
protocols = imap
listen = 127.0.0.1
base_dir = $d/run
state_dir = $d/state
log_path = $d/dovecot.log
ssl = required
ssl_cert = <$d/cert.pem
ssl_key = <$d/key.pem
ssl_dh = <$d/dh.pem
ssl_min_protocol = TLSv1.2
disable_plaintext_auth = yes
auth_mechanisms = plain login
auth_failure_delay = 0
default_internal_user = $user
default_internal_group = $group
default_login_user = $user
first_valid_uid = $uid
last_valid_uid = $uid
first_valid_gid = $gid
last_valid_gid = $gid
mail_location = maildir:$d/mail/%u
passdb {
  driver = static
  args = password=pass
}
userdb {
  driver = static
  args = uid=$uid gid=$gid home=$d/home/%u
}
service imap-login {
  chroot =
  inet_listener imap {
    port = 0
  }
  inet_listener imaps {
    port = $IMAPS_PORT
    ssl = yes
  }
}
service anvil {
  chroot =
}
EOF
    if [ "$(id -u)" = 0 ]; then
        chmod 0711 "$T" && chown -R "$uid:$gid" "$d" || { WHY="chown"; return 1; }
        start dovecot setpriv --reuid="$uid" --regid="$gid" --clear-groups \
            dovecot -F -c "$d/dovecot.conf"
    else
        start dovecot dovecot -F -c "$d/dovecot.conf"
    fi
    DOVECOT_PID=$LAST_PID
    wait_until 10 listening "$IMAPS_PORT" && return 0
    WHY="dovecot did not start: $(cat "$T/dovecot.log" "$d/dovecot.log" 2>/dev/null | tail -n 5 | tr '\n' '|')"
    return 1
}

# A one-client SMTP server in Python.  "starttls": greets, offers STARTTLS,
# switches to TLS on it, then answers EHLO (250) and QUIT (221) like a real
# one.  "plain": offers no STARTTLS and refuses it (454).
cat >"$T/smtpd.py" <<'EOF'
import os, socket, ssl, sys
mode, cert, key, portfile = sys.argv[1:5]
ls = socket.socket()
ls.bind(("127.0.0.1", 0))
ls.listen(1)
ls.settimeout(20)
with open(portfile + ".tmp", "w") as f:
    f.write("%d\n" % ls.getsockname()[1])
os.rename(portfile + ".tmp", portfile)
c, _ = ls.accept()
c.settimeout(10)
c.sendall(b"220 smtpd.py ESMTP ready\r\n")
f = c.makefile("rb")
tls = None
while True:
    line = f.readline()
    if not line:
        break
    cmd = line.strip().upper()
    if cmd.startswith(b"EHLO"):
        if tls:
            tls.sendall(b"250-smtpd.py hello, encrypted\r\n250-AUTH PLAIN\r\n250 8BITMIME\r\n")
        elif mode == "starttls":
            c.sendall(b"250-smtpd.py hello\r\n250-SIZE 1000000\r\n250 STARTTLS\r\n")
        else:
            c.sendall(b"250-smtpd.py hello\r\n250 SIZE 1000000\r\n")
    elif cmd == b"STARTTLS" and not tls and mode == "starttls":
        c.sendall(b"220 2.0.0 go ahead\r\n")
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        tls = ctx.wrap_socket(c, server_side=True)
        f = tls.makefile("rb")
    elif cmd == b"QUIT":
        (tls or c).sendall(b"221 2.0.0 bye\r\n")
        if tls:
            try:
                tls.unwrap()
            except (OSError, ssl.SSLError):
                pass
        break
    else:
        (tls or c).sendall(b"454 4.7.0 TLS not available\r\n")
c.close()
EOF

# smtpd NAME MODE: start smtpd.py -> $PORT
smtpd() {
    start "$1" "$PY" "$T/smtpd.py" "$2" server.pem server.key "$T/$1.port"
    wait_until 10 test -s "$T/$1.port" || return 1
    PORT=$(cat "$T/$1.port")
}

# Pushes a file through a TLS echo server at full speed, reading while it
# writes, and says whether every byte came back unchanged.
cat >"$T/bulk.py" <<'EOF'
import selectors, socket, ssl, sys, time
port, path, ca = int(sys.argv[1]), sys.argv[2], sys.argv[3]
data = open(path, "rb").read()
ctx = ssl.create_default_context(cafile=ca)
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port)), server_hostname="localhost")
s.setblocking(False)
sel = selectors.DefaultSelector()
sel.register(s, selectors.EVENT_READ | selectors.EVENT_WRITE)
sent, got, last = 0, bytearray(), time.time()
while len(got) < len(data) and time.time() - last < 5:
    for _, ev in sel.select(1):
        try:
            if ev & selectors.EVENT_WRITE and sent < len(data):
                sent += s.send(data[sent:sent + 16384])
            if ev & selectors.EVENT_READ:
                d = s.recv(65536)
                if d:
                    got += d
                    last = time.time()
        except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
            pass
    if sent == len(data):
        sel.modify(s, selectors.EVENT_READ)
print("sent=%d received=%d same=%s" % (sent, len(got), bytes(got) == data))
try:
    s.setblocking(True)
    s.unwrap()
except (OSError, ssl.SSLError):
    pass
EOF

# ---------------------------------------------------------------- imaps_client.lua

t_imaps_login_select() {
    dovecot_start || return 1
    IMAP_CAFILE=ca.pem IMAP_PASSWORD=pass script imaps luahost imaps_client.lua \
        127.0.0.1 "$IMAPS_PORT" user
    status 0 imaps && has "$T/imaps.out" "S: * OK" && has "$T/imaps.out" 'C: a1 LOGIN "user" ****' &&
        has "$T/imaps.out" "S: a1 OK" && has "$T/imaps.out" "C: a2 SELECT INBOX" &&
        has "$T/imaps.out" "S: a2 OK [READ-WRITE]" && has "$T/imaps.out" "C: a3 LOGOUT" &&
        has "$T/imaps.out" "S: a3 OK" && has "$T/imaps.err" "TLSv1.3" &&
        hasnt "$T/imaps.out" "pass"
}

t_imaps_wrong_password() {
    dovecot_start || return 1
    IMAP_CAFILE=ca.pem IMAP_PASSWORD=wrong script imaps_bad luahost imaps_client.lua \
        127.0.0.1 "$IMAPS_PORT" user
    status nonzero imaps_bad && has "$T/imaps_bad.out" "S: a1 NO" &&
        has "$T/imaps_bad.out" "C: a2 LOGOUT" && hasnt "$T/imaps_bad.out" "SELECT"
}

# No user: CAPABILITY and LOGOUT; environment only; plain lua5.4 + sslsocket.so.
t_imaps_capability_lua54() {
    dovecot_start || return 1
    IMAP_HOST=127.0.0.1 IMAP_PORT=$IMAPS_PORT IMAP_CAFILE=ca.pem \
        script imaps_cap lua5.4 imaps_client.lua
    status 0 imaps_cap && has "$T/imaps_cap.out" "C: a1 CAPABILITY" &&
        has "$T/imaps_cap.out" "S: * CAPABILITY IMAP4rev1" && has "$T/imaps_cap.out" "S: a2 OK"
}

# Without our CA the system store does not know dovecot's certificate.
t_imaps_untrusted() {
    dovecot_start || return 1
    SSL_CERT_FILE='' SSL_CERT_DIR='' script imaps_untrusted luahost imaps_client.lua \
        127.0.0.1 "$IMAPS_PORT"
    status nonzero imaps_untrusted &&
        has "$T/imaps_untrusted.err" "certificate verification failed" &&
        hasnt "$T/imaps_untrusted.out" "C: a1"
}

# ---------------------------------------------------------------- smtp_starttls.lua

t_smtp_starttls_tls_server() {
    tls_server smtp --starttls --once || { WHY="tls_server did not start"; return 1; }
    SMTP_CAFILE=ca.pem script smtp luahost smtp_starttls.lua localhost "$PORT"
    status 0 smtp && has "$T/smtp.out" "S: 220 ready" && has "$T/smtp.out" "C: EHLO localhost" &&
        has "$T/smtp.out" "S: 250 STARTTLS" && has "$T/smtp.out" "S: 220 go ahead" &&
        has "$T/smtp.out" "-- encrypted: TLSv1.2" && has "$T/smtp.out" "C: QUIT" &&
        [ "$(grep -c '^C: EHLO' "$T/smtp.out")" = 2 ] || { WHY="${WHY:-two EHLOs expected}"; return 1; }
    wait "$SERVER_PID" 2>/dev/null # --once: gone with its client
    has "$T/smtp.log" "TLSv1.2"
}

# A real SMTP dialogue after TLS (250 to EHLO, 221 to QUIT), in lua5.4.
t_smtp_starttls_python_lua54() {
    smtpd smtpd starttls || { WHY="smtpd.py did not start"; return 1; }
    SMTP_HOST=localhost SMTP_PORT=$PORT SMTP_CAFILE=ca.pem SMTP_HELO=client.example \
        script smtp_py lua5.4 smtp_starttls.lua
    status 0 smtp_py && has "$T/smtp_py.out" "C: EHLO client.example" &&
        has "$T/smtp_py.out" "S: 220 2.0.0 go ahead" &&
        has "$T/smtp_py.out" "S: 250-smtpd.py hello, encrypted" &&
        has "$T/smtp_py.out" "S: 221 2.0.0 bye" && hasnt "$T/smtp_py.out" "not an SMTP reply"
}

t_smtp_no_starttls() {
    smtpd smtpd_plain plain || { WHY="smtpd.py did not start"; return 1; }
    SMTP_CAFILE=ca.pem script smtp_plain luahost smtp_starttls.lua localhost "$PORT"
    status nonzero smtp_plain && has "$T/smtp_plain.err" "does not offer STARTTLS" &&
        hasnt "$T/smtp_plain.out" "C: STARTTLS"
}

# ---------------------------------------------------------------- echo_server.lua

# echo_server NAME ARGS...: the Lua echo server, ephemeral port -> $PORT.
echo_server() {
    local name=$1
    shift
    start "$name" env "$@" "$LUAHOST" "$EX/echo_server.lua" server.pem server.key 0
    ECHO_PID=$LAST_PID
    PORT=$(port_in "$T/$name.log" 's/^listening on 127.0.0.1:\([0-9]*\)$/\1/p')
}

# Three openssl s_client at once, each waiting for its own echo before the
# next line; the server ends after the third client (ECHO_CLIENTS=3).
t_echo_server_s_clients() {
    local i
    echo_server echo ECHO_CLIENTS=3 || { WHY="echo_server.lua did not start: $(cat "$T/echo.log")"; return 1; }
    for i in 1 2 3; do
        open_client "sc$i" openssl s_client -connect "127.0.0.1:$PORT" -CAfile ca.pem \
            -verify_return_error -servername localhost -quiet -no_ign_eof
    done
    for i in 1 2 3; do send "sc$i" "hello $i from s_client"; done
    for i in 1 2 3; do
        wait_until 10 grep -qx "hello $i from s_client" "$T/sc$i.out" || { WHY="no echo for client $i"; }
        send "sc$i" "second line $i"
    done
    for i in 1 2 3; do
        wait_until 10 grep -qx "second line $i" "$T/sc$i.out" || { WHY="no second echo for client $i"; }
        close_client "sc$i"
    done
    [ -z "$WHY" ] || return 1
    # every client gone: the script closes its server and returns by itself
    wait_until 10 sh -c "! kill -0 $ECHO_PID 2>/dev/null" || { WHY="echo_server did not end"; return 1; }
    has "$T/echo.log" "client 3: TLSv1.2" && has "$T/echo.log" "asked for localhost" &&
        [ "$(grep -c 'disconnected after' "$T/echo.log")" = 3 ] ||
        { WHY="${WHY:-expected 3 disconnects in echo.log}"; return 1; }
}

# 400 KB at full speed in both directions: the backpressure path (write
# queue full -> stop reading -> bytes_written -> go on); an RSA key.
t_echo_server_bulk() {
    start echo_bulk env ECHO_CLIENTS=1 "$LUAHOST" "$EX/echo_server.lua" rsa.pem rsa.key 0
    ECHO_PID=$LAST_PID
    PORT=$(port_in "$T/echo_bulk.log" 's/^listening on 127.0.0.1:\([0-9]*\)$/\1/p') ||
        { WHY="echo_server.lua did not start: $(cat "$T/echo_bulk.log")"; return 1; }
    (cd "$T" && timeout 20 "$PY" bulk.py "$PORT" bulk.txt ca.pem) >"$T/bulk.out" 2>&1
    has "$T/bulk.out" "same=True" &&
        wait_until 10 grep -q "client 1: disconnected after $(stat -c %s "$T/bulk.txt") bytes" \
            "$T/echo_bulk.log" || { WHY="${WHY:-server log: $(tr '\n' '|' <"$T/echo_bulk.log")}"; return 1; }
}

t_echo_server_bad_key() {
    script echo_badkey luahost echo_server.lua server.pem rsa.key 0
    status nonzero echo_badkey && has "$T/echo_badkey.err" "private_key"
}

# ---------------------------------------------------------------- chat_client.lua

t_chat_args() {
    tls_server chat --once || { WHY="tls_server did not start"; return 1; }
    CHAT_CAFILE=ca.pem script chat luahost chat_client.lua localhost "$PORT" "one line" \
        "another line"
    status 0 chat && has "$T/chat.out" "one line" && has "$T/chat.out" "another line" &&
        has "$T/chat.err" "TLSv1.2" && has "$T/chat.err" "-- disconnected"
}

# stdin is read inside the loop: the second line is typed only after the
# first one's echo was printed, then stdin ends and the client leaves.
t_chat_stdin() {
    tls_server chat2 --once || { WHY="tls_server did not start"; return 1; }
    open_client chat2c env CHAT_CAFILE=ca.pem "$LUAHOST" "$EX/chat_client.lua" localhost "$PORT"
    send chat2c "typed first"
    wait_until 10 grep -qx "typed first" "$T/chat2c.out" || WHY="first line not echoed"
    send chat2c "typed second"
    wait_until 10 grep -qx "typed second" "$T/chat2c.out" || WHY="second line not echoed"
    close_client chat2c
    [ -z "$WHY" ] && status 0 chat2c && has "$T/chat2c.err" "-- disconnected"
}

# 270 KB of lines piped in: more than the socket's write queue takes at
# once, so lines wait in the script until bytes_written; all come back.
t_chat_stdin_bulk() {
    tls_server chat3 --once || { WHY="tls_server did not start"; return 1; }
    (cd "$T" && CHAT_CAFILE=ca.pem timeout 20 "$LUAHOST" "$EX/chat_client.lua" localhost "$PORT") \
        <"$T/lines.txt" >"$T/chat3.out" 2>"$T/chat3.err"
    RC=$?
    status 0 chat3 && { cmp -s "$T/lines.txt" "$T/chat3.out" ||
        { WHY="echo differs: $(wc -c <"$T/chat3.out") of $(wc -c <"$T/lines.txt") bytes"; false; }; }
}

t_chat_refused() {
    local port
    port=$(free_port)
    script chat_refused luahost chat_client.lua 127.0.0.1 "$port" hello
    status nonzero chat_refused && has "$T/chat_refused.err" "refused"
}

# ---------------------------------------------------------------- main

fixtures || { cat "$T/fixtures.log"; echo "fixtures failed"; exit 1; }
t0=$(date +%s)
for t in imaps_login_select imaps_wrong_password imaps_capability_lua54 imaps_untrusted \
    smtp_starttls_tls_server smtp_starttls_python_lua54 smtp_no_starttls \
    echo_server_s_clients echo_server_bulk echo_server_bad_key \
    chat_args chat_stdin chat_stdin_bulk chat_refused; do
    run "$t"
done
echo "($(($(date +%s) - t0)) s)"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
