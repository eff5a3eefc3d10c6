"""Several tracks per participant (issue 17): a camera and a screen share, each with its own sid
and `source`, in meetings (the publisher connection renegotiated to add and stop the share, with
`sources` hints) and over WHIP/WHEP (two video sections each way, each in its own codec).
aiortc on both sides; candidates confined to 127.0.0.1."""
import asyncio
import json
import re

import aioice.ice
import av
import websockets

aioice.ice.get_host_addresses = lambda use_ipv4=True, use_ipv6=True: ["127.0.0.1"]

from aiortc import (AudioStreamTrack, RTCConfiguration, RTCPeerConnection,  # noqa: E402
                    RTCSessionDescription, VideoStreamTrack)

from conftest import make_token  # noqa: E402
from test_h264 import prefer  # noqa: E402
from test_meeting import CONFIG, Participant  # noqa: E402
from test_whip_whep import on_frames, request, whep_offer  # noqa: E402


def sections(sdp):
    """(kind, port, direction, codec, msid track id) per m-section, in order."""
    out = []
    for text in sdp.split("\r\nm=")[1:]:
        kind, port, _, first = text.split("\r\n")[0].split(" ")[:4]
        direction = re.search(r"^a=(sendrecv|sendonly|recvonly|inactive)", text, re.M)
        codec = re.search(rf"^a=rtpmap:{first} ([^/]+)/", text, re.M)
        msid = re.search(r"^a=msid:\S+ (\S+)", text, re.M)
        out.append((kind, int(port), direction and direction.group(1), codec and codec.group(1), msid and msid.group(1)))
    return out


class ScreenTrack(VideoStreamTrack):
    """A stand-in for a shared screen: frames of a size the camera's (640×480) are not, so a
    viewer can tell whether the two streams were ever mixed up."""

    async def recv(self):
        pts, time_base = await self.next_timestamp()
        frame = av.VideoFrame(width=320, height=180)
        for plane in frame.planes:
            plane.update(bytes(plane.buffer_size))
        frame.pts, frame.time_base = pts, time_base
        return frame


class Watcher(Participant):
    """A participant that also records the picture sizes it decodes per track."""

    def __init__(self, server, identity):
        super().__init__(server, identity)
        self.sizes = {}

    async def consume(self, track):
        key = (track.id, track.kind)
        self.frames.setdefault(key, 0)
        while True:
            try:
                frame = await track.recv()
            except Exception:  # noqa: BLE001 - the track ended
                return
            self.frames[key] += 1
            if track.kind == "video":
                self.sizes.setdefault(track.id, set()).add((frame.width, frame.height))


class Sharer(Participant):
    """A participant whose publisher connection is renegotiated to add and stop a screen share."""

    async def offer(self, labels):
        """Offers again, labelling transceivers (their mids are known once the offer is set)."""
        self.answer = asyncio.get_event_loop().create_future()
        await self.publisher.setLocalDescription(await self.publisher.createOffer())
        sources = {t.mid: source for t, source in labels}
        await self.ws.send(json.dumps({"type": "offer", "target": "publisher", "id": "re", "sdp": self.publisher.localDescription.sdp,
                                       "sources": sources}))
        answer = await asyncio.wait_for(self.answer, 10)
        await self.publisher.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
        return next(m for m in reversed(self.messages) if m["type"] == "answer")

    async def read(self):
        async for text in self.ws:
            m = json.loads(text)
            self.messages.append(m)
            if m["type"] == "answer" and m["target"] == "publisher":
                self.answer.set_result(m["sdp"])
            elif m["type"] == "offer" and m["target"] == "subscriber":
                await self.on_subscriber_offer(m["sdp"])
            elif m["type"] == "error" and self.strict:
                raise AssertionError(f"{self.identity}: {m}")


def latest_tracks(participant, identity):
    """The tracks `identity` has in the last participant_updated `participant` got about it."""
    for m in reversed(participant.messages):
        if m["type"] == "participant_updated" and m["participant"]["identity"] == identity:
            return m["participant"]["tracks"]
    return None


def test_a_screen_share_is_added_and_stopped_in_a_meeting(server):
    async def scenario():
        alice, bob = Sharer(server, "alice"), Watcher(server, "bob")
        await alice.run()
        await bob.run()
        await asyncio.sleep(2)
        first = next(m for m in alice.messages if m["type"] == "answer")
        assert [t["source"] for t in first["tracks"]] == ["camera", "microphone"], first["tracks"]
        camera_sid = next(t["sid"] for t in first["tracks"] if t["source"] == "camera")

        # Share: a second video track on the same connection, labelled by its mid.
        screen = alice.publisher.addTransceiver(ScreenTrack(), direction="sendonly")
        shared = await alice.offer([(screen, "screen")])
        assert sorted(t["source"] for t in shared["tracks"]) == ["camera", "microphone", "screen"], shared["tracks"]
        assert next(t["sid"] for t in shared["tracks"] if t["source"] == "camera") == camera_sid  # kept through renegotiation
        assert len({t["sid"] for t in shared["tracks"]}) == 3
        await asyncio.sleep(4)
        seen = latest_tracks(bob, "alice")
        offer = next(m["sdp"] for m in reversed(bob.messages) if m["type"] == "offer")
        during = dict(bob.frames)

        # Stop sharing: the section stops sending; only the screen leaves.
        screen.direction = "inactive"
        stopped = await alice.offer([])
        assert sorted(t["source"] for t in stopped["tracks"]) == ["camera", "microphone"], stopped["tracks"]
        await asyncio.sleep(1)
        after_stop = dict(bob.frames)
        await asyncio.sleep(2)
        final = dict(bob.frames)
        offer_after = next(m["sdp"] for m in reversed(bob.messages) if m["type"] == "offer")
        seen_after = latest_tracks(bob, "alice")
        for p in (alice, bob):
            await p.close()
        return seen, offer, during, after_stop, final, offer_after, seen_after, bob.sizes

    seen, offer, during, after_stop, final, offer_after, seen_after, sizes = asyncio.run(scenario())
    print(f"\nscreen_share during={during} final={final} sizes={sizes}")
    # Both videos use one payload type: each stream reached its own track only.
    assert sizes == {"alice-video": {(640, 480)}, "alice-screen": {(320, 180)}}, sizes
    assert sorted(t["source"] for t in seen) == ["camera", "microphone", "screen"], seen
    live = [s for s in sections(offer) if s[1] != 0]
    assert sorted(s[4] for s in live) == ["alice-audio", "alice-screen", "alice-video"], live
    # Bob decodes three tracks of Alice's: audio, camera and screen.
    assert during.get(("alice-screen", "video"), 0) >= 30, during
    assert during.get(("alice-video", "video"), 0) >= 30, during
    assert during.get(("alice-audio", "audio"), 0) >= 50, during
    # After the stop: the screen section is ended (port 0), the camera and audio flow on.
    assert [s[4] for s in sections(offer_after) if s[1] != 0 and s[2] == "sendonly"] == [s[4] for s in live if s[4] != "alice-screen"]
    assert sorted(t["source"] for t in seen_after) == ["camera", "microphone"], seen_after
    assert final.get(("alice-screen", "video"), 0) - after_stop.get(("alice-screen", "video"), 0) <= 2, (after_stop, final)
    assert final[("alice-video", "video")] - after_stop[("alice-video", "video")] >= 30, (after_stop, final)
    assert final[("alice-audio", "audio")] - after_stop[("alice-audio", "audio")] >= 50, (after_stop, final)


def test_whip_and_whep_carry_two_video_tracks_each_in_its_codec(server):
    """A WHIP offer with two video sections (H.264 camera, VP8 screen) publishes both; a WHEP
    viewer offering two video sections (VP8 and H.264 each) receives both, the camera answered in
    H.264 and the screen in VP8, and decodes each."""
    async def scenario():
        pub = RTCPeerConnection(RTCConfiguration(**CONFIG))
        camera = pub.addTransceiver(VideoStreamTrack(), direction="sendonly")
        prefer(camera, "video/H264")
        screen = pub.addTransceiver(VideoStreamTrack(), direction="sendonly")
        prefer(screen, "video/VP8")
        pub.addTrack(AudioStreamTrack())
        await pub.setLocalDescription(await pub.createOffer())
        token = make_token("two", "cam", publish=True)
        status, headers, body = await asyncio.to_thread(request, server, "POST", "/whip/two", token, pub.localDescription.sdp.encode())
        assert status == 201, body
        answered = sections(body.decode())
        assert [(s[0], s[2], s[3]) for s in answered] == [("video", "recvonly", "H264"), ("video", "recvonly", "VP8"), ("audio", "recvonly", "opus")], answered
        await pub.setRemoteDescription(RTCSessionDescription(sdp=body.decode(), type="answer"))

        admin = make_token("two", "ops", admin=True)
        status, _, room = await asyncio.to_thread(request, server, "GET", "/api/v1/rooms/two", admin, b"", None)
        tracks = json.loads(room)["participants"][0]["tracks"]

        viewer = RTCPeerConnection(RTCConfiguration(**CONFIG))
        viewer.addTransceiver("video", direction="recvonly")
        viewer.addTransceiver("video", direction="recvonly")
        viewer.addTransceiver("audio", direction="recvonly")
        frames = {}
        on_frames(viewer, lambda track, frame: frames.__setitem__(track.id, frames.get(track.id, 0) + 1))
        body, _, _ = await whep_offer(server, "two", "cam", viewer)
        for _ in range(150):
            if min(frames.get("cam-video", 0), frames.get("cam-screen", 0)) >= 30 and frames.get("cam-audio", 0) >= 50:
                break
            await asyncio.sleep(0.1)
        await viewer.close()
        await pub.close()
        return tracks, sections(body), frames

    tracks, view, frames = asyncio.run(scenario())
    print(f"\nwhep_two_videos sections={view} frames={frames}")
    assert sorted((t["source"], t["codec"]) for t in tracks) == [("camera", "H264"), ("microphone", "opus"), ("screen", "VP8")], tracks
    assert [(s[0], s[2], s[3], s[4]) for s in view] == [("video", "sendonly", "H264", "cam-video"), ("video", "sendonly", "VP8", "cam-screen"),
                                                      ("audio", "sendonly", "opus", "cam-audio")], view
    assert frames.get("cam-video", 0) >= 30 and frames.get("cam-screen", 0) >= 30 and frames.get("cam-audio", 0) >= 50, frames


def test_offer_sources_are_checked(server):
    """A `sources` hint must map mids to known sources; anything else is an invalid message."""
    async def scenario():
        token = make_token("hints", "alice", publish=True, subscribe=True)
        async with websockets.connect(f"{server.ws}/rtc?access_token={token}") as ws:
            assert json.loads(await ws.recv())["type"] == "joined"
            replies = []
            for sources in ({"0": "webcam"}, ["camera"], {str(i): "camera" for i in range(17)}):
                await ws.send(json.dumps({"type": "offer", "target": "publisher", "id": "x", "sdp": "v=0", "sources": sources}))
                replies.append(json.loads(await ws.recv()))
            return replies
    for reply in asyncio.run(scenario()):
        assert reply["type"] == "error" and reply["code"] == "invalid_message" and "sources" in reply["message"], reply
