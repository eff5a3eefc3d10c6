"""RTP and RTCP from GStreamer and ffmpeg (camera/drone-like sources) parse cleanly: VP8 payload
descriptors and keyframe sizes, Opus TOC durations, sequence continuity, RTCP SR/SDES compounds."""
import subprocess

from conftest import wire_check

WIDTH, HEIGHT, FRAMES = 640, 360, 60


def test_gstreamer_vp8_and_opus(capture_factory):
    cap = capture_factory(count=2)
    video_port, audio_port = cap.ports
    pipeline = (
        f"videotestsrc num-buffers={FRAMES} ! video/x-raw,width={WIDTH},height={HEIGHT},framerate=30/1 "
        f"! vp8enc deadline=1 keyframe-max-dist=30 ! rtpvp8pay pt=96 mtu=1200 picture-id-mode=15-bit "
        f"! udpsink host=127.0.0.1 port={video_port} "
        f"audiotestsrc num-buffers=50 samplesperbuffer=960 ! audio/x-raw,rate=48000,channels=2 "
        f"! opusenc frame-size=20 ! rtpopuspay pt=111 ! udpsink host=127.0.0.1 port={audio_port}"
    )
    proc = subprocess.Popen(["gst-launch-1.0", "-q", *pipeline.split()], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    cap.drain(until=lambda: proc.poll() is not None)
    assert proc.returncode == 0, proc.stderr.read().decode()

    video = wire_check("datagrams", cap.frames(0), "--vp8", "96")
    assert video["errors"] == []
    assert video["vp8Frames"] == FRAMES
    assert video["vp8Keyframes"] >= 2  # keyframe-max-dist=30 over 60 frames
    assert video["vp8KeyframeSizes"] == [f"{WIDTH}x{HEIGHT}"]
    assert video["markers"] == FRAMES  # one marker bit per frame (RFC 7741 §4.1)
    assert video["lost"] == 0 and video["ssrcs"] == 1

    audio = wire_check("datagrams", cap.frames(1), "--opus", "111")
    assert audio["errors"] == []
    assert audio["opusPackets"] >= 45
    assert audio["opusPacketSamples"] == [960]  # 20 ms at 48 kHz (RFC 6716 Table 2)
    assert audio["lost"] == 0


def test_ffmpeg_rtp_and_rtcp(capture_factory):
    cap = capture_factory(consecutive=True)
    rtp_port = cap.ports[0]
    cmd = ["ffmpeg", "-v", "error", "-re", "-f", "lavfi", "-i", f"testsrc=size=320x240:rate=25:duration=3",
           "-c:v", "libvpx", "-deadline", "realtime", "-g", "25", "-payload_type", "97",
           "-f", "rtp", f"rtp://127.0.0.1:{rtp_port}?pkt_size=1200"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    cap.drain(until=lambda: proc.poll() is not None)
    assert proc.returncode == 0, proc.stderr.read().decode()

    rtp = wire_check("datagrams", cap.frames(0), "--vp8", "97")
    assert rtp["errors"] == []
    assert rtp["vp8Frames"] == 75
    assert rtp["vp8KeyframeSizes"] == ["320x240"]
    rtcp = wire_check("datagrams", cap.frames(1))
    assert rtcp["errors"] == []
    assert rtcp["counts"].get("rtcp", 0) >= 1
    assert rtcp["rtcp"].get("sr", 0) >= 1  # ffmpeg sends bare sender reports


def test_gstreamer_rtpbin_sender_report_and_sdes(capture_factory):
    """rtpbin sends SR + SDES (CNAME) compounds on the RTCP port (RFC 3550 §6.1)."""
    cap = capture_factory(consecutive=True)
    rtp_port, rtcp_port = cap.ports
    pipeline = (
        f"rtpbin name=b videotestsrc num-buffers=60 ! video/x-raw,framerate=30/1 ! vp8enc deadline=1 "
        f"! rtpvp8pay pt=96 ! b.send_rtp_sink_0 b.send_rtp_src_0 ! udpsink host=127.0.0.1 port={rtp_port} "
        f"b.send_rtcp_src_0 ! udpsink host=127.0.0.1 port={rtcp_port} sync=false async=false"
    )
    proc = subprocess.Popen(["gst-launch-1.0", "-q", *pipeline.split()], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    # rtpbin sometimes never reaches EOS, so wait for two RTCP compounds and stop it ourselves.
    cap.drain(until=lambda: len(cap.received[1]) >= 2 or proc.poll() is not None)
    if proc.poll() is None:
        proc.kill()
    proc.wait()
    rtcp = wire_check("datagrams", cap.frames(1))
    assert rtcp["errors"] == []
    assert rtcp["rtcp"].get("sr", 0) >= 1 and rtcp["rtcp"].get("sdes", 0) >= 1
    # RFC 3550 §6.1: every compound starts with an SR or RR (RR before any RTP was sent) and has SDES.
    reports = rtcp["rtcp"].get("sr", 0) + rtcp["rtcp"].get("rr", 0)
    assert reports == rtcp["rtcp"]["sdes"] == rtcp["counts"]["rtcp"]
    video = wire_check("datagrams", cap.frames(0), "--vp8", "96")
    assert video["errors"] == [] and video["vp8Frames"] >= 1
