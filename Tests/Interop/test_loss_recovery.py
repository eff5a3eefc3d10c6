"""Loss between publisher and SFU is repaired by NACK: the server drops 5 % of incoming RTP
(test-only hook in the I/O layer), asks the aiortc publisher to retransmit, and an aiortc WHEP
viewer still decodes at least 99 % of the video frames."""
import asyncio
import tempfile

import aioice.ice

aioice.ice.get_host_addresses = lambda use_ipv4=True, use_ipv6=True: ["127.0.0.1"]

from aiortc import (RTCConfiguration, RTCPeerConnection, RTCSessionDescription,  # noqa: E402
                    VideoStreamTrack)

from conftest import RunningServer, make_token, metric  # noqa: E402
from test_whip_whep import request  # noqa: E402

SECONDS = 10
FRAME_TICKS = 3000  # aiortc's VideoStreamTrack: 30 fps at 90 kHz


def test_five_percent_loss_is_repaired_by_nack():
    with tempfile.TemporaryDirectory() as tmp:
        server = RunningServer(tmp, ["--test-inbound-loss", "0.05"])
        try:
            async def scenario():
                publisher = RTCPeerConnection(RTCConfiguration(iceServers=[]))
                publisher.addTrack(VideoStreamTrack())
                await publisher.setLocalDescription(await publisher.createOffer())
                token = make_token("lossy", "cam", publish=True)
                status, _, body = await asyncio.to_thread(request, server, "POST", "/whip/lossy", token, publisher.localDescription.sdp.encode())
                assert status == 201, body
                await publisher.setRemoteDescription(RTCSessionDescription(sdp=body.decode(), type="answer"))

                viewer = RTCPeerConnection(RTCConfiguration(iceServers=[]))
                viewer.addTransceiver("video", direction="recvonly")
                timestamps = []

                @viewer.on("track")
                def on_track(track):
                    async def consume():
                        while True:
                            try:
                                frame = await track.recv()
                            except Exception:  # noqa: BLE001 - ended
                                return
                            timestamps.append(frame.pts)
                    asyncio.ensure_future(consume())

                await viewer.setLocalDescription(await viewer.createOffer())
                view_token = make_token("lossy", "viewer", subscribe=True)
                status, _, body = await asyncio.to_thread(request, server, "POST", "/whep/lossy/cam", view_token, viewer.localDescription.sdp.encode())
                assert status == 201, body
                await viewer.setRemoteDescription(RTCSessionDescription(sdp=body.decode(), type="answer"))
                await asyncio.sleep(SECONDS)
                await viewer.close()
                await publisher.close()
                return timestamps

            timestamps = asyncio.run(scenario())
            # Frames between the first and last decoded ones form a contiguous 30 fps sequence.
            assert len(timestamps) > 100, len(timestamps)
            first, last = timestamps[0], timestamps[-1]
            expected = round((last - first) / FRAME_TICKS) + 1  # steps are 2999 or 3001 ticks (rounding)
            decoded = len({t for t in timestamps if first <= t <= last})
            dropped = metric(server, "shihui_media_packets_received_total")
            nacks = metric(server, "shihui_media_nacks_sent_total")
            print(f"\nloss_test decoded={decoded} expected={expected} ratio={decoded / expected:.4f} nacks_sent={nacks} packets_in={dropped}")
            assert nacks > 0, "the SFU sent no NACK although it dropped packets"
            assert decoded / expected >= 0.99, (decoded, expected)
        finally:
            server.stop()
