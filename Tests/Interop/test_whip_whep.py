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

from conftest import make_token  # noqa: E402


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


async def whep_view(server, room, identity, counts):
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    pc.addTransceiver("video", direction="recvonly")
    pc.addTransceiver("audio", direction="recvonly")
    sizes = set()

    @pc.on("track")
    def on_track(track):
        async def consume():
            while True:
                try:
                    frame = await track.recv()
                except Exception:  # track ended
                    return
                counts[track.kind] += 1
                if track.kind == "video":
                    sizes.add((frame.width, frame.height))
        asyncio.ensure_future(consume())

    await pc.setLocalDescription(await pc.createOffer())
    token = make_token(room, "viewer", subscribe=True)
    status, headers, body = await asyncio.to_thread(request, server, "POST", f"/whep/{room}/{identity}", token, pc.localDescription.sdp.encode())
    assert status == 201, body
    await pc.setRemoteDescription(RTCSessionDescription(sdp=body.decode(), type="answer"))
    return pc, headers["Location"], token, sizes


def test_whip_publisher_to_whep_viewer(server):
    async def scenario():
        publisher, pub_location, pub_token = await whip_publish(server, "live", "drone-1")
        counts = {"video": 0, "audio": 0}
        viewer, view_location, view_token, sizes = await whep_view(server, "live", "drone-1", counts)
        for _ in range(200):
            if counts["video"] >= 30 and counts["audio"] >= 50:
                break
            await asyncio.sleep(0.1)
        assert counts["video"] >= 30, counts
        assert counts["audio"] >= 50, counts
        assert sizes == {(640, 480)}, sizes
        print(f"\nwhep_viewer_decoded video_frames={counts['video']} audio_frames={counts['audio']} sizes={sorted(sizes)}")
        assert (await asyncio.to_thread(request, server, "DELETE", view_location, view_token))[0] == 200
        assert (await asyncio.to_thread(request, server, "DELETE", pub_location, pub_token))[0] == 200
        await viewer.close()
        await publisher.close()
    asyncio.run(scenario())
