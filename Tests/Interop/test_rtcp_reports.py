"""RTCP reports per hop, judged by aiortc (RFC 3550 §6.4): the SFU's RRs let a publisher compute
its round-trip time from LSR/DLSR, and the SRs a subscriber receives map the RTP clock to wall
time consistently with the packets it receives (both ends share this machine's clock)."""
import asyncio
import time

import aioice.ice

aioice.ice.get_host_addresses = lambda use_ipv4=True, use_ipv6=True: ["127.0.0.1"]

from aiortc.rtcrtpreceiver import RTCRtpReceiver  # noqa: E402
from aiortc.rtp import RtcpSrPacket  # noqa: E402

from conftest import RunningServer  # noqa: E402
from test_meeting import Participant  # noqa: E402

NTP_UNIX_OFFSET = 2_208_988_800


class ReceiverTap:
    """Records, per SSRC on bob's receivers, the newest RTP packet (timestamp, wall arrival,
    count so far) and each SR with what had arrived when it came."""

    def __init__(self):
        self.newest, self.count, self.reports = {}, {}, []
        rtp, rtcp = RTCRtpReceiver._handle_rtp_packet, RTCRtpReceiver._handle_rtcp_packet
        tap = self

        async def on_rtp(receiver, packet, arrival_time_ms):
            now = time.time()
            ssrc = packet.ssrc
            tap.count[ssrc] = tap.count.get(ssrc, 0) + 1
            last = tap.newest.get(ssrc)
            if last is None or (packet.sequence_number - last[0]) % 65536 < 32768:  # not a retransmission
                tap.newest[ssrc] = (packet.sequence_number, packet.timestamp, now)
            await rtp(receiver, packet, arrival_time_ms)

        async def on_rtcp(receiver, packet):
            if isinstance(packet, RtcpSrPacket) and packet.ssrc in tap.newest:
                tap.reports.append((packet, receiver.track.kind, tap.newest[packet.ssrc], tap.count[packet.ssrc]))
            await rtcp(receiver, packet)

        self.restore = lambda: (setattr(RTCRtpReceiver, "_handle_rtp_packet", rtp), setattr(RTCRtpReceiver, "_handle_rtcp_packet", rtcp))
        RTCRtpReceiver._handle_rtp_packet = on_rtp
        RTCRtpReceiver._handle_rtcp_packet = on_rtcp


def test_receiver_reports_give_the_publisher_its_rtt_and_sender_reports_map_clocks(tmp_path):
    server = RunningServer(tmp_path)
    tap = ReceiverTap()
    try:
        async def scenario():
            alice, bob = Participant(server, "alice"), Participant(server, "bob")
            await alice.run()
            await bob.run()
            await asyncio.sleep(6)
            stats = await alice.publisher.getStats()
            await alice.close()
            await bob.close()
            return stats

        stats = asyncio.run(scenario())
    finally:
        tap.restore()
        server.stop()

    remote_inbound = [s for s in stats.values() if s.type == "remote-inbound-rtp"]
    print(f"\npublisher remote-inbound-rtp: {[(s.kind, s.roundTripTime, s.packetsLost, s.fractionLost) for s in remote_inbound]}")
    assert {s.kind for s in remote_inbound} == {"audio", "video"}, remote_inbound
    for s in remote_inbound:
        # aiortc sets roundTripTime only when our LSR equals its last SR and DLSR is non-zero.
        assert s.roundTripTime is not None and 0 <= s.roundTripTime < 0.25, s
        assert s.packetsLost <= 2 and s.fractionLost == 0, s

    kinds = {kind for _, kind, _, _ in tap.reports}
    assert kinds == {"audio", "video"}, tap.reports
    errors = []
    for sr, kind, (_, ts, arrived), count in tap.reports:
        rate = 90_000 if kind == "video" else 48_000
        sr_wall = (sr.sender_info.ntp_timestamp >> 32) - NTP_UNIX_OFFSET + (sr.sender_info.ntp_timestamp & 0xFFFFFFFF) / 2**32
        # Where the SR puts the newest packet's timestamp on the wall clock, against when it arrived.
        ticks = (sr.sender_info.rtp_timestamp - ts + 2**31) % 2**32 - 2**31
        errors.append((kind, sr_wall - ticks / rate - arrived))
        assert abs(sr.sender_info.packet_count - count) <= 10, (kind, sr.sender_info.packet_count, count)
    print(f"SR mapping error (s) per report: {[(k, round(e, 4)) for k, e in errors]}")
    for kind, error in errors:
        # Video frames are packetised after encoding, so their timestamps lag arrival a little.
        assert abs(error) < 0.08, (kind, error, errors)


def test_close_notify_unpublishes_at_once(tmp_path):
    """A publisher that closes its peer connection sends DTLS close_notify: its tracks leave the
    room within a second, long before any consent timeout."""
    server = RunningServer(tmp_path)
    try:
        async def scenario():
            alice, bob = Participant(server, "alice"), Participant(server, "bob")
            alice.strict = False
            await alice.run()
            await bob.run()
            await asyncio.sleep(2)
            assert bob.frames.get(("alice-video", "video"), 0) > 10, bob.frames
            # Her RTCP BYEs are swallowed, so that the close_notify is what ends it (BYEs alone
            # end it too: test_leaving.py).
            async def no_rtcp(packets):
                pass
            for transceiver in alice.publisher.getTransceivers():
                transceiver.sender._send_rtcp = no_rtcp
            closed_at = time.monotonic()
            await alice.publisher.close()
            gone = None
            for _ in range(50):
                updates = [m for m in bob.messages if m["type"] == "participant_updated" and m["participant"]["identity"] == "alice"]
                if updates and updates[-1]["participant"]["tracks"] == []:
                    gone = time.monotonic() - closed_at
                    break
                await asyncio.sleep(0.1)
            told = [m for m in alice.messages if m["type"] == "error"]
            await alice.close()
            await bob.close()
            return gone, told

        gone, told = asyncio.run(scenario())
        print(f"\ntracks gone {gone} s after close; alice was told {told}")
        assert gone is not None and gone < 2, gone
        assert len(told) == 1 and "close_notify" in told[0]["message"], told
    finally:
        server.stop()
