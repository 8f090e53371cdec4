#!/usr/bin/env python3
"""Turn x509-limbo's limbo.json into the line format test_limbo.c reads.

    cases.py limbo.json > cases.txt

Each case:
    id <id>
    expect SUCCESS|FAILURE
    name DNS|IP|NONE <value>
    time <unix seconds, 0: now>
    depth <max_chain_depth: intermediates allowed, -1: no limit>
    eku <comma-separated, or ->
    trusted
    <PEM certificates>
    chain
    <the peer certificate, then the untrusted intermediates>
    end
"""
import datetime
import json
import sys


def unix(t):
    if t is None:
        return 0
    return int(datetime.datetime.fromisoformat(t).timestamp())


def main():
    data = json.load(open(sys.argv[1], encoding="utf-8"))
    out = sys.stdout
    for c in data["testcases"]:
        if c["validation_kind"] != "SERVER":
            continue
        name = c.get("expected_peer_name") or {}
        kind = name.get("kind", "NONE")
        out.write("id %s\n" % c["id"])
        out.write("expect %s\n" % c["expected_result"])
        out.write("name %s %s\n" % (kind, name.get("value", "-")))
        out.write("time %d\n" % unix(c.get("validation_time")))
        depth = c.get("max_chain_depth")
        out.write("depth %d\n" % (-1 if depth is None else depth))
        out.write("eku %s\n" % (",".join(c.get("extended_key_usage") or []) or "-"))
        out.write("trusted\n")
        for pem in c["trusted_certs"]:
            out.write(pem.strip() + "\n")
        out.write("chain\n")
        out.write(c["peer_certificate"].strip() + "\n")
        for pem in c["untrusted_intermediates"]:
            out.write(pem.strip() + "\n")
        out.write("end\n")


if __name__ == "__main__":
    main()
