#!/bin/sh
# gen_corpus.sh - how the committed fuzz seeds under tests/fuzz/corpus/ were made.
#
#   tests/fuzz/gen_corpus.sh          rebuild every seed from the keys in fuzz_keys.h
#   tests/fuzz/gen_corpus.sh keys     first make new keys and certificates into
#                                     fuzz_keys.h (every handshake seed changes)
#
# Handshake seeds are whole conversations, not just first flights: the
# harnesses replace getrandom() with a deterministic stream (fuzz_common.h),
# so a client or server built from the same flags produces the same randoms
# and ECDHE keys at recording time and at fuzzing time, and the recorded
# peer's bytes (signatures, Finished, application data) stay valid.
#   fuzz_client  server -> client bytes: from the library's own server over
#                the in-memory pipe (ECDSA chain and RSA identities, client
#                certificates, ALPN, resumption), from openssl s_server and
#                gnutls-serv over loopback TCP (recorder client-tcp)
#   fuzz_server  client -> server bytes: from the library's client over the
#                pipe, and from openssl s_client and gnutls-cli over loopback
#                TCP (recorder server-tcp)
#   fuzz_certs   the PEM/DER/PKCS#8/SEC1 forms of the certificates and keys
#   fuzz_dns     DNS responses made by the python3 block below
#   fuzz_lines   text with assorted line endings (header byte = options)
# Needs: gcc, libbearssl-dev, openssl, python3; gnutls-bin is optional.
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
CORPUS="$HERE/corpus"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/sslsocket-fuzz-XXXXXX")
PIDS=""
cleanup() {
    for p in $PIDS; do kill "$p" 2>/dev/null || true; done
    rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

# ---------------------------------------------------------------- keys
make_keys() {
    k="$TMP/newkeys"
    mkdir -p "$k"
    (
        cd "$k"
        days=36500
        openssl ecparam -name prime256v1 -genkey -noout -out ca.key
        openssl req -x509 -new -key ca.key -sha256 -days $days -subj '/CN=sslsocket fuzz CA/O=sslsocket' \
            -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
            -out ca.pem
        # intermediate CA under the root; the EC server chain goes through it
        printf 'basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\n' > int.ext
        openssl ecparam -name prime256v1 -genkey -noout -out int.key
        openssl req -new -key int.key -subj '/CN=sslsocket fuzz intermediate/O=sslsocket' -out int.csr
        openssl x509 -req -in int.csr -CA ca.pem -CAkey ca.key -set_serial 2 -days $days -sha256 \
            -extfile int.ext -out int.pem
        printf 'subjectAltName=DNS:localhost,DNS:*.fuzz.test,IP:127.0.0.1,IP:::1\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature\nbasicConstraints=CA:FALSE\n' > ec.ext
        openssl ecparam -name prime256v1 -genkey -noout -out ec.key
        openssl req -new -key ec.key -subj '/CN=localhost/O=sslsocket fuzz' -out ec.csr
        openssl x509 -req -in ec.csr -CA int.pem -CAkey int.key -set_serial 3 -days $days -sha256 \
            -extfile ec.ext -out ec.pem
        printf 'subjectAltName=DNS:rsa.example.net,DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n' > rsa.ext
        openssl genrsa -out rsa.key 2048
        openssl req -new -key rsa.key -subj '/CN=rsa.example.net' -out rsa.csr
        openssl x509 -req -in rsa.csr -CA ca.pem -CAkey ca.key -set_serial 4 -days $days -sha256 \
            -extfile rsa.ext -out rsa.pem
        printf 'extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\n' > client.ext
        openssl ecparam -name prime256v1 -genkey -noout -out client.key
        openssl req -new -key client.key -subj '/CN=fuzz client' -out client.csr
        openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -set_serial 5 -days $days -sha256 \
            -extfile client.ext -out client.pem
    )
    # the certificates were made now: the harnesses check them at this time
    now=$(date +%s)
    python3 - "$k" "$HERE/fuzz_keys.h" "$now" <<'EOF'
import sys
k, out, now = sys.argv[1], sys.argv[2], int(sys.argv[3])
def lit(name):
    lines = open(f"{k}/{name}").read().splitlines()
    return " \\\n".join(f'    "{l}\\n"' for l in lines)
items = [("FUZZ_CA_PEM", "ca.pem", "root CA (EC P-256)"),
         ("FUZZ_EC_CHAIN_PEM", None, "EC server chain: leaf (localhost, *.fuzz.test, 127.0.0.1, ::1) + intermediate"),
         ("FUZZ_EC_KEY_PEM", "ec.key", "its key (SEC1)"),
         ("FUZZ_RSA_PEM", "rsa.pem", "RSA-2048 server certificate (rsa.example.net, localhost, 127.0.0.1), from the root"),
         ("FUZZ_RSA_KEY_PEM", "rsa.key", "its key (PKCS#8)"),
         ("FUZZ_CLIENT_PEM", "client.pem", "client certificate (clientAuth), from the root"),
         ("FUZZ_CLIENT_KEY_PEM", "client.key", "its key (SEC1)")]
with open(out, "w") as f:
    f.write("/* fuzz_keys.h - keys and certificates of the fuzz harnesses and the recorder.\n"
            " * Made by tests/fuzz/gen_corpus.sh keys; the handshake seeds depend on them. */\n"
            "#ifndef FUZZ_KEYS_H\n#define FUZZ_KEYS_H\n\n"
            "/* Unix time at which the certificates are checked (they were made then). */\n"
            f"#define FUZZ_TIME {now + 3600}\n\n")
    for macro, name, what in items:
        f.write(f"/* {what} */\n#define {macro} \\\n")
        if name is None:
            f.write(lit("ec.pem") + " \\\n" + lit("int.pem") + "\n\n")
        else:
            f.write(lit(name) + "\n\n")
    f.write("#endif\n")
EOF
    echo "wrote $HERE/fuzz_keys.h"
}

if [ "${1:-}" = keys ]; then
    make_keys
fi

# ---------------------------------------------------------------- recorder
CC=${CC:-gcc}
$CC -std=c99 -D_GNU_SOURCE -O1 -g -Wall -Wextra -Werror -o "$TMP/recorder" "$HERE/recorder.c" -lbearssl
REC="$TMP/recorder"
"$REC" keys "$TMP/k"
K="$TMP/k"

# the named seeds are remade; inputs libFuzzer found (SHA-1 names) stay
for h in fuzz_client fuzz_server fuzz_certs fuzz_dns fuzz_lines fuzz_tls13; do
    mkdir -p "$CORPUS/$h"
    for f in "$CORPUS/$h"/*; do
        case ${f##*/} in
        *[!0-9a-f]*) rm -f "$f" ;;
        ????????????????????????????????????????) ;;
        *) rm -f "$f" ;;
        esac
    done
done

# ---- handshakes between the library's own client and server, in memory
"$REC" pipe "$CORPUS/fuzz_client" "$CORPUS/fuzz_server"

# ---- real servers: our client over loopback TCP, server -> client recorded
# (client flags, byte 0 | byte 1 << 8: see fuzz_common.h FZ_C_*)
server_run() { # name client-flags server-command... (gets -accept 127.0.0.1:PORT)
    name=$1; flags=$2; shift 2
    port=$("$REC" free-port)
    "$@" -accept "127.0.0.1:$port" >"$TMP/server.log" 2>&1 </dev/null &
    PIDS="$PIDS $!"
    "$REC" wait-listen "$port"
    "$REC" client-tcp "$port" "$flags" "$CORPUS/fuzz_client/$name-$flags" || true
    kill $PIDS 2>/dev/null || true; wait 2>/dev/null || true; PIDS=""
}
if command -v openssl >/dev/null; then
    ec="-cert $K/ec.pem -cert_chain $K/int.pem -key $K/ec.key"
    rsa="-cert $K/rsa.pem -key $K/rsa.key"
    # shellcheck disable=SC2086
    {
    server_run openssl-s_server-ec 0x00 openssl s_server -tls1_2 -rev -naccept 1 $ec
    server_run openssl-s_server-ec-ip 0x04 openssl s_server -tls1_2 -rev -naccept 1 $ec
    server_run openssl-s_server-rsa 0x08 openssl s_server -tls1_2 -rev -naccept 1 $rsa
    server_run openssl-s_server-alpn 0x20 openssl s_server -tls1_2 -rev -naccept 1 $ec -alpn http/1.1
    server_run openssl-s_server-certreq 0x40 openssl s_server -tls1_2 -rev -naccept 1 $ec \
        -verify 1 -CAfile "$K/ca.pem"
    server_run openssl-s_server-leaf-only 0x01 openssl s_server -tls1_2 -rev -naccept 1 \
        -cert "$K/ec.pem" -key "$K/ec.key"
    server_run openssl-s_server-cbc 0x0108 openssl s_server -rev -naccept 1 $rsa \
        -cipher 'ECDHE-RSA-AES256-SHA:@SECLEVEL=0' -tls1
    }
fi
if command -v openssl >/dev/null; then
    # s_server asks for a renegotiation ("R" on its stdin) once the client is in,
    # then sends a line: allowed (client flags 0x0200) and refused (0x0000)
    rserv() { # -accept 127.0.0.1:PORT
        (sleep 0.5; echo R; sleep 0.5; echo 'after renegotiation'; sleep 1) |
            openssl s_server -tls1_2 -accept "$2" -naccept 1 -cert "$K/ec.pem" \
                -cert_chain "$K/int.pem" -key "$K/ec.key"
    }
    server_run openssl-s_server-reneg 0x0200 rserv
    server_run openssl-s_server-reneg 0x0000 rserv
fi
if command -v gnutls-serv >/dev/null; then
    gserv() { # -accept 127.0.0.1:PORT
        exec gnutls-serv --port "${2##*:}" --echo --x509certfile "$K/ec-chain.pem" \
            --x509keyfile "$K/ec.key" --priority 'NORMAL:-VERS-ALL:+VERS-TLS1.2'
    }
    server_run gnutls-serv 0x00 gserv
fi

# ---- real clients: our server over loopback TCP, client -> server recorded
# (server flags, byte 0 | byte 1 << 8: see fuzz_common.h FZ_S_*)
client_run() { # name server-flags client-command... (gets -connect 127.0.0.1:PORT)
    name=$1; flags=$2; shift 2
    port=$("$REC" free-port)
    "$REC" server-tcp "$port" "$flags" "$CORPUS/fuzz_server/$name-$flags" &
    rp=$!
    "$REC" wait-listen "$port"
    # CLIENT_INPUT: a shell command whose output is the client's stdin
    sh -c "${CLIENT_INPUT:-printf 'hello from a real client\\n'}" |
        "$@" -connect "127.0.0.1:$port" >"$TMP/client.log" 2>&1 || true
    wait "$rp" || echo "recorder failed for $name" >&2
}
if command -v openssl >/dev/null; then
    client_run openssl-s_client 0x00 openssl s_client -servername localhost
    client_run openssl-s_client-rsa 0x00 openssl s_client -servername rsa.example.net -sigalgs RSA+SHA256
    client_run openssl-s_client-tls12 0x00 openssl s_client -tls1_2 -servername localhost
    client_run openssl-s_client-nosni 0x02 openssl s_client -tls1_2 -noservername
    client_run openssl-s_client-cert 0x00 openssl s_client -tls1_2 -servername localhost \
        -cert "$K/client.pem" -key "$K/client.key"
    client_run openssl-s_client-cert 0x01 openssl s_client -tls1_2 -servername localhost \
        -cert "$K/client.pem" -key "$K/client.key"
    client_run openssl-s_client-alpn 0x10 openssl s_client -servername localhost -alpn h2,http/1.1
    client_run openssl-s_client-tls10 0x42 openssl s_client -tls1 -cipher 'DEFAULT:@SECLEVEL=0' \
        -servername localhost
    client_run openssl-s_client-chacha 0x00 openssl s_client -tls1_2 -servername localhost \
        -cipher ECDHE-ECDSA-CHACHA20-POLY1305
    # "R" asks s_client for a renegotiation: allowed (server flags 0x80) and refused
    CLIENT_INPUT="sleep 0.5; echo R; sleep 0.5; echo after; sleep 0.5" \
        client_run openssl-s_client-reneg 0x80 openssl s_client -tls1_2 -servername localhost
    CLIENT_INPUT="sleep 0.5; echo R; sleep 0.5; echo after; sleep 0.5" \
        client_run openssl-s_client-reneg 0x00 openssl s_client -tls1_2 -servername localhost
fi
if command -v gnutls-cli >/dev/null; then
    gcli() { # -connect 127.0.0.1:PORT
        gnutls-cli --insecure --sni-hostname localhost -p "${2##*:}" 127.0.0.1
    }
    client_run gnutls-cli 0x00 gcli
fi

# ---- an SSL 2.0-format ClientHello (BearSSL's server still accepts one):
# header bytes (server flags, 0, chunking), then the record
python3 - "$CORPUS/fuzz_server" <<'EOF'
import struct, sys
suites = [0xC02B, 0xC02F, 0xC013, 0xC009, 0x002F, 0x000A]
specs = b"".join(struct.pack(">BH", 0, x) for x in suites)
challenge = bytes(range(32))
body = b"\x01\x03\x03" + struct.pack(">HHH", len(specs), 0, len(challenge)) + specs + challenge
rec = struct.pack(">H", 0x8000 | len(body)) + body
for flags in (0x00, 0x40):
    open(f"{sys.argv[1]}/sslv2-clienthello-0x{flags:02x}", "wb").write(bytes([flags, 0, 0]) + rec)
EOF

# ---- certificates and keys: every form the loaders take
C="$CORPUS/fuzz_certs"
cp "$K/ca.pem" "$C/ca.pem"
cp "$K/ec.pem" "$C/ec-leaf.pem"
cat "$K/ec.pem" "$K/int.pem" "$K/ca.pem" > "$C/ec-chain.pem"
cp "$K/rsa.pem" "$C/rsa.pem"
cp "$K/client.pem" "$C/client.pem"
for c in ca ec rsa int client; do openssl x509 -in "$K/$c.pem" -outform DER -out "$C/$c.der"; done
openssl x509 -in "$K/ca.pem" -trustout -addtrust serverAuth > "$C/ca.trusted.pem"
cp "$K/ec.key" "$C/ec-sec1.key"
openssl ec -in "$K/ec.key" -outform DER -out "$C/ec-sec1.der" 2>/dev/null
openssl ecparam -name prime256v1 > "$C/ec-params+sec1.key"; cat "$K/ec.key" >> "$C/ec-params+sec1.key"
openssl pkcs8 -topk8 -nocrypt -in "$K/ec.key" -out "$C/ec-pkcs8.key"
openssl pkcs8 -topk8 -nocrypt -in "$K/ec.key" -outform DER -out "$C/ec-pkcs8.der"
cp "$K/rsa.key" "$C/rsa-pkcs8.key"
openssl rsa -in "$K/rsa.key" -traditional -out "$C/rsa-pkcs1.key" 2>/dev/null
openssl rsa -in "$K/rsa.key" -traditional -outform DER -out "$C/rsa-pkcs1.der" 2>/dev/null
cat "$K/rsa.pem" "$K/rsa.key" > "$C/rsa-combined.pem"
cat "$K/ec.pem" "$K/int.pem" "$K/ec.key" | sed 's/$/\r/' > "$C/ec-combined-crlf.pem"
openssl ecparam -name secp384r1 -genkey -noout -out "$TMP/p384.key"
openssl req -x509 -new -key "$TMP/p384.key" -sha384 -days 3650 -subj '/CN=p384.fuzz.test' \
    -addext 'subjectAltName=DNS:p384.fuzz.test,DNS:*.p384.fuzz.test,IP:10.0.0.1,email:a@b.c,URI:https://x.y/' \
    -addext 'extendedKeyUsage=clientAuth,serverAuth' -out "$C/p384-self.pem"
cat "$TMP/p384.key" >> "$C/p384-self.pem"
openssl genrsa -out "$TMP/rsa1024.key" 1024 2>/dev/null
openssl req -x509 -new -key "$TMP/rsa1024.key" -sha1 -days 3650 -subj '/CN=weak+OU=multi valued/O=a,b=c' \
    -addext 'subjectAltName=DNS:weak.test,IP:::ffff:1.2.3.4' -addext 'extendedKeyUsage=codeSigning' \
    -out "$C/rsa1024-sha1.pem"
openssl req -x509 -new -key "$TMP/p384.key" -sha256 -days 3650 -subj '/CN=cn-only.test' \
    -addext 'nameConstraints=critical,permitted;DNS:.test' -out "$C/cn-only-nameconstraints.pem"
openssl genpkey -algorithm ed25519 -out "$C/ed25519.key"
openssl ecparam -name prime256v1 -genkey -noout | openssl ec -aes128 -passout pass:x -out "$C/encrypted.key" 2>/dev/null
printf -- '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n' > "$C/truncated.pem"
cat "$K/ec.pem" "$K/rsa.key" > "$C/ec-cert-rsa-key.pem"        # key of another certificate
cat "$K/ec.pem" "$K/client.key" > "$C/ec-cert-other-ec-key.pem"
cat "$K/rsa.pem" "$K/ec.key" > "$C/rsa-cert-ec-key.pem"

# ---- DNS responses (harness header: flags, id, name length, name; then the packet)
python3 - "$CORPUS/fuzz_dns" <<'EOF'
import struct, sys, os
out = sys.argv[1]
def name(n, comp=None):
    b = b"".join(bytes([len(l)]) + l.encode() for l in n.split(".") if l)
    return b + b"\0"
def ptr(off): return struct.pack(">H", 0xC000 | off)
def header(qid, flags, qd, an, ns=0, ar=0): return struct.pack(">HHHHHH", qid, flags, qd, an, ns, ar)
def rr(owner, typ, rdata, ttl=300, klass=1): return owner + struct.pack(">HHIH", typ, klass, ttl, len(rdata)) + rdata
def seed(fname, ctl, qid, qname, pkt):
    with open(os.path.join(out, fname), "wb") as f:
        f.write(bytes([ctl]) + struct.pack(">H", qid) + bytes([len(qname)]) + qname.encode() + pkt)
A, AAAA, CNAME = 1, 28, 5
# ctl bit 0: AAAA (else A); bits 1-3: max addresses (0 means 8)
q = lambda n, t: name(n) + struct.pack(">HH", t, 1)
Q = 12  # offset of the question name
seed("a-simple", 0x08, 0x1234, "example.com",
     header(0x1234, 0x8180, 1, 2) + q("example.com", A)
     + rr(ptr(Q), A, bytes([93, 184, 216, 34])) + rr(ptr(Q), A, bytes([93, 184, 216, 35])))
seed("aaaa-simple", 0x09, 0x0102, "v6.example",
     header(0x0102, 0x8180, 1, 1) + q("v6.example", AAAA)
     + rr(ptr(Q), AAAA, bytes.fromhex("20010db8000000000000000000000001")))
# CNAME chain www.example.org -> a.cdn.net -> b.cdn.net -> A, with compression into the rdata
pkt = header(7, 0x8180, 1, 0) + q("www.example.org", A)
recs = []
body = pkt
off_cname1 = None
r1 = rr(ptr(Q), CNAME, name("a.cdn.net")); body += r1
off_a = len(body) - len(name("a.cdn.net"))
r2 = rr(ptr(off_a), CNAME, bytes([1]) + b"b" + ptr(off_a + 2)); body += r2
off_b = len(body) - 4
r3 = rr(ptr(off_b), A, bytes([10, 0, 0, 7])); body += r3
r4 = rr(ptr(off_a), A, bytes([10, 0, 0, 66])); body += r4  # not the end of the chain: ignored
body = body[:6] + struct.pack(">H", 4) + body[8:]
seed("cname-chain", 0x0e, 7, "www.example.org", body)
# CNAME loop
body = header(9, 0x8180, 1, 2) + q("loop.test", A)
off_target = len(body) + 12
body += rr(ptr(Q), CNAME, name("x.loop.test"))
body += rr(ptr(off_target), CNAME, ptr(Q))
seed("cname-loop", 0x02, 9, "loop.test", body)
seed("nxdomain", 0x00, 0x4242, "nope.test", header(0x4242, 0x8183, 1, 0) + q("nope.test", A))
seed("servfail", 0x01, 0x4243, "x.test", header(0x4243, 0x8182, 1, 0) + q("x.test", AAAA))
seed("truncated", 0x00, 0x4244, "big.test", header(0x4244, 0x8380, 1, 0) + q("big.test", A))
# upper case question, mixed records, duplicates, an authority section
body = header(11, 0x8580, 1, 5, 1, 0) + q("MiXeD.Example.COM", AAAA)
body += rr(ptr(Q), AAAA, bytes(range(16)))
body += rr(ptr(Q), AAAA, bytes(range(16)))
body += rr(ptr(Q), A, bytes([1, 2, 3, 4]))
body += rr(ptr(Q), 16, b"\x05hello")
body += rr(name("other.example.com"), AAAA, bytes(range(1, 17)))
body += rr(ptr(Q + 6), 2, name("ns1.example.com"))
seed("mixed", 0x01, 11, "mixed.example.com", body)
# a pointer loop in an answer owner, and a pointer past the end
seed("ptr-loop", 0x00, 5, "a.test", header(5, 0x8180, 1, 1) + q("a.test", A) + ptr(20) + ptr(20))
seed("ptr-past-end", 0x00, 5, "a.test", header(5, 0x8180, 1, 1) + q("a.test", A)
     + rr(ptr(0x3ff), A, b"\1\2\3\4"))
long = ".".join(["a" * 63] * 3 + ["b" * 61])
seed("long-name", 0x00, 1, long, header(1, 0x8180, 1, 1) + q(long, A) + rr(ptr(Q), A, b"\x7f\0\0\1"))
many = header(2, 0x8180, 1, 20) + q("many.test", A)
for i in range(20): many += rr(ptr(Q), A, bytes([10, 0, 0, i]))
seed("many", 0x00, 2, "many.test", many)
seed("root", 0x00, 3, ".", header(3, 0x8180, 1, 1) + b"\0" + struct.pack(">HH", A, 1) + rr(b"\0", A, b"\1\1\1\1"))
EOF

# ---- lines (header byte: options, see fuzz_lines.c)
L="$CORPUS/fuzz_lines"
printf '\000hello\nworld\n' > "$L/plain"
printf '\001GET / HTTP/1.1\r\nHost: example.com\r\n\r\n' > "$L/http"
printf '\002no newline at the end' > "$L/no-newline"
printf '\003\n\n\n\na\nbb\nccc\n' > "$L/empties"
python3 -c 'import sys; sys.stdout.buffer.write(b"\x04" + b"x" * 5000 + b"\n" + b"y" * 300 + b"\n")' > "$L/long"
python3 -c 'import sys; sys.stdout.buffer.write(b"\x85" + b"".join(b"line %d\n" % i for i in range(400)))' > "$L/many-tls"
python3 -c 'import sys; sys.stdout.buffer.write(b"\x86" + bytes(range(256)) * 8)' > "$L/binary-tls"
printf '\207220 smtp.example.com ESMTP\r\n250-PIPELINING\r\n250 STARTTLS\r\n' > "$L/smtp-tls"

# ---- TLS 1.3 client records (control byte, see fuzz_tls13.c): the RFC 8448
# trace's server records (tests/tls13_rfc8448.h), and a HelloRetryRequest
python3 - "$HERE/../tls13_rfc8448.h" "$CORPUS/fuzz_tls13" <<'EOF'
import re, sys, os
out = sys.argv[2]
os.makedirs(out, exist_ok=True)
v = dict(re.findall(r'rfc8448_(\w+)\s*=\s*((?:"[0-9a-f]*"\s*)+);', open(sys.argv[1]).read()))
def get(name): return bytes.fromhex(''.join(re.findall(r'"([0-9a-f]*)"', v[name])))
sh, flight = get('server_hello_record'), get('server_flight_record')
nst, app, alert = get('new_session_ticket_record'), get('server_application_data_record'), get('server_alert_record')
ccs = bytes.fromhex('140303000101')
def w(name, data): open(os.path.join(out, name), 'wb').write(data)
w('rfc8448-conversation', b'\x01' + sh + ccs + flight + nst + app + alert)
w('rfc8448-verify-peer', b'\x03' + sh + flight)
w('rfc8448-truncated-flight', b'\x01' + sh + flight[:5 + 300])
w('fresh-wrong-session', b'\x00' + sh)
# a ticket offered (control bit 3): the full handshake, then one that the
# ServerHello selects (pre_shared_key added: the flight then fails its MAC)
w('rfc8448-ticket-offered', b'\x09' + sh + ccs + flight + nst + app)
hs = sh[5:]
body = hs[4:]
exts_at = 2 + 32 + 1 + body[34] + 3
ext = body[exts_at + 2:] + bytes.fromhex('002900020000')
body = body[:exts_at] + len(ext).to_bytes(2, 'big') + ext
msg = b'\x02' + len(body).to_bytes(3, 'big') + body
w('rfc8448-psk-selected', b'\x09' + b'\x16\x03\x03' + len(msg).to_bytes(2, 'big') + msg + flight)
# a HelloRetryRequest for the fresh client (session id 32 x 0x5a): P-256 and a cookie
hrr_random = bytes.fromhex('cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c')
exts = bytes.fromhex('002b00020304') + bytes.fromhex('003300020017') + bytes.fromhex('002c0006000463616b65')
body = b'\x03\x03' + hrr_random + b'\x20' + b'\x5a' * 32 + b'\x13\x01\x00' + len(exts).to_bytes(2, 'big') + exts
msg = b'\x02' + len(body).to_bytes(3, 'big') + body
w('fresh-hrr', b'\x00' + b'\x16\x03\x03' + len(msg).to_bytes(2, 'big') + msg + ccs + b'\x16\x03\x03\x00\x04\x02\x00\x00\x00')
EOF

# ---- TLS 1.3 server records (control byte | 4, see fuzz_tls13.c): client
# hellos made here (TLS 1.3, 1.2 and 1.3, 1.2 alone, one that forces a
# HelloRetryRequest then the second hello, one split over two records),
# each followed by what a client sends next (a ChangeCipherSpec, a record
# that does not open, an alert); openssl s_client's own hellos when it runs
python3 - "$CORPUS/fuzz_tls13" <<'EOF2'
import os, socket, subprocess, sys
out = sys.argv[1]
os.makedirs(out, exist_ok=True)
def w(name, data): open(os.path.join(out, name), 'wb').write(data)
def ext(t, body): return t.to_bytes(2, 'big') + len(body).to_bytes(2, 'big') + body
def v16(b): return len(b).to_bytes(2, 'big') + b
def ch(versions=(0x0304,), share_group=0x1d, groups=(0x1d, 0x17), sigs=(0x0403, 0x0804, 0x0805),
       sni=b'localhost', alpn=(b'h2', b'http/1.1'), early=False, suites=(0x1301, 0x1302, 0x1303)):
    e = ext(0, v16(b'\x00' + v16(sni)))
    e += ext(0x0a, v16(b''.join(g.to_bytes(2, 'big') for g in groups)))
    e += ext(0x0d, v16(b''.join(s.to_bytes(2, 'big') for s in sigs)))
    e += ext(0x10, v16(b''.join(bytes([len(a)]) + a for a in alpn)))
    e += ext(0x2b, bytes([2 * len(versions)]) + b''.join(v.to_bytes(2, 'big') for v in versions))
    e += ext(0x2d, b'\x01\x01')
    kl = 65 if share_group == 0x17 else 32
    p256_g = bytes.fromhex('046b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296'
                           '4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5')
    key = p256_g if share_group == 0x17 else b'\x09' * 32
    e += ext(0x33, v16(share_group.to_bytes(2, 'big') + v16(key)))
    if early:
        e += ext(0x2a, b'')
    body = b'\x03\x03' + b'\x5a' * 32 + b'\x20' + b'\x33' * 32
    body += v16(b''.join(s.to_bytes(2, 'big') for s in suites + (0xc02b, 0xc02f)))
    body += b'\x01\x00' + v16(e)
    return b'\x01' + len(body).to_bytes(3, 'big') + body
def rec(t, data, v=b'\x03\x03'): return bytes([t]) + v + len(data).to_bytes(2, 'big') + data
ccs = rec(20, b'\x01')
junk = rec(23, b'\x17' * 40)
alert = rec(21, b'\x02\x28')
w('server-tls13', b'\x04' + rec(22, ch(), b'\x03\x01') + ccs + junk)
w('server-tls13-p256', b'\x06' + rec(22, ch(share_group=0x17, sigs=(0x0403,))) + alert)
w('server-tls13-rsa', b'\x0c' + rec(22, ch(sigs=(0x0804, 0x0806))) + ccs + junk)
w('server-rsa-pss-sha512', b'\x0c' + rec(22, ch(sigs=(0x0806,))) + ccs + junk)
w('server-early-data', b'\x04' + rec(22, ch(early=True)) + ccs + junk + junk)
w('server-tls12-and-13', b'\x05' + rec(22, ch(versions=(0x0304, 0x0303))) + ccs)
w('server-tls12-only', b'\x05' + rec(22, ch(versions=(0x0303,))))
w('server-tls12-refused', b'\x04' + rec(22, ch(versions=(0x0303,))))
w('server-hrr', b'\x04' + rec(22, ch(share_group=0x18)) + ccs + rec(22, ch()) + junk)
w('server-hrr-p256', b'\x04' + rec(22, ch(share_group=0x18, groups=(0x18, 0x17)))
  + rec(22, ch(share_group=0x17, groups=(0x18, 0x17))))
m = ch()
w('server-split-hello', b'\x04' + rec(22, m[:100]) + rec(22, m[100:]) + ccs + junk)
w('server-split-tls12', b'\x05' + rec(22, m[:60].replace(b'\x03\x04', b'\x03\x03')) + rec(22, m[60:]))
w('server-no-common', b'\x04' + rec(22, ch(groups=(0x18,), share_group=0x18, suites=(0x1304,))))
# openssl s_client's own first records (when it is there)
def capture(name, ctl, args):
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    s.listen(1)
    s.settimeout(5)
    try:
        p = subprocess.Popen(['openssl', 's_client', '-connect', '127.0.0.1:%d' % s.getsockname()[1]]
                             + args, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    except OSError:
        return
    try:
        c, _ = s.accept()
        c.settimeout(5)
        data = b''
        while len(data) < 5 or len(data) < 5 + int.from_bytes(data[3:5], 'big'):
            b = c.recv(20000)
            if not b:
                break
            data += b
        w(name, bytes([ctl]) + data + ccs + junk)
        c.close()
    except OSError:
        pass
    p.kill()
    p.wait()
    s.close()
capture('server-s_client-tls13', 0x04, ['-tls1_3', '-servername', 'localhost', '-alpn', 'h2'])
capture('server-s_client-hrr', 0x06, ['-tls1_3', '-groups', 'P-384:X25519'])
capture('server-s_client-tls12', 0x05, ['-tls1_2'])
EOF2

echo "corpus sizes:"
for h in fuzz_client fuzz_server fuzz_certs fuzz_dns fuzz_lines fuzz_tls13; do
    printf '  %-12s %3d files %6d bytes\n' "$h" "$(ls "$CORPUS/$h" | wc -l)" "$(cat "$CORPUS/$h"/* | wc -c)"
done
