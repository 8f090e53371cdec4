#!/usr/bin/env python3
"""Fake DNS server for the resolver tests (standard library only).

usage: fakedns.py MODE PORTFILE

Binds UDP 127.0.0.1 on port 0, writes the port number (and a newline) to
PORTFILE atomically, then serves until killed (or for 60 s at most, so a
crashed test cannot leave it behind). Modes:

  answer        A 127.0.0.1 / AAAA ::1 for any name (via a CNAME for
                names starting with "alias.")
  nxdomain      NXDOMAIN for every query
  silent        never answers
  garbage       random bytes, wrong ids, wrong questions, lying counts,
                then nothing valid
  slow-aaaa     A at once, AAAA never
  servfail      SERVFAIL for every query
  truncated     TC bit set on every answer
  wrong-source  correct answers, but sent from another port
"""
import os
import random
import socket
import struct
import sys
import time

QTYPE_A, QTYPE_CNAME, QTYPE_AAAA = 1, 5, 28


def parse_query(pkt):
    """Return (id, question bytes, qname labels, qtype) or None."""
    if len(pkt) < 12:
        return None
    qid, flags, qd = struct.unpack("!HHH", pkt[:6])
    if flags & 0x8000 or qd != 1:
        return None
    pos, labels = 12, []
    while True:
        if pos >= len(pkt):
            return None
        n = pkt[pos]
        if n == 0:
            pos += 1
            break
        if n > 63 or pos + 1 + n > len(pkt):
            return None
        labels.append(pkt[pos + 1:pos + 1 + n])
        pos += 1 + n
    if pos + 4 > len(pkt):
        return None
    qtype, = struct.unpack("!H", pkt[pos:pos + 2])
    return qid, pkt[12:pos + 4], labels, qtype


def encode_name(labels):
    return b"".join(bytes([len(l)]) + l for l in labels) + b"\0"


def response(qid, question, rcode=0, answers=(), tc=False, ancount=None):
    flags = 0x8180 | rcode | (0x0200 if tc else 0)
    n = len(answers) if ancount is None else ancount
    return struct.pack("!HHHHHH", qid, flags, 1, n, 0, 0) + question + b"".join(answers)


def rr(owner, rtype, rdata, ttl=60):
    return owner + struct.pack("!HHIH", rtype, 1, ttl, len(rdata)) + rdata


def answer_for(q):
    qid, question, labels, qtype = q
    owner = b"\xc0\x0c"   # compression pointer to the question name
    answers = []
    if labels and labels[0].lower() == b"alias":
        target = encode_name([b"target"] + labels[1:])
        answers.append(rr(owner, QTYPE_CNAME, target))
        owner = target
    if qtype == QTYPE_A:
        answers.append(rr(owner, QTYPE_A, socket.inet_pton(socket.AF_INET, "127.0.0.1")))
    elif qtype == QTYPE_AAAA:
        answers.append(rr(owner, QTYPE_AAAA, socket.inet_pton(socket.AF_INET6, "::1")))
    return response(qid, question, 0, answers)


def garbage_for(q):
    qid, question, labels, qtype = q
    out = [os.urandom(random.randint(0, 600)) for _ in range(3)]
    out.append(b"")                                        # empty datagram
    out.append(response(qid ^ 0x5A5A, question, 0, []))    # wrong id
    other = encode_name([b"other", b"test"]) + question[-4:]
    a = rr(b"\xc0\x0c", QTYPE_A, b"\x7f\x00\x00\x01")
    out.append(response(qid, other, 0, [a]))               # wrong question
    out.append(response(qid, question, 0, [a], ancount=5))  # count lies
    out.append(response(qid, question, 0, [a])[:20])       # cut short
    here = 12 + len(question)                              # owner points at itself
    looped = struct.pack("!HHHHHH", qid, 0x8180, 1, 1, 0, 0) + question + \
        struct.pack("!H", 0xC000 | here) + struct.pack("!HHIH", QTYPE_A, 1, 60, 4) + a[-4:]
    out.append(looped)                                     # pointer loop
    return out


def main():
    if len(sys.argv) != 3:
        sys.stderr.write(__doc__)
        return 2
    mode, portfile = sys.argv[1], sys.argv[2]
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    other = None
    if mode == "wrong-source":
        other = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        other.bind(("127.0.0.1", 0))
    tmp = portfile + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % sock.getsockname()[1])
    os.rename(tmp, portfile)   # the test never sees a half-written file

    end = time.monotonic() + 60
    sock.settimeout(1.0)
    while time.monotonic() < end:
        try:
            pkt, peer = sock.recvfrom(4096)
        except socket.timeout:
            continue
        q = parse_query(pkt)
        if q is None:
            continue
        qid, question, labels, qtype = q
        if mode == "answer":
            sock.sendto(answer_for(q), peer)
        elif mode == "nxdomain":
            sock.sendto(response(qid, question, 3), peer)
        elif mode == "servfail":
            sock.sendto(response(qid, question, 2), peer)
        elif mode == "truncated":
            sock.sendto(response(qid, question, 0, tc=True), peer)
        elif mode == "slow-aaaa":
            if qtype == QTYPE_A:
                sock.sendto(answer_for(q), peer)
        elif mode == "garbage":
            for g in garbage_for(q):
                sock.sendto(g, peer)
        elif mode == "wrong-source":
            other.sendto(answer_for(q), peer)
        # silent: nothing
    return 0


if __name__ == "__main__":
    sys.exit(main())
