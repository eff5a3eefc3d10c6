"""Our SRTP/SRTCP against libsrtp (through pylibsrtp, aiortc's binding): packets protected by
one are unprotected by the other, both profiles, across the sequence-number wrap."""
import json
import os
import random
import struct

import pylibsrtp
import pytest

from conftest import WIRE_CHECK, wire_check

PROFILES = {
    "cm": (pylibsrtp.Policy.SRTP_PROFILE_AES128_CM_SHA1_80, 30),
    "gcm": (pylibsrtp.Policy.SRTP_PROFILE_AEAD_AES_128_GCM, 28),
}


def rtp_packets(count=300, first_seq=65400, ssrc=0x11223344):
    rng = random.Random(5)
    out = []
    for i in range(count):
        seq = (first_seq + i) & 0xFFFF
        csrcs = [0x0A0B0C0D] if i % 7 == 0 else []
        ext = b""
        first = 0x80 | len(csrcs)
        if i % 3 == 0:  # one-byte header extension (RFC 8285) with a transport-cc number
            first |= 0x10
            ext = struct.pack(">HH", 0xBEDE, 1) + bytes([0x31, i >> 8 & 0xFF, i & 0xFF, 0])
        header = struct.pack(">BBHII", first, 96 | (0x80 if i % 10 == 0 else 0), seq, i * 3000, ssrc)
        header += b"".join(struct.pack(">I", c) for c in csrcs) + ext
        out.append(header + os.urandom(rng.randint(1, 1100)))
    return out


def rtcp_packets(count=40, ssrc=0x11223344):
    """RR (no blocks) + SDES CNAME, a well-formed compound (RFC 3550 §6.1); the APP name varies."""
    return [struct.pack(">BBHI", 0x80, 201, 1, ssrc)
            + struct.pack(">BBHI", 0x81, 202, 3, ssrc) + b"\x01\x02ab\x00\x00\x00\x00"
            + struct.pack(">BBHI", 0x80, 204, 2, ssrc) + struct.pack(">I", i) for i in range(count)]


def frames(packets):
    return b"".join(struct.pack(">H", len(p)) + p for p in packets)


def run(profile, key, op, kind, packets):
    out = wire_check("srtp", frames(packets), "--profile", profile, "--key", key.hex(), "--op", op, "--kind", kind)
    return [bytes.fromhex(x) if isinstance(x, str) else x for x in out]


@pytest.mark.parametrize("profile", ["cm", "gcm"])
def test_libsrtp_protects_we_unprotect(profile):
    libsrtp_profile, key_len = PROFILES[profile]
    key = os.urandom(key_len)
    tx = pylibsrtp.Session(pylibsrtp.Policy(key=key, ssrc_type=pylibsrtp.Policy.SSRC_ANY_OUTBOUND, srtp_profile=libsrtp_profile))
    plain = rtp_packets()
    assert run(profile, key, "unprotect", "rtp", [tx.protect(p) for p in plain]) == plain
    plain_rtcp = rtcp_packets()
    assert run(profile, key, "unprotect", "rtcp", [tx.protect_rtcp(p) for p in plain_rtcp]) == plain_rtcp


@pytest.mark.parametrize("profile", ["cm", "gcm"])
def test_we_protect_libsrtp_unprotects(profile):
    libsrtp_profile, key_len = PROFILES[profile]
    key = os.urandom(key_len)
    rx = pylibsrtp.Session(pylibsrtp.Policy(key=key, ssrc_type=pylibsrtp.Policy.SSRC_ANY_INBOUND, srtp_profile=libsrtp_profile))
    plain = rtp_packets()
    protected = run(profile, key, "protect", "rtp", plain)
    assert [rx.unprotect(p) for p in protected] == plain
    plain_rtcp = rtcp_packets()
    protected_rtcp = run(profile, key, "protect", "rtcp", plain_rtcp)
    assert [rx.unprotect_rtcp(p) for p in protected_rtcp] == plain_rtcp


def test_forged_and_replayed_packets_are_refused():
    libsrtp_profile, key_len = PROFILES["cm"]
    key = os.urandom(key_len)
    tx = pylibsrtp.Session(pylibsrtp.Policy(key=key, ssrc_type=pylibsrtp.Policy.SSRC_ANY_OUTBOUND, srtp_profile=libsrtp_profile))
    good = [tx.protect(p) for p in rtp_packets(5)]
    forged = bytearray(good[2])
    forged[20] ^= 1
    out = run("cm", key, "unprotect", "rtp", [good[0], good[1], bytes(forged), good[1], good[2]])
    assert isinstance(out[0], bytes) and isinstance(out[1], bytes) and isinstance(out[4], bytes)
    assert out[2] == {"error": "authenticationFailed"} and out[3] == {"error": "replayed"}
