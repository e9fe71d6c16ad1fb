#!/usr/bin/env python3
# SIG(0) (RFC 2931) for the tests that need UPDATEs nsupdate does not make:
# chosen validity times, a tampered byte, malformed SIG fields. Signs with
# a dnssec-keygen private key (Private-key-format v1.3: RSASHA256,
# ECDSAP256SHA256, ED25519) through python3-cryptography.
#
# As a module: Key(PRIVATE-FILE, KEY-FILE), update(), sign(), send().
import base64
import socket
import struct

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature


def name(text):
    """A domain name in wire format, as given (no case change)."""
    return b"".join(bytes([len(l)]) + l.encode() for l in text.split(".") if l) + b"\0"


def key_tag(rdata):
    """RFC 4034 Appendix B."""
    acc = 0
    for i, b in enumerate(rdata):
        acc += b if i & 1 else b << 8
    acc += acc >> 16
    return acc & 0xFFFF


def b64int(text):
    return int.from_bytes(base64.b64decode(text), "big")


class Key:
    """A dnssec-keygen key pair: K<name>.+<alg>+<tag>.private and .key."""

    def __init__(self, private_path, key_path):
        fields = {}
        for line in open(private_path):
            if ":" in line:
                k, v = line.split(":", 1)
                fields[k.strip()] = v.strip()
        self.algorithm = int(fields["Algorithm"].split()[0])
        words = [w for w in open(key_path).read().split("\n")
                 if w and not w.startswith(";")][0].split()
        i = words.index("KEY") if "KEY" in words else words.index("DNSKEY")
        self.name = words[0]
        flags, proto, alg = int(words[i + 1]), int(words[i + 2]), int(words[i + 3])
        pub = base64.b64decode("".join(words[i + 4:]))
        self.rdata = struct.pack("!HBB", flags, proto, alg) + pub
        self.tag = key_tag(self.rdata)
        if self.algorithm == 13:
            self.key = ec.derive_private_key(b64int(fields["PrivateKey"]), ec.SECP256R1())
        elif self.algorithm == 15:
            self.key = Ed25519PrivateKey.from_private_bytes(base64.b64decode(fields["PrivateKey"]))
        elif self.algorithm == 8:
            n, e = b64int(fields["Modulus"]), b64int(fields["PublicExponent"])
            self.key = rsa.RSAPrivateNumbers(
                b64int(fields["Prime1"]), b64int(fields["Prime2"]),
                b64int(fields["PrivateExponent"]), b64int(fields["Exponent1"]),
                b64int(fields["Exponent2"]), b64int(fields["Coefficient"]),
                rsa.RSAPublicNumbers(e, n)).private_key()
        else:
            raise SystemExit("sig0.py: algorithm %d not supported" % self.algorithm)

    def signature(self, data):
        if self.algorithm == 13:
            r, s = decode_dss_signature(self.key.sign(data, ec.ECDSA(hashes.SHA256())))
            return r.to_bytes(32, "big") + s.to_bytes(32, "big")
        if self.algorithm == 15:
            return self.key.sign(data)
        return self.key.sign(data, padding.PKCS1v15(), hashes.SHA256())


def update(owner, zone="example.com", rtype="A", ident=4711):
    """An UPDATE adding OWNER.ZONE 300 A 192.0.2.7 (or a TXT record)."""
    if rtype == "A":
        rdata = bytes([192, 0, 2, 7])
        code = 1
    else:
        rdata = b"\x05sig0!"
        code = 16
    rr = name(owner + "." + zone) + struct.pack("!HHIH", code, 1, 300, len(rdata)) + rdata
    head = struct.pack("!HHHHHH", ident, 5 << 11, 1, 0, 1, 0)
    return head + name(zone) + struct.pack("!HH", 6, 1) + rr


def sign(msg, key, inception, expiration, signer=None, covered=0, owner=b"\0",
         rclass=255, ttl=0, tag=None, algorithm=None, by=None):
    """The message with a SIG(0) record appended. The signature covers the
    SIG RDATA without it, then the message as it was (RFC 2931 3.1).
    signer, tag and algorithm change what the record claims; by signs with
    another key than the one named."""
    rdata = struct.pack("!HBBIIIH", covered, key.algorithm if algorithm is None else algorithm,
                        0, 0, expiration & 0xFFFFFFFF, inception & 0xFFFFFFFF,
                        key.tag if tag is None else tag)
    rdata += name(key.name if signer is None else signer)
    rdata += (by or key).signature(rdata + msg)
    rr = owner + struct.pack("!HHIH", 24, rclass, ttl, len(rdata)) + rdata
    out = bytearray(msg + rr)
    struct.pack_into("!H", out, 10, struct.unpack_from("!H", msg, 10)[0] + 1)
    return bytes(out)


def send(port, msg, timeout=10):
    """Sends over UDP to 127.0.0.1@port; the reply's RCODE (or 'TIMEOUT')."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(timeout)
    try:
        s.sendto(msg, ("127.0.0.1", port))
        while True:
            reply = s.recv(65535)
            if len(reply) >= 12 and reply[:2] == msg[:2]:
                return ["NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED",
                        "YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH", "NOTZONE"][reply[3] & 0xF] \
                    if (reply[3] & 0xF) <= 10 else "RCODE%d" % (reply[3] & 0xF)
    except socket.timeout:
        return "TIMEOUT"
    finally:
        s.close()
