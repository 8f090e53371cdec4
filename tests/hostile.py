#!/usr/bin/env python3
"""Hostile TLS peers for the C tests (standard library only).

usage: hostile.py MODE PORTFILE CERT KEY [CONNECT_PORT]

Server modes listen on 127.0.0.1 port 0, write the port to PORTFILE, serve
ONE connection and exit (30 s at most).  The TLS engine is Python's
ssl.SSLObject over memory BIOs, so the bytes it produces can be cut,
re-fragmented or replaced before they reach the socket:

  one-byte-records   every plaintext handshake record is re-sent as one
                     record per byte (legal: handshake messages may span
                     records); then echoes one line
  close-after-hello  sends the ServerHello message alone, then closes
  oversized-record   answers the ClientHello with a record header claiming
                     18,000 bytes (above the 16,384 + 2,048 limit)
  garbage            answers with 600 bytes of non-TLS text
  bad-mac            completes the handshake, then flips a bit in the first
                     application-data record it sends

Client mode (CONNECT_PORT given):
  one-byte-client    the same re-fragmentation from a client, then sends
                     "hello\\n" and reports the echoed line as echo=<line>
"""
import os
import socket
import ssl
import struct
import sys

REC_HANDSHAKE, REC_CCS = 22, 20


def say(key, value):
    sys.stdout.write("%s=%s\n" % (key, value))
    sys.stdout.flush()


def records(data):
    """Split bytes into (type, version, payload) records; keep a tail."""
    out, pos = [], 0
    while len(data) - pos >= 5:
        typ, ver, ln = struct.unpack("!BHH", data[pos:pos + 5])
        if len(data) - pos < 5 + ln:
            break
        out.append((typ, ver, data[pos + 5:pos + 5 + ln]))
        pos += 5 + ln
    return out, data[pos:]


class Refragmenter:
    """Re-sends plaintext handshake records one byte per record, until the
    first ChangeCipherSpec; everything after passes through unchanged."""

    def __init__(self):
        self.tail = b""
        self.encrypted = False

    def feed(self, data):
        if self.encrypted:
            return data
        recs, self.tail = records(self.tail + data)
        out = b""
        for typ, ver, payload in recs:
            if self.encrypted or typ != REC_HANDSHAKE:
                out += struct.pack("!BHH", typ, ver, len(payload)) + payload
            else:
                for b in payload:
                    out += struct.pack("!BHH", typ, ver, 1) + bytes([b])
            if typ == REC_CCS:
                self.encrypted = True
        if self.encrypted:
            out, self.tail = out + self.tail, b""
        return out


def pump(sock, obj, inc, outg, transform=None, until=None):
    """Drive the handshake or a read over a blocking socket."""
    while True:
        try:
            r = until()
            data = outg.read()
            if data:
                sock.sendall(transform(data) if transform else data)
            return r
        except ssl.SSLWantReadError:
            data = outg.read()
            if data:
                sock.sendall(transform(data) if transform else data)
            got = sock.recv(65536)
            if not got:
                raise EOFError
            inc.write(got)


def serve(mode, portfile, cert, key):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(1)
    ls.settimeout(30)
    tmp = portfile + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % ls.getsockname()[1])
    os.rename(tmp, portfile)
    conn, _ = ls.accept()
    conn.settimeout(30)
    if mode == "garbage":
        conn.recv(4096)
        conn.sendall(b"HTTP/1.1 400 Bad Request\r\n" + b"x" * 574)
        say("sent", "garbage")
        conn.close()
        return
    if mode == "oversized-record":
        conn.recv(4096)
        conn.sendall(struct.pack("!BHH", REC_HANDSHAKE, 0x0303, 18000) + b"\0" * 200)
        say("sent", "oversized")
        conn.close()
        return
    inc, outg = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(inc, outg, server_side=True)
    if mode == "close-after-hello":
        inc.write(conn.recv(65536))
        try:
            obj.do_handshake()
        except ssl.SSLWantReadError:
            pass
        recs, _ = records(outg.read())
        typ, ver, payload = recs[0]
        hello_len = 4 + struct.unpack("!I", b"\0" + payload[1:4])[0]
        conn.sendall(struct.pack("!BHH", typ, ver, hello_len) + payload[:hello_len])
        say("sent", "serverhello")
        conn.close()
        return
    transform = Refragmenter().feed if mode == "one-byte-records" else None
    try:
        pump(conn, obj, inc, outg, transform, obj.do_handshake)
        say("handshake", "ok")
        if mode == "bad-mac":
            obj.write(b"tampered\n")
            data = bytearray(outg.read())
            data[-1] ^= 1
            conn.sendall(bytes(data))
            say("sent", "bad-mac")
            conn.recv(4096)  # the client's alert or EOF
            return
        line = pump(conn, obj, inc, outg, None, lambda: obj.read(4096))
        obj.write(line)
        conn.sendall(outg.read())
        say("echoed", line.decode(errors="replace").strip())
        pump(conn, obj, inc, outg, None, lambda: obj.read(4096))
    except (EOFError, ssl.SSLError, OSError) as e:
        say("end", type(e).__name__)
    conn.close()


def client(mode, port):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    inc, outg = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(inc, outg, server_side=False)
    pump(sock, obj, inc, outg, Refragmenter().feed, obj.do_handshake)
    obj.write(b"hello\n")
    sock.sendall(outg.read())
    line = pump(sock, obj, inc, outg, None, lambda: obj.read(4096))
    say("echo", line.decode(errors="replace").strip())
    sock.close()


if __name__ == "__main__":
    if len(sys.argv) > 5:
        client(sys.argv[1], int(sys.argv[5]))
    else:
        serve(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4])
