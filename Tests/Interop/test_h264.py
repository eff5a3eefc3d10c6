"""H.264 (RFC 6184) through the SFU: aiortc publishes H.264 (forced with setCodecPreferences) and
other aiortc peers decode it, over WHIP/WHEP and in a meeting beside a VP8 publisher; and our
payload parser finds the keyframes in what GStreamer's x264enc ! rtph264pay sends. Candidates
confined to 127.0.0.1."""
import asyncio
import json
import re
import subprocess

import aioice.ice
import pytest
import websockets

aioice.ice.get_host_addresses = lambda use_ipv4=True, use_ipv6=True: ["127.0.0.1"]

from aiortc import (AudioStreamTrack, RTCConfiguration, RTCPeerConnection, RTCRtpSender,  # noqa: E402
                    RTCSessionDescription, VideoStreamTrack)

from conftest import make_token, wire_check  # noqa: E402
from test_meeting import CONFIG, Participant  # noqa: E402
from test_whip_whep import request, wait_for_frames, whep_view  # noqa: E402


def prefer(transceiver, mime):
    codecs = [c for c in RTCRtpSender.getCapabilities("video").codecs if c.mimeType == mime]
    assert codecs, mime
    transceiver.setCodecPreferences(codecs)


def video_codec(sdp):
    """The encoding name of the first format of the first live video section."""
    m = re.search(r"m=video [1-9]\d* \S+ (\d+)", sdp)
    return re.search(rf"a=rtpmap:{m.group(1)} ([^/]+)/", sdp).group(1) if m else None


def test_an_h264_whip_publisher_is_decoded_by_a_whep_viewer(server):
    async def scenario():
        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        video = pc.addTransceiver(VideoStreamTrack(), direction="sendonly")
        prefer(video, "video/H264")
        pc.addTrack(AudioStreamTrack())
        await pc.setLocalDescription(await pc.createOffer())
        token = make_token("h264", "cam", publish=True)
        status, headers, body = await asyncio.to_thread(request, server, "POST", "/whip/h264", token, pc.localDescription.sdp.encode())
        assert status == 201, body
        assert video_codec(body.decode()) == "H264"
        await pc.setRemoteDescription(RTCSessionDescription(sdp=body.decode(), type="answer"))
        counts = {"video": 0, "audio": 0}
        viewer, _, _, sizes = await whep_view(server, "h264", "cam", counts)  # offers VP8 and H.264
        assert video_codec(viewer.remoteDescription.sdp) == "H264"
        await wait_for_frames(counts, video=30, audio=50)
        print(f"\nh264_whep_decoded={counts} sizes={sorted(sizes)}")
        assert counts["video"] >= 30 and counts["audio"] >= 50, counts
        await viewer.close()
        await pc.close()
    asyncio.run(scenario())


def test_a_vp8_viewer_is_not_sent_h264(server):
    """A WHEP viewer that offers VP8 only gets no video section for an H.264 track (there is no
    transcoding): its video is rejected in the answer, its audio accepted."""
    async def scenario():
        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        prefer(pc.addTransceiver(VideoStreamTrack(), direction="sendonly"), "video/H264")
        pc.addTrack(AudioStreamTrack())
        await pc.setLocalDescription(await pc.createOffer())
        status, _, body = await asyncio.to_thread(request, server, "POST", "/whip/h264", make_token("h264", "cam", publish=True), pc.localDescription.sdp.encode())
        assert status == 201
        await pc.setRemoteDescription(RTCSessionDescription(sdp=body.decode(), type="answer"))
        viewer = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        prefer(viewer.addTransceiver("video", direction="recvonly"), "video/VP8")
        viewer.addTransceiver("audio", direction="recvonly")
        await viewer.setLocalDescription(await viewer.createOffer())
        status, _, answer = await asyncio.to_thread(request, server, "POST", "/whep/h264/cam", make_token("h264", "v", subscribe=True),
                                                    viewer.localDescription.sdp.encode())
        assert status == 201, answer
        assert re.search(r"^m=video 0 ", answer.decode(), re.M) and re.search(r"^m=audio 9 ", answer.decode(), re.M), answer
        await viewer.close()
        await pc.close()
    asyncio.run(scenario())


class H264Participant(Participant):
    """A meeting participant whose camera is sent in H.264."""

    async def run(self):
        token = make_token("meeting", self.identity, publish=True, subscribe=True)
        self.ws = await websockets.connect(f"{self.server.ws}/rtc?access_token={token}", max_size=2**22)
        assert json.loads(await self.ws.recv())["type"] == "joined"
        self.tasks.append(asyncio.ensure_future(self.read()))
        prefer(self.publisher.addTransceiver(VideoStreamTrack(), direction="sendonly"), "video/H264")
        self.publisher.addTrack(AudioStreamTrack())
        await self.publisher.setLocalDescription(await self.publisher.createOffer())
        await self.ws.send(json.dumps({"type": "offer", "target": "publisher", "id": "pub", "sdp": self.publisher.localDescription.sdp}))
        answer = await asyncio.wait_for(self.answer, 10)
        assert video_codec(answer) == "H264"
        await self.publisher.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))


def test_a_mixed_meeting_decodes_vp8_and_h264(server):
    """Alice publishes VP8, Bob H.264; Carol's subscriber connection is offered each in its own
    codec and decodes both, and Alice and Bob decode each other."""
    async def scenario():
        alice, bob, carol = Participant(server, "alice"), H264Participant(server, "bob"), Participant(server, "carol")
        for p in (alice, bob, carol):
            await p.run()
            await asyncio.sleep(0.3)
        await asyncio.sleep(8)
        offer = next(m["sdp"] for m in reversed(carol.messages) if m["type"] == "offer")
        codecs = {}
        for section in offer.split("\r\nm=")[1:]:
            owner = re.search(r"^a=msid:(\S+) ", section, re.M)
            if owner and section.startswith("video"):
                codecs[owner.group(1)] = re.search(r"a=rtpmap:\d+ ([^/]+)/", section).group(1)
        result = {p.identity: dict(p.frames) for p in (alice, bob, carol)}
        for p in (alice, bob, carol):
            await p.close()
        return codecs, result
    codecs, frames = asyncio.run(scenario())
    print(f"\nmixed_meeting codecs={codecs} frames={frames}")
    assert codecs == {"alice": "VP8", "bob": "H264"}, codecs
    for me, other in [("carol", "alice"), ("carol", "bob"), ("alice", "bob"), ("bob", "alice")]:
        assert frames[me].get((f"{other}-video", "video"), 0) >= 60, (me, other, frames[me])


def test_keyframes_are_found_in_x264_packets(capture_factory):
    """GStreamer's x264enc ! rtph264pay (SPS/PPS before each IDR, config-interval=-1): every
    packet parses, and keyframe starts are found once per keyframe interval."""
    if subprocess.run(["gst-inspect-1.0", "x264enc"], capture_output=True).returncode != 0:
        pytest.fail("x264enc is missing: make test installs gstreamer1.0-plugins-ugly")
    cap = capture_factory()
    proc = subprocess.run(["gst-launch-1.0", "-q", "videotestsrc", "num-buffers=90", "!", "video/x-raw,width=320,height=240,framerate=30/1", "!",
                           "x264enc", "tune=zerolatency", "speed-preset=ultrafast", "key-int-max=30", "bframes=0", "!",
                           "video/x-h264,profile=constrained-baseline", "!", "rtph264pay", "pt=96", "mtu=1000", "config-interval=-1", "!",
                           "udpsink", "host=127.0.0.1", f"port={cap.ports[0]}"], capture_output=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    cap.drain(lambda: len(cap.received[0]) > 0)
    summary = wire_check("datagrams", cap.frames(), "--h264", "96")
    h = summary["h264"]
    print(f"\nx264_h264={h}")
    assert summary["errors"] == [] and h["packets"] == summary["counts"]["rtp"]
    # 90 frames with an IDR picture every 30 (x264 may slice a picture: several IDR NAL units),
    # each with its SPS and PPS (in the same access unit, so the same RTP timestamp).
    assert h["fuA"] > 0 and h["idrFrames"] == 3, h
    assert h["idrFramesWithParameterSets"] == 3, h
    # Keyframe starts lie in those pictures only, never in the 87 others.
    assert h["keyframeStarts"] >= 3 and h["keyframeStartsOutsideIDRFrames"] == 0, h
