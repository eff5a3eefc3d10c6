"""Plain-RTP ingress (issue 19, first part): GStreamer pushes VP8 + Opus, or H.264 + Opus, into a
port the server hands out; aiortc WHEP viewers and meeting participants decode the video and
receive the audio; ffmpeg (`-f rtp`) is another source; a second sender to the latched port is
ignored and counted; the REST contract refuses what it must (bad bodies, wrong tokens, other
rooms, an exhausted port range) and gives ports back (delete, idle timeout). Every process
started is stopped by its PID; candidates are confined to 127.0.0.1."""
import asyncio
import http.client
import json
import socket
import subprocess
import time

import aioice.ice
import websockets

aioice.ice.get_host_addresses = lambda use_ipv4=True, use_ipv6=True: ["127.0.0.1"]

from conftest import RunningServer, make_token  # noqa: E402
from test_meeting import Participant  # noqa: E402
from aiortc import RTCConfiguration, RTCPeerConnection  # noqa: E402
from test_whip_whep import on_frames, request, wait_for_frames, whep_offer, whep_view  # noqa: E402

ADMIN = make_token("", "ops", admin=True)


def api(server, method, path, body=None, token=ADMIN, content_type="application/json"):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    data = None
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        headers["Content-Type"] = content_type
    conn.request(method, path, body=data, headers=headers)
    r = conn.getresponse()
    raw = r.read()
    conn.close()
    return r.status, (json.loads(raw) if raw and r.getheader("Content-Type", "").startswith("application/json") else raw)


VP8_OPUS = {"video": {"codec": "VP8", "payloadType": 96}, "audio": {"codec": "opus", "payloadType": 111}}


def gst_push(port, video="vp8"):
    """GStreamer sending video + Opus audio from one UDP port (funnel) to `port`."""
    if video == "vp8":
        encode = "vp8enc deadline=1 keyframe-max-dist=30 ! rtpvp8pay pt=96"
    else:
        encode = ("x264enc tune=zerolatency speed-preset=ultrafast key-int-max=30 ! video/x-h264,profile=constrained-baseline "
                  "! rtph264pay pt=102 config-interval=1 aggregate-mode=zero-latency")
    pipeline = (f"funnel name=f ! udpsink host=127.0.0.1 port={port} "
                f"videotestsrc is-live=true pattern=ball ! video/x-raw,width=320,height=240,framerate=30/1 ! {encode} ! f. "
                "audiotestsrc is-live=true freq=440 ! audioconvert ! audioresample ! opusenc ! rtpopuspay pt=111 ! f.")
    return gst_launch(pipeline)


def gst_launch(pipeline):
    """gst-launch-1.0 running `pipeline` (stopped by `stop`)."""
    return subprocess.Popen(["gst-launch-1.0", "-q", *pipeline.split()], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def stop(proc):
    proc.terminate()
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def test_gstreamer_vp8_opus_reaches_whep_viewers_and_meetings(server):
    status, created = api(server, "POST", "/api/v1/rooms/meeting/ingress",
                          {"identity": "drone-7", "name": "无人机 7", "kind": "drone",
                           "metadata": {"unit": "消防支队", "location": {"lat": 30.27, "lon": 120.15}}, **VP8_OPUS})
    assert status == 201, created
    assert created["host"] == "127.0.0.1" and 40000 <= created["port"] <= 40199 and created["state"] == "waiting", created
    gst = gst_push(created["port"])
    try:
        async def scenario():
            watcher = Participant(server, "commander")
            await watcher.run()
            counts = {"video": 0, "audio": 0}
            viewer, _, _, sizes = await whep_view(server, "meeting", "drone-7", counts)
            await wait_for_frames(counts, video=60, audio=100)
            for _ in range(100):
                if watcher.frames.get(("drone-7-video", "video"), 0) >= 60 and watcher.frames.get(("drone-7-audio", "audio"), 0) >= 100:
                    break
                await asyncio.sleep(0.1)
            # A second sender to the latched port is ignored and counted.
            stray = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            for i in range(25):
                stray.sendto(bytes([0x80, 96, 0, i]) + bytes(40), ("127.0.0.1", created["port"]))
            stray.close()
            await asyncio.sleep(0.5)
            listing = await asyncio.to_thread(api, server, "GET", "/api/v1/rooms/meeting/ingress")
            _, room = await asyncio.to_thread(api, server, "GET", "/api/v1/rooms/meeting")
            drone = next((p for p in room["participants"] if p["identity"] == "drone-7"), None)
            frames = dict(watcher.frames)
            await viewer.close()
            await watcher.close()
            return counts, sizes, frames, listing, drone
        counts, sizes, frames, (status, listing), drone = asyncio.run(scenario())
    finally:
        stop(gst)
    print(f"\ningress_vp8 whep={counts} sizes={sorted(sizes)} meeting={frames} listing={listing}")
    assert counts["video"] >= 60 and counts["audio"] >= 100 and sizes == {(320, 240)}, (counts, sizes)
    assert frames.get(("drone-7-video", "video"), 0) >= 60 and frames.get(("drone-7-audio", "audio"), 0) >= 100, frames
    assert drone and drone["kind"] == "drone" and drone["name"] == "无人机 7", drone
    assert json.loads(drone["metadata"])["location"] == {"lat": 30.27, "lon": 120.15}, drone
    assert sorted((t["source"], t["codec"]) for t in drone["tracks"]) == [("camera", "VP8"), ("microphone", "opus")], drone
    entry = listing["ingress"][0]
    assert status == 200 and entry["state"] == "receiving" and entry["stats"]["packets"] > 200, entry
    assert entry["stats"]["droppedOtherSender"] == 25 and entry["stats"]["sender"].startswith("127.0.0.1:"), entry

    # Deleting it removes the participant and gives the port back.
    assert api(server, "DELETE", f"/api/v1/rooms/meeting/ingress/{created['id']}")[0] == 204
    status, room = api(server, "GET", "/api/v1/rooms/meeting")
    assert status == 404 or all(p["identity"] != "drone-7" for p in room["participants"]), room
    status, again = api(server, "POST", "/api/v1/rooms/meeting/ingress", {"identity": "drone-8", "kind": "drone", **VP8_OPUS})
    assert status == 201 and again["port"] == created["port"], again


def test_h264_from_gstreamer_and_vp8_from_ffmpeg(server):
    """x264enc's H.264 (+ Opus) and ffmpeg's VP8 (-f rtp, video only) side by side in one room;
    a viewer decodes each, the H.264 one answered in H.264."""
    status, h264 = api(server, "POST", "/api/v1/rooms/cams/ingress",
                       {"identity": "road-cam", "kind": "camera", "video": {"codec": "H264", "payloadType": 102, "profileLevelId": "42e01f"},
                        "audio": {"codec": "opus", "payloadType": 111}})
    assert status == 201, h264
    status, vp8 = api(server, "POST", "/api/v1/rooms/cams/ingress", {"identity": "encoder-1", "kind": "encoder", "video": {"codec": "VP8", "payloadType": 97}})
    assert status == 201, vp8
    gst = gst_push(h264["port"], video="h264")
    ffmpeg = subprocess.Popen(["ffmpeg", "-v", "error", "-re", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=30", "-c:v", "libvpx",
                               "-deadline", "realtime", "-g", "30", "-b:v", "500k", "-payload_type", "97", "-f", "rtp",
                               f"rtp://127.0.0.1:{vp8['port']}?pkt_size=1200"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        async def scenario():
            out = {}
            for identity in ("road-cam", "encoder-1"):
                counts = {"video": 0, "audio": 0}
                viewer, _, _, sizes = await whep_view(server, "cams", identity, counts)
                await wait_for_frames(counts, video=40, audio=0)
                codec = next(line.split(" ")[1].split("/")[0] for line in viewer.remoteDescription.sdp.split("\r\n")
                             if line.startswith("a=rtpmap:") and ("VP8" in line or "H264" in line))
                out[identity] = (counts, sorted(sizes), codec)
                await viewer.close()
            return out
        result = asyncio.run(scenario())
    finally:
        stop(gst)
        stop(ffmpeg)
    print(f"\ningress_h264_ffmpeg={result}")
    assert result["road-cam"][0]["video"] >= 40 and result["road-cam"][2] == "H264", result
    assert result["road-cam"][0]["audio"] >= 40, result
    assert result["encoder-1"][0]["video"] >= 40 and result["encoder-1"][2] == "VP8", result


def test_ingress_requests_are_checked(server):
    """Bad bodies get 400 with a reason code; other tokens and rooms are refused; an identity in
    use gets 409; nothing is left allocated by a refusal."""
    good = {"identity": "cam-1", "kind": "camera", **VP8_OPUS}
    cases = [
        (b"{not json", "invalid_json"),
        ({**good, "kind": "satellite"}, "invalid_request"),
        ({**good, "identity": "bad/name"}, "invalid_name"),
        ({**good, "video": {"codec": "VP9", "payloadType": 96}}, "unsupported_codec"),
        ({**good, "audio": {"codec": "G722", "payloadType": 9}}, "unsupported_codec"),
        ({**good, "audio": {"codec": "PCMA", "payloadType": 0}}, "invalid_request"),
        ({**good, "audio": {"codec": "opus", "payloadType": 96}}, "payload_type_clash"),
        ({**good, "video": {"codec": "VP8", "payloadType": 72}}, "invalid_request"),
        ({"identity": "cam-1", "kind": "camera"}, "invalid_request"),
        ({**good, "url": "rtsp://127.0.0.1/cam"}, "unsupported"),
        ({**good, "metadata": "not an object"}, "invalid_request"),
        ({**good, "extra": 1}, "invalid_request"),
    ]
    for body, code in cases:
        status, answer = api(server, "POST", "/api/v1/rooms/checks/ingress", body)
        assert status == 400 and answer["error"]["code"] == code, (body, status, answer)
    assert api(server, "POST", "/api/v1/rooms/checks/ingress", b"{}", content_type="text/plain")[0] == 415
    assert api(server, "POST", "/api/v1/rooms/checks/ingress", good, token=None)[0] == 401
    not_admin = make_token("checks", "someone", publish=True, subscribe=True)
    assert api(server, "POST", "/api/v1/rooms/checks/ingress", good, token=not_admin)[0] == 403
    other_room = make_token("elsewhere", "ops", admin=True)
    assert api(server, "POST", "/api/v1/rooms/checks/ingress", good, token=other_room)[0] == 403
    assert api(server, "GET", "/api/v1/rooms/checks/ingress", token=other_room)[0] == 403
    assert api(server, "GET", "/api/v1/rooms/checks/ingress")[1] == {"ingress": []}

    status, created = api(server, "POST", "/api/v1/rooms/checks/ingress", good)
    assert status == 201, created
    assert api(server, "POST", "/api/v1/rooms/checks/ingress", good)[1]["error"]["code"] == "identity_taken"
    # Another room's path, or another room's token, cannot touch it.
    assert api(server, "DELETE", f"/api/v1/rooms/elsewhere/ingress/{created['id']}")[0] == 404
    assert api(server, "DELETE", f"/api/v1/rooms/checks/ingress/{created['id']}", token=other_room)[0] == 403
    assert api(server, "PATCH", f"/api/v1/rooms/elsewhere/ingress/{created['id']}", {"name": "x"})[0] == 404
    status, patched = api(server, "PATCH", f"/api/v1/rooms/checks/ingress/{created['id']}", {"name": "路口 1", "metadata": {"lat": 1}})
    assert status == 200 and patched["name"] == "路口 1" and json.loads(patched["metadata"]) == {"lat": 1}, patched
    assert api(server, "PATCH", f"/api/v1/rooms/checks/ingress/{created['id']}", {"kind": "drone"})[0] == 400
    status, room = api(server, "GET", "/api/v1/rooms/checks")
    cam = next(p for p in room["participants"] if p["identity"] == "cam-1")
    assert cam["kind"] == "camera" and cam["name"] == "路口 1", cam
    # Removing its participant (REST kick) removes the ingress too.
    assert api(server, "DELETE", "/api/v1/rooms/checks/participants/cam-1")[0] == 204
    assert api(server, "GET", "/api/v1/rooms/checks/ingress")[1] == {"ingress": []}


def test_ports_run_out_and_idle_ingresses_are_reclaimed(tmp_path):
    """With two ports, a third ingress gets 503 with Retry-After; an ingress that receives
    nothing for --ingress-idle-timeout leaves (its participant too) and frees its port."""
    server = RunningServer(tmp_path, ["--ingress-ports", "40300-40301", "--ingress-idle-timeout", "2"])
    try:
        made = [api(server, "POST", "/api/v1/rooms/full/ingress", {"identity": f"cam-{i}", "kind": "camera", **VP8_OPUS}) for i in range(3)]
        assert [s for s, _ in made] == [201, 201, 503], made
        assert made[2][1]["error"]["code"] == "no_ports", made[2]
        assert sorted(b["port"] for _, b in made[:2]) == [40300, 40301]

        async def watch():
            token = make_token("full", "watcher", subscribe=True)
            async with websockets.connect(f"{server.ws}/rtc?access_token={token}") as ws:
                joined = json.loads(await ws.recv())
                present = sorted(p["identity"] for p in joined["participants"])
                left = []
                deadline = time.monotonic() + 8
                while len(left) < 2 and time.monotonic() < deadline:
                    try:
                        m = json.loads(await asyncio.wait_for(ws.recv(), 1))
                    except asyncio.TimeoutError:
                        continue
                    if m["type"] == "participant_left":
                        left.append(m["identity"])
                return present, sorted(left)
        present, left = asyncio.run(watch())
        assert present == ["cam-0", "cam-1"] and left == ["cam-0", "cam-1"], (present, left)
        assert api(server, "GET", "/api/v1/rooms/full/ingress")[1] == {"ingress": []}
        status, again = api(server, "POST", "/api/v1/rooms/full/ingress", {"identity": "cam-9", "kind": "camera", **VP8_OPUS})
        assert status == 201 and again["port"] == 40300, again
    finally:
        server.stop()


async def first_frame_seconds(server, room, identity):
    """Seconds from a WHEP offer to the first decoded video frame (aiortc viewer)."""
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    pc.addTransceiver("video", direction="recvonly")
    got = asyncio.get_event_loop().create_future()
    on_frames(pc, lambda track, frame: got.done() or got.set_result(time.monotonic()))
    start = time.monotonic()
    _, location, token = await whep_offer(server, room, identity, pc)
    try:
        return await asyncio.wait_for(got, 10) - start
    finally:
        assert (await asyncio.to_thread(request, server, "DELETE", location, token))[0] == 200
        await pc.close()


def test_time_to_first_frame_with_and_without_the_keyframe_cache(tmp_path):
    """A camera with a 4 s keyframe interval that ignores keyframe requests: 10 WHEP joins each,
    at different points of its group of pictures, with the keyframe cache and without it."""
    results = {}
    for cache in (True, False):
        server = RunningServer(tmp_path / ("cache" if cache else "nocache"), [] if cache else ["--keyframe-cache-bytes", "0"])
        try:
            status, created = api(server, "POST", "/api/v1/rooms/ttff/ingress",
                                  {"identity": "cam", "kind": "camera", "video": {"codec": "VP8", "payloadType": 96}})
            assert status == 201, created
            pipeline = (f"videotestsrc is-live=true pattern=ball ! video/x-raw,width=640,height=360,framerate=30/1 "
                        f"! vp8enc deadline=1 keyframe-max-dist=120 target-bitrate=1000000 ! rtpvp8pay pt=96 "
                        f"! udpsink host=127.0.0.1 port={created['port']}")
            gst = gst_launch(pipeline)
            try:
                async def joins():
                    await asyncio.sleep(4.5)  # past the first keyframe
                    times = []
                    for i in range(10):
                        times.append(await first_frame_seconds(server, "ttff", "cam"))
                        await asyncio.sleep(0.37 * (i % 4))  # spread the joins over the group
                    return times
                times = sorted(asyncio.run(joins()))
            finally:
                stop(gst)
            results[cache] = times
        finally:
            server.stop()
    def pct(times, q):
        return times[min(len(times) - 1, int(round(q * (len(times) - 1))))]
    summary = {("cache" if k else "no_cache"): {"p50_ms": round(pct(v, 0.5) * 1000), "p95_ms": round(pct(v, 0.95) * 1000)} for k, v in results.items()}
    print(f"\ntime_to_first_frame={summary} raw={ {k: [round(x, 3) for x in v] for k, v in results.items()} }")
    # With the cache a viewer starts at once; without it, it waits for the camera's next keyframe.
    assert pct(results[True], 0.95) < 1.0, summary
    assert pct(results[False], 0.5) > pct(results[True], 0.95), summary


def test_g711_camera_audio_arrives_as_opus_with_its_tone(server):
    """GStreamer's H.264 + A-law (a camera's usual pair: `alawenc ! rtppcmapay`, PT 8) into an
    ingress: the viewer is offered Opus, decodes the video, and hears the 440 Hz tone."""
    import numpy
    status, created = api(server, "POST", "/api/v1/rooms/g711/ingress",
                          {"identity": "ipc-1", "kind": "camera", "video": {"codec": "H264", "payloadType": 96},
                           "audio": {"codec": "PCMA", "payloadType": 8}})
    assert status == 201 and created["audio"] == {"codec": "PCMA", "payloadType": 8, "forwardedAs": "opus"}, created
    pipeline = (f"funnel name=f ! udpsink host=127.0.0.1 port={created['port']} "
                "videotestsrc is-live=true ! video/x-raw,width=320,height=240,framerate=30/1 ! x264enc tune=zerolatency "
                "speed-preset=ultrafast key-int-max=30 ! video/x-h264,profile=constrained-baseline ! rtph264pay pt=96 config-interval=1 ! f. "
                "audiotestsrc is-live=true freq=440 volume=0.5 ! audio/x-raw,rate=8000,channels=1 ! alawenc ! rtppcmapay pt=8 ! f.")
    gst = gst_launch(pipeline)
    try:
        async def scenario():
            pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
            pc.addTransceiver("video", direction="recvonly")
            pc.addTransceiver("audio", direction="recvonly")
            samples, video = [], [0]

            def collect(track, frame):
                if track.kind == "audio":
                    samples.append((frame.sample_rate, frame.to_ndarray().reshape(-1, len(frame.layout.channels))[:, 0].copy()))
                else:
                    video[0] += 1
            on_frames(pc, collect)
            answer, location, token = await whep_offer(server, "g711", "ipc-1", pc)
            for _ in range(100):
                if len(samples) >= 150 and video[0] >= 30:
                    break
                await asyncio.sleep(0.1)
            listing = (await asyncio.to_thread(api, server, "GET", "/api/v1/rooms/g711/ingress"))[1]
            await asyncio.to_thread(request, server, "DELETE", location, token)
            await pc.close()
            return answer, samples, video[0], listing
        answer, samples, video, listing = asyncio.run(scenario())
    finally:
        stop(gst)
    assert "opus/48000" in answer and video >= 30 and len(samples) >= 150, (video, len(samples))
    rate = samples[0][0]
    pcm = numpy.concatenate([s for _, s in samples[50:]]).astype(numpy.float64)  # past the start
    spectrum = numpy.abs(numpy.fft.rfft(pcm * numpy.hanning(len(pcm))))
    peak = numpy.argmax(spectrum[1:]) + 1
    hertz = peak * rate / len(pcm)
    level = numpy.sqrt(numpy.mean(pcm ** 2))
    print(f"\ng711_to_opus peak={hertz:.1f} Hz rms={level:.0f} video_frames={video} stats={listing['ingress'][0]['stats']}")
    assert abs(hertz - 440) < 10 and level > 1000, (hertz, level)
    assert listing["ingress"][0]["stats"]["transcoderDrops"] == 0, listing


def test_an_srtp_ingress_takes_only_its_keys_holder(server):
    """`"srtp": true` answers an SDES-style key (RFC 4568 `inline:`); GStreamer's srtpenc with it
    is decoded by a viewer; clear RTP sent there first is refused and counted, and does not take
    the latch (only the key's holder can)."""
    import base64
    status, created = api(server, "POST", "/api/v1/rooms/secure/ingress",
                          {"identity": "drone-s", "kind": "drone", "video": {"codec": "VP8", "payloadType": 96}, "srtp": True})
    assert status == 201 and created["srtp"] is True, created
    p = created["srtpParameters"]
    assert p["suite"] == "AES_CM_128_HMAC_SHA1_80" and base64.b64decode(p["key"][len("inline:"):]).hex() == p["keyHex"], p
    assert "srtpParameters" not in api(server, "GET", "/api/v1/rooms/secure/ingress")[1]["ingress"][0]  # the key is answered once
    clear = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for i in range(10):
        clear.sendto(bytes([0x80, 96, 0, i, 0, 0, 0, i, 0, 0, 0, 9]) + bytes(40), ("127.0.0.1", created["port"]))
    clear.close()
    time.sleep(0.3)
    pipeline = (f"videotestsrc is-live=true ! video/x-raw,width=320,height=240,framerate=30/1 ! vp8enc deadline=1 keyframe-max-dist=30 "
                f"! rtpvp8pay pt=96 ! srtpenc key={p['keyHex']} rtp-cipher=aes-128-icm rtp-auth=hmac-sha1-80 "
                f"rtcp-cipher=aes-128-icm rtcp-auth=hmac-sha1-80 ! udpsink host=127.0.0.1 port={created['port']}")
    gst = gst_launch(pipeline)
    try:
        async def scenario():
            counts = {"video": 0, "audio": 0}
            viewer, location, token, sizes = await whep_view(server, "secure", "drone-s", counts)
            await wait_for_frames(counts, video=30, audio=0)
            await viewer.close()
            return counts, sizes
        counts, sizes = asyncio.run(scenario())
        stats = api(server, "GET", "/api/v1/rooms/secure/ingress")[1]["ingress"][0]["stats"]
    finally:
        stop(gst)
    print(f"\ningress_srtp decoded={counts} stats={stats}")
    assert counts["video"] >= 30 and sizes == {(320, 240)}, (counts, sizes)
    assert stats["srtpFailures"] >= 10 and stats["packets"] > 30 and stats["droppedOtherSender"] == 0, stats


def test_streams_browsers_cannot_decode_are_refused_with_a_reason(server):
    """x264's interlaced and 4:2:2 H.264 reach an ingress: its state says `refused` and why (read
    from the SPS), and nothing of that video is forwarded, instead of a black tile."""
    cases = {"interlaced": "video/x-raw,width=320,height=240,format=I420,interlace-mode=interleaved ! x264enc interlaced=true tune=zerolatency",
             "4:2:2": "video/x-raw,width=320,height=240,format=Y42B ! x264enc tune=zerolatency"}
    for i, (why, encode) in enumerate(cases.items()):
        identity = f"bad-cam-{i}"
        status, created = api(server, "POST", "/api/v1/rooms/refusals/ingress",
                              {"identity": identity, "kind": "camera", "video": {"codec": "H264", "payloadType": 96}})
        assert status == 201, created
        pipeline = (f"videotestsrc is-live=true ! {encode} ! rtph264pay pt=96 config-interval=1 "
                    f"! udpsink host=127.0.0.1 port={created['port']}")
        gst = gst_launch(pipeline)
        try:
            entry = {}
            for _ in range(50):
                entry = next(x for x in api(server, "GET", "/api/v1/rooms/refusals/ingress")[1]["ingress"] if x["identity"] == identity)
                if entry["state"] == "refused":
                    break
                time.sleep(0.1)
            sent = metric_packets(server)
            time.sleep(1)
            sent_after = metric_packets(server)
            later = next(x for x in api(server, "GET", "/api/v1/rooms/refusals/ingress")[1]["ingress"] if x["identity"] == identity)
        finally:
            stop(gst)
        print(f"\ningress_refused {why}: state={entry['state']} reason={entry.get('reason')}")
        assert entry["state"] == "refused" and why in entry["reason"], entry
        # The camera keeps sending; none of it reaches the router (no viewer gets a packet of it).
        assert later["stats"]["packets"] > entry["stats"]["packets"] + 20 and sent_after == sent, (entry, later, sent, sent_after)
        assert api(server, "DELETE", f"/api/v1/rooms/refusals/ingress/{created['id']}")[0] == 204


def metric_packets(server):
    """The server's count of RTP packets that reached the router from sources and publishers."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    conn.request("GET", "/metrics")
    text = conn.getresponse().read().decode()
    conn.close()
    return int(next(line.split()[-1] for line in text.splitlines() if line.startswith("shihui_media_packets_received_total")))
