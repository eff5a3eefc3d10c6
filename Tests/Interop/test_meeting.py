"""Meetings over the signaling WebSocket with aiortc: each participant publishes VP8 + Opus on
its publisher connection (client offers) and receives the others on its subscriber connection
(server offers, renegotiated as tracks come). Three participants; each must decode the other two's
video and audio for 10 s. Once per SRTP profile. Candidates confined to 127.0.0.1."""
import asyncio
import json
import tempfile

import aioice.ice
import pytest
import websockets

aioice.ice.get_host_addresses = lambda use_ipv4=True, use_ipv6=True: ["127.0.0.1"]

from aiortc import (AudioStreamTrack, RTCBundlePolicy, RTCConfiguration,  # noqa: E402
                    RTCPeerConnection, RTCSessionDescription, VideoStreamTrack)

from conftest import RunningServer, make_token  # noqa: E402

SECONDS = 10
# max-bundle, as LiveKit-style clients use: with aiortc's default "balanced" policy, a first offer
# holding two sections of the same kind leaves the second one on its own transport (aiortc marks it
# bundled to the first transport of its kind and then skips it when applying the BUNDLE group).
CONFIG = dict(iceServers=[], bundlePolicy=RTCBundlePolicy.MAX_BUNDLE)


class Participant:
    def __init__(self, server, identity):
        self.server, self.identity = server, identity
        self.frames = {}  # (track id, kind) -> decoded frames
        self.publisher = RTCPeerConnection(RTCConfiguration(**CONFIG))
        self.subscriber = None
        self.answer = asyncio.get_event_loop().create_future()
        self.tasks = []
        self.messages = []  # everything the server sent, in order
        self.strict = True  # an error message fails the test

    async def run(self):
        token = make_token("meeting", self.identity, publish=True, subscribe=True)
        self.ws = await websockets.connect(f"{self.server.ws}/rtc?access_token={token}", max_size=2**22)
        assert json.loads(await self.ws.recv())["type"] == "joined"
        self.tasks.append(asyncio.ensure_future(self.read()))
        self.publisher.addTrack(VideoStreamTrack())
        self.publisher.addTrack(AudioStreamTrack())
        await self.publisher.setLocalDescription(await self.publisher.createOffer())
        await self.ws.send(json.dumps({"type": "offer", "target": "publisher", "id": "pub", "sdp": self.publisher.localDescription.sdp}))
        answer = await asyncio.wait_for(self.answer, 10)
        await self.publisher.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))

    async def read(self):
        async for text in self.ws:
            m = json.loads(text)
            self.messages.append(m)
            if m["type"] == "answer" and m["target"] == "publisher":
                self.tracks = {t["kind"]: t["sid"] for t in m["tracks"]}
                self.answer.set_result(m["sdp"])
            elif m["type"] == "offer" and m["target"] == "subscriber":
                await self.on_subscriber_offer(m["sdp"])
            elif m["type"] == "error" and self.strict:
                raise AssertionError(f"{self.identity}: {m}")

    async def on_subscriber_offer(self, sdp):
        if self.subscriber is None:
            self.subscriber = RTCPeerConnection(RTCConfiguration(**CONFIG))

            @self.subscriber.on("track")
            def on_track(track):
                self.tasks.append(asyncio.ensure_future(self.consume(track)))
        await self.subscriber.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer"))
        await self.subscriber.setLocalDescription(await self.subscriber.createAnswer())
        await self.ws.send(json.dumps({"type": "answer", "target": "subscriber", "sdp": self.subscriber.localDescription.sdp}))

    async def consume(self, track):
        key = (track.id, track.kind)
        self.frames.setdefault(key, 0)
        while True:
            try:
                await track.recv()
            except Exception:  # noqa: BLE001 - the track ended
                return
            self.frames[key] += 1

    async def close(self):
        for t in self.tasks:
            t.cancel()
        await self.ws.close()
        await self.publisher.close()
        if self.subscriber:
            await self.subscriber.close()


@pytest.mark.parametrize("profile", ["gcm", "cm"])
def test_three_participants_decode_each_other(profile):
    with tempfile.TemporaryDirectory() as tmp:
        server = RunningServer(tmp, ["--srtp-profiles", profile])
        try:
            async def scenario():
                people = [Participant(server, name) for name in ("alice", "bob", "carol")]
                for p in people:
                    await p.run()
                    await asyncio.sleep(0.3)
                await asyncio.sleep(SECONDS)
                result = {p.identity: dict(p.frames) for p in people}
                for p in people:
                    await p.close()
                return result

            frames = asyncio.run(scenario())
            print(f"\nmeeting_{profile}_decoded_frames={frames}")
            for me, got in frames.items():
                for other in {"alice", "bob", "carol"} - {me}:
                    video = got.get((f"{other}-video", "video"), 0)
                    audio = got.get((f"{other}-audio", "audio"), 0)
                    # 30 fps video and 50 audio frames/s for 10 s; allow start-up and renegotiation.
                    assert video >= 150, (me, other, got)
                    assert audio >= 250, (me, other, got)
        finally:
            server.stop()


def test_mute_pauses_and_unmute_resumes_video(server):
    """Muting stops the video a subscriber decodes; unmuting resumes it (on a keyframe)."""
    async def scenario():
        alice, bob = Participant(server, "alice"), Participant(server, "bob")
        await alice.run()
        await bob.run()
        await asyncio.sleep(3)
        key = ("alice-video", "video")
        assert bob.frames.get(key, 0) > 30, bob.frames
        await alice.ws.send(json.dumps({"type": "mute", "track": alice.tracks["video"], "muted": True}))
        await asyncio.sleep(0.5)
        during_start = bob.frames[key]
        await asyncio.sleep(2)
        during_mute = bob.frames[key] - during_start
        await alice.ws.send(json.dumps({"type": "mute", "track": alice.tracks["video"], "muted": False}))
        await asyncio.sleep(0.5)
        resumed_start = bob.frames[key]
        await asyncio.sleep(2)
        after_unmute = bob.frames[key] - resumed_start
        audio = bob.frames.get(("alice-audio", "audio"), 0)
        await alice.close()
        await bob.close()
        return during_mute, after_unmute, audio

    during_mute, after_unmute, audio = asyncio.run(scenario())
    print(f"\nmute_test frames_during_2s_mute={during_mute} frames_2s_after_unmute={after_unmute}")
    assert during_mute <= 2, during_mute          # nothing forwarded while muted
    assert after_unmute >= 40, after_unmute        # ~60 expected at 30 fps
    assert audio > 100                             # audio was not muted


def test_consent_expiry_closes_the_transport_and_tells_the_participant(tmp_path):
    """RFC 7675: alice's publisher connection stops answering ICE (closed on her side, WebSocket
    kept); after the consent timeout the server closes it, tells alice, removes her tracks from
    the room and re-offers bob's subscriber connection without them."""
    # Peers send consent checks about every 5 s (RFC 7675 §5.1; aioice does), so the timeout must
    # be longer than that or healthy transports would expire too.
    server = RunningServer(tmp_path, ["--ice-consent-timeout", "8"])
    try:
        async def scenario():
            alice, bob = Participant(server, "alice"), Participant(server, "bob")
            alice.strict = False
            await alice.run()
            await bob.run()
            await asyncio.sleep(2)
            assert bob.frames.get(("alice-video", "video"), 0) > 10, bob.frames
            offers_before = sum(1 for m in bob.messages if m["type"] == "offer")
            # Alice goes silent without saying goodbye: her DTLS close_notify (which would end
            # the transport at once, test_rtcp_reports.py) is swallowed, so only consent can.
            async def swallow():
                pass

            async def no_rtcp(packets):  # and her RTCP BYEs, which would end it at once too
                pass
            for transceiver in alice.publisher.getTransceivers():
                transceiver.sender.transport._write_ssl = swallow
                transceiver.sender._send_rtcp = no_rtcp
            await alice.publisher.close()  # no more consent checks from alice's publisher
            for _ in range(150):
                if any(m["type"] == "error" and m["code"] == "media_failed" for m in alice.messages):
                    break
                await asyncio.sleep(0.1)
            await asyncio.sleep(0.5)
            told = [m for m in alice.messages if m["type"] == "error"]
            updates = [m for m in bob.messages if m["type"] == "participant_updated" and m["participant"]["identity"] == "alice"]
            offers_after = sum(1 for m in bob.messages if m["type"] == "offer")
            last_offer = [m for m in bob.messages if m["type"] == "offer"][-1]["sdp"]
            await alice.close()
            await bob.close()
            return told, updates, offers_before, offers_after, last_offer

        told, updates, before, after, last_offer = asyncio.run(scenario())
        assert len(told) == 1 and told[0]["code"] == "media_failed" and "consent" in told[0]["message"], told
        assert updates and updates[-1]["participant"]["tracks"] == [], updates
        assert after > before  # bob's subscriber connection was re-offered...
        assert "a=sendonly" not in last_offer and "a=inactive" in last_offer  # ...without alice's tracks
    finally:
        server.stop()
