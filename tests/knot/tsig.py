#!/usr/bin/env python3
# TSIG (RFC 8945) for the tests that make ordered UPDATEs themselves: a
# replica checks every ordered UPDATE's TSIG against the batch time
# (module/authz.c), so a test that chooses batch times must sign with them.
#
#   tsig.py resign LOG KEY-NAME SECRET-BASE64
#       rewrites a batch log in place: every UPDATE signed with KEY-NAME is
#       signed again at its batch's time (other UPDATEs are left alone)
#
# As a module: name(), sign(), strip().
import base64
import hashlib
import hmac
import struct
import sys

ALGORITHMS = {"hmac-sha256": hashlib.sha256, "hmac-sha1": hashlib.sha1}


def name(text, lower=True):
    """A domain name in wire format, lower case unless asked otherwise."""
    if lower:
        text = text.lower()
    return b"".join(bytes([len(l)]) + l.encode() for l in text.split(".") if l) + b"\0"


def sign(msg, key_name, secret, signed, alg="hmac-sha256", fudge=300):
    """The message with a TSIG record appended: the MAC over the message and
    the TSIG variables (key name in canonical form), time signed `signed`
    (Unix seconds). The record's owner is the key name as given."""
    alg_wire, key_wire = name(alg), name(key_name)
    times = struct.pack("!HIH", signed >> 32, signed & 0xffffffff, fudge)
    variables = key_wire + struct.pack("!HI", 255, 0) + alg_wire + times + struct.pack("!HH", 0, 0)
    mac = hmac.new(secret, msg + variables, ALGORITHMS[alg]).digest()
    ident = struct.unpack("!H", msg[:2])[0]
    rdata = alg_wire + times + struct.pack("!H", len(mac)) + mac + struct.pack("!HHH", ident, 0, 0)
    record = name(key_name, False) + struct.pack("!HHIH", 250, 255, 0, len(rdata)) + rdata
    arcount = struct.unpack("!H", msg[10:12])[0]
    return msg[:10] + struct.pack("!H", arcount + 1) + msg[12:] + record


def strip(msg, key_name):
    """The message without its TSIG record of that key, or None if it has none
    (the TSIG is the last record; its owner is written uncompressed)."""
    pos = msg.lower().rfind(name(key_name) + struct.pack("!HH", 250, 255))
    if pos < 12:
        return None
    arcount = struct.unpack("!H", msg[10:12])[0]
    return msg[:10] + struct.pack("!H", arcount - 1) + msg[12:pos]


def resign(path, key_name, secret):
    out, now = [], None
    for line in open(path):
        if line.startswith("batch "):
            now = int(line.split()[2])
        elif line.startswith("update "):
            msg = base64.b64decode(line.split()[1])
            bare = strip(msg, key_name)
            if bare is not None:
                line = "update %s\n" % base64.b64encode(sign(bare, key_name, secret, now)).decode()
        out.append(line)
    with open(path, "w") as f:
        f.writelines(out)


if __name__ == "__main__":
    if len(sys.argv) != 5 or sys.argv[1] != "resign":
        sys.exit("usage: tsig.py resign LOG KEY-NAME SECRET-BASE64")
    resign(sys.argv[2], sys.argv[3], base64.b64decode(sys.argv[4]))
