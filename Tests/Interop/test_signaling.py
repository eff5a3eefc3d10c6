"""Signaling protocol with real Python websockets clients (docs/signaling.md)."""
import asyncio
import json
import subprocess

import pytest
import websockets

from conftest import SERVER, SECRET, http_get, make_token


async def recv_type(ws, wanted, timeout=5):
    """Next message of type `wanted` (others are skipped)."""
    async with asyncio.timeout(timeout):
        while True:
            m = json.loads(await ws.recv())
            if m["type"] == wanted:
                return m


def connect(server, token, **query):
    q = "".join(f"&{k}={v}" for k, v in query.items())
    return websockets.connect(f"{server.ws}/rtc?access_token={token}{q}")


def test_two_participants_see_each_other_and_a_third_room_sees_nothing(server):
    async def scenario():
        async with connect(server, make_token("r1", "alice", publish=True, subscribe=True)) as alice:
            joined = await recv_type(alice, "joined")
            assert joined["room"]["name"] == "r1" and joined["participants"] == []
            async with connect(server, make_token("r2", "carol", subscribe=True)) as carol:
                await recv_type(carol, "joined")
                async with connect(server, make_token("r1", "bob", subscribe=True)) as bob:
                    bob_joined = await recv_type(bob, "joined")
                    assert [p["identity"] for p in bob_joined["participants"]] == ["alice"]
                    seen = await recv_type(alice, "participant_joined")
                    assert seen["participant"]["identity"] == "bob" and seen["participant"]["name"] == "Bob"

                    await bob.send(json.dumps({"type": "update_metadata", "id": "m1", "metadata": "raised-hand"}))
                    ack = await recv_type(bob, "ok")
                    assert ack["id"] == "m1"
                    update = await recv_type(alice, "participant_updated")
                    assert update["participant"]["identity"] == "bob" and update["participant"]["metadata"] == "raised-hand"
                left = await recv_type(alice, "participant_left")
                assert left["identity"] == "bob" and left["reason"] in ("left", "disconnected")
                # carol (room r2) heard nothing of r1.
                with pytest.raises(TimeoutError):
                    async with asyncio.timeout(0.5):
                        m = json.loads(await carol.recv())
                        raise AssertionError(f"room r2 received {m}")
    asyncio.run(scenario())


def test_the_audience_sees_the_stage_and_the_stage_sees_everyone(server):
    """Subscribe-only participants are listed to and announced to the stage only (docs/signaling.md §3)."""
    async def scenario():
        async with connect(server, make_token("hall", "host", publish=True, subscribe=True)) as host:
            await recv_type(host, "joined")
            async with connect(server, make_token("hall", "v1", subscribe=True)) as v1:
                assert [p["identity"] for p in (await recv_type(v1, "joined"))["participants"]] == ["host"]
                async with connect(server, make_token("hall", "v2", subscribe=True)) as v2:
                    joined = await recv_type(v2, "joined")
                    assert [p["identity"] for p in joined["participants"]] == ["host"]
                    assert joined["room"]["numParticipants"] == 3
                    heard = {(await recv_type(host, "participant_joined"))["participant"]["identity"] for _ in range(2)}
                    assert heard == {"v1", "v2"}
                    async with connect(server, make_token("hall", "speaker", publish=True, subscribe=True)) as speaker:
                        assert [p["identity"] for p in (await recv_type(speaker, "joined"))["participants"]] == ["host", "v1", "v2"]
                        assert (await recv_type(v1, "participant_joined"))["participant"]["identity"] == "speaker"
                # The speaker, then v2, left: the host hears both; v1 heard of no other viewer at all.
                assert [(await recv_type(host, "participant_left"))["identity"] for _ in range(2)] == ["speaker", "v2"]
                await v1.send(json.dumps({"type": "ping", "id": "p"}))
                async with asyncio.timeout(5):
                    while (m := json.loads(await v1.recv()))["type"] != "pong":
                        assert m.get("participant", {}).get("identity") not in ("v2",) and m.get("identity") != "v2", m
    asyncio.run(scenario())


@pytest.mark.parametrize("token_kind,status,code", [
    ("bad_signature", 401, "token_signature"),
    ("expired", 401, "token_expired"),
    ("not_yet_valid", 401, "token_not_yet_valid"),
    ("alg_none", 401, "token_algorithm"),
    ("garbage", 401, "token_malformed"),
    ("wrong_room", 403, "token_wrong_room"),
])
def test_refused_tokens_give_their_reason(server, token_kind, status, code):
    token = {
        "bad_signature": make_token("r1", "eve", secret="not-the-server-secret-at-all"),
        "expired": make_token("r1", "eve", ttl=-60),
        "not_yet_valid": make_token("r1", "eve", nbf_offset=3600),
        "alg_none": make_token("r1", "eve", alg="none"),
        "garbage": "not.a.jwt",
        "wrong_room": make_token("r1", "eve"),
    }[token_kind]
    query = "&room=r2" if token_kind == "wrong_room" else ""

    async def scenario():
        with pytest.raises(websockets.exceptions.InvalidStatus) as e:
            async with websockets.connect(f"{server.ws}/rtc?access_token={token}{query}"):
                pass
        response = e.value.response
        assert response.status_code == status
        body = json.loads(response.body)
        assert body["error"]["code"] == code and body["error"]["message"]
    asyncio.run(scenario())


def test_kicked_participant_is_disconnected_with_a_reason(server):
    async def scenario():
        async with connect(server, make_token("r1", "chair", admin=True)) as chair:
            await recv_type(chair, "joined")
            async with connect(server, make_token("r1", "noisy", subscribe=True)) as noisy:
                await recv_type(noisy, "joined")
                await chair.send(json.dumps({"type": "kick", "id": "k", "identity": "noisy", "reason": "off topic"}))
                leave = await recv_type(noisy, "leave")
                assert leave["reason"] == "kicked: off topic"
                with pytest.raises(websockets.exceptions.ConnectionClosed) as closed:
                    await noisy.recv()
                assert closed.value.rcvd.code == 1000 and closed.value.rcvd.reason == "kicked: off topic"
                gone = await recv_type(chair, "participant_left")
                assert gone["identity"] == "noisy" and gone["reason"] == "kicked: off topic"
    asyncio.run(scenario())


def test_rest_kick_and_room_lifecycle(server):
    admin = make_token("", "ops", admin=True)
    auth = {"Authorization": f"Bearer {admin}"}

    async def scenario():
        status, _, body = http_get(f"{server.base}/api/v1/rooms", {**auth, "Content-Type": "application/json"}, method="POST",
                                   body=json.dumps({"name": "briefing", "maxParticipants": 5, "emptyTimeout": 30}).encode())
        assert status == 201 and json.loads(body)["maxParticipants"] == 5
        assert http_get(f"{server.base}/api/v1/rooms", auth, method="POST", body=b'{"name":"briefing"}')[0] == 415
        async with connect(server, make_token("briefing", "dan", subscribe=True)) as dan:
            await recv_type(dan, "joined")
            status, _, body = http_get(f"{server.base}/api/v1/rooms/briefing", auth)
            assert status == 200 and [p["identity"] for p in json.loads(body)["participants"]] == ["dan"]
            status, _, _ = http_get(f"{server.base}/api/v1/rooms/briefing/participants/dan", auth, method="DELETE")
            assert status == 204
            leave = await recv_type(dan, "leave")
            assert leave["reason"].startswith("kicked")
        status, _, body = http_get(f"{server.base}/api/v1/rooms", auth)
        assert status == 200 and [r["name"] for r in json.loads(body)["rooms"]] == ["briefing"]
        assert http_get(f"{server.base}/api/v1/rooms/briefing", auth, method="DELETE")[0] == 204
        assert http_get(f"{server.base}/api/v1/rooms/briefing", auth)[0] == 404
        # Without the admin grant, or without a token: refused with a JSON reason.
        status, _, body = http_get(f"{server.base}/api/v1/rooms", {"Authorization": f"Bearer {make_token('x', 'u')}"})
        assert status == 403 and json.loads(body)["error"]["code"] == "permission_denied"
        status, _, body = http_get(f"{server.base}/api/v1/rooms")
        assert status == 401 and json.loads(body)["error"]["code"] == "token_missing"
        status, headers, _ = http_get(f"{server.base}/api/v1/rooms", auth, method="PUT", body=b"")
        assert status == 405 and headers["Allow"] == "GET, HEAD, POST"
    asyncio.run(scenario())


def test_reconnect_with_same_identity_replaces_old_session(server):
    async def scenario():
        # The watcher is on the stage (publish grant): audience members are announced to the stage only.
        async with connect(server, make_token("r1", "watcher", publish=True, subscribe=True)) as watcher:
            await recv_type(watcher, "joined")
            old = await websockets.connect(f"{server.ws}/rtc?access_token={make_token('r1', 'phone', subscribe=True)}")
            await recv_type(old, "joined")
            await recv_type(watcher, "participant_joined")
            async with connect(server, make_token("r1", "phone", subscribe=True)) as new:
                await recv_type(new, "joined")
                assert (await recv_type(old, "leave"))["reason"] == "replaced"
                updated = await recv_type(watcher, "participant_updated")
                assert updated["participant"]["identity"] == "phone"
            await old.close()
    asyncio.run(scenario())


def test_token_subcommand_mints_tokens_the_server_accepts(server):
    out = subprocess.run([str(SERVER), "token", "--secret", SECRET, "--room", "r9", "--identity", "cli",
                          "--name", "From CLI", "--publish", "--ttl", "60"], capture_output=True, text=True, check=True)
    token = out.stdout.strip()

    async def scenario():
        async with connect(server, token) as ws:
            joined = await recv_type(ws, "joined")
            p = joined["participant"]
            assert p["identity"] == "cli" and p["name"] == "From CLI" and p["permissions"]["publish"] is True
    asyncio.run(scenario())


def test_healthz_metrics_and_errors(server):
    status, _, body = http_get(f"{server.base}/healthz")
    assert status == 200 and body == b"ok"
    status, headers, body = http_get(f"{server.base}/metrics")
    assert status == 200 and headers["Content-Type"].startswith("text/plain; version=0.0.4")
    text = body.decode()
    for metric in ("shihui_rooms", "shihui_participants", "shihui_websocket_connections", "shihui_http_requests_total",
                   "shihui_signaling_bytes_received_total", "shihui_signaling_bytes_sent_total"):
        assert f"\n{metric}" in "\n" + text, metric
    assert 'shihui_http_requests_total{code="200"}' in text
    heap = [line for line in text.splitlines() if line.startswith("shihui_heap_bytes_in_use ")]
    assert len(heap) == 1 and int(heap[0].split()[1]) > 100_000, heap  # a running server holds more than 100 kB live
    # OpenSSL allocates from its own heap in the server (CryptoHeap.install before anything else):
    # the DTLS context and certificate already live there; 0 would mean OpenSSL fell back to malloc.
    gauges = {line.split()[0]: int(line.split()[1]) for line in text.splitlines() if line.startswith("shihui_crypto_heap_")}
    assert gauges.get("shihui_crypto_heap_bytes_mapped", 0) >= 65_536, gauges
    assert 0 < gauges.get("shihui_crypto_heap_bytes_in_use", 0) <= gauges["shihui_crypto_heap_bytes_mapped"], gauges
    assert gauges.get("shihui_crypto_heap_allocations_total", 0) > 0, gauges
    status, _, body = http_get(f"{server.base}/nowhere")
    assert status == 404 and json.loads(body)["error"]["code"] == "not_found"
