"""Leaving a room by any path ends the leaver's media and re-offers everyone else's subscriber
connection without its tracks (issue 17: after the documented `leave`, the others got
`participant_left` but no new offer, its sections still `sendonly` 15 s later). Paths: `leave`,
`kick`, REST removal, a rejoin that replaces the session, WHIP DELETE, media failure, and the room
deleted. aiortc on both sides; candidates confined to 127.0.0.1."""
import asyncio
import json
import re

import aioice.ice
import pytest
import websockets

aioice.ice.get_host_addresses = lambda use_ipv4=True, use_ipv6=True: ["127.0.0.1"]

from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription  # noqa: E402

from conftest import RunningServer, make_token, metric  # noqa: E402
from test_meeting import CONFIG, Participant  # noqa: E402
from test_whip_whep import request, whip_publish  # noqa: E402

ROOM = "meeting"


def live_sections(sdp, identity):
    """How many m-sections of `sdp` carry `identity`'s tracks and are live (port ≠ 0)."""
    count = 0
    for section in sdp.split("\r\nm=")[1:]:
        port = int(section.split(" ", 2)[1])
        if port != 0 and re.search(rf"^a=msid:{re.escape(identity)} ", section, re.M):
            count += 1
    return count


class Observer:
    """Subscribes only: answers every subscriber offer and keeps them in order."""

    def __init__(self, server, identity="observer", admin=False):
        self.server, self.identity, self.admin = server, identity, admin
        self.offers, self.messages, self.pc, self.closed = [], [], None, None

    async def start(self):
        token = make_token(ROOM, self.identity, subscribe=True, admin=self.admin)
        self.ws = await websockets.connect(f"{self.server.ws}/rtc?access_token={token}", max_size=2**22)
        assert json.loads(await self.ws.recv())["type"] == "joined"
        self.reader = asyncio.ensure_future(self.read())

    async def read(self):
        try:
            async for text in self.ws:
                m = json.loads(text)
                self.messages.append(m)
                if m["type"] == "offer" and m["target"] == "subscriber":
                    self.offers.append(m["sdp"])
                    if self.pc is None:
                        self.pc = RTCPeerConnection(RTCConfiguration(**CONFIG))
                    await self.pc.setRemoteDescription(RTCSessionDescription(sdp=m["sdp"], type="offer"))
                    await self.pc.setLocalDescription(await self.pc.createAnswer())
                    await self.ws.send(json.dumps({"type": "answer", "target": "subscriber", "sdp": self.pc.localDescription.sdp}))
        except websockets.ConnectionClosed as e:
            self.closed = e
        else:
            self.closed = self.ws.close_code  # a clean close ends the loop without raising

    async def wait_for(self, predicate, seconds, what):
        for _ in range(int(seconds * 20)):
            if self.offers and predicate(self.offers[-1]):
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"{what}: last offer has {live_sections(self.offers[-1], 'alice') if self.offers else None} live sections of alice")

    async def sees(self, identity, sections=2):
        await self.wait_for(lambda sdp: live_sections(sdp, identity) == sections, 15, f"{identity}'s tracks were never offered")

    async def dropped(self, identity, since, seconds=5):
        """A new offer (after the first `since`) leaves `identity`'s sections out."""
        await self.wait_for(lambda sdp: live_sections(sdp, identity) == 0, seconds, f"not re-offered without {identity}")
        assert len(self.offers) > since, [live_sections(o, identity) for o in self.offers]

    async def close(self):
        self.reader.cancel()
        await self.ws.close()
        if self.pc:
            await self.pc.close()


async def meeting_with_alice(server, **observer):
    watcher = Observer(server, **observer)
    await watcher.start()
    alice = Participant(server, "alice")
    alice.strict = False
    await alice.run()
    await watcher.sees("alice")
    return watcher, alice


@pytest.mark.parametrize("path", ["leave", "kick", "rest", "replaced", "media_failure"])
def test_leaving_a_meeting_re_offers_the_others(tmp_path, path):
    # Media failure: the publisher's peer connection closes without signaling; the server notices
    # by its close_notify, its RTCP BYEs or, at the latest, consent expiry (short here).
    server = RunningServer(tmp_path, ["--ice-consent-timeout", "2"] if path == "media_failure" else [])

    async def scenario():
        watcher, alice = await meeting_with_alice(server, admin=(path == "kick"))
        since = len(watcher.offers)
        if path == "leave":
            await alice.ws.send(json.dumps({"type": "leave", "id": "bye"}))
        elif path == "kick":
            await watcher.ws.send(json.dumps({"type": "kick", "identity": "alice", "reason": "test"}))
        elif path == "rest":
            status, _, _ = await asyncio.to_thread(request, server, "DELETE", f"/api/v1/rooms/{ROOM}/participants/alice", make_token("", "ops", admin=True))
            assert status == 204
        elif path == "replaced":
            again = await websockets.connect(f"{server.ws}/rtc?access_token={make_token(ROOM, 'alice', publish=True, subscribe=True)}")
            assert json.loads(await again.recv())["participant"]["tracks"] == []
        elif path == "media_failure":
            for _ in range(200):  # connected first: before that only --connect-timeout ends it
                if alice.publisher.connectionState == "connected":
                    break
                await asyncio.sleep(0.05)
            assert alice.publisher.connectionState == "connected"
            await alice.publisher.close()  # close_notify and BYEs, no signaling: the WebSocket stays
        await watcher.dropped("alice", since, seconds=10 if path == "media_failure" else 5)
        if path == "media_failure":
            assert any(m["type"] == "error" and m["code"] == "media_failed" for m in alice.messages), alice.messages
        else:
            assert any(m["type"] == "participant_left" and m["identity"] == "alice" for m in watcher.messages) or path == "replaced"
        if path == "replaced":
            await again.close()
        await alice.close()
        await watcher.close()
    try:
        asyncio.run(scenario())
    finally:
        server.stop()


def test_a_whip_publisher_leaving_re_offers_the_meeting(server):
    async def scenario():
        watcher = Observer(server)
        await watcher.start()
        publisher, location, token = await whip_publish(server, ROOM, "alice")
        await watcher.sees("alice")
        since = len(watcher.offers)
        assert (await asyncio.to_thread(request, server, "DELETE", location, token))[0] == 200
        await watcher.dropped("alice", since)
        await publisher.close()
        await watcher.close()
    asyncio.run(scenario())


def test_deleting_the_room_ends_every_session_in_it(server):
    """The room's WebSocket participants are told and closed, and its WHIP publisher, which has
    no WebSocket to close, is ended too: its resource is gone and nothing is left connected."""
    async def scenario():
        watcher, alice = await meeting_with_alice(server)
        drone, location, drone_token = await whip_publish(server, ROOM, "drone")
        await watcher.sees("drone")
        assert metric(server, "shihui_participants") == 3
        status, _, _ = await asyncio.to_thread(request, server, "DELETE", f"/api/v1/rooms/{ROOM}", make_token("", "ops", admin=True))
        assert status == 204
        for _ in range(100):
            if watcher.closed is not None:
                break
            await asyncio.sleep(0.05)
        assert watcher.closed is not None and any(m.get("reason") == "room deleted" for m in watcher.messages), watcher.messages[-3:]
        assert metric(server, "shihui_participants") == 0
        status, _, body = await asyncio.to_thread(request, server, "DELETE", location, drone_token)
        assert status == 404, body  # ended with the room, not left behind
        status, _, _ = await asyncio.to_thread(request, server, "POST", f"/whep/{ROOM}/drone", make_token(ROOM, "late", subscribe=True),
                                               open(__file__.replace("Tests/Interop/test_leaving.py", "Fixtures/sdp/chromium-offer.sdp"), "rb").read())
        assert status == 404
        await drone.close()
        await alice.close()
        await watcher.close()
    asyncio.run(scenario())
