"""An aiortc participant for browser tests that run in a network namespace of their own (where
the test process cannot reach): it subscribes to the room and decodes every track, records what
it decoded per track id and what the room says each participant publishes, and can publish an
H.264 camera of its own from a given second. It writes a JSON line per second to --out and stops
after --seconds.

    room_watcher.py --url ws://127.0.0.1:7880 --token T [--publish-token T2 --publish-at S]
                    [--metrics-at S] --seconds N --out FILE
"""
import argparse
import asyncio
import json
import time
import urllib.request

import aioice.ice

aioice.ice.get_host_addresses = lambda use_ipv4=True, use_ipv6=True: ["127.0.0.1"]

import websockets  # noqa: E402
from aiortc import (AudioStreamTrack, RTCBundlePolicy, RTCConfiguration, RTCPeerConnection,  # noqa: E402
                    RTCRtpSender, RTCSessionDescription, VideoStreamTrack)

CONFIG = RTCConfiguration(iceServers=[], bundlePolicy=RTCBundlePolicy.MAX_BUNDLE)


class Watcher:
    def __init__(self, url, token):
        self.url, self.token = url, token
        self.frames, self.sizes, self.tracks = {}, {}, {}
        self.subscriber = None
        self.tasks = []

    async def run(self):
        self.ws = await websockets.connect(f"{self.url}/rtc?access_token={self.token}", max_size=2**22)
        joined = json.loads(await self.ws.recv())
        for p in joined["participants"]:
            self.tracks[p["identity"]] = p["tracks"]
        self.tasks.append(asyncio.ensure_future(self.read()))

    async def read(self):
        async for text in self.ws:
            m = json.loads(text)
            if m["type"] in ("participant_joined", "participant_updated"):
                self.tracks[m["participant"]["identity"]] = m["participant"]["tracks"]
            elif m["type"] == "participant_left":
                self.tracks.pop(m["identity"], None)
            elif m["type"] == "offer" and m["target"] == "subscriber":
                if self.subscriber is None:
                    self.subscriber = RTCPeerConnection(CONFIG)
                    self.subscriber.on("track", lambda track: self.tasks.append(asyncio.ensure_future(self.consume(track))))
                await self.subscriber.setRemoteDescription(RTCSessionDescription(sdp=m["sdp"], type="offer"))
                await self.subscriber.setLocalDescription(await self.subscriber.createAnswer())
                await self.ws.send(json.dumps({"type": "answer", "target": "subscriber", "sdp": self.subscriber.localDescription.sdp}))

    async def consume(self, track):
        self.frames.setdefault(track.id, 0)
        while True:
            try:
                frame = await track.recv()
            except Exception:  # noqa: BLE001 - the track ended
                return
            self.frames[track.id] += 1
            if track.kind == "video":
                self.sizes.setdefault(track.id, set()).add(f"{frame.width}x{frame.height}")


async def publish_h264(url, token):
    """A second participant publishing an H.264 camera and a microphone."""
    ws = await websockets.connect(f"{url}/rtc?access_token={token}", max_size=2**22)
    await ws.recv()
    pc = RTCPeerConnection(CONFIG)
    video = pc.addTransceiver(VideoStreamTrack(), direction="sendonly")
    video.setCodecPreferences([c for c in RTCRtpSender.getCapabilities("video").codecs if c.mimeType == "video/H264"])
    pc.addTrack(AudioStreamTrack())
    await pc.setLocalDescription(await pc.createOffer())
    await ws.send(json.dumps({"type": "offer", "target": "publisher", "sdp": pc.localDescription.sdp}))
    while True:
        m = json.loads(await ws.recv())
        if m["type"] == "answer":
            await pc.setRemoteDescription(RTCSessionDescription(sdp=m["sdp"], type="answer"))
            return ws, pc


async def main(args):
    watcher = Watcher(args.url, args.token)
    await watcher.run()
    started = time.monotonic()
    publisher = None
    metrics = None
    with open(args.out, "w") as out:
        while (elapsed := time.monotonic() - started) < args.seconds:
            await asyncio.sleep(1)
            if args.metrics_at is not None and metrics is None and elapsed >= args.metrics_at:
                metrics = await asyncio.to_thread(lambda: urllib.request.urlopen(args.url.replace("ws://", "http://") + "/metrics", timeout=5).read().decode())
            if args.publish_token and publisher is None and elapsed >= args.publish_at:
                publisher = await publish_h264(args.url, args.publish_token)
            out.write(json.dumps({"t": round(elapsed, 1), "frames": watcher.frames, "tracks": watcher.tracks,
                                  "sizes": {k: sorted(v) for k, v in watcher.sizes.items()}, "metrics": metrics}) + "\n")
            out.flush()
    for t in watcher.tasks:
        t.cancel()
    if publisher:
        await publisher[1].close()
        await publisher[0].close()
    if watcher.subscriber:
        await watcher.subscriber.close()
    await watcher.ws.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--publish-token")
    parser.add_argument("--publish-at", type=float, default=0)
    parser.add_argument("--metrics-at", type=float)
    parser.add_argument("--seconds", type=float, required=True)
    parser.add_argument("--out", required=True)
    asyncio.run(main(parser.parse_args()))
