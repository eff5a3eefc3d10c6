"""Writes seed inputs for the fuzz targets into Fixtures/fuzz/<target>/seed-*: RFC vectors and
packets captured live on 127.0.0.1 from GStreamer, ffmpeg and aioice. Run with the test venv:
  .venv/bin/python tools/fuzz/make-seeds.py
"""
import hashlib
import os
import socket
import struct
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "Fixtures" / "fuzz"


def ice_password(key, ufrag):
    """The ICE password shihui's ICECredentialMinter derives for `ufrag` under `key`: HMAC-SHA256,
    read as 6-bit groups (most significant first), each an ice-char; 24 of them."""
    import hmac
    alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    mac = int.from_bytes(hmac.new(key, ufrag.encode(), "sha256").digest(), "big")
    return bytes(alphabet[(mac >> (256 - 6 * (i + 1))) & 63] for i in range(24))


def put(target, data, limit=None):
    d = OUT / target
    d.mkdir(parents=True, exist_ok=True)
    (d / ("seed-" + hashlib.sha1(data).hexdigest()[:12])).write_bytes(data)


def capture(pipeline_or_cmd, ports_needed, seconds):
    socks = []
    for _ in range(ports_needed):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
        s.settimeout(0.2)
        socks.append(s)
    ports = [s.getsockname()[1] for s in socks]
    proc = subprocess.Popen(pipeline_or_cmd(ports), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    got = [[] for _ in socks]
    import time
    end = time.time() + seconds
    while time.time() < end:
        for i, s in enumerate(socks):
            try:
                got[i].append(s.recv(65536))
            except socket.timeout:
                pass
    proc.kill()
    return got


def main():
    h = lambda s: bytes.fromhex("".join(s.split()))
    # STUN: RFC 5769 vectors (see Tests/MediaWireTests/STUNTests.swift) and aioice messages.
    for v in [
        "000100582112a442b7e7a701bc34d686fa87dfae802200105354554e20746573742063 6c69656e74002400046e0001ff80290008932ff9b151263b36000600096576746a3a6836765920202000080014 9aeaa70cbfd8cb56781ef2b5b2d3f249c1b571a280280004e57a3bcf",
        "0101003c2112a442b7e7a701bc34d686fa87dfae8022000b7465737420766563746f7220002000080001a147e112a64300080014 2b91f599fd9e90c38c7489f92af9ba53f06be7d780280004c07d4c96",
    ]:
        put("stun", h(v))
    sys.path.insert(0, str(ROOT / ".venv"))
    from aioice import stun
    m = stun.Message(message_method=stun.Method.BINDING, message_class=stun.Class.REQUEST)
    m.attributes["USERNAME"] = "a:b"
    m.attributes["PRIORITY"] = 1
    m.attributes["USE-CANDIDATE"] = None
    m.attributes["ICE-CONTROLLING"] = 7
    m.add_message_integrity(b"password")
    m.add_fingerprint()
    put("stun", bytes(m))
    # SDP: the captured browser offers.
    for f in sorted((ROOT / "Fixtures" / "sdp").glob("*.sdp")):
        put("sdp", f.read_bytes())
    # RTP, VP8 payloads, Opus payloads from GStreamer; RTCP from rtpbin.
    got = capture(lambda p: ["gst-launch-1.0", "-q", "rtpbin", "name=b",
                             "videotestsrc", "num-buffers=40", "!", "video/x-raw,width=320,height=180", "!",
                             "vp8enc", "deadline=1", "!", "rtpvp8pay", "pt=96", "mtu=500", "picture-id-mode=15-bit", "!",
                             "b.send_rtp_sink_0", "b.send_rtp_src_0", "!", "udpsink", "host=127.0.0.1", f"port={p[0]}",
                             "b.send_rtcp_src_0", "!", "udpsink", "host=127.0.0.1", f"port={p[1]}", "sync=false", "async=false",
                             "audiotestsrc", "num-buffers=20", "!", "opusenc", "!", "rtpopuspay", "pt=111", "!",
                             "udpsink", "host=127.0.0.1", f"port={p[2]}"], 3, 4.0)
    for pkt in got[0][:12] + got[2][:4]:
        put("rtp", pkt)
        hdr = 12 + 4 * (pkt[0] & 0x0F)
        if pkt[0] & 0x10:
            hdr += 4 + 4 * struct.unpack(">H", pkt[hdr + 2:hdr + 4])[0]
        put("vp8" if pkt[1] & 0x7F == 96 else "opus", pkt[hdr:])
        put("rtp-extension", bytes([3, 2]) + pkt)
    for pkt in got[1][:4]:
        put("rtcp", pkt)
    # H.264 payloads (RFC 6184): single NAL, STAP-A, FU-A, as in H264PayloadTests.
    for t in ["419a0210", "6588840033", "78000b6742c01fda014016ec044000046 8ce3c8000036 58884".replace(" ", ""), "7c85888400", "7c4533", "7800096742"]:
        put("h264", h(t))
    # RTP with RFC 8285 extensions and RTCP feedback built from the unit-test vectors.
    put("rtp", h("b2e0ffff ffffffff 00000001 0000000a 0000000b bede0001 10aa0000 c0ffee 000003"))
    put("rtp-extension", bytes([5, 3]) + h("906000010000000000000001bede000310aa21bbcc000033ddeeff1199"))
    put("rtcp", h("8fcd000a000000010000000200640014fffffe05200ce140a000040404040404040404040404ff38080c1000"))
    put("rtcp", h("81cd00040000000100000002006400110075000184ce000400000001000000000000000905000000"))
    put("rtcp", h("8fce0005 00000001 00000000 52454d42 010bd090 00001234"))
    put("opus", bytes([0xFC, 0x03]) + bytes(30))
    put("opus", bytes([0x7B, 0x83, 2, 10, 5]) + bytes(17))
    # Signaling server parsers: HTTP requests (first byte = split point), WebSocket frames,
    # signaling JSON, JWTs.
    for req in [b"GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n",
                b"POST /api/v1/rooms HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: 16\r\n\r\n{\"name\":\"room\"}",
                b"POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nWiki\r\n0\r\nT: 1\r\n\r\nGET / HTTP/1.0\r\n\r\n",
                b"GET /rtc?access_token=a.b.c HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"]:
        put("http-request", bytes([len(req) // 2]) + req)
    for fr in ["81853 7fa213d7f9f4d5158", "0183000000004865 6c80820000000 06c6f", "89800a0b0c0d", "88820000000003e8",
               "827e0100" + "00000000" + "00" * 256]:
        put("websocket-frame", h(fr.replace(" ", "")))
    for msg in ['{"type":"ping","id":"1"}', '{"type":"update_metadata","metadata":"m","name":"n"}', '{"type":"mute","track":"TR_1","muted":true}',
                '{"type":"kick","identity":"fuzz","reason":"r"}', '{"type":"offer","target":"publisher","sdp":"v=0"}', '{"type":"leave"}']:
        put("signaling-json", msg.encode())
    import base64 as b64, hmac as hm, json as js
    enc = lambda d: b64.urlsafe_b64encode(d).rstrip(b"=")
    hdr = enc(b'{"alg":"HS256","typ":"JWT"}')
    body = enc(js.dumps({"sub": "a", "room": "r", "exp": 10, "nbf": 0, "grants": {"admin": True}}).encode())
    sig = enc(hm.new(b"fuzz-secret", hdr + b"." + body, "sha256").digest())
    put("jwt", hdr + b"." + body + b"." + sig)
    put("jwt", hdr + b"." + body + b".")
    # Names: admitted ones (Latin, Chinese, punctuation) and refused ones (paths, controls, bidi).
    for name in ["drone-7", "应急指挥部", "li.si@unit:3", "a/b", "a\x00b", "a\r\nb", "x\u202ey", " 李四 ", ".hidden", "r" * 200]:
        put("name-rule", name.encode())
    # Ingress bodies (docs/api.md): a full one, a minimal one, refused ones.
    for body in ['{"identity":"drone-7","name":"无人机 7","kind":"drone","metadata":{"location":{"lat":30.27,"lon":120.15}},'
                 '"video":{"codec":"H264","payloadType":102,"profileLevelId":"42e01f"},"audio":{"codec":"opus","payloadType":111}}',
                 '{"identity":"cam","kind":"camera","video":{"codec":"VP8","payloadType":96}}',
                 '{"identity":"cam","kind":"camera","video":{"codec":"VP8","payloadType":96},"audio":{"codec":"opus","payloadType":96}}',
                 '{"identity":"a/b","kind":"encoder","audio":{"codec":"PCMA","payloadType":8}}']:
        put("ingress-request", body.encode())
    # Media datagrams (first byte = source port selector): a valid ICE check for the fuzz
    # transport (ufrag "fuzz"), then RTP-, RTCP- and DTLS-looking datagrams from the same source.
    check = stun.Message(message_method=stun.Method.BINDING, message_class=stun.Class.REQUEST)
    check.attributes["USERNAME"] = "fuzz:peer"
    check.attributes["PRIORITY"] = 1
    check.attributes["USE-CANDIDATE"] = None
    check.attributes["ICE-CONTROLLING"] = 1
    check.add_message_integrity(ice_password(b"fuzz-ice-key", "fuzz"))
    check.add_fingerprint()
    put("media-datagram", b"\x01" + bytes(check))
    put("media-datagram", b"\x01" + h("80600001000000010000002a") + bytes(40))
    put("media-datagram", b"\x01" + h("81c80006000000010000000000000000000000000000000000000000") + bytes(10))
    put("media-datagram", b"\x01" + h("16fefd000000000000000000") + bytes(60))
    put("media-datagram", b"\x05" + h("16fefd000000000000000000") + bytes(60))
    print("seeds:", {d.name: len(list(d.iterdir())) for d in sorted(OUT.iterdir())})


if __name__ == "__main__":
    main()
