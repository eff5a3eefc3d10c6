"""STUN interop with aioice (aiortc's ICE library): its Binding requests verify in our parser, and
our Binding responses verify in its parser, MESSAGE-INTEGRITY and FINGERPRINT included."""
import ipaddress
import os

from aioice import stun

from conftest import wire_check

PASSWORD = "0123456789abcdefghijklmnop"


def make_request(use_candidate):
    request = stun.Message(message_method=stun.Method.BINDING, message_class=stun.Class.REQUEST)
    request.attributes["USERNAME"] = "serverufrag:clientufrag"
    request.attributes["PRIORITY"] = 1853817087
    request.attributes["ICE-CONTROLLING"] = int.from_bytes(os.urandom(8), "big")
    if use_candidate:
        request.attributes["USE-CANDIDATE"] = None
    request.add_message_integrity(PASSWORD.encode())
    request.add_fingerprint()
    return request


def test_aioice_request_verifies_in_our_parser():
    for use_candidate in (False, True):
        request = make_request(use_candidate)
        out = wire_check("stun", bytes(request), "--password", PASSWORD)
        assert out["class"] == "request" and out["method"] == 1
        assert out["username"] == "serverufrag:clientufrag"
        assert out["priority"] == 1853817087
        assert out["controlling"] is True and out["useCandidate"] is use_candidate
        assert out["integrity"] is True and out["fingerprint"] is True
        assert out["transaction"] == request.transaction_id.hex()
        wrong = wire_check("stun", bytes(request), "--password", "not-the-password")
        assert wrong["integrity"] is False


def test_tampered_request_fails_integrity():
    data = bytearray(bytes(make_request(True)))
    data[30] ^= 0x40  # inside USERNAME
    out = wire_check("stun", bytes(data), "--password", PASSWORD)
    assert out["integrity"] is False and out["fingerprint"] is False


def test_our_response_verifies_in_aioice():
    request = make_request(True)
    for mapped in ("127.0.0.1:54321", "[::1]:9"):
        raw = wire_check("stun-response", b"", "--password", PASSWORD,
                         "--transaction", request.transaction_id.hex(), "--mapped", mapped)
        response = stun.parse_message(raw)  # raises ValueError on a bad FINGERPRINT
        assert "FINGERPRINT" in response.attributes
        assert response.check_message_integrity(PASSWORD.encode()) is True
        assert response.check_message_integrity(b"wrong") is False
        assert response.message_class == stun.Class.RESPONSE
        assert response.transaction_id == request.transaction_id
        host, port = response.attributes["XOR-MAPPED-ADDRESS"]
        want_host, want_port = mapped.rsplit(":", 1)
        assert ipaddress.ip_address(host) == ipaddress.ip_address(want_host.strip("[]"))
        assert port == int(want_port)
