#!/usr/bin/env python3
"""Scriptable TLS peer for the C tests (standard library only).

usage: tlspeer.py MODE PORTFILE CERT KEY

Listens on TCP 127.0.0.1 port 0, writes the port number (and a newline) to
PORTFILE atomically, serves ONE connection, reports on stdout what it saw
(one "key=value" line per fact, flushed) and exits.  It never runs longer
than 30 s, so a crashed test cannot leave it behind.  Modes:

  echo            TLS; send back every byte received until the client's
                  close_notify (or EOF); reports received=<bytes> and
                  close_notify=yes|no
  starttls-inject plaintext; reads one line; if it is "STARTTLS\\r\\n",
                  answers "OK begin\\r\\n" and, in the SAME send(), the
                  injected plaintext "INJECTED\\r\\n"; then the TLS handshake
                  as a server and "hello over tls\\r\\n"; then reads until
                  the client closes
  bye-notify      TLS; sends "bye\\r\\n" then close_notify (unwrap), waits
                  for the client's close_notify; reports unwrap=ok|<error>
  bye-truncate    TLS; sends "bye\\r\\n" then closes the TCP connection
                  without close_notify (shutdown of the raw socket)
  record          TLS; reads until close_notify or EOF; reports
                  received=<repr of the bytes> and close_notify=yes|no|reset
  stall           TLS handshake, then never reads or writes again (until
                  killed, or 30 s)
"""
import os
import socket
import ssl
import sys
import time


def say(key, value):
    sys.stdout.write("%s=%s\n" % (key, value))
    sys.stdout.flush()


def server_context(cert, key):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    # Python >= 3.10 sets this by default: EOF without close_notify would then
    # look like an orderly close, and truncation could not be detected
    ctx.options &= ~getattr(ssl, "OP_IGNORE_UNEXPECTED_EOF", 0)
    return ctx


def read_all(tls, echo):
    """Read until close_notify (returns "yes"), EOF without it ("no") or a
    reset ("reset"); echo what arrives if asked.  Returns (bytes, how)."""
    got = bytearray()
    while True:
        try:
            data = tls.recv(65536)
        except ssl.SSLEOFError:
            return bytes(got), "no"
        except (ConnectionResetError, BrokenPipeError):
            return bytes(got), "reset"
        except ssl.SSLError as e:
            if e.reason == "UNEXPECTED_EOF_WHILE_READING":   # OpenSSL 3
                return bytes(got), "no"
            say("ssl_error", e.reason)
            return bytes(got), "error"
        if not data:
            return bytes(got), "yes"
        got += data
        if echo:
            tls.sendall(data)


def main():
    if len(sys.argv) != 5:
        sys.stderr.write(__doc__)
        return 2
    mode, portfile, cert, key = sys.argv[1:5]
    lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(4)
    tmp = portfile + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % lsock.getsockname()[1])
    os.rename(tmp, portfile)   # the test never sees a half-written file
    lsock.settimeout(30)
    ctx = server_context(cert, key)
    raw, _ = lsock.accept()
    raw.settimeout(30)
    say("accepted", "yes")

    if mode == "starttls-inject":
        line = b""
        while not line.endswith(b"\n"):
            c = raw.recv(1)
            if not c:
                say("error", "eof before STARTTLS")
                return 1
            line += c
        say("command", repr(line))
        if line != b"STARTTLS\r\n":
            raw.sendall(b"BAD\r\n")
            return 1
        raw.sendall(b"OK begin\r\nINJECTED\r\n")     # one send(): one segment
        tls = ctx.wrap_socket(raw, server_side=True, suppress_ragged_eofs=False)
        say("handshake", "ok")
        tls.sendall(b"hello over tls\r\n")
        got, how = read_all(tls, False)
        say("received", repr(got))
        say("close_notify", how)
        return 0

    try:
        tls = ctx.wrap_socket(raw, server_side=True, suppress_ragged_eofs=False)
    except (ssl.SSLError, OSError) as e:
        say("handshake", "failed: %s" % e)
        return 0
    say("handshake", "ok")

    if mode == "echo":
        got, how = read_all(tls, True)
        say("received", len(got))
        say("close_notify", how)
    elif mode == "record":
        got, how = read_all(tls, False)
        say("received", repr(got))
        say("close_notify", how)
    elif mode == "bye-notify":
        tls.sendall(b"bye\r\n")
        try:
            tls.unwrap()         # our close_notify, then wait for theirs
            say("unwrap", "ok")
        except (ssl.SSLError, OSError) as e:
            say("unwrap", "failed: %s" % e)
    elif mode == "stall":
        time.sleep(30)
    elif mode == "bye-truncate":
        tls.sendall(b"bye\r\n")
        tls.shutdown(socket.SHUT_RDWR)   # SSLSocket.shutdown: raw TCP, no close_notify
        say("truncated", "yes")
    else:
        say("error", "unknown mode " + mode)
        return 2
    tls.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
