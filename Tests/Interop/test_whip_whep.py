"""WHIP (RFC 9725) publish and WHEP view with aiortc on both ends, through our SFU: the viewer
decodes the publisher's video frames and audio. Every ICE candidate is confined to 127.0.0.1."""
import asyncio
import http.client
import json

import aioice.ice
import pytest

aioice.ice.get_host_addresses = lambda use_ipv4=True, use_ipv6=True: ["127.0.0.1"]

from aiortc import (AudioStreamTrack, RTCConfiguration, RTCPeerConnection,  # noqa: E402
                    RTCSessionDescription, VideoStreamTrack)

from conftest import make_token, metric  # noqa: E402


def request(server, method, path, token, body=b"", content_type="application/sdp"):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    headers = {"Authorization": f"Bearer {token}"}
    if body:
        headers["Content-Type"] = content_type
    conn.request(method, path, body=body, headers=headers)
    r = conn.getresponse()
    data = r.read()
    conn.close()
    return r.status, dict(r.getheaders()), data


async def whip_publish(server, room, identity):
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    pc.addTrack(VideoStreamTrack())
    pc.addTrack(AudioStreamTrack())
    await pc.setLocalDescription(await pc.createOffer())
    token = make_token(room, identity, publish=True)
    status, headers, body = await asyncio.to_thread(request, server, "POST", f"/whip/{room}", token, pc.localDescription.sdp.encode())
    assert status == 201, body
    assert headers["Content-Type"] == "application/sdp" and headers["Location"].startswith(f"/whip/{room}/")
    await pc.setRemoteDescription(RTCSessionDescription(sdp=body.decode(), type="answer"))
    return pc, headers["Location"], token


def on_frames(pc, handle):
    """Calls `handle(track, frame)` for every frame each remote track of `pc` decodes, until it ends."""
    @pc.on("track")
    def on_track(track):
        async def consume():
            while True:
                try:
                    frame = await track.recv()
                except Exception:  # noqa: BLE001 - the track ended
                    return
                handle(track, frame)
        asyncio.ensure_future(consume())


async def whep_offer(server, room, identity, pc):
    """Sends `pc`'s offer to WHEP for `identity` as viewer "viewer" and applies the answer;
    returns (answer SDP, resource Location, token)."""
    await pc.setLocalDescription(await pc.createOffer())
    token = make_token(room, "viewer", subscribe=True)
    status, headers, body = await asyncio.to_thread(request, server, "POST", f"/whep/{room}/{identity}", token, pc.localDescription.sdp.encode())
    assert status == 201, body
    await pc.setRemoteDescription(RTCSessionDescription(sdp=body.decode(), type="answer"))
    return body.decode(), headers["Location"], token


async def whep_view(server, room, identity, counts):
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    pc.addTransceiver("video", direction="recvonly")
    pc.addTransceiver("audio", direction="recvonly")
    sizes = set()

    def count(track, frame):
        counts[track.kind] += 1
        if track.kind == "video":
            sizes.add((frame.width, frame.height))
    on_frames(pc, count)
    _, location, token = await whep_offer(server, room, identity, pc)
    return pc, location, token, sizes


async def wait_for_frames(counts, video=30, audio=50, seconds=20):
    """Until the viewer decoded `video` and `audio` frames, or `seconds` passed."""
    for _ in range(seconds * 10):
        if counts["video"] >= video and counts["audio"] >= audio:
            return
        await asyncio.sleep(0.1)


def test_whip_publisher_to_whep_viewer(server):
    async def scenario():
        publisher, pub_location, pub_token = await whip_publish(server, "live", "drone-1")
        counts = {"video": 0, "audio": 0}
        viewer, view_location, view_token, sizes = await whep_view(server, "live", "drone-1", counts)
        await wait_for_frames(counts)
        assert counts["video"] >= 30, counts
        assert counts["audio"] >= 50, counts
        assert sizes == {(640, 480)}, sizes
        print(f"\nwhep_viewer_decoded video_frames={counts['video']} audio_frames={counts['audio']} sizes={sorted(sizes)}")
        assert (await asyncio.to_thread(request, server, "DELETE", view_location, view_token))[0] == 200
        assert (await asyncio.to_thread(request, server, "DELETE", pub_location, pub_token))[0] == 200
        await viewer.close()
        await publisher.close()
    asyncio.run(scenario())


def test_publishing_needs_the_publish_grant_and_the_right_room(server):
    async def scenario():
        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        pc.addTrack(VideoStreamTrack())
        await pc.setLocalDescription(await pc.createOffer())
        sdp = pc.localDescription.sdp.encode()
        viewer_only = make_token("live", "eve", subscribe=True)
        status, _, body = await asyncio.to_thread(request, server, "POST", "/whip/live", viewer_only, sdp)
        assert status == 403 and json.loads(body)["error"]["code"] == "permission_denied"
        other_room = make_token("elsewhere", "eve", publish=True)
        status, _, body = await asyncio.to_thread(request, server, "POST", "/whip/live", other_room, sdp)
        assert status == 403 and json.loads(body)["error"]["code"] == "token_wrong_room"
        status, _, _ = await asyncio.to_thread(request, server, "POST", "/whip/live", make_token("live", "eve", publish=True), sdp, "text/plain")
        assert status == 415
        status, headers, _ = await asyncio.to_thread(request, server, "GET", "/whip/live/nope", make_token("live", "eve", publish=True))
        assert status == 405 and headers["Allow"] == "DELETE"
        status, _, body = await asyncio.to_thread(request, server, "POST", "/whep/live/nobody", make_token("live", "v", subscribe=True), sdp)
        assert status == 404 and json.loads(body)["error"]["code"] == "publisher_not_found"
        await pc.close()
    asyncio.run(scenario())


def test_rtp_from_an_unknown_address_is_dropped_and_counted(server):
    import re
    import socket
    port = int(re.search(r"media UDP 127\.0\.0\.1:(\d+)", server.banner).group(1))
    before = metric(server, "shihui_media_dropped_unknown_source_total")
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for i in range(20):
        s.sendto(bytes([0x80, 96, 0, i]) + bytes(8) + b"payload", ("127.0.0.1", port))
    s.close()
    for _ in range(50):
        if metric(server, "shihui_media_dropped_unknown_source_total") >= before + 20:
            break
        asyncio.run(asyncio.sleep(0.05))
    assert metric(server, "shihui_media_dropped_unknown_source_total") == before + 20
    assert metric(server, "shihui_media_packets_sent_total") == 0


def test_forged_dtls_fingerprint_is_refused(server):
    """The offer's fingerprint is altered, so aiortc's real certificate no longer matches it."""
    async def scenario():
        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        pc.addTrack(VideoStreamTrack())
        await pc.setLocalDescription(await pc.createOffer())
        sdp = pc.localDescription.sdp
        forged = re.sub(r"(a=fingerprint:sha-256 )([0-9A-F]{2})", lambda m: m.group(1) + ("00" if m.group(2) != "00" else "11"), sdp)
        assert forged != sdp
        token = make_token("live", "mallory", publish=True)
        status, _, body = await asyncio.to_thread(request, server, "POST", "/whip/live", token, forged.encode())
        assert status == 201
        await pc.setRemoteDescription(RTCSessionDescription(sdp=body.decode(), type="answer"))
        for _ in range(100):
            if metric(server, "shihui_media_dtls_failures_total") >= 1:
                break
            await asyncio.sleep(0.1)
        assert metric(server, "shihui_media_dtls_failures_total") == 1
        assert metric(server, "shihui_media_transports_connected_total") == 0
        await pc.close()
    import re
    asyncio.run(scenario())


def test_whip_publisher_is_received_by_a_meeting_participant(server):
    """A drone publishing over WHIP appears in the room; a meeting participant's subscriber
    connection (server-offered over the WebSocket) decodes its video and audio."""
    import websockets
    from aiortc import RTCBundlePolicy

    async def scenario():
        token = make_token("command", "commander", subscribe=True)
        ws = await websockets.connect(f"{server.ws}/rtc?access_token={token}", max_size=2**22)
        assert json.loads(await ws.recv())["type"] == "joined"
        publisher, location, pub_token = await whip_publish(server, "command", "drone-7")
        counts = {"video": 0, "audio": 0}
        pc = RTCPeerConnection(RTCConfiguration(iceServers=[], bundlePolicy=RTCBundlePolicy.MAX_BUNDLE))
        tasks = []

        @pc.on("track")
        def on_track(track):
            async def consume():
                while True:
                    try:
                        await track.recv()
                    except Exception:  # noqa: BLE001 - ended
                        return
                    counts[track.kind] += 1
            tasks.append(asyncio.ensure_future(consume()))

        seen_drone = False
        async with asyncio.timeout(20):
            while counts["video"] < 30 or counts["audio"] < 50:
                try:
                    text = await asyncio.wait_for(ws.recv(), 0.2)
                except asyncio.TimeoutError:
                    continue
                m = json.loads(text)
                if m["type"] in ("participant_joined", "participant_updated") and m["participant"]["identity"] == "drone-7":
                    seen_drone = seen_drone or bool(m["participant"]["tracks"])
                if m["type"] == "offer" and m["target"] == "subscriber":
                    await pc.setRemoteDescription(RTCSessionDescription(sdp=m["sdp"], type="offer"))
                    await pc.setLocalDescription(await pc.createAnswer())
                    await ws.send(json.dumps({"type": "answer", "target": "subscriber", "sdp": pc.localDescription.sdp}))
        assert seen_drone, "the WHIP publisher was not announced with its tracks"
        assert counts["video"] >= 30 and counts["audio"] >= 50, counts
        for t in tasks:
            t.cancel()
        assert (await asyncio.to_thread(request, server, "DELETE", location, pub_token))[0] == 200
        await ws.close()
        await pc.close()
        await publisher.close()
    asyncio.run(scenario())


def test_announce_ip_is_put_in_the_candidates(tmp_path):
    """--announce-ip replaces the bound address in our candidates (the SDP is only read here, never
    used: no traffic goes to the documentation address 192.0.2.10)."""
    from conftest import RunningServer
    srv = RunningServer(tmp_path, ["--announce-ip", "192.0.2.10"])
    try:
        offer = open(__file__.replace("Tests/Interop/test_whip_whep.py", "Fixtures/sdp/chromium-offer.sdp"), "rb").read()
        status, _, body = request(srv, "POST", "/whip/r", make_token("r", "cam", publish=True), offer)
        assert status == 201
        candidates = [l for l in body.decode().splitlines() if l.startswith("a=candidate:")]
        assert candidates and all(" 192.0.2.10 " in c for c in candidates), candidates
    finally:
        srv.stop()


def test_ipv6_media_whip_to_whep_over_loopback(tmp_path):
    """The media plane on IPv6: the UDP port bound to [::1], aiortc's candidates confined to ::1;
    the WHEP viewer decodes the WHIP publisher's video and audio, and the answer's candidate is
    the IPv6 address."""
    from conftest import RunningServer
    server = RunningServer(tmp_path, ["--udp", "[::1]:0"])
    saved = aioice.ice.get_host_addresses
    aioice.ice.get_host_addresses = lambda use_ipv4=True, use_ipv6=True: ["::1"]
    try:
        async def scenario():
            publisher, pub_location, pub_token = await whip_publish(server, "v6", "cam")
            answer = publisher.remoteDescription.sdp
            counts = {"video": 0, "audio": 0}
            viewer, view_location, view_token, _ = await whep_view(server, "v6", "cam", counts)
            await wait_for_frames(counts)
            await viewer.close()
            await publisher.close()
            return answer, counts

        answer, counts = asyncio.run(scenario())
        candidates = [line for line in answer.splitlines() if line.startswith("a=candidate")]
        print(f"\nipv6 candidates={candidates} decoded={counts}")
        assert candidates and all(" ::1 " in c for c in candidates), candidates
        assert counts["video"] >= 30 and counts["audio"] >= 50, counts
    finally:
        aioice.ice.get_host_addresses = saved
        server.stop()
