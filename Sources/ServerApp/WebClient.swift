/// The meeting page served at `/` with its script (`/client.js`) and style (`/client.css`):
/// plain HTML and JavaScript, no build step, no CDN. It is the reference client of
/// docs/signaling.md: token → WebSocket → publisher connection (camera and microphone) →
/// subscriber connection offered by the server → remote videos. Nothing is inline, so the page
/// runs under a CSP that allows scripts from this server only (`contentSecurityPolicy`), and
/// the token comes in the URL fragment (`/#token=…`), which browsers never send to a server.
enum WebClient {
    /// No inline script or style, no frames, no plugins, no other origin; media from the
    /// camera and the peer connections only.
    static let contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
        + "media-src 'self' blob: mediastream:; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

    static let html = #"""
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Shihui 视会</title>
<link rel="stylesheet" href="/client.css">
</head>
<body>
<h1>Shihui 视会</h1>
<div id="join">
  <input id="token" placeholder="access token (shihui-server token --room R --identity I --publish --subscribe)">
  <button id="joinButton">Join</button>
  <button id="leaveButton" disabled>Leave</button>
  <button id="shareButton" disabled>Share screen</button>
</div>
<div id="status">not connected</div>
<div id="people"></div>
<div id="videos"></div>
<script src="/client.js"></script>
</body>
</html>
"""#

    static let script = #"""
"use strict";
const params = new URLSearchParams(location.search);
// The token travels in the fragment (never sent to a server, kept out of logs and referrers)
// and is wiped from the address bar at once.
const fragment = new URLSearchParams(location.hash.slice(1));
const linkToken = fragment.get("token");
if (location.hash) history.replaceState(null, "", location.pathname + location.search);
const $ = id => document.getElementById(id);
const config = { iceServers: [], bundlePolicy: "max-bundle" };
let ws, publisher, subscriber, statsTimer, local;
// The screen being shared (a stream) and its sender on the publisher connection.
let screen = null, screenSender = null;
// One publisher offer at a time: a change made while one awaits its answer is offered after it.
let offering = false, offerAgain = false;
const people = new Map();

function status(text) { $("status").textContent = text; }

function send(message) { ws.send(JSON.stringify(message)); }

function showPeople() {
  // Sources that are not people (drones, cameras, encoders, WHIP) say what they are.
  const kind = p => p.kind && p.kind !== "standard" ? " [" + p.kind + "]" : "";
  $("people").textContent = "In the room: " + [...people.values()].map(p => p.name + kind(p) + (p.tracks.length ? " (" + p.tracks.map(t => t.source || t.kind).join(", ") + ")" : "")).join(" · ");
}

function tile(id, label, large) {
  let t = document.getElementById("tile-" + id);
  if (!t) {
    t = document.createElement("div");
    t.className = large ? "tile screen" : "tile";
    t.id = "tile-" + id;
    t.innerHTML = "<video autoplay playsinline></video><span></span>";
    t.querySelector("span").textContent = label;
    $("videos").appendChild(t);
  }
  return t.querySelector("video");
}

async function join(token) {
  local = await navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 640, height: 360 } });
  const me = tile("local", "me");
  me.muted = true;
  me.srcObject = local;
  ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/rtc?access_token=" + encodeURIComponent(token));
  ws.onclose = e => { status("disconnected: " + (e.reason || e.code)); cleanup(); };
  ws.onmessage = async e => {
    const m = JSON.parse(e.data);
    switch (m.type) {
    case "joined":
      status("joined room " + m.room.name + " as " + m.participant.name);
      for (const p of m.participants) people.set(p.identity, p);
      showPeople();
      await publish();
      break;
    case "participant_joined": case "participant_updated":
      people.set(m.participant.identity, m.participant); showPeople(); break;
    case "participant_left":
      people.delete(m.identity); showPeople();
      document.querySelectorAll("[id^='tile-" + m.identity + "']").forEach(t => t.remove());
      break;
    case "answer":
      await publisher.setRemoteDescription({ type: "answer", sdp: m.sdp });
      offering = false;
      if (offerAgain) { offerAgain = false; await offerPublisher(); }
      break;
    case "offer":
      await answerSubscriber(m.sdp); break;
    case "leave":
      status("left: " + m.reason); break;
    case "error":
      if (m.code === "bad_offer" || m.code === "server_busy") offering = false;
      status("error " + m.code + ": " + m.message); break;
    }
  };
  $("joinButton").disabled = true;
  $("leaveButton").disabled = false;
  if (params.get("autotest")) statsTimer = setInterval(report, 1000);
}

async function publish() {
  publisher = new RTCPeerConnection(config);
  for (const track of local.getTracks()) publisher.addTrack(track, local);
  // ?codec=h264 sends the camera in H.264 (what phones encode in hardware), ?codec=vp8 in VP8.
  const codec = (params.get("codec") || "").toLowerCase();
  if (codec && RTCRtpSender.getCapabilities) {
    const all = RTCRtpSender.getCapabilities("video").codecs;
    const wanted = all.filter(c => c.mimeType.toLowerCase() === "video/" + codec && !/packetization-mode=0/.test(c.sdpFmtpLine || ""));
    for (const t of publisher.getTransceivers()) {
      if (wanted.length && t.sender.track && t.sender.track.kind === "video") t.setCodecPreferences([...wanted, ...all.filter(c => !wanted.includes(c))]);
    }
  }
  $("shareButton").disabled = false;
  await offerPublisher();
  // Test pages (?share=START-STOP, seconds): a canvas stands in for the screen.
  const share = /^(\d+)-(\d+)$/.exec(params.get("share") || "");
  if (share) {
    setTimeout(() => startShare().catch(e => status("error: " + e)), share[1] * 1000);
    setTimeout(() => stopShare().catch(e => status("error: " + e)), share[2] * 1000);
  }
}

// What each sending section carries, by mid (docs/signaling.md, "sources").
function sourceOf(track) {
  if (screen && screen.getTracks().includes(track)) return track.kind === "audio" ? "screen_audio" : "screen";
  return track.kind === "audio" ? "microphone" : "camera";
}

async function offerPublisher() {
  if (offering) { offerAgain = true; return; }
  offering = true;
  await publisher.setLocalDescription(await publisher.createOffer());
  const sources = {};
  for (const t of publisher.getTransceivers()) if (t.mid !== null && t.sender.track) sources[t.mid] = sourceOf(t.sender.track);
  send({ type: "offer", target: "publisher", sdp: publisher.localDescription.sdp, sources });
}

function canvasScreen() {
  const canvas = document.createElement("canvas");
  canvas.width = 1280; canvas.height = 720;
  const g = canvas.getContext("2d");
  let n = 0;
  const draw = () => {
    if (!screen) return;
    g.fillStyle = "#246"; g.fillRect(0, 0, 1280, 720);
    g.fillStyle = "#fff"; g.font = "64px sans-serif"; g.fillText("shared screen " + n++, 80 + (n % 400), 360);
    requestAnimationFrame(draw);
  };
  const stream = canvas.captureStream(15);
  setTimeout(draw, 0);
  return stream;
}

async function startShare() {
  if (screen || !publisher) return;
  screen = params.get("share") ? canvasScreen() : await navigator.mediaDevices.getDisplayMedia({ video: true, audio: false });
  const track = screen.getVideoTracks()[0];
  track.onended = () => stopShare();
  screenSender = publisher.addTrack(track, screen);
  const view = tile("local-screen", "my screen", true);
  view.muted = true;
  view.srcObject = screen;
  $("shareButton").textContent = "Stop sharing";
  await offerPublisher();
}

async function stopShare() {
  if (!screen) return;
  if (screenSender) publisher.removeTrack(screenSender);
  screen.getTracks().forEach(t => t.stop());
  screen = screenSender = null;
  const t = document.getElementById("tile-local-screen");
  if (t) t.remove();
  $("shareButton").textContent = "Share screen";
  await offerPublisher();
}

async function answerSubscriber(sdp) {
  if (!subscriber) {
    subscriber = new RTCPeerConnection(config);
    subscriber.ontrack = e => {
      if (e.track.kind !== "video") {
        const audio = new Audio();
        audio.srcObject = new MediaStream([e.track]);
        audio.play().catch(() => {});
        return;
      }
      // The track id is "<identity>-video" for a camera, "<identity>-screen" for a screen.
      const stream = e.streams[0];
      const owner = stream ? stream.id : e.track.id;
      const shared = e.track.id.endsWith("-screen");
      const id = owner + (shared ? "-screen" : "-video");
      const name = (people.get(owner) || { name: owner }).name;
      tile(id, shared ? name + " (screen)" : name, shared).srcObject = new MediaStream([e.track]);
      if (stream) stream.onremovetrack = ev => {
        const gone = document.getElementById("tile-" + owner + (ev.track.id.endsWith("-screen") ? "-screen" : "-video"));
        if (gone) gone.remove();
      };
    };
  }
  await subscriber.setRemoteDescription({ type: "offer", sdp });
  await subscriber.setLocalDescription(await subscriber.createAnswer());
  send({ type: "answer", target: "subscriber", sdp: subscriber.localDescription.sdp });
}

async function report() {
  const out = { framesDecoded: 0, videoBytes: 0, audioPackets: 0, audioSamples: 0, sentFrames: 0, byTrack: {}, sharing: !!screen,
                tiles: [...document.querySelectorAll(".tile")].map(t => t.id) };
  if (subscriber) {
    (await subscriber.getStats()).forEach(s => {
      if (s.type === "inbound-rtp" && s.kind === "video") {
        out.framesDecoded += s.framesDecoded || 0; out.videoBytes += s.bytesReceived || 0;
        if (s.trackIdentifier) out.byTrack[s.trackIdentifier] = (out.byTrack[s.trackIdentifier] || 0) + (s.framesDecoded || 0);
      }
      if (s.type === "inbound-rtp" && s.kind === "audio") { out.audioPackets += s.packetsReceived || 0; out.audioSamples += s.totalSamplesReceived || 0; }
    });
  }
  if (publisher) (await publisher.getStats()).forEach(s => { if (s.type === "outbound-rtp" && s.kind === "video") out.sentFrames += s.framesEncoded || 0; });
  console.log("SHIHUI-STATS " + JSON.stringify(out));
}

function cleanup() {
  clearInterval(statsTimer);
  if (publisher) publisher.close();
  if (subscriber) subscriber.close();
  publisher = subscriber = null;
  // Leaving turns the camera, microphone and any shared screen off.
  for (const s of [local, screen]) if (s) s.getTracks().forEach(t => t.stop());
  local = screen = screenSender = null;
  offering = offerAgain = false;
  $("joinButton").disabled = false;
  $("leaveButton").disabled = true;
  $("shareButton").disabled = true;
  $("shareButton").textContent = "Share screen";
}

$("joinButton").onclick = () => join($("token").value.trim()).catch(e => status("error: " + e));
$("leaveButton").onclick = () => { send({ type: "leave" }); };
$("shareButton").onclick = () => (screen ? stopShare() : startShare()).catch(e => status("error: " + e));
if (linkToken) { $("token").value = linkToken; join(linkToken).catch(e => status("error: " + e)); }
else if (params.get("token")) status("pass the token after # (/#token=…), not in the query string");
"""#

    static let css = #"""
  body { font-family: system-ui, sans-serif; margin: 1rem; background: #111; color: #eee; }
  #join { display: flex; gap: .5rem; margin-bottom: 1rem; }
  #token { flex: 1; }
  #videos { display: grid; grid-template-columns: repeat(auto-fill, minmax(320px, 1fr)); gap: .5rem; }
  video { width: 100%; background: #000; border-radius: 6px; }
  .tile { position: relative; }
  .tile.screen { grid-column: 1 / -1; }
  .tile span { position: absolute; left: .5rem; bottom: .5rem; background: #0008; padding: 0 .4rem; border-radius: 4px; }
  #status { color: #9c9; margin: .5rem 0; }
"""#
}
